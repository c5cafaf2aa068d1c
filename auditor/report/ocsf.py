"""findings.ocsf.json (`--format ocsf`): one OCSF 1.5 Compliance Finding (class 2003, with the cloud profile) per
resource, as a JSON array, for a SIEM or a security data lake (Sentinel, Security Lake, Prowler's tools).

Why Compliance Finding and not Detection Finding: each row is the result of checking one control (the article's
rule for the subscription type, with the network path) against one resource, pass or fail, as a compliance scanner
does; Detection Finding is for an observed threat or suspicious activity, which an open port 25 path is not.

Mapping: the verdict is the compliance status (open: fail; blocked, denied by network, not supported: pass;
unknown: unknown) and sets the severity (open: high, or informational while an exception accepts it; unknown:
low); the rule id and the article's edition and section are the control, standard and requirement; the reason is
the finding's description; the remediation its remediation; the resource its id, type, region, resource group and
tags; the subscription and tenant the cloud account and organisation. An exception is the finding's status:
accepted is Suppressed, with who accepted it, why and until when in `status_detail`. What OCSF has no field for
(egress, platform policy, via, TCP 587, state) is under `unmapped`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from auditor.classify.rules import ARTICLE_URL, EDITIONS, RULES
from auditor.model import ExceptionState, Finding, ScanResult, Verdict
from auditor.report.interface import CHUNK_ROWS, Chunks, Formatter
from auditor.report.labels import label
from auditor.report.text import utf8

OCSF_VERSION = "1.5.0"
COMPLIANCE_FINDING = 2003  # class_uid
FINDINGS_CATEGORY = 2  # category_uid
CREATE = 1  # activity_id: a finding made by this scan
AZURE_SUBSCRIPTION = 13  # account.type_id

# compliance.status_id: 0 Unknown, 1 Pass, 2 Warning, 3 Fail
COMPLIANCE_STATUS = {
    Verdict.OPEN: (3, "Fail"),
    Verdict.BLOCKED: (1, "Pass"),
    Verdict.DENIED_BY_NETWORK: (1, "Pass"),
    Verdict.NOT_SUPPORTED: (1, "Pass"),
    Verdict.UNKNOWN: (0, "Unknown"),
}
# severity_id: 1 Informational, 2 Low, 4 High
SEVERITY = {
    Verdict.OPEN: (4, "High"),
    Verdict.BLOCKED: (1, "Informational"),
    Verdict.DENIED_BY_NETWORK: (1, "Informational"),
    Verdict.NOT_SUPPORTED: (1, "Informational"),
    Verdict.UNKNOWN: (2, "Low"),
}
ACCEPTED_SEVERITY = (1, "Informational")
# status_id: 1 New, 3 Suppressed
NEW, SUPPRESSED = (1, "New"), (3, "Suppressed")


class OcsfFormatter(Formatter):
    FILE_NAMES = frozenset({"findings.ocsf.json"})

    def format(self, result: ScanResult) -> dict[str, Chunks]:
        return {"findings.ocsf.json": _chunks(result)}


def _chunks(result: ScanResult) -> Iterator[bytes]:
    yield b"["
    for start in range(0, len(result.findings), CHUNK_ROWS):
        part = result.findings[start : start + CHUNK_ROWS]
        text = ",\n".join(json.dumps(finding_event(f, result), ensure_ascii=False) for f in part)
        yield utf8(("," if start else "\n") + text)
    yield b"\n]\n"


def finding_event(finding: Finding, result: ScanResult) -> dict[str, Any]:
    """One finding as an OCSF Compliance Finding."""
    meta = result.metadata
    rules = {rule.id: rule for rule in RULES[meta.ruleset]}
    rule = rules.get(finding.rule)
    edition = EDITIONS[meta.ruleset]
    status_id, status = COMPLIANCE_STATUS[finding.verdict]
    severity_id, severity = ACCEPTED_SEVERITY if finding.accepted else SEVERITY[finding.verdict]
    resource = finding.resource
    time_ms = int(meta.started.timestamp() * 1000)
    event: dict[str, Any] = {
        "class_uid": COMPLIANCE_FINDING,
        "class_name": "Compliance Finding",
        "category_uid": FINDINGS_CATEGORY,
        "category_name": "Findings",
        "activity_id": CREATE,
        "activity_name": "Create",
        "type_uid": COMPLIANCE_FINDING * 100 + CREATE,
        "type_name": "Compliance Finding: Create",
        "time": time_ms,
        "severity_id": severity_id,
        "severity": severity,
        "message": f"{resource.name}: {label(Verdict, finding.verdict)}",
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": ["cloud"],
            "product": {"name": "port25-audit", "vendor_name": "port25-audit", "version": meta.tool_version},
            "uid": f"{meta.started.isoformat()}/{resource.resource_id.lower()}",
            "tenant_uid": finding.tenant_id,
        },
        "finding_info": {
            "uid": f"port25-audit/{finding.rule}{resource.resource_id.lower()}",
            "title": f"Outbound SMTP (TCP 25) from {resource.name}: {label(Verdict, finding.verdict)}",
            "desc": finding.reason,
            "types": ["Outbound SMTP (TCP 25)"],
            "created_time": time_ms,
        },
        "compliance": {
            "control": finding.rule,
            "standards": [f"Microsoft, Troubleshoot outbound SMTP connectivity issues in Azure ({edition.label})"],
            "requirements": [f"{rule.section_english}: {rule.summary}" if rule else finding.rule],
            "status_id": status_id,
            "status": status,
        },
        "remediation": {"desc": finding.remediation, "references": [ARTICLE_URL]},
        "resources": [_resource(finding)],
        "cloud": {
            "provider": "Azure",
            "region": resource.location,
            "account": {
                "uid": finding.subscription_id,
                "name": finding.subscription_name,
                "type_id": AZURE_SUBSCRIPTION,
                "type": "Azure Subscription",
            },
            "org": {"uid": finding.tenant_id},
        },
        "unmapped": {
            "verdict": finding.verdict.value,
            "platform_policy": finding.platform_policy.value,
            "egress": finding.egress.value,
            "via": finding.via,
            "via_policy": "" if finding.via_policy is None else str(finding.via_policy),
            "relay_587": finding.relay_587.value if finding.relay_587 else "",
            "state": finding.resource.state.value if finding.resource.state else "",
            "offer": finding.offer,
        },
    }
    event.update(_status(finding))
    return event


def _resource(finding: Finding) -> dict[str, Any]:
    resource = finding.resource
    details: dict[str, Any] = {
        "uid": resource.resource_id,
        "name": resource.name,
        "type": resource.resource_type,
        "region": resource.location,
        "group": {"name": resource.resource_group},
    }
    tags = [{"name": name, "value": value} for name, value in (finding.tags or resource.tags)]
    if tags:
        details["tags"] = tags
    return details


def _status(finding: Finding) -> dict[str, Any]:
    match = finding.exception
    if match is None:
        return {"status_id": NEW[0], "status": NEW[1]}
    entry = match.exception
    said = (
        f"exception {match.state.value} (audit config {entry.where}): {entry.reason}; owner {entry.owner}"
        + (f", ticket {entry.ticket}" if entry.ticket else "")
        + f"; expires {entry.expires.isoformat()}"
    )
    status_id, status = SUPPRESSED if match.state is ExceptionState.ACCEPTED else NEW
    return {"status_id": status_id, "status": status, "status_detail": said}
