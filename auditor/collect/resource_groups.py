"""Resource groups' tags, for `--tag` and exceptions that match a tag: owners often tag the group, and Azure does not
pass a group's tags on to its resources, so a resource without the tag takes its group's.

One list per subscription (`GET /subscriptions/{id}/resourcegroups`, Resource Groups - List), read through a
client's pipeline as every other list, only when a run asks for tags. A failure is an error of that subscription.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from auditor.collect.api_versions import RESOURCE_GROUPS as API_VERSION
from auditor.collect.clients import Clients
from auditor.collect.errors import read_all
from auditor.collect.paging import json_pages
from auditor.model import (
    RESOURCE_GROUPS,
    WHOLE_SUBSCRIPTION_OPERATIONS,
    CollectionError,
    SubscriptionInventory,
    TenantInventory,
)


def _group_tags(raw: Any) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        return None
    tags = raw.get("tags")
    pairs = tuple((str(k), "" if v is None else str(v)) for k, v in tags.items()) if isinstance(tags, Mapping) else ()
    return raw["name"].lower(), pairs


def _read(clients_of: Callable[[str], Clients], item: SubscriptionInventory) -> SubscriptionInventory:
    subscription_id = item.subscription.subscription_id
    path = f"/subscriptions/{subscription_id}/resourcegroups"
    client = clients_of(subscription_id).network  # any management client's pipeline sends it
    groups, error = read_all(RESOURCE_GROUPS, f"GET {path}", lambda: json_pages(client, path, API_VERSION))
    tags = dict(found for found in map(_group_tags, groups) if found is not None)
    errors: tuple[CollectionError, ...] = (*item.errors, error) if error is not None else item.errors
    return replace(item, group_tags=tags, errors=errors)


def with_group_tags(
    inventory: TenantInventory, clients_of: Callable[[str], Clients], max_workers: int
) -> TenantInventory:
    """The inventory with each read subscription's resource groups' tags."""
    read = [i for i, item in enumerate(inventory.subscriptions) if not item.skipped and not _nothing_read(item)]
    if not read:
        return inventory
    subscriptions = list(inventory.subscriptions)
    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="port25-groups") as pool:
        for index, item in zip(read, pool.map(lambda i: _read(clients_of, subscriptions[i]), read), strict=True):
            subscriptions[index] = item
    return replace(inventory, subscriptions=tuple(subscriptions))


def _nothing_read(item: SubscriptionInventory) -> bool:
    """A subscription listed but not read (not visible, or its whole reading failed): no groups to ask for."""
    return any(e.operation in WHOLE_SUBSCRIPTION_OPERATIONS for e in item.errors)
