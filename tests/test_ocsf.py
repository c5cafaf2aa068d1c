"""Issue 26.4: `--format ocsf` writes one OCSF Compliance Finding per resource, validated against the OCSF 1.5
schema (cloud profile) that `ocsf-json-schema` ships, offline, by `jsonschema`: every finding of the bundled
tenant, not hand-written field checks alone."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

from auditor.report.ocsf import OCSF_VERSION
from tests.conftest import CONTOSO, CONTOSO_CONFIG
from tests.recordings import run_cli


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("ocsf")
    run_cli(
        "scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG), "--out", str(out), "--quiet",
        "--format", "csv,ocsf", "--tag", "owner",
    )  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", "findings.ocsf.json", "subscriptions.csv"]
    document = json.loads((out / "findings.ocsf.json").read_text(encoding="utf-8"))
    assert isinstance(document, list)
    return document


def test_every_finding_is_a_valid_ocsf_compliance_finding(events: list[dict[str, Any]]) -> None:
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=OCSF_VERSION)).get_class_schema(
        "compliance_finding", profiles=["cloud"]
    )
    validator = jsonschema.Draft202012Validator(schema)

    assert len(events) == 62  # every resource of the bundled tenant
    for event in events:
        errors = sorted(validator.iter_errors(event), key=lambda e: list(e.path))
        assert not errors, (event["resources"][0]["name"], [f"{list(e.path)}: {e.message}" for e in errors[:3]])


def test_an_invalid_event_is_caught_by_the_schema(events: list[dict[str, Any]]) -> None:
    """The validation can fail: a status the class does not know, or a missing required field."""
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=OCSF_VERSION)).get_class_schema(
        "compliance_finding", profiles=["cloud"]
    )
    wrong = {**events[0], "class_uid": 2004}
    missing = {k: v for k, v in events[0].items() if k != "finding_info"}
    for bad in (wrong, missing):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)


def _named(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (event,) = [e for e in events if e["resources"][0]["name"] == name]
    return event


def test_the_verdict_the_rule_the_resource_the_account_and_the_exception_are_mapped(
    events: list[dict[str, Any]],
) -> None:
    relay = _named(events, "vm-partner-relay")  # open, accepted by the bundled register
    web = _named(events, "vm-web-01")  # open, its exception expired
    denied = _named(events, "vm-mail-01")
    unknown = _named(events, "vm-lab-01")

    assert (relay["compliance"]["status"], relay["compliance"]["control"]) == ("Fail", "CUR-EA-MCAE")
    assert (relay["status"], relay["severity"]) == ("Suppressed", "Informational")
    assert "exception accepted (audit config line 45)" in relay["status_detail"]
    assert "owner mail-team@contoso.com, ticket CHG-4711; expires 2030-12-31" in relay["status_detail"]
    assert (web["status"], web["severity"]) == ("New", "High") and "exception expired" in web["status_detail"]
    assert (denied["compliance"]["status"], denied["severity"]) == ("Pass", "Informational")
    assert (unknown["compliance"]["status_id"], unknown["severity"]) == (0, "Low")
    resource = relay["resources"][0]
    assert resource["uid"].endswith("/virtualMachines/vm-partner-relay") and resource["region"] == "westeurope"
    assert resource["group"] == {"name": "rg-edge"}
    assert {"name": "owner", "value": "mail-team@contoso.com"} in resource["tags"]
    assert relay["cloud"]["account"]["type"] == "Azure Subscription" and relay["cloud"]["provider"] == "Azure"
    assert "allows TCP 25 only to 203.0.113.0/24" in relay["finding_info"]["desc"]
    assert relay["unmapped"]["egress"] == "default_outbound"
