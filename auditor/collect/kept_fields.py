"""What a scrubbed recording keeps of each answer: the fields port25-audit reads, list by list (an allow-list).

Everything else in a body is dropped: a secret under a field no one thought of (an app setting, a connection
string, a header a firewall inserts, a SAS URL in a description) is never kept. The fields kept have their values
replaced by the scrubber where they name the tenant (`scrub.py`).

A spec is a mapping of field name to `KEEP` (a value, or a list of values) or to the spec of the object it holds
(applied to each object of a list). `tests/test_record.py` checks that a scrubbed recording of the bundled tenant,
and of a tenant with every field the converters read, replays to the same findings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from auditor.collect.network import NETWORK_RULE_LISTS

KEEP = "keep"
GRAPH_ROWS = "graph rows"  # Resource Graph's rows: each kept as its own type's spec says
TAGS = "tags"  # a resource's tags: every name kept, with its value (which the scrubber replaces)
Spec = Mapping[str, Any]

_ID: Spec = {"id": KEEP}
_RESOURCE: Spec = {
    "id": KEEP,
    "name": KEEP,
    "type": KEEP,
    "kind": KEEP,
    "location": KEEP,
    "sku": {"name": KEEP, "tier": KEEP},
    "tags": TAGS,  # exceptions match them, --tag reports them; the scrubber replaces every value
}
_ERROR: Spec = {"error": {"code": KEEP, "message": KEEP}}

_IP_CONFIGURATION: Spec = {
    "id": KEEP,
    "name": KEEP,
    "properties": {
        "primary": KEEP,
        "subnet": _ID,
        "privateIPAddress": KEEP,
        "privateIPAddressVersion": KEEP,
        "publicIPAddress": _ID,
        "publicIPAddressConfiguration": {"name": KEEP},
        "loadBalancerBackendAddressPools": _ID,
        "applicationSecurityGroups": _ID,
    },
}
_INTERFACE: Spec = {
    **_RESOURCE,
    "properties": {"primary": KEEP, "networkSecurityGroup": _ID, "ipConfigurations": _IP_CONFIGURATION},
}
_ROUTING: Spec = {
    "outboundVnetRouting": {"applicationTraffic": KEEP, "allTraffic": KEEP},
    "vnetRouteAllEnabled": KEEP,
    "siteConfig": {"vnetRouteAllEnabled": KEEP},
}
_SITE: Spec = {
    **_RESOURCE,
    "properties": {
        **_ROUTING,
        "state": KEEP,
        "virtualNetworkSubnetId": KEEP,
        "hostingEnvironmentProfile": _ID,
    },
}
_NETWORK_RULE: Spec = {name: KEEP for name in ("name", "ruleType", *NETWORK_RULE_LISTS)}
_SECURITY_RULE: Spec = {
    "id": KEEP,
    "name": KEEP,
    "properties": {
        **{
            name: KEEP
            for name in (
                "priority", "direction", "access", "protocol", "sourceAddressPrefix", "sourceAddressPrefixes",
                "destinationAddressPrefix", "destinationAddressPrefixes", "sourcePortRange", "sourcePortRanges",
                "destinationPortRange", "destinationPortRanges",
            )
        },
        "sourceApplicationSecurityGroups": _ID,
        "destinationApplicationSecurityGroups": _ID,
    },
}  # fmt: skip
_PAGED = {"nextLink": KEEP}

# Each list a subscription is read from, by its resource type (lower case): the spec of one item.
ITEMS_BY_TYPE: dict[str, Spec] = {
    "microsoft.compute/virtualmachines": {
        **_RESOURCE,
        "properties": {
            "networkProfile": {"networkInterfaces": {"id": KEEP, "properties": {"primary": KEEP}}},
            "virtualMachineScaleSet": _ID,
            "timeCreated": KEEP,
            "instanceView": {"statuses": {"code": KEEP}},
            "extended": {"instanceView": {"powerState": {"code": KEEP}}},  # Resource Graph's rows
        },
    },
    "microsoft.compute/virtualmachinescalesets": {
        **_RESOURCE,
        "properties": {
            "orchestrationMode": KEEP,
            "virtualMachineProfile": {
                "networkProfile": {
                    "networkInterfaceConfigurations": {
                        "name": KEEP,
                        "properties": {
                            "primary": KEEP,
                            "networkSecurityGroup": _ID,
                            "ipConfigurations": _IP_CONFIGURATION,
                        },
                    }
                }
            },
        },
    },
    "microsoft.web/sites": _SITE,
    "microsoft.web/sites/slots": _SITE,
    "microsoft.web/hostingenvironments": {**_RESOURCE, "properties": {"virtualNetwork": _ID}},
    "microsoft.network/azurefirewalls": {
        **_RESOURCE,
        "properties": {
            "sku": {"name": KEEP, "tier": KEEP},
            "ipConfigurations": _IP_CONFIGURATION,
            "managementIpConfiguration": {"id": KEEP, "name": KEEP},
            "hubIPAddresses": {"privateIPAddress": KEEP, "publicIPs": {"addresses": {"address": KEEP}, "count": KEEP}},
            "virtualHub": _ID,
            "firewallPolicy": _ID,
            "networkRuleCollections": {
                "id": KEEP,
                "name": KEEP,
                "properties": {"priority": KEEP, "action": {"type": KEEP}, "rules": _NETWORK_RULE},
            },
            "additionalProperties": {"Network.SNAT.PrivateRanges": KEEP},
        },
    },
    "microsoft.app/containerapps": _RESOURCE,
    "microsoft.containerinstance/containergroups": _RESOURCE,
    "microsoft.network/networkinterfaces": _INTERFACE,
    "microsoft.network/publicipaddresses": {
        **_RESOURCE,
        "properties": {"ipAddress": KEEP, "publicIPAddressVersion": KEEP},
    },
    "microsoft.network/networksecuritygroups": {
        **_RESOURCE,
        "properties": {"securityRules": _SECURITY_RULE, "defaultSecurityRules": _SECURITY_RULE},
    },
    "microsoft.network/routetables": {
        **_RESOURCE,
        "properties": {
            "disableBgpRoutePropagation": KEEP,
            "routes": {
                "id": KEEP,
                "name": KEEP,
                "properties": {"addressPrefix": KEEP, "nextHopType": KEEP, "nextHopIpAddress": KEEP},
            },
        },
    },
    "microsoft.network/virtualnetworks": {
        **_RESOURCE,
        "properties": {
            "addressSpace": {"addressPrefixes": KEEP},
            "virtualNetworkPeerings": {
                "id": KEEP,
                "name": KEEP,
                "properties": {
                    "peeringState": KEEP,
                    "remoteVirtualNetwork": _ID,
                    "useRemoteGateways": KEEP,
                    "allowGatewayTransit": KEEP,
                },
            },
            "subnets": {
                "id": KEEP,
                "name": KEEP,
                "properties": {
                    "addressPrefix": KEEP,
                    "addressPrefixes": KEEP,
                    "networkSecurityGroup": _ID,
                    "routeTable": _ID,
                    "natGateway": _ID,
                    "defaultOutboundAccess": KEEP,
                    "ipConfigurations": _ID,  # a GatewaySubnet's name the virtual network gateways in it
                },
            },
        },
    },
    "microsoft.network/natgateways": _RESOURCE,
    "microsoft.network/loadbalancers": {
        **_RESOURCE,
        "properties": {
            "frontendIPConfigurations": {"id": KEEP, "properties": {"publicIPAddress": _ID, "publicIPPrefix": _ID}},
            "backendAddressPools": _ID,
            "outboundRules": {"id": KEEP, "properties": {"backendAddressPool": _ID, "protocol": KEEP}},
            "loadBalancingRules": {
                "id": KEEP,
                "properties": {
                    "frontendIPConfiguration": _ID,
                    "disableOutboundSnat": KEEP,
                    "backendAddressPool": _ID,
                    "backendAddressPools": _ID,
                    "protocol": KEEP,
                },
            },
        },
    },
    "microsoft.network/firewallpolicies": {
        **_RESOURCE,
        "properties": {
            "basePolicy": _ID,
            "sku": {"tier": KEEP},
            "snat": {"privateRanges": KEEP, "autoLearnPrivateRanges": KEEP},
        },
    },
    "microsoft.network/ipgroups": {**_RESOURCE, "properties": {"ipAddresses": KEEP}},
    "microsoft.network/virtualhubs": _RESOURCE,
}

# The lists under an item, by the path's last segment (lower case).
_RULE_COLLECTION_GROUP: Spec = {
    **_RESOURCE,
    "properties": {
        "priority": KEEP,
        "ruleCollections": {
            "ruleCollectionType": KEEP,
            "name": KEEP,
            "priority": KEEP,
            "action": {"type": KEEP},
            "rules": _NETWORK_RULE,
        },
    },
}
_CHILD_ITEMS: dict[str, Spec] = {
    "slots": _SITE,
    "rulecollectiongroups": _RULE_COLLECTION_GROUP,
    "hubvirtualnetworkconnections": {
        **_RESOURCE,
        "properties": {
            "remoteVirtualNetwork": _ID,
            "enableInternetSecurity": KEEP,
            "routingConfiguration": {"associatedRouteTable": _ID},
        },
    },
    "routingintent": {
        **_RESOURCE,
        "properties": {"routingPolicies": {"name": KEEP, "destinations": KEEP, "nextHop": KEEP}},
    },
    "hubroutetables": {
        **_RESOURCE,
        "properties": {
            "routes": {
                "name": KEEP,
                "destinationType": KEEP,
                "destinations": KEEP,
                "nextHopType": KEEP,
                "nextHop": KEEP,
            },
        },
    },
    "billingaccounts": {
        "id": KEEP,
        "name": KEEP,
        "properties": {"agreementType": KEEP, "accountType": KEEP, "displayName": KEEP},
    },
    "billingsubscriptions": {
        "id": KEEP,
        "name": KEEP,
        "properties": {"subscriptionId": KEEP, "skuId": KEEP, "offerId": KEEP},
    },
    "descendants": {"id": KEEP, "name": KEEP, "type": KEEP, "properties": {"displayName": KEEP, "parent": _ID}},
}
_SUBSCRIPTION: Spec = {
    "id": KEEP,
    "subscriptionId": KEEP,
    "displayName": KEEP,
    "state": KEEP,
    "tenantId": KEEP,
    "subscriptionPolicies": {"quotaId": KEEP},
}
_CONFIG_WEB: Spec = {"id": KEEP, "name": KEEP, "type": KEEP, "properties": _ROUTING}
_GRAPH_ROW_COMMON = {"subscriptionId": KEEP, "resourceGroup": KEEP, "tenantId": KEEP}
_GRAPH_PAGE = {"totalRecords": KEEP, "count": KEEP, "resultTruncated": KEEP, "$skipToken": KEEP, "facets": KEEP}

# A NIC's effective route table (--effective-routes), as the POST or its polled operation answers it.
_EFFECTIVE_ROUTES: Spec = {
    "value": {"addressPrefix": KEEP, "nextHopType": KEEP, "nextHopIpAddress": KEEP, "source": KEEP, "state": KEEP},
    "status": KEEP,
    **_PAGED,
}
_OPERATION_POLL = re.compile(r"/(operationresults|operations)/[^/]+$", re.IGNORECASE)

_SUBSCRIPTION_LIST = re.compile(r"^/subscriptions/?$", re.IGNORECASE)
_PROVIDER_LIST = re.compile(r"^/subscriptions/[^/]+/providers/([^/]+/[^/]+)/?$", re.IGNORECASE)


def page_of(item: Spec) -> Spec:
    return {"value": item, **_PAGED}


def body_spec(method: str, path: str, status: int) -> Spec | None:
    """What of an answer a scrubbed recording keeps; None: nothing (no list port25-audit reads)."""
    if status != 200:
        return _ERROR
    lowered = path.rstrip("/").lower()
    if method.upper() == "POST":
        if lowered.endswith("/effectiveroutetable"):
            return _EFFECTIVE_ROUTES
        return {"data": GRAPH_ROWS, **_GRAPH_PAGE} if lowered.endswith("/microsoft.resourcegraph/resources") else None
    if _OPERATION_POLL.search(lowered):
        return _EFFECTIVE_ROUTES  # the only long-running operation port25-audit polls
    if _SUBSCRIPTION_LIST.match(lowered):
        return page_of(_SUBSCRIPTION)
    listed = _PROVIDER_LIST.match(lowered)
    if listed:
        item = ITEMS_BY_TYPE.get(listed.group(1))
        return page_of(item) if item is not None else None
    if lowered.endswith("/config/web"):
        return _CONFIG_WEB
    child = _CHILD_ITEMS.get(lowered.rsplit("/", 1)[-1])
    return page_of(child) if child is not None else None


def graph_row_spec(row: Any) -> Spec:
    """A Resource Graph row: its type's spec (Graph lower-cases types) with the columns Graph adds."""
    kind = str(row.get("type") or "").lower() if isinstance(row, Mapping) else ""
    return {**ITEMS_BY_TYPE.get(kind, {"id": KEEP, "type": KEEP}), **_GRAPH_ROW_COMMON}
