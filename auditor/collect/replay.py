"""Replay an Azure SDK test-proxy recording through the real SDK clients (docs/design.md §4).

The recording answers at the bottom of azure-core's own `RequestsTransport`, as a `requests` adapter, so every
response object the SDK sees is the one a live call would produce.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests
from azure.core.credentials import AccessToken, AccessTokenInfo
from requests.adapters import HTTPAdapter
from urllib3.response import HTTPResponse

from auditor.collect.errors import RecordingMiss
from auditor.collect.transport import ReadOnlyTransport
from auditor.files import InputFileError, read_json


class RecordingError(InputFileError):
    """The recording file cannot be used (missing, not JSON, not a test-proxy recording)."""


RequestKey = tuple[str, str, tuple[tuple[str, str], ...], str]

# What in a Resource Graph request body selects the answer: the query, its scope and the page. Formatting
# options (resultFormat, allowPartialScopes) are left out, so a recording outlives an SDK that adds defaults.
PAGE_OPTIONS = ("$skipToken", "$skip", "$top")


# A Resource Graph query's `project` line names the columns a row carries: a recording made by a version that
# projected fewer (no `tags` before 2026-12) still answers the query, its rows without them.
_PROJECTION = re.compile(r"\|\s*project\b[^|]*$", re.IGNORECASE)


def body_key(body: Any) -> str:
    """A POST body, as it takes part in matching: canonical JSON, subscriptions sorted, paging options only."""
    if body is None or body == b"" or body == "":
        return ""
    document = body
    if isinstance(body, (bytes, str)):
        try:
            document = json.loads(body)
        except ValueError:
            return body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if isinstance(document, dict):
        document = dict(document)
        options = {k: v for k, v in (document.pop("options", None) or {}).items() if k in PAGE_OPTIONS}
        if options:
            document["options"] = options
        if isinstance(document.get("subscriptions"), list):
            document["subscriptions"] = sorted(str(s).lower() for s in document["subscriptions"])
        if isinstance(document.get("query"), str):
            document["query"] = _PROJECTION.sub("", document["query"]).strip()
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_key(method: str, url: str, body: Any = None) -> RequestKey:
    """Method, path (case-insensitive), the query parameters other than api-version, and a POST's body.

    The body is a departure from docs/design.md §4 (which matches GETs only): Resource Graph pages by `$skipToken` in
    the body of a POST to one URL, so without it every page of every query would be one request.
    """
    parts = urlsplit(url)
    query = tuple(
        sorted(
            (name.lower(), value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
            if name.lower() != "api-version"
        )
    )
    method = method.upper()
    return method, unquote(parts.path).rstrip("/").lower(), query, body_key(body) if method == "POST" else ""


@dataclass(frozen=True)
class RecordedResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def load_recording(path: Path) -> dict[RequestKey, list[RecordedResponse]]:
    return parse_recording(read_json(path, RecordingError), str(path))


def parse_recording(document: Any, where: str) -> dict[RequestKey, list[RecordedResponse]]:
    """The answers of a test-proxy recording (`{"Entries": [...]}`), by request, in recorded order."""
    entries = document.get("Entries") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise RecordingError(f"{where}: not a test-proxy recording (no 'Entries' list)")
    answers: dict[RequestKey, list[RecordedResponse]] = defaultdict(list)
    for number, entry in enumerate(entries, start=1):
        try:
            key = request_key(str(entry["RequestMethod"]), str(entry["RequestUri"]), entry.get("RequestBody"))
            headers = {str(k): str(v) for k, v in (entry.get("ResponseHeaders") or {}).items()}
            answers[key].append(
                RecordedResponse(int(entry["StatusCode"]), headers, _body_bytes(entry.get("ResponseBody")))
            )
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
            raise RecordingError(f"{where}: entry {number} is not a recorded request/response ({err!r})") from err
    return dict(answers)


class _ReplayAdapter(HTTPAdapter):
    """Answers each request from the recording: same request in order, the last answer repeating."""

    def __init__(self, answers: dict[RequestKey, list[RecordedResponse]]) -> None:
        super().__init__()
        self._answers = answers
        self._served: dict[RequestKey, int] = defaultdict(int)
        self._lock = threading.Lock()
        self.sent: list[tuple[str, str]] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        method, url = str(request.method), str(request.url)
        key = request_key(method, url, request.body)
        with self._lock:
            self.sent.append((method, url))
            recorded = self._answers.get(key)
            if not recorded:
                raise RecordingMiss(method, url)
            index = min(self._served[key], len(recorded) - 1)
            self._served[key] += 1
        answer = recorded[index]
        raw = HTTPResponse(
            body=io.BytesIO(answer.body),
            headers=answer.headers,
            status=answer.status,
            preload_content=False,
            decode_content=False,
        )
        return self.build_response(request, raw)


class ReplayTransport(ReadOnlyTransport):
    """azure-core's transport over a recording; sleeps (Retry-After, back-off) are recorded, not slept."""

    def __init__(self, answers: dict[RequestKey, list[RecordedResponse]]) -> None:
        self._adapter = _ReplayAdapter(answers)
        session = requests.Session()
        session.trust_env = False  # proxy settings mean nothing to a recording, and reading them costs per request
        session.mount("https://", self._adapter)
        session.mount("http://", self._adapter)
        super().__init__(session=session, session_owner=False)
        self.slept: list[float] = []

    @classmethod
    def from_file(cls, path: Path) -> ReplayTransport:
        return cls(load_recording(path))

    @property
    def sent(self) -> list[tuple[str, str]]:
        """Every request that reached the recording, as (method, url)."""
        return list(self._adapter.sent)

    def sleep(self, duration: float) -> None:
        self.slept.append(duration)


class ReplayCredential:
    """A credential for replays: the recording does not check tokens."""

    TOKEN = "replay-token"

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.TOKEN, 4102444800)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo(self.TOKEN, 4102444800)
