"""What a failed read becomes, for every way of collecting: the exceptions a list can meet, and the one
`CollectionError` each of them turns into (logged once), so that a list that cannot be read is marked, never
dropped."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TypeVar
from urllib.parse import urlsplit

from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError

from auditor.collect.policy import redacted_text, redacted_url
from auditor.collect.transport import WriteRefused
from auditor.model import CollectionError, ErrorCode

log = logging.getLogger(__name__)

T = TypeVar("T")


class RecordingMiss(Exception):
    """A request the recording has no entry for: an error for that list, never an empty answer."""

    def __init__(self, method: str, url: str) -> None:
        super().__init__(f"the recording has no entry for {method} {_path_and_query(url)}")
        self.method = method
        self.url = url


# Every failure a single list can meet: an HTTP error, a transport fault, a body that is not JSON
# (ValueError), or nested too deeply to decode (RecursionError), a refused write, a request the recording does
# not hold, or an answer shaped so that the SDK cannot page through it.
READ_FAILURES = (
    AzureError,
    ValueError,
    WriteRefused,
    RecordingMiss,
    RecursionError,
    # a malformed answer the SDK's own pager or deserialiser trips on (a nextLink that is a number)
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
)


def sign_in_failure(err: BaseException) -> str | None:
    """For an error a credential raised (no HTTP response): the credentials it tried, in one line; else None."""
    if not isinstance(err, ClientAuthenticationError) or err.response is not None:
        return None
    tried = re.findall(r"^\s*(\w+Credential):", str(err), re.MULTILINE)
    first = str(err).strip().splitlines()[0].rstrip(".") if str(err).strip() else type(err).__name__
    return first + (f" (tried {', '.join(dict.fromkeys(tried))})" if tried else "")


def collection_error(operation: str, request: str, err: BaseException) -> CollectionError:
    failure = sign_in_failure(err)
    if failure is not None:
        return CollectionError(operation, request, failure, None, ErrorCode.SIGN_IN_FAILED)
    if isinstance(err, HttpResponseError):
        status = err.status_code
        code = getattr(err.error, "code", None) or ""
        message = getattr(err.error, "message", None) or err.reason or str(err)
        url = getattr(getattr(err.response, "request", None), "url", None)
        if url:
            request = f"{err.response.request.method} {_path_and_query(url)}"  # type: ignore[union-attr]
        return CollectionError(operation, request, _one_line(message), status, code)
    if isinstance(err, WriteRefused) and err.url.split("?")[0].lower().endswith("/register"):
        return CollectionError(
            operation,
            request,
            "the resource provider is not registered in this subscription and the SDK asked to register it; "
            "port25-audit only reads, so it did not (register the provider, or ignore this list if nothing uses it)",
            409,
            ErrorCode.PROVIDER_NOT_REGISTERED,
        )
    if isinstance(err, RecordingMiss):
        return CollectionError(
            operation,
            f"{err.method} {_path_and_query(err.url)}",
            "the recording has no entry for this request",
            None,
            ErrorCode.NOT_RECORDED,
        )
    return CollectionError(operation, request, _one_line(str(err)) or type(err).__name__, None, type(err).__name__)


def _path_and_query(url: str) -> str:
    """A request's path and query as every report shows it: the value of a query parameter not known to be safe
    (a SAS signature, a code) redacted, as in recordings and --verbose."""
    parts = urlsplit(redacted_url(url))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _one_line(text: str) -> str:
    return " ".join(redacted_text(str(text)).split())


def logged(error: CollectionError) -> CollectionError:
    log.warning("could not read %s", error.describe())
    return error


def read_all(
    operation: str, request: str, pages: Callable[[], Iterable[T]], *, logged: bool = True
) -> tuple[list[T], CollectionError | None]:
    """Every item of a paged list; on failure, what was read before it and the error (logged once, unless the
    caller says it itself)."""
    items: list[T] = []
    try:
        for item in pages():
            items.append(item)
    except READ_FAILURES as err:
        error = collection_error(operation, request, err)
        if logged:
            log.warning("could not read %s", error.describe())
        return items, error
    return items, None
