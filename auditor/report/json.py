"""scan.json: every row of the other reports plus the run's metadata; read back as a --baseline.

Its shape is `scan.schema.json` beside this file (JSON Schema 2020-12); `schema_version` changes whenever a field
changes meaning or goes away.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from auditor.classify.rules import RULES
from auditor.files import InputFileError, read_json
from auditor.model import (
    Assessment,
    Baseline,
    CollectionError,
    ExceptionState,
    Finding,
    PathHop,
    PreviousFinding,
    ScanResult,
    Verdict,
)
from auditor.report.interface import CHUNK_ROWS, Chunks, Formatter
from auditor.report.tables import FINDING_COLUMNS, drift_table, encoded_rows, finding_column, subscriptions_table
from auditor.report.text import encoded_once, utf8

SCHEMA_VERSION = 3
# Baselines this version reads: 1 lacks the via, via_policy and relay_587 columns, which a baseline does not use;
# 2 holds every column in each finding; 3 says what findings share once (see `JsonFormatter`).
READABLE_SCHEMA_VERSIONS = (1, 2, 3)

# What a schema_version 3 finding leaves to `subscriptions` (its subscription's columns) and to `explanations`
# (what findings alike share); the rest of findings.csv's columns are its own, then `explanation`.
SUBSCRIPTION_MEMBERS = ["tenant_id", "subscription_name", "offer", "quota_id"]
EXPLANATION_MEMBERS = ["reason", "remediation", "via", "via_policy", "relay_587"]
OWN_MEMBERS = [c for c in FINDING_COLUMNS if c not in {*SUBSCRIPTION_MEMBERS, *EXPLANATION_MEMBERS}]


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


# Where the tables JsonFormatter writes a slice at a time go; our keys, with quotes no text from Azure brings unescaped
SLOTS = {name: f"__port25_{name}__" for name in ("hops", "explanations", "findings")}


def scan_document(result: ScanResult) -> dict[str, Any]:
    """The document, with a slot where each of its large tables goes (JsonFormatter writes them)."""
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
        **SLOTS,
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
    """scan.json. Schema_version 3 says what findings share once: a million resources alike share a few thousand
    reasons and ways out, and their subscription's name and offer. `hops` holds each step of a way out once;
    `explanations` each (reason, remediation, via, via_policy, relay_587, path) once, its path as indices into
    `hops`; a finding holds its own members and the index of its explanation. Both tables come before the findings,
    so a reader that streams the findings has what they refer to. `flat_findings` makes schema_version 2's rows
    of it again."""

    FILE_NAMES = frozenset({"scan.json"})

    def format(self, result: ScanResult) -> dict[str, Chunks]:
        return {"scan.json": self._chunks(result)}

    @staticmethod
    def _chunks(result: ScanResult) -> Iterator[bytes]:
        """The document around the tables, the findings a slice at a time."""
        text = json.dumps(scan_document(result), indent=2, ensure_ascii=False)
        # text and slots in turn: re.split keeps the slots it splits at (its pattern's group)
        pieces = re.split('"(' + "|".join(SLOTS) + ')": "__port25_[a-z]+__"', text)
        ways = _Ways(result.findings)
        for index, piece in enumerate(pieces):
            if index % 2 == 0:
                yield utf8(piece)
                continue
            yield utf8(f'"{piece}": [')
            if piece == "hops":
                yield b",".join(map(_hop, ways.hops))
            elif piece == "explanations":
                yield from _sliced(ways.explanation_objects, len(ways.explanations))
            else:
                yield from _sliced(partial(_finding_objects, result.findings, ways.numbers), len(result.findings))
            yield b"]"
        yield b"\n"


def _sliced(objects: Callable[[int, int], bytes], count: int) -> Iterator[bytes]:
    """A table's objects CHUNK_ROWS at a time, comma-separated."""
    for start in range(0, count, CHUNK_ROWS):
        if start:
            yield b","
        yield objects(start, start + CHUNK_ROWS)


def _objects(members: list[list[bytes]]) -> bytes:
    """JSON objects of members given a column at a time (each a list of `"name":value`), comma-separated."""
    return b"{" + b"},{".join(map(b",".join, zip(*members, strict=True))) + b"}" if members[0] else b""


