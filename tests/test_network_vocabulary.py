"""Issue 24.1: a way out is typed steps. The schema's hop kinds are `HopKind`; a reason's text is rendered from its
steps, once; the deciding step and a missing fact are read from the steps, never parsed from sentences."""

from __future__ import annotations

from auditor.classify.network import HopKind, MissingFact, Reason, Step, Unread
from auditor.classify.remediation import remediation
from auditor.classify.rules import RULES
from auditor.model import Ruleset, Verdict
from auditor.report.json import schema


def test_the_schema_s_hop_kinds_are_hop_kind() -> None:
    kinds = schema()["$defs"]["hop"]["properties"]["kind"]["enum"]
    assert kinds == [kind.value for kind in HopKind], (
        "docs/CONTRIBUTING.md, 'Add a network hop kind', step 2: HopKind (network/path.py) and the path kind enum "
        "of auditor/report/scan.schema.json list the same kinds"
    )


def test_a_reason_is_rendered_from_its_steps_and_knows_its_deciding_one() -> None:
    nsg = Step(HopKind.NSG, "NSG a allows TCP 25 to the internet (on the subnet)", "/nsg/a")
    route = Step(HopKind.STEP, "Route r sends 0.0.0.0/0 to None: the traffic is dropped")
    reason = Reason.of(nsg, route).deciding_as(HopKind.ROUTE, "/rt/r")

    assert reason.text == f"{nsg.text}. {route.text}."
    assert reason.deciding == Step(HopKind.ROUTE, route.text, "/rt/r")
    assert reason.deciding_text == route.text and reason.before_deciding == f"{nsg.text}."
    assert [hop.kind for hop in reason.hops()] == ["nsg", "route"]
    labelled = reason.labelled("NIC n (ipconfig2)", "/nic/n")
    assert labelled.text == f"NIC n (ipconfig2): {reason.text}"
    assert [(hop.kind, hop.id) for hop in labelled.hops()] == [("nic", "/nic/n"), ("nsg", "/nsg/a"), ("route", "/rt/r")]


def test_a_sentence_that_only_looks_like_a_missing_fact_is_not_one() -> None:
    """The advice comes from the typed fact: a name that reads like the sentence changes nothing."""
    rule = next(r for r in RULES[Ruleset.CURRENT] if r.id == "CUR-EA-MCAE")
    look_alike = Reason.of(Step(HopKind.STEP, "the networkInterfaces list of subscription x could not be read"))
    assert "Give the identity read access" not in remediation(Verdict.UNKNOWN, rule, look_alike)
    fact = MissingFact("networkInterfaces", "sub-1", Unread.LIST_UNREAD)
    missing = Reason.of(Step(HopKind.MISSING, "NIC /n was not collected", "/n", fact))
    assert remediation(Verdict.UNKNOWN, rule, missing).startswith(
        "Give the identity read access to the networkInterfaces list of subscription sub-1"
    )
