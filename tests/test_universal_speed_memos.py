"""Memos that let the forks and environments of a universal resolution share work: each must give
exactly the answer it stands for, and never hand one fork's or environment's answer to another
that would answer differently.

* the share key of a release's candidates, worked out from its distinct (Requires-Python, tags)
  pairs (:class:`varsolve.universal.region.ReleaseParts`) once for all forks;
* a requirement's marker answer, kept by the values of the variables it compares
  (:meth:`varsolve.variants.markers.VariantRequirement.evaluate`);
* which of a file's requirements apply, kept across the environments a universal resolution
  checks (:class:`varsolve.verifier.VerifierMemo`).
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from dataclasses import replace
from typing import cast

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from varsolve.candidates import Candidate, CandidateFinder
from varsolve.compare.tasks import scenario_from_text
from varsolve.marker_algebra import MarkerSet
from varsolve.repository import DistFile, Release
from varsolve.target import SupportedMap, Target, platform_named
from varsolve.universal.region import PartsTable, Region, ReleaseParts
from varsolve.variants.filenames import parse_wheel
from varsolve.variants.markers import NON_VARIANT, VariantState, parse_requirement
from varsolve.verifier import VerifierMemo

PROBLEM = scenario_from_text('name = "memo"\n[root]\nrequires = ["native"]\n', "memo.toml").problem
AT_LEAST_310 = SpecifierSet(">=3.10")
AT_LEAST_311 = SpecifierSet(">=3.11")


def _wheel(filename: str, requires_python: SpecifierSet | None = AT_LEAST_310) -> DistFile:
    return DistFile(filename, parse_wheel(filename), requires_python=requires_python)


def _sdist(filename: str, requires_python: SpecifierSet | None = AT_LEAST_310) -> DistFile:
    return DistFile(filename, None, requires_python=requires_python)


def _release(*files: DistFile, version: str = "1.0.0") -> Release:
    return Release(canonicalize_name("native"), Version(version), files)


# Wheels for CPython 3.10 and 3.11 on two platforms each, no sdist.
PER_PYTHON = _release(
    _wheel("native-1.0.0-cp310-cp310-manylinux_2_17_x86_64.whl"),
    _wheel("native-1.0.0-cp310-cp310-win_amd64.whl"),
    _wheel("native-1.0.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
    _wheel("native-1.0.0-cp311-cp311-win_amd64.whl"),
)


class _Forks:
    """Finders for regions that share candidates and release parts, as the driver's forks do."""

    def __init__(self, platforms: bool = False) -> None:
        self.platforms = platforms
        self.candidates: dict[Hashable, tuple[list[Candidate], SupportedMap | None]] = {}
        self.parts = PartsTable()

    def finder(self, markers: str) -> CandidateFinder:
        region = Region(
            MarkerSet.parse(markers), platforms=self.platforms, candidates=self.candidates,
            release_parts=self.parts,
        )
        return CandidateFinder(replace(PROBLEM, region=region))

    def fresh(self, markers: str) -> CandidateFinder:
        """A finder that shares nothing: the answer the shared ones must give."""
        return CandidateFinder(replace(PROBLEM, region=Region(MarkerSet.parse(markers), platforms=self.platforms)))


def _answers(finder: CandidateFinder, release: Release) -> object:
    """The share key's answers for the release's pairs."""
    return cast("tuple[object, ...]", finder._share_key(release))[2]


def _files(candidates: list[Candidate]) -> list[tuple[str | None, str]]:
    return [(c.label, c.file.filename) for c in candidates]


def test_a_release_s_parts_are_its_distinct_requires_python_and_tag_pairs() -> None:
    # Without platforms a wheel's tags say only which Pythons it runs on: the four wheels are two
    # pairs; with platforms, four. An sdist is a pair of its own.
    assert len(ReleaseParts.read(PER_PYTHON, platforms=False)[0].pairs) == 2
    assert len(ReleaseParts.read(PER_PYTHON, platforms=True)[0].pairs) == 4
    with_sdist = _release(*PER_PYTHON.files, _sdist("native-1.0.0.tar.gz"))
    parts = ReleaseParts.read(with_sdist, platforms=False)[0]
    assert len(parts.pairs) == 3 and parts.pairs[-1] == (AT_LEAST_310, None)
    assert not parts.metadata_python
    assert ReleaseParts.read(_release(_sdist("native-1.0.0.tar.gz", None)), platforms=False)[0].metadata_python


