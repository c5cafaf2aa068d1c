"""The policy every client's pipeline runs for each attempt: refuse a foreign host, wait for a rate-limit token,
count.

It sits in the generated clients' one slot for a custom policy (`custom_hook_policy`), after the retry policy,
so it sees every attempt. Pages are checked by the one pager every list is read with (`paging.json_pages`).
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from azure.core.exceptions import AzureError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy, RetryPolicy

from auditor.collect.throttle import RateLimiter, ScanStats

# The list calls port25-audit makes: the subscription list and `/subscriptions/{id}/providers/{ns}/{type}`.
_LIST_PATH = re.compile(r"^/subscriptions(/[^/]+/providers/[^/]+/[^/]+)?/?$", re.IGNORECASE)
_STARTS_WITH_VALUE_LIST = re.compile(rb'^\s*\{\s*"value"\s*:\s*\[')


log = logging.getLogger(__name__)

# Query parameters whose values may be written (by --verbose, into a recording): paging, API versions and the
# billing lists' flags. Any other value (a SAS signature, a function key, a code, a password) is never written:
# an allow-list, so a secret under a name no one thought of is not written either.
SAFE_QUERY_NAMES = frozenset(
    {
        "api-version", "$skiptoken", "$top", "$skip", "$filter", "$expand", "$select", "$orderby",
        "includeall", "includeallwithoutbillingprofiles", "includedeleted", "includependingagreement",
        "includeresellee", "includetenantsubscriptions", "includefailed",
    }
)  # fmt: skip
REDACTED = "REDACTED"


def redacted_url(url: str, placeholder: str = REDACTED) -> str:
    """The URL with the value of every query parameter not on the allow-list replaced."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL urllib can split (an unclosed IPv6 bracket): no query shown at all
        return url.split("?", 1)[0] + (f"?{placeholder}" if "?" in url else "")
    if not parts.query:
        return url
    query = [
        (name, value if name.lower() in SAFE_QUERY_NAMES else placeholder)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return parts._replace(query=urlencode(query, safe="$/:,*")).geturl()


_URL_IN_TEXT = re.compile(r"\bhttps?://[^\s'\"<>\x00-\x1f\x7f]+", re.IGNORECASE)


def redacted_text(text: str) -> str:
    """Text (an error message from Azure) with every URL in it redacted as `redacted_url` does."""
    return _URL_IN_TEXT.sub(lambda match: redacted_url(match.group(0)), text)


def request_line(method: str, url: str) -> str:
    """`METHOD /path?query` with the value of every query parameter not on the allow-list shown as ***: what
    --verbose logs."""
    parts = urlsplit(redacted_url(url, "***"))
    return f"{method} {parts.path}" + (f"?{parts.query}" if parts.query else "")


class MalformedPage(ValueError):
    """A 200 list page that cannot be read as one: no `value` list, or a page already read (a nextLink loop)."""


class ForeignLink(ValueError):
    """A request (a page's `nextLink`) to a host other than the cloud's own Resource Manager: never sent, so the
    bearer token never leaves for it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or parts.netloc or "(none)"
        super().__init__(
            f"a nextLink pointed to another host ({parts.scheme}://{host}); it was not followed, and the rest of "
            "this list was not read"
        )
        self.host = host


DEFAULT_HOST = "management.azure.com"


def _own_endpoint(url: str, hosts: frozenset[str]) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() == "https" and not parts.username and (parts.hostname or "").lower() in hosts


def _has_value_list(body: bytes) -> bool:
    if _STARTS_WITH_VALUE_LIST.match(body[:64]):
        return True
    try:
        document = json.loads(body)
    except ValueError:
        return True  # not JSON at all: the SDK's own decoder raises for that, with its own message
    return isinstance(document, dict) and isinstance(document.get("value"), list)


# The longest Retry-After port25-audit waits: a throttled list waits for Azure this long at most per attempt;
# past it the list is an error (Azure has asked for 999999999 seconds).
MAX_RETRY_AFTER_SECONDS = 120.0


class WaitTooLong(AzureError):
    """Azure asked to wait longer than port25-audit waits before the next attempt."""


class CappedRetryPolicy(RetryPolicy):
    """azure-core's retry policy, honouring Retry-After up to MAX_RETRY_AFTER_SECONDS; a longer one ends the list."""

    def sleep(self, settings: dict[str, Any], transport: Any, response: Any = None) -> None:
        retry_after = self.get_retry_after(response) if response is not None else None
        if retry_after is not None and retry_after > MAX_RETRY_AFTER_SECONDS:
            raise WaitTooLong(
                f"Azure asked to wait {retry_after:.0f} s before trying again (Retry-After); port25-audit waits at "
                f"most {MAX_RETRY_AFTER_SECONDS:.0f} s, so this list was not read"
            )
        super().sleep(settings, transport, response)


class ReadPolicy(HTTPPolicy):
    """Refuses a foreign host, waits for a token before each attempt, and counts what it sees."""

    def __init__(
        self, limiter: RateLimiter, stats: ScanStats, hosts: frozenset[str] = frozenset({DEFAULT_HOST})
    ) -> None:
        super().__init__()
        self._limiter = limiter
        self._stats = stats
        self._hosts = frozenset(h.lower() for h in hosts)  # the cloud's Resource Manager (and Resource Graph)

    def send(self, request: PipelineRequest) -> PipelineResponse:
        url = request.http_request.url
        if not _own_endpoint(url, self._hosts):
            raise ForeignLink(url)
        wait = self._limiter.take(url)
        transport = request.context.transport
        if wait > 0 and transport is not None:
            transport.sleep(wait)
        started = time.perf_counter()
        response = self.next.send(request)
        http_response = response.http_response
        if log.isEnabledFor(logging.DEBUG):
            elapsed = (time.perf_counter() - started) * 1000
            method = request.http_request.method
            log.debug("%s -> %s (%.0f ms)", request_line(method, url), http_response.status_code, elapsed)
        self._limiter.observe(url, http_response.headers)
        self._stats.add(requests=1, throttled=int(http_response.status_code == 429), waited_seconds=wait)
        return response
