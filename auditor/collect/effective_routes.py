"""`--effective-routes`: what Azure applies in a subnet that may learn routes from a gateway.

A subnet whose VNet has a VPN or ExpressRoute gateway (or uses a peered hub's, `useRemoteGateways`), and whose route
table does not turn gateway route propagation off, may receive a default route from on-premises that no GET shows.
For each such subnet, the effective route table of one NIC of a running VM in it is read: `POST
.../networkInterfaces/{nic}/effectiveRouteTable`, a long-running operation (202, then the `Location` polled) that
the SDK's poller follows. It needs `Microsoft.Network/networkInterfaces/effectiveRouteTable/action`, which Reader
does not hold: a refusal (403) is an error of that subnet, and its GET-only reading stays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from enum import Enum
from typing import Any

from auditor.collect.clients import Clients
from auditor.collect.errors import READ_FAILURES, collection_error
from auditor.collect.lists import resource_group_of
from auditor.model import (
    EFFECTIVE_ROUTES,
    EffectiveRoute,
    NetworkInterface,
    PowerState,
    Resource,
    ResourceCategory,
    RouteTable,
    Subnet,
    SubnetRoutes,
    SubscriptionInventory,
    TenantInventory,
    VirtualNetwork,
)

log = logging.getLogger(__name__)
_NOT_RUNNING = (PowerState.STOPPED, PowerState.DEALLOCATED)


def subnets_learning_gateway_routes(
    subnets: Iterable[Subnet], vnets: Mapping[str, VirtualNetwork], tables: Mapping[str, RouteTable]
) -> list[Subnet]:
    """The subnets that may receive routes a gateway learns (VNets and route tables by lower-case id)."""
    found = []
    for subnet in subnets:
        vnet = vnets.get(subnet.subnet_id.lower().rpartition("/subnets/")[0])
        table = tables.get((subnet.route_table_id or "").lower())
        if vnet is not None and vnet.learns_gateway_routes(table):
            found.append(subnet)
    return found


def _running_nic(
    subnet: Subnet, machines: Sequence[Resource], interfaces: Mapping[str, NetworkInterface]
) -> str | None:
    """A NIC in the subnet of a VM that runs (or whose state the list does not say): Azure computes effective
    routes only for a NIC attached to a running VM. A running one first."""
    for machine in sorted(machines, key=lambda m: m.state is not PowerState.RUNNING):
        for nic_id in machine.nic_ids:
            nic = interfaces.get(nic_id.lower())
            if nic is not None and any(
                (c.subnet_id or "").lower() == subnet.subnet_id.lower() for c in nic.ip_configurations
            ):
                return nic.nic_id
    return None


def _routes(result: Any) -> tuple[EffectiveRoute, ...]:
    return tuple(
        EffectiveRoute(
            address_prefixes=tuple(str(p) for p in route.address_prefix or ()),
            next_hop_type=_text(route.next_hop_type),
            next_hop_ips=tuple(str(a) for a in route.next_hop_ip_address or ()),
            source=_text(route.source),
            state=_text(route.state),
        )
        for route in result.value or ()
    )


def _text(value: Any) -> str:
    """A field the SDK gives as one of its enums where it knows the value, else as Azure's text."""
    return str(value.value if isinstance(value, Enum) else value or "")


def _read(clients: Clients, subnet: Subnet, nic_id: str | None) -> SubnetRoutes:
    if nic_id is None:
        return SubnetRoutes(subnet.subnet_id, "", None)  # no running VM's NIC to read them from
    request = f"POST {nic_id}/effectiveRouteTable"
    try:
        poller = clients.network.network_interfaces.begin_get_effective_route_table(
            resource_group_of(nic_id), nic_id.rstrip("/").rsplit("/", 1)[-1]
        )
        return SubnetRoutes(subnet.subnet_id, nic_id, _routes(poller.result()))
    except READ_FAILURES as err:
        error = collection_error(EFFECTIVE_ROUTES, request, err)
        log.warning("could not read %s (subnet %s)", error.describe(), subnet.name)
        return SubnetRoutes(subnet.subnet_id, nic_id, None, error)


def _wanted(item: SubscriptionInventory) -> list[tuple[Subnet, str | None]]:
    network = item.network
    vnets = {v.vnet_id.lower(): v for v in network.virtual_networks}
    tables = {t.route_table_id.lower(): t for t in network.route_tables}
    interfaces = {n.nic_id.lower(): n for n in network.interfaces}
    machines = [
        r
        for r in item.resources
        if r.category is ResourceCategory.VIRTUAL_MACHINE
        and r.state not in (PowerState.STOPPED, PowerState.DEALLOCATED)
    ]
    return [
        (subnet, _running_nic(subnet, machines, interfaces))
        for subnet in subnets_learning_gateway_routes(network.subnets, vnets, tables)
    ]


def with_effective_routes(
    inventory: TenantInventory, clients_of: Callable[[str], Clients], max_workers: int
) -> TenantInventory:
    """The inventory with each subnet's effective routes where it may learn gateway routes and has a running VM's
    NIC; a read that fails is an error of its subscription (the audit is incomplete) and of that subnet."""
    jobs = [(index, subnet, nic) for index, item in enumerate(inventory.subscriptions) for subnet, nic in _wanted(item)]
    if not jobs:
        return inventory
    clients = {index: clients_of(inventory.subscriptions[index].subscription.subscription_id) for index, _, _ in jobs}
    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="port25-routes") as pool:
        read = list(pool.map(lambda job: _read(clients[job[0]], job[1], job[2]), jobs))
    subscriptions = list(inventory.subscriptions)
    for (index, _, _), routes in zip(jobs, read, strict=True):
        item = subscriptions[index]
        network = replace(item.network, effective_routes=(*item.network.effective_routes, routes))
        errors = (*item.errors, routes.error) if routes.error is not None else item.errors
        subscriptions[index] = replace(item, network=network, errors=errors)
    return replace(inventory, subscriptions=tuple(subscriptions))
