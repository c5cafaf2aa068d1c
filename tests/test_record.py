"""Issue 6: `port25-audit record` writes a test-proxy recording without credentials; --scrub replaces what names
the tenant and keeps what the verdicts depend on. Tested offline by recording a replay."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from auditor.collect.replay import ReplayCredential
from auditor.collect.scrub import scrub
from auditor.status import ExitStatus
from tests.conftest import CONTOSO, CONTOSO_CONFIG
from tests.recordings import run_cli


def _scan(recording: Path, out: Path, *extra: str) -> ExitStatus:
    status, _, _ = run_cli("scan", "--replay", str(recording), "--out", str(out), "--quiet", *extra)
    return status


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _verdicts(path: Path) -> list[tuple[str, ...]]:
    columns = ("resource_type", "kind", "location", "offer", "platform_policy", "egress", "verdict", "rule")
    return sorted(tuple(row[c] for c in columns) for row in _rows(path / "findings.csv"))


@pytest.mark.parametrize("source", ["arm", "graph"])
def test_a_recorded_replay_replays_to_the_same_reports(tmp_path: Path, source: str) -> None:
    recording = tmp_path / "tenant.json"
    status, _, stderr = run_cli("record", "--replay", str(CONTOSO), "--source", source, "--out", str(recording))
    assert status is (ExitStatus.INCOMPLETE if source == "arm" else ExitStatus.SUCCESS)  # ARM mode meets two 403s
    assert f"to {recording}" in stderr

    config = ("--config", str(CONTOSO_CONFIG), "--source", source)
    assert _scan(CONTOSO, tmp_path / "original", *config) == _scan(recording, tmp_path / "replayed", *config)
    for report in ("findings.csv", "subscriptions.csv"):
        assert (tmp_path / "replayed" / report).read_bytes() == (tmp_path / "original" / report).read_bytes()
    text = recording.read_text(encoding="utf-8")
    entries = json.loads(text)["Entries"]
    assert not any(k.lower() == "authorization" for e in entries for k in e["RequestHeaders"])
    assert ReplayCredential.TOKEN not in text and "Bearer" not in text
    assert entries[0]["RequestMethod"] == "GET"


def _identifying(recording: Path, reports: Path) -> set[str]:
    """What names the bundled tenant: subscription and tenant ids, names, display names, e-mail, public IPs."""
    found: set[str] = set()
    for row in _rows(reports / "findings.csv"):
        found |= {row["subscription_id"], row["tenant_id"], row["resource_name"], row["resource_group"]}
        found.add(row["subscription_name"])
    text = recording.read_text(encoding="utf-8")
    found |= set(re.findall(r"[\w.-]+@[\w.-]+\.\w+", text))
    found |= {ip for ip in re.findall(r'"ipAddress": "([\d.]+)"', text)}
    return found


def test_a_scrubbed_recording_names_nothing_and_keeps_every_verdict(tmp_path: Path) -> None:
    scrubbed = tmp_path / "scrubbed.json"
    status, _, stderr = run_cli("record", "--replay", str(CONTOSO), "--scrub", "--out", str(scrubbed))
    assert status is ExitStatus.INCOMPLETE and "scrubbed" in stderr

    assert _scan(CONTOSO, tmp_path / "original") is _scan(scrubbed, tmp_path / "replayed") is ExitStatus.INCOMPLETE
    assert _verdicts(tmp_path / "replayed") == _verdicts(tmp_path / "original")
    original, replayed = (
        _rows(tmp_path / "original" / "subscriptions.csv"),
        _rows(tmp_path / "replayed" / "subscriptions.csv"),
    )
    assert sorted(r["collection"] == "ok" for r in original) == sorted(r["collection"] == "ok" for r in replayed)

    identifying = _identifying(CONTOSO, tmp_path / "original")
    assert (
        len(identifying) > 60 and any("@" in s for s in identifying) and any(s.startswith("20.") for s in identifying)
    )
    text = scrubbed.read_text(encoding="utf-8").lower()
    leaked = sorted(s for s in identifying if s.lower() in text)
    assert leaked == []
    assert "contoso" not in text


def test_a_name_that_is_a_url_scheme_leaves_urls_working() -> None:
    """A firewall rule named `https` is a name to replace, but not in `https://` of every nextLink."""
    sub = "11111111-2222-3333-4444-555555555555"
    policy = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Network/firewallPolicies/p"
    group = f"{policy}/ruleCollectionGroups/https"
    link = f"https://management.azure.com{policy}/ruleCollectionGroups?x=1"
    entry = {
        "RequestUri": f"https://management.azure.com{policy}/ruleCollectionGroups?api-version=1",
        "RequestMethod": "GET",
        "RequestHeaders": {},
        "RequestBody": None,
        "StatusCode": 200,
        "ResponseHeaders": {},
        "ResponseBody": {"value": [{"id": group, "name": "https"}], "nextLink": link},
    }
    (scrubbed,) = scrub({"Entries": [entry]})["Entries"]
    assert scrubbed["ResponseBody"]["value"][0]["name"] != "https"
    assert scrubbed["ResponseBody"]["nextLink"].startswith("https://management.azure.com/subscriptions/")
    assert scrubbed["RequestUri"].startswith("https://management.azure.com/subscriptions/")


def test_scrubbing_is_consistent_and_keeps_the_words_verdicts_read() -> None:
    sub = "11111111-2222-3333-4444-555555555555"
    nsg = f"/subscriptions/{sub}/resourceGroups/rg-mail/providers/Microsoft.Network/networkSecurityGroups/nsg-1"
    document = {
        "Entries": [
            {
                "RequestUri": f"https://management.azure.com/subscriptions/{sub}/providers/Microsoft.Network/"
                "networkSecurityGroups?api-version=1",
                "RequestMethod": "GET",
                "RequestHeaders": {"Authorization": "Bearer x"},
                "RequestBody": None,
                "StatusCode": 200,
                "ResponseHeaders": {"x-ms-request-id": "abc", "Retry-After": "1"},
                "ResponseBody": {
                    "value": [
                        {
                            "id": nsg,
                            "name": "nsg-1",
                            "tags": {"owner": "jane@contoso.example"},
                            "properties": {
                                "securityRules": [
                                    {
                                        "id": f"{nsg}/securityRules/Internet",
                                        "name": "Internet",
                                        "properties": {
                                            "description": f"nsg-1 in rg-mail of {sub} for jane@contoso.example",
                                            "destinationAddressPrefix": "Internet",
                                            "sourceAddressPrefix": "10.0.0.0/24",
                                            "destinationAddressPrefixes": ["20.61.1.2/32", "20.61.0.0/16"],
                                            "priority": 100,
                                        },
                                    }
                                ]
                            },
                        }
                    ]
                },
            }
        ]
    }
    (entry,) = scrub(document)["Entries"]
    (body,) = entry["ResponseBody"]["value"]
    new_sub = entry["RequestUri"].split("/")[4]
    assert new_sub != sub and body["id"].startswith(f"/subscriptions/{new_sub}/resourceGroups/rg-0001/")
    assert entry["RequestHeaders"] == {} and entry["ResponseHeaders"] == {"Retry-After": "1"}
    assert body["tags"] == {"owner": "tag-0001"}  # read (exceptions, --tag): the name stays, the value is replaced
    (rule,) = body["properties"]["securityRules"]
    properties = rule["properties"]
    assert "description" not in properties  # not read: dropped, with the names and e-mail it carried
    assert properties["destinationAddressPrefix"] == "Internet" and rule["name"] == "Internet"  # a reserved word
    assert properties["sourceAddressPrefix"] == "10.0.0.0/24" and properties["priority"] == 100
    host, network = properties["destinationAddressPrefixes"]
    assert network == "20.61.0.0/16"  # a prefix describes a range: kept
    assert host != "20.61.1.2/32" and host.startswith("198.1") and host.endswith("/32")  # a /32 is a host


def test_record_says_when_it_cannot_write_or_read(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    status, _, stderr = run_cli("record", "--replay", str(CONTOSO), "--out", str(blocker / "tenant.json"), "--quiet")
    assert status is ExitStatus.CANT_CREATE and "cannot write the recording" in stderr
    status, _, stderr = run_cli("record", "--replay", str(tmp_path / "missing.json"), "--out", str(tmp_path / "t.json"))
    assert status is ExitStatus.NO_INPUT and "missing.json" in stderr and "Traceback" not in stderr
    status, _, stderr = run_cli("record", "--replay", str(CONTOSO))
    assert status is ExitStatus.USAGE and "--out" in stderr


def test_a_scrubbed_resource_graph_recording_keeps_every_verdict(tmp_path: Path) -> None:
    """Issue 23.1: Graph's rows are kept by their own type's allow-list."""
    scrubbed = tmp_path / "scrubbed.json"
    status, _, _ = run_cli("record", "--replay", str(CONTOSO), "--source", "graph", "--scrub", "--out", str(scrubbed))
    assert status is ExitStatus.SUCCESS

    graph = ("--source", "graph")
    assert _scan(CONTOSO, tmp_path / "original", *graph) is _scan(scrubbed, tmp_path / "replayed", *graph)
    assert _verdicts(tmp_path / "replayed") == _verdicts(tmp_path / "original")
    assert "contoso" not in scrubbed.read_text(encoding="utf-8").lower()
