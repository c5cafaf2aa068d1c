"""The CLI on the bundled tenant, in-process: reports, columns, exit codes, messages."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from auditor.collect.arm import ArmCollector
from auditor.collect.replay import ReplayCredential, ReplayTransport
from auditor.report.json import flat_findings
from auditor.status import ExitStatus
from tests.conftest import CONTOSO, CONTOSO_CONFIG
from tests.recordings import run_cli

FINDING_COLUMNS = [
    "tenant_id",
    "subscription_id",
    "subscription_name",
    "offer",
    "quota_id",
    "resource_id",
    "resource_name",
    "resource_type",
    "kind",
    "resource_group",
    "location",
    "platform_policy",
    "egress",
    "verdict",
    "rule",
    "reason",
    "remediation",
    "via",
    "via_policy",
    "relay_587",
    "state",  # issue 25: appended after relay_587
    # issue 26: the exceptions register (docs/design.md section 5 names them in this order)
    "exception",
    "exception_owner",
    "exception_expires",
    "exception_ticket",
    "tags",  # issue 26: --tag
]

# What the article (tests/rules/cases.yaml has the sentences) and Azure's networking say of each bundled resource:
# name: (rule, platform_policy, egress, verdict)
EXPECTED_CURRENT = {
    "vm-web-01": ("CUR-EA-MCAE", "not_blocked", "public_ip", "open"),  # EA; only an inbound deny on its subnet
    "vm-mail-01": ("CUR-EA-MCAE", "not_blocked", "default_outbound", "denied_by_network"),  # NIC NSG denies 20-30
    "vm-batch-01": ("CUR-EA-MCAE", "not_blocked", "nat_gateway", "open"),  # the VM list's second page
    "vm-private-01": ("CUR-EA-MCAE", "not_blocked", "none", "denied_by_network"),  # private subnet, no path
    "vm-quarantine-01": ("CUR-EA-MCAE", "not_blocked", "none", "denied_by_network"),  # 0.0.0.0/0 -> None
    "vm-legacy-erp": ("CUR-EA-MCAE", "not_blocked", "on_premises", "unknown"),  # forced tunnelling
    "vm-behind-nva": ("CUR-EA-MCAE", "not_blocked", "appliance", "unknown"),  # /1 halves to a non-firewall NVA
    "vm-relay-lb-01": ("CUR-EA-MCAE", "not_blocked", "load_balancer", "open"),  # LB outbound rule
    # through the EA hub firewall, whose child policy allows TCP 25 from the workers' subnet
    "vmss-workers": ("CUR-EA-MCAE", "not_blocked", "firewall", "open"),
    "fw-hub-weu": ("CUR-EA-MCAE", "not_blocked", "public_ip", "open"),  # Azure Firewall in EA; a rule lets some out
    "app-portal": ("CUR-EA-MCAE", "not_blocked", "default_outbound", "open"),  # applicationTraffic routed into EA VNet
    "app-legacy-notify": (
        "CUR-EA-MCAE",
        "not_blocked",
        "default_outbound",
        "open",
    ),  # vnetRouteAllEnabled in config/web
    "app-static-site": ("CUR-APP-NOPATH", "not_supported", "default_outbound", "not_supported"),  # not routed
    "func-orders": ("CUR-APP-NOPATH", "not_supported", "default_outbound", "not_supported"),  # no integration
    "app-on-ase-v3": ("CUR-EA-MCAE", "not_blocked", "default_outbound", "open"),
    "app-on-ase-v2": ("CUR-APP-NOPATH", "not_supported", "default_outbound", "not_supported"),  # only v3 is named
    "vm-shop-mailer": ("CUR-EA-MCAE", "not_blocked", "unknown", "unknown"),  # MCA-E; its subnet's list failed
    "vm-dev-01": ("CUR-DEVTEST", "blocked_exemption_available", "default_outbound", "blocked"),
    "fw-dev": ("CUR-DEVTEST-NONVM", "blocked", "public_ip", "blocked"),
    "vm-smtp-gateway": ("CUR-EXEMPTED", "exempted", "public_ip", "open"),  # exemption, direct to the internet
    "vm-smtp-via-fw": ("CUR-EXEMPTED", "exempted", "firewall", "blocked"),  # exemption does not cover the firewall
    "app-mail-api": ("CUR-DEVTEST-NONVM", "blocked", "default_outbound", "blocked"),  # exemption covers VMs only
    # PAYG spoke via the EA hub firewall (its platform policy applies), whose parent policy denies TCP 25 from the
    # marketing spokes' IP group: inherited collections come first, and rules are terminating
    "vm-campaign-sender": ("CUR-OTHER", "blocked", "firewall", "denied_by_network"),
    "vmss-campaign-workers": ("CUR-OTHER", "blocked", "firewall", "denied_by_network"),  # served after a 429
    "vm-legacy-smtp": ("CUR-OTHER", "blocked", "default_outbound", "blocked"),
    "app-shared-hub": ("CUR-EA-MCAE", "not_blocked", "default_outbound", "open"),  # CSP app in the EA hub VNet
    "vm-lab-01": ("CUR-OFFER-UNKNOWN", "unknown", "default_outbound", "unknown"),  # unknown quotaId
    # the landing zone: Virtual WAN, flexible scale sets, several NICs, slots, other PaaS
    # routing intent to a firewall allowing TCP 25 only to the mail provider's FQDN: mail to it leaves Azure on
    # TCP 25 (issue 25.7), under an Enterprise Agreement not blocked
    "vm-vwan-app": ("CUR-EA-MCAE", "not_blocked", "firewall", "open"),
    "vm-vwan-direct": ("CUR-EA-MCAE", "not_blocked", "default_outbound", "open"),  # no internet security
    "fw-vhub-weu": ("CUR-EA-MCAE", "not_blocked", "public_ip", "open"),  # TCP 25 only to an FQDN (issue 25.7)
    "vm-flex-batch-01": ("CUR-EA-MCAE", "not_blocked", "none", "denied_by_network"),  # no default outbound
    "vmss-flex-web": ("CUR-EA-MCAE", "not_blocked", "none", "denied_by_network"),
    "vm-dual-homed": ("CUR-EA-MCAE", "not_blocked", "public_ip", "open"),  # its second NIC's public IP
    "app-portal/staging": ("CUR-EA-MCAE", "not_blocked", "default_outbound", "open"),  # flags disagree: routed
    # its payload says not routed, its config/web routes all: taken as routed (more exposure), the reason says so
    "app-portal/canary": ("CUR-EA-MCAE", "not_blocked", "default_outbound", "open"),
    "ca-notifier": ("CUR-PAAS", "not_supported", "unknown", "not_supported"),  # every other PaaS
    "ci-mailer-job": ("CUR-PAAS", "not_supported", "unknown", "not_supported"),
    # the network edge (issue 25; fixtures/contoso_edge.py): each shape as Azure's documentation decides it
    # Load Balancer, "Outbound rules": a UDP rule gives TCP no SNAT; the subnet is private
    "vmss-udp-workers": ("CUR-EA-MCAE", "not_blocked", "none", "denied_by_network"),
    # NSGs match the 5-tuple: a deny from source port 25 does not match a client's ephemeral port
    "vm-srcport-rule": ("CUR-EA-MCAE", "not_blocked", "default_outbound", "open"),
    # an allow of TCP 25 only to a partner relay's range is mail leaving Azure on TCP 25
    "vm-partner-relay": ("CUR-EA-MCAE", "not_blocked", "default_outbound", "open"),
    # Application security groups: the deny applies to the NIC in asg-mail-servers, not to its neighbour
    "vm-asg-mail": ("CUR-EA-MCAE", "not_blocked", "default_outbound", "denied_by_network"),
    "vm-asg-web": ("CUR-EA-MCAE", "not_blocked", "default_outbound", "open"),
    "vm-ipv6-only": ("CUR-EA-MCAE", "not_blocked", "default_outbound", "open"),  # IPv6 public IP: no IPv4 way out
    # "SNAT private IP address ranges": with 0.0.0.0/0 the firewall "can never route traffic directly to the
    # Internet"
    "fw-nosnat": ("CUR-EA-MCAE", "not_blocked", "none", "denied_by_network"),
    "vm-behind-nosnat": ("CUR-EA-MCAE", "not_blocked", "firewall", "denied_by_network"),
    "fw-stopped": ("CUR-EA-MCAE", "not_blocked", "none", "denied_by_network"),  # deallocated: no instances
    "vm-behind-standby": ("CUR-EA-MCAE", "not_blocked", "firewall", "denied_by_network"),
    # rules are terminating, the parent policy's first: the child's allow comes too late for every source
    "fw-layered": ("CUR-EA-MCAE", "not_blocked", "public_ip", "denied_by_network"),
    "vm-behind-layered": ("CUR-EA-MCAE", "not_blocked", "firewall", "denied_by_network"),
    "fw-basic": ("CUR-EA-MCAE", "not_blocked", "public_ip", "open"),  # a management NIC is not forced tunnelling
    "vm-isolated": ("CUR-EA-MCAE", "not_blocked", "appliance", "unknown"),  # Disconnected peering: no path
    "vm-branch-app": ("CUR-EA-MCAE", "not_blocked", "default_outbound", "open"),  # a VPN gateway in its VNet: said
    "app-edge-stopped": ("CUR-APP-NOPATH", "not_supported", "default_outbound", "not_supported"),  # Stopped
}
# What decided, in the row itself: (via, via_policy, relay_587)
EXPECTED_PATHS = {
    "vmss-workers": ("fw-hub-weu", "not_blocked (CUR-EA-MCAE)", "denied_by_network"),  # no rule allows 587
    "vm-campaign-sender": ("fw-hub-weu", "not_blocked (CUR-EA-MCAE)", "denied_by_network"),
    "vm-smtp-via-fw": ("fw-mail", "blocked (CUR-DEVTEST-NONVM)", "open"),  # classic rules allow 25 and 587
    "vm-vwan-app": ("fw-vhub-weu", "not_blocked (CUR-EA-MCAE)", "open"),
    "vm-web-01": ("", "", "open"),
    "vm-behind-nva": ("10.10.200.4", "", "unknown"),
    "ca-notifier": ("", "", ""),  # no network path is followed
}
EXPECTED_2020 = {
    "vm-web-01": "2020-EA",
    "fw-hub-weu": "2020-PAAS",
    "app-portal": "2020-PAAS",
    "vm-dev-01": "2020-EA",
    "vm-campaign-sender": "2020-PAYG",
    "vm-legacy-smtp": "2020-BEFORE-CUTOFF",
    "vm-jdoe-test": "2020-NO-EXEMPTION",
    "vm-partner-demo": "2020-MPN-SPONSORSHIP",
    "vm-research-01": "2020-MPN-SPONSORSHIP",
    "vm-csp-app": "2020-CSP",
    "vm-startup-01": "2020-BIZSPARK",
    "vm-trial-01": "2020-DATE-UNKNOWN",
    "vm-shop-mailer": "2020-UNNAMED",
    "vm-lab-01": "2020-OFFER-UNKNOWN",
    "ca-notifier": "2020-PAAS",
    "app-portal/staging": "2020-PAAS",
}


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def contoso_reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ExitStatus, str, str]:
    out = tmp_path_factory.mktemp("reports")
    status, stdout, stderr = run_cli(
        "scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG), "--out", str(out)
    )
    return out, status, stdout, stderr


def test_scan_writes_every_report_and_exits_2_for_the_403(contoso_reports: tuple[Path, ExitStatus, str, str]) -> None:
    out, status, stdout, stderr = contoso_reports
    assert status is ExitStatus.INCOMPLETE
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", "report.html", "scan.json", "subscriptions.csv"]
    assert "62 resources in 14 subscriptions (current edition rules)" in stdout
    # issue 27.2: the terminal says the verdicts as the page does
    header = next(line for line in stdout.splitlines() if "Open" in line and "Blocked by Azure" in line)
    assert [cell.strip() for cell in header.split("┃")[1:6]] == [
        "Open",
        "Blocked by Azure",
        "Denied by network",
        "Not supported",
        "Unknown",
    ]
    counts = next(line for line in stdout.splitlines() if line.startswith("│"))
    verdicts = [row["verdict"] for row in rows(out / "findings.csv")]
    expected = [verdicts.count(v) for v in ("open", "blocked", "denied_by_network", "not_supported", "unknown")]
    assert [int(cell) for cell in counts.strip("│ ").split("│")] == expected
    assert "Subscriptions with the most open resources" in stdout and "Contoso Production (EA)" in stdout
    assert f"Reports: {out / 'findings.csv'}, {out / 'subscriptions.csv'}" in stdout
    assert stderr.count("HTTP 403 AuthorizationFailed") == 2  # sites and virtualNetworks, each logged once
    assert "INCOMPLETE" in stderr and "Traceback" not in stderr


def test_findings_columns_are_exact_and_verdicts_follow_the_article(
    contoso_reports: tuple[Path, ExitStatus, str, str],
) -> None:
    out = contoso_reports[0]
    with (out / "findings.csv").open(encoding="utf-8", newline="") as stream:
        assert next(csv.reader(stream)) == FINDING_COLUMNS
    by_name = {row["resource_name"]: row for row in rows(out / "findings.csv")}
    assert len(by_name) == 62
    assert (by_name["fw-stopped"]["state"], by_name["app-edge-stopped"]["state"]) == ("deallocated", "stopped")
    assert "allows TCP 25 only to 203.0.113.0/24" in by_name["vm-partner-relay"]["reason"]
    assert "may learn a default route from on-premises" in by_name["vm-branch-app"]["reason"]
    got = {
        n: (by_name[n]["rule"], by_name[n]["platform_policy"], by_name[n]["egress"], by_name[n]["verdict"])
        for n in EXPECTED_CURRENT
    }
    assert got == EXPECTED_CURRENT
    paths = {
        n: (by_name[n]["via"].rsplit("/", 1)[-1], by_name[n]["via_policy"], by_name[n]["relay_587"])
        for n in EXPECTED_PATHS
    }
    assert paths == EXPECTED_PATHS
    # the flexible set without a VM profile only groups VMs: its VM is the finding, naming no second row
    assert "vmss-flex-batch" not in by_name
    # issue 27.5: the routing flags in words (the flags themselves are the payload's)
    assert (
        "its settings disagree, and routed is the reading with more exposure" in by_name["app-portal/canary"]["reason"]
    )
    assert "its setting to route outbound traffic into the VNet is off" in by_name["app-static-site"]["reason"]
    assert {row["verdict"] for row in by_name.values()} == {
        "open",
        "blocked",
        "denied_by_network",
        "not_supported",
        "unknown",
    }
    assert "AzureLabServices_2025-01-01" in by_name["vm-lab-01"]["reason"]
    assert (
        by_name["func-orders"]["resource_type"] == "Microsoft.Web/sites"
        and by_name["func-orders"]["kind"] == "functionapp,linux"
    )


def test_subscriptions_report_lists_every_subscription_with_collection(
    contoso_reports: tuple[Path, ExitStatus, str, str],
) -> None:
    subscriptions = {row["subscription_name"]: row for row in rows(contoso_reports[0] / "subscriptions.csv")}
    assert len(subscriptions) == 14
    marketing = subscriptions["Contoso Marketing (Pay-As-You-Go)"]
    assert marketing["collection"].startswith("sites: HTTP 403 AuthorizationFailed")
    retail = subscriptions["Contoso Retail (MCA-E)"]
    assert retail["collection"].startswith("virtualNetworks: HTTP 403 AuthorizationFailed")
    unreadable = {marketing["subscription_name"], retail["subscription_name"]}
    assert all(row["collection"] == "ok" for name, row in subscriptions.items() if name not in unreadable)
    assert subscriptions["Contoso Dev/Test"]["vm_policy"] == "blocked_exemption_available"
    assert "Diagnose and solve problems" in subscriptions["Contoso Dev/Test"]["exemption"]
    assert subscriptions["Contoso Lab (new offer)"]["offer"] == "unknown"


def test_scan_json_has_metadata_and_every_row(contoso_reports: tuple[Path, ExitStatus, str, str]) -> None:
    document = json.loads((contoso_reports[0] / "scan.json").read_text(encoding="utf-8"))
    assert document["schema_version"] == 3 and document["scan"]["ruleset"] == "current"
    assert document["scan"]["complete"] is False and len(document["findings"]) == 62
    marketing = next(s for s in document["subscriptions"] if s["subscription_name"].startswith("Contoso Marketing"))
    assert marketing["errors"][0]["status"] == 403 and marketing["errors"][0]["operation"] == "sites"
    assert {r["id"] for r in document["rules"]} >= {"CUR-EA-MCAE", "CUR-OTHER"}
    # issue 25.7: the step whose rule allows TCP 25 only to the mail provider names it as data
    vwan = next(f for f in flat_findings(document) if f["resource_name"] == "vm-vwan-app")
    (step,) = [hop for hop in vwan["path"] if "destinations" in hop]
    assert (step["kind"], step["destinations"], step["more_destinations"]) == (
        "firewall_rules",
        ["smtp.mail-provider.example"],
        0,
    )


def test_html_report_is_self_contained_and_shows_every_resource(
    contoso_reports: tuple[Path, ExitStatus, str, str],
) -> None:
    page = (contoso_reports[0] / "report.html").read_text(encoding="utf-8")
    for name in EXPECTED_CURRENT:
        assert f">{name}<" in page
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    assert 'id="audit-status">INCOMPLETE' in page and "AuthorizationFailed" in page
    assert 'href="#rule-CUR-EA-MCAE"' in page and 'id="rule-CUR-EA-MCAE"' in page


def test_ruleset_2020(tmp_path: Path) -> None:
    status, _, _ = run_cli(
        "scan",
        "--replay",
        str(CONTOSO),
        "--config",
        str(CONTOSO_CONFIG),
        "--out",
        str(tmp_path),
        "--ruleset",
        "2020",
        "--format",
        "csv",
        "--quiet",
    )
    assert status is ExitStatus.INCOMPLETE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.csv", "subscriptions.csv"]
    findings = {row["resource_name"]: row for row in rows(tmp_path / "findings.csv")}
    assert {name: findings[name]["rule"] for name in EXPECTED_2020} == EXPECTED_2020
    # seed 003, "Ograniczenia": routing port 25 through Azure PaaS such as Azure Firewall is not supported
    assert (findings["vmss-workers"]["egress"], findings["vmss-workers"]["verdict"]) == ("firewall", "not_supported")
    assert findings["vm-legacy-smtp"]["verdict"] == "open"  # created 2016: unchanged, default outbound access


def test_subscription_scope_and_a_subscription_that_cannot_be_seen(tmp_path: Path) -> None:
    legacy, ghost = "aa99fcc1-f632-51b0-aa44-501edde936f1", "00000000-0000-0000-0000-00000000dead"
    status, _, stderr = run_cli(
        "scan",
        "--replay",
        str(CONTOSO),
        "--subscription",
        legacy.upper(),
        "--subscription",
        ghost,
        "--out",
        str(tmp_path),
        "--format",
        "csv",
    )
    assert status is ExitStatus.INCOMPLETE
    subscriptions = {row["subscription_id"]: row for row in rows(tmp_path / "subscriptions.csv")}
    assert set(subscriptions) == {legacy, ghost}
    assert subscriptions[legacy]["collection"] == "ok"
    assert "NotVisible" in subscriptions[ghost]["collection"] and ghost in stderr


def test_a_full_scan_sends_only_get_requests() -> None:
    replay = ReplayTransport.from_file(CONTOSO)
    ArmCollector(ReplayCredential(), replay).collect()
    methods = {method for method, _ in replay.sent}
    assert methods == {"GET"} and len(replay.sent) >= 70


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["scan", "--ruleset", "2019"], ExitStatus.USAGE, "invalid choice: '2019'"),
        (["scan", "--format", "pdf"], ExitStatus.USAGE, "unknown format 'pdf'"),
        (["scan", "--replay", "missing.json"], ExitStatus.NO_INPUT, "missing.json: no such file"),
        (
            ["scan", "--replay", str(CONTOSO), "--config", "missing.toml"],
            ExitStatus.NO_INPUT,
            "missing.toml: no such file",
        ),
        (["frobnicate"], ExitStatus.USAGE, "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments_get_one_line_and_an_exit_code(argv: list[str], status: ExitStatus, message: str) -> None:
    got, _, stderr = run_cli(*argv)
    assert got is status and message in stderr
    assert "Traceback" not in stderr and stderr.count("\n") == 1


def test_bad_config_exits_64_with_the_place(tmp_path: Path) -> None:
    config = tmp_path / "audit.toml"
    config.write_text('[subscriptions."aa99fcc1-f632-51b0-aa44-501edde936f1"]\noffer = "gold"\n', encoding="utf-8")
    status, _, stderr = run_cli("scan", "--replay", str(CONTOSO), "--config", str(config), "--out", str(tmp_path / "r"))
    assert status is ExitStatus.USAGE and stderr.count("\n") == 1
    assert f"{config}: [subscriptions.\"aa99fcc1-f632-51b0-aa44-501edde936f1\"].offer: unknown offer 'gold'" in stderr
    assert not (tmp_path / "r").exists()


def test_reports_that_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    status, _, stderr = run_cli("scan", "--replay", str(CONTOSO), "--out", str(blocker / "reports"), "--quiet")
    assert status is ExitStatus.CANT_CREATE and "cannot write the reports" in stderr and "Traceback" not in stderr


def test_rules_command_prints_a_readable_list_and_markdown_on_request() -> None:
    """Issue 27.11: `rules` printed a raw Markdown table of 19,000 characters to the terminal. Now a block per rule,
    wrapped to a terminal's width; `--markdown` prints the table docs/rules.md is generated from."""
    status, stdout, _ = run_cli("rules")
    assert status is ExitStatus.SUCCESS
    assert not any(line.startswith("|") for line in stdout.splitlines()), "no Markdown table in the terminal"
    assert max(map(len, stdout.splitlines())) <= 103  # the article's link is the longest line
    assert "\nCUR-EA-MCAE: Azure's policy not blocked\n" in stdout and "\n2020-BIZSPARK: " in stdout
    assert "Polish edition (article of 2018-11-20, localised 2020-11-24)" in " ".join(stdout.split())
    assert "seed" not in stdout.lower()  # the team's word for its copies, never the product's
    status, markdown, _ = run_cli("rules", "--markdown")
    assert status is ExitStatus.SUCCESS and "|---|" in markdown
    assert "`CUR-EA-MCAE`" in markdown and "`2020-BIZSPARK`" in markdown
    assert "checked against the Polish edition (article of 2018-11-20, localised 2020-11-24)" in markdown


