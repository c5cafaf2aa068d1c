"""The lists under an item, read through ARM in both modes: a site's deployment slots and `config/web`, a firewall
policy's rule collection groups, a Virtual WAN hub's connections, routing intent and route tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from azure.mgmt.web import WebSiteManagementClient

from auditor.collect import network as net
from auditor.collect.errors import read_all
from auditor.collect.lists import AUDITED_KINDS, needs_site_config, resource_group_of, routing_decision, routing_flags
from auditor.collect.session import Clients
from auditor.model import CollectionError, FirewallPolicy, ListName, Resource, VirtualHub


def with_children(
    clients: Clients, operation: ListName, items: list[Any], failures: list[CollectionError]
) -> dict[ListName, list[Any]]:
    """A list's items with what lists under them say, and the lists read under them (slots under sites)."""
    if operation is ListName.SITES:
        sites = [with_routing(clients.web, site, failures) for site in items]
        return {
            ListName.SITES: sites,
            ListName.SLOTS: [s for site in sites for s in slots(clients, site, failures)],
        }
    if operation is ListName.FIREWALL_POLICIES:
        return {operation: [with_rule_groups(clients, policy, failures) for policy in items]}
    if operation is ListName.VIRTUAL_HUBS:
        return {operation: [with_hub_routing(clients, hub, failures) for hub in items]}
    return {operation: items}


def slots(clients: Clients, site: Resource, failures: list[CollectionError]) -> list[Resource]:
    """A site's deployment slots, findings of their own, each with its own routing."""
    convert = AUDITED_KINDS[ListName.SLOTS].convert
    found, error = read_all(
        f"{ListName.SITES}/{site.name}/{ListName.SLOTS}",
        f"GET {site.resource_id}/slots",
        lambda: (
            convert(item, site.subscription_id)
            for item in clients.web.web_apps.list_slots(site.resource_group, site.name)
        ),
    )
    if error is not None:
        failures.append(error)
    return [with_routing(clients.web, slot, failures) for slot in found]


def with_routing(web: WebSiteManagementClient, site: Resource, failures: list[CollectionError]) -> Resource:
    """An integrated site (or slot) whose payload does not say it routes into the VNet, with what `config/web`
    says (`vnetRouteAllEnabled`; older sites say it only there) weighed with its payload's flags."""
    app = site.app
    if app is None or not needs_site_config(site):
        return site
    group = site.resource_group
    name, _, slot = site.name.partition("/")
    operation = f"sites/{name}" + (f"/slots/{slot}" if slot else "") + "/config/web"
    configs, error = read_all(
        operation,
        f"GET {site.resource_id}/config/web",
        lambda: [
            web.web_apps.get_configuration_slot(group, name, slot)
            if slot
            else web.web_apps.get_configuration(group, name)
        ],
    )
    if error is not None:
        failures.append(error)
        return site
    flags = dict(app.routing_flags)
    flags.update((f"its config/web's {name}", value) for name, value in routing_flags(configs[0].properties).items())
    routed, note = routing_decision(flags)
    return replace(
        site, app=replace(app, routes_app_traffic=routed, routing_note=note, routing_flags=tuple(flags.items()))
    )


def _child_path(parent_id: str, child: str) -> str:
    return f"GET {parent_id}/{child}"


def with_rule_groups(clients: Clients, policy: FirewallPolicy, failures: list[CollectionError]) -> FirewallPolicy:
    """A firewall policy with its rule collection groups (a list under the policy); None when it failed."""
    group = resource_group_of(policy.policy_id)
    groups, error = read_all(
        f"firewallPolicies/{policy.name}/ruleCollectionGroups",
        _child_path(policy.policy_id, "ruleCollectionGroups"),
        lambda: map(
            net.rule_collection_group,
            clients.network.firewall_policy_rule_collection_groups.list(group, policy.name),
        ),
    )
    if error is not None:
        failures.append(error)
        return replace(policy, groups=None)
    return replace(policy, groups=tuple(groups))


def with_hub_routing(clients: Clients, hub: VirtualHub, failures: list[CollectionError]) -> VirtualHub:
    """A Virtual WAN hub with its spoke connections, routing intent and route tables (three lists under it)."""
    group, operations = resource_group_of(hub.hub_id), clients.network

    def child(name: str, pages: Callable[[], Iterable[Any]]) -> tuple[list[Any], bool]:
        items, error = read_all(f"virtualHubs/{hub.name}/{name}", _child_path(hub.hub_id, name), pages)
        if error is not None:
            failures.append(error)
        return items, error is None

    connections, connections_read = child(
        "hubVirtualNetworkConnections",
        lambda: map(net.hub_connection, operations.hub_virtual_network_connections.list(group, hub.name)),
    )
    intents, intent_read = child(
        "routingIntent", lambda: map(net.internet_next_hop, operations.routing_intent.list(group, hub.name))
    )
    tables, tables_read = child(
        "hubRouteTables", lambda: map(net.hub_route_table, operations.hub_route_tables.list(group, hub.name))
    )
    return replace(
        hub,
        connections=tuple(connections) if connections_read else None,
        internet_next_hop=next((hop for hop in intents if hop), None),
        routing_intent_read=intent_read,
        route_tables=tuple(tables) if tables_read else None,
    )
