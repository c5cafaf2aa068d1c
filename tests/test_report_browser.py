"""report.html in a real browser (headless Chromium): what a reader sees, sorts and filters."""

from __future__ import annotations

import csv
import io
import re
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


def _names(page: Any) -> list[str]:
    """The names of the resources the findings table shows now."""
    return page.eval_on_selector_all(
        "#findings tbody tr:not([hidden])", "rows => rows.map(r => r.querySelector('a.resource-name').textContent)"
    )


def _verdicts(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#findings tbody tr:not([hidden])", "rows => rows.map(r => r.querySelector('.verdict').textContent)"
    )


def _csv(report: Path) -> list[dict[str, str]]:
    with (report / "findings.csv").open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_page_loads_offline_with_the_header_a_filer_needs(page: Any, report: Path) -> None:
    assert all(url.startswith("file://") for url in page.requests), page.requests  # nothing fetched from a network
    assert page.text_content("#audit-status") == "INCOMPLETE"
    unreadable = page.text_content("#unreadable")
    assert "sites: HTTP 403 AuthorizationFailed" in unreadable and "virtualNetworks: HTTP 403" in unreadable
    assert "port25-audit" in page.text_content("dl.meta") and "Current edition" in page.text_content("dl.meta")
    assert "English text of 2025-07-28" in page.text_content("dl.meta")
    assert page.locator("#verdict-chart rect").count() == 5
    total = len(_csv(report))
    assert page.text_content("#shown-count") == f"{total} of {total} shown"


def test_filters_show_what_they_say(page: Any, report: Path) -> None:
    rows = _csv(report)
    page.select_option("#filter-verdict", "open")
    shown = page.eval_on_selector_all("#findings tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.verdict)")
    assert shown == ["open"] * sum(1 for r in rows if r["verdict"] == "open")
    # the verdict cell reads as a person says it, with the relay's reach beside it
    assert set(_verdicts(page)) == {"Open"} and all("relay on 587: " in text for text in _visible(page, 1))
    page.select_option("#filter-subscription", "Contoso Production (EA)")
    expected = sorted(
        r["resource_name"]
        for r in rows
        if r["verdict"] == "open" and r["subscription_name"] == "Contoso Production (EA)"
    )
    assert sorted(_names(page)) == expected
    page.select_option("#filter-verdict", "")
    page.select_option("#filter-subscription", "")
    page.select_option("#filter-type", "Microsoft.Network/azureFirewalls")
    assert sorted(_names(page)) == sorted(
        r["resource_name"] for r in rows if r["resource_type"].endswith("azureFirewalls")
    )
    page.select_option("#filter-type", "")
    page.fill("#filter-text", "deny-mail-ports-out")
    assert _names(page) == ["vm-mail-01"]
    page.fill("#filter-text", "")
    assert page.text_content("#shown-count") == f"{len(rows)} of {len(rows)} shown"


def test_sorting_by_a_column_and_back(page: Any, report: Path) -> None:
    page.click("#findings thead th:nth-child(1)")
    names = _names(page)
    assert names == sorted(names, key=str.lower) and len(names) == len(_csv(report))
    assert page.get_attribute("#findings thead th:nth-child(1)", "aria-sort") == "ascending"
    page.click("#findings thead th:nth-child(1)")
    assert _names(page) == sorted(names, key=str.lower, reverse=True)


def test_a_rule_link_leads_to_its_citation(page: Any) -> None:
    page.fill("#filter-text", "vm-lab-01")
    page.click('#findings tbody tr:not([hidden]) a[href^="#rule-"]')
    assert page.evaluate("location.hash") == "#rule-CUR-OFFER-UNKNOWN"
    citation = page.text_content("#rule-CUR-OFFER-UNKNOWN")
    # issue 27.9: cited by the English article's title, date and section; the Czech wording is the evidence
    assert "Troubleshoot outbound SMTP connectivity issues in Azure”, 2025-07-28, section “introduction”" in citation
    assert "Czech edition: introduction" in citation
    assert "available only to certain subscription types" in citation  # the English rendering
    assert "jsou dostupné jenom pro určité typy předplatných" in citation  # and the original, as evidence
    assert "seed" not in page.text_content("body").lower()
    page.fill("#filter-text", "")


