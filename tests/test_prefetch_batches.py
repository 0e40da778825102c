"""A strategy that reads a batch of releases announces it first (``Repository.prefetch_metadata``)
and the index source fetches the batch in parallel: checked on the project's own server, whose
statistics count the requests it answers at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from index_helpers import build_index_from_text, repository
from varsolve.api import build_problem
from varsolve.index.server import Fault, IndexServer
from varsolve.strategies.sat import SatStrategy
from varsolve.verifier import verify

NAMES = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")
TEXT = '[root]\nrequires = ["app"]\n[packages.app.versions."1.0.0"]\nrequires_python = ""\nsdist = false\n' + "".join(
    f'[packages.{name}.versions."{v}.0.0"]\nrequires_python = ""\nsdist = false\n' for name in NAMES for v in (2, 1)
)


def test_announced_metadata_is_fetched_in_parallel_and_once(tmp_path: Path) -> None:
    index = build_index_from_text(tmp_path / "index", TEXT)
    # Each metadata file answered late: fetched one after another, never two at once.
    with IndexServer(index, faults=[Fault("delay", value=150, path="*.metadata")]) as server:
        with repository(server.index_url) as repo:  # no target hint: nothing prefetched on its own
            wanted = []
            for name in NAMES:
                release = max(repo.releases(name), key=lambda r: r.version)
                wanted.append((release, release.files[0]))
            before = server.stats.max_in_flight
            repo.prefetch_metadata(wanted)
            metas = [repo.metadata(release, file) for release, file in wanted]
        assert len(metas) == len(NAMES)
        assert server.stats.max_in_flight >= 2 > before
        metadata_requests = {path: n for path, n in server.stats.by_path.items() if path.endswith(".metadata")}
        assert len(metadata_requests) == len(NAMES) and set(metadata_requests.values()) == {1}


def test_sat_over_http_reads_a_wave_of_requirements_in_parallel(tmp_path: Path) -> None:
    """app needs six packages: their newest metadata is one wave, fetched at once."""
    text = TEXT.replace('[packages.app.versions."1.0.0"]\n', f'[packages.app.versions."1.0.0"]\nrequires = {list(NAMES)!r}\n'.replace("'", '"'))
    index = build_index_from_text(tmp_path / "index", text)
    scenario = index.with_suffix(".toml")
    with IndexServer(index, faults=[Fault("delay", value=150, path="*.metadata")]) as server:
        with repository(server.index_url) as repo:
            problem = build_problem(scenario=scenario, repository=repo)
            resolution = SatStrategy().solve(problem)
            assert verify(problem, resolution) == []
        assert resolution.satisfiable
        assert {name: str(p.version) for name, p in resolution.packages.items()} == {"app": "1.0.0", **{n: "2.0.0" for n in NAMES}}
        assert server.stats.max_in_flight >= 2


WIDENING = (
    '[root]\nrequires = ["x"]\n'
    '[packages.x.versions."1.0.0"]\nrequires = ["a", "c"]\nrequires_python = ""\nsdist = false\n'
    + "".join(
        f'[packages.a.versions."{v}.0.0"]\n' + ('requires = ["c<2"]\n' if v >= 3 else "") + 'requires_python = ""\nsdist = false\n'
        for v in range(6, 0, -1)
    )
    + "".join(f'[packages.c.versions."{v}.0.0"]\nrequires_python = ""\nsdist = false\n' for v in range(4, 0, -1))
)


def test_sat_over_http_widens_a_gap_by_several_releases_at_once(tmp_path: Path) -> None:
    """a 6.0.0 pushes c down to 1.0.0 (three releases from its newest); each older a the
    optimum has not read yet looks cheaper, until a 2.0.0, which costs four. One release per
    widening takes three rounds to find that out (a 5.0.0, then a 4.0.0 and a 3.0.0); four
    per widening, fetched at once, take two. The optimum is the same."""
    index = build_index_from_text(tmp_path / "index", WIDENING)
    scenario = index.with_suffix(".toml")
    results = {}
    with IndexServer(index, faults=[Fault("delay", value=50, path="*.metadata")]) as server:
        for min_widening in (1, 4):
            with repository(server.index_url) as repo:
                problem = build_problem(scenario=scenario, repository=repo)
                resolution = SatStrategy(min_widening=min_widening).solve(problem)
                assert verify(problem, resolution) == []
            results[min_widening] = resolution
    for resolution in results.values():
        assert {n: str(p.version) for n, p in resolution.packages.items()} == {"x": "1.0.0", "a": "6.0.0", "c": "1.0.0"}
        assert resolution.stats["optimal"] is True
    assert results[1].stats["rounds"] == 3
    assert results[4].stats["rounds"] == 2
    assert SatStrategy().min_widening == 4


def test_min_widening_must_be_positive() -> None:
    with pytest.raises(ValueError, match="min_widening"):
        SatStrategy(min_widening=0)


NARROWED = """
[root]
requires = ["x", "y", "p"]
[packages.x.versions."1.0.0"]
requires = ["p>=2,<=4"]
requires_python = ""
sdist = false
[packages.y.versions."1.0.0"]
requires = ["p!=4.0.0"]
requires_python = ""
sdist = false
""" + "".join(f'[packages.p.versions."{v}.0.0"]\nrequires_python = ""\nsdist = false\n' for v in range(8, 0, -1))


def test_a_widening_reads_only_what_the_requirements_admit_when_they_narrow_the_gap(tmp_path: Path) -> None:
    """Round one reads p 8.0.0 (for the root, and y) and 4.0.0 (for x); the optimum needs a p
    below 4 that x and y both admit: 3.0.0 and 2.0.0 are read, and not 1.0.0, which no
    requirement that applies admits (torch's sympy==1.13.3 read three more sympy releases)."""
    scenario = tmp_path / "narrowed.toml"
    scenario.write_text(NARROWED, encoding="utf-8")
    problem = build_problem(scenario=scenario)
    resolution = SatStrategy(lazy=True).solve(problem)
    assert verify(problem, resolution) == []
    assert {n: str(p.version) for n, p in resolution.packages.items()} == {"x": "1.0.0", "y": "1.0.0", "p": "3.0.0"}
    assert resolution.stats["rounds"] == 2 and resolution.stats["optimal"] is True
    assert resolution.stats["releases_read"] == 6  # x, y, p 8.0.0, 4.0.0, 3.0.0, 2.0.0
