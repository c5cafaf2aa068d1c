"""findings.xlsx: findings (filters, frozen header), summary, by subscription, subscriptions, rules, drift.

The workbook is written by rustpy-xlsxwriter (Python bindings of rust_xlsxwriter) in constant-memory mode: each
findings row goes to disk as it is handed over, the findings made a slice of CHUNK_ROWS at a time, so a million
findings take under a minute and little memory. Past Excel's 1,048,576 rows the findings go on in a second sheet,
and the summary says so. Every text cell is stored as text: a leading = + - @ never runs as a formula (the
free-text columns also carry Excel's quote prefix), `#N/A` is never an error value, and a string is never taken
for a number. The first column's names link to the portal; past Excel's links a sheet they are text.
"""

from __future__ import annotations

import math
import numbers
import tempfile
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from rustpy_xlsxwriter import Format, write_worksheets

from auditor.classify.rules import EDITIONS, RULES
from auditor.model import (
    ChangeKind,
    Egress,
    ExceptionState,
    Finding,
    Offer,
    PlatformPolicy,
    PowerState,
    ScanMetadata,
    ScanResult,
    Verdict,
    name_of,
)
from auditor.report.counts import open_counts
from auditor.report.interface import CHUNK_ROWS, Chunks, Formatter
from auditor.report.labels import label, type_label
from auditor.report.order import severity_order
from auditor.report.tables import (
    OVERVIEW_COLUMNS,
    drift_table,
    exceptions_table,
    findings_table,
    subscriptions_table,
    verdict_counts,
    verdicts_by_subscription,
)
from auditor.report.text import NOT_XML, xml_safe

EXCEL_MAX_ROWS = 1_048_576
MAX_WIDTH = 60
# Excel keeps at most this many hyperlinks a sheet: past them a name is text (the id is in its own column).
MAX_LINKS = 65_530
MAX_URL = 2_079  # Excel's longest link
MAX_TEXT = 32_767  # Excel's longest text a cell: the writer refuses the whole workbook for a longer one
CUT = " … (cut here: Excel holds 32,767 characters a cell; findings.csv and scan.json hold it whole)"
READ_BYTES = 1 << 20


def reads_as_link(name: str) -> bool:
    """Whether the writer might take this name for a link, were it written in the link column: it does for
    http(s)://, ftp://, file://, mailto: and internal:, even after leading spaces. A colon covers them all; no Azure
    name of an audited type holds one (a crafted one may)."""
    return ":" in name


def _summary(result: ScanResult, findings: pd.DataFrame, sheets: Sequence[str], links: int) -> pd.DataFrame:
    meta = result.metadata
    counts = open_counts(result.findings)
    rows: list[tuple[str, Any]] = [
        ("scan started", meta.started.isoformat()),
        ("scan finished", meta.finished.isoformat()),
        ("tool version", meta.tool_version),
        ("rules", f"{EDITIONS[meta.ruleset].name} (--ruleset {meta.ruleset.value})"),
        ("source", meta.source),
        (
            "audit config",
            f"{meta.config.path} ({meta.config.subscriptions} subscription(s); SHA-256 {meta.config.sha256})"
            if meta.config
            else "none",
        ),
        ("scope", ", ".join(meta.scope) or "every subscription the identity can see"),
        ("audit complete", "yes" if result.complete else "NO: see the subscriptions sheet, column collection"),
        *((label(Verdict, verdict), count) for verdict, count in verdict_counts(findings).items()),
        ("open, accepted by exceptions", counts.accepted),
        ("open, their exception expired", counts.expired),
        ("resources", len(findings)),
    ]
    if len(sheets) > 1:
        rows.append(
            (
                "findings sheets",
                f"{len(findings)} findings, most severe first, over {', '.join(sheets)} (Excel holds "
                f"{EXCEL_MAX_ROWS:,} rows a sheet)",
            )
        )
    if len(findings) > links:
        rows.append(
            (
                "portal links",
                f"on each findings sheet, the names of the first {links:,} resources link to the portal (Excel's "
                "limit a sheet); every resource's id is in its resource_id column"
                if links
                else f"none: more names than Excel's {MAX_LINKS:,} links a sheet read as links themselves; every "
                "resource's id is in its resource_id column",
            )
        )
    return pd.DataFrame(rows, columns=["item", "value"])


