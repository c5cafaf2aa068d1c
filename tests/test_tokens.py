"""Issue 16.1: one token per scope per process, however many clients and subscriptions ask for it."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo

from auditor.collect.arm import ArmCollector
from auditor.collect.graph import GraphCollector
from auditor.collect.recipe import CollectorRecipe
from auditor.collect.replay import ReplayTransport
from auditor.collect.tokens import REFRESH_WINDOW_SECONDS, SharedTokenCredential
from fixtures import arm_payloads as arm
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


def test_a_token_handed_over_is_used_while_fresh_and_a_stale_one_is_not() -> None:
    now = [1_000_000.0]
    first = SharedTokenCredential(CountingCredential(now=lambda: now[0]), clock=lambda: now[0])  # type: ignore[arg-type]
    handed = first.get_token_info(SCOPE)
    inner = CountingCredential(now=lambda: now[0])
    second = SharedTokenCredential(inner, clock=lambda: now[0])  # type: ignore[arg-type]

    second.seed(first.tokens())
    assert second.get_token_info(SCOPE) is handed and inner.calls == []

    now[0] += 3600 - REFRESH_WINDOW_SECONDS + 1  # due for renewal: no longer handed over, nor taken
    assert first.tokens() == {}
    second.seed({((SCOPE,), "", False): AccessTokenInfo("stale", int(now[0]) + 60)})
    assert second.get_token_info(SCOPE).token != "stale" and len(inner.calls) == 1


class _CredentialCountedInAFile:
    """Counts token requests in a file every process of the scan appends to."""

    def __init__(self, calls: Path) -> None:
        self._calls = calls

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token = self.get_token_info(*scopes)
        return AccessToken(token.token, token.expires_on)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        with self._calls.open("a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {multiprocessing.parent_process() is not None}\n")
        return AccessTokenInfo("token", int(time.time()) + 3600)


def _counted_in(calls: Path) -> _CredentialCountedInAFile:
    return _CredentialCountedInAFile(calls)


@pytest.mark.slow
def test_worker_processes_are_handed_the_token_instead_of_signing_in_again(tmp_path: Path) -> None:
    """An `az login` user pays half a second of CPU per token request: a scan in two processes asks once."""
    recording, calls = tmp_path / "many.json", tmp_path / "calls.txt"
    recording.write_text(json.dumps(arm.many_subscriptions("many", 60, 3)), encoding="utf-8")
    calls.touch()
    recipe = CollectorRecipe(replay=recording, max_workers=8, credential_factory=partial(_counted_in, calls))

    collector = ArmCollector.from_recipe(recipe, processes=2)
    inventory = collector.collect()

    assert len(inventory.subscriptions) == 60 and collector.stats.subscriptions_done == 60
    assert calls.read_text(encoding="utf-8").splitlines() == [f"{os.getpid()} False"]
