from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
CONTOSO = FIXTURES / "contoso.json"
CONTOSO_CONFIG = FIXTURES / "contoso.toml"


def shared_dir() -> Path:
    """shared/ sits beside the clone (on developers' machines and in CI); without it the spec tests cannot run."""
    shared = REPO.parent / "shared"
    if not (shared / "seeds").is_dir() or not (shared / "arm-examples").is_dir():
        raise RuntimeError(f"{shared} with seeds/ and arm-examples/ is needed beside the repository for these tests")
    return shared


@pytest.fixture(scope="session")
def seeds() -> Path:
    return shared_dir() / "seeds"


@pytest.fixture(scope="session")
def arm_examples() -> Path:
    return shared_dir() / "arm-examples"
