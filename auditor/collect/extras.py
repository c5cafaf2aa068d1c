"""What a run may ask for beyond the lists, in either mode: resource groups' tags, effective routes."""

from __future__ import annotations

from collections.abc import Callable

from auditor.collect.clients import Clients
from auditor.collect.effective_routes import with_effective_routes
from auditor.collect.interface import Extras
from auditor.collect.resource_groups import with_group_tags
from auditor.model import TenantInventory


def with_extras(
    tenant: TenantInventory, clients_of: Callable[[str], Clients], max_workers: int, extras: Extras
) -> TenantInventory:
    """The tenant with what the run asked for beyond the lists, read through each subscription's clients (the
    session assembling the tenant gives its own)."""
    if extras.group_tags:
        tenant = with_group_tags(tenant, clients_of, max_workers)
    if extras.effective_routes:
        tenant = with_effective_routes(tenant, clients_of, max_workers)
    return tenant
