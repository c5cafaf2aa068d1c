"""Sign-in for live runs: which credential, against which cloud, with which token scope.

A cloud sets the ARM endpoint, the credential's authority and the token scope together, so a token for one cloud
is never sent to another.
"""

from __future__ import annotations

from dataclasses import dataclass

from azure.core.credentials import TokenCredential
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
