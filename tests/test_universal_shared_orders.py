"""Release orders shared by the forks of a universal resolution (issue 14, session 7): each
project's releases sorted once for every fork (:class:`varsolve.universal.region.ReleaseOrders`),
the order each fork tries them made once per (pin, preference), greedy's release index made
once per order, and its fewest-candidates count kept per set of requirements. Each memo must
give exactly the answer a fork that shares nothing gives, and never one fork's answer to a fork
that would answer differently; each test here fails when its memo is keyed by less than it
reads."""

from __future__ import annotations

from dataclasses import replace

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from varsolve.candidates import CandidateFinder, Dependency
from varsolve.compare.tasks import scenario_from_text
from varsolve.marker_algebra import MarkerSet
from varsolve.problem import Problem
from varsolve.repository import Release
from varsolve.strategies.greedy import FEWEST_CANDIDATES_CAP, ReleaseIndex, _Provider
from varsolve.universal.region import Region, ReleaseOrders

LIB = canonicalize_name("lib")
SCENARIO = """
name = "orders"
[root]
requires = ["lib"]
[packages.lib.versions."1.0.0"]
[packages.lib.versions."3.0.0"]
[packages.lib.versions."2.0.0"]
[packages.lib.versions."4.0.0rc1"]
"""
PROBLEM = scenario_from_text(SCENARIO, "orders.toml").problem
UV_PRERELEASES = replace(PROBLEM, options=replace(PROBLEM.options, prerelease_policy="uv", prereleases=False))
REGION = MarkerSet.parse("python_full_version >= '3.10'")


def _finder(
    orders: ReleaseOrders | None,
    preferences: dict[NormalizedName, Version] | None = None,
    pins: dict[NormalizedName, Version] | None = None,
    problem: Problem = PROBLEM,
) -> CandidateFinder:
    region = Region(REGION, preferences=preferences or {}, pins=pins or {}, release_orders=orders)
    return CandidateFinder(replace(problem, region=region))


def _versions(releases: list[Release]) -> list[str]:
    return [str(r.version) for r in releases]


def test_forks_with_the_same_pin_and_preference_share_one_order() -> None:
    orders = ReleaseOrders()
    first, second = _finder(orders), _finder(orders)
    assert first.releases(LIB) is second.releases(LIB)
    assert _versions(first.releases(LIB)) == _versions(_finder(None).releases(LIB)) == ["4.0.0rc1", "3.0.0", "2.0.0", "1.0.0"]


def test_each_preference_and_pin_gets_its_own_order() -> None:
    # A fork that prefers 2.0.0 tries it first; one that pins 1.0.0 only that; one with neither
    # the newest first. Asked in every order, each fork gets what a fork sharing nothing gets.
    cases: list[tuple[dict[NormalizedName, Version], dict[NormalizedName, Version]]] = [
        ({}, {}), ({LIB: Version("2.0.0")}, {}), ({}, {LIB: Version("1.0.0")}), ({LIB: Version("3.0.0")}, {}),
        ({LIB: Version("2.0.0")}, {LIB: Version("3.0.0")}), ({}, {LIB: Version("9.0.0")}),
    ]
    expected = [
        ["4.0.0rc1", "3.0.0", "2.0.0", "1.0.0"], ["2.0.0", "4.0.0rc1", "3.0.0", "1.0.0"], ["1.0.0"],
        ["3.0.0", "4.0.0rc1", "2.0.0", "1.0.0"], ["3.0.0"], ["4.0.0rc1", "3.0.0", "2.0.0", "1.0.0"],
    ]
    for order in (cases, list(reversed(cases))):
        orders = ReleaseOrders()
        for preferences, pins in order:
            shared = _finder(orders, preferences, pins).releases(LIB)
            alone = _finder(None, preferences, pins).releases(LIB)
            assert _versions(shared) == _versions(alone) == expected[cases.index((preferences, pins))]


