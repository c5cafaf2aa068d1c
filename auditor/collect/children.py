"""The lists under an item, read through ARM in both modes: a site's deployment slots and `config/web`, a firewall
policy's rule collection groups, a Virtual WAN hub's connections, routing intent and route tables.

They are read as plain JSON through the parent client's pipeline by the one pager (`paging.json_pages`), whose
loop and page checks hold for them as for every other list. Paths are built from the parent's subscription,
resource group and name, each quoted, as the SDK's operations build them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from auditor.collect import network as net
from auditor.collect.api_versions import NETWORK, WEB
from auditor.collect.clients import Clients
from auditor.collect.errors import logged, read_all
from auditor.collect.lists import (
    AUDITED_KINDS,
    malformed,
    needs_site_config,
    resource_group_of,
    routing_decision,
    routing_flags,
    understood,
)
from auditor.collect.paging import json_object, json_pages
from auditor.model import (
    CollectionError,
    FirewallPolicy,
    ListName,
    Resource,
    VirtualHub,
    subscription_of,
)


def with_children(
    clients: Clients, operation: ListName, items: list[Any], failures: list[CollectionError]
) -> dict[ListName, list[Any]]:
    """A list's items with what lists under them say, and the lists read under them (slots under sites)."""
    read = READ_UNDER.get(operation)
    return read(clients, items, failures) if read is not None else {operation: items}


def _sites(clients: Clients, items: list[Any], failures: list[CollectionError]) -> dict[ListName, list[Any]]:
    sites = [with_routing(clients, site, failures) for site in items]
    return {ListName.SITES: sites, ListName.SLOTS: [s for site in sites for s in slots(clients, site, failures)]}


# The lists read under each list's items, by the parent list: what they add to each item, and the audited types
# listed under an item (`AuditedType.parent_list`; `tests/test_registration.py` checks each is read here).
READ_UNDER: dict[ListName, Callable[[Clients, list[Any], list[CollectionError]], dict[ListName, list[Any]]]] = {
    ListName.SITES: _sites,
    ListName.FIREWALL_POLICIES: lambda clients, items, failures: {
        ListName.FIREWALL_POLICIES: [with_rule_groups(clients, policy, failures) for policy in items]
    },
    ListName.VIRTUAL_HUBS: lambda clients, items, failures: {
        ListName.VIRTUAL_HUBS: [with_hub_routing(clients, hub, failures) for hub in items]
    },
}


def item_path(subscription_id: str, group: str, provider_type: str, *names: str) -> str:
    """`/subscriptions/{id}/resourceGroups/{group}/providers/{type}/{name}[/{child}/{name}…]`, each name quoted
    whole (a name cannot add a segment or climb out of its parent)."""
    parts = [quote(part, safe="") for part in (subscription_id, group, *names)]
    path = f"/subscriptions/{parts[0]}/resourceGroups/{parts[1]}/providers/{provider_type}"
    return "/".join([path, *parts[2:]])


def _site_path(site: Resource) -> str:
    name, _, slot = site.name.partition("/")
    names = (name, "slots", slot) if slot else (name,)
    return item_path(site.subscription_id, site.resource_group, "Microsoft.Web/sites", *names)


def slots(clients: Clients, site: Resource, failures: list[CollectionError]) -> list[Resource]:
    """A site's deployment slots, findings of their own, each with its own routing."""
    convert = AUDITED_KINDS[ListName.SLOTS].convert
    path = f"{_site_path(site)}/slots"
    found, error = read_all(
        f"{ListName.SITES}/{site.name}/{ListName.SLOTS}",
        f"GET {path}",
        lambda: (convert(item, site.subscription_id) for item in json_pages(clients.web, path, WEB)),
    )
    if error is not None:
        failures.append(error)
    return [with_routing(clients, slot, failures) for slot in found]


def with_routing(clients: Clients, site: Resource, failures: list[CollectionError]) -> Resource:
    """An integrated site (or slot) whose payload does not say it routes into the VNet, with what `config/web`
    says (`vnetRouteAllEnabled`; older sites say it only there) weighed with its payload's flags. When
    `config/web` cannot be read, the app says so (`config_unread`): its routing is not known."""
    app = site.app
    if app is None or not needs_site_config(site):
        return site
    path = f"{_site_path(site)}/config/web"
    name, _, slot = site.name.partition("/")
    operation = f"sites/{name}" + (f"/slots/{slot}" if slot else "") + "/config/web"
    configs, error = read_all(operation, f"GET {path}", lambda: [json_object(clients.web, path, WEB)])
    if error is not None:
        failures.append(error)
        return replace(site, app=replace(app, config_unread=operation))
    flags = dict(app.routing_flags)
    properties = configs[0].get("properties")
    flags.update((f"its config/web's {name}", value) for name, value in routing_flags(properties).items())
    routed, note = routing_decision(flags)
    return replace(
        site, app=replace(app, routes_app_traffic=routed, routing_note=note, routing_flags=tuple(flags.items()))
    )


def _children_of(
    clients: Any, parent_id: str, provider_type: str, child: str
) -> Callable[[Callable[[Any], Any]], Iterator[Any]]:
    subscription, group, name = (
        subscription_of(parent_id) or "",
        resource_group_of(parent_id),
        parent_id.rsplit("/")[-1],
    )
    path = f"{item_path(subscription, group, provider_type, name)}/{child}"
    return lambda convert: map(convert, json_pages(clients, path, NETWORK))


def _read_under(
    parent_id: str, operation: str, child: str, items: Callable[[], Iterable[Any]], failures: list[CollectionError]
) -> list[Any] | None:
    found, error = read_all(operation, f"GET {parent_id}/{child}", items)
    if error is not None:
        failures.append(error)
        return None
    return found


def with_rule_groups(clients: Clients, policy: FirewallPolicy, failures: list[CollectionError]) -> FirewallPolicy:
    """A firewall policy with its rule collection groups (a list under the policy); None when the list failed or
    a group in it could not be understood: a policy read in part would be read as fewer rules than it has."""
    child = "ruleCollectionGroups"
    operation = f"firewallPolicies/{policy.name}/{child}"
    pages = _children_of(clients.network, policy.policy_id, "Microsoft.Network/firewallPolicies", child)
    problems: list[str] = []
    groups = _read_under(
        policy.policy_id,
        operation,
        child,
        lambda: understood(pages(lambda raw: raw), net.rule_collection_group, problems),
        failures,
    )
    if problems:
        failures.append(logged(malformed(operation, f"GET {policy.policy_id}/{child}", problems)))
        return replace(policy, groups=None)
    return replace(policy, groups=None if groups is None else tuple(groups))


def with_hub_routing(clients: Clients, hub: VirtualHub, failures: list[CollectionError]) -> VirtualHub:
    """A Virtual WAN hub with its spoke connections, routing intent and route tables (three lists under it)."""

    def child(name: str, convert: Callable[[Any], Any]) -> list[Any] | None:
        pages = _children_of(clients.network, hub.hub_id, "Microsoft.Network/virtualHubs", name)
        return _read_under(hub.hub_id, f"virtualHubs/{hub.name}/{name}", name, lambda: pages(convert), failures)

    connections = child("hubVirtualNetworkConnections", net.hub_connection)
    intents = child("routingIntent", net.internet_next_hop)
    tables = child("hubRouteTables", net.hub_route_table)
    return replace(
        hub,
        connections=None if connections is None else tuple(connections),
        internet_next_hop=next((hop for hop in intents or () if hop), None),
        routing_intent_read=intents is not None,
        route_tables=None if tables is None else tuple(tables),
    )
