"""How fast port25-audit classifies and reports a million resources. Prints figures; asserts nothing.

Builds a synthetic tenant of N subscriptions x M virtual machines (default 1,000 x 1,000: one million), each VM
with a NIC in a subnet with an NSG, so the network path is evaluated too; classifies it and renders every report
to disk, as a scan does (CSV, JSON, HTML; XLSX timed beside), and checks the row counts of what it wrote. Baseline,
measured in the same run: pandas alone building the same findings' 17 columns and writing them to a CSV file.
Figures: classify and each format's time, the ratio of classify + reports to the baseline (issue 28.1: <= 1.0),
peak RSS (<= 1.2; GB here and below are 1024**3 bytes, as ru_maxrss reads, the unit every figure in
benchmarks/README.md has used), each file's size (report.html <= 15 MB); the workbook's time against the baseline
(issue 28.2: <= 3x) and the resident size while it is written (<= 1.5). The last line is machine-readable:
`RESULT ratio_to_pandas=… classify_s=… peak_rss_gb=… rows_checked=…` (and `xlsx_…` with the workbook).

    python benchmarks/report_scale.py [--subscriptions 1000] [--resources 1000] [--formats csv,json,html] [--no-xlsx]
        [--specific-sources N] [--hub-firewall any|spokes|specific|ip-groups] [--ip-group-prefixes 100000]

`--hub-firewall` shapes the tenant as a landing zone: every spoke subnet routes 0.0.0.0/0 to an Azure Firewall in a
hub subscription, whose rules name any source (`any`), the spokes' address space, which holds each spoke's
subnet whole, as landing zones' rules usually do (`spokes`), or a range that splits the spokes' subnets
(`specific`: each sender is matched), or an IP group of `--ip-group-prefixes` /32 addresses, among them every
other VM's (`ip-groups`: each sender is looked up among them; 10 x 1,000 is 100,000 prefixes x 10,000 senders).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from operator import attrgetter
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditor.audit import write_scan
from auditor.classify.engine import classify
from auditor.classify.exceptions import with_exceptions
from auditor.model import (
    AcceptedException,
    AuditConfig,
    Finding,
    FirewallNetworking,
    FirewallPolicy,
    IpConfiguration,
    IpGroup,
    NetworkInterface,
    NetworkInventory,
    NetworkRule,
    NetworkRuleCollection,
    NetworkSecurityGroup,
    Resource,
    ResourceCategory,
    Route,
    RouteTable,
    RuleCollectionGroup,
    Ruleset,
    ScanMetadata,
    ScanResult,
    SecurityRule,
    Subnet,
    Subscription,
    SubscriptionInventory,
    TenantInventory,
    Verdict,
    VirtualNetwork,
)
from auditor.report.interface import Format
from auditor.report.tables import FINDING_COLUMNS

QUOTAS = ["EnterpriseAgreement_2014-09-01", "PayAsYouGo_2014-09-01", "MSDNDevTest_2014-09-01"]


HUB = "00000000-0000-0000-ffff-000000000000"
HUB_PREFIX = f"/subscriptions/{HUB}/resourceGroups/hub/providers"
HUB_VNET = f"{HUB_PREFIX}/Microsoft.Network/virtualNetworks/hub"
FIREWALL_IP = "10.255.0.4"


def ip_group_addresses(count: int, resources: int) -> tuple[str, ...]:
    """`count` /32 addresses: every other spoke VM's (10.0.x.y, as `synthetic_tenant` gives them), then others."""
    held = [f"10.0.{r // 250}.{r % 250 + 4}/32" for r in range(0, resources, 2)][:count]
    others = (f"10.{100 + n // 62500}.{n // 250 % 250}.{n % 250}/32" for n in range(count - len(held)))
    return (*held, *others)


