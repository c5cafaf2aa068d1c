"""report.html in a real browser (headless Chromium): what a reader sees, sorts and filters."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import Environment, main
from tests.conftest import CONTOSO, CONTOSO_CONFIG

pytestmark = pytest.mark.slow  # a real browser
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html")
    main(
        ["scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG), "--out", str(out), "--quiet"],
        Environment(stdout=io.StringIO(), stderr=io.StringIO()),
    )
    return out


@pytest.fixture(scope="module")
def page(report: Path) -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        pytest.skip(
            "these tests open report.html in a real browser and no Chromium is on this machine: install Debian's "
            "chromium package (.ci/run does) to run them"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = browser.new_context()
        requests: list[str] = []
        context.on("request", lambda request: requests.append(request.url))
        tab = context.new_page()
        tab.goto((report / "report.html").as_uri())
        tab.requests = requests
        yield tab
        browser.close()


def _visible(page: Any, column: int) -> list[str]:
    return page.eval_on_selector_all(
        "#findings tbody tr:not([hidden])", f"rows => rows.map(r => r.cells[{column}].textContent)"
    )


def _csv(report: Path) -> list[dict[str, str]]:
    with (report / "findings.csv").open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_page_loads_offline_with_the_header_a_filer_needs(page: Any, report: Path) -> None:
    assert all(url.startswith("file://") for url in page.requests), page.requests  # nothing fetched from a network
    assert page.text_content("#audit-status") == "INCOMPLETE"
    unreadable = page.text_content("#unreadable")
    assert "sites: HTTP 403 AuthorizationFailed" in unreadable and "virtualNetworks: HTTP 403" in unreadable
    assert "port25-audit" in page.text_content("dl.meta") and "current edition" in page.text_content("dl.meta")
    assert page.locator("#verdict-chart rect").count() == 5
    total = len(_csv(report))
    assert page.text_content("#shown-count") == f"{total} of {total} shown"


def test_filters_show_what_they_say(page: Any, report: Path) -> None:
    rows = _csv(report)
    page.select_option("#filter-verdict", "open")
    shown = page.eval_on_selector_all("#findings tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.verdict)")
    assert shown == ["open"] * sum(1 for r in rows if r["verdict"] == "open")
    # the verdict cell reads as a person says it, with the relay's reach beside it
    assert all(text.startswith("Open") for text in _visible(page, 6))
    page.select_option("#filter-subscription", "Contoso Production (EA)")
    expected = sorted(
        r["resource_name"]
        for r in rows
        if r["verdict"] == "open" and r["subscription_name"] == "Contoso Production (EA)"
    )
    assert sorted(_visible(page, 1)) == expected
    page.select_option("#filter-verdict", "")
    page.select_option("#filter-subscription", "")
    page.select_option("#filter-type", "Microsoft.Network/azureFirewalls")
    assert sorted(_visible(page, 1)) == sorted(
        r["resource_name"] for r in rows if r["resource_type"].endswith("azureFirewalls")
    )
    page.select_option("#filter-type", "")
    page.fill("#filter-text", "deny-mail-ports-out")
    assert _visible(page, 1) == ["vm-mail-01"]
    page.fill("#filter-text", "")
    assert page.text_content("#shown-count") == f"{len(rows)} of {len(rows)} shown"


def test_sorting_by_a_column_and_back(page: Any, report: Path) -> None:
    page.click("#findings thead th:nth-child(2)")
    names = _visible(page, 1)
    assert names == sorted(names, key=str.lower) and len(names) == len(_csv(report))
    assert page.get_attribute("#findings thead th:nth-child(2)", "aria-sort") == "ascending"
    page.click("#findings thead th:nth-child(2)")
    assert _visible(page, 1) == sorted(names, key=str.lower, reverse=True)


def test_a_rule_link_leads_to_its_citation(page: Any) -> None:
    page.fill("#filter-text", "vm-lab-01")
    page.click('#findings tbody tr:not([hidden]) a[href^="#rule-"]')
    assert page.evaluate("location.hash") == "#rule-CUR-OFFER-UNKNOWN"
    citation = page.text_content("#rule-CUR-OFFER-UNKNOWN")
    assert "current edition (Czech" in citation and "section “introduction”" in citation
    assert "available only to certain subscription types" in citation  # the English rendering
    assert "jsou dostupné jenom pro určité typy předplatných" in citation  # and the original, as evidence
    assert "seed" not in page.text_content("body").lower()
    page.fill("#filter-text", "")


@pytest.mark.parametrize("width", [1024, 1300, 1600])
def test_the_page_fits_its_width_without_a_horizontal_scrollbar(page: Any, width: int) -> None:
    """Long error texts and ids wrap inside their cells: a filed report prints and reads without panning."""
    page.set_viewport_size({"width": width, "height": 900})
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow}px wider than a {width}px window"


@pytest.mark.parametrize("width", [1024, 1300, 1600])
def test_the_offer_note_breaks_no_word(page: Any, width: int) -> None:
    """The note on a subscription's offer says how its quota id was read; inside the offer column, squeezed
    narrower than the note's longest word, it broke every word letter by letter into a cell dozens of lines tall."""
    page.set_viewport_size({"width": width, "height": 900})
    notes = page.eval_on_selector_all(
        "#summary-subscriptions tr.offer-note td",
        """notes => notes.map(note => {
            const longest = note.textContent.split(/\\s+/).reduce((a, b) => (b.length > a.length ? b : a), "");
            const probe = document.createElement("span");
            probe.style.whiteSpace = "nowrap";
            probe.textContent = longest;
            note.appendChild(probe);
            const needed = probe.getBoundingClientRect().width;
            probe.remove();
            return [note.textContent.slice(0, 40), note.clientWidth >= needed];
        })""",
    )
    assert len(notes) >= 10, "the bundled tenant's subscriptions each say how their offer was read"
    squeezed = [text for text, fits in notes if not fits]
    assert squeezed == [], f"offer notes whose longest word does not fit at {width}px: {squeezed}"


