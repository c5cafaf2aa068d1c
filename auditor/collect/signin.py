"""Sign-in for live runs: which credential, against which cloud, with which token scope.

A cloud sets the ARM endpoint, the credential's authority and the token scope together, so a token for one cloud
is never sent to another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    AzureAuthorityHosts,
    AzureCliCredential,
    DefaultAzureCredential,
    DeviceCodeCredential,
    EnvironmentCredential,
    ManagedIdentityCredential,
)

from auditor.collect.interface import Auth, Cloud


@dataclass(frozen=True)
class CloudEndpoints:
    arm: str
    authority: str

    @property
    def scope(self) -> str:
        return f"{self.arm}/.default"


CLOUDS: dict[Cloud, CloudEndpoints] = {
    Cloud.PUBLIC: CloudEndpoints("https://management.azure.com", AzureAuthorityHosts.AZURE_PUBLIC_CLOUD),
    Cloud.USGOV: CloudEndpoints("https://management.usgovcloudapi.net", AzureAuthorityHosts.AZURE_GOVERNMENT),
    Cloud.CHINA: CloudEndpoints("https://management.chinacloudapi.cn", AzureAuthorityHosts.AZURE_CHINA),
}

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


def credential(auth: Auth, cloud: Cloud, tenant: str | None = None) -> TokenCredential:
    authority = CLOUDS[cloud].authority
    if auth is Auth.CLI:
        return AzureCliCredential(tenant_id=tenant or "")
    if auth is Auth.ENV:
        return EnvironmentCredential(authority=authority)
    if auth is Auth.MSI:
        return ManagedIdentityCredential()
    if auth is Auth.DEVICE:
        return DeviceCodeCredential(tenant_id=tenant or "organizations", authority=authority)
    # DefaultAzureCredential takes no tenant_id; its parts take their own. The Azure CLI part uses the tenant of
    # `az login`, so `--auth cli --tenant` is the way to pin a tenant with the CLI.
    tenants = (
        {
            f"{part}_tenant_id": tenant
            for part in ("workload_identity", "shared_cache", "interactive_browser", "visual_studio_code", "broker")
        }
        if tenant
        else {}
    )
    return DefaultAzureCredential(authority=authority, exclude_interactive_browser_credential=True, **tenants)


def sign_in_failure(err: BaseException) -> str | None:
    """For an error a credential raised (no HTTP response): the credentials it tried, in one line; else None."""
    if not isinstance(err, ClientAuthenticationError) or err.response is not None:
        return None
    tried = re.findall(r"^\s*(\w+Credential):", str(err), re.MULTILINE)
    first = str(err).strip().splitlines()[0].rstrip(".") if str(err).strip() else type(err).__name__
    return first + (f" (tried {', '.join(dict.fromkeys(tried))})" if tried else "")
