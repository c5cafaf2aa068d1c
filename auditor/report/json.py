"""scan.json: every row of the other reports plus the run's metadata; the input for --baseline."""

from __future__ import annotations

import json
from typing import Any

from auditor.classify.rules import RULES
from auditor.model import CollectionError, ScanResult
from auditor.report.interface import Formatter
from auditor.report.tables import findings_table, subscriptions_table

SCHEMA_VERSION = 1


def _error(error: CollectionError) -> dict[str, Any]:
    return {
        "operation": error.operation,
        "request": error.request,
        "status": error.status,
        "code": error.code,
        "message": error.message,
    }


def scan_document(result: ScanResult) -> dict[str, Any]:
    meta = result.metadata
    subscriptions = subscriptions_table(result).to_dict(orient="records")
    for row, summary in zip(subscriptions, result.subscriptions, strict=True):
        row["errors"] = [_error(e) for e in summary.errors]
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "port25-audit", "version": meta.tool_version},
        "scan": {
            "started": meta.started.isoformat(),
            "finished": meta.finished.isoformat(),
            "ruleset": meta.ruleset.value,
            "source": meta.source,
            "scope": list(meta.scope),
            "complete": result.complete,
            "errors": [_error(e) for e in meta.tenant_errors],
        },
        "subscriptions": subscriptions,
        "findings": findings_table(result).to_dict(orient="records"),
        "rules": [
            {
                "id": r.id,
                "citation": r.citation,
                "quote": r.quote,
                "summary": r.summary,
                "platform_policy": r.policy.value,
                "remediation": r.remediation,
            }
            for r in RULES[meta.ruleset]
        ],
    }


class JsonFormatter(Formatter):
    def format(self, result: ScanResult) -> dict[str, bytes]:
        text = json.dumps(scan_document(result), indent=2, ensure_ascii=False)
        return {"scan.json": (text + "\n").encode("utf-8")}
