"""What a run may ask for beyond the lists, in either mode: resource groups' tags, effective routes."""

from __future__ import annotations

from auditor.collect.effective_routes import with_effective_routes
from auditor.collect.resource_groups import with_group_tags
from auditor.collect.session import ArmSession
from auditor.model import TenantInventory


def with_extras(
    tenant: TenantInventory, session: ArmSession, max_workers: int, *, group_tags: bool, effective_routes: bool
) -> TenantInventory:
    if group_tags:
        tenant = with_group_tags(tenant, session, max_workers)
    if effective_routes:
        tenant = with_effective_routes(tenant, session, max_workers)
    return tenant
