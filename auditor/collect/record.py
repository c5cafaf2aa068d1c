"""Record a scan as an Azure SDK test-proxy recording (DESIGN §4), so a user can send a reproducible tenant.

`RecordingTransport` wraps the transport a scan uses and keeps each request and its answer. Authorization and
cookies are never kept. `--scrub` (auditor.collect.scrub) then replaces what identifies the tenant.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from azure.core.pipeline.transport import HttpTransport

# Headers never written to a recording: credentials, cookies, and what identifies the caller's machine.
DROPPED_HEADERS = frozenset(
    {
        "authorization",
        "cookie",
        "set-cookie",
        "x-ms-client-request-id",
        "proxy-authorization",
        "x-ms-authorization-auxiliary",
    }
)


def _kept(headers: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(headers).items() if str(k).lower() not in DROPPED_HEADERS}


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
        entry = {
            "RequestUri": request.url,
            "RequestMethod": request.method,
            "RequestHeaders": _kept(request.headers),
            # A request body stays text, as the test-proxy stores it; the replay matches on its JSON.
            "RequestBody": request_body.decode("utf-8") if isinstance(request_body, bytes) else request_body,
            "StatusCode": response.status_code,
            "ResponseHeaders": _kept(response.headers),
            "ResponseBody": _decoded(body),
        }
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
