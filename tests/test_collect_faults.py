"""Lists that fail are recorded for their subscription and the run goes on (issue 6 widens this matrix)."""

from __future__ import annotations

from auditor.collect.arm import ArmCollector
from auditor.collect.replay import ReplayCredential
from auditor.model import ResourceCategory, Subscription, SubscriptionInventory
from tests.recordings import entry, subscription_entries, transport, vm_payload

SUB = "00000000-0000-0000-0000-0000000000bb"
BASE = f"/subscriptions/{SUB}/providers"
SUBSCRIPTION = Subscription(SUB, "faults", "Enabled", "t", "PayAsYouGo_2014-09-01")


def _collect(overrides: dict[str, dict[str, object]]) -> tuple[SubscriptionInventory, list[tuple[str, str]]]:
    defaults = [
        e
        for e in subscription_entries(SUB)
        if e["RequestUri"].split("?")[0].rsplit("/providers/", 1)[1] not in overrides
    ]
    replay = transport(*defaults, *overrides.values())
    inventory = ArmCollector(ReplayCredential(), replay).collect_subscription(SUBSCRIPTION)
    return inventory, replay.sent


def test_unregistered_provider_is_recorded_and_nothing_is_registered() -> None:
    not_registered = {
        "error": {
            "code": "MissingSubscriptionRegistration",
            "message": "The subscription is not registered to use namespace 'Microsoft.Web'.",
        }
    }
    inventory, sent = _collect(
        {"Microsoft.Web/sites": entry(f"{BASE}/Microsoft.Web/sites", not_registered, status=409)}
    )
    (error,) = inventory.errors
    assert error.operation == "sites" and error.code == "ProviderNotRegistered"
    assert "not registered" in error.message and "only reads" in error.message
    assert {method for method, _ in sent} == {"GET"}  # the SDK's POST .../register never left the transport


def test_a_page_that_is_not_json_is_an_error_for_that_list_only() -> None:
    vm = vm_payload(SUB, "a")
    inventory, _ = _collect(
        {
            "Microsoft.Web/sites": entry(f"{BASE}/Microsoft.Web/sites", "<html>gateway error</html>"),
            "Microsoft.Compute/virtualMachines": entry(f"{BASE}/Microsoft.Compute/virtualMachines", {"value": [vm]}),
        }
    )
    (error,) = inventory.errors
    assert error.operation == "sites" and error.request.startswith(
        f"GET /subscriptions/{SUB}/providers/Microsoft.Web/sites"
    )
    assert [r.category for r in inventory.resources] == [ResourceCategory.VIRTUAL_MACHINE]


def test_a_second_page_that_fails_keeps_the_first() -> None:
    vm = vm_payload(SUB, "a")
    first = {
        "value": [vm],
        "nextLink": f"https://management.azure.com{BASE}/Microsoft.Compute/virtualMachines?$skiptoken=2",
    }
    inventory, _ = _collect(
        {"Microsoft.Compute/virtualMachines": entry(f"{BASE}/Microsoft.Compute/virtualMachines", first)}
    )
    (error,) = inventory.errors
    assert error.code == "NotRecorded" and "skiptoken=2" in error.request
    assert [r.name for r in inventory.resources] == ["a"]