# Every word of the visible text, and whether it is laid out on more than one line. A word is what lies between
# spaces, and a line may break after a "/" (ids, which carry <wbr> there) or a "-" (as any text does): a break
# anywhere else cut a word ("Contos/o Product/ion", "CUR-EXEM/PTED").
_BROKEN_WORDS = r"""() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const parent = node.parentElement;
    if (!parent || parent.closest("script, style, svg") || !parent.getClientRects().length) continue;
    const folded = parent.closest("details:not([open])");
    if (folded && !parent.closest("summary")) continue;  // Azure's messages, folded: not on screen
    const words = /[^\s\/\-]+[\/\-]?/g;
    let word;
    while ((word = words.exec(node.textContent))) {
      const range = document.createRange();
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].replace(/[\/\-]$/, "").length);
      const lines = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(word[0]);
    }
  }
  return broken;
}"""


@pytest.mark.parametrize("width", [800, 1024, 1280, 1600])
def test_the_page_fits_its_width_and_breaks_no_word(page: Any, width: int) -> None:
    """Issue 27.4: at 800 px the subscription table was 974 px wide in a 752 px column (the page scrolled sideways)
    and findings broke words letter by letter; even at 1280 px a rule id wrapped mid-word."""
    page.reload()
    page.set_viewport_size({"width": width, "height": 900})
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow}px wider than a {width}px window"
    broken = page.evaluate(_BROKEN_WORDS)
    assert broken == [], f"words broken across lines at {width}px: {sorted(set(broken))[:20]}"
    page.set_viewport_size({"width": 1280, "height": 900})


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
    assert _names(tab) == ["vm-a"]
    tab.close()


