"""A digest of every finding of the bundled tenant and of each synthetic tenant the benchmarks build: a change
that must not change any finding (a refactor, a speed-up) prints the same lines before and after.

    python benchmarks/digests.py [--subscriptions 20] [--resources 200]

Each line: the tenant, its findings' count, the SHA-256 of every finding's every field but its path and of every
subscription summary, in order; and that of the findings' paths (scan.json's steps), apart.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_scale import synthetic_tenant

from auditor.classify.engine import classify
from auditor.collect.factory import build_collector
from auditor.collect.recipe import CollectorRecipe
from auditor.config import load_config
from auditor.model import AuditConfig, Finding, Ruleset, TenantInventory

REPO = Path(__file__).resolve().parent.parent

# What a finding says, in the order its digest has always hashed it: the text stays the same while the model's
# layout of a finding changes (which parts it shares with others).
SAID = (
    "tenant_id", "subscription_id", "subscription_name", "offer", "quota_id", "resource", "platform_policy", "egress",
    "verdict", "rule", "reason", "remediation", "via", "via_policy", "relay_587", "path", "exception", "tags",
)  # fmt: skip


def said(finding: Finding) -> str:
    """The finding as its digest hashes it: the resource by its id (its model type may gain fields), no path."""
    values = {name: getattr(finding, name) for name in SAID} | {"resource": finding.resource.resource_id, "path": ()}
    return "Finding(" + ", ".join(f"{name}={value!r}" for name, value in values.items()) + ")"


def digest(inventory: TenantInventory, config: AuditConfig) -> tuple[int, str, str]:
    """The findings' count, the digest of every finding (its path left out) and summary, and that of the paths."""
    findings, summaries = classify(inventory, config, Ruleset.CURRENT)
    hashed, paths = hashlib.sha256(), hashlib.sha256()
    for finding in findings:
        hashed.update(said(finding).encode("utf-8"))
        paths.update(repr(finding.path).encode("utf-8"))
    for summary in summaries:
        hashed.update(repr(summary).encode("utf-8"))
    return len(findings), hashed.hexdigest(), paths.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=20)
    parser.add_argument("--resources", type=int, default=200)
    args = parser.parse_args()
    recipe = CollectorRecipe(replay=REPO / "fixtures" / "contoso.json")
    contoso = build_collector(recipe, 1).collect()
    config, _ = load_config(REPO / "fixtures" / "contoso.toml")
    tenants = {"contoso": (contoso, config)}
    shapes = {
        "flat": {},
        "specific-sources": {"specific_sources": 10},
        "hub-any": {"hub_firewall": "any"},
        "hub-spokes": {"hub_firewall": "spokes"},
        "hub-specific": {"hub_firewall": "specific"},
        "hub-ip-groups": {"hub_firewall": "ip-groups", "ip_group_prefixes": 5_000},
    }
    for name, options in shapes.items():
        tenants[name] = (synthetic_tenant(args.subscriptions, args.resources, **options), AuditConfig())  # type: ignore[arg-type]
    for name, (inventory, audit_config) in tenants.items():
        count, findings, paths = digest(inventory, audit_config)
        print(f"{name:18} {count:8} findings {findings[:24]} paths {paths[:24]}")


if __name__ == "__main__":
    main()