def _rules(result: ScanResult) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                r.id,
                label(PlatformPolicy, r.policy),
                r.summary,
                r.citation,
                r.quote_english,
                f"{r.edition.language_name}: {r.quote}",
                r.remediation,
            )
            for r in RULES[result.metadata.ruleset]
        ],
        columns=[
            "rule",
            "Azure's policy",
            "what it says",
            "citation",
            "the article says",
            "in the original",
            "remediation",
        ],
    )


def _widths(table: pd.DataFrame) -> list[float]:
    sample = table.head(200)
    widths: list[float] = []
    for name in table.columns:
        if name in WRAPPED:
            widths.append(WRAPPED[name])
            continue
        longest = max([len(str(name)), *(len(str(v)) for v in sample[name] if v is not None)])
        widths.append(min(max(longest + 2, 8), MAX_WIDTH))
    return widths


def _cell(value: Any) -> Any:
    """A value as the workbook holds it: text XML can carry, numbers and booleans as they are, nothing for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return _within_a_cell(xml_safe(value)) or None  # a control character would make the workbook unreadable
    if isinstance(value, numbers.Number):
        return value
    return _within_a_cell(xml_safe(str(value)))


def _within_a_cell(text: str) -> str:
    """The text, or as much of it as a cell holds, saying where it was cut (a resource's 50 tags can be longer)."""
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - len(CUT)] + CUT


class _Workbook:
    """The sheets and, per sheet, what the writer takes: header style, widths, wrap, links, filters, frozen panes."""

    def __init__(self) -> None:
        self.sheets: list[tuple[str, Any]] = []
        self.widths: dict[str, list[float]] = {}
        self.formats: dict[str, dict[str, Format]] = {}
        self.links: dict[str, dict[str, str]] = {}
        self.frozen: dict[str, dict[str, int]] = {}
        self.header = (
            Format()
            .set_bold()
            .set_font_color("#FFFFFF")
            .set_background_color("#2F5597")
            .set_text_wrap()
            .set_align("top")
        )
        self.text = Format().set_quote_prefix()
        self.wrapped = Format().set_text_wrap().set_align("top").set_quote_prefix()

    def add(
        self,
        name: str,
        rows: pd.DataFrame | Iterator[dict[str, Any]],
        sample: pd.DataFrame,
        *,
        freeze_names: bool = False,
        links: dict[str, str] | None = None,
    ) -> None:
        """A sheet of `rows` (a table, or rows one at a time), laid out by `sample` (its first rows)."""
        self.sheets.append((name, rows))
        self.widths[name] = _widths(sample)
        self.formats[name] = {
            column: self.wrapped if column in WRAPPED else self.text
            for column in sample.columns
            if column not in (links or {}) and not _numeric(sample[column])
        }
        if links:
            self.links[name] = links
        self.frozen[name] = {"row": 1, "col": 1 if freeze_names else 0}

    def written(self) -> Iterator[bytes]:
        """The workbook's bytes, a slice at a time. The writer puts the workbook in a temporary file of its own (a
        million rows' workbook held in memory would cost about 250 MB more), read back here, then removed."""
        with tempfile.TemporaryDirectory(prefix="port25-xlsx-") as directory:
            path = Path(directory) / "findings.xlsx"
            write_worksheets(
                self.sheets,
                str(path),
                freeze_panes=self.frozen,
                column_widths=dict(self.widths),  # dict(): the writer's own value types (dict is invariant)
                column_formats=dict(self.formats),
                header_format={name: self.header for name, _ in self.sheets},
                autofilter={name: True for name, _ in self.sheets},
                url_columns=dict(self.links),
            )
            with path.open("rb") as stream:
                while chunk := stream.read(READ_BYTES):
                    yield chunk


def _numeric(column: pd.Series) -> bool:
    return any(isinstance(v, numbers.Number) for v in column)


def _table(table: pd.DataFrame) -> pd.DataFrame:
    """A table as the workbook holds it (see _cell)."""
    return table.apply(lambda column: column.map(_cell)) if len(table) else table


