"""A fork's Requires-Python check (uv's requires-python fork, ``Region.check_python_fork``) is
asked of every candidate whose dependencies the search reads; its answer is kept per region by
the parsed Requires-Python object (a project's files share a few), and the complement of a
Python range is built once, not at every question (negating builds a new diagram, which the
memoised intersections then compare node by node)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from varsolve.marker_algebra import MarkerSet
from varsolve.universal import region as region_module
from varsolve.universal.region import ForkNeeded, Region


@dataclass
class _Candidate:
    name: NormalizedName
    version: Version

    def describe(self) -> str:
        return f"{self.name} {self.version}"


CANDIDATE = _Candidate(NormalizedName("lib"), Version("2.0"))


def _region() -> Region:
    return Region(MarkerSet.python_range(">=3.10"), eager=True)


def _parts(region: Region, spec: SpecifierSet) -> list[tuple[str, dict[str, str]]] | None:
    try:
        region.check_python_fork(CANDIDATE, spec, spec)  # type: ignore[arg-type]
    except ForkNeeded as fork:
        return [(str(part), {str(k): str(v) for k, v in pins.items()}) for part, pins in fork.parts]
    return None


def test_a_release_for_newer_pythons_forks_the_region_at_its_bound_each_time_it_is_read() -> None:
    region = _region()
    spec = SpecifierSet(">=3.11")
    expected = [("python_full_version == '3.10.*'", {}), ("python_full_version >= '3.11'", {"lib": "2.0"})]
    assert _parts(region, spec) == expected
    assert _parts(region, spec) == expected  # from the memo: the same parts
    assert _parts(region, SpecifierSet(">=3.11")) == expected  # another object, the same text
    assert _parts(region, SpecifierSet(">=3.10")) is None
    assert _parts(region, SpecifierSet(">=3.9")) is None
    assert _parts(region, SpecifierSet("")) is None  # no bound
    assert _parts(Region(MarkerSet.python_range(">=3.11"), eager=True), spec) is None  # the region is above it
    assert (CANDIDATE.name, CANDIDATE.version) not in (region.read or set())


def test_the_answer_is_kept_per_region_and_parsed_requires_python(monkeypatch: pytest.MonkeyPatch) -> None:
    region, other = _region(), _region()
    spec = SpecifierSet(">=3.12")
    first = _parts(region, spec)
    assert first is not None

    def not_again(text: str) -> MarkerSet:
        raise AssertionError(f"worked out again: {text}")

    monkeypatch.setattr(region_module, "python_markers", not_again)
    assert _parts(region, spec) == first  # kept
    with pytest.raises(AssertionError, match="worked out again"):
        _parts(other, spec)  # another region works it out for itself
    monkeypatch.undo()
    assert _parts(other, spec) == first


def test_the_complement_of_a_python_range_is_built_once() -> None:
    outside = region_module._python_outside(">=3.13")
    assert outside is region_module._python_outside(">=3.13")
    assert outside == ~MarkerSet.python_range(">=3.13")