def test_releases_with_the_same_parts_share_one_and_a_fork_s_answers_for_it() -> None:
    # 1.0.0 and 1.1.0 have the same files but for the version: one ReleaseParts; 2.0.0 needs
    # Python 3.11: its own, and the fork for 3.10 answers differently for it.
    table = PartsTable()
    same = _release(*(replace(f, filename=f.filename.replace("1.0.0", "1.1.0")) for f in PER_PYTHON.files), version="1.1.0")
    newer = _release(*(replace(f, requires_python=AT_LEAST_311) for f in PER_PYTHON.files), version="2.0.0")
    assert table.get(PER_PYTHON, False)[0] is table.get(same, False)[0]
    assert table.get(newer, False)[0] is not table.get(PER_PYTHON, False)[0]
    assert len(table) == 3
    # Each file's place among the pairs: the cp310 wheels share the first, the cp311 ones the second.
    assert table.get(PER_PYTHON, False)[1] == (0, 0, 1, 1)
    forks = _Forks()
    at_310 = forks.finder("python_full_version == '3.10.*'")
    assert _answers(at_310, PER_PYTHON) == _answers(at_310, same) == (True, False)
    assert _answers(at_310, newer) == (False, False)
    assert _files(at_310.release_candidates(newer)) == []
    assert _files(at_310.release_candidates(same)) == [("", "native-1.1.0-cp310-cp310-manylinux_2_17_x86_64.whl")]


def test_the_files_a_fork_uses_are_those_each_file_s_own_check_admits() -> None:
    # Read from the pairs' answers and each file's place among them, whatever the files' order.
    mixed = _release(
        _sdist("native-1.0.0.tar.gz", AT_LEAST_311),
        _wheel("native-1.0.0-cp311-cp311-win_amd64.whl"),
        _wheel("native-1.0.0-py3-none-any.whl", AT_LEAST_311),
        _wheel("native-1.0.0-cp310-cp310-manylinux_2_17_x86_64.whl"),
        _wheel("native-1.0.0-cp310-cp310-win_amd64.whl", None),
    )
    for release in (mixed, _release(*reversed(mixed.files)), PER_PYTHON):
        for platforms in (False, True):
            forks = _Forks(platforms)
            for markers in ("python_full_version == '3.10.*'", "python_full_version >= '3.11' and sys_platform == 'win32'",
                            "python_full_version == '3.10.*' and sys_platform == 'linux'"):
                finder = forks.finder(markers)
                finder._share_key(release)  # as a fork does first
                each = [
                    f for f in release.files
                    if (f.requires_python is None or finder.python_allows(f.requires_python)) and finder.fits(f)
                ]
                assert finder._usable_files(release) == each, (release, platforms, markers)


def test_forks_whose_pythons_use_other_files_do_not_share_a_release_s_candidates() -> None:
    forks = _Forks()
    at_310 = forks.finder("python_full_version == '3.10.*'")
    at_311 = forks.finder("python_full_version == '3.11.*'")
    at_312 = forks.finder("python_full_version == '3.12.*'")
    assert at_310._share_key(PER_PYTHON) != at_311._share_key(PER_PYTHON)
    assert at_311._share_key(PER_PYTHON) != at_312._share_key(PER_PYTHON)
    for finder, markers in ((at_310, "python_full_version == '3.10.*'"), (at_311, "python_full_version == '3.11.*'"),
                            (at_312, "python_full_version == '3.12.*'")):
        shared = _files(finder.release_candidates(PER_PYTHON))
        assert shared == _files(forks.fresh(markers).release_candidates(PER_PYTHON))
    assert _files(at_312.release_candidates(PER_PYTHON)) == []  # no wheel for 3.12: nothing to use
    assert len(forks.candidates) == 3


def test_requires_python_that_tells_forks_apart_keeps_them_apart() -> None:
    # Same tags, but one release needs 3.11: the fork for 3.10 cannot use it, the one for 3.11 can.
    release = _release(_wheel("native-2.0.0-py3-none-any.whl", AT_LEAST_311), version="2.0.0")
    forks = _Forks()
    at_310 = forks.finder("python_full_version == '3.10.*'")
    at_311 = forks.finder("python_full_version >= '3.11'")
    assert at_310._share_key(release) != at_311._share_key(release)
    assert _files(at_310.release_candidates(release)) == []
    assert _files(at_311.release_candidates(release)) == [("", "native-2.0.0-py3-none-any.whl")]


