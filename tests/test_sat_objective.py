"""The ``newest`` objective (docs/strategies.md, "Objective"), how the output says which objective
was used, and the incremental encoding of the ``sat`` strategy.

Every resolution goes through the independent verifier (``api.solve``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pysat.formula import IDPool

from conftest import run_varsolve
from varsolve.api import solve
from varsolve.candidates import CandidateFinder, Dependency
from varsolve.objective import objective_note, objective_vector, package_depths
from varsolve.strategies.sat import SatStrategy
from varsolve.strategies.sat_encoding import Encoder
from varsolve.strategies.sat_universe import Universe

# The root requires app; app needs mid; mid 2.0.0 (newest) needs lib, whose two newest releases
# need a variant the target lacks, so lib can only be 2.0.0 (two releases behind); mid 1.0.0
# needs nothing. The default objective counts a package left out as 0: mid 1.0.0 alone costs 1
# at "other versions", mid 2.0.0 with lib 2.0.0 costs 2, so it takes the older mid. ``newest``
# puts mid (depth 2) before lib (depth 3) and takes mid 2.0.0, as backtrack does.
OLDER_TO_LEAVE_OUT = """
[root]
requires = ["app"]
[environment.variants]
"x86_64 :: level" = ["v2"]
[packages.app.versions."1.0.0"]
requires = ["mid"]
[packages.mid.versions."2.0.0"]
requires = ["lib"]
[packages.mid.versions."1.0.0"]
[packages.lib.versions."4.0.0"]
wheel = false
sdist = false
variants = { v4 = ["x86_64 :: level :: v4"] }
[packages.lib.versions."3.0.0"]
wheel = false
sdist = false
variants = { v4 = ["x86_64 :: level :: v4"] }
[packages.lib.versions."2.0.0"]
[packages.lib.versions."1.0.0"]
"""


def _versions(resolution) -> dict[str, str]:
    return {name: str(pin.version) for name, pin in resolution.packages.items()}


def test_default_leaves_a_dependency_out_newest_does_not(load) -> None:
    problem = load(OLDER_TO_LEAVE_OUT).problem
    default = solve(problem, "sat")
    assert default.violations == ()
    assert _versions(default) == {"app": "1.0.0", "mid": "1.0.0"}
    assert default.stats["objective"] == [0, 1, 0, 2] and default.stats["objective_name"] == "default"
    newest = solve(problem, SatStrategy(objective="newest"))
    assert newest.violations == ()
    assert _versions(newest) == {"app": "1.0.0", "mid": "2.0.0", "lib": "2.0.0"}
    # depth 1 (app), 2 (mid), 3 (lib), then variant rank and packages
    assert newest.stats["objective"] == [0, 0, 2, 0, 3] and newest.stats["objective_name"] == "newest"
    assert newest.stats["optimal"] is True and newest.stats["lazy"] is False  # newest reads everything
    backtrack = solve(problem, "backtrack")
    assert _versions(backtrack) == _versions(newest)
    # Each is optimal for its own objective, and no better than the other for the other one.
    assert objective_vector(problem, newest) > objective_vector(problem, default)
    assert objective_vector(problem, default, objective="newest") > objective_vector(problem, newest, objective="newest")


def test_depths_are_the_shortest_chain_from_the_root(load) -> None:
    problem = load(OLDER_TO_LEAVE_OUT).problem
    assert package_depths(problem, CandidateFinder(problem)) == {"app": 1, "mid": 2, "lib": 3}


def test_unknown_objective_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown objective 'oldest'"):
        SatStrategy(objective="oldest")  # type: ignore[arg-type]


def test_the_note_says_which_objective_and_whether_it_is_proved() -> None:
    assert objective_note({"objective_name": "default", "objective": [0, 1, 0, 2], "optimal": True}) == (
        "sat: objective default (root versions, other versions, variant rank, packages) = (0, 1, 0, 2), proved optimal;"
        " a package left out counts 0, so fewer, older packages can win (--objective newest: versions nearest the root first)"
    )
    assert objective_note({"objective_name": "newest", "objective": [0, 0, 2, 0, 3], "optimal": False}) == (
        "sat: objective newest (versions at depth 1, 2, ... from the root, variant rank, packages) = (0, 0, 2, 0, 3),"
        " not proved optimal (the time budget ran out)"
    )
    assert objective_note({"rounds": 3}) is None  # backtrack's stats: nothing to say


def test_resolve_objective_on_the_command_line(write_scenario) -> None:
    path = write_scenario(OLDER_TO_LEAVE_OUT)
    out = run_varsolve("resolve", "--scenario", str(path), "--strategy", "sat", "--objective", "newest", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["stats"]["objective_name"] == "newest" and data["violations"] == []
    assert {n: p["version"] for n, p in data["packages"].items()} == {"app": "1.0.0", "mid": "2.0.0", "lib": "2.0.0"}
    text = run_varsolve("resolve", "--scenario", str(path), "--strategy", "sat")
    assert text.returncode == 0 and "varsolve: sat: objective default (" in text.stderr
    assert "fewer, older packages can win" in text.stderr
    quiet = run_varsolve("-q", "resolve", "--scenario", str(path), "--strategy", "sat")
    assert "objective" not in quiet.stderr
    wrong = run_varsolve("resolve", "--scenario", str(path), "--strategy", "backtrack", "--objective", "newest")
    assert wrong.returncode == 2 and "--objective: only --strategy sat optimises" in wrong.stderr


def test_compare_ranks_every_strategy_by_the_objective_chosen(tmp_path: Path, write_scenario) -> None:
    from varsolve.compare import run_compare

    path = write_scenario(OLDER_TO_LEAVE_OUT)
    for objective, sat_vector in (("default", [0, 1, 0, 2]), ("newest", [0, 0, 2, 0, 3])):
        report = run_compare([path], ["backtrack", "sat"], memory="off", objective=objective)
        rows = {row.strategy: row for row in report.rows}
        assert rows["sat"].objective == sat_vector
        assert rows["sat"].objective <= rows["backtrack"].objective
    assert rows["backtrack"].objective == rows["sat"].objective  # newest: backtrack is optimal here


# -- the incremental encoding ---------------------------------------------------------------------
def test_a_round_encodes_only_what_was_read(tmp_path: Path) -> None:
    """Reading releases of one gap adds clauses for them (and the requirements on that package
    whose range touches the gap), not for the rest of the universe; nothing read, nothing added."""
    from varsolve.api import build_problem
    from varsolve.generate.layered import generate

    path = tmp_path / "layered.toml"
    path.write_text(generate(seed=0, packages=60), encoding="utf-8")
    problem = build_problem(scenario=path)
    finder = CandidateFinder(problem)
    universe = Universe(finder)
    universe.add_roots(Dependency.from_requirement(r) for r in problem.root_requirements())
    encoder = Encoder(universe, IDPool(), problem.options.unify, problem.root_names())
    encoder.update()
    first = len(encoder.hard)
    encoder.update()
    assert len(encoder.hard) == first  # nothing read since: nothing added
    gap = next(g for g in sorted(encoder.boundary.values(), key=lambda g: g.key) if len(g.releases) > 1)
    universe.widen(gap, [])
    encoder.update()
    assert 0 < len(encoder.hard) - first < first // 5, (first, len(encoder.hard))
    # Ranges are kept per distinct specifier, not per requirement and release read.
    distinct = {(r.dep.name, tuple(map(str, r.dep.specifiers))) for r in universe.requirements}
    assert len(universe._intervals) <= len(distinct)  # noqa: SLF001 - the cache's size is the point

