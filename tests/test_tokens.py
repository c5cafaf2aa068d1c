"""Issue 16.1: one token per scope per process, however many clients and subscriptions ask for it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo

from auditor.collect.arm import ArmCollector
from auditor.collect.graph import GraphCollector
from auditor.collect.replay import ReplayTransport
from auditor.collect.tokens import REFRESH_WINDOW_SECONDS, SharedTokenCredential
from tests.conftest import CONTOSO

SCOPE = "https://management.azure.com/.default"


class CountingCredential:
    """A credential that costs `delay` seconds a call, as `az account get-access-token` does, and counts calls."""

    def __init__(self, lifetime: float = 3600, delay: float = 0.0, now: Callable[[], float] = time.time) -> None:
        self.calls: list[tuple[tuple[str, ...], Any]] = []
        self._lifetime, self._delay, self._now = lifetime, delay, now
        self._lock = threading.Lock()

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token = self.get_token_info(*scopes, options=kwargs)  # type: ignore[arg-type]
        return AccessToken(token.token, token.expires_on)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        time.sleep(self._delay)
        with self._lock:
            self.calls.append((scopes, dict(options or {})))
            number = len(self.calls)
        return AccessTokenInfo(f"token-{number}", int(self._now() + self._lifetime))


def test_a_whole_scan_asks_the_credential_once_per_scope() -> None:
    """The bundled tenant: 13 subscriptions, five SDK clients each, billing accounts; one token request."""
    inner = CountingCredential()
    ArmCollector(inner, ReplayTransport.from_file(CONTOSO)).collect()  # type: ignore[arg-type]

    assert [scopes for scopes, _ in inner.calls] == [(SCOPE,)]


def test_resource_graph_mode_shares_the_token_too() -> None:
    inner = CountingCredential()
    GraphCollector(inner, ReplayTransport.from_file(CONTOSO)).collect()  # type: ignore[arg-type]

    assert len(inner.calls) == 1


def test_callers_that_arrive_together_wait_for_one_fetch() -> None:
    inner = CountingCredential(delay=0.2)
    shared = SharedTokenCredential(inner)  # type: ignore[arg-type]
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda: tokens.append(shared.get_token(SCOPE).token)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(inner.calls) == 1 and tokens == ["token-1"] * 8


def test_a_token_is_renewed_before_it_expires_and_kept_per_scope_and_tenant() -> None:
    now = [1_000_000.0]
    inner = CountingCredential(lifetime=3600, now=lambda: now[0])
    shared = SharedTokenCredential(inner, clock=lambda: now[0])  # type: ignore[arg-type]

    first = shared.get_token_info(SCOPE)
    now[0] += 3600 - REFRESH_WINDOW_SECONDS - 1  # not yet in the renewal window
    assert shared.get_token_info(SCOPE) is first
    now[0] += 2  # inside the window: renewed
    assert shared.get_token_info(SCOPE).token == "token-2"
    assert shared.get_token_info("https://other/.default").token == "token-3"
    assert shared.get_token_info(SCOPE, options={"tenant_id": "t2"}).token == "token-4"
    assert shared.get_token(SCOPE).token == "token-2"  # the old API reads the same cache
    assert len(inner.calls) == 4


def test_a_claims_challenge_always_fetches_and_the_new_token_is_shared() -> None:
    """Continuous access evaluation: a revoked token is challenged with claims; the cache must not answer that."""
    inner = CountingCredential()
    shared = SharedTokenCredential(inner)  # type: ignore[arg-type]
    shared.get_token_info(SCOPE, options={"enable_cae": True})

    challenged = shared.get_token_info(SCOPE, options={"enable_cae": True, "claims": '{"access_token":{}}'})

    assert challenged.token == "token-2" and inner.calls[-1][1]["claims"]
    assert shared.get_token_info(SCOPE, options={"enable_cae": True}).token == "token-2"


def test_every_client_has_its_own_policy_objects() -> None:
    """A pipeline links the policy objects it is given: clients sharing one would share one chain."""
    collector = ArmCollector(CountingCredential(), ReplayTransport.from_file(CONTOSO))  # type: ignore[arg-type]
    clients = collector.session.clients("00000000-0000-0000-0000-000000000000")

    policies = [client._client._pipeline._impl_policies for client in (clients.compute, clients.network, clients.web)]

    retry = [next(p for p in chain if type(p).__name__ == "CappedRetryPolicy") for chain in policies]
    assert len({id(p) for p in retry}) == 3
