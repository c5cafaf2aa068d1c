"""Every paged read of ARM, as plain JSON, through an SDK client's own pipeline (`send_request`): the same transport,
retry, sign-in, rate limit, host check and replay as the SDK's operations, without building its typed models.

One pager serves every list: a subscription's lists, the subscription list, billing accounts, management-group
descendants and the lists under an item (slots, rule collection groups, hub lists). It compares each page's URL
as it is sent (dot segments removed, repeated slashes folded, case and query order ignored), so a `nextLink`
that leads back to a page already read, however it is spelled, ends the list as an error; and it reads at most
`MAX_PAGES` pages of one list.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ResourceNotModifiedError,
    map_error,
)
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat

from auditor.collect.policy import MalformedPage

# What the SDK's list operations raise for these statuses; every other failure is an HttpResponseError.
ERROR_MAP = {
    401: ClientAuthenticationError,
    404: ResourceNotFoundError,
    409: ResourceExistsError,
    304: ResourceNotModifiedError,
}
# The most pages one list is read in. ARM's pages hold up to 1,000 items: a million items of one list in one
# subscription would be 1,000 pages.
MAX_PAGES = 5_000
_SLASHES = re.compile(r"/{2,}")

PageKey = tuple[str, tuple[tuple[str, str], ...]]


def page_key(url: str) -> PageKey:
    """A page's URL as the server reads it: the path without dot segments or repeated slashes, in lower case, and
    the query parameters other than api-version, in order."""
    parts = urlsplit(url)
    path = posixpath.normpath(_SLASHES.sub("/", unquote(parts.path) or "/"))
    query = tuple(
        sorted((k.lower(), v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "api-version")
    )
    return path.lstrip("/").lower(), query


def _response_json(client: Any, url: str) -> Any:
    send = getattr(client, "send_request", None) or client._send_request  # the older (msrest) clients' name
    response = send(HttpRequest("GET", url, headers={"Accept": "application/json"}))
    if response.status_code != 200:
        map_error(status_code=response.status_code, response=response, error_map=ERROR_MAP)
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    return response.json()


def json_object(client: Any, path: str, api_version: str) -> Mapping[str, Any]:
    """One ARM resource (`GET {path}`), as the JSON object Azure sent; anything but an object is malformed."""
    document = _response_json(client, f"{path}?api-version={api_version}")
    if not isinstance(document, dict):
        raise MalformedPage(f"the answer is a JSON {type(document).__name__}, not an object")
    return document


def json_pages(
    client: Any, path: str, api_version: str, query: Mapping[str, str] | None = None
) -> Iterator[Mapping[str, Any]]:
    """The items of a paged ARM list; a `nextLink` is requested with the same `api-version`, as the SDK does."""
    url = f"{path}?{urlencode({**(query or {}), 'api-version': api_version}, safe='$/:,*')}"
    read: set[PageKey] = set()
    while True:
        key = page_key(url)
        if key in read:
            raise MalformedPage(f"the nextLink led back to a page already read (page {len(read) + 1}); paging stopped")
        if len(read) >= MAX_PAGES:
            raise MalformedPage(f"the list goes on past {MAX_PAGES} pages; paging stopped")
        read.add(key)
        page = _response_json(client, url)
        if not isinstance(page, dict):
            raise MalformedPage(f"the page is a JSON {type(page).__name__}, not an object")
        items = page.get("value")
        if not isinstance(items, list):  # an answer without its list is not an empty list
            raise MalformedPage("the page has no 'value' list" if items is None else "the page's 'value' is not a list")
        yield from items
        next_link = page.get("nextLink")
        if not next_link:
            return
        if not isinstance(next_link, str):
            raise MalformedPage(f"the page's nextLink is a JSON {type(next_link).__name__}, not a URL")
        url = _with_api_version(next_link, api_version)


def _with_api_version(url: str, api_version: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "api-version"]
    return parts._replace(query=urlencode([*query, ("api-version", api_version)], safe="$/:,*")).geturl()
