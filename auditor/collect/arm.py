"""Collect through Azure Resource Manager list calls, one subscription at a time.

The only module that reads SDK models: each is turned into a `auditor.model` type here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, HttpResponseError
from azure.core.pipeline.transport import HttpTransport
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient
from azure.mgmt.web import WebSiteManagementClient

from auditor.collect import network as net
from auditor.collect.interface import Collector
from auditor.collect.replay import RecordingMiss
from auditor.collect.transport import WriteRefused
from auditor.model import (
    AppNetworking,
    AppServiceEnvironment,
    CollectionError,
    NetworkInventory,
    Resource,
    ResourceCategory,
    Subscription,
    SubscriptionInventory,
    TenantInventory,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Every failure a single list can meet: an HTTP error, a transport fault, a body that is not JSON
# (ValueError), a refused write, or a request the recording does not hold.
READ_FAILURES = (AzureError, ValueError, WriteRefused, RecordingMiss)

_RESOURCE_GROUP = re.compile(r"/resourceGroups/([^/]+)", re.IGNORECASE)
_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)
NET = "providers/Microsoft.Network"


def resource_group_of(resource_id: str) -> str:
    match = _RESOURCE_GROUP.search(resource_id)
    return match.group(1) if match else ""


def subscription_of(resource_id: str) -> str:
    match = _SUBSCRIPTION.search(resource_id)
    return match.group(1).lower() if match else ""


def collection_error(operation: str, request: str, err: BaseException) -> CollectionError:
    if isinstance(err, HttpResponseError):
        status = err.status_code
        code = getattr(err.error, "code", None) or ""
        message = getattr(err.error, "message", None) or err.reason or str(err)
        url = getattr(getattr(err.response, "request", None), "url", None)
        if url:
            request = f"{err.response.request.method} {_path_and_query(url)}"  # type: ignore[union-attr]
        return CollectionError(operation, request, _one_line(message), status, code)
    if isinstance(err, WriteRefused) and err.url.split("?")[0].lower().endswith("/register"):
        return CollectionError(
            operation,
            request,
            "the resource provider is not registered in this subscription and the SDK asked to register it; "
            "port25-audit only reads, so it did not (register the provider, or ignore this list if nothing uses it)",
            409,
            "ProviderNotRegistered",
        )
    if isinstance(err, RecordingMiss):
        return CollectionError(
            operation,
            f"{err.method} {_path_and_query(err.url)}",
            "the recording has no entry for this request",
            None,
            "NotRecorded",
        )
    return CollectionError(operation, request, _one_line(str(err)) or type(err).__name__, None, type(err).__name__)


def _path_and_query(url: str) -> str:
    match = re.match(r"^[a-z]+://[^/]+(.*)$", url, re.IGNORECASE)
    return match.group(1) if match else url


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _read_all(operation: str, request: str, pages: Callable[[], Iterable[T]]) -> tuple[list[T], CollectionError | None]:
    """Every item of a paged list; on failure, what was read before it and the error."""
    items: list[T] = []
    try:
        for item in pages():
            items.append(item)
    except READ_FAILURES as err:
        error = collection_error(operation, request, err)
        log.warning("could not read %s", error.describe())
        return items, error
    return items, None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _subscription(sdk: Any) -> Subscription:
    policies = sdk.subscription_policies
    return Subscription(
        subscription_id=_text(sdk.subscription_id).lower(),
        display_name=_text(sdk.display_name),
        state=_text(getattr(sdk.state, "value", sdk.state)),
        tenant_id=_text(sdk.tenant_id),
        quota_id=(policies.quota_id if policies is not None else None) or None,
    )


def _resource(sdk: Any, subscription_id: str, category: ResourceCategory, app: AppNetworking | None = None) -> Resource:
    resource_id = _text(sdk.id)
    properties = getattr(sdk, "properties", None)
    return Resource(
        resource_id=resource_id,
        name=_text(sdk.name),
        resource_type=_text(sdk.type),
        kind=_text(getattr(sdk, "kind", None)),
        location=_text(sdk.location),
        resource_group=resource_group_of(resource_id),
        subscription_id=subscription_id,
        category=category,
        app=app,
        nic_ids=net.vm_interface_ids(properties) if category is ResourceCategory.VIRTUAL_MACHINE else (),
        nics=net.scale_set_interfaces(resource_id, properties) if category is ResourceCategory.SCALE_SET else (),
        firewall=net.firewall_networking(properties) if category is ResourceCategory.FIREWALL else None,
    )


def _environment(sdk: Any) -> AppServiceEnvironment:
    network = sdk.properties.get("virtualNetwork") if sdk.properties is not None else None
    return AppServiceEnvironment(
        environment_id=_text(sdk.id),
        name=_text(sdk.name),
        kind=_text(sdk.kind),
        subnet_id=(network.get("id") if isinstance(network, Mapping) else None) or None,
    )


def routes_app_traffic(site_properties: Any) -> bool | None:
    """Whether the app's own outbound traffic is routed into its integration VNet; None when the site does not say.

    Current API versions: `outboundVnetRouting.applicationTraffic` / `.allTraffic`.
    Older ones: `vnetRouteAllEnabled` on the site or on its `siteConfig`.
    """
    if site_properties is None:
        return None
    routing = site_properties.get("outboundVnetRouting")
    legacy = [
        site_properties.get("vnetRouteAllEnabled"),
        (site_properties.get("siteConfig") or {}).get("vnetRouteAllEnabled"),
    ]
    flags = [routing.get("applicationTraffic"), routing.get("allTraffic")] if isinstance(routing, Mapping) else []
    if any(flag is True for flag in flags + legacy):
        return True
    if any(flag is False for flag in flags + legacy):
        return False
    return None


def _app_networking(properties: Any) -> AppNetworking:
    profile = properties.get("hostingEnvironmentProfile") if properties is not None else None
    return AppNetworking(
        subnet_id=(properties.get("virtualNetworkSubnetId") if properties is not None else None) or None,
        routes_app_traffic=routes_app_traffic(properties),
        environment_id=(profile.get("id") if isinstance(profile, Mapping) else None) or None,
    )


class ArmCollector(Collector):
    """Reads every subscription through the management SDK clients, over one shared transport."""

    def __init__(
        self, credential: TokenCredential, transport: HttpTransport | None = None, base_url: str | None = None
    ) -> None:
        self._credential = credential
        self._options: dict[str, Any] = {}
        if transport is not None:
            self._options["transport"] = transport
        if base_url is not None:
            self._options["base_url"] = base_url

    def collect(self, scope: Sequence[str] = ()) -> TenantInventory:
        client = SubscriptionClient(self._credential, **self._options)
        subscriptions, error = _read_all(
            "subscriptions", "GET /subscriptions", lambda: map(_subscription, client.subscriptions.list())
        )
        if error is not None:
            return TenantInventory(subscriptions=tuple(self._unreadable(scope)), errors=(error,))
        wanted = {s.lower() for s in scope}
        chosen = [s for s in subscriptions if not wanted or s.subscription_id in wanted]
        missing = sorted(wanted - {s.subscription_id for s in subscriptions})
        inventories = [self.collect_subscription(s) for s in chosen]
        inventories += self._unreadable(missing)
        return TenantInventory(subscriptions=tuple(inventories))

    @staticmethod
    def _unreadable(subscription_ids: Iterable[str]) -> Iterator[SubscriptionInventory]:
        for subscription_id in subscription_ids:
            subscription = Subscription(subscription_id.lower(), "", "Unknown", "", None)
            error = CollectionError(
                "subscriptions",
                "GET /subscriptions",
                "the subscription is not in the list of subscriptions the signed-in identity can see",
                None,
                "NotVisible",
            )
            log.warning("could not read subscription %s: %s", subscription_id, error.message)
            yield SubscriptionInventory(subscription, errors=(error,))

    def collect_subscription(self, subscription: Subscription) -> SubscriptionInventory:
        sub_id = subscription.subscription_id
        compute = ComputeManagementClient(self._credential, sub_id, **self._options)
        network = NetworkManagementClient(self._credential, sub_id, **self._options)
        web = WebSiteManagementClient(self._credential, sub_id, **self._options)
        prefix = f"GET /subscriptions/{sub_id}"
        errors: list[CollectionError] = []
        resources: list[Resource] = []

        def read(operation: str, path: str, pages: Callable[[], Iterable[T]]) -> list[T]:
            items, error = _read_all(operation, f"{prefix}/{path}", pages)
            if error is not None:
                errors.append(error)
            return items

        for vm in read(
            "virtualMachines", "providers/Microsoft.Compute/virtualMachines", compute.virtual_machines.list_all
        ):
            resources.append(_resource(vm, sub_id, ResourceCategory.VIRTUAL_MACHINE))
        for vmss in read(
            "virtualMachineScaleSets",
            "providers/Microsoft.Compute/virtualMachineScaleSets",
            compute.virtual_machine_scale_sets.list_all,
        ):
            resources.append(_resource(vmss, sub_id, ResourceCategory.SCALE_SET))
        for site in read("sites", "providers/Microsoft.Web/sites", web.web_apps.list):
            app = _app_networking(site.properties)
            if app.subnet_id and app.routes_app_traffic is None:
                app = self._routing_from_site_config(web, site, app, read)
            resources.append(_resource(site, sub_id, ResourceCategory.APP_SERVICE, app))
        environments = [
            _environment(ase)
            for ase in read(
                "hostingEnvironments", "providers/Microsoft.Web/hostingEnvironments", web.app_service_environments.list
            )
        ]
        for firewall in read(
            "azureFirewalls", "providers/Microsoft.Network/azureFirewalls", network.azure_firewalls.list_all
        ):
            resources.append(_resource(firewall, sub_id, ResourceCategory.FIREWALL))
        networking = NetworkInventory(
            interfaces=tuple(
                map(
                    net.network_interface,
                    read("networkInterfaces", f"{NET}/networkInterfaces", network.network_interfaces.list_all),
                )
            ),
            public_ips=tuple(
                map(
                    net.public_ip,
                    read("publicIPAddresses", f"{NET}/publicIPAddresses", network.public_ip_addresses.list_all),
                )
            ),
            security_groups=tuple(
                map(
                    net.security_group,
                    read(
                        "networkSecurityGroups",
                        f"{NET}/networkSecurityGroups",
                        network.network_security_groups.list_all,
                    ),
                )
            ),
            route_tables=tuple(
                map(net.route_table, read("routeTables", f"{NET}/routeTables", network.route_tables.list_all))
            ),
            subnets=tuple(
                subnet
                for vnet in read("virtualNetworks", f"{NET}/virtualNetworks", network.virtual_networks.list_all)
                for subnet in net.subnets(vnet)
            ),
            nat_gateways=tuple(
                map(net.nat_gateway, read("natGateways", f"{NET}/natGateways", network.nat_gateways.list_all))
            ),
            load_balancers=tuple(
                map(net.load_balancer, read("loadBalancers", f"{NET}/loadBalancers", network.load_balancers.list_all))
            ),
        )
        return SubscriptionInventory(subscription, tuple(resources), tuple(environments), tuple(errors), networking)

    @staticmethod
    def _routing_from_site_config(
        web: WebSiteManagementClient,
        site: Any,
        app: AppNetworking,
        read: Callable[[str, str, Callable[[], Iterable[Any]]], list[Any]],
    ) -> AppNetworking:
        """Older sites say whether they route all traffic only in `config/web` (`vnetRouteAllEnabled`)."""
        group, name = resource_group_of(_text(site.id)), _text(site.name)
        configs = read(
            f"sites/{name}/config/web",
            f"resourceGroups/{group}/providers/Microsoft.Web/sites/{name}/config/web",
            lambda: [web.web_apps.get_configuration(group, name)],
        )
        if not configs:
            return app
        return AppNetworking(app.subnet_id, routes_app_traffic(configs[0].properties), app.environment_id)
