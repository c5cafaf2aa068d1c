"""Build small test-proxy recordings in tests, in the same format as fixtures/*.json."""

from __future__ import annotations

import json
from typing import Any

from auditor.collect.replay import ReplayTransport, parse_recording

ARM = "https://management.azure.com"


def entry(
    path: str,
    body: Any,
    status: int = 200,
    method: str = "GET",
    query: str = "api-version=2024-01-01",
    headers: dict[str, str] | None = None,
    request_body: Any = None,
) -> dict[str, Any]:
    return {
        "RequestUri": f"{ARM}{path}" + (f"?{query}" if query else ""),
        "RequestMethod": method,
        "RequestHeaders": {},
        "RequestBody": None if request_body is None else json.dumps(request_body),
        "StatusCode": status,
        "ResponseHeaders": {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        "ResponseBody": body,
    }


def transport(*entries: dict[str, Any]) -> ReplayTransport:
    return ReplayTransport(parse_recording({"Entries": list(entries)}, "test recording"))


def vm_payload(subscription_id: str, name: str) -> dict[str, Any]:
    """A minimal ARM virtual machine, as VirtualMachines_ListAll returns it."""
    return {
        "id": f"/subscriptions/{subscription_id}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{name}",
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": "westeurope",
        "properties": {},
    }


def subscription_entries(subscription_id: str, **bodies: dict[str, Any]) -> list[dict[str, Any]]:
    """An entry for every list the collector reads in a subscription: the body given by provider type, else empty.

    Pass bodies by provider type with '/' and '.' as '_': Microsoft_Compute_virtualMachines={"value": [...]}.
    A body of None leaves that list out of the recording.
    """
    from fixtures.arm_payloads import LISTS

    entries = []
    for provider_type, _ in LISTS.values():
        body = bodies.get(provider_type.replace("/", "_").replace(".", "_"), {"value": []})
        if body is not None:
            entries.append(entry(f"/subscriptions/{subscription_id}/providers/{provider_type}", body))
    return entries
