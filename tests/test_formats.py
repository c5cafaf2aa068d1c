"""Every report format, and the text hazards they must survive."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import replace
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from auditor.model import (
    Assessment,
    CollectionError,
    Egress,
    Finding,
    NicAdvice,
    Offer,
    OfferReading,
    PathHop,
    PlatformPolicy,
    Resource,
    ResourceCategory,
    Ruleset,
    ScanMetadata,
    ScanResult,
    Subscription,
    SubscriptionLabel,
    SubscriptionSummary,
    Verdict,
    ViaPolicy,
)
from auditor.report.csv import finding_chunks, neutralise, table_chunks
from auditor.report.formats import formatter_for
from auditor.report.interface import CHUNK_ROWS, Format, Formatter, rendered
from auditor.report.json import flat_findings
from auditor.report.tables import FINDING_COLUMNS, OWN_FINDING_COLUMNS, findings_table
from tests.recordings import synthetic_result

HOSTILE = '<script>alert("x")</script> =HYPERLINK("http://evil") \u00e9\u00e8'
SUB = Subscription(
    "00000000-0000-0000-0000-000000000001", "=cmd|' /C calc'!A0", "Enabled", "t", "PayAsYouGo_2014-09-01"
)


def _result() -> ScanResult:
    resource = Resource(
        f"/subscriptions/{SUB.subscription_id}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/x",
        HOSTILE,
        "Microsoft.Compute/virtualMachines",
        "",
        "westeurope",
        "rg",
        SUB.subscription_id,
        ResourceCategory.VIRTUAL_MACHINE,
    )
    finding = Finding(
        resource,
        SubscriptionLabel("t", SUB.subscription_id, SUB.display_name, "pay_as_you_go", SUB.quota_id or ""),
        Assessment(PlatformPolicy.BLOCKED, Egress.UNKNOWN, Verdict.BLOCKED, "CUR-OTHER", "+reason", "-remediation"),
    )
    summary = SubscriptionSummary(
        SUB,
        OfferReading(Offer.PAY_AS_YOU_GO, SUB.quota_id, "quotaId", "n"),
        PlatformPolicy.BLOCKED,
        "CUR-OTHER",
        "@relay",
        {v: 0 for v in Verdict},
        (CollectionError("sites", "GET /x", "<b>denied</b>", 403, "AuthorizationFailed"),),
    )
    now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    return ScanResult(ScanMetadata("0", Ruleset.CURRENT, now, now, "test", (), ()), (finding,), (summary,))


def _cells(content: bytes) -> dict[str, list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


@pytest.mark.parametrize("fmt", list(Format))
def test_every_format_has_a_pure_formatter(fmt: Format) -> None:
    formatter = formatter_for(fmt)
    assert isinstance(formatter, Formatter)
    files = rendered(formatter.format(_result()))
    assert files and all(isinstance(content, bytes) and content for content in files.values())
    again = rendered(formatter.format(_result()))
    if fmt is Format.XLSX:  # a zip stamps each entry with the time it was written: compare what the sheets hold
        assert {n: _cells(c) for n, c in again.items()} == {n: _cells(c) for n, c in files.items()}
    else:
        assert again == files  # the same input gives the same bytes


def test_the_workbook_s_temporary_file_is_gone_once_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workbook's writer puts the workbook in a temporary file (in memory, a million rows' workbook cost about
    250 MB more); the formatter reads it back in slices and removes it."""
    import tempfile

    from auditor.report import xlsx

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(xlsx, "READ_BYTES", 1_000)
    chunks = list(xlsx.XlsxFormatter().format(_result())["findings.xlsx"])
    assert len(chunks) > 1 and all(len(chunk) <= 1_000 for chunk in chunks)
    assert _cells(b"".join(chunks))["findings"][0][:3] == ("resource", "subscription", "verdict")
    assert list(tmp_path.iterdir()) == []


def test_the_page_comes_in_slices_that_make_the_whole_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """report.html is made as the template renders it, a slice at a time (the whole page as text, its pieces and
    its bytes at once were about 30 MB of a million findings' peak): the slices make the same page as one piece."""
    from auditor.report import html

    result = synthetic_result(300)
    monkeypatch.setattr(html, "PAGE_SLICE", 10**9)
    (whole,) = html.HtmlFormatter().format(result)["report.html"]
    monkeypatch.setattr(html, "PAGE_SLICE", 1_000)
    slices = list(html.HtmlFormatter().format(result)["report.html"])
    assert len(slices) > 10 and b"".join(slices) == whole
    assert whole.startswith(b"<!DOCTYPE html>") and whole.rstrip().endswith(b"</html>")