class _Ways:
    """What the findings share, each once, numbered in the order first met: their explanations, the ways out of
    those, and the hops of the ways out."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        first: dict[tuple[object, ...], int] = {}
        self.explanations: list[Finding] = []  # the first finding of each explanation
        self.explanation_paths: list[int] = []  # each explanation's way out
        self.numbers = [0] * len(findings)  # each finding's explanation
        numbered: dict[tuple[PathHop, ...], int] = {}
        path_of: dict[int, int] = {}  # a path tuple's number by its identity: each tuple is hashed once
        before: Assessment | None = None
        before_nic = ""
        number = 0
        for index, f in enumerate(findings):
            told, nic = f.assessment, f.nic
            # findings of VMs alike come together, sharing one assessment: the same explanation where they name
            # the same NIC, or none (told by the objects being the same ones, no text compared)
            if told is before and nic is before_nic:
                self.numbers[index] = number
                continue
            path = path_of.get(id(told.path))
            if path is None:
                path = path_of[id(told.path)] = numbered.setdefault(told.path, len(numbered))
            key = (told.reason, f.remediation, told.via, told.via_policy, told.relay_587, path)
            found = first.get(key)
            if found is None:
                found = first[key] = len(self.explanations)
                self.explanations.append(f)
                self.explanation_paths.append(path)
            self.numbers[index] = number = found
            before, before_nic = told, nic
        hops: dict[PathHop, int] = {}
        self._path_members = [
            b'"path":' + _encoded([hops.setdefault(hop, len(hops)) for hop in path]) for path in numbered
        ]
        self.hops = list(hops)

    def explanation_objects(self, start: int, end: int) -> bytes:
        part = self.explanations[start:end]
        members = [_members(name, finding_column(part, name)) for name in EXPLANATION_MEMBERS]
        members.append([self._path_members[path] for path in self.explanation_paths[start:end]])
        return _objects(members)


def _finding_objects(findings: Sequence[Finding], explanations: Sequence[int], start: int, end: int) -> bytes:
    """Findings start to end as JSON objects, comma-separated: their own members, then their explanation's
    number. Each distinct value is encoded once (`encoded_once`), as compact JSON in UTF-8 (`_encoded`), the members
    a finding reads from a part it shares once a part object (`encoded_rows`), and the objects are joined from those
    bytes."""
    members = encoded_rows(findings[start:end], OWN_MEMBERS, _finding_members)
    members.append(_members("explanation", list(explanations[start:end])))
    return _objects(members)


def _finding_members(findings: Sequence[Finding], name: str) -> list[bytes]:
    return _members(name, finding_column(findings, name))


def _members(name: str, values: list[object]) -> list[bytes]:
    key = _encoded(name) + b":"
    return encoded_once(values, lambda value: key + _encoded(value))


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json(value: object) -> str:
    """Compact JSON by Python's json; a lone surrogate stays for `utf8` to escape."""
    return _COMPACT.encode(value)


def _encoded(value: object) -> bytes:
    """Compact JSON as UTF-8: by orjson, which writes what Python's json and `utf8` write, byte for byte (a test
    compares them), several times faster; a text with a lone surrogate, which orjson refuses, by those two (the
    surrogate becomes its escape, which JSON reads back as it was)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return utf8(_json(value))


def flat_findings(document: dict[str, Any]) -> list[dict[str, Any]]:
    """A scan.json's findings as rows of every column with the path's hops in place (schema_version 2's shape):
    a schema_version 3 finding joined with its subscription and its explanation; older documents as they are."""
    if document.get("schema_version") != 3:
        return list(document["findings"])
    subscriptions = {s["subscription_id"]: s for s in document["subscriptions"]}
    hops, explanations = document["hops"], document["explanations"]
    rows = []
    for finding in document["findings"]:
        subscription = subscriptions[finding["subscription_id"]]
        explanation = explanations[finding["explanation"]]
        row = {name: subscription[name] for name in SUBSCRIPTION_MEMBERS}
        row.update({name: value for name, value in finding.items() if name != "explanation"})
        row.update({name: explanation[name] for name in EXPLANATION_MEMBERS})
        row["path"] = [hops[number] for number in explanation["path"]]
        rows.append(row)
    return rows


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
            f"{_listed(READABLE_SCHEMA_VERSIONS)}); scan again with this version to make a new baseline"
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


def _listed(versions: Sequence[int]) -> str:
    """1, 2 and 3"""
    *rest, last = map(str, versions)
    return f"{', '.join(rest)} and {last}" if rest else last


def _hop(hop: PathHop) -> bytes:
    """A step of a way out; `destinations` (and how many more) only where a rule allows TCP to some destinations
    only."""
    said: dict[str, object] = {"kind": hop.kind, "id": hop.id, "says": hop.says}
    if hop.destinations:
        said["destinations"] = list(hop.destinations)
        said["more_destinations"] = hop.more_destinations
    return _encoded(said)