def test_the_subscription_filter_finds_a_name_with_two_spaces(page: Any, tmp_path: Path) -> None:
    """Issue 13.16: an option without a value attribute reads its text with white space collapsed, so a name with
    two spaces in a row matched no row."""
    import json

    from tests.test_hostile import tenant

    recording = tmp_path / "spaces.json"
    recording.write_text(json.dumps(tenant(("a", "Contoso  Two  Spaces"), ("b", "Other")).document()), encoding="utf-8")
    main(
        ["scan", "--replay", str(recording), "--out", str(tmp_path / "r"), "--quiet"],
        Environment(stdout=io.StringIO(), stderr=io.StringIO()),
    )
    tab = page.context.new_page()  # a second tab of the module's browser
    tab.goto((tmp_path / "r" / "report.html").as_uri())
    tab.select_option("#filter-subscription", "Contoso  Two  Spaces")
    assert _visible(tab, 1) == ["vm-a"]
    tab.close()


def test_each_row_says_what_to_do(page: Any, report: Path) -> None:
    """Issue 14.2: the remediation is in the findings table, beside the reason."""
    rows = {r["resource_name"]: r for r in _csv(report)}
    page.fill("#filter-text", "vm-web-01")
    (cell,) = page.eval_on_selector_all(
        "#findings tbody tr:not([hidden])", "rows => rows.map(r => r.cells[8].textContent)"
    )
    assert cell.startswith(rows["vm-web-01"]["remediation"]) and rows["vm-web-01"]["reason"] in cell
    page.fill("#filter-text", "")


def test_the_headline_says_what_is_open_now_and_what_to_do(page: Any, report: Path) -> None:
    """Issue 14.1: the first thing on the page is how many resources can send mail now, where, and what to do."""
    rows = _csv(report)
    # issue 26: open resources an exception accepts are counted after the others ("and 1 more accepted …")
    open_rows = [r for r in rows if r["verdict"] == "open" and r["exception"] != "accepted"]
    accepted = [r for r in rows if r["verdict"] == "open" and r["exception"] == "accepted"]
    lead = page.text_content("#headline p.lead")
    subscriptions = sorted({r["subscription_name"] for r in open_rows})
    assert lead.startswith(f"{len(open_rows)} resources can send mail to the internet on TCP 25 now, in ")
    assert f"and {len(accepted)} more accepted by exceptions until 2030-12-31" in lead
    assert all(name in lead for name in subscriptions) and "The audit is incomplete" in lead
    actions = page.text_content("#actions")
    assert f"{len(open_rows)} resource(s) can send now" in actions
    assert "subscription(s) could not be read in full" in actions and "need a fact in the audit config" in actions
    headline = page.eval_on_selector("#headline", "e => e.getBoundingClientRect().top")
    findings = page.eval_on_selector("#findings", "e => e.getBoundingClientRect().top")
    assert headline < findings and headline < 200  # on the first screen
    legend = page.text_content("#legend")
    assert "Denied by network" in legend and "Exemption available" in legend


def test_rows_come_most_severe_first_and_the_verdict_column_sorts_by_severity(page: Any) -> None:
    """Issue 14.5: open, unknown, exemption available, blocked, denied, not supported; restorable; by keyboard."""
    order = ["Open", "Unknown", "Exemption available", "Blocked by Azure", "Denied by network", "Not supported"]

    def ranks() -> list[int]:
        cells = [cell.split("relay on 587")[0] for cell in _visible(page, 6)]
        return [order.index(cell) for cell in cells]

    page.reload()  # as the page opens, whatever earlier tests sorted
    initial = ranks()
    assert initial == sorted(initial)
    verdict = "#findings thead th:nth-child(7)"
    page.focus(verdict)
    page.keyboard.press("Enter")  # ascending: most severe first, as the page opens
    assert ranks() == sorted(initial)
    page.keyboard.press("Enter")  # descending
    assert ranks() == sorted(initial, reverse=True)
    page.keyboard.press("Enter")  # the page's own order again
    assert ranks() == initial and page.get_attribute(verdict, "aria-sort") is None


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_the_page_prints_legibly(page: Any, paper: str) -> None:
    """Issue 14.8: on paper, no controls, headers not clipped (no sticky header), ids wrapped at their slashes,
    the findings' header repeated on every page."""
    page.reload()
    page.emulate_media(media="print")
    try:
        assert page.eval_on_selector(".filters", "e => getComputedStyle(e).display") == "none"
        assert page.eval_on_selector("#findings th", "e => getComputedStyle(e).position") == "static"
        assert page.eval_on_selector("#findings thead", "e => getComputedStyle(e).display") == "table-header-group"
        assert page.locator("#findings td wbr").count() > 0  # long ids break at "/"
        pdf = page.pdf(format=paper, print_background=True)
    finally:
        page.emulate_media(media="screen")
    assert pdf.startswith(b"%PDF")
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert 2 <= pages <= 30, pages
