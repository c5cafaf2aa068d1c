"""A progress bar for long scans (rich, on stderr): subscriptions done, resources, 429s seen.

Silent when stderr is not a terminal or with --quiet: it then never draws anything.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class Counters(Protocol):
    subscriptions_total: int
    subscriptions_done: int
    resources: int
    throttled: int


@contextmanager
def progress_bar(stats: Counters, stream: IO[str], enabled: bool, interval: float = 0.2) -> Iterator[None]:
    if not enabled or not stream.isatty():
        yield
        return
    console = Console(file=stream)
    columns = (
        TextColumn("subscriptions"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[resources]} resources, {task.fields[throttled]} throttled (429)"),
        TimeElapsedColumn(),
    )
    stop = threading.Event()
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("scan", total=None, resources=0, throttled=0)

        def refresh() -> None:
            while not stop.wait(interval):
                bar.update(
                    task,
                    total=stats.subscriptions_total or None,
                    completed=stats.subscriptions_done,
                    resources=stats.resources,
                    throttled=stats.throttled,
                )

        thread = threading.Thread(target=refresh, name="port25-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
