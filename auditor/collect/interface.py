"""What every way of collecting a tenant provides."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from auditor.collect.throttle import ScanStats
from auditor.model import Scope, TenantInventory

DEFAULT_MAX_WORKERS = 32
# processes reading a large tenant in ARM mode, this one included: the machine's cores, at most 4
DEFAULT_PROCESSES = max(1, min(os.cpu_count() or 1, 4))


class Auth(StrEnum):
    """How a live run signs in: every method DefaultAzureCredential knows, or just one."""

    DEFAULT = "default"
    CLI = "cli"
    ENV = "env"
    MSI = "msi"
    DEVICE = "device"


# What each choice tries, in words a user knows, for the one line a failed sign-in gets.
TRIED: dict[Auth, str] = {
    Auth.DEFAULT: "environment service principal, workload identity, managed identity, Azure CLI, "
    "Azure PowerShell, Azure Developer CLI",
    Auth.CLI: "Azure CLI (az login)",
    Auth.ENV: "environment service principal (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or "
    "AZURE_CLIENT_CERTIFICATE_PATH)",
    Auth.MSI: "managed identity",
    Auth.DEVICE: "device code",
}
ADVICE: dict[Auth, str] = {
    Auth.DEFAULT: "run az login, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, "
    "or pick one method with --auth",
    Auth.CLI: "run az login (and az cloud set for a sovereign cloud)",
    Auth.ENV: "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH)",
    Auth.MSI: "run on an Azure resource with a managed identity (set AZURE_CLIENT_ID for a user-assigned one)",
    Auth.DEVICE: "follow the device code prompt on stderr within its time limit",
}


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


@dataclass(frozen=True)
class Extras:
    """What a run reads beyond the lists, in either mode: resource groups' tags (for --tag and tag exceptions),
    the effective routes of subnets that may learn gateway routes (--effective-routes)."""

    group_tags: bool = False
    effective_routes: bool = False


NO_EXTRAS = Extras()


class Collector(ABC):
    stats: ScanStats

    @abstractmethod
    def collect(self, scope: Scope | Sequence[str] = ()) -> TenantInventory:
        """Read every subscription the credential sees (or only those of `scope`: subscription ids, or a Scope with
        management groups, exclusions and states), with what could not be read and what was left out, and why."""
