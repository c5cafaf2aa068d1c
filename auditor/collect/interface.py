"""What every way of collecting a tenant provides."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import StrEnum

from auditor.collect.throttle import ScanStats
from auditor.model import TenantInventory

DEFAULT_MAX_WORKERS = 32


class Auth(StrEnum):
    """How a live run signs in: every method DefaultAzureCredential knows, or just one."""

    DEFAULT = "default"
    CLI = "cli"
    ENV = "env"
    MSI = "msi"
    DEVICE = "device"


class Cloud(StrEnum):
    PUBLIC = "public"
    USGOV = "usgov"
    CHINA = "china"


# Each cloud's Azure portal, for the reports' links to a resource or subscription.
PORTAL_URLS: dict[Cloud, str] = {
    Cloud.PUBLIC: "https://portal.azure.com",
    Cloud.USGOV: "https://portal.azure.us",
    Cloud.CHINA: "https://portal.azure.cn",
}


# AZURE_CLOUD may hold our names or the Azure CLI's (`az cloud list`).
CLOUD_ALIASES = {
    "azurecloud": Cloud.PUBLIC,
    "azureusgovernment": Cloud.USGOV,
    "azurechinacloud": Cloud.CHINA,
    **{cloud.value: cloud for cloud in Cloud},
}


class Source(StrEnum):
    """Where the resources are read from: one ARM list call per list and subscription, or Resource Graph."""

    ARM = "arm"
    GRAPH = "graph"


class Collector(ABC):
    stats: ScanStats

    @abstractmethod
    def collect(self, scope: Sequence[str] = ()) -> TenantInventory:
        """Read every subscription the credential sees (or only `scope`), with what could not be read."""
