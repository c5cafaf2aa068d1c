"""Issue 5: concurrency, client-side throttling shaped on ARM's limits, the counters behind the progress bar."""

from __future__ import annotations

import gc
import io
import json
import logging
import multiprocessing
import os
import re
import signal
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import Environment, main
from auditor.collect.arm import ArmCollector
from auditor.collect.processes import (
    SMALLEST_CHUNK,
    YOUNG_GENERATION_THRESHOLD,
    chunk_size,
    fewer_garbage_collections,
)
from auditor.collect.recipe import CollectorRecipe
from auditor.collect.replay import ReplayCredential, ReplayTransport, load_recording
from auditor.collect.throttle import RateLimiter, ScanStats, TokenBucket
from auditor.report.progress import progress_bar
from auditor.status import ExitStatus
from fixtures import arm_payloads as arm
from tests.conftest import CONTOSO
from tests.recordings import run_cli, with_parts


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_shape() -> None:
    """ARM: 'a bucket size of 250 tokens and a refill rate of 25 tokens per second'; here 3 and 1 to count by hand."""
    clock = Clock()
    bucket = TokenBucket(3, 1.0, clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(1.0)  # empty: the next token is a second away
    assert bucket.take() == pytest.approx(2.0)  # and the one after, two (reservations queue up)
    clock.now = 10.0
    assert bucket.take() == 0.0  # refilled, never above capacity
    assert bucket.tokens == pytest.approx(2.0)
    bucket.observe_remaining(0)  # the server says none are left
    assert bucket.take() == pytest.approx(1.0)


def test_limiter_scopes_requests() -> None:
    scope = RateLimiter.scope_of
    assert scope("https://management.azure.com/subscriptions/ABC/providers/x?api-version=1") == "subscription:abc"
    assert scope("https://management.azure.com/subscriptions?api-version=1") == "tenant"
    assert scope("https://management.azure.com/providers/Microsoft.ResourceGraph/resources?api-version=1") == "graph"


def test_limiter_reads_the_remaining_reads_header() -> None:
    clock = Clock()
    limiter = RateLimiter(clock, arm=(250, 25.0))
    url = "https://management.azure.com/subscriptions/abc/providers/x"
    limiter.observe(url, {"x-ms-ratelimit-remaining-subscription-reads": "1"})
    assert limiter.take(url) == 0.0
    assert limiter.take(url) == pytest.approx(1 / 25)


def test_every_attempt_is_counted_and_paced() -> None:
    replay = ReplayTransport.from_file(CONTOSO)
    stats = ScanStats()
    collector = ArmCollector(ReplayCredential(), replay, limiter=RateLimiter(Clock(), arm=(5, 1.0)), stats=stats)
    inventory = collector.collect()
    assert stats.requests == len(replay.sent)  # every attempt, the subscription list and the retried 429 included
    assert stats.throttled == 1  # the bundled tenant's one 429
    assert stats.subscriptions_done == stats.subscriptions_total == len(inventory.subscriptions) == 14
    assert stats.resources == sum(len(s.resources) for s in inventory.subscriptions)
    assert 2.0 in replay.slept  # Retry-After, honoured by azure-core
    assert any(wait > 0 and wait != 2.0 for wait in replay.slept)  # our own bucket asked to wait (the clock is frozen)


@pytest.mark.parametrize("workers", [1, 4, 32])
def test_results_do_not_depend_on_concurrency(workers: int) -> None:
    sequential = ArmCollector(ReplayCredential(), ReplayTransport.from_file(CONTOSO), max_workers=1).collect()
    parallel = ArmCollector(ReplayCredential(), ReplayTransport.from_file(CONTOSO), max_workers=workers).collect()
    assert parallel == sequential


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_only() -> None:
    stats = ScanStats(subscriptions_total=4, subscriptions_done=2, resources=7, throttled=1)
    quiet_stream = io.StringIO()
    with progress_bar(stats, quiet_stream, enabled=True, interval=0.01):
        pass
    assert quiet_stream.getvalue() == ""
    terminal = Terminal()
    with progress_bar(stats, terminal, enabled=False, interval=0.01):
        pass
    assert terminal.getvalue() == ""
    with progress_bar(stats, terminal, enabled=True, interval=0.01):
        time.sleep(0.1)
    assert terminal.getvalue() != ""


def test_max_workers_must_be_positive() -> None:
    err = io.StringIO()
    assert main(["scan", "--max-workers", "0"], Environment(stdout=io.StringIO(), stderr=err)) is ExitStatus.USAGE
    assert "must be 1 or more" in err.getvalue()


def _many(tmp_path: object, subscriptions: int = 60) -> Path:
    path = Path(str(tmp_path)) / "many.json"
    path.write_text(json.dumps(arm.many_subscriptions("many", subscriptions, 3)), encoding="utf-8")
    return path


@pytest.mark.slow
def test_processes_read_the_same_tenant_as_threads(tmp_path: object) -> None:
    """A tenant large enough for the process pool (50 subscriptions or more) gives the same inventory either way, and
    both this process and the worker read part of it."""
    recipe = CollectorRecipe(replay=_many(tmp_path), max_workers=8)

    threads = ArmCollector.from_recipe(recipe, processes=1)
    processes = ArmCollector.from_recipe(recipe, processes=2)
    in_threads, in_processes = threads.collect(), processes.collect()

    assert in_processes == in_threads and len(in_processes.subscriptions) == 60
    assert sum(len(s.resources) for s in in_processes.subscriptions) == 180
    assert processes.stats.subscriptions_done == 60 and processes.stats.requests == threads.stats.requests
    # This process's transport saw the subscription list, its own chunks and billing; the worker read the rest.
    read_here = len(processes.session.client_options()["transport"].sent)
    assert 1 < read_here < threads.stats.requests


def _dies_in_a_worker(path: Path) -> ReplayTransport:
    """A transport factory that kills any worker process that builds it, as an out-of-memory kill would."""
    if multiprocessing.parent_process() is not None:
        os._exit(3)
    return ReplayTransport.from_file(path)


@pytest.mark.slow
def test_a_worker_process_that_dies_loses_nothing(
    tmp_path: object, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guide: 'nothing silently dropped'. A worker that dies has its chunk read in this process instead."""
    # a CLI run earlier in the session stops the auditor logger propagating to the capture
    monkeypatch.setattr(logging.getLogger("auditor"), "propagate", True)
    path = _many(tmp_path)
    expected = ArmCollector.from_recipe(CollectorRecipe(replay=path, max_workers=8)).collect()
    recipe = CollectorRecipe(replay=path, max_workers=8, transport_factory=partial(_dies_in_a_worker, path))

    collector = ArmCollector.from_recipe(recipe, processes=2)
    with caplog.at_level(logging.WARNING, logger="auditor"):  # a --quiet run before may have set it to ERROR
        inventory = collector.collect()

    assert inventory == expected and not any(s.errors for s in inventory.subscriptions)
    assert collector.stats.subscriptions_done == 60
    assert re.search(r"a worker process stopped; its \d+ subscriptions are read in this one", caplog.text)


def test_chunks_shrink_towards_the_end_and_cover_every_subscription_once() -> None:
    """Guided self-scheduling: each chunk is a quarter of what is left (two processes), never below the smallest,
    so a worker that starts late still finishes with this process."""
    sizes, remaining = [], 1000
    while remaining:
        sizes.append(chunk_size(remaining, 2))
        remaining -= sizes[-1]
    assert sizes[:4] == [250, 188, 141, 106]  # ceil(1000 / 4), ceil(750 / 4), ...
    assert sizes == sorted(sizes, reverse=True) and min(sizes) == SMALLEST_CHUNK and sum(sizes) == 1000
    assert chunk_size(7, 2) == 7  # the last chunk is what is left


def test_reading_collects_the_young_generation_less_often_and_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_garbage_collections():
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *before[1:])
        raise RuntimeError("a read that fails")
    assert gc.get_threshold() == before


class _InterruptedTransport(ReplayTransport):
    """The replay; at its `after`-th request in this run's first process, Ctrl-C arrives there (SIGINT, which
    Python turns into KeyboardInterrupt in the main thread). Worker processes' requests go on as they are."""

    def __init__(self, path: Path, after: int) -> None:
        super().__init__(load_recording(path))
        self._after, self._count, self._lock = after, 0, threading.Lock()

    def send(self, request: Any, **kwargs: Any) -> Any:
        if multiprocessing.parent_process() is None:
            with self._lock:
                self._count += 1
                if self._count == self._after:
                    os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.005)  # a network's latency: the reading threads wait, as they would, while the signal is seen
        return super().send(request, **kwargs)