def test_the_pre_releases_last_order_is_made_from_each_fork_s_own_order() -> None:
    orders = ReleaseOrders()
    plain = _finder(orders, problem=UV_PRERELEASES)
    preferring = _finder(orders, {LIB: Version("2.0.0")}, problem=UV_PRERELEASES)
    assert _versions(plain.preferred_releases(LIB)) == ["3.0.0", "2.0.0", "1.0.0", "4.0.0rc1"]
    assert _versions(preferring.preferred_releases(LIB)) == ["2.0.0", "3.0.0", "1.0.0", "4.0.0rc1"]
    assert plain.preferred_releases(LIB) is _finder(orders, problem=UV_PRERELEASES).preferred_releases(LIB)


def test_a_source_listing_other_releases_is_sorted_again() -> None:
    orders = ReleaseOrders()
    listed = PROBLEM.repository.releases(LIB)
    newest = orders.newest_first(LIB, list(listed))
    assert orders.newest_first(LIB, list(listed)) is newest  # the same release objects: kept
    fewer = [r for r in listed if r.version != Version("3.0.0")]
    assert _versions(orders.newest_first(LIB, fewer)) == ["4.0.0rc1", "2.0.0", "1.0.0"]
    other = [replace(r) for r in listed]  # equal releases, other objects: their own list
    assert all(a is b for a, b in zip(orders.newest_first(LIB, other), sorted(other, key=lambda r: r.version, reverse=True), strict=True))


def test_forks_that_try_releases_in_one_order_share_one_release_index() -> None:
    orders = ReleaseOrders()
    first = _Provider(_finder(orders), False, ())
    second = _Provider(_finder(orders), False, ())
    preferring = _Provider(_finder(orders, {LIB: Version("2.0.0")}), False, ())
    assert first.release_index(LIB) is second.release_index(LIB)
    assert preferring.release_index(LIB) is not first.release_index(LIB)
    assert preferring.release_index(LIB).releases == preferring.finder.preferred_releases(LIB)


def _dep(spec: str) -> Dependency:
    return Dependency(LIB, (SpecifierSet(spec),), text=f"lib{spec}")


def test_the_fewest_candidates_count_is_each_set_of_requirements_own() -> None:
    index = ReleaseIndex(PROBLEM.repository.releases(LIB))
    at_least_2, below_3, any_version = _dep(">=2"), _dep("<3"), _dep("")
    assert index.count([at_least_2]) == 3  # 2.0.0, 3.0.0, 4.0.0rc1
    assert index.count([below_3]) == 2  # 1.0.0, 2.0.0
    assert index.count([at_least_2, below_3]) == 1
    assert index.count([]) == 4
    assert index.count([any_version]) == 4
    # Asked again, in any order, each set gets its own count; an equal requirement made apart too.
    assert [index.count(d) for d in ([at_least_2, below_3], [at_least_2], [_dep(">=2")], [below_3], [])] == [1, 3, 3, 2, 4]


def test_the_count_stops_at_the_cap() -> None:
    releases = [Release(LIB, Version(f"1.{i}"), ()) for i in range(FEWEST_CANDIDATES_CAP + 10)]
    index = ReleaseIndex(releases)
    assert index.count([]) == FEWEST_CANDIDATES_CAP
    assert index.count([_dep(">=1.70")]) == 4


