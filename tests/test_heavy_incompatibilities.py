"""Backjumping over the same package again and again (issue 15): resolvelib 1.2.1's
``_patch_criteria`` extends a criterion's incompatibilities with those it already had, so the
list doubles at every patch of the same key (2^k entries after k backjumps). The incremental
loop keeps each candidate once; the provider reads the list as a set, so the decisions are
resolvelib's. Without it a 2,000-package layered instance (seed 0) ran out of 24 GB."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from resolvelib.resolvers import resolution as resolvelib_resolution

from varsolve.generate import FAMILIES, load
from varsolve.problem import Problem
from varsolve.resolution import Resolution
from varsolve.strategies import greedy, incremental


def layered(packages: int, seed: int) -> Problem:
    return load(FAMILIES["layered"](packages=packages, seed=seed)).problem


def outcome(resolution: Resolution) -> tuple[str, dict[str, Any]]:
    data = resolution.to_dict()
    data.pop("stats", None)
    stats = {k: v for k, v in resolution.stats.items() if k != "seconds"}
    return json.dumps(data, sort_keys=True, default=str), stats


def solve(problem: Problem, incremental_loop: bool) -> Resolution:
    solver = greedy.Backtrack()
    solver.incremental = incremental_loop
    return solver.solve(problem)


def longest_lists(monkeypatch: pytest.MonkeyPatch, cls: type, criteria: Callable[[Any], dict[Any, Any]]) -> list[int]:
    """[most entries, most repeated entries] of any criterion's incompatibilities after a patch."""
    worst = [0, 0]
    original = cls._patch_criteria

    def patch(self: Any, broken: Any) -> bool:
        ok: bool = original(self, broken)
        for criterion in criteria(self).values():
            entries = list(criterion.incompatibilities)
            worst[0] = max(worst[0], len(entries))
            worst[1] = max(worst[1], len(entries) - len({id(c) for c in entries}))
            assert len(entries) < 10_000, "incompatibilities doubling: stop before memory runs out"
        return ok

    monkeypatch.setattr(cls, "_patch_criteria", patch)
    return worst


def test_incompatibilities_are_kept_once_with_resolvelibs_decisions(monkeypatch):
    problem = layered(200, 0)  # backjumps over one package again and again (22 backtracks)
    theirs = longest_lists(monkeypatch, resolvelib_resolution.Resolution, lambda r: r.state.criteria)
    original = outcome(solve(problem, incremental_loop=False))
    ours = longest_lists(monkeypatch, incremental.IncrementalResolution, lambda r: r.criteria)
    mirrored = outcome(solve(problem, incremental_loop=True))
    assert mirrored == original
    assert theirs[1] >= 7, theirs  # the test bites: 126 entries, one candidate 126 times
    assert ours[1] == 0 and ours[0] <= 5, ours  # five different candidates, each once


def test_a_2k_layered_instance_resolves_within_bounds(monkeypatch):
    """The instance that exhausted memory: resolved, with short incompatibility lists."""
    problem = layered(2000, 0)
    worst = longest_lists(monkeypatch, incremental.IncrementalResolution, lambda r: r.criteria)
    resolution = solve(problem, incremental_loop=True)
    assert resolution.satisfiable and resolution.stats["backtracks"] > 40
    assert worst[1] == 0 and worst[0] < 20, worst
