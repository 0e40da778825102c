"""Backtracking through hundreds of releases (issue 15's boto3 set: ``boto3 botocore<1.30`` makes
the search reject 820 boto3 releases, each requiring its own botocore range).

* Candidate matching finds the releases a requirement may admit by bisection
  (``greedy.ReleaseIndex``): the work per rejected release no longer grows with the number of
  releases of the package it requires.
* An sdist tried right after its release's non-variant wheel is read through that wheel when its
  own metadata would cost a download (or a build): the same answer, no download.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conftest import examples
from varsolve.api import solve
from varsolve.candidates import Dependency
from varsolve.errors import InvalidDistribution
from varsolve.problem import Problem
from varsolve.repository import CoreMetadata, DistFile, Release, RepositoryBase
from varsolve.strategies import greedy
from varsolve.target import Target
from varsolve.variants.filenames import parse_wheel

ANY_PYTHON = SpecifierSet("")  # what an index announces for a file without Requires-Python


class Backtracking(RepositoryBase):
    """``top`` 1..n, each release requiring ``low`` at its own version; ``low`` 1..n. Every file
    has a wheel and an sdist; an sdist's metadata is not at hand (an index without PEP 658 files
    for sdists: reading it downloads the sdist)."""

    def __init__(self, n: int, broken_wheels: frozenset[str] = frozenset()) -> None:
        self.n = n
        self.broken_wheels = broken_wheels
        self.sdists_read: list[str] = []

    def releases(self, name: str) -> list[Release]:
        if name not in ("top", "low"):
            return []
        out = []
        for k in range(1, self.n + 1):
            files = (
                DistFile(f"{name}-{k}.0-py3-none-any.whl", parse_wheel(f"{name}-{k}.0-py3-none-any.whl"), requires_python=ANY_PYTHON),
                DistFile(f"{name}-{k}.0.tar.gz", None, requires_python=ANY_PYTHON),
            )
            out.append(Release(name, Version(f"{k}.0"), files))
        return out

    def metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        if not file.is_wheel:
            self.sdists_read.append(file.filename)
        elif file.filename in self.broken_wheels:
            raise InvalidDistribution(file.filename, "malformed core metadata")
        if release.name == "top":
            k = int(release.version.major)
            return CoreMetadata((f"low>={k}.0,<{k + 1}.0",))
        return CoreMetadata(())

    def metadata_is_cheap(self, release: Release, file: DistFile) -> bool:
        return file.is_wheel


def problem(repo: Backtracking, *requirements: str) -> Problem:
    return Problem(repo, Target.make(python="3.11"), requirements)


def test_backtracking_reads_no_sdist_and_matches_by_bisection(monkeypatch):
    checks = 0
    contains = SpecifierSet.contains

    def counting(self, *args, **kwargs):
        nonlocal checks
        checks += 1
        return contains(self, *args, **kwargs)

    monkeypatch.setattr(SpecifierSet, "contains", counting)
    repo = Backtracking(400)
    resolution = solve(problem(repo, "top", "low<3"), "backtrack")
    assert {n: str(p.version) for n, p in resolution.packages.items()} == {"top": "2.0", "low": "2.0"}
    assert resolution.packages["top"].filename == "top-2.0-py3-none-any.whl"
    assert resolution.stats["rejected"] == 2 * 398  # every wheel and sdist of top 3.0 .. 400.0
    assert repo.sdists_read == []
    # 400 x 400 range checks when every release of low was asked about for every top release
    assert checks < 5_000, checks


def test_an_sdist_is_read_itself_when_its_wheel_is_unusable():
    repo = Backtracking(5, broken_wheels=frozenset({"top-5.0-py3-none-any.whl"}))
    resolution = solve(problem(repo, "top", "low"), "backtrack")
    assert resolution.packages["top"].filename == "top-5.0.tar.gz"
    assert set(repo.sdists_read) == {"top-5.0.tar.gz"}  # by the search, then by the verifier


VERSIONS = [
    "0.9", "1.0.dev1", "1.0a1", "1.0rc2", "1.0", "1.0+local.7", "1.0+zz", "1.0.post1", "1.0.post1+l", "1.0.1",
    "1.1", "1.1.dev0", "1.2b3", "1.2", "1.2.post2.dev1", "2.0", "2.0.0.post0", "3", "1!0.5", "1!1.0+x",
]
OPERATORS = ["==", "!=", "<", "<=", ">", ">=", "~=", "==="]


@st.composite
def specifier_sets(draw: st.DrawFn) -> SpecifierSet:
    clauses = []
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(OPERATORS))
        version = draw(st.sampled_from(VERSIONS))
        if op == "~=" and "." not in version.split("!")[-1].split("+")[0]:
            version += ".0"
        version = version.split("+")[0] if op not in ("==", "!=", "===") else version
        if op in ("==", "!=") and draw(st.booleans()) and "+" not in version:
            version += ".*"
        clauses.append(f"{op}{version}")
    try:
        return SpecifierSet(",".join(clauses))
    except Exception:
        return SpecifierSet("")


@settings(max_examples=examples(300))
@given(st.lists(specifier_sets(), min_size=1, max_size=2), st.permutations(VERSIONS), st.booleans())
def test_the_window_holds_every_version_a_requirement_admits(specs, order, newest_first):
    """A necessary condition: no version outside a requirement's window is admitted, whatever
    the versions (pre-, post-, dev, local, epochs) and the search order."""
    versions = sorted(map(Version, order), reverse=True) if newest_first else [Version(v) for v in order]
    releases = [Release("p", v, ()) for v in versions]
    index = greedy.ReleaseIndex(releases)
    dep = Dependency("p", tuple(specs))
    lo, hi = index.window(dep)
    inside = list(index.between(lo, hi))
    admitted = [r for r in releases if dep.contains(r.version)]
    assert [r for r in inside if dep.contains(r.version)] == admitted  # the same releases, in search order
    assert index.newest_first == newest_first or len(set(versions)) < len(versions)


def test_the_window_is_tight_for_plain_ranges():
    rng = random.Random(3)
    versions = sorted({Version(f"1.{rng.randrange(60)}.{rng.randrange(200)}") for _ in range(2000)}, reverse=True)
    index = greedy.ReleaseIndex([Release("botocore", v, ()) for v in versions])
    for text in (">=1.29.0,<1.30.0", "<1.30", "==1.40.7", ">1.59.150", "~=1.12.3"):
        dep = Dependency("botocore", (SpecifierSet(text),))
        lo, hi = index.window(dep)
        assert hi - lo == sum(dep.contains(v) for v in versions), text


@pytest.mark.parametrize("text", ["", "!=1.0", "===1.0", "==1.*"])
def test_clauses_without_bounds_leave_the_window_open(text):
    index = greedy.ReleaseIndex([Release("p", Version(v), ()) for v in ("2.0", "1.0", "0.5")])
    assert index.window(Dependency("p", (SpecifierSet(text),))) == (0, 3)