# The findings sheet, for people: who and what first, the verdict and what to do, then why, then the rest; the
# machine columns (the name and ids, as findings.csv names them) to the right. Each: its header, and its
# findings.csv column.
PEOPLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("resource", "resource_name"),  # the name, linking to the portal
    ("subscription", "subscription_name"),
    ("verdict", "verdict"),
    ("what to do", "remediation"),
    ("Azure's policy", "platform_policy"),  # "Blocked, exemption available": where the block can be lifted
    ("why", "reason"),
    ("egress", "egress"),
    ("via", "via"),
    ("relay on 587", "relay_587"),
    ("state", "state"),
    ("rule", "rule"),
    ("exception", "exception"),
    ("exception owner", "exception_owner"),
    ("exception expires", "exception_expires"),
    ("exception ticket", "exception_ticket"),
    ("tags", "tags"),
    ("type", "resource_type"),
    ("kind", "kind"),
    ("resource group", "resource_group"),
    ("location", "location"),
    ("offer", "offer"),
    ("resource_name", "resource_name"),  # the name as text: what the link shows (and a name to copy)
    ("resource_id", "resource_id"),
    ("subscription_id", "subscription_id"),
    ("tenant_id", "tenant_id"),
    ("quota_id", "quota_id"),
)
HEADERS = tuple(header for header, _ in PEOPLE_COLUMNS)
# The link column and the column whose text it shows.
LINKS = {"resource": "resource_name"}
# Columns of long text: wrapped in a column this wide (the rest are as wide as their values, up to MAX_WIDTH).
WRAPPED = {"what to do": 70, "why": 70}
_LABELLED = {
    "verdict": Verdict,
    "platform_policy": PlatformPolicy,
    "egress": Egress,
    "relay_587": Verdict,
    "state": PowerState,
    "exception": ExceptionState,
    "offer": Offer,
}


def _people(table: pd.DataFrame) -> dict[str, list[Any]]:
    """A slice of findings.csv's table as the findings sheet shows it: its columns, labelled for people, each as
    the workbook holds it (see _text)."""
    people = {}
    for header, column in PEOPLE_COLUMNS:
        values = table[column]
        if column in _LABELLED:
            values = values.map(partial(label, _LABELLED[column]))
        elif column == "resource_type":
            values = values.map(type_label)
        elif column == "via":
            values = values.map(name_of)
        people[header] = _text(values.tolist())
    return people


def _text(values: list[Any]) -> list[Any]:
    """A column of text as the workbook holds it: one search finds whether any value needs escaping for XML or is
    too long for a cell (almost never), and only then is each value looked at."""
    try:
        clean = NOT_XML.search(" ".join(values)) is None and max(map(len, values), default=0) <= MAX_TEXT
    except TypeError:  # not all text
        clean = False
    return values if clean else [_cell(value) for value in values]


def _portal_links(rows: Sequence[Finding]) -> int | None:
    """How many of a sheet's first rows get a portal link. A name that the writer would take for a link itself, were
    it written in the link column past them, gets its portal link too, and counts: a sheet never holds more links
    than Excel reads, and no name links to where it says. None: more names than that read as links, and the sheet
    links none."""
    own = [position for position, f in enumerate(rows) if reads_as_link(f.resource.name)]
    if len(own) > MAX_LINKS:
        return None
    first = MAX_LINKS - len(own)
    while (more := MAX_LINKS - sum(1 for position in own if position >= first)) != first:
        first = more  # the names among the first rows link there: as many more rows fit
    return min(len(rows), first)


def _findings_rows(result: ScanResult, rows: Sequence[Finding], links: int | None) -> Iterator[dict[str, Any]]:
    """One findings sheet's rows, made a slice at a time: the first `links` names link to the portal, and past them
    each name the writer would take for a link."""
    for start in range(0, len(rows), CHUNK_ROWS):
        part = rows[start : start + CHUNK_ROWS]
        columns = _people(findings_table(part))
        if links is not None:
            _link(result.metadata, part, columns["resource"], links - start)
        for values in zip(*columns.values(), strict=True):
            yield dict(zip(HEADERS, values, strict=True))


