"""A subscription's management clients: the SDK clients every list of it is read through."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from azure.mgmt.appcontainers import ContainerAppsAPIClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.containerinstance import ContainerInstanceManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.web import WebSiteManagementClient


class Clients:
    """A subscription's management clients, each built when its first list asks for it."""

    def __init__(self, make: Callable[[type[Any]], Any]) -> None:
        self._make = make
        self._built: dict[type[Any], Any] = {}
        self._lock = threading.Lock()

    def _client(self, kind: type[Any]) -> Any:
        with self._lock:
            if kind not in self._built:
                self._built[kind] = self._make(kind)
            return self._built[kind]

    @property
    def compute(self) -> ComputeManagementClient:
        return self._client(ComputeManagementClient)

    @property
    def network(self) -> NetworkManagementClient:
        return self._client(NetworkManagementClient)

    @property
    def web(self) -> WebSiteManagementClient:
        return self._client(WebSiteManagementClient)

    @property
    def apps(self) -> ContainerAppsAPIClient:
        return self._client(ContainerAppsAPIClient)

    @property
    def containers(self) -> ContainerInstanceManagementClient:
        return self._client(ContainerInstanceManagementClient)