def hub(spoke_vnets: list[str], rules: str, ip_group: tuple[str, ...] = ()) -> SubscriptionInventory:
    """A landing zone's hub: an Azure Firewall with a policy, its VNet peered with every spoke. `rules`: "any"
    (its rules name any source, so one decision serves every sender), "spokes" (a rule names the spokes' address
    space, which holds each spoke subnet whole: one decision a subnet) or "specific" (a rule names a range that
    splits the spokes' subnets, so each sender is matched)."""
    policy_id = f"{HUB_PREFIX}/Microsoft.Network/firewallPolicies/policy"
    web = NetworkRule("web", ("TCP",), ("*",), destination_addresses=("*",), destination_ports=("443",))
    smtp = NetworkRule("smtp", ("TCP",), ("10.0.1.0/24",), destination_addresses=("*",), destination_ports=("25",))
    spokes = NetworkRule("smtp", ("TCP",), ("10.0.0.0/16",), destination_addresses=("*",), destination_ports=("25",))
    group_id = f"{HUB_PREFIX}/Microsoft.Network/ipGroups/senders"
    grouped = NetworkRule("smtp", ("TCP",), (), (group_id,), destination_addresses=("*",), destination_ports=("25",))
    rules_of = {"any": (web,), "spokes": (web, spokes), "specific": (web, smtp), "ip-groups": (web, grouped)}[rules]
    group = RuleCollectionGroup(f"{policy_id}/ruleCollectionGroups/g", "g", 100, (
        NetworkRuleCollection("allow-out", 100, "Allow", rules_of),
    ))  # fmt: skip
    firewall = Resource(
        f"{HUB_PREFIX}/Microsoft.Network/azureFirewalls/fw", "fw", "Microsoft.Network/azureFirewalls", "",
        "westeurope", "hub", HUB, ResourceCategory.FIREWALL,
        firewall=FirewallNetworking((FIREWALL_IP,), True, f"{HUB_VNET}/subnets/AzureFirewallSubnet", None, policy_id),
    )  # fmt: skip
    network = NetworkInventory(
        subnets=(Subnet(f"{HUB_VNET}/subnets/AzureFirewallSubnet", "AzureFirewallSubnet", ("10.255.0.0/26",)),),
        virtual_networks=(VirtualNetwork(HUB_VNET, "hub", ("10.255.0.0/16",), tuple(spoke_vnets)),),
        firewall_policies=(FirewallPolicy(policy_id, "policy", None, (group,)),),
        ip_groups=(IpGroup(group_id, "senders", ip_group),) if ip_group else (),
    )
    subscription = Subscription(HUB, "hub", "Enabled", "tenant", QUOTAS[0])
    return SubscriptionInventory(subscription, (firewall,), (), (), network)


def synthetic_tenant(
    subscriptions: int, resources: int, specific_sources: int = 0, hub_firewall: str = "", ip_group_prefixes: int = 0
) -> TenantInventory:
    """`hub_firewall` ("any", "spokes" or "specific", see `hub`): every spoke subnet routes 0.0.0.0/0 to a hub
    firewall."""
    items = []
    for s in range(subscriptions):
        sub = f"00000000-0000-0000-{s // 10**12:04d}-{s % 10**12:012d}"
        prefix = f"/subscriptions/{sub}/resourceGroups/rg/providers"
        subnet_id = f"{prefix}/Microsoft.Network/virtualNetworks/vnet/subnets/snet"
        nsg_id = f"{prefix}/Microsoft.Network/networkSecurityGroups/nsg"
        deny = SecurityRule("deny-smtp", 100, "Outbound", "Deny", "Tcp", ("*",), ("Internet",), ("25",))
        # rules naming specific sources, as real NSGs have: each VM's address is then matched against them
        specific = tuple(
            SecurityRule(f"app-{i}", 200 + i, "Outbound", "Allow" if i % 2 else "Deny", "Tcp", (f"10.{i}.0.0/16",),
                         ("Internet",), ("25" if i % 5 == 0 else "443",))
            for i in range(specific_sources)
        )  # fmt: skip
        vms, nics = [], []
        for r in range(resources):
            nic_id = f"{prefix}/Microsoft.Network/networkInterfaces/vm-{r}-nic"
            vms.append(
                Resource(
                    f"{prefix}/Microsoft.Compute/virtualMachines/vm-{r}",
                    f"vm-{r}",
                    "Microsoft.Compute/virtualMachines",
                    "",
                    "westeurope",
                    "rg",
                    sub,
                    ResourceCategory.VIRTUAL_MACHINE,
                    nic_ids=(nic_id,),
                )
            )
            nics.append(
                NetworkInterface(
                    nic_id,
                    f"vm-{r}-nic",
                    True,
                    None,
                    (IpConfiguration("ipconfig1", True, subnet_id, f"10.0.{r // 250}.{r % 250 + 4}"),),
                )
            )
        vnet_id = subnet_id.rsplit("/subnets/", 1)[0]
        table_id = f"{prefix}/Microsoft.Network/routeTables/to-hub" if hub_firewall else None
        network = NetworkInventory(
            interfaces=tuple(nics),
            security_groups=(NetworkSecurityGroup(nsg_id, "nsg", ((deny,) if s % 4 == 0 else ()) + specific),),
            subnets=(Subnet(subnet_id, "snet", ("10.0.0.0/16",), nsg_id=nsg_id, route_table_id=table_id),),
            route_tables=(
                RouteTable(table_id, "to-hub", (Route("default", "0.0.0.0/0", "VirtualAppliance", FIREWALL_IP),)),
            )
            if table_id
            else (),
            virtual_networks=(VirtualNetwork(vnet_id, "vnet", ("10.0.0.0/16",), (HUB_VNET,)),) if hub_firewall else (),
        )
        items.append(
            SubscriptionInventory(
                Subscription(sub, f"subscription {s}", "Enabled", "tenant", QUOTAS[s % 3]), tuple(vms), (), (), network
            )
        )
    if hub_firewall:
        addresses = ip_group_addresses(ip_group_prefixes, resources) if hub_firewall == "ip-groups" else ()
        items.append(hub([item.network.virtual_networks[0].vnet_id for item in items], hub_firewall, addresses))
    return TenantInventory(tuple(items))


