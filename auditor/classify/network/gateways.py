"""Routes a subnet may learn from a virtual network gateway, which no GET shows.

A VPN or ExpressRoute gateway propagates the routes it learns from on-premises (BGP, or a VPN's local network
address space) to every subnet of its VNet, and of the VNets that peer with it using `useRemoteGateways` (gateway
transit), unless the subnet's route table turns gateway route propagation off ("Virtual network traffic
routing": "Border gateway protocol"; a user-defined route for the same prefix wins over a BGP one). A default
route from on-premises would send internet traffic there. Without `--effective-routes` the reason says so; with
it, the effective route table Azure applies in the subnet (read from one running NIC in it) decides.
"""

from __future__ import annotations

from auditor.classify.listing import capped
from auditor.classify.network.index import NetworkIndex, vnet_of
from auditor.classify.network.path import HopKind, NetworkPath, Step, undetermined
from auditor.classify.network.routing import Router, Traffic
from auditor.model import EffectiveRoute, Route, RouteTable, Subnet, SubnetRoutes, VirtualNetwork, name_of

DEFAULT_ROUTE = "0.0.0.0/0"


class GatewayRoutes:
    def __init__(self, index: NetworkIndex, router: Router) -> None:
        self._index = index
        self._router = router

    def path(self, subnet: Subnet, table: RouteTable | None, traffic: Traffic) -> NetworkPath | Step | None:
        """For a subnet with no user-defined route for the internet: the path its effective routes give (a
        NetworkPath), or a step to say before its outbound (the effective routes send the internet to the Internet,
        or a gateway's routes may change that and were not read); None where no gateway's routes reach it."""
        vnet = self._index.networks.get(vnet_of(subnet.subnet_id))
        if vnet is None or not vnet.learns_gateway_routes(table):
            return None
        read = self._index.effective_routes.get(subnet.subnet_id.lower())
        if read is None or read.routes is None:
            return self._unread(subnet, vnet, read)
        return self._effective(read, read.routes, traffic)

    def _effective(
        self, read: SubnetRoutes, routes: tuple[EffectiveRoute, ...], traffic: Traffic
    ) -> NetworkPath | Step:
        nic = read.nic_id.rstrip("/").rsplit("/", 1)[-1]
        internet = next(
            (r for r in routes if DEFAULT_ROUTE in r.address_prefixes and r.state.strip().lower() in ("active", "")),
            None,
        )
        where = f"The effective route table of NIC {nic} (read with --effective-routes)"
        if internet is None:
            return undetermined(
                traffic.reason.then(
                    Step(HopKind.ROUTE, f"{where} has no active route for {DEFAULT_ROUTE}", read.nic_id)
                )
            )
        said = f"{where} sends {DEFAULT_ROUTE} to {internet.next_hop_type}" + (
            f" (source {internet.source})" if internet.source else ""
        )
        if internet.next_hop_type.strip().lower() == "internet":
            return Step(HopKind.ROUTE, f"{said}: no route from a gateway takes it", read.nic_id)
        route = Route(
            f"{DEFAULT_ROUTE} ({internet.source or 'effective'})",
            DEFAULT_ROUTE,
            internet.next_hop_type,
            internet.next_hop_ips[0] if internet.next_hop_ips else None,
        )
        path = self._router.followed(said, route, traffic)
        reason = path.reason.deciding_as(HopKind.ROUTE, read.nic_id)
        return NetworkPath(path.egress, path.outcome, reason, path.firewall, path.via, path.where)

    def _unread(self, subnet: Subnet, vnet: VirtualNetwork, read: SubnetRoutes | None) -> Step:
        sources = [f"VNet {vnet.name} has virtual network gateway {name_of(g)}" for g in vnet.gateway_ids]
        sources += [
            f"its peering {p.name} uses the gateway of VNet {name_of(p.remote_vnet_id)} (gateway transit)"
            for p in vnet.remote_gateways
        ]
        said = (
            f"Subnet {subnet.name} may learn a default route from on-premises that no GET shows: "
            f"{'; '.join(capped(sources, 'gateways'))}, and its route table does not turn gateway route propagation "
            "off"
        )
        if read is None:
            said += " (--effective-routes reads the routes Azure applies)"
        elif read.error is not None:
            said += f"; its effective route table could not be read ({read.error.headline()})"
        else:
            said += "; --effective-routes found no NIC of a running VM in it to read them from"
        gateway = vnet.gateway_ids[0] if vnet.gateway_ids else vnet.remote_gateways[0].remote_vnet_id
        return Step(HopKind.GATEWAY, said, gateway)
