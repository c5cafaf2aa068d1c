"""How long report.html takes to sort its findings table in a real browser. Prints figures; asserts nothing.

Renders a report of N findings (default 5,000, the most the page holds), opens it in headless Chromium, and times
each sort a reader can ask for: a text column ascending and descending, the verdict by severity, and back to the
page's own order. Target (issue 16): under 300 ms each.

    python benchmarks/html_sort.py [--findings 5000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright

from auditor.report.html import HtmlFormatter
from auditor.report.interface import rendered
from tests.recordings import synthetic_result

TIMED = """async (column) => {
  const cell = document.querySelectorAll('#findings thead th')[column];
  const started = performance.now();
  cell.click();
  await new Promise(requestAnimationFrame);  // the sort and the layout it causes, as a reader waits for them
  return performance.now() - started;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    executable = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if executable is None:
        sys.exit("html_sort.py needs Chromium on PATH")
    page_file = Path(tempfile.mkdtemp(prefix="port25-sort-")) / "report.html"
    page_file.write_bytes(rendered(HtmlFormatter().format(synthetic_result(args.findings)))["report.html"])

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(page_file.as_uri())
        rows = page.eval_on_selector_all("#findings tbody tr", "rows => rows.length")
        columns = page.eval_on_selector_all("#findings thead th", "cells => cells.map(c => c.textContent.trim())")
        verdict = columns.index("verdict")
        times: dict[str, list[float]] = {"resource (asc)": [], "resource (desc)": [], "page order": [],
                                         "verdict (severity)": []}  # fmt: skip
        for _ in range(args.repeat):
            times["resource (asc)"].append(page.evaluate(TIMED, 1))
            times["resource (desc)"].append(page.evaluate(TIMED, 1))
            times["page order"].append(page.evaluate(TIMED, 1))
            times["verdict (severity)"].append(page.evaluate(TIMED, verdict))
            page.evaluate(TIMED, verdict)
            page.evaluate(TIMED, verdict)
        browser.close()

    print(f"rows in the table: {rows}")
    for name, measured in times.items():
        runs = ", ".join(f"{m:.0f}" for m in measured)
        print(f"{name:20} median {statistics.median(measured):7.1f} ms   (runs: {runs})")
    worst = max(statistics.median(m) for m in times.values())
    print(f"RESULT worst_sort_ms={worst:.0f} rows={rows}")


if __name__ == "__main__":
    main()