def test_forks_that_use_the_same_files_share_one_expansion() -> None:
    forks = _Forks()
    linux = forks.finder("python_full_version == '3.10.*' and sys_platform == 'linux'")
    windows = forks.finder("python_full_version == '3.10.*' and sys_platform == 'win32'")
    assert linux._share_key(PER_PYTHON) == windows._share_key(PER_PYTHON)
    assert linux.release_candidates(PER_PYTHON) is windows.release_candidates(PER_PYTHON)
    assert len(forks.candidates) == 1


def test_with_platforms_forks_on_other_platforms_do_not_share() -> None:
    # Required environments: a wheel must fit a platform of the region, so the Linux-only and
    # Windows-only wheels tell the two forks apart even for the same Python.
    release = _release(
        _wheel("native-1.0.0-cp310-cp310-manylinux_2_17_x86_64.whl"),
        _wheel("native-1.0.0-cp311-cp311-win_amd64.whl"),
    )
    forks = _Forks(platforms=True)
    linux = "python_full_version >= '3.10' and sys_platform == 'linux' and platform_machine == 'x86_64'"
    windows = "python_full_version == '3.10.*' and sys_platform == 'win32' and platform_machine == 'AMD64'"
    assert forks.finder(linux)._share_key(release) != forks.finder(windows)._share_key(release)
    assert _files(forks.finder(linux).release_candidates(release)) == _files(forks.fresh(linux).release_candidates(release))
    assert _files(forks.finder(windows).release_candidates(release)) == []


def test_a_release_whose_requires_python_only_its_metadata_tells_is_keyed_by_the_fork_s_pythons() -> None:
    release = _release(_sdist("native-1.0.0.tar.gz", None))
    forks = _Forks()
    at_310 = forks.finder("python_full_version == '3.10.*'")
    at_311 = forks.finder("python_full_version == '3.11.*'")
    assert at_310._share_key(release) != at_311._share_key(release)


# -- a requirement's marker answer ---------------------------------------------------------------

LINUX_310 = Target(python=Version("3.10.4"), platform=platform_named("x86_64-unknown-linux-gnu")).marker_environment()
WINDOWS_310 = Target(python=Version("3.10.4"), platform=platform_named("x86_64-pc-windows-msvc")).marker_environment()
LINUX_312 = {**LINUX_310, "python_version": "3.12", "python_full_version": "3.12.1", "implementation_version": "3.12.1"}
PYPY_LINUX_310 = {**LINUX_310, "platform_python_implementation": "PyPy", "implementation_name": "pypy"}
ENVIRONMENTS = [LINUX_310, WINDOWS_310, LINUX_312, PYPY_LINUX_310]

MARKED = [
    "a ; python_version < '3.11'",
    "a ; sys_platform == 'win32' or python_full_version >= '3.12'",
    "a ; python_implementation == 'PyPy'",  # a legacy spelling packaging reads as another variable
    "a ; 'linux' in sys_platform and extra == 'x'",
    "a ; extra == 'x'",
    "a ; os_name == 'nt' and variant_namespaces == 'blas'",
    "a ; 'blas' in variant_namespaces and platform_machine == 'x86_64'",
    "a",
]
STATES = [NON_VARIANT, VariantState.for_wheel("openblas", {"blas": {"library": ("openblas",)}})]


def _fresh_answer(text: str, env: dict[str, str], state: VariantState, extra: str) -> bool:
    """The answer without any memo: a requirement parsed anew (parse_requirement's is shared)."""
    return type(parse_requirement(text))(text).evaluate(env, state, extra)


def test_a_marker_read_in_many_environments_gives_each_its_own_answer() -> None:
    answers: set[bool] = set()
    for text, env, state, extra in itertools.product(MARKED, ENVIRONMENTS, STATES, ("", "x")):
        expected = _fresh_answer(text, env, state, extra)
        # Asked twice: once to fill the memo, once from it.
        assert parse_requirement(text).evaluate(env, state, extra) is expected, (text, env, state, extra)
        assert parse_requirement(text).evaluate(env, state, extra) is expected, (text, env, state, extra)
        answers.add(expected)
    assert answers == {True, False}


