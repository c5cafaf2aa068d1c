"""scan.json: every row of the other reports plus the run's metadata; read back as a --baseline.

Its shape is `scan.schema.json` beside this file (JSON Schema 2020-12); `schema_version` changes whenever a field
changes meaning or goes away.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from auditor.classify.rules import RULES
from auditor.files import InputFileError, read_json
from auditor.model import (
    Baseline,
    CollectionError,
    ExceptionState,
    Finding,
    PathHop,
    PreviousFinding,
    ScanResult,
    Verdict,
)
from auditor.report.interface import Chunks, Formatter
from auditor.report.tables import drift_table, finding_slices, subscriptions_table
from auditor.report.text import encoded_once, utf8

SCHEMA_VERSION = 2
# Baselines this version reads: 1 lacks the via, via_policy and relay_587 columns, which a baseline does not use.
READABLE_SCHEMA_VERSIONS = (1, 2)


class BaselineError(InputFileError):
    """A baseline that cannot be used; the message says why, on one line."""


def schema() -> dict[str, Any]:
    text = resources.files("auditor.report").joinpath("scan.schema.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def _error(error: CollectionError) -> dict[str, Any]:
    return {
        "operation": error.operation,
        "request": error.request,
        "status": error.status,
        "code": error.code,
        "message": error.message,
    }


FINDINGS_SLOT = "__port25_findings__"


def scan_document(result: ScanResult) -> dict[str, Any]:
    """The document, with a slot where the findings go (JsonFormatter writes them a slice at a time)."""
    meta = result.metadata
    subscriptions = subscriptions_table(result).to_dict(orient="records")
    for row, summary in zip(subscriptions, result.subscriptions, strict=True):
        row["errors"] = [_error(e) for e in summary.errors]
    drift = None
    if result.drift is not None:
        drift = {
            "baseline": result.drift.baseline,
            "baseline_started": result.drift.baseline_started,
            "new_exposure": len(result.drift.new_exposure),
            "changes": drift_table(result).to_dict(orient="records"),
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "port25-audit", "version": meta.tool_version},
        "scan": {
            "started": meta.started.isoformat(),
            "finished": meta.finished.isoformat(),
            "ruleset": meta.ruleset.value,
            "source": meta.source,
            "scope": list(meta.scope),
            "config": None
            if meta.config is None
            else {"path": meta.config.path, "sha256": meta.config.sha256, "subscriptions": meta.config.subscriptions},
            "complete": result.complete,
            "errors": [_error(e) for e in meta.tenant_errors],
        },
        "subscriptions": subscriptions,
        "findings": FINDINGS_SLOT,
        "rules": [
            {
                "id": r.id,
                "citation": r.citation,
                "quote": r.quote,
                "quote_english": r.quote_english,
                "language": r.edition.language,
                "summary": r.summary,
                "platform_policy": r.policy.value,
                "remediation": r.remediation,
            }
            for r in RULES[meta.ruleset]
        ],
        "drift": drift,
    }


class JsonFormatter(Formatter):
    FILE_NAMES = frozenset({"scan.json"})

    def format(self, result: ScanResult) -> dict[str, Chunks]:
        return {"scan.json": self._chunks(result)}

    @staticmethod
    def _chunks(result: ScanResult) -> Iterator[bytes]:
        """The document around the rows, and the rows a slice at a time."""
        text = json.dumps(scan_document(result), indent=2, ensure_ascii=False)
        # our key, with quotes that no text from Azure can bring unescaped
        before, after = text.split(f'"findings": "{FINDINGS_SLOT}"', 1)
        yield utf8(before + '"findings": [')
        for index, (table, findings) in enumerate(finding_slices(result.findings)):
            if index:
                yield b","
            yield _finding_objects(table, findings)
        yield utf8("]" + after + "\n")


def _finding_objects(part: pd.DataFrame, findings: Sequence[Finding]) -> bytes:
    """The slice's findings as JSON objects, comma-separated: the table's columns, then each one's path.

    Each distinct value (and way out) is encoded once (`encoded_once`), by Python's json (as pandas' writer would
    write it, `/` escaped) and to UTF-8, and the objects are joined from those bytes. Each slice's paths are
    encoded with it: a million findings' hops at once would be gigabytes."""
    members = [_members(str(name), part[name].tolist()) for name in part.columns]
    # by identity: findings that share a way out share its hops
    ways = {id(finding.path): finding.path for finding in findings}
    members.append(
        encoded_once(
            [id(finding.path) for finding in findings],
            lambda way: utf8('"path":' + _json([_hop(h) for h in ways[way]])),
        )
    )
    return b"{" + b"},{".join(map(b",".join, zip(*members, strict=True))) + b"}" if findings else b""


def _members(name: str, values: list[object]) -> list[bytes]:
    key = _json(name) + ":"
    return encoded_once(values, lambda value: utf8(key + _json(value)))


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json(value: object) -> str:
    """Compact JSON, as pandas' writer makes it (which escapes `/`); a lone surrogate stays for `utf8` to escape."""
    return _COMPACT.encode(value).replace("/", "\\/")


def read_baseline(path: Path) -> Baseline:
    """The findings of an earlier scan.json, checked for a schema_version this version reads."""
    document = read_json(path, BaselineError)
    tool = document.get("tool") if isinstance(document, dict) else None
    if not isinstance(tool, dict) or tool.get("name") != "port25-audit":
        raise BaselineError(f"{path}: not a port25-audit scan.json")
    version = document.get("schema_version")
    if version not in READABLE_SCHEMA_VERSIONS or isinstance(version, bool):
        raise BaselineError(
            f"{path}: scan.json schema_version {version!r} is not one this port25-audit reads (it reads "
            f"{' and '.join(map(str, READABLE_SCHEMA_VERSIONS))}); scan again with this version to make a new baseline"
        )
    try:
        findings = tuple(
            PreviousFinding(
                str(f["resource_id"]),
                str(f["resource_name"]),
                str(f["resource_type"]),
                str(f["subscription_id"]),
                Verdict(f["verdict"]),
                ExceptionState(f["exception"]) if f.get("exception") else None,
            )
            for f in document["findings"]
        )
        started = str(document["scan"]["started"])
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise BaselineError(
            f"{path}: a finding or the scan metadata does not follow schema_version {version} ({err!r})"
        ) from err
    return Baseline(str(path), started, findings)


def _hop(hop: PathHop) -> dict[str, object]:
    """A path step; `destinations` (and how many more) only where a rule allows TCP to some destinations only."""
    said: dict[str, object] = {"kind": hop.kind, "id": hop.id, "says": hop.says}
    if hop.destinations:
        said["destinations"] = list(hop.destinations)
        said["more_destinations"] = hop.more_destinations
    return said
