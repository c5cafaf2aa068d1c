"""Every report format, and the text hazards they must survive."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from auditor.model import (
    CollectionError,
    Egress,
    Finding,
    Offer,
    OfferReading,
    PlatformPolicy,
    Resource,
    ResourceCategory,
    Ruleset,
    ScanMetadata,
    ScanResult,
    Subscription,
    SubscriptionSummary,
    Verdict,
)
from auditor.report.csv import neutralise
from auditor.report.formats import formatter_for
from auditor.report.interface import Format, Formatter, rendered

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
        "t",
        SUB.subscription_id,
        SUB.display_name,
        "pay_as_you_go",
        SUB.quota_id or "",
        resource,
        PlatformPolicy.BLOCKED,
        Egress.UNKNOWN,
        Verdict.BLOCKED,
        "CUR-OTHER",
        "+reason",
        "-remediation",
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
