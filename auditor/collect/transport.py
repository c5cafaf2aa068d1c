"""The HTTP transport every client uses: azure-core's own, refusing anything that could change Azure."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests
from azure.core.pipeline.transport import RequestsTransport
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

RESOURCE_GRAPH_PATH = "/providers/microsoft.resourcegraph/resources"


class WriteRefused(Exception):
    """Raised instead of sending a request that is not a read."""

    def __init__(self, method: str, url: str) -> None:
        super().__init__(f"refused to send {method} {urlsplit(url).path}: port25-audit only reads")
        self.method = method
        self.url = url


# A NIC's effective route table (`--effective-routes`): a POST that computes and returns routes, changing nothing.
EFFECTIVE_ROUTE_TABLE_PATH = re.compile(
    r"/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.network/networkinterfaces/[^/]+/effectiveroutetable"
)


def is_read(method: str, url: str) -> bool:
    """GET anywhere; POST only to Resource Graph's query endpoint (a read with a body) and to a NIC's effective
    route table."""
    method = method.upper()
    if method == "GET":
        return True
    path = urlsplit(url).path.rstrip("/").lower()
    return method == "POST" and (path == RESOURCE_GRAPH_PATH or EFFECTIVE_ROUTE_TABLE_PATH.fullmatch(path) is not None)


class ReadOnlyTransport(RequestsTransport):
    """azure-core's requests transport that sends only reads.

    azure-mgmt-core's provider-registration policy POSTs `.../register` when a provider is not registered;
    this guard refuses it, and the list that needed it is reported as not readable.
    """

    def send(self, request: Any, **kwargs: Any) -> Any:
        if not is_read(request.method, request.url):
            raise WriteRefused(request.method, request.url)
        return super().send(request, **kwargs)

    @classmethod
    def pooled(cls, connections: int) -> ReadOnlyTransport:
        """Keeps up to `connections` connections open, one per worker; retries are azure-core's, not urllib3's."""
        session = requests.Session()
        adapter = HTTPAdapter(
            pool_connections=connections,
            pool_maxsize=connections,
            max_retries=Retry(total=False, redirect=False, raise_on_status=False),
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return cls(session=session, session_owner=True)
