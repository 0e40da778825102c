"""The collector's first threshold is raised while resolutions run and put back after."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from conftest import SCENARIOS
from varsolve.api import solve
from varsolve.collector import THRESHOLD, fewer_collections
from varsolve.resolution import Resolution
from varsolve.sources.scenario import load_scenario
from varsolve.strategies import get_strategy


@pytest.fixture(autouse=True)
def default_thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_raised_for_the_duration_and_put_back() -> None:
    with fewer_collections():
        assert gc.get_threshold() == (THRESHOLD, 10, 10)
        with fewer_collections():  # nested (another resolution in the same process)
            assert gc.get_threshold()[0] == THRESHOLD
        assert gc.get_threshold()[0] == THRESHOLD  # the outer one still runs
    assert gc.get_threshold() == (700, 10, 10)


def test_put_back_when_the_last_thread_ends() -> None:
    inside = threading.Event()
    release = threading.Event()

    def other() -> None:
        with fewer_collections():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    with fewer_collections():
        thread.start()
        assert inside.wait(10)
    assert gc.get_threshold()[0] == THRESHOLD  # the other thread's resolution still runs
    release.set()
    thread.join(10)
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize("threshold", [0, 50_000])
def test_left_alone_when_off_or_higher(threshold: int) -> None:
    gc.set_threshold(threshold, 10, 10)
    with fewer_collections():
        assert gc.get_threshold() == (threshold, 10, 10)
    assert gc.get_threshold() == (threshold, 10, 10)


def test_a_change_made_meanwhile_is_kept() -> None:
    with fewer_collections():
        gc.set_threshold(2_000, 5, 5)
    assert gc.get_threshold() == (2_000, 5, 5)


def test_solve_runs_under_it() -> None:
    """The strategy and the verifier run with the threshold raised (backtrack, seen from inside)."""
    seen = []
    backtrack = get_strategy("backtrack")

    class Recording:
        name = "backtrack"

        def solve(self, problem) -> Resolution:
            seen.append(gc.get_threshold()[0])
            return backtrack.solve(problem)

    problem = load_scenario(SCENARIOS / "variants" / "blas-unify.toml").problem
    resolution = solve(problem, Recording())
    assert resolution.satisfiable and resolution.violations == ()
    assert seen == [THRESHOLD] and gc.get_threshold()[0] == 700
