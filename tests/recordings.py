"""Build small test-proxy recordings in tests, in the same format as fixtures/*.json."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.pipeline.transport import HttpTransport

from auditor.cli import CollectorFactory, Environment, main
from auditor.collect.factory import build_collector
from auditor.collect.interface import Collector
from auditor.collect.recipe import CollectorRecipe
from auditor.collect.replay import ReplayTransport, parse_recording
from auditor.model import (
    Assessment,
    Egress,
    Finding,
    Offer,
    OfferReading,
    PlatformPolicy,
    Resource,
    ResourceCategory,
    Ruleset,
    ScanMetadata,
    ScanResult,
    Subscription,
    SubscriptionLabel,
    SubscriptionSummary,
    Verdict,
)
from auditor.report.interface import Format
from auditor.status import ExitStatus

ARM = "https://management.azure.com"
# Every report format, for tests that check every report: a new format is in them without a change to any.
EVERY_FORMAT = ",".join(fmt.value for fmt in Format)


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
        if provider_type == "Microsoft.Web/sites" and body is not None:
            # each site's deployment slots: none
            entries += [entry(f"{site['id']}/slots", {"value": []}) for site in body.get("value") or []]
    return entries


def synthetic_result(n: int) -> ScanResult:
    """A scan result of `n` VMs over 20 Pay-As-You-Go subscriptions, every verdict in turn; no collection."""
    subscriptions = [
        Subscription(f"00000000-0000-0000-0000-{i:012d}", f"sub {i}", "Enabled", "t", "PayAsYouGo_2014-09-01")
        for i in range(20)
    ]
    findings = []
    for i in range(n):
        sub = subscriptions[i % 20]
        resource = Resource(
            f"/subscriptions/{sub.subscription_id}/resourceGroups/rg/providers/Microsoft.Compute/"
            f"virtualMachines/vm-{i}",
            f"vm-{i}",
            "Microsoft.Compute/virtualMachines",
            "",
            "westeurope",
            "rg",
            sub.subscription_id,
            ResourceCategory.VIRTUAL_MACHINE,
        )
        verdict = list(Verdict)[i % 5]
        findings.append(
            Finding(
                resource,
                SubscriptionLabel("t", sub.subscription_id, sub.display_name, "pay_as_you_go", "PayAsYouGo_2014-09-01"),
                Assessment(
                    PlatformPolicy.BLOCKED,
                    Egress.PUBLIC_IP,
                    verdict,
                    "CUR-OTHER",
                    "Every subscription type other than EA, MCA-E and Enterprise Dev/Test: TCP 25 is "
                    "blocked. Offer pay_as_you_go (Pay-As-You-Go (MS-AZR-0003P)), from quotaId "
                    "PayAsYouGo_2014-09-01. Outbound through public IP pip (20.0.0.1).",
                    "relay",
                ),
            )
        )
    summaries = [
        SubscriptionSummary(
            s,
            OfferReading(Offer.PAY_AS_YOU_GO, s.quota_id, "quotaId"),
            PlatformPolicy.BLOCKED,
            "CUR-OTHER",
            "relay",
            dict.fromkeys(Verdict, 0),
            (),
        )
        for s in subscriptions
    ]
    now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    return ScanResult(
        ScanMetadata("0", Ruleset.CURRENT, now, now, "synthetic", (), ()), tuple(findings), tuple(summaries)
    )


def run_cli(
    *argv: str, environ: Mapping[str, str] | None = None, collectors: CollectorFactory | None = None
) -> tuple[ExitStatus, str, str]:
    """The command line in-process: its exit status, stdout and stderr (environ: what it sees of the environment;
    collectors: how it builds the collector of a recipe, for a test that watches or faults the reading)."""
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err)
    if environ is not None:
        env = replace(env, environ=environ)
    if collectors is not None:
        env = replace(env, collectors=collectors)
    return main(list(argv), env), out.getvalue(), err.getvalue()


def with_parts(
    credential: Callable[[CollectorRecipe], TokenCredential] | None = None,
    transport: Callable[[CollectorRecipe], HttpTransport] | None = None,
) -> CollectorFactory:
    """A collector factory whose recipes get this credential or transport (each made from the recipe)."""

    def build(recipe: CollectorRecipe, processes: int) -> Collector:
        if credential is not None:
            recipe = replace(recipe, credential_factory=partial(credential, recipe))
        if transport is not None:
            recipe = replace(recipe, transport_factory=partial(transport, recipe))
        return build_collector(recipe, processes)

    return build
