"""Paged ARM lists as plain JSON, through an SDK client's own pipeline (`send_request`): the same transport,
retry, sign-in, rate limit, host and page checks and replay as the SDK's operations, without building its typed
models."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

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


def json_pages(client: Any, path: str, api_version: str) -> Iterator[Mapping[str, Any]]:
    """The items of a paged ARM list; a `nextLink` is requested with the same `api-version`, as the SDK does."""
    send = getattr(client, "send_request", None) or client._send_request  # the older (msrest) clients' name
    url = f"{path}?api-version={api_version}"
    while True:
        response = send(HttpRequest("GET", url, headers={"Accept": "application/json"}))
        if response.status_code != 200:
            map_error(status_code=response.status_code, response=response, error_map=ERROR_MAP)
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        page = response.json()
        if not isinstance(page, dict):
            raise MalformedPage(f"the page is a JSON {type(page).__name__}, not an object")
        items = page.get("value")
        if not isinstance(items, list):  # an answer without its list is not an empty list
            raise MalformedPage(f"the page's value is {'missing' if items is None else 'not a list'}")
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
