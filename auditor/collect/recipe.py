"""How to build a collector again in another process: a picklable recipe, not the live objects.

Large tenants are read by several processes (the SDK's deserialisation is CPU-bound, and threads share one
core); each process builds its own credential, transport and clients from the recipe, once. Which collector a
recipe makes is `auditor.collect.factory`'s business.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from azure.core.credentials import TokenCredential
from azure.core.pipeline.transport import HttpTransport

from auditor.collect.interface import DEFAULT_MAX_WORKERS, Auth, Cloud, Extras, Source
from auditor.collect.replay import ReplayCredential, ReplayTransport
from auditor.collect.signin import CLOUDS, CloudEndpoints, credential
from auditor.collect.transport import ReadOnlyTransport


@dataclass(frozen=True)
class CollectorRecipe:
    replay: Path | None = None  # a recording to read instead of Azure
    max_workers: int = DEFAULT_MAX_WORKERS
    source: Source = Source.ARM
    auth: Auth = Auth.DEFAULT
    cloud: Cloud = Cloud.PUBLIC
    tenant: str | None = None
    effective_routes: bool = False  # read the effective routes of subnets that may learn gateway routes
    group_tags: bool = False  # read the resource groups' tags (--tag, exceptions that match a tag)
    # For a transport or credential with a twist (a recorder, a test's spy); module-level to cross processes.
    transport_factory: Callable[[], HttpTransport] | None = None
    credential_factory: Callable[[], TokenCredential] | None = None

    @property
    def extras(self) -> Extras:
        return Extras(group_tags=self.group_tags, effective_routes=self.effective_routes)

    @property
    def endpoints(self) -> CloudEndpoints:
        return CLOUDS[self.cloud]

    def credential(self) -> TokenCredential:
        if self.credential_factory is not None:
            return self.credential_factory()
        if self.replay is not None:
            return ReplayCredential()
        return credential(self.auth, self.cloud, self.tenant)

    def transport(self) -> HttpTransport:
        if self.transport_factory is not None:
            return self.transport_factory()
        if self.replay is not None:
            return ReplayTransport.from_file(self.replay)
        return ReadOnlyTransport.pooled(self.max_workers)
