"""--tag: the tags each finding reports (findings.csv's `tags`), its own or else its resource group's: Azure does
not pass a group's tags on to its resources, and owners often tag the group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from auditor.model import Finding


def with_tag_values(
    findings: Sequence[Finding],
    names: Sequence[str],
    group_tags: dict[tuple[str, str], tuple[tuple[str, str], ...]],
) -> tuple[Finding, ...]:
    """Each finding with the tags `names` (--tag) it carries, else its resource group carries, in that order; a
    tag neither carries is left out. Names match without regard to case, as Azure's do."""
    if not names:
        return tuple(findings)
    wanted = [name.lower() for name in names]
    out = []
    for finding in findings:
        resource = finding.resource
        own = {k.lower(): (k, v) for k, v in resource.tags}
        group = {
            k.lower(): (k, v)
            for k, v in group_tags.get((resource.subscription_id.lower(), resource.resource_group.lower()), ())
        }
        carried = tuple(own.get(name) or group[name] for name in wanted if name in own or name in group)
        out.append(replace(finding, tags=carried) if carried else finding)
    return tuple(out)