def test_a_marker_reads_the_variables_it_compares_and_no_fewer() -> None:
    assert parse_requirement("a ; python_implementation == 'PyPy'").reads == ("platform_python_implementation",)
    assert parse_requirement("a ; (os_name == 'nt' or sys_platform == 'linux') and extra == 'x'").reads == (
        "os_name", "sys_platform",
    )
    assert parse_requirement("a ; variant_label == 'cpu'").reads == ()
    assert parse_requirement("a").reads == ()


def test_an_environment_value_that_cannot_be_a_key_is_evaluated_every_time() -> None:
    # A set where a string belongs: not kept, and the answer is still packaging's.
    env = {**LINUX_310, "sys_platform": frozenset({"linux"})}
    with pytest.raises(Exception):  # noqa: B017, PT011 - packaging's own refusal, whatever its type
        parse_requirement("a ; python_version < '3.11' and sys_platform == 'linux'").evaluate(env)  # type: ignore[arg-type]
    assert parse_requirement("a ; python_version < '3.11'").evaluate(env) is True  # type: ignore[arg-type]


# -- which requirements of a file apply, across environments --------------------------------------


def test_the_verifier_memo_gives_each_environment_the_requirements_that_apply_there() -> None:
    memo = VerifierMemo()
    requires_dist = tuple(MARKED)
    for env, state, extras in itertools.product(ENVIRONMENTS, STATES, ((), ("x",))):
        expected = tuple(
            text for text in requires_dist if any(_fresh_answer(text, env, state, e) for e in ("", *extras))
        )
        assert memo.applying(requires_dist, env, state, extras) == expected
        assert memo.applying(requires_dist, env, state, extras) == expected
    on_linux = memo.applying(requires_dist, LINUX_310, NON_VARIANT, ())
    on_windows = memo.applying(requires_dist, WINDOWS_310, NON_VARIANT, ())
    assert on_linux != on_windows  # sys_platform is compared: the two do not share


def test_environments_that_differ_only_in_what_no_marker_compares_share_an_answer() -> None:
    memo = VerifierMemo()
    requires_dist = ("a ; python_version < '3.11'", "b ; extra == 'x'")
    first = memo.applying(requires_dist, LINUX_310, NON_VARIANT, ())
    assert memo.applying(requires_dist, WINDOWS_310, NON_VARIANT, ()) is first
    assert memo.applying(requires_dist, LINUX_312, NON_VARIANT, ()) == ()
    assert memo.applying(requires_dist, LINUX_310, NON_VARIANT, ("x",)) == requires_dist


def test_the_verifier_memo_reads_each_requirement_and_version_on_its_own() -> None:
    memo = VerifierMemo()
    assert memo.contains("a>=2", Version("2.1")) and not memo.contains("a>=2", Version("1.9"))
    assert memo.contains("a>=2", Version("2.1")) and not memo.contains("a<2", Version("2.1"))
    assert memo.contains("a>=2", Version("3.0rc1"))  # pre-releases count, as the verifier reads them
    assert memo.facts("a[X]==1.0").pins_exactly and memo.facts("a[X]==1.0").extras == {"x"}
    assert not memo.facts("a==1.*").pins_exactly and memo.facts("a===1.0").pins_exactly
    assert memo.facts("A_b>=1").name == "a-b"


def test_a_fork_s_edge_is_one_object_for_the_same_text_and_its_own_for_another() -> None:
    from varsolve.candidates import _fork_dependency

    req = parse_requirement("b>=2 ; python_version >= '3.11' or variant_label == 'cpu'")
    on_cpu = _fork_dependency("b>=2", req)  # the variant clause held: no marker left
    elsewhere = _fork_dependency("b>=2 ; python_version >= '3.11'", req)
    assert _fork_dependency("b>=2", req) is on_cpu
    assert elsewhere is not on_cpu
    assert on_cpu.marker is None and elsewhere.marker == "python_version >= '3.11'"
    assert on_cpu.contains(Version("2.0")) and not on_cpu.contains(Version("1.9"))
    assert _fork_dependency("b>=2", req).contains(Version("1.9")) is False  # the memo, shared
    other = parse_requirement("b<2 ; python_version < '3.11'")
    assert _fork_dependency("b<2 ; python_version < '3.11'", other).contains(Version("1.9"))


