"""How many things one reason names: a rule set of 100,000 rules must not make a reason of megabytes."""

from __future__ import annotations

from collections.abc import Sequence

# The most rules, IP groups or firewalls one reason names; the rest are counted.
MAX_LISTED = 10


def capped(items: Sequence[str], what: str) -> list[str]:
    """The first MAX_LISTED items, and a last one that counts the rest ("and 99,990 more rules")."""
    if len(items) <= MAX_LISTED:
        return list(items)
    return [*items[:MAX_LISTED], f"and {len(items) - MAX_LISTED:,} more {what}"]
