"""How fast a scan of a large tenant is, against the best Azure's limits allow. Prints figures; asserts nothing.

A synthetic recording of N subscriptions x M virtual machines (default 1,000 x 50) is replayed with a latency per
request (default 100 ms) and a simulated ARM throttle (per subscription: bucket 250, refill 25/s; a request
beyond it gets 429 with Retry-After). The scan runs with --max-workers W, and a sequential scan (one worker) of
a sample of the subscriptions is measured in the same run; sequential time is linear in the subscriptions, so
it is scaled to N. Figures: wall time, requests, 429s, the lower bound from latency, concurrency and throttle,
the ratio to it (target <= 1.3), the ratio to the sequential scan (target >= 20), subscriptions lost (target 0).

Every token request costs --credential-cost seconds (default 0.5, an `az` process for an `az login` user) and is
counted across processes; the target is one per scope per process (worker processes are handed the first
process's token, so one per scan). The last line is machine-readable:
`RESULT ratio_to_bound=… cpu_s=… credential_calls=… lost=…` (with --source graph, ARM mode's too: `arm_s=…
arm_ratio_to_bound=…`).

With --source graph the same tenant is read through Resource Graph (full pages of 1,000 rows, batches of
subscriptions, in --processes processes) under a simulated Graph quota (15 queries per 5 s per user: bucket 15,
refill 3/s, one bucket for every process of the scan, as Graph's quota is the user's); the baseline is ARM mode
reading the same tenant with the same workers and processes in the same run, with its own ratio to its bound.

    python benchmarks/scan_scale.py [--subscriptions 1000] [--resources 50] [--latency 0.1] [--workers 32]
                                    [--processes N] [--source arm|graph] [--runs N] [--credential-cost 0.5]
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import math
import multiprocessing
import os
import pickle
import random
import resource
import statistics
import struct
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests
from azure.core.credentials import AccessToken, AccessTokenInfo

from auditor.collect.factory import build_collector
from auditor.collect.graph import BATCH_SIZE, PAGE_SIZE
from auditor.collect.interface import DEFAULT_PROCESSES, Source
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

    def __init__(
        self, answers: Any, latency: float, jitter: float = 0.0, faults: float = 0.0, quota: Path | None = None
    ) -> None:
        super().__init__(answers)
        self._latency, self._jitter, self._faults, self._quota = latency, jitter, faults, quota
        self._buckets: dict[str, list[float]] = {}
        self._faulted: set[str] = set()
        self._random = random.Random(25)
        self._lock = threading.Lock()

    def _delay(self) -> float:
        """The latency of one request: the mean, spread evenly by the jitter either side."""
        with self._lock:
            return self._latency * (1 + self._jitter * (2 * self._random.random() - 1))

    def _fault(self, url: str) -> int:
        """503 or a 429 burst on the first attempt of a few requests (a fraction `faults`), as Azure's front doors
        do now and then; the retry gets the answer."""
        if not self._faults:
            return 0
        digest = int(hashlib.sha256(url.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        if digest >= self._faults:
            return 0
        with self._lock:
            if url in self._faulted:
                return 0
            self._faulted.add(url)
        return 503 if digest < self._faults / 2 else 429

    def _server_allows(self, url: str) -> float:
        """0 if ARM would serve it now, else the Retry-After it would send."""
        scope = RateLimiter.scope_of(url)
        capacity, rate = (
            (GRAPH_BUCKET, GRAPH_REFILL_PER_SECOND) if scope == "graph" else (ARM_BUCKET, ARM_REFILL_PER_SECOND)
        )
        if scope == "graph" and self._quota is not None:
            return shared_quota_allows(self._quota)
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
        time.sleep(self._delay())
        retry_after = self._server_allows(request.url)
        fault = 429 if retry_after else self._fault(request.url)
        if fault:
            response = requests.Response()
            response.status_code = fault
            response.headers["Retry-After"] = str(math.ceil(retry_after or 1))
            response.headers["Content-Type"] = "application/json"
            code = "TooManyRequests" if fault == 429 else "ServiceUnavailable"
            response._content = b'{"error": {"code": "%s", "message": "simulated"}}' % code.encode()
            from azure.core.rest._requests_basic import RestRequestsTransportResponse

            return RestRequestsTransportResponse(request=request, internal_response=response)
        return super().send(request, **kwargs)

    def sleep(self, duration: float) -> None:
        super().sleep(duration)
        time.sleep(duration)


def shared_quota_allows(quota: Path) -> float:
    """Resource Graph's quota is the user's: one bucket, in a file every process of the scan locks to take from.
    0 if Graph would serve the query now, else the Retry-After it would send."""
    with quota.open("r+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        tokens, updated = struct.unpack("dd", handle.read(16))
        now = time.monotonic()  # the system's clock: the same in every process
        tokens = min(GRAPH_BUCKET, tokens + (now - updated) * GRAPH_REFILL_PER_SECOND)
        allows = tokens >= 1
        handle.seek(0)
        handle.write(struct.pack("dd", tokens - allows, now))
        return 0.0 if allows else (1 - tokens) / GRAPH_REFILL_PER_SECOND


def simulated(
    path: Path, latency: float, jitter: float = 0.0, faults: float = 0.0, quota: Path | None = None
) -> SimulatedArm:
    """The transport factory of the recipe: module-level, so worker processes can build it too.

    Each worker process loads the parsed recording from a pickle written once by the parent: parsing the JSON
    again in every process is a cost of the benchmark harness that a live scan does not have.
    """
    with path.with_suffix(".pickle").open("rb") as handle:
        return SimulatedArm(pickle.load(handle), latency, jitter, faults, quota)


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
    jitter: float = 0.0,
    faults: float = 0.0,
    effective_routes: bool = False,
) -> tuple[float, Any, Any, int, float]:
    """Wall time, inventory, counters, credential calls and CPU seconds of one scan."""
    calls = path.with_name(f"credential-calls-{time.monotonic_ns()}.txt")
    calls.touch()
    quota = path.with_name(f"graph-quota-{time.monotonic_ns()}.bin")  # a full bucket for each scan
    quota.write_bytes(struct.pack("dd", GRAPH_BUCKET, time.monotonic()))
    recipe = CollectorRecipe(
        replay=path,
        max_workers=workers,
        transport_factory=partial(simulated, path, latency, jitter, faults, quota),
        credential_factory=partial(slow_credential, calls, credential_cost),
        source=Source(source),
        effective_routes=effective_routes,
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
    parser.add_argument(
        "--tenant",
        choices=["landing-zone", "flat"],
        default="landing-zone",
        help="landing-zone: a hub firewall with a policy and spokes whose VMs each have a NIC, VNet, NSG, route "
        "table, public IPs and an app (default); flat: VMs only, every other list empty",
    )
    parser.add_argument("--latency", type=float, default=0.1, help="mean seconds per request")
    parser.add_argument(
        "--jitter", type=float, default=0.3, help="latency spread either side of the mean (0.3: +-30%%)"
    )
    parser.add_argument("--faults", type=float, default=0.002, help="share of requests first answered 503 or 429")
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--processes", type=int, default=DEFAULT_PROCESSES)
    parser.add_argument(
        "--sequential-sample",
        type=int,
        default=20,
        help="subscriptions scanned with one worker (0: no sequential baseline)",
    )
    parser.add_argument("--source", choices=["arm", "graph"], default="arm")
    parser.add_argument(
        "--effective-routes",
        action="store_true",
        help="landing zone only: every spoke VNet has a VPN gateway; the scan is timed with --effective-routes (a "
        "POST a subnet, answered 202 and polled once) beside the same scan without it",
    )
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
    graph = args.source == "graph"

    directory = Path(tempfile.mkdtemp(prefix="port25-bench-"))
    path = directory / "tenant.json"
    build = arm.landing_zone_subscriptions if args.tenant == "landing-zone" else arm.many_subscriptions
    if args.effective_routes:
        tenant = arm.landing_zone_subscriptions("bench", args.subscriptions, args.resources, graph=graph, gateways=True)
    else:
        tenant = build("bench", args.subscriptions, args.resources, graph=graph)
    needed = Needed.of(tenant, graph)
    arm_needed = Needed.of(tenant, False)
    path.write_text(json.dumps(tenant), encoding="utf-8")
    with path.with_suffix(".pickle").open("wb") as handle:
        pickle.dump(parse_recording(tenant, str(path)), handle, protocol=pickle.HIGHEST_PROTOCOL)
    del tenant
    expected_subscriptions = args.subscriptions + (args.tenant == "landing-zone")
    # Our concurrency, ARM mode: the subscription list, then every other request W at a time (and no list waits
    # for a subscription's bucket: its lists are far fewer than the 250 it holds).
    arm_bound = args.latency * max(3, 1 + math.ceil((arm_needed.requests - 1) / args.workers))
    bound = graph_bound(args.subscriptions, needed, args.latency, args.workers) if graph else arm_bound
    # Azure's limits alone: every subscription's lists at once (each far under its bucket), then the lists under
    # their items: three round trips, if the client could keep that many requests in flight. For Resource Graph,
    # its quota on queries.
    azure_bound = graph_bound(args.subscriptions, needed, args.latency, 10**9) if graph else args.latency * 3

    walls, cpus = [], []
    for run in range(1, args.runs + 1):
        wall, inventory, stats, credential_calls, cpu = scan(
            path, args.latency, args.workers, args.processes, source=args.source,
            credential_cost=args.credential_cost, jitter=args.jitter, faults=args.faults,
            effective_routes=args.effective_routes,
        )  # fmt: skip
        walls.append(wall)
        cpus.append(cpu)
        if args.runs > 1:
            print(f"run {run}: {wall:.1f} s, ratio to the bound {wall / bound:.2f}", flush=True)
    wall = statistics.median(walls)
    lost = expected_subscriptions - sum(1 for s in inventory.subscriptions if not s.errors)
    resources = sum(len(s.resources) for s in inventory.subscriptions)

    baseline: float | None
    if graph:  # beside ARM mode: the same tenant, workers and processes, in the same run
        baseline, *_ = scan(
            path, args.latency, args.workers, args.processes, source="arm",
            credential_cost=args.credential_cost, jitter=args.jitter, faults=args.faults,
        )  # fmt: skip
        baseline_said = (
            f"ARM mode, the same tenant, workers and processes; its bound {arm_bound:.1f} s, ratio to it "
            f"{baseline / arm_bound:.2f}"
        )
    elif args.sequential_sample <= 0:  # 0: no sequential baseline (it scanned the whole tenant, then divided by 0)
        baseline, baseline_said = None, "none (--sequential-sample 0)"
    else:
        sample = [arm.sub_id(f"bench-{i}") for i in range(min(args.sequential_sample, args.subscriptions))]
        measured, *_ = scan(path, args.latency, 1, 1, sample, jitter=args.jitter)
        baseline = (measured - args.latency) * args.subscriptions / len(sample) + args.latency
        baseline_said = f"ARM with one worker, measured on {len(sample)} subscriptions ({measured:.1f} s) and scaled"

    print(
        f"tenant: {args.tenant}, {args.subscriptions} subscriptions x {args.resources} VMs, "
        f"{args.latency * 1000:.0f} ms +-{args.jitter:.0%} per request, {args.faults:.1%} first answered 503/429, "
        f"source {args.source}, {args.workers} workers in {args.processes} process(es)"
    )
    print(f"machine load:          {os.getloadavg()[0]:8.2f}   (1-minute load average after the runs)")
    print(
        f"wall time:             {wall:8.1f} s"
        + (f"   (median of {args.runs} runs: {spread(walls)})" if args.runs > 1 else "")
    )
    print(f"requests:              {stats.requests:8d} (needed without retries {needed.requests})")
    print(f"429s:                  {stats.throttled:8d}")
    print(f"resources read:        {resources:8d}")
    print(f"subscriptions lost:    {lost:8d}")
    print(
        f"bound, our concurrency:{bound:8.1f} s   ratio to it: {wall / bound:5.2f}  (target <= 1.10 quiet, 1.3 shared)"
    )
    print(
        f"bound, Azure's limits: {azure_bound:8.1f} s   (every list at once: {needed.lists} requests in flight, "
        f"{needed.lists / max(1, args.workers):.0f}x the concurrency used)"
    )
    if args.effective_routes:
        get_only, *_ = scan(
            path, args.latency, args.workers, args.processes, source=args.source,
            credential_cost=args.credential_cost, jitter=args.jitter, faults=args.faults,
        )  # fmt: skip
        routes = [r for s in inventory.subscriptions for r in s.network.effective_routes]
        asked = sum(1 for r in routes if r.nic_id)  # a subnet with no running VM's NIC is not asked
        read = sum(1 for r in routes if r.routes is not None)
        # after the lists: each subnet's POST, then its operation's poll, W at a time
        routes_bound = 2 * args.latency * math.ceil(asked / args.workers)
        print(
            f"effective routes:      {wall - get_only:8.1f} s   (the scan {wall:.1f} s, without --effective-routes "
            f"{get_only:.1f} s; {len(routes)} subnets may learn gateway routes, {asked} asked, {read} read; bound "
            f"{routes_bound:.1f} s: a POST and a poll each, {args.workers} at a time)"
        )
        extra = f" effective_routes_s={wall - get_only:.1f} effective_routes_read={read}"
    else:
        extra = ""
    if baseline is None:
        print(f"baseline:              {baseline_said}")
    else:
        print(f"baseline:              {baseline:8.1f} s   ({baseline_said})   speed-up: {baseline / wall:5.1f}x")
    print(
        f"credential calls:      {credential_calls:8d}   at {args.credential_cost:.1f} s each (target: one per scope "
        "per process at most; worker processes are handed the first one's token, so 1; the last run)"
    )
    print(f"CPU:                   {statistics.median(cpus):8.1f} s   (this process and its workers; median)")
    print(
        f"RESULT ratio_to_bound={wall / bound:.2f} cpu_s={statistics.median(cpus):.1f} "
        f"credential_calls={credential_calls} lost={lost}{extra}"
        + (f" arm_s={baseline:.1f} arm_ratio_to_bound={baseline / arm_bound:.2f}" if graph and baseline else "")
    )


def spread(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


@dataclass(frozen=True)
class Needed:
    """What a scan of the recording must send: every request once (no retries), the per-subscription lists among
    them, and for Resource Graph the rows its pages carry and the ARM reads of lists under an item."""

    requests: int
    lists: int
    rows: int
    children: int

    @classmethod
    def of(cls, recording: dict[str, Any], graph: bool) -> Needed:
        # the effective routes' POSTs and their operations' polls are timed apart (`--effective-routes`)
        # and the resource groups' lists, read only for --tag (which the benchmark does not ask for)
        entries = [e for e in recording["Entries"] if not _effective_routes(e) and not _resource_groups(e)]
        gets = [e for e in entries if e["RequestMethod"] == "GET"]
        posts = [e for e in entries if e["RequestMethod"] == "POST"]
        lists = [e for e in gets if e["RequestUri"].split("?")[0].count("/") == 7]  # /subscriptions/x/providers/ns/type
        children = len(gets) - len(lists) - 1
        rows = sum(len(e["ResponseBody"].get("value") or []) for e in lists)
        if graph:
            return cls(1 + len(posts) + children, len(posts), rows, children)
        return cls(len(gets), len(lists), rows, children)


def _resource_groups(entry: dict[str, Any]) -> bool:
    return entry["RequestUri"].split("?")[0].lower().endswith("/resourcegroups")


def _effective_routes(entry: dict[str, Any]) -> bool:
    uri = entry["RequestUri"].split("?")[0]
    return uri.endswith("/effectiveRouteTable") or "/operationResults/" in uri


def graph_bound(subscriptions: int, needed: Needed, latency: float, workers: int) -> float:
    """The least time a Graph scan can take: the subscription list; then the queries (per batch one
    ResourceContainers query and the Resources pages in a chain; batches in parallel, no faster than Graph's quota
    lets queries through); then, after the last query's answer, the lists under the last batch's items, W at a
    time. Lists under earlier batches' items can be read while later batches wait for the quota (in processes,
    each process reads them after its own batches), so only the last batch's count after the quota: the bound used
    until issue 28 added every list under an item after the quota, which a scan in processes beats."""
    batches = [min(BATCH_SIZE, subscriptions - i) for i in range(0, subscriptions, BATCH_SIZE)]
    rows_per_subscription = needed.rows / max(1, subscriptions)
    pages = [max(1, math.ceil(size * rows_per_subscription / PAGE_SIZE)) for size in batches]
    queries = sum(1 + p for p in pages)
    quota_limited = max(0.0, (queries - GRAPH_BUCKET) / GRAPH_REFILL_PER_SECOND) + latency
    children_of_last_batch = needed.children * batches[-1] / max(1, subscriptions)
    all_children = latency * math.ceil(needed.children / workers)
    after_the_queries = max(latency * (1 + max(pages)), quota_limited) + latency * math.ceil(
        children_of_last_batch / workers
    )
    return latency + max(after_the_queries, all_children)


if __name__ == "__main__":
    main()
