"""Client-side throttling shaped on Azure Resource Manager's read limits, and the counters a progress bar shows.

ARM (since 2024) throttles reads with a token bucket per subscription and per tenant: 250 tokens, refilled at 25
per second ("Request limits and throttling", Azure Resource Manager docs). Keeping our own buckets the same shape
means a large tenant is not throttled in the first place; azure-core's RetryPolicy still honours Retry-After when
it is. Resource Graph allows about 15 queries per 5 seconds per user: one quota for the whole run, so processes
reading a tenant together take Graph's tokens from one bucket in shared memory (`SharedTokenBucket`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from typing import Any, Protocol
from urllib.parse import urlsplit

from auditor.model import subscription_of

ARM_BUCKET, ARM_REFILL_PER_SECOND = 250, 25.0
GRAPH_BUCKET, GRAPH_REFILL_PER_SECOND = 15, 3.0
REMAINING_HEADERS = (
    "x-ms-ratelimit-remaining-subscription-reads",
    "x-ms-ratelimit-remaining-subscription-global-reads",
    "x-ms-ratelimit-remaining-tenant-reads",
    "x-ms-user-quota-remaining",
)


@dataclass
class TokenBucket:
    capacity: float
    refill_per_second: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.capacity
        self.updated = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.refill_per_second)
        self.updated = now

    def take(self) -> float:
        """Take a token; the seconds to wait before using it (0 when one was there). Reserves ahead when empty."""
        self._refill()
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.refill_per_second

    def observe_remaining(self, remaining: int) -> None:
        """The server says how many requests are left: never believe we have more than that."""
        self._refill()
        self.tokens = min(self.tokens, float(remaining))


class Bucket(Protocol):
    def take(self) -> float: ...

    def observe_remaining(self, remaining: int) -> None: ...


class SharedTokenBucket:
    """A token bucket every process of a run takes from: its tokens and last refill in shared memory, behind the
    array's own lock. Made by the first process and handed to each worker when it starts (shared memory crosses
    to a spawned process only then). `time.monotonic` is the system's clock, the same in every process."""

    def __init__(self, context: BaseContext, capacity: float, refill_per_second: float) -> None:
        self.capacity, self.refill_per_second = capacity, refill_per_second
        self._state = context.Array("d", [capacity, time.monotonic()])  # tokens, updated

    def _refill(self) -> None:
        now = time.monotonic()
        tokens, updated = self._state[0], self._state[1]
        self._state[0] = min(self.capacity, tokens + (now - updated) * self.refill_per_second)
        self._state[1] = now

    def take(self) -> float:
        with self._state.get_lock():
            self._refill()
            self._state[0] -= 1
            tokens = self._state[0]
        return 0.0 if tokens >= 0 else -tokens / self.refill_per_second

    def observe_remaining(self, remaining: int) -> None:
        with self._state.get_lock():
            self._refill()
            self._state[0] = min(self._state[0], float(remaining))


@dataclass
class ScanStats:
    """Counters shared by the collector's threads, for the progress bar and the benchmarks."""

    subscriptions_total: int = 0
    subscriptions_done: int = 0
    resources: int = 0
    requests: int = 0
    throttled: int = 0
    waited_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: float) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


class RateLimiter:
    """One bucket per subscription, one for tenant-level reads, one for Resource Graph; thread-safe."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        arm: tuple[int, float] = (ARM_BUCKET, ARM_REFILL_PER_SECOND),
        graph: tuple[int, float] = (GRAPH_BUCKET, GRAPH_REFILL_PER_SECOND),
    ) -> None:
        self._clock = clock
        self._arm = arm
        self._graph = graph
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    @property
    def graph_quota(self) -> tuple[int, float]:
        """Resource Graph's bucket: its capacity and refill a second."""
        return self._graph

    def share_graph_quota(self, bucket: Bucket) -> None:
        """Take Resource Graph's tokens from `bucket`, which other processes of the run take from too."""
        with self._lock:
            self._buckets["graph"] = bucket

    @staticmethod
    def scope_of(url: str) -> str:
        path = urlsplit(url).path
        if path.lower().startswith("/providers/microsoft.resourcegraph/"):
            return "graph"
        subscription = subscription_of(path)
        return f"subscription:{subscription}" if subscription else "tenant"

    def _bucket(self, scope: str) -> Bucket:
        bucket = self._buckets.get(scope)
        if bucket is None:
            capacity, rate = self._graph if scope == "graph" else self._arm
            bucket = self._buckets[scope] = TokenBucket(capacity, rate, self._clock)
        return bucket

    def take(self, url: str) -> float:
        scope = self.scope_of(url)
        with self._lock:
            return self._bucket(scope).take()

    def observe(self, url: str, headers: Any) -> None:
        values = [headers.get(name) for name in REMAINING_HEADERS]
        remaining = [int(v) for v in values if v is not None and str(v).strip().isdigit()]
        if remaining:
            scope = self.scope_of(url)
            with self._lock:
                self._bucket(scope).observe_remaining(min(remaining))
