"""How fast a scan of a large tenant is, against the best Azure's limits allow. Prints figures; asserts nothing.

A synthetic recording of N subscriptions x M virtual machines (default 1,000 x 50) is replayed with a latency per
request (default 100 ms) and a simulated ARM throttle (per subscription: bucket 250, refill 25/s; a request
beyond it gets 429 with Retry-After). The scan runs with --max-workers W, and a sequential scan (one worker) of
a sample of the subscriptions is measured in the same run; sequential time is linear in the subscriptions, so
it is scaled to N. Figures: wall time, requests, 429s, the lower bound from latency, concurrency and throttle,
the ratio to it (target <= 1.3), the ratio to the sequential scan (target >= 20), subscriptions lost (target 0).

Every token request costs --credential-cost seconds (default 0.5, an `az` process for an `az login` user) and is
counted across processes; the target is one per scope per process. The last line is machine-readable:
`RESULT ratio_to_bound=… cpu_s=… credential_calls=… lost=…`.

With --source graph the same tenant is read through Resource Graph (full pages of 1,000 rows, batches of
subscriptions) under a simulated Graph quota (15 queries per 5 s per user: bucket 15, refill 3/s); the
sequential baseline stays ARM mode with one worker, so the speed-up is against the same slow scan.

    python benchmarks/scan_scale.py [--subscriptions 1000] [--resources 50] [--latency 0.1] [--workers 32]
                                    [--processes N] [--source arm|graph] [--runs N] [--credential-cost 0.5]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import pickle
import resource
import statistics
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests
from azure.core.credentials import AccessToken, AccessTokenInfo

from auditor.collect.factory import build_collector
from auditor.collect.graph import BATCH_SIZE, PAGE_SIZE
from auditor.collect.interface import DEFAULT_PROCESSES, Source
from auditor.collect.lists import KINDS
from auditor.collect.recipe import CollectorRecipe
from auditor.collect.replay import ReplayTransport, parse_recording
from auditor.collect.throttle import (
    ARM_BUCKET,
    ARM_REFILL_PER_SECOND,
    GRAPH_BUCKET,
    GRAPH_REFILL_PER_SECOND,
    RateLimiter,
)
from fixtures import arm_payloads as arm


class SimulatedArm(ReplayTransport):
    """The replay, with a latency per request, a server-side token bucket per subscription (and one for Resource
    Graph), and real sleeps."""

    def __init__(self, answers: Any, latency: float) -> None:
        super().__init__(answers)
        self._latency = latency
        self._buckets: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _server_allows(self, url: str) -> float:
        """0 if ARM would serve it now, else the Retry-After it would send."""
        scope = RateLimiter.scope_of(url)
        capacity, rate = (
            (GRAPH_BUCKET, GRAPH_REFILL_PER_SECOND) if scope == "graph" else (ARM_BUCKET, ARM_REFILL_PER_SECOND)
        )
        now = time.monotonic()
        with self._lock:
            tokens, updated = self._buckets.get(scope, [float(capacity), now])
            tokens = min(capacity, tokens + (now - updated) * rate)
            if tokens >= 1:
                self._buckets[scope] = [tokens - 1, now]
                return 0.0
            self._buckets[scope] = [tokens, now]
            return (1 - tokens) / rate

    def send(self, request: Any, **kwargs: Any) -> Any:
        time.sleep(self._latency)
        retry_after = self._server_allows(request.url)
        if retry_after:
            response = requests.Response()
            response.status_code = 429
            response.headers["Retry-After"] = str(math.ceil(retry_after))
            response.headers["Content-Type"] = "application/json"
            response._content = b'{"error": {"code": "TooManyRequests", "message": "simulated"}}'
            from azure.core.rest._requests_basic import RestRequestsTransportResponse

            return RestRequestsTransportResponse(request=request, internal_response=response)
        return super().send(request, **kwargs)

    def sleep(self, duration: float) -> None:
        super().sleep(duration)
        time.sleep(duration)


def simulated(path: Path, latency: float) -> SimulatedArm:
    """The transport factory of the recipe: module-level, so worker processes can build it too.

    Each worker process loads the parsed recording from a pickle written once by the parent: parsing the JSON
    again in every process is a cost of the benchmark harness that a live scan does not have.
    """
    with path.with_suffix(".pickle").open("rb") as handle:
        return SimulatedArm(pickle.load(handle), latency)


class SlowCredential:
    """A credential that costs what `az account get-access-token` costs (about half a second a call, in a
    process of its own), and writes one line a call to a file every process appends to, so calls are counted
    across worker processes."""

    def __init__(self, calls: Path, cost: float) -> None:
        self._calls, self._cost = calls, cost

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token = self.get_token_info(*scopes)
        return AccessToken(token.token, token.expires_on)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        time.sleep(self._cost)
        with self._calls.open("a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {' '.join(scopes)}\n")
        return AccessTokenInfo("bench-token", int(time.time()) + 3600)


def slow_credential(calls: Path, cost: float) -> SlowCredential:
    """The credential factory of the recipe: module-level, so worker processes build it too."""
    return SlowCredential(calls, cost)


def cpu_seconds() -> float:
    """CPU of this process and of the worker processes that have exited (they are waited for first)."""
    deadline = time.monotonic() + 30
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def scan(
    path: Path,
    latency: float,
    workers: int,
    processes: int,
    scope: list[str] | None = None,
    source: str = "arm",
    credential_cost: float = 0.0,
) -> tuple[float, Any, Any, int, float]:
    """Wall time, inventory, counters, credential calls and CPU seconds of one scan."""
    calls = path.with_name(f"credential-calls-{time.monotonic_ns()}.txt")
    calls.touch()
    recipe = CollectorRecipe(
        replay=path,
        max_workers=workers,
        transport_factory=partial(simulated, path, latency),
        credential_factory=partial(slow_credential, calls, credential_cost),
        source=Source(source),
    )
    cpu_before = cpu_seconds()
    collector = build_collector(recipe, processes)
    started = time.perf_counter()
    inventory = collector.collect(scope or ())
    wall = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    return wall, inventory, collector.stats, len(calls.read_text(encoding="utf-8").splitlines()), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--resources", type=int, default=50, help="virtual machines per subscription")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per request")
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--processes", type=int, default=DEFAULT_PROCESSES)
    parser.add_argument("--sequential-sample", type=int, default=20, help="subscriptions scanned with one worker")
    parser.add_argument("--source", choices=["arm", "graph"], default="arm")
    parser.add_argument(
        "--runs", type=int, default=1, help="scans of the tenant; each is printed, and the median (machines vary)"
    )
    parser.add_argument(
        "--credential-cost",
        type=float,
        default=0.5,
        help="seconds a token request costs (the Azure CLI's: an az process, about 0.5 s)",
    )
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="port25-bench-"))
    path = directory / "tenant.json"
    tenant = arm.many_subscriptions("bench", args.subscriptions, args.resources, graph=args.source == "graph")
    path.write_text(json.dumps(tenant), encoding="utf-8")
    with path.with_suffix(".pickle").open("wb") as handle:
        pickle.dump(parse_recording(tenant, str(path)), handle, protocol=pickle.HIGHEST_PROTOCOL)
    del tenant
    if args.source == "graph":
        requests_needed, bound = graph_bound(args.subscriptions, args.resources, args.latency)
    else:
        lists_per_subscription = len(KINDS)
        requests_needed = 1 + args.subscriptions * lists_per_subscription
        # The best any scan can do: one request for the subscription list, then the rest W at a time; no
        # subscription sends more than its bucket in a burst (12 lists < 250), so the throttle adds nothing.
        burst_limited = max(0.0, (lists_per_subscription - ARM_BUCKET) / ARM_REFILL_PER_SECOND)
        bound = args.latency * (1 + math.ceil(args.subscriptions * lists_per_subscription / args.workers))
        bound += burst_limited

    walls, cpus = [], []
    for run in range(1, args.runs + 1):
        wall, inventory, stats, credential_calls, cpu = scan(
            path, args.latency, args.workers, args.processes, source=args.source, credential_cost=args.credential_cost
        )
        walls.append(wall)
        cpus.append(cpu)
        if args.runs > 1:
            print(f"run {run}: {wall:.1f} s, ratio to the bound {wall / bound:.2f}", flush=True)
    wall = statistics.median(walls)
    lost = args.subscriptions - sum(1 for s in inventory.subscriptions if not s.errors)
    vms = sum(len(s.resources) for s in inventory.subscriptions)

    sample = [arm.sub_id(f"bench-{i}") for i in range(min(args.sequential_sample, args.subscriptions))]
    sequential_sample, *_ = scan(path, args.latency, 1, 1, sample)
    sequential = (sequential_sample - args.latency) * args.subscriptions / len(sample) + args.latency

    print(
        f"tenant: {args.subscriptions} subscriptions x {args.resources} VMs, {args.latency * 1000:.0f} ms per request, "
        f"source {args.source}, {args.workers} workers"
        + (f" in {args.processes} process(es)" if args.source == "arm" else "")
    )
    print(f"wall time:             {wall:8.1f} s" + (f"   (median of {args.runs} runs)" if args.runs > 1 else ""))
    print(f"requests:              {stats.requests:8d} (needed {requests_needed})")
    print(f"429s (simulated):      {stats.throttled:8d}")
    print(f"resources read:        {vms:8d} (expected {args.subscriptions * args.resources})")
    print(f"subscriptions lost:    {lost:8d}")
    print(f"lower bound:           {bound:8.1f} s   ratio to it: {wall / bound:5.2f}  (target <= 1.3)")
    print(
        f"sequential (1 worker): {sequential:8.1f} s   (measured on {len(sample)} subscriptions: "
        f"{sequential_sample:.1f} s, scaled)   speed-up: {sequential / wall:5.1f}x  (target >= 20)"
    )
    processes = args.processes if args.source == "arm" and args.subscriptions >= 50 else 1
    print(
        f"credential calls:      {credential_calls:8d}   at {args.credential_cost:.1f} s each (target: one per scope "
        f"per process, <= {processes}; the last run)"
    )
    print(f"CPU:                   {statistics.median(cpus):8.1f} s   (this process and its workers; median)")
    print(
        f"RESULT ratio_to_bound={wall / bound:.2f} cpu_s={statistics.median(cpus):.1f} "
        f"credential_calls={credential_calls} lost={lost}"
    )


def graph_bound(subscriptions: int, vms: int, latency: float) -> tuple[int, float]:
    """Requests a Graph scan needs and the least time they can take: the subscription list, then per batch one
    ResourceContainers query and the Resources pages in a chain (batches in parallel), and no faster than Graph's
    quota lets the queries through."""
    batches = [min(BATCH_SIZE, subscriptions - i) for i in range(0, subscriptions, BATCH_SIZE)]
    pages = [max(1, math.ceil(size * vms / PAGE_SIZE)) for size in batches]
    queries = sum(1 + p for p in pages)
    quota_limited = max(0.0, (queries - GRAPH_BUCKET) / GRAPH_REFILL_PER_SECOND)
    return 1 + queries, latency + max(latency * (1 + max(pages)), quota_limited)


if __name__ == "__main__":
    main()
