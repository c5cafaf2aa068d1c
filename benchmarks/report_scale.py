"""How fast port25-audit classifies and reports a million resources. Prints figures; asserts nothing.

Builds a synthetic tenant of N subscriptions x M virtual machines (default 1,000 x 1,000: one million), each VM
with a NIC in a subnet with an NSG, so the network path is evaluated too; classifies it and renders every report
(CSV, JSON, HTML, XLSX). Baseline, measured in the same run: pandas' own `to_csv` of the same findings table.
Figures: wall time per step, peak RSS, each report's size, the ratio of report writing to the baseline (target
<= 3), peak RSS (target <= 3 GB), report.html size (target <= 15 MB).

    python benchmarks/report_scale.py [--subscriptions 1000] [--resources 1000] [--formats csv,json,html,xlsx]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditor.classify.engine import classify
from auditor.model import (
    AuditConfig,
    IpConfiguration,
    NetworkInterface,
    NetworkInventory,
    NetworkSecurityGroup,
    Resource,
    ResourceCategory,
    Ruleset,
    ScanMetadata,
    ScanResult,
    SecurityRule,
    Subnet,
    Subscription,
    SubscriptionInventory,
    TenantInventory,
)
from auditor.report.interface import Format, formatter_for
from auditor.report.tables import findings_table

QUOTAS = ["EnterpriseAgreement_2014-09-01", "PayAsYouGo_2014-09-01", "MSDNDevTest_2014-09-01"]


def synthetic_tenant(subscriptions: int, resources: int) -> TenantInventory:
    items = []
    for s in range(subscriptions):
        sub = f"00000000-0000-0000-{s // 10**12:04d}-{s % 10**12:012d}"
        prefix = f"/subscriptions/{sub}/resourceGroups/rg/providers"
        subnet_id = f"{prefix}/Microsoft.Network/virtualNetworks/vnet/subnets/snet"
        nsg_id = f"{prefix}/Microsoft.Network/networkSecurityGroups/nsg"
        deny = SecurityRule("deny-smtp", 100, "Outbound", "Deny", "Tcp", ("*",), ("Internet",), ("25",))
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
        network = NetworkInventory(
            interfaces=tuple(nics),
            security_groups=(NetworkSecurityGroup(nsg_id, "nsg", (deny,) if s % 4 == 0 else ()),),
            subnets=(Subnet(subnet_id, "snet", ("10.0.0.0/16",), nsg_id=nsg_id),),
        )
        items.append(
            SubscriptionInventory(
                Subscription(sub, f"subscription {s}", "Enabled", "tenant", QUOTAS[s % 3]), tuple(vms), (), (), network
            )
        )
    return TenantInventory(tuple(items))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--resources", type=int, default=1000, help="virtual machines per subscription")
    parser.add_argument("--formats", default="csv,json,html,xlsx")
    args = parser.parse_args()
    formats = [Format(f) for f in args.formats.split(",")]

    started = time.perf_counter()
    tenant = synthetic_tenant(args.subscriptions, args.resources)
    built = time.perf_counter()
    findings, summaries = classify(tenant, AuditConfig(), Ruleset.CURRENT)
    classified = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    result = ScanResult(ScanMetadata("bench", Ruleset.CURRENT, now, now, "synthetic", (), ()), findings, summaries)

    sizes: dict[str, int] = {}
    timings: dict[str, float] = {}
    for fmt in formats:
        start = time.perf_counter()
        for name, chunks in formatter_for(fmt).format(result).items():
            sizes[name] = sum(len(chunk) for chunk in chunks)  # as the writer streams them, one chunk at a time
        timings[fmt.value] = time.perf_counter() - start
    writing = sum(timings.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux; before the baseline runs

    # The baseline last, so its own memory (pandas builds the whole CSV as one string) is not counted above.
    baseline_start = time.perf_counter()
    findings_table(result).to_csv(index=False)
    baseline = time.perf_counter() - baseline_start

    print(f"resources: {len(findings):,} in {args.subscriptions} subscriptions")
    print(f"synthetic tenant built:  {built - started:7.1f} s")
    print(f"classify (rules, NSGs):  {classified - built:7.1f} s")
    for name, seconds in timings.items():
        print(f"format {name:5}:            {seconds:7.1f} s")
    print(f"pandas to_csv baseline:  {baseline:7.1f} s   (findings table built and written by pandas alone)")
    csv_ratio = timings.get("csv", float("nan")) / baseline
    print(f"ratio, csv to baseline:  {csv_ratio:7.2f}    (target <= 3)")
    print(f"ratio, all reports to baseline: {writing / baseline:5.2f}")
    print(f"peak RSS:                {peak:7.2f} GB (target <= 3)")
    for name, size in sizes.items():
        print(f"  {name:18} {size / 1024**2:9.1f} MB" + ("   (target <= 15 MB)" if name == "report.html" else ""))


if __name__ == "__main__":
    main()
