"""What reaches the terminal: the short summary `port25-audit scan` prints at the end (rich; plain text when not a
terminal), and the filter every printed line goes through.

Text from Azure and from paths is printed as text: never as rich markup (`[link=…]`, `[/bold]`), and never with a
control character (an escape sequence could clear the screen, plant a hyperlink or forge a line), which is shown
escaped instead (`\x1b`), so nothing is lost.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import IO, cast

from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.classify.rules import EDITIONS
from auditor.model import ChangeKind, ScanResult, Verdict
from auditor.report.counts import open_counts
from auditor.report.labels import label
from auditor.report.text import printable

TOP_SUBSCRIPTIONS = 5


class PrintableStream(io.TextIOBase):
    """A text stream that writes only printable text to the stream it wraps (`raw`, for rich's own output)."""

    def __init__(self, raw: IO[str]) -> None:
        super().__init__()
        self.raw = raw

    @classmethod
    def wrapping(cls, raw: IO[str]) -> IO[str]:
        return cast(IO[str], raw if isinstance(raw, cls) else cls(raw))

    def write(self, text: str) -> int:
        self.raw.write(printable(text))
        return len(text)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def writable(self) -> bool:
        return True


def raw_stream(stream: IO[str]) -> IO[str]:
    """The stream under a PrintableStream (rich writes its own escape sequences for colour and layout)."""
    return stream.raw if isinstance(stream, PrintableStream) else stream


def _text(value: object) -> Text:
    return Text(printable(str(value)))


def print_summary(result: ScanResult, written: list[Path], stream: IO[str]) -> None:
    console = Console(file=raw_stream(stream), width=110, soft_wrap=False, highlight=False, markup=False, emoji=False)
    if result.nothing_audited:
        # nothing was audited: a table of zeros would read as a result (stderr says why)
        console.print(_text("Nothing was audited. Reports: " + ", ".join(str(p) for p in written)), soft_wrap=True)
        return
    counts = Counter(f.verdict for f in result.findings)
    verdicts = Table(
        title=_text(
            f"{len(result.findings)} resources in {len(result.subscriptions)} subscriptions "
            f"({EDITIONS[result.metadata.ruleset].name} rules)"
        ),
        title_justify="left",
    )
    for verdict in Verdict:
        verdicts.add_column(label(Verdict, verdict), justify="right")
    verdicts.add_row(*(str(counts.get(v, 0)) for v in Verdict))
    console.print(verdicts)
    accepted = open_counts(result.findings)
    if accepted.accepted or accepted.expired:
        console.print(
            _text(
                f"Of the {accepted.open} open: {accepted.accepted} accepted by exceptions, {accepted.expired} whose "
                f"exception expired, {accepted.not_accepted} to act on."
            )
        )

    names = {s.subscription.subscription_id: s.subscription.display_name for s in result.subscriptions}
    exposed = Counter(f.subscription_id for f in result.findings if f.verdict is Verdict.OPEN and not f.accepted)
    if exposed:
        title = "Subscriptions with the most open resources (those no exception accepts)"
        top = Table(title=title, title_justify="left")
        top.add_column("subscription")
        top.add_column("id")
        top.add_column("open", justify="right")
        for subscription_id, number in exposed.most_common(TOP_SUBSCRIPTIONS):
            top.add_row(_text(names.get(subscription_id, "")), _text(subscription_id), _text(number))
        console.print(top)
    if result.drift is not None:
        kinds = Counter(c.kind for c in result.drift.changes)
        said = ", ".join(f"{label(ChangeKind, kind).lower()} {kinds[kind]}" for kind in ChangeKind if kinds[kind])
        said = said or "no changes"
        console.print(
            _text(
                f"Since the baseline {result.drift.baseline}: {said}; new exposure: {len(result.drift.new_exposure)}."
            )
        )
    console.print(_text("Reports: " + ", ".join(str(p) for p in written)), soft_wrap=True)