def exceptions_register(entries: int, subscriptions: int, resources: int) -> tuple[AcceptedException, ...]:
    """A register as a large organisation keeps one: mostly id globs naming a VM (or a few, by prefix) of one
    subscription, some whole subscriptions (a lab), resource groups and tags; some matching nothing (stale)."""
    register = []
    for n in range(entries):
        s = (n * 7919) % (subscriptions + subscriptions // 4 + 1)  # some beyond the tenant: stale
        sub = f"00000000-0000-0000-{s // 10**12:04d}-{s % 10**12:012d}"
        kind = n % 100
        vm = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-{n % resources}"
        selectors: dict[str, object] = (
            {"match": f"{vm}*"}
            if kind < 90
            else {"subscription": sub}
            if kind < 95
            else {"resource_group": "rg", "subscription": sub}
            if kind < 98
            else {"tag": ("role", f"relay-{n}")}
        )  # fmt: skip
        register.append(
            AcceptedException(
                n + 1,
                None,
                frozenset({Verdict.OPEN}),
                "bench",
                "owner",
                dt.date(2027, 6, 30),
                **selectors,  # type: ignore[arg-type]
            )
        )
    return tuple(register)


# Where each of findings.csv's first 17 columns comes from, for the baseline: pandas alone, not our tables module
# (which keeps the table it built for the formats). Read from the finding's parts, as the formats read them, not
# through the finding's properties (a Python call each, which would slow the baseline down); only the
# remediation, told with the finding's NIC, is a property.
BASELINE_FIELDS = {
    "tenant_id": "subscription.tenant_id", "subscription_id": "subscription.subscription_id",
    "subscription_name": "subscription.subscription_name", "offer": "subscription.offer",
    "quota_id": "subscription.quota_id", "resource_id": "resource.resource_id", "resource_name": "resource.name",
    "resource_type": "resource.resource_type", "kind": "resource.kind", "resource_group": "resource.resource_group",
    "location": "resource.location", "platform_policy": "assessment.platform_policy.value",
    "egress": "assessment.egress.value", "verdict": "assessment.verdict.value", "rule": "assessment.rule",
    "reason": "assessment.reason", "remediation": "remediation",
}  # fmt: skip


def baseline_table(findings: tuple[Finding, ...]) -> pd.DataFrame:
    assert list(BASELINE_FIELDS) == FINDING_COLUMNS[:17]
    return pd.DataFrame({name: list(map(attrgetter(path), findings)) for name, path in BASELINE_FIELDS.items()})


def rows_in_csv(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def findings_in_json(path: Path) -> int:
    """Findings in scan.json, counted as it streams by (the file is too large to load whole at a million)."""
    marker, count, tail = b'"resource_id":', 0, b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            block = tail + chunk
            count += block.count(marker)
            tail = block[-(len(marker) - 1) :]
    return count


class ResidentWhile:
    """The highest resident set size seen while the block runs, sampled every 20 ms from /proc (Linux): what a
    step costs on top of what the process holds then, where the run's peak (ru_maxrss) also holds every step
    before it."""

    def __init__(self) -> None:
        self.highest_gb = 0.0
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        with open("/proc/self/statm", encoding="ascii") as statm:
            while True:
                statm.seek(0)
                self.highest_gb = max(self.highest_gb, int(statm.read().split()[1]) * page / 1024**3)
                if self._done.wait(0.02):
                    return

    def __enter__(self) -> ResidentWhile:
        self._sampler.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._sampler.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--resources", type=int, default=1000, help="virtual machines per subscription")
    parser.add_argument("--formats", default="csv,json,html", help="the reports in the ratio (default: scan's)")
    parser.add_argument("--xlsx", action=argparse.BooleanOptionalAction, default=True, help="time XLSX beside")
    parser.add_argument(
        "--specific-sources", type=int, default=0, help="rules with a specific source prefix added to every NSG"
    )
    parser.add_argument(
        "--hub-firewall",
        choices=["any", "spokes", "specific", "ip-groups"],
        help="spokes route through a hub Azure Firewall whose rules name any source, the spokes' address space, "
        "a range that splits their subnets, or an IP group of --ip-group-prefixes addresses",
    )
    parser.add_argument("--ip-group-prefixes", type=int, default=100_000, help="with --hub-firewall ip-groups")
    parser.add_argument(
        "--exceptions",
        type=int,
        default=0,
        help="an exceptions register of this many entries (id globs, subscriptions, groups, tags), matched after "
        "classify and timed against it",
    )
    args = parser.parse_args()
    formats = [Format(f) for f in args.formats.split(",")]
    out = Path(tempfile.mkdtemp(prefix="port25-report-bench-"))

    started = time.perf_counter()
    tenant = synthetic_tenant(
        args.subscriptions, args.resources, args.specific_sources, args.hub_firewall or "", args.ip_group_prefixes
    )
    built = time.perf_counter()
    findings, summaries = classify(tenant, AuditConfig(), Ruleset.CURRENT)
    classified = time.perf_counter()
    del tenant
    if args.exceptions:
        register = exceptions_register(args.exceptions, args.subscriptions, args.resources)
        start = time.perf_counter()
        findings, outcome = with_exceptions(findings, register, dt.date(2026, 12, 4))
        matched = time.perf_counter() - start
        accepted = sum(1 for f in findings if f.exception is not None)
        print(
            f"exceptions ({len(register)} entries): {matched:6.1f} s, {matched / (classified - built):.1%} of classify "
            f"(target < 10%); {accepted} findings matched, {len(outcome.stale)} stale"
        )
    now = dt.datetime.now(dt.UTC)
    result = ScanResult(ScanMetadata("bench", Ruleset.CURRENT, now, now, "synthetic", (), ()), findings, summaries)

    timings: dict[str, float] = {}
    for fmt in formats:  # one format at a time, on disk, as a scan writes them (`write_scan` writes them together)
        start = time.perf_counter()
        write_scan(result, out / fmt.value, [fmt])
        timings[fmt.value] = time.perf_counter() - start
    ours = (classified - built) + sum(timings.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux; before the baseline runs

    checked = 0
    expected = args.subscriptions * args.resources + (1 if args.hub_firewall else 0)  # the hub firewall
    if Format.CSV in formats:
        assert rows_in_csv(out / "csv" / "findings.csv") == expected, "findings.csv lost rows"
        checked = expected
    if Format.JSON in formats:
        assert findings_in_json(out / "json" / "scan.json") == expected, "scan.json lost findings"
        checked = expected

    # The baseline last, so its own memory is not counted above: pandas alone, from the same findings to a CSV
    # file of the same 17 columns.
    baseline_start = time.perf_counter()
    baseline_table(findings).to_csv(out / "baseline.csv", index=False)
    baseline = time.perf_counter() - baseline_start

    # XLSX after the baseline, so the baseline runs in the state our formats left (XLSX leaves a larger heap)
    xlsx = xlsx_peak = run_peak = None
    if args.xlsx:
        with ResidentWhile() as resident:
            start = time.perf_counter()
            write_scan(result, out / "xlsx", [Format.XLSX])
            xlsx = time.perf_counter() - start
        xlsx_peak = resident.highest_gb
        run_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2

    print(f"resources: {len(findings):,} in {args.subscriptions} subscriptions, written to {out}")
    print(f"synthetic tenant built:  {built - started:7.1f} s   (not counted)")
    print(f"classify (rules, NSGs):  {classified - built:7.1f} s")
    for name, seconds in timings.items():
        print(f"write {name:5} to disk:   {seconds:7.1f} s")
    if xlsx is not None:
        ratio = xlsx / baseline
        print(f"write xlsx to disk:      {xlsx:7.1f} s   (beside: not in the ratio; {ratio:.1f}x pandas, target <= 3)")
        print(f"RSS while xlsx written:  {xlsx_peak:7.2f} GB (its highest, sampled; target <= 1.5)")
        print(f"peak RSS of the run:     {run_peak:7.2f} GB (beside: xlsx and the baseline included)")
    print(f"pandas baseline:         {baseline:7.1f} s   (the findings' 17 columns, table built and written to a file)")
    print(f"classify + {'+'.join(timings)}: {ours:7.1f} s   ratio to pandas: {ours / baseline:5.2f}  (target <= 1.0)")
    print(f"peak RSS:                {peak:7.2f} GB (target <= 1.2)")
    for directory in sorted(out.iterdir()):
        for file in sorted(directory.glob("*")) if directory.is_dir() else []:
            size = file.stat().st_size / 1024**2
            print(f"  {file.name:18} {size:9.1f} MB" + ("   (target <= 15 MB)" if file.name == "report.html" else ""))
    print(
        f"RESULT ratio_to_pandas={ours / baseline:.2f} classify_s={classified - built:.1f} peak_rss_gb={peak:.2f} "
        f"rows_checked={checked}"
        + (
            f" xlsx_s={xlsx:.1f} xlsx_ratio_to_pandas={xlsx / baseline:.2f} xlsx_peak_rss_gb={xlsx_peak:.2f}"
            f" run_peak_rss_gb={run_peak:.2f}"
            if xlsx is not None
            else ""
        )
    )
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
