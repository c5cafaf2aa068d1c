from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
CONTOSO = FIXTURES / "contoso.json"
CONTOSO_CONFIG = FIXTURES / "contoso.toml"


SHARED = REPO.parent / "shared"
NEEDS = {
    "seeds": (
        "these tests check every rule against the text of the three editions of Microsoft's article it cites",
        "the editions as text files in shared/seeds/",
    ),
    "arm-examples": (
        "these tests run Microsoft's own example payloads (from Azure/azure-rest-api-specs) through the Azure SDK",
        "the example files in shared/arm-examples/ (its README lists each file and where it comes from)",
    ),
}


def shared_dir(part: str) -> Path:
    """A folder of the team's shared/ beside the clone (developers and CI have it). A plain clone has not: the
    tests that need it skip, saying what they check and what to provide; under CI a missing folder is an error,
    so those tests never skip there unseen."""
    folder = SHARED / part
    if folder.is_dir():
        return folder
    checks, provide = NEEDS[part]
    message = f"{checks}; to run them, put {provide} beside the clone ({folder} is missing)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run these tests: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def seeds() -> Path:
    return shared_dir("seeds")


@pytest.fixture(scope="session")
def arm_examples() -> Path:
    return shared_dir("arm-examples")


@pytest.fixture(autouse=True)
def ctrl_c_reaches_python() -> Iterator[None]:
    """Every test runs with Python's own SIGINT handler, which raises KeyboardInterrupt, as the tests that press
    Ctrl-C (SIGINT to this process) expect. A shell starts a background job (`… &`) with SIGINT ignored, and Python
    keeps it ignored: there those tests failed, all five, though nothing in the tool had changed."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
