"""--tag: the tags each finding reports (findings.csv's `tags`), its own or else its resource group's: Azure does
not pass a group's tags on to its resources, and owners often tag the group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from auditor.model import Finding, Resource

# Each resource group's tags, by (subscription id, group name), lower case.
GroupTags = dict[tuple[str, str], tuple[tuple[str, str], ...]]


def carried_tags(resource: Resource, group_tags: GroupTags) -> dict[str, tuple[str, str]]:
    """The tags a resource carries, by lower-case name (names match without regard to case, as Azure's do), each
    as (name, value): its own, else its resource group's."""
    group = (
        group_tags.get((resource.subscription_id.lower(), resource.resource_group.lower()), ()) if group_tags else ()
    )
    return {**{k.lower(): (k, v) for k, v in group}, **{k.lower(): (k, v) for k, v in resource.tags}}


def with_tag_values(
    findings: Sequence[Finding],
    names: Sequence[str],
    group_tags: GroupTags,
) -> tuple[Finding, ...]:
    """Each finding with the tags `names` (--tag) it carries (`carried_tags`), in that order; a tag it does not
    carry is left out."""
    if not names:
        return tuple(findings)
    wanted = [name.lower() for name in names]
    out = []
    for finding in findings:
        tags = carried_tags(finding.resource, group_tags)
        carried = tuple(tags[name] for name in wanted if name in tags)
        out.append(replace(finding, tags=carried) if carried else finding)
    return tuple(out)
