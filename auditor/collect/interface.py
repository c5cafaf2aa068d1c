"""What every way of collecting a tenant provides."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from auditor.model import TenantInventory


class Collector(ABC):
    @abstractmethod
    def collect(self, scope: Sequence[str] = ()) -> TenantInventory:
        """Read every subscription the credential sees (or only `scope`), with what could not be read."""
