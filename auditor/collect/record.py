"""Record a scan as an Azure SDK test-proxy recording (docs/design.md §4), so a user can send a reproducible tenant.

`RecordingTransport` wraps the transport a scan uses and keeps each request and its answer. Only allowed headers
and query values are kept (never Authorization, cookies, keys or signatures). `--scrub` (auditor.collect.scrub)
then replaces what identifies the tenant.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from azure.core.pipeline.transport import HttpTransport

from auditor.collect.policy import redacted_url

# Headers a recording keeps (an allow-list: what the replay needs, and nothing that could be a credential or a key
# under a name no one thought of): the body's type, throttling (Retry-After, the rate-limit and quota counters)
# and Azure's request id for support; and where a long-running operation (--effective-routes) is polled, its
# secret-bearing query values redacted as in RequestUri.
LINK_HEADERS = frozenset({"location", "azure-asyncoperation"})
KEPT_HEADERS = frozenset({"content-type", "retry-after", "x-ms-request-id", *LINK_HEADERS})
KEPT_HEADER_PREFIXES = ("x-ms-ratelimit-", "x-ms-user-quota-")
# Fields of a body that hold a link to follow: their secret-bearing query values are redacted as in RequestUri,
# so a replay still follows them to the recorded request.
LINK_FIELDS = frozenset({"nextLink", "@odata.nextLink"})


def kept_headers(headers: Any) -> dict[str, str]:
    return {
        str(k): redacted_url(str(v)) if str(k).lower() in LINK_HEADERS else str(v)
        for k, v in dict(headers or {}).items()
        if str(k).lower() in KEPT_HEADERS or str(k).lower().startswith(KEPT_HEADER_PREFIXES)
    }


def _links_redacted(body: Any) -> Any:
    if isinstance(body, dict):
        return {
            k: redacted_url(v) if k in LINK_FIELDS and isinstance(v, str) else _links_redacted(v)
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [_links_redacted(v) for v in body]
    return body


def safe_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as a recording may hold it: allowed headers only, secret-bearing query values redacted."""
    return {
        **entry,
        "RequestUri": redacted_url(str(entry.get("RequestUri") or "")),
        "RequestHeaders": {},
        "ResponseHeaders": kept_headers(entry.get("ResponseHeaders")),
        "ResponseBody": _links_redacted(entry.get("ResponseBody")),
    }


def _decoded(data: Any) -> Any:
    """A body as the recording stores it: JSON where it is JSON, else text; None when empty."""
    if data is None or data == b"" or data == "":
        return None
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    try:
        return json.loads(text)
    except ValueError:
        return text


class RecordingTransport(HttpTransport):
    """Sends through `inner` and keeps every exchange, in the order sent, as test-proxy entries."""

    def __init__(self, inner: HttpTransport) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.entries: list[dict[str, Any]] = []

    def send(self, request: Any, **kwargs: Any) -> Any:
        response = self._inner.send(request, **kwargs)
        if hasattr(response, "read"):
            response.read()
        body = response.content if hasattr(response, "content") else response.body()
        request_body = getattr(request, "content", None)
        if request_body is None:
            request_body = getattr(request, "body", None)
        entry = safe_entry(
            {
                "RequestUri": request.url,
                "RequestMethod": request.method,
                # A request body stays text, as the test-proxy stores it; the replay matches on its JSON.
                "RequestBody": request_body.decode("utf-8", "replace")
                if isinstance(request_body, bytes)
                else request_body,
                "StatusCode": response.status_code,
                "ResponseHeaders": response.headers,
                "ResponseBody": _decoded(body),
            }
        )
        with self._lock:
            self.entries.append(entry)
        return response

    def sleep(self, duration: float) -> None:
        self._inner.sleep(duration)

    def open(self) -> None:
        self._inner.open()

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> RecordingTransport:
        self._inner.__enter__()
        return self

    def __exit__(self, *args: Any) -> None:
        self._inner.__exit__(*args)

    def document(self) -> dict[str, Any]:
        with self._lock:
            return {"Entries": list(self.entries), "Variables": {}}
