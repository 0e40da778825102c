"""A universal resolution tells its source ahead of time which metadata the forks will read: a
fork for Pythons no fork before it had (3.11 after 3.10) takes releases no fork read yet, and
the search's own requests for them, one after the other, are what such a fork waits for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from packaging.utils import NormalizedName

from varsolve.repository import CoreMetadata, DistFile, Release, Repository, RepositoryBase
from varsolve.sources.scenario import load_scenario_text
from varsolve.strategies import get_strategy
from varsolve.universal.driver import resolve_universal
from varsolve.variants.metadata import VariantMetadata

DEPS = ("alpha", "beta", "gamma", "delta")
# app 2 needs Python 3.11 and the newest of each dependency, which needs 3.11 too; app 1 runs
# on 3.10 with the oldest. The 3.10 fork reads the pages and the 1.0.0s; the 3.11 fork then
# meets each 3.0.0 through app 2's requirements.
TEXT = (
    '[root]\nrequires = ["app"]\n'
    '[packages.app.versions."2.0.0"]\nrequires_python = ">=3.11"\nsdist = false\n'
    f"requires = {list(DEPS)!r}\n".replace("'", '"')
    + '[packages.app.versions."1.0.0"]\nrequires_python = ">=3.10"\nsdist = false\n'
    + f"requires = {[f'{d}<2' for d in DEPS]!r}\n".replace("'", '"')
    + "".join(
        f'[packages.{name}.versions."{v}.0.0"]\nrequires_python = "{">=3.11" if v == 3 else ">=3.10"}"\nsdist = false\n'
        for name in DEPS
        for v in (3, 2, 1)
    )
)


class Recording(RepositoryBase):
    """The scenario's packages; notes what was announced (prefetch_metadata) and, for each
    metadata read, whether it had been announced before."""

    def __init__(self, inner: Repository) -> None:
        self.inner = inner
        self.announced: set[tuple[str, str]] = set()
        self.reads: list[tuple[tuple[str, str], bool]] = []

    def releases(self, name: NormalizedName) -> list[Release]:
        return self.inner.releases(name)

    def metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        key = (release.name, str(release.version))
        self.reads.append((key, key in self.announced))
        return self.inner.metadata(release, file)

    def variant_metadata(self, release: Release) -> VariantMetadata | None:
        return self.inner.variant_metadata(release)

    def prefetch_metadata(self, files: Iterable[tuple[Release, DistFile]]) -> None:
        self.announced.update((release.name, str(release.version)) for release, _ in files)


def test_a_fork_for_new_pythons_has_the_releases_it_takes_announced(tmp_path: Path) -> None:
    scenario = load_scenario_text(TEXT, tmp_path / "readahead.toml")
    recording = Recording(scenario.problem.repository)
    problem = replace(scenario.problem, repository=recording)
    result = resolve_universal(problem, get_strategy("backtrack"), requires_python=">=3.10")
    assert result.satisfiable and not result.violations
    pins = sorted(
        (str(fork.region), {name: str(pin.version) for name, pin in fork.resolution.packages.items()}) for fork in result.forks
    )
    assert pins == [
        ("python_full_version == '3.10.*'", {"app": "1.0.0", **{d: "1.0.0" for d in DEPS}}),
        ("python_full_version >= '3.11'", {"app": "2.0.0", **{d: "3.0.0" for d in DEPS}}),
    ]
    first = {}
    for key, announced in recording.reads:
        first.setdefault(key, announced)
    # The search reads one dependency at a time: each 3.0.0 but the first it reads was known
    # to be needed (and could be fetched) while it read the others.
    newest = [first[(d, "3.0.0")] for d in DEPS]
    assert sum(newest) >= len(DEPS) - 1, first