def test_csv_neutralises_formulas_without_losing_text() -> None:
    content = rendered(formatter_for(Format.CSV).format(_result()))
    findings = list(csv.DictReader(io.StringIO(content["findings.csv"].decode("utf-8"))))
    assert findings[0]["subscription_name"] == "'=cmd|' /C calc'!A0"
    assert findings[0]["resource_name"] == HOSTILE  # starts with '<': not a formula, kept as it is
    assert findings[0]["reason"] == "'+reason" and findings[0]["remediation"] == "'-remediation"
    subscriptions = list(csv.DictReader(io.StringIO(content["subscriptions.csv"].decode("utf-8"))))
    assert subscriptions[0]["exemption"] == "'@relay"
    assert [neutralise(v) for v in ("\tx", "\rx", "ok", 3)] == ["'\tx", "'\rx", "ok", 3]


def test_html_escapes_names_and_errors() -> None:
    page = rendered(formatter_for(Format.HTML).format(_result()))["report.html"].decode("utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "<b>denied</b>" not in page and "&lt;b&gt;denied&lt;/b&gt;" in page
    assert "innerHTML" not in page


# Cells the writers must write as pandas' own writers do: quoting, escapes, empties, repeats, lone surrogates.
AWKWARD = [
    "", "plain", "a,b", 'q"uote', "line\nbreak", "cr\rlf", "\r\n", " lead", "trail ", "\x00nul\x01\x1f", "\x7f\x9f",
    "\u2028\u2029", "é ünïcode 😀", "back\\slash", "sl/ash /subscriptions/x", "<b>&amp;</b>", "\ufeff", "tab\t", "'",
]  # fmt: skip


def _awkward_table(rows: int) -> pd.DataFrame:
    """Every awkward value in every column, repeated across more than one slice of CHUNK_ROWS."""
    values = [AWKWARD[(i * 7) % len(AWKWARD)] for i in range(rows)]
    return pd.DataFrame({"a": values, "b": values[::-1], "c": [f"unique {i}" for i in range(rows)]}, dtype=object)


def test_csv_writes_what_pandas_to_csv_writes() -> None:
    table = _awkward_table(CHUNK_ROWS + 5)
    expected = table.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
    # every column as port25-audit's own words, so nothing is neutralised and pandas is the whole reference
    assert b"".join(table_chunks(table, own_columns=set(table.columns))) == expected
    assert b"".join(table_chunks(table.iloc[:0])) == b"a,b,c\r\n"


def test_findings_csv_writes_what_the_table_path_writes_with_awkward_shared_parts() -> None:
    """Issue 28.1: findings.csv encodes the columns a finding reads from a part it shares (its subscription's label,
    its assessment) once a part object. It writes the bytes of findings_table through table_chunks (the path the
    test above checks against pandas), with awkward and formula-like text in those parts and in a finding's own
    cells, parts shared and not, equal parts as distinct objects, NIC advice, across slices."""
    base = _result().findings[0]
    formulas = ["=SUM(A1)", "-2", "+cmd", "@x", *AWKWARD]
    labels = [
        SubscriptionLabel(formulas[i], f"sub-{i % 3}", formulas[-i - 1], "pay_as_you_go", formulas[i + 1])
        for i in range(6)
    ]  # labels 0 and 3 say the same, as distinct objects
    assessments = [
        Assessment(
            PlatformPolicy.BLOCKED,
            Egress.UNKNOWN,
            list(Verdict)[i % 5],
            formulas[i % len(formulas)],
            formulas[(i * 3) % len(formulas)],
            NicAdvice(formulas[i % 7], formulas[(i + 2) % 9]) if i % 2 else formulas[(i * 5) % len(formulas)],
            formulas[(i * 2) % len(formulas)],
            ViaPolicy(PlatformPolicy.NOT_BLOCKED, formulas[i % 4]) if i % 3 == 0 else None,
            Verdict.OPEN if i % 4 else None,
        )
        for i in range(9)
    ]
    findings = tuple(
        replace(
            base,
            resource=replace(base.resource, name=formulas[i % len(formulas)]),
            subscription=labels[(i // 7) % len(labels)],
            assessment=assessments[(i // 3) % len(assessments)],
            nic=formulas[i % 11],
            tags=(("owner", formulas[i % 5]),) if i % 13 == 0 else (),
        )
        for i in range(CHUNK_ROWS + 7)
    )

    expected = b"".join(table_chunks(findings_table(findings), OWN_FINDING_COLUMNS))
    assert b"".join(finding_chunks(findings)) == expected
    rows = list(csv.reader(io.StringIO(expected.decode("utf-8"))))
    assert len(rows) == CHUNK_ROWS + 8 and rows[1][FINDING_COLUMNS.index("tenant_id")] == "'=SUM(A1)"


def test_csv_neutralises_each_cell_of_a_repeated_value() -> None:
    table = pd.DataFrame({"name": ["=1+2", "ok", "=1+2", "-x"], "verdict": ["=own", "open", "=own", "open"]})
    rows = list(csv.reader(io.StringIO(b"".join(table_chunks(table, own_columns={"verdict"})).decode("utf-8"))))
    assert rows[1:] == [["'=1+2", "=own"], ["ok", "open"], ["'=1+2", "=own"], ["'-x", "open"]]


def test_scan_json_loses_nothing_of_a_finding_it_writes_once() -> None:
    """Issue 28.1: schema_version 3 writes what findings share once (their subscription's columns, explanations,
    hops). Joined again (`flat_findings`), every finding is findings.csv's row, every column, with its path, across
    slices and with awkward text; the shared tables hold each explanation and hop once."""
    base = _result()
    finding = base.findings[0]
    count = CHUNK_ROWS + 3
    hops = [PathHop("nsg", "/subscriptions/x/nsg", AWKWARD[i % 5]) for i in range(5)]
    paths = [(hops[i % 5],) if i % 3 else () for i in range(10)]  # ten ways out, some sharing hops
    findings = tuple(
        replace(
            finding,
            resource=replace(finding.resource, name=AWKWARD[i % len(AWKWARD)]),
            assessment=replace(finding.assessment, reason=AWKWARD[(i * 7) % len(AWKWARD)], path=paths[i % 10]),
        )
        for i in range(count)
    )
    result = replace(base, findings=findings)
    document = json.loads(rendered(formatter_for(Format.JSON).format(result))["scan.json"])

    table = findings_table(result.findings).assign(
        path=[[{"kind": h.kind, "id": h.id, "says": h.says} for h in f.path] for f in findings]
    )
    assert flat_findings(document) == table.to_dict(orient="records")
    assert len(document["findings"]) == count and len(document["hops"]) == 5
    distinct = {(f.reason, f.path) for f in findings}
    assert len(document["explanations"]) == len(distinct)
    assert "reason" not in document["findings"][0] and "offer" not in document["findings"][0]


def test_scan_json_keeps_a_lone_surrogate_as_its_escape() -> None:
    base = _result()
    result = replace(
        base,
        findings=(
            replace(base.findings[0], assessment=replace(base.findings[0].assessment, reason="bad \ud800 text")),
        ),
    )
    document = rendered(formatter_for(Format.JSON).format(result))["scan.json"]
    assert flat_findings(json.loads(document))[0]["reason"] == "bad \ud800 text"


# docs/CONTRIBUTING.md, "Add a report format": each check fails naming the step left out.
RECIPE = "docs/CONTRIBUTING.md, 'Add a report format'"


@pytest.mark.parametrize("fmt", list(Format))
def test_each_format_follows_the_recipe(fmt: Format) -> None:
    from dataclasses import replace

    from auditor.model import Drift, TrendPoint
    from auditor.report.formats import FORMATTERS, report_names

    assert fmt in FORMATTERS, f"{RECIPE}, step 3: {fmt!r} has no row in FORMATTERS (auditor/report/formats.py)"
    formatter = FORMATTERS[fmt]
    assert formatter.FILE_NAMES, f"{RECIPE}, step 3: {formatter.__name__}.FILE_NAMES is empty"
    # every file it can write: a result with drift and a trend
    result = replace(
        _result(),
        drift=Drift("previous/scan.json", "2026-11-16T08:00:00+00:00", ()),
        trend=(TrendPoint("2026-11-23T08:00:00+00:00", 1, 0, 1, True),),
    )
    written = set(formatter().format(result))
    assert written <= formatter.FILE_NAMES, (
        f"{RECIPE}, step 3: {formatter.__name__} writes {sorted(written - formatter.FILE_NAMES)} that its "
        "FILE_NAMES does not list, so a later scan would leave them behind in --out"
    )
    assert written <= report_names()


def test_format_s_help_and_docs_name_every_format() -> None:
    from tests.recordings import run_cli

    _, stdout, _ = run_cli("scan", "--help")
    listed = ",".join(f.value for f in Format)
    assert listed in stdout, f"{RECIPE}, step 4: --format's choices come from Format"
    options = (Path(__file__).resolve().parents[1] / "docs" / "options.md").read_text(encoding="utf-8")
    assert f"--format {listed}" in options, f"{RECIPE}, step 4: run python -m scripts.update_docs"


def test_scan_json_s_fast_encoder_writes_what_python_s_json_writes() -> None:
    """Issue 28.1: 'a maintained fast encoder where it gives the same document'. Every value scan.json encodes
    with orjson is the bytes Python's json (compact, ensure_ascii off) and UTF-8 give: awkward text, every
    character of the first 12,288 code points but the surrogates, numbers, null, lists and objects; a lone
    surrogate, which orjson refuses, falls back to json and its escape."""
    from auditor.report.json import _encoded, _json
    from auditor.report.text import utf8

    values: list[object] = [*AWKWARD, "", None, 0, -1, 2**53, [0, 1, 2], {"kind": "nsg", "id": "/x", "says": "é"}]
    values += [chr(code) for code in range(0x3000) if not 0xD800 <= code <= 0xDFFF]
    assert [_encoded(v) for v in values] == [utf8(_json(v)) for v in values]
    assert _encoded("bad \ud800 text") == b'"bad \\ud800 text"'
