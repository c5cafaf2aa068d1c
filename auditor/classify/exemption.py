"""A port-25 exemption recorded in the audit config: what it means for one resource. The article: an exemption
covers VMs' traffic routed directly to the internet, and VMs that existed before it only once they are stopped,
deallocated and restarted."""

from __future__ import annotations

import datetime as dt

from auditor.classify.rules import VM_LIKE, Rule
from auditor.model import PlatformPolicy, Resource, ResourceCategory


def exemption_note(rule: Rule, resource: Resource, granted: dt.date | None) -> str:
    """What a recorded exemption means for this resource (docs: it covers VMs' traffic routed directly)."""
    if granted is None:
        return ""
    if rule.policy is PlatformPolicy.EXEMPTED:
        said = f"Exemption granted {granted.isoformat()} (audit config)."
        restarted = restart_condition(resource, granted)
        return f"{said} {restarted}" if restarted else said
    if resource.category in VM_LIKE:
        return ""
    return f"The exemption recorded on {granted.isoformat()} covers VMs only."


def exempted_remediation(rule: Rule, resource: Resource, granted: dt.date | None) -> str:
    """The rule's advice, or for an exempted VM what its creation date says of the exemption."""
    if rule.policy is not PlatformPolicy.EXEMPTED or granted is None:
        return rule.remediation
    if resource.category is ResourceCategory.VIRTUAL_MACHINE and resource.created is not None:
        if resource.created.date() > granted:
            return (
                "Nothing to request: the VM was created after the exemption was granted, so it is exempt. It "
                "covers only traffic routed directly to the internet."
            )
        return (
            f"Stop, deallocate and then restart the VM if it has not been since {granted.isoformat()}: the "
            "exemption covers it only after that, and only traffic routed directly to the internet."
        )
    return rule.remediation


def restart_condition(resource: Resource, granted: dt.date) -> str:
    """The article: after the exemption, VMs are exempt once they are stopped and started."""
    if resource.category is not ResourceCategory.VIRTUAL_MACHINE or resource.created is None:
        return ""
    created = resource.created.date().isoformat()
    if resource.created.date() > granted:
        return f"The VM was created {created}, after the exemption: it is exempt."
    return (
        f"The VM was created {created}, before the exemption: it is exempt only if it was stopped, deallocated "
        f"and restarted since {granted.isoformat()}, which Azure Resource Manager does not show."
    )