def test_version_and_help() -> None:
    status, stdout, _ = run_cli("--version")
    assert status is ExitStatus.SUCCESS and stdout.startswith("port25-audit ")
    status, stdout, _ = run_cli("scan", "--help")
    assert status is ExitStatus.SUCCESS and "--replay" in stdout and "examples:" in stdout


def _denied_subscription_list(tmp_path: Path) -> Path:
    """A recording whose subscription list answers 401: nothing can be audited."""
    recording = tmp_path / "denied.json"
    denied = {"error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}}
    entry = {
        "RequestUri": "https://management.azure.com/subscriptions?api-version=2022-12-01",
        "RequestMethod": "GET",
        "RequestHeaders": {},
        "RequestBody": None,
        "StatusCode": 401,
        "ResponseHeaders": {},
        "ResponseBody": denied,
    }
    recording.write_text(json.dumps({"Entries": [entry]}), encoding="utf-8")
    return recording


def test_a_subscription_list_that_cannot_be_read_is_said_even_when_quiet(tmp_path: Path) -> None:
    recording = _denied_subscription_list(tmp_path)
    status, _, stderr = run_cli("scan", "--replay", str(recording), "--out", str(tmp_path / "r"), "--quiet")
    assert status is ExitStatus.NOTHING_AUDITED
    assert "the subscription list could not be read, so no subscription was audited" in stderr
    assert "HTTP 401" in stderr or "401" in stderr
    assert "az login" in stderr and "Traceback" not in stderr


def test_the_reports_say_which_audit_config_was_used(contoso_reports: tuple[Path, ExitStatus, str, str]) -> None:
    """Issue 14.10: the config changes verdicts, so scan.json, the page and the workbook name it and its digest."""
    import hashlib

    out = contoso_reports[0]
    digest = hashlib.sha256(CONTOSO_CONFIG.read_bytes()).hexdigest()
    document = json.loads((out / "scan.json").read_text(encoding="utf-8"))
    assert document["scan"]["config"] == {"path": str(CONTOSO_CONFIG), "sha256": digest, "subscriptions": 11}
    assert document["tool"]["version"] and document["scan"]["ruleset"] == "current" and document["scan"]["source"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f"{CONTOSO_CONFIG} (11 subscription(s); SHA-256 {digest})" in page


def test_when_nothing_could_be_audited_last_week_s_reports_stay_and_the_exit_code_says_so(tmp_path: Path) -> None:
    """Issue 27.7 (docs/design.md §3): nothing audited (the subscription list failed) has its own exit code and
    leaves the previous reports in --out as they were: a scheduled run that lost its credential must not replace
    last week's reports with an empty set. No table of zeros either (issue 14.1)."""
    out = tmp_path / "r"
    first, _, _ = run_cli("scan", "--replay", str(CONTOSO), "--out", str(out), "--quiet")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    recording = _denied_subscription_list(tmp_path)

    status, stdout, stderr = run_cli("scan", "--replay", str(recording), "--out", str(out))

    assert first is ExitStatus.INCOMPLETE and status is ExitStatus.NOTHING_AUDITED
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert "┃" not in stdout and "Reports:" not in stdout  # no verdict table, no reports named
    assert "the reports in --out are left as they were" in stderr


def test_an_out_that_is_a_file_is_refused_before_the_tenant_is_read(tmp_path: Path) -> None:
    target = tmp_path / "reports.txt"
    target.write_text("not a folder", encoding="utf-8")

    status, _, stderr = run_cli("scan", "--replay", str(tmp_path / "missing.json"), "--out", str(target))

    assert status is ExitStatus.USAGE  # refused before the (missing) recording is even opened
    assert stderr.strip() == (
        f"port25-audit: --out {target} is a file, not a folder: the reports are a set of files; name a folder (it "
        "is made if it does not exist)"
    )
    assert target.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.parametrize(
    ("cloud", "portal"),
    [
        ("public", "https://portal.azure.com"),
        ("usgov", "https://portal.azure.us"),
        ("china", "https://portal.azure.cn"),
    ],
)
def test_resources_and_subscriptions_link_to_the_portal_of_their_cloud(tmp_path: Path, cloud: str, portal: str) -> None:
    """Issue 14.7: in the HTML and XLSX, every resource and subscription links to its cloud's Azure portal."""
    import openpyxl

    from tests.test_hostile import tenant

    # a recording without nextLinks: the bundled one's point to the public cloud's host, which another cloud's scan
    # rightly does not follow
    recording = tmp_path / "tenant.json"
    recording.write_text(json.dumps(tenant(("a", "A")).document()), encoding="utf-8")
    status, _, stderr = run_cli(
        "scan", "--replay", str(recording), "--cloud", cloud, "--out", str(tmp_path / "r"), "--format", "html,xlsx,csv"
    )
    assert status is ExitStatus.SUCCESS, stderr
    tmp_path = tmp_path / "r"
    row = next(r for r in rows(tmp_path / "findings.csv") if r["resource_name"] == "vm-a")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert f'href="{portal}/#@{row["tenant_id"]}/resource{row["resource_id"]}"' in page
    assert f'href="{portal}/#@{row["tenant_id"]}/resource/subscriptions/{row["subscription_id"]}/overview"' in page
    sheet = openpyxl.load_workbook(tmp_path / "findings.xlsx")["findings"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    cell = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("resource")].value == "vm-a")
    link = cell[header.index("resource")].hyperlink  # a link keeps the part after "#" as its location
    assert f"{link.target}#{link.location}" == f"{portal}/#@{row['tenant_id']}/resource{row['resource_id']}"
