"""Shared test fixtures.

``S2RDEPTH_REQUIRE_COMPILED=1`` (set by ``make test`` and CI) turns a missing or broken compiled
extension into a hard failure instead of a silent fall back to the reference implementations.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Small real dataset samples shipped beside the project (absent in a user's fresh clone).
REALDATA = REPO_ROOT.parent / "shared" / "realdata"


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("S2RDEPTH_REQUIRE_COMPILED") == "1":
        import s2rdepth.ops as ops

        if ops.backend() == "reference":
            raise pytest.UsageError(
                "S2RDEPTH_REQUIRE_COMPILED=1 but s2rdepth._C is not importable: "
                f"{ops.build_info()['compiled_extension']}")


@pytest.fixture(scope="module")
def one_thread():
    """One intra-op thread for a module of small-tensor tests (``pytestmark =
    pytest.mark.usefixtures("one_thread")``): on a busy 2-core machine OpenMP thrashing makes tiny
    forwards many times slower, and results do not change."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def realdata() -> Path:
    """Path of ../shared/realdata; skips the test when that folder is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real sample data not found at {REALDATA} (only present in the project workspace)")
    return REALDATA
