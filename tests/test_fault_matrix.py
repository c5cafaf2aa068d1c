"""Issue 6's fault matrix, through the CLI in-process over recorded answers.

A tenant of two Pay-As-You-Go subscriptions, `steady` and `faulty`, one VM each. One list of `faulty` (or the
subscription list itself) meets a fault. For each fault: no traceback; a fault the SDK recovers from leaves the
audit complete; any other leaves `faulty` in every report, marked with what happened, `steady` complete, exit 2,
and one log line saying it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from auditor.cli import Environment, main
from auditor.collect.replay import ReplayTransport, parse_recording
from auditor.collect.session import RETRY_TOTAL
from auditor.status import ExitStatus
from fixtures.arm_payloads import (
    API,
    ARM,
    Recording,
    authorization_failed,
    headers,
    page,
    provider_path,
    sub_id,
    subscription,
    vm,
)
from tests.recordings import with_parts

STEADY, FAULTY = sub_id("steady"), sub_id("faulty")
VMS = "Microsoft.Compute/virtualMachines"
VMS_PATH = provider_path(FAULTY, VMS)
VMS_URL = f"{ARM}{VMS_PATH}?api-version={API['compute']}"

Answer = tuple[int, Any, dict[str, str]]


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


THROTTLED = _error("TooManyRequests", "The request is being throttled.")
OK_PAGE = page([vm(FAULTY, "rg", "vm-faulty")])


@dataclass(frozen=True)
class Fault:
    """What the faulty list answers, in order (the last repeating), and what the reports must then say."""

    answers: list[Answer] = field(default_factory=list)
    marked: str | None = None  # text the subscription's `collection` entry must hold; None: the SDK recovers
    subscription_list: bool = False  # the fault is on GET /subscriptions, not on a list of `faulty`
    raises: type[Exception] | None = None  # no answer at all: the connection fails this way
    vm_count: int = 1  # VMs `faulty` shows when the fault is recovered from
    kept: bool = False  # the page read before the fault struck stays in the reports
    state: str = "Enabled"
    skipped: str = ""  # the subscription is listed, not read, and `collection` says this (issue 17: states)


def _vms(count: int) -> dict[str, Any]:
    return page([vm(FAULTY, "rg", f"vm-faulty-{n}" if count > 1 else "vm-faulty") for n in range(count)])


FAULTS: dict[str, Fault] = {
    "401 on one list": Fault(
        [(401, _error("InvalidAuthenticationToken", "The access token is invalid."), {})], "HTTP 401"
    ),
    "403 on one list": Fault([(403, authorization_failed(FAULTY, f"{VMS}/read"), {})], "HTTP 403 AuthorizationFailed"),
    "401 on the subscription list": Fault(
        [(401, _error("InvalidAuthenticationToken", "The access token is invalid."), {})],
        "HTTP 401",
        subscription_list=True,
    ),
    "403 on the subscription list": Fault(
        [(403, _error("AuthorizationFailed", "The client has no authorization to list subscriptions."), {})],
        "HTTP 403",
        subscription_list=True,
    ),
    "404 provider not registered": Fault(
        [(404, _error("NoRegisteredProviderFound", "No registered resource provider found for location."), {})],
        "HTTP 404 NoRegisteredProviderFound",
    ),
    "409 subscription not found": Fault(
        [(409, _error("SubscriptionNotFound", f"The subscription '{FAULTY}' could not be found."), {})],
        "HTTP 409 SubscriptionNotFound",
    ),
    "429 burst with Retry-After, then 200": Fault([(429, THROTTLED, {"Retry-After": "2"})] * 3 + [(200, OK_PAGE, {})]),
    "429 burst without Retry-After, then 200": Fault([(429, THROTTLED, {})] * 3 + [(200, OK_PAGE, {})]),
    "429 that never ends": Fault([(429, THROTTLED, {"Retry-After": "1"})] * (RETRY_TOTAL + 2), "HTTP 429"),
    "500 then 200": Fault(
        [(500, _error("InternalServerError", "Encountered internal server error."), {}), (200, OK_PAGE, {})]
    ),
    "503 then 200": Fault([(503, _error("ServiceUnavailable", "The service is unavailable."), {}), (200, OK_PAGE, {})]),
    "connection error": Fault(marked="ServiceRequestError", raises=requests.exceptions.ConnectionError),
    "timeout": Fault(marked="ServiceResponse", raises=requests.exceptions.ReadTimeout),
    "malformed JSON": Fault([(200, '{"value": [ {"id": ', {})], "JSON is invalid"),
    "a body without value": Fault([(200, {"items": OK_PAGE["value"]}, {})], "no 'value' list"),
    "value that is not a list": Fault([(200, {"value": None}, {})], "no 'value' list"),
    "nextLink back to the same page": Fault(
        [(200, {**OK_PAGE, "nextLink": VMS_URL}, {})], "led back to a page", kept=True
    ),
    "empty page, then a full one": Fault(),  # recorded in _recording: page 1 empty, its nextLink page 2
    "10,000 items on one page": Fault([(200, _vms(10_000), {})], vm_count=10_000),
    "unknown enum values and missing optional fields": Fault(),  # recorded in _recording
    # "Azure subscription states": a Disabled subscription's VMs are deallocated; listed, not read (issue 17)
    "disabled subscription": Fault(state="Disabled", vm_count=0, skipped="not audited: its state is Disabled"),
    "warned subscription": Fault(state="Warned"),
}


def _recording(name: str, fault: Fault) -> dict[str, Any]:
    rec = Recording()
    subscriptions = [
        subscription("steady", "steady", "PayAsYouGo_2014-09-01"),
        subscription("faulty", "faulty", "PayAsYouGo_2014-09-01", state=fault.state),
    ]
    if fault.subscription_list:
        for status, body, extra in fault.answers:
            rec.record("/subscriptions", "subscriptions", body, status=status, extra_headers=extra)
    else:
        rec.record("/subscriptions", "subscriptions", page(subscriptions))
    rec.record_subscription(STEADY, vms=[vm(STEADY, "rg", "vm-steady")])
    if name == "empty page, then a full one":
        rec.record_subscription(FAULTY, vms=None)
        rec.record(VMS_PATH, "compute", page([], f"{VMS_URL}&$skiptoken=2"))
        rec.record(VMS_PATH, "compute", OK_PAGE, query="$skiptoken=2")
    elif name == "unknown enum values and missing optional fields":
        odd = vm(FAULTY, "rg", "vm-faulty")
        odd["properties"] = {"provisioningState": "Teleporting", "priority": "Quantum", "networkProfile": {}}
        odd.pop("tags", None)
        # id and type make an ARM resource (issue 13: without them an item is an error); all else is optional
        nic = {
            "id": f"/subscriptions/{FAULTY}/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/n",
            "type": "Microsoft.Network/networkInterfaces",
        }
        rec.record_subscription(FAULTY, vms=[odd], nics=[nic])
    elif fault.answers and not fault.subscription_list:
        rec.record_subscription(FAULTY, vms=None)
        for status, body, extra in fault.answers:
            rec.record(VMS_PATH, "compute", body, status=status, extra_headers=extra)
    else:
        rec.record_subscription(FAULTY, vms=[vm(FAULTY, "rg", "vm-faulty")])
    return rec.document()


def _failing(raises: type[Exception]) -> Callable[[Any], ReplayTransport]:
    """A replay whose `faulty` VM list never answers: the connection fails before any response."""

    def build(answers: Any) -> ReplayTransport:
        transport = ReplayTransport(answers)
        adapter = transport._adapter
        answer = adapter.send

        def send(request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
            if urlsplit(str(request.url)).path.lower() == VMS_PATH.lower():
                raise raises(f"simulated {raises.__name__} for {request.url}")
            return answer(request, *args, **kwargs)

        adapter.send = send  # type: ignore[method-assign]
        return transport

    return build


def _run(tmp_path: Path, name: str, fault: Fault) -> tuple[ExitStatus, Path, str]:
    recording = tmp_path / "tenant.json"
    recording.write_text(json.dumps(_recording(name, fault)), encoding="utf-8")
    err = io.StringIO()
    env = Environment(io.StringIO(), err)
    if fault.raises is not None:
        build = _failing(fault.raises)
        faulty = with_parts(
            transport=lambda recipe: build(parse_recording(json.loads(recording.read_text(encoding="utf-8")), "test"))
        )
        env = replace(env, collectors=faulty)
    status = main(["scan", "--replay", str(recording), "--out", str(tmp_path / "reports")], env)
    return status, tmp_path / "reports", err.getvalue()


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    "name",
    [pytest.param(name, marks=pytest.mark.slow) if name == "10,000 items on one page" else name for name in FAULTS],
)
def test_fault(tmp_path: Path, name: str) -> None:
    fault = FAULTS[name]
    status, reports, stderr = _run(tmp_path, name, fault)

    assert "Traceback" not in stderr and "internal error" not in stderr
    if fault.subscription_list:  # nothing could be listed: its own exit code, one line, and no reports written
        assert status is ExitStatus.NOTHING_AUDITED
        assert stderr.count("subscription list could not be read") == 1 and fault.marked in stderr
        assert len(stderr.splitlines()) == 2 and "left as they were" in stderr
        assert "billing" not in stderr  # nothing to refine: no second line for the same failure
        assert not reports.exists()
        return
    subscriptions = {row["subscription_id"]: row for row in _csv(reports / "subscriptions.csv")}
    findings = _csv(reports / "findings.csv")
    document = json.loads((reports / "scan.json").read_text(encoding="utf-8"))
    html = (reports / "report.html").read_text(encoding="utf-8")

    if fault.marked is None:  # recovered: the audit is complete and nothing is missing
        assert status is ExitStatus.SUCCESS, stderr
        if fault.skipped:
            assert subscriptions.pop(FAULTY)["collection"].startswith(fault.skipped)
            assert not any(row["subscription_id"] == FAULTY for row in findings)
            return
        assert {row["collection"] for row in subscriptions.values()} == {"ok"}
        assert sum(row["subscription_id"] == FAULTY for row in findings) == fault.vm_count
        assert subscriptions[FAULTY]["state"] == fault.state
        assert "could not read" not in stderr
        return

    assert status is ExitStatus.INCOMPLETE
    assert "INCOMPLETE" in stderr
    faulty = subscriptions[FAULTY]
    assert fault.marked in faulty["collection"] and faulty["collection"].startswith("virtualMachines:")
    (error,) = next(s for s in document["subscriptions"] if s["subscription_id"] == FAULTY)["errors"]
    assert error["operation"] == "virtualMachines"
    assert all(part in json.dumps(error) for part in fault.marked.removeprefix("HTTP ").split())
    assert fault.marked.split()[-1] in html
    assert subscriptions[STEADY]["collection"] == "ok"
    assert [row["resource_name"] for row in findings if row["subscription_id"] == STEADY] == ["vm-steady"]
    read_before = [row["resource_name"] for row in findings if row["subscription_id"] == FAULTY]
    assert read_before == (["vm-faulty"] if fault.kept else [])
    assert stderr.count("could not read virtualMachines") == 1, stderr


def test_the_matrix_covers_every_fault_issue_6_names() -> None:
    named = {
        "401 on one list", "403 on one list", "401 on the subscription list", "403 on the subscription list",
        "404 provider not registered", "409 subscription not found", "429 burst with Retry-After, then 200",
        "429 burst without Retry-After, then 200", "500 then 200", "503 then 200", "connection error", "timeout",
        "malformed JSON", "a body without value", "nextLink back to the same page", "empty page, then a full one",
        "10,000 items on one page", "unknown enum values and missing optional fields", "disabled subscription",
        "warned subscription",
    }  # fmt: skip
    assert named <= set(FAULTS)


def test_a_next_link_that_loops_through_two_pages_is_stopped(tmp_path: Path) -> None:
    from auditor.collect.arm import ArmCollector
    from auditor.collect.replay import ReplayCredential
    from auditor.model import Subscription

    rec = Recording()
    rec.record_subscription(FAULTY, vms=None)
    rec.record(VMS_PATH, "compute", page([vm(FAULTY, "rg", "a")], f"{VMS_URL}&$skiptoken=2"))
    rec.record(VMS_PATH, "compute", page([vm(FAULTY, "rg", "b")], VMS_URL), query="$skiptoken=2")
    replay = ReplayTransport(parse_recording(rec.document(), "test"))
    inventory = ArmCollector(ReplayCredential(), replay).collect_subscription(
        Subscription(FAULTY, "faulty", "Enabled", "t", None)
    )
    (error,) = inventory.errors
    assert "led back to a page already read" in error.message
    assert [r.name for r in inventory.resources] == ["a", "b"]  # what was read before the loop is kept
    # the page the nextLink leads back to is known before it is sent: it is not requested again
    assert len([url for _, url in replay.sent if urlsplit(url).path.lower() == VMS_PATH.lower()]) == 2


def test_the_429s_without_retry_after_really_have_none() -> None:
    assert "Retry-After" not in headers(429)