def _interrupted(path: Path, after: int) -> _InterruptedTransport:
    return _InterruptedTransport(path, after)


@pytest.mark.parametrize("processes", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_ctrl_c_stops_the_reading_soon_in_every_process(tmp_path: object, processes: int) -> None:
    """Ctrl-C while 60 subscriptions are read: the lists being read finish, no other starts (the tasks still
    queued, the worker's included, return at once), and the interruption reaches the caller."""
    path = _many(tmp_path)
    recipe = CollectorRecipe(replay=path, max_workers=4, transport_factory=partial(_interrupted, path, 40))
    collector = ArmCollector.from_recipe(recipe, processes=processes)

    with pytest.raises(KeyboardInterrupt):
        collector.collect()

    assert collector.stopping.is_set()
    assert collector.stats.subscriptions_done < 10, collector.stats  # 17 lists a subscription: 40 requests, about two
    sent_here = len(collector.session.client_options()["transport"].sent)
    assert sent_here < 100, sent_here  # of about 1,000: the lists in flight when it came finish, no other starts


def test_ctrl_c_is_one_line_and_exit_code_130(tmp_path: Path) -> None:
    """Never a traceback: the interruption is said on one line and the exit code says the audit did not finish."""
    out = tmp_path / "reports"
    status, _, stderr = run_cli(
        "scan", "--replay", str(CONTOSO), "--out", str(out), "--processes", "1",
        collectors=with_parts(transport=lambda recipe: _InterruptedTransport(CONTOSO, 5)),
    )  # fmt: skip

    assert status is ExitStatus.INTERRUPTED
    assert stderr.strip().splitlines()[-1] == "port25-audit: interrupted (Ctrl-C): the audit did not finish"
    assert "Traceback" not in stderr and not (out / "findings.csv").exists()
