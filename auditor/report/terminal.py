"""The short summary `port25-audit scan` prints at the end (rich; plain text when not a terminal)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.table import Table

from auditor.model import ScanResult, Verdict

TOP_SUBSCRIPTIONS = 5


def print_summary(result: ScanResult, written: list[Path], stream: IO[str]) -> None:
    console = Console(file=stream, width=110, soft_wrap=False, highlight=False)
    counts = Counter(f.verdict for f in result.findings)
    verdicts = Table(
        title=f"{len(result.findings)} resources in {len(result.subscriptions)} subscriptions "
        f"({result.metadata.ruleset.value} rules)",
        title_justify="left",
    )
    for verdict in Verdict:
        verdicts.add_column(verdict.value, justify="right")
    verdicts.add_row(*(str(counts.get(v, 0)) for v in Verdict))
    console.print(verdicts)

    names = {s.subscription.subscription_id: s.subscription.display_name for s in result.subscriptions}
    exposed = Counter(f.subscription_id for f in result.findings if f.verdict is Verdict.OPEN)
    if exposed:
        top = Table(title="Subscriptions with the most open resources", title_justify="left")
        top.add_column("subscription")
        top.add_column("id")
        top.add_column("open", justify="right")
        for subscription_id, number in exposed.most_common(TOP_SUBSCRIPTIONS):
            top.add_row(names.get(subscription_id, ""), subscription_id, str(number))
        console.print(top)
    if result.drift is not None:
        kinds = Counter(c.kind.value for c in result.drift.changes)
        said = ", ".join(f"{kind} {number}" for kind, number in sorted(kinds.items())) or "no changes"
        console.print(
            f"Since the baseline {result.drift.baseline}: {said}; new exposure: {len(result.drift.new_exposure)}."
        )
    console.print("Reports: " + ", ".join(str(p) for p in written), soft_wrap=True)
