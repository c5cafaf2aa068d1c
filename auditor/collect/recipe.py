"""How to build a collector again in another process: a picklable recipe, not the live objects.

Large tenants are read by several processes (the SDK's deserialisation is CPU-bound, and threads share one
core); each process builds its own credential, transport and clients from the recipe, once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.collect.interface import DEFAULT_MAX_WORKERS

DEFAULT_PROCESSES = max(1, min(os.cpu_count() or 1, 4))


@dataclass(frozen=True)
class CollectorRecipe:
    replay: Path | None = None
    base_url: str | None = None
    max_workers: int = DEFAULT_MAX_WORKERS
    transport_factory: Callable[[], Any] | None = None  # module-level (picklable); for replays with a twist
    source: str = "arm"
    auth: str = "default"
    cloud: str = "public"
    tenant: str | None = None

    def collector(self, processes: int = 1) -> Any:
        """The collector this recipe describes; ARM mode reads large tenants with `processes` processes."""
        from auditor.collect.interface import Cloud
        from auditor.collect.signin import CLOUDS

        endpoints = CLOUDS[Cloud(self.cloud)]
        base_url = self.base_url or endpoints.arm
        scopes = [endpoints.scope]
        if self.source == "graph":
            from auditor.collect.graph import GraphCollector

            return GraphCollector(
                self.credential(), self.transport(), base_url, max_workers=self.max_workers, credential_scopes=scopes
            )
        from auditor.collect.arm import ArmCollector

        return ArmCollector(
            self.credential(),
            self.transport(),
            base_url,
            max_workers=self.max_workers,
            processes=processes,
            recipe=self,
            credential_scopes=scopes,
        )

    def credential(self) -> Any:
        if self.replay is not None:
            from auditor.collect.replay import ReplayCredential

            return ReplayCredential()
        from auditor.collect.interface import Auth, Cloud
        from auditor.collect.signin import credential

        return credential(Auth(self.auth), Cloud(self.cloud), self.tenant)

    def transport(self) -> Any:
        if self.transport_factory is not None:
            return self.transport_factory()
        if self.replay is not None:
            from auditor.collect.replay import ReplayTransport

            return ReplayTransport.from_file(self.replay)
        from auditor.collect.transport import ReadOnlyTransport

        return ReadOnlyTransport.pooled(self.max_workers)


_built: dict[str, Any] = {}


def built(recipe: CollectorRecipe) -> Any:
    """The collector of this process for the recipe, built once per process.

    Keyed by the recipe's text: each task brings a freshly unpickled recipe, equal but not identical.
    """
    key = repr(recipe)
    if key not in _built:
        _built[key] = recipe.collector(processes=1)
    return _built[key]