def test_the_verifier_memo_finds_each_release_s_own_file_and_answers_per_python_and_policy() -> None:
    from varsolve.problem import ResolverOptions

    memo = VerifierMemo()
    name = "native-1.0.0-cp310-cp310-win_amd64.whl"
    assert memo.file_named(PER_PYTHON, name) is PER_PYTHON.files[1]
    other = _release(_wheel(name))
    assert memo.file_named(other, name) is other.files[0]
    assert memo.file_named(PER_PYTHON, "native-1.0.0.tar.gz") is None
    packse, pip = ResolverOptions(requires_python_policy="packse"), ResolverOptions(requires_python_policy="pip")
    below_312 = SpecifierSet(">=3.10,<3.12")
    for options in (packse, pip):
        for python in ("3.9.1", "3.11.2", "3.12.0"):
            expected = options.allows_python(below_312, Version(python))
            assert memo.allows_python(options, below_312, Version(python)) is expected
            assert memo.allows_python(options, below_312, Version(python)) is expected
    # packse reads lower bounds only: 3.12 passes there and not under pip's policy.
    assert memo.allows_python(packse, below_312, Version("3.12.0")) != memo.allows_python(pip, below_312, Version("3.12.0"))
    assert memo.allows_python(pip, None, Version("2.7"))


def test_cells_split_with_one_intersection_when_a_cell_is_on_one_side_are_the_same_cells() -> None:
    from varsolve.marker_algebra import DEFAULT_ENVIRONMENT, representative_environments

    texts = [
        "python_full_version >= '3.11'", "sys_platform == 'win32'", "python_version < '3.12' and sys_platform == 'linux'",
        "platform_machine == 'aarch64'", "python_full_version >= '3.11'", "implementation_name == 'pypy'",
        "sys_platform == 'win32' or python_full_version >= '3.13'", "python_full_version < '3.10'",
    ]
    sets = [MarkerSet.parse(t) for t in texts]
    within = MarkerSet.python_range(">=3.10")
    # Every cell split both ways, as before: the cells and their order must not change.
    cells = [within]
    for s in sets:
        cells = [part for cell in cells for part in (cell & s, cell & ~s) if not part.is_empty()]
    expected = [cell.witness(DEFAULT_ENVIRONMENT) for cell in cells]
    assert representative_environments(sets, within=within) == [e for e in expected if e is not None]
    assert len(expected) > 8


def test_the_verifier_memo_finds_a_release_in_each_repository_on_its_own() -> None:
    from varsolve.repository import CoreMetadata, RepositoryBase
    from varsolve.variants.metadata import VariantMetadata

    class Listing(RepositoryBase):
        def __init__(self, *releases: Release) -> None:
            self.listed = list(releases)

        def releases(self, name: str) -> list[Release]:
            return [r for r in self.listed if r.name == name]

        def metadata(self, release: Release, file: DistFile) -> CoreMetadata:
            return CoreMetadata(())

        def variant_metadata(self, release: Release) -> VariantMetadata | None:
            return None

    other_files = _release(_sdist("native-1.0.0.tar.gz"))
    first, second, empty = Listing(PER_PYTHON), Listing(other_files), Listing()
    memo = VerifierMemo()
    assert memo.release_of(first, "native", Version("1.0.0")) is PER_PYTHON
    assert memo.release_of(second, "native", Version("1.0.0")) is other_files
    assert memo.release_of(empty, "native", Version("1.0.0")) is None
    assert memo.release_of(first, "native", Version("2.0.0")) is None
    assert memo.release_of(first, "native", Version("1.0.0")) is PER_PYTHON


def test_the_verifier_memo_gives_each_tag_tuple_its_own_set() -> None:
    linux = Target(python=Version("3.10.4"), platform=platform_named("x86_64-unknown-linux-gnu")).tags()
    windows = Target(python=Version("3.12.1"), platform=platform_named("x86_64-pc-windows-msvc")).tags()
    memo = VerifierMemo()
    assert memo.tag_set(linux) == set(linux) and memo.tag_set(windows) == set(windows)
    assert memo.tag_set(linux) is memo.tag_set(linux) and memo.tag_set(linux) != memo.tag_set(windows)
