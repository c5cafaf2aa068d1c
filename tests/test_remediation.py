"""Issue 14.2: what to do follows from the verdict and what decided it, on the bundled tenant (each expectation is
what Azure's behaviour for that row calls for)."""

from __future__ import annotations

import csv

import pytest

from tests.conftest import CONTOSO, CONTOSO_CONFIG
from tests.recordings import run_cli


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    out = tmp_path_factory.mktemp("remediation")
    run_cli("scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG), "--out", str(out), "--quiet")
    with (out / "findings.csv").open(encoding="utf-8", newline="") as stream:
        return {row["resource_name"]: row for row in csv.DictReader(stream)}


@pytest.mark.parametrize(
    ("name", "said"),
    [
        # open: how to close it, where the traffic leaves; then the relay if mail must flow
        ("vm-web-01", "add an outbound NSG rule denying TCP 25 to Internet on NIC vm-web-01-nic or subnet snet-web"),
        ("vm-web-01", "If mail must flow, send through an authenticated SMTP relay on TCP 587"),
        ("vmss-workers", "in Azure Firewall fw-hub-weu's rules, add a network rule that denies TCP 25"),
        ("fw-hub-weu", "in Azure Firewall fw-hub-weu's rules, add a network rule that denies TCP 25"),
        # an exempted VM created before the exemption: the stop and start
        ("vm-smtp-gateway", "Stop, deallocate and then restart the VM if it has not been since 2025-02-01"),
        # blocked, exemption available: how to request it for this offer
        ("vm-dev-01", "Diagnose and solve problems → Cannot send email (SMTP-Port 25)"),
        # blocked: the relay, checked on this path
        ("fw-dev", "But TCP 587 is denied on this resource's path too"),
        ("vm-jdoe-test", "TCP 587 gets out on this resource's path"),
        ("vm-smtp-via-fw", "leaves through Azure Firewall fw-mail, whose subscription blocks TCP 25"),
        # denied: nothing to do, and what keeps it closed
        ("vm-mail-01", "Nothing to do: TCP 25 cannot leave (NSG nsg-vm-mail-01 rule deny-mail-ports-out"),
        ("vm-campaign-sender", "Nothing to do: TCP 25 cannot leave (Firewall policy policy-contoso-base"),
        ("vm-quarantine-01", "Route blackhole in route table rt-quarantine sends 0.0.0.0/0 to None"),
        # unknown: the one missing fact, and how to supply it
        ("vm-shop-mailer", "Give the identity read access to the virtualNetworks list of subscription"),
        ("vm-lab-01", "Set `offer`"),
        ("vm-behind-nva", "Check the network appliance 10.10.200.4"),
        ("vm-legacy-erp", "Check your on-premises egress"),
    ],
)
def test_remediation_follows_the_verdict_and_what_decided(
    rows: dict[str, dict[str, str]], name: str, said: str
) -> None:
    assert said in rows[name]["remediation"]


def test_no_row_with_a_way_out_is_told_there_is_nothing_to_request(rows: dict[str, dict[str, str]]) -> None:
    """Before, open rows were told "nothing to request … use a relay", and rows with no path were told to use one."""
    for row in rows.values():
        if row["verdict"] == "open":
            assert row["remediation"].startswith("To close it:"), row["resource_name"]
        if row["verdict"] == "denied_by_network":
            assert row["remediation"].startswith("Nothing to do:"), row["resource_name"]


@pytest.mark.parametrize(
    ("name", "starts"),
    [
        ("vm-mail-01", "NSG nsg-vm-mail-01 rule deny-mail-ports-out (priority 200) denies TCP 25"),
        ("vm-campaign-sender", "Firewall policy policy-contoso-base, group baseline, collection deny-smtp-marketing"),
        ("vm-web-01", "Outbound through public IP pip-vm-web-01"),
        ("vm-shop-mailer", "Subnet snet-shop of VNet vnet-shop was not collected"),
        ("vm-dev-01", "Enterprise Dev/Test: TCP 25 is blocked by default"),
        ("vm-lab-01", "The rule depends on the subscription type"),
    ],
)
def test_the_reason_opens_with_what_decided(rows: dict[str, dict[str, str]], name: str, starts: str) -> None:
    """Issue 14.3: the deciding fact first; how the offer was read is said once per subscription, not per row."""
    assert rows[name]["reason"].startswith(starts)


def test_how_the_offer_was_read_is_not_repeated_on_every_row(rows: dict[str, dict[str, str]]) -> None:
    ea = [r for r in rows.values() if r["offer"] == "enterprise_agreement"]
    assert ea and not any("which several offers share" in r["reason"] for r in ea)
    assert "AzureLabServices_2025-01-01" in rows["vm-lab-01"]["reason"]  # there, the offer is the missing fact


def test_scan_json_carries_each_findings_way_out_as_hops(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Issue 14.3: tools read the path from scan.json as data (kind, id, what it says), not from the prose."""
    import json

    from auditor.report.json import flat_findings

    out = tmp_path_factory.mktemp("hops")
    run_cli("scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG), "--out", str(out), "--quiet")
    document = json.loads((out / "scan.json").read_text(encoding="utf-8"))
    findings = {f["resource_name"]: f for f in flat_findings(document)}
    sender = findings["vm-campaign-sender"]["path"]
    assert [h["kind"] for h in sender] == ["firewall", "firewall_rules"]
    assert sender[0]["id"].endswith("/azureFirewalls/fw-hub-weu") and "no-smtp-from-marketing" in sender[1]["says"]
    mail = findings["vm-mail-01"]["path"]
    assert mail[-1]["kind"] == "nsg" and mail[-1]["id"].endswith("/networkSecurityGroups/nsg-vm-mail-01")
    shop = findings["vm-shop-mailer"]["path"]
    assert [h["kind"] for h in shop] == ["missing"] and shop[0]["id"].endswith("/subnets/snet-shop")
    (nic, *_, outbound) = findings["vm-dual-homed"]["path"]
    # issue 27.11: the nic hop names its NIC, the outbound hop the object the traffic leaves by (not "public_ip")
    assert nic["kind"] == "nic" and nic["says"] == "NIC vm-dual-homed-nic-public (ipconfig1)"
    assert nic["id"].endswith("/networkInterfaces/vm-dual-homed-nic-public")
    assert outbound["kind"] == "outbound" and outbound["id"].endswith("/publicIPAddresses/pip-vm-dual-homed")
    hops = [hop for f in findings.values() for hop in f["path"]]
    assert all(hop["id"] for hop in hops if hop["kind"] in ("nic", "outbound")), "every nic and outbound hop names one"
    assert not {hop["id"] for hop in hops} & {"public_ip", "nat_gateway", "default_outbound", "load_balancer"}
    assert all(isinstance(f["path"], list) for f in findings.values())
    assert [(h["kind"], h["id"].rsplit("/", 1)[-1]) for h in findings["vm-quarantine-01"]["path"]] == [
        ("route", "rt-quarantine")
    ]
