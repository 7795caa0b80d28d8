"""Shared fixtures: a CLI runner, the shared data folder (skipped when absent), factories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

# Property tests are reproducible by default: the same examples on every run, so CI never fails
# at random. `make bench` (or HYPOTHESIS_PROFILE=thorough) explores new random examples with a
# larger budget; a counterexample found there becomes an ordinary test.
settings.register_profile("repro", derandomize=True, print_blob=True)
settings.register_profile("thorough", derandomize=False, max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repro"))

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def shared_data() -> Path:
    """../shared/data when present; a user's clone has none, so tests using it skip."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated demo workspace (150 persons, seed 11): the folder holding its config."""
    from audit.demo import generate_workspace

    ws = generate_workspace(tmp_path_factory.mktemp("demo"), size=150, seed=11)
    return Path(ws.config).parent


@pytest.fixture
def beside_forks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each `Beside` whose result was asked ran in a forked child, in order."""
    from audit.beside import Beside

    forked: list[bool] = []
    real = Beside.result

    def spy(self):  # type: ignore[no-untyped-def]
        forked.append(self.forked)
        return real(self)

    monkeypatch.setattr(Beside, "result", spy)
    return forked


@pytest.fixture
def repo() -> Path:
    return REPO


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Spark tests run last: the session they share takes seconds to start and holds a JVM,
    and a failure elsewhere should show before them."""
    items.sort(key=lambda item: item.get_closest_marker("spark") is not None)