def test_each_row_says_what_to_do(page: Any, report: Path) -> None:
    """Issue 14.2: the remediation is in the findings table, beside the reason."""
    rows = {r["resource_name"]: r for r in _csv(report)}
    page.fill("#filter-text", "vm-web-01")
    (cell,) = page.eval_on_selector_all(
        "#findings tbody tr:not([hidden])", "rows => rows.map(r => r.cells[4].textContent)"
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
    assert "subscription(s) could not be read in full" in actions and "need a fact the rule asks for" in actions
    page.reload()
    headline = page.eval_on_selector("#headline", "e => e.getBoundingClientRect().top")
    findings = page.eval_on_selector("#findings", "e => e.getBoundingClientRect().top")
    assert headline < findings and headline < 200  # on the first screen
    legend = page.text_content("#legend")
    # issue 27.1: five verdicts; "exemption available" is said of a blocked row, not a sixth verdict
    assert page.locator("#legend li").count() == 5 and "Denied by network" in legend
    assert "exemption available" in page.text_content("#legend li:has-text('Blocked by Azure')")


def test_rows_come_most_severe_first_and_the_verdict_column_sorts_by_severity(page: Any) -> None:
    """Issue 14.5: open, unknown, blocked (those whose block can be lifted first), denied, not supported;
    restorable; by keyboard."""
    order = ["Open", "Unknown", "Blocked by Azure", "Denied by network", "Not supported"]

    def ranks() -> list[int]:
        return [order.index(cell) for cell in _verdicts(page)]

    page.reload()  # as the page opens, whatever earlier tests sorted
    initial = ranks()
    assert initial == sorted(initial)
    verdict = "#findings thead th:nth-child(2)"
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


def test_the_open_resources_are_named_on_the_first_screen(page: Any, report: Path) -> None:
    """Issue 27.3: no resource was named until the findings table, 3,400 px down. "Open now", under the headline,
    names each open resource no exception accepts: name (a link to the portal), subscription, what to do."""
    page.reload()
    page.set_viewport_size({"width": 1280, "height": 800})
    expected = sorted(
        (r["subscription_name"], r["resource_name"], r["remediation"])
        for r in _csv(report)
        if r["verdict"] == "open" and r["exception"] != "accepted"
    )
    rows = page.eval_on_selector_all(
        "#open-now-table tbody tr",
        """rows => rows.map(r => [r.cells[1].textContent, r.querySelector("a").textContent,
            r.cells[2].textContent, r.querySelector("a").href, r.getBoundingClientRect().top])""",
    )
    assert [(sub, name, todo) for sub, name, todo, _, _ in rows] == expected
    assert all(link.startswith("https://portal.azure.com/#@") for _, _, _, link, _ in rows)
    first_top = rows[0][4]
    assert first_top < 800, f"the first open resource is {first_top}px down, below the first screen"


def test_each_what_to_do_group_shows_its_rows(page: Any, report: Path) -> None:
    """Issue 27.3: each group of "What to do" is a link to its rows: the findings, filtered to them."""
    page.reload()
    links = page.locator("#actions a.step-link")
    assert links.count() >= 4
    for index in range(links.count()):
        link = links.nth(index)
        count = int(link.locator("b").text_content())
        link.click()
        assert page.text_content("#shown-count").startswith(f"{count} of "), link.text_content()
        assert page.evaluate("location.hash") == "#findings"
    page.select_option("#filter-step", "")
    opened = [r for r in _csv(report) if r["verdict"] == "open" and r["exception"] != "accepted"]
    page.click("#actions a[data-step=close]")
    assert sorted(_names(page)) == sorted(r["resource_name"] for r in opened)
    page.select_option("#filter-step", "")


def test_the_page_shows_no_machine_value(page: Any) -> None:
    """Issue 27.2: HTML, XLSX and the terminal say every enum value in words; none of port25-audit's machine
    values (public_ip, default_outbound, enterprise_agreement, Microsoft.Compute/virtualMachines, …) is in the
    text a reader sees. The CSV and JSON keep them."""
    from auditor.model import AUDITED_TYPES
    from auditor.report.labels import LABELS

    page.reload()
    # the article's own sentences (the rules' quotes) are Microsoft's words: they may name a resource type
    text = page.evaluate(
        """() => { const copy = document.body.cloneNode(true);
                   copy.querySelectorAll("#rules blockquote").forEach(q => q.remove());
                   document.body.appendChild(copy); const text = copy.innerText; copy.remove(); return text; }"""
    )
    machine = {member.value for members in LABELS.values() for member in members if "_" in member} | {
        audited.resource_type for audited in AUDITED_TYPES
    }
    # a value as a word of its own (a type inside a resource id, or a glob of ids, is the id's)
    shown = sorted(value for value in machine if re.search(rf"(?<![\w/.'-]){re.escape(value)}(?![\w/'-])", text))
    assert shown == [], shown
    assert "relay on 587: open" not in text and "relay on 587: Open" in text
    options = page.eval_on_selector_all("#filter-type option", "options => options.map(o => o.textContent)")
    assert "Virtual machine" in options and not any("Microsoft." in option for option in options)


def test_the_verdict_filters_count_what_the_summary_counts(page: Any) -> None:
    """Issue 27.1: the summary said "Blocked by Azure 14", the findings column showed 12 of them and 2 "Exemption
    available". One verdict, counted and labelled alike: each filter shows as many rows as the summary says."""
    page.reload()
    summary = page.eval_on_selector_all(
        "#summary-verdicts tr[class^=v-]", "rows => rows.map(r => [r.className.slice(2), +r.cells[1].textContent])"
    )
    assert len(summary) == 5
    for verdict, count in summary:
        page.select_option("#filter-verdict", verdict)
        assert len(_verdicts(page)) == count, verdict
        assert len(set(_verdicts(page))) <= 1
    page.select_option("#filter-verdict", "")
