"""User-defined routes: which route takes traffic to an arbitrary internet address."""

from __future__ import annotations

from collections.abc import Sequence

from auditor.model import Route


def internet_route(routes: Sequence[Route]) -> Route | None:
    """The user-defined route that takes an arbitrary internet address: 0.0.0.0/0, or /1 halves both pointing alike."""
    by_prefix = {r.address_prefix.strip(): r for r in routes}
    default = by_prefix.get("0.0.0.0/0")
    halves = by_prefix.get("0.0.0.0/1"), by_prefix.get("128.0.0.0/1")
    if (
        halves[0]
        and halves[1]
        and (halves[0].next_hop_type, halves[0].next_hop_ip) == (halves[1].next_hop_type, halves[1].next_hop_ip)
    ):
        return halves[0]
    return default