def test_the_read_ahead_answers_each_region_and_each_release_s_parts_on_their_own() -> None:
    # The read-ahead asks which wheels a fork's region can use once per region and distinct parts
    # (_ReadAhead._answers): the fork for 3.10 takes the cp310 wheel, the one for 3.11 the cp311
    # one, and a release that needs 3.11 has nothing for 3.10, in whatever order they are asked.
    from varsolve.repository import DistFile
    from varsolve.universal.driver import _ReadAhead
    from varsolve.universal.region import PartsTable
    from varsolve.variants.filenames import parse_wheel

    def wheel(filename: str, requires_python: str) -> DistFile:
        return DistFile(filename, parse_wheel(filename), requires_python=SpecifierSet(requires_python))

    per_python = Release(LIB, Version("1.0.0"), (
        wheel("lib-1.0.0-cp310-cp310-manylinux_2_17_x86_64.whl", ">=3.10"),
        wheel("lib-1.0.0-cp311-cp311-manylinux_2_17_x86_64.whl", ">=3.10"),
    ))
    newer = Release(LIB, Version("2.0.0"), (
        wheel("lib-2.0.0-cp310-cp310-manylinux_2_17_x86_64.whl", ">=3.11"),
        wheel("lib-2.0.0-cp311-cp311-manylinux_2_17_x86_64.whl", ">=3.11"),
    ))
    expected = {
        ("3.10", "1.0.0"): ["lib-1.0.0-cp310-cp310-manylinux_2_17_x86_64.whl"],
        ("3.11", "1.0.0"): ["lib-1.0.0-cp311-cp311-manylinux_2_17_x86_64.whl"],
        ("3.10", "2.0.0"): [],
        ("3.11", "2.0.0"): ["lib-2.0.0-cp311-cp311-manylinux_2_17_x86_64.whl"],
    }
    for order in (list(expected), list(reversed(expected))):
        ahead = _ReadAhead(PROBLEM, False, PartsTable())
        regions = {py: Region(MarkerSet.parse(f"python_full_version == '{py}.*'"), release_parts=ahead.release_parts)
                   for py in ("3.10", "3.11")}
        for py, version in order:
            release = per_python if version == "1.0.0" else newer
            files = [f.filename for f in ahead._usable_files(regions[py], release)]
            assert files == expected[(py, version)], (py, version)


def test_a_requirement_s_markers_are_kept_per_text_state_and_extra() -> None:
    # Where a requirement holds depends on its text, the wheel's variant state and the extra:
    # each gets its own answer, the same as one worked out afresh, in any order.
    from varsolve.universal.region import _requirement_markers, parse_marker, requirement_markers
    from varsolve.variants.markers import NON_VARIANT, VariantState, parse_requirement

    cuda = VariantState.for_wheel("cu128", {"nvidia": {"cuda_version_lower_bound": ["12.8"]}})
    texts = [
        "blas; sys_platform == 'linux' and 'nvidia' in variant_namespaces",
        "blas; sys_platform == 'win32' and extra == 'fast'",
        "blas; sys_platform == 'win32'",
    ]

    def afresh(text: str, state: VariantState, extra: str) -> MarkerSet:
        specialised = parse_requirement(text).specialise(state)
        if specialised is None:
            return MarkerSet.empty()
        marker = parse_requirement(specialised).marker_text
        return parse_marker(marker, extra) if marker is not None else MarkerSet.universe()

    cases = [(t, s, e) for t in texts for s in (NON_VARIANT, cuda) for e in ("", "fast")]
    for order in (cases, list(reversed(cases))):
        _requirement_markers.cache_clear()
        for text, state, extra in order:
            assert requirement_markers(parse_requirement(text), state, extra) == afresh(text, state, extra), (text, state, extra)
    assert requirement_markers(parse_requirement(texts[0]), NON_VARIANT, "").is_empty()
    assert not requirement_markers(parse_requirement(texts[0]), cuda, "").is_empty()


def test_the_read_ahead_asks_each_specifier_about_each_version() -> None:
    from varsolve.universal.driver import _ReadAhead
    from varsolve.universal.region import PartsTable

    ahead = _ReadAhead(PROBLEM, False, PartsTable())
    at_least_2, below_2 = SpecifierSet(">=2"), SpecifierSet("<2")
    checks = [(at_least_2, "1.0"), (at_least_2, "2.0"), (below_2, "1.0"), (below_2, "2.0"), (SpecifierSet(">=2"), "1.0")]
    for order in (checks, list(reversed(checks))):
        ahead._admits.clear()
        for spec, version in order:
            assert ahead._contains(spec, Version(version)) == spec.contains(Version(version), prereleases=True)
