"""How traffic that no route diverts leaves a subnet, in Azure's outbound precedence ("Default outbound access in
Azure", "Outbound connectivity"): a NAT gateway on the subnet, then the IP configuration's public IP, then a load
balancer's outbound SNAT, then default outbound access, which flexible-orchestration scale sets and private
subnets do not have."""

from __future__ import annotations

from auditor.classify.network.index import NetworkIndex
from auditor.classify.network.path import HopKind, Step
from auditor.model import Egress, IpConfiguration, ListName, Subnet


def outbound(  # noqa: PLR0911 (Azure's precedence, one return a way out, in its order)
    index: NetworkIndex,
    subnet: Subnet,
    configuration: IpConfiguration | None,
    is_app: bool,
    flexible_member: bool = False,
) -> tuple[Egress, Step]:
    """The way out and the step that says it (a missing step where a backend pool was not collected)."""
    if subnet.nat_gateway_id:
        name = subnet.nat_gateway_id.rsplit("/", 1)[-1]
        return _said(
            Egress.NAT_GATEWAY, f"Outbound through NAT gateway {name} on subnet {subnet.name}", subnet.nat_gateway_id
        )
    if is_app:
        return _said(
            Egress.DEFAULT_OUTBOUND,
            f"Outbound from App Service's own addresses (no NAT gateway on subnet {subnet.name})",
            subnet.subnet_id,
        )
    public = index.public_ips.get((configuration.public_ip_id or "").lower()) if configuration else None
    # "Default outbound access in Azure": a public IPv6 address gives no IPv4 way out; the next way out applies
    if configuration is not None and configuration.has_public_ip and not (public and public.ipv6):
        address = public.ip_address if public else None
        named = (configuration.public_ip_id or "").rsplit("/", 1)[-1] or "per-instance public IP"
        return _said(
            Egress.PUBLIC_IP,
            f"Outbound through public IP {named}" + (f" ({address})" if address else ""),
            configuration.public_ip_id or subnet.subnet_id,  # a scale set's per-instance IP has no id of its own
        )
    pools = [p.lower() for p in (configuration.backend_pool_ids if configuration else ())]
    balancers = [index.outbound_pools[p] for p in pools if p in index.outbound_pools]
    if balancers:
        pool = next(p for p in pools if p in index.outbound_pools)
        return _said(
            Egress.LOAD_BALANCER,
            f"Outbound through load balancer {balancers[0]} (outbound rule or SNAT)",
            pool.split("/backendaddresspools/")[0],
        )
    unknown_pools = [p for p in pools if p not in index.backend_pools]
    if unknown_pools:
        return Egress.UNKNOWN, index.missing("Load balancer backend pool", unknown_pools[0], ListName.LOAD_BALANCERS)
    if flexible_member:
        return _said(
            Egress.NONE,
            "No outbound path: Azure gives no default outbound access to flexible-orchestration scale sets or "
            f"their VMs, and subnet {subnet.name} has no NAT gateway, the NIC no public IP, no load balancer "
            "gives it outbound SNAT",
            subnet.subnet_id,
        )
    if subnet.default_outbound_access is not False:
        return _said(
            Egress.DEFAULT_OUTBOUND,
            f"Outbound through Azure's default outbound access (subnet {subnet.name})",
            subnet.subnet_id,
        )
    return _said(
        Egress.NONE,
        f"No outbound path: subnet {subnet.name} is private (defaultOutboundAccess false) and has "
        "no NAT gateway, the NIC no public IP, no load balancer gives it outbound SNAT",
        subnet.subnet_id,
    )


def _said(egress: Egress, text: str, object_id: str) -> tuple[Egress, Step]:
    return egress, Step(HopKind.OUTBOUND, text, object_id)