def _link(meta: ScanMetadata, part: Sequence[Finding], names: list[Any], first: int) -> None:
    """The link column of a slice: its first `first` rows, and any past them whose name reads as a link, get their
    portal page's address (the writer shows the name beside it, LINKS, and links it here)."""
    for offset, finding in enumerate(part):
        name = finding.resource.name
        if not names[offset] or (offset >= first and not reads_as_link(name)):
            continue  # (no name to show: no link, which would show its address, or "None")
        url = xml_safe(meta.portal_link(finding.resource.resource_id, finding.tenant_id))
        if len(url) > MAX_URL:  # Excel would not follow it: the resource's subscription's page instead
            url = xml_safe(meta.portal_link(f"/subscriptions/{finding.subscription_id}", finding.tenant_id))
        if len(url) <= MAX_URL:
            names[offset] = url
        elif reads_as_link(name):
            names[offset] = None  # it would link where it says; the name is in resource_name


def _write_findings(book: _Workbook, result: ScanResult, overview: pd.DataFrame) -> tuple[list[str], int]:
    """Every finding, most severe first; past a sheet's rows on the next sheet. The sheets' names, and the fewest
    names a full sheet links to the portal."""
    order, _ = severity_order(overview)
    findings = result.findings
    ordered = [findings[int(position)] for position in order]
    sample = pd.DataFrame(_people(findings_table(ordered[:200])))
    per_sheet = EXCEL_MAX_ROWS - 1  # its header is row 0
    names: list[str] = []
    fewest = MAX_LINKS
    for start in range(0, max(len(ordered), 1), per_sheet):
        rows = ordered[start : start + per_sheet]
        names.append("findings" if not names else f"findings ({len(names) + 1})")
        links = _portal_links(rows)
        if len(rows) > (links or 0):
            fewest = min(fewest, links or 0)
        data = _findings_rows(result, rows, links) if rows else pd.DataFrame(columns=list(HEADERS))
        book.add(names[-1], data, sample, freeze_names=True, links=LINKS if links is not None else None)
    return names, fewest


def _subscriptions(subscriptions: pd.DataFrame) -> pd.DataFrame:
    """subscriptions.csv's table, its offers, policies and verdicts in words (the CSV keeps the values)."""
    return subscriptions.assign(
        offer=subscriptions["offer"].map(partial(label, Offer)),
        vm_policy=subscriptions["vm_policy"].map(partial(label, PlatformPolicy)),
    ).rename(columns={v.value: label(Verdict, v) for v in Verdict})


def _drift(drift: pd.DataFrame) -> pd.DataFrame:
    """drift.csv's table, its changes, verdicts and types in words."""
    return drift.assign(
        change=drift["change"].map(partial(label, ChangeKind)),
        resource_type=drift["resource_type"].map(type_label),
        verdict_before=drift["verdict_before"].map(partial(label, Verdict)),
        verdict_after=drift["verdict_after"].map(partial(label, Verdict)),
    )


def _by_subscription(subscriptions: pd.DataFrame) -> pd.DataFrame:
    """Verdicts per subscription, the verdicts and offers in words."""
    table = verdicts_by_subscription(subscriptions)
    table["offer"] = table["offer"].map(partial(label, Offer))
    # the name first, the id last (a GUID opened the sheet)
    order = ["subscription_name", "offer", *[v.value for v in Verdict], "total", "collection", "offer_note"]
    return table[[*order, "subscription_id"]].rename(columns={v.value: label(Verdict, v) for v in Verdict})


class XlsxFormatter(Formatter):
    FILE_NAMES = frozenset({"findings.xlsx"})

    def format(self, result: ScanResult) -> dict[str, Chunks]:
        findings = findings_table(result.findings, OVERVIEW_COLUMNS)
        subscriptions = subscriptions_table(result)
        book = _Workbook()
        sheets, links = _write_findings(book, result, findings)
        tables = {
            "summary": _summary(result, findings, sheets, links),
            "by subscription": _by_subscription(subscriptions),
            "subscriptions": _subscriptions(subscriptions),
            "rules": _rules(result),
        }
        if result.drift is not None:
            tables["drift"] = _drift(drift_table(result))
        if result.exceptions.stale or any(f.exception for f in result.findings):
            # the register as this run applied it
            tables["Exceptions"] = exceptions_table(result).drop(columns=["attention"])
        for name, table in tables.items():
            book.add(name, _table(table), table)
        return {"findings.xlsx": book.written()}
