"""Installable candidates: one per (package, version, variant label | non-variant wheel | sdist)
that the target can install, in preference order, with their dependencies.

Shared by every strategy so that they differ only in search, never in what they may choose.
The independent verifier (:mod:`varsolve.verifier`) deliberately does not use this module.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from packaging.specifiers import Specifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from .errors import InvalidDistribution, InvalidVariantMetadata
from .problem import Problem
from .providers import supported_for_release
from .repository import DistFile, Release
from .target import SupportedMap
from .variants.markers import NON_VARIANT, VariantRequirement, VariantState, parse_requirement
from .variants.metadata import VariantMetadata
from .variants.ordering import order_labels, supported_subset
from .variants.properties import ABI_DEPENDENCY, PropertyMap, VariantFeature

if TYPE_CHECKING:
    from .marker_algebra import MarkerSet
    from .universal.region import ReleaseOrders, ReleaseParts

log = logging.getLogger("varsolve")
# Warnings about variant metadata already given in this process: one line each, however many
# strategies or runs meet the same release (the JSON report has them every time).
_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        log.warning("%s", message)


@dataclass(frozen=True, eq=False)
class Candidate:
    name: NormalizedName
    version: Version
    label: str | None  # None: sdist; "": non-variant wheel; else the variant label
    file: DistFile
    release: Release
    properties: PropertyMap  # as declared by the label
    supported: PropertyMap  # the declared properties the target supports
    rank: int  # position among the candidates of this version (0 = PEP 825's choice)
    yanked: bool = False

    @property
    def key(self) -> tuple[NormalizedName, Version, str | None]:
        return (self.name, self.version, self.label)

    @property
    def kind(self) -> str:
        if self.label is None:
            return "sdist"
        return "wheel" if self.label == "" else "variant"

    @cached_property
    def state(self) -> VariantState:
        if not self.label:
            return NON_VARIANT
        return VariantState.for_wheel(self.label, supported_without_abi(self.supported))

    def feature_values(self, feature: VariantFeature) -> tuple[str, ...] | None:
        """Supported values this candidate declares for ``feature``; None if it does not declare it."""
        values = self.supported.get(feature.namespace, {}).get(feature.feature)
        return tuple(values) if values else None

    def describe(self) -> str:
        if self.label is None:
            return f"{self.name} {self.version} (sdist)"
        if self.label == "":
            return f"{self.name} {self.version}"
        return f"{self.name} {self.version} [{self.label}]"

    def __repr__(self) -> str:
        return f"<Candidate {self.describe()}>"


def supported_without_abi(props: PropertyMap) -> PropertyMap:
    return {ns: feats for ns, feats in props.items() if ns != ABI_DEPENDENCY}


@dataclass(frozen=True)
class Dependency:
    """A requirement on ``name``: any of ``specifiers`` (OR), with ``extras``.

    ``abi_dependency`` properties with several values give several alternatives; ordinary
    requirements have one.
    """

    name: NormalizedName
    specifiers: tuple[SpecifierSet, ...]
    extras: frozenset[str] = frozenset()
    text: str = ""
    url: str | None = None
    marker: str | None = field(default=None, compare=False)  # as written; part of ``text`` too

    @classmethod
    def from_requirement(cls, req: VariantRequirement) -> Dependency:
        return cls(req.name, (req.specifier,), frozenset(req.extras), req.text, req.url, req.marker_text)

    @cached_property
    def pins(self) -> bool:
        """A ``==``/``===`` pin without wildcard: allows a yanked release (PEP 592)."""
        return all(
            any(s.operator in ("==", "===") and not s.version.endswith(".*") for s in spec)
            for spec in self.specifiers
        )

    @cached_property
    def explicit_prerelease(self) -> bool:
        """A clause opts in to pre-releases (pip's policy), as packaging 26 reads it: it names a
        pre-release with any operator but ``!=`` (an exclusion opts in to nothing) and ``==V.*``."""
        return any(any(_opts_in_to_prereleases(s) for s in spec) for spec in self.specifiers)

    def contains(self, version: Version) -> bool:
        # Memoised: a search asks the same (requirement, version) question again and again
        # (resolvelib re-checks every pin each round), and SpecifierSet.contains is not cheap.
        known = self._contains.get(version)
        if known is None:
            known = self._contains[version] = any(spec.contains(version, prereleases=True) for spec in self.specifiers)
        return known

    @cached_property
    def _contains(self) -> dict[Version, bool]:
        return {}

    def __str__(self) -> str:
        return self.text or self.name


def _names_prerelease(version: str) -> bool:
    text = version.removesuffix(".*")
    return _parses(text) and Version(text).is_prerelease


def _opts_in_to_prereleases(clause: Specifier) -> bool:
    if clause.operator == "!=" or clause.version.endswith(".*"):
        return False
    return _names_prerelease(clause.version)


def _names_version(spec: SpecifierSet, version: Version) -> bool:
    """``spec`` (one ``==``/``===`` clause) names exactly ``version``: uv's yanked rule, in
    which ``==2.0.0`` allows a yanked ``2.0.0`` (and ``2.0``) but not ``2.0.0+cpu``."""
    (clause,) = list(spec)
    if clause.operator == "===":
        return clause.version == str(version) or (_parses(clause.version) and Version(clause.version) == version)
    return _parses(clause.version) and Version(clause.version) == version


def _pins_one_version(spec: SpecifierSet) -> bool:
    clauses = list(spec)
    return len(clauses) == 1 and (
        clauses[0].operator == "===" or (clauses[0].operator == "==" and not clauses[0].version.endswith(".*"))
    )


def _parses(text: str) -> bool:
    try:
        Version(text)
        return True
    except Exception:
        return False


def _ordered(newest: list[Release], pinned: Version | None, preferred: Version | None) -> list[Release]:
    """``newest`` (newest first, a list of one's own) as a search tries them: only the pinned
    release when it is there; what other forks chose first (uv's fork preferences)."""
    releases = newest
    if pinned is not None and any(r.version == pinned for r in releases):
        releases = [r for r in releases if r.version == pinned]
    if preferred is not None:
        # A universal fork tries first what other forks chose (uv's fork preferences).
        releases.sort(key=lambda r: r.version != preferred)
    return releases


def _finals_first(releases: list[Release]) -> list[Release]:
    return sorted(releases, key=lambda r: r.version.is_prerelease)  # stable: newest first within


@lru_cache(maxsize=65536)
def _fork_dependency(specialised: str, req: VariantRequirement) -> Dependency:
    """The edge for ``req`` as ``specialised`` for a wheel, one object for every fork that reads
    it (all it holds is derived from the two), so that what it memoises (:meth:`Dependency.contains`)
    serves every fork, not only the one that made it."""
    from .universal.region import marker_part

    return Dependency(
        req.name, (req.specifier,), frozenset(req.extras), specialised, req.url, marker_part(specialised)
    )


class UnusableCandidate(Exception):
    """A candidate whose dependencies cannot be read (:meth:`CandidateFinder.dependencies`):
    the search rejects it, and explanations quote ``reason``."""

    def __init__(self, candidate: Candidate, reason: str) -> None:
        super().__init__(reason)
        self.candidate = candidate
        self.reason = reason


class CandidateFinder:
    """Expands a problem's repository into candidates, lazily and with caching."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.repo = problem.repository
        self.target = problem.target
        self.options = problem.options
        self.env = self.target.marker_environment()
        self.tag_rank = self.target.tag_rank()
        # A universal fork (varsolve.universal.region): markers, tags and Requires-Python are
        # read against every environment of the region instead of the target's.
        self.region = problem.region
        self._by_name: dict[NormalizedName, list[Candidate]] = {}
        self._releases: dict[NormalizedName, list[Release]] = {}
        self._preferred: dict[str, tuple[list[Release], list[Release]]] = {}
        self._costs: dict[str, tuple[list[Release], dict[Version, int]]] = {}  # version_costs
        self._by_release: dict[tuple[NormalizedName, Version], list[Candidate]] = {}
        self._deps: dict[tuple[int, frozenset[str]], list[Dependency]] = {}
        self._rejected: dict[int, str] = {}  # id(candidate) -> why its metadata is unusable
        self._supported: dict[tuple[NormalizedName, Version], SupportedMap] = {}
        # (namespace, feature) -> value -> (first release key listing it, its index there)
        self._first_seen: dict[tuple[str, str], dict[str, tuple[tuple[NormalizedName, Version], int]]] = {}
        # id(ReleaseParts) -> (it, the answer for each of its pairs); kept so that its id stays its own
        self._parts_answers: dict[int, tuple[ReleaseParts, tuple[bool, ...]]] = {}
        self._final_exists: dict[tuple[Dependency, ...], bool] = {}
        self._unyanked_exists: dict[tuple[Dependency, ...], bool] = {}
        self._prereleases_by_name: dict[NormalizedName, bool] = {}
        roots = problem.root_requirements()
        # packse (uv) policies read the root requirements only, see ResolverOptions.
        self.root_prerelease_names = {
            r.name for r in roots if any(_names_prerelease(s.version) for s in r.specifier)
        }
        self.root_pins = [r for r in roots if _pins_one_version(r.specifier)]
        self.stats = {"candidates": 0, "releases": 0}
        # Releases whose variant metadata was invalid (variant wheels ignored) or read leniently
        # (notes), for Resolution.stats["variant_metadata"]: what a user sees in --format json.
        self.metadata_report: list[dict[str, object]] = []

    # -- candidates -------------------------------------------------------------------------
    def candidates(self, name: str) -> list[Candidate]:
        """All installable candidates of ``name``: releases in :meth:`preferred_releases` order
        (newest first), then PEP 825 order."""
        name = canonicalize_name(name)
        if name not in self._by_name:
            out: list[Candidate] = []
            for release in self.preferred_releases(name):
                out.extend(self.release_candidates(release))
            self._by_name[name] = out
        return self._by_name[name]

    def releases(self, name: str) -> list[Release]:
        """The releases of ``name``, newest first: the project page only, no file metadata."""
        name = canonicalize_name(name)
        known = self._releases.get(name)
        if known is None:
            region = self.region
            pinned = region.pins.get(name) if region is not None else None
            preferred = region.preferences.get(name) if region is not None else None
            orders = self.release_orders
            if orders is None:
                known = _ordered(sorted(self.repo.releases(name), key=lambda r: r.version, reverse=True), pinned, preferred)
            else:
                # Forks share the order: one sort per project, not one per fork.
                newest = orders.newest_first(name, self.repo.releases(name))
                known = orders.derived(newest, ("order", pinned, preferred), lambda: _ordered(list(newest), pinned, preferred))
            self._releases[name] = known
        return known

    def preferred_releases(self, name: str) -> list[Release]:
        """The releases of ``name`` in the order a greedy search tries them: newest first; under
        uv's pre-release policy every final release before the newest pre-release (uv 0.13.9
        tries a pre-release only once the final releases are exhausted). One list per name (and
        per order, for the forks that share it: :attr:`release_orders`)."""
        releases = self.releases(name)
        if self.options.prerelease_policy == "uv" and not self.options.prereleases:
            orders = self.release_orders
            if orders is None:
                known = self._preferred.get(name)
                if known is None or known[0] is not releases:
                    known = self._preferred[name] = (releases, _finals_first(releases))
                return known[1]
            return orders.derived(releases, "finals first", lambda: _finals_first(releases))
        return releases

    def version_costs(self, name: str) -> dict[Version, int]:
        """The version cost of each release of ``name``, the objective's ruler: its place in
        :meth:`preferred_releases` among the releases the pre-release policy can admit. A
        pre-release the policy excludes whatever the requirements
        (:meth:`prerelease_excluded`) is no newer release that was passed over: jupyterlab 4.6.6
        costs 0, not 3, when 4.7.0a0-a2 cannot be chosen (counting them made every package a
        newest release installs cost its offset, and the lazy ``sat`` then preferred unread
        releases, whose dependencies it does not know yet: a second round on jupyter). Such a
        pre-release costs as many as there are admissible releases."""
        releases = self.preferred_releases(name)
        known = self._costs.get(name)
        if known is None or known[0] is not releases:
            key = canonicalize_name(name)
            costs: dict[Version, int] = {}
            excluded: list[Version] = []
            for release in releases:
                if self.prerelease_excluded(key, release.version):
                    excluded.append(release.version)
                else:
                    costs.setdefault(release.version, len(costs))
            admissible = len(costs)
            for version in excluded:
                costs.setdefault(version, admissible)
            known = self._costs[name] = (releases, costs)
        return known[1]

    @property
    def release_orders(self) -> ReleaseOrders | None:
        """The release orders this finder shares with other forks' (None: shares none)."""
        return self.region.release_orders if self.region is not None else None

    def release_candidates(self, release: Release) -> list[Candidate]:
        """The candidates of one release, reading only that release's metadata (cached), so
        that a lazy strategy can materialise releases one at a time."""
        key = (release.name, release.version)
        found = self._by_release.get(key)  # asked for every release at every count: one lookup
        if found is not None:
            return found
        shared = self.region.candidates if self.region is not None else None
        share_key = self._share_key(release) if shared is not None else None
        if shared is not None and share_key in shared:
            # Another fork that can use the same files already expanded this release.
            found, supported = shared[share_key]
            if supported is not None and key not in self._supported:
                self._record_supported(key, supported)
        else:
            found = self._release_candidates(release)
            if shared is not None:
                shared[share_key] = (found, self._supported.get(key))
        self._by_release[key] = found
        self.stats["releases"] += 1
        self.stats["candidates"] += len(found)
        return found

    def supported_for(self, release: Release, metadata: VariantMetadata) -> SupportedMap:
        key = (release.name, release.version)
        if key not in self._supported:
            self._record_supported(key, supported_for_release(metadata, self.target))
        return self._supported[key]

    def _record_supported(self, key: tuple[NormalizedName, Version], supported: SupportedMap) -> None:
        """Keep a release's supported properties, and for each value where it comes first in
        :meth:`value_order`'s order of releases (so that the order is not rebuilt from every
        release read, at every unified decision)."""
        self._supported[key] = supported
        for namespace, features in supported.items():
            for feature, values in features.items():
                first = self._first_seen.setdefault((namespace, feature), {})
                for i, value in enumerate(values):
                    if value not in first or (key, i) < first[value]:
                        first[value] = (key, i)

    def rank_values(self, feature: VariantFeature, values: Iterable[str]) -> list[str]:
        """``values`` of ``feature``, most preferred first (:meth:`value_order`; values it does not
        know last, alphabetically): how every strategy picks a unified value."""
        order = self.value_order(feature)
        return sorted(values, key=lambda v: (order.index(v) if v in order else len(order), v))

    def value_order(self, feature: VariantFeature) -> list[str]:
        """Preference order of a feature's values, for choosing a unified value.

        The user's static file decides when it lists the feature; otherwise the order of the
        releases' providers (metadata static-properties, detectors, plugins) seen so far, in a
        deterministic order of releases.
        """
        order = list(self.target.variants.get(feature.namespace, {}).get(feature.feature, ()))
        # A value's place: the first release (in key order) that lists it, and where it lists it.
        first = self._first_seen.get((feature.namespace, feature.feature), {})
        for _, value in sorted((place, value) for value, place in first.items()):
            if value not in order:
                order.append(value)
        return order

    def _share_key(self, release: Release) -> Hashable:
        """What a release's candidates in a universal fork depend on besides the problem: which
        of its files the region can use (a fork picks among those by name, not by the target's
        tags). A file whose Requires-Python only its metadata tells is read against the
        region's Pythons, so then the Pythons are part of the key too."""
        assert self.region is not None, "only universal forks share candidates"
        # Asked in every fork of every release a search counts: by the release's few distinct
        # (Requires-Python, tags) pairs, worked out once for all forks, not by its files; and
        # answered once per distinct set of pairs, which most releases of a project share.
        parts, _ = self.region.parts_of(release)
        usable = self._answers(parts)
        if parts.metadata_python:
            return (release.name, release.version, usable, self._region_pythons)
        return (release.name, release.version, usable)

    def _answers(self, parts: ReleaseParts) -> tuple[bool, ...]:
        """Whether the region can use a file of each of ``parts``' pairs."""
        known = self._parts_answers.get(id(parts))
        if known is None or known[0] is not parts:
            region, reading = self.region, self.options.python_reading
            assert region is not None, "only universal forks read files for a region"
            answers = tuple(region.can_use(spec, served, reading) for spec, served in parts.pairs)
            known = self._parts_answers[id(parts)] = (parts, answers)
        return known[1]

    def _usable_files(self, release: Release) -> list[DistFile]:
        """The files of ``release`` the region can use (Requires-Python, and a wheel's tags),
        each read from its pair's answer (:meth:`_answers`; a release expanded in a fork has
        just had its share key worked out from them)."""
        assert self.region is not None, "only universal forks read files for a region"
        parts, places = self.region.parts_of(release)
        answers = self._answers(parts)
        return [f for f, place in zip(release.files, places, strict=True) if answers[place]]

    @cached_property
    def _region_pythons(self) -> Hashable:
        from .universal.region import python_projection

        assert self.region is not None, "only universal forks have Pythons of their own"
        return python_projection(self.region.markers)

    def python_allows(self, requires_python: SpecifierSet | None) -> bool:
        """Requires-Python admits the target's Python (in a universal fork: some Python of the
        region), under the Requires-Python policy."""
        if self.region is None:
            return self.options.allows_python(requires_python, self.target.python)
        if requires_python is None:
            return True
        return self.region.allows_python(self.options.python_reading(requires_python))

    def fits(self, file: DistFile) -> bool:
        """A wheel the target can install (in a universal fork: some environment of the region)."""
        if self.region is not None:
            return self.region.fits(file)
        return self._best_tag(file) is not None

    def _release_candidates(self, release: Release) -> list[Candidate]:
        if self.region is not None:
            files = self._usable_files(release)
            wheels = [f for f in files if f.is_wheel] if self.options.allows_binary(release.name) else []
        else:
            files = [f for f in release.files if self.python_allows(f.requires_python)]
            wheels = [f for f in files if f.is_wheel and self.fits(f)] if self.options.allows_binary(release.name) else []
        sdists = [f for f in files if not f.is_wheel] if self.options.allows_build(release.name) else []
        groups: dict[str | None, list[DistFile]] = {}
        for f in wheels:
            if f.label is not None and not self.options.variants:
                continue
            groups.setdefault(f.label, []).append(f)
        ordered: list[tuple[str | None, DistFile, PropertyMap, PropertyMap]] = []
        variant_labels = [label for label in groups if label is not None]
        if variant_labels:
            fallback = "its non-variant wheel" if None in groups else "its sdist" if sdists else None
            metadata = self._variant_metadata(release, sorted(variant_labels), fallback)
            if metadata is not None:
                supported = self.supported_for(release, metadata)
                for variant_label in order_labels(metadata, supported, variant_labels):
                    props = metadata.variants[variant_label]
                    ordered.append(
                        (variant_label, self._best_file(groups[variant_label]), props, supported_subset(props, supported))
                    )
        if None in groups:
            ordered.append(("", self._best_file(groups[None]), {}, {}))
        if sdists:
            ordered.append((None, sdists[0], {}, {}))
        out: list[Candidate] = []
        for label, file, props, supported_props in ordered:
            # An index announces each file's Requires-Python (PEP 503/691; an HTTP source sets
            # an empty specifier when there is none), and it was checked above. Only sources
            # that announce nothing (scenarios, local folders) make us read the metadata here:
            # from an index that would cost requests for every file of every release.
            # An sdist whose metadata needs a build is checked when the search reads its
            # dependencies (:meth:`dependencies`), never just for being listed.
            if file.requires_python is None and self.repo.metadata_is_cheap(release, file):
                try:
                    meta = self.repo.metadata(release, file)
                except InvalidDistribution as exc:
                    log.warning("ignoring %s: %s", file.filename, exc.reason)
                    continue
                if not self.python_allows(meta.requires_python):
                    continue
            out.append(
                Candidate(
                    release.name, release.version, label, file, release, props, supported_props,
                    rank=len(out), yanked=file.yanked,
                )
            )
        return out

    def _variant_metadata(self, release: Release, labels: list[str], fallback: str | None) -> VariantMetadata | None:
        """The release's variant metadata; None (its variant wheels are not used) when it is
        invalid. Never silent: a warning names the file and what is used instead, and
        :attr:`metadata_report` keeps it for the resolution's JSON. Notes (keys read leniently
        or ignored) are said too."""
        try:
            metadata = self.repo.variant_metadata(release)
        except InvalidVariantMetadata as exc:
            instead = f"using {fallback} instead" if fallback else "it has no other file, so an older release may be used"
            _warn_once(
                f"ignoring the variant wheels of {release.name} {release.version} ({', '.join(labels)}): {exc}; {instead}"
            )
            self.metadata_report.append({
                "package": release.name, "version": str(release.version), "status": "invalid",
                "file": exc.where, "reason": str(exc), "labels": labels,
                "fallback": fallback.removeprefix("its ") if fallback else None,
            })
            return None
        if metadata is not None and metadata.notes:
            for note in metadata.notes:
                _warn_once(f"{release.name} {release.version}: {note}")
            self.metadata_report.append({
                "package": release.name, "version": str(release.version), "status": "read with notes",
                "notes": list(metadata.notes),
            })
        return metadata

    def _best_tag(self, file: DistFile) -> int | None:
        assert file.wheel is not None, "only wheels have tags"
        ranks = [self.tag_rank[t] for t in file.wheel.tags if t in self.tag_rank]
        return min(ranks) if ranks else None

    def _best_file(self, files: list[DistFile]) -> DistFile:
        if self.region is not None:
            # Every fitting wheel of the label is locked; this one only stands for them.
            return min(files, key=lambda f: f.filename)

        def key(f: DistFile) -> tuple[int | None, int, str]:
            assert f.wheel is not None, "only wheels are compared"
            build = f.wheel.build
            return (self._best_tag(f), -(build[0] if build else 0), f.filename)

        return min(files, key=key)

    # -- dependencies -----------------------------------------------------------------------
    def needs_build(self, candidate: Candidate) -> bool:
        """Reading ``candidate``'s dependencies would build it (an sdist with dynamic metadata):
        a search reads them only when it is about to choose it."""
        return not self.repo.metadata_is_cheap(candidate.release, self.metadata_file(candidate))

    def prefetch(self, candidates: Iterable[Candidate]) -> None:
        """Tell the source that the dependencies of ``candidates`` are read next (a strategy
        reading a batch): it may fetch their metadata in parallel. Nothing is built."""
        wanted = [
            (c.release, self.metadata_file(c))
            for c in candidates
            if id(c) not in self._rejected and (id(c), frozenset()) not in self._deps and not self.needs_build(c)
        ]
        if wanted:
            self.repo.prefetch_metadata(wanted)

    def metadata_file(self, candidate: Candidate) -> DistFile:
        """The file whose metadata stands for ``candidate``: its own, except that in a universal
        fork an sdist of a release with wheels is read through a wheel (as uv does: the files of
        one release share their metadata, and no environment here needs the sdist built to know
        it; PEP 825 and uv rely on that consistency)."""
        if self.region is None or candidate.file.is_wheel:
            return candidate.file
        wheels = sorted((f for f in candidate.release.files if f.is_wheel and f.label is None), key=lambda f: f.filename)
        return wheels[0] if wheels else candidate.file

    def rejection(self, candidate: Candidate) -> str | None:
        """Why ``candidate`` turned out unusable when its metadata was read, or None."""
        return self._rejected.get(id(candidate))

    def dependencies(self, candidate: Candidate, extras: frozenset[str] = frozenset()) -> list[Dependency]:
        """Dependencies of ``candidate`` with ``extras``, markers evaluated for the target and
        the candidate's own variant; ``abi_dependency`` properties become dependencies too.

        Raises :class:`UnusableCandidate` when its metadata cannot be had (malformed, a failed
        build) or, read only now (a built sdist), excludes the target's Python.
        """
        reason = self._rejected.get(id(candidate))
        if reason is not None:
            raise UnusableCandidate(candidate, reason)
        key = (id(candidate), extras)
        if key not in self._deps:
            try:
                meta = self.repo.metadata(candidate.release, self.metadata_file(candidate))
            except InvalidDistribution as exc:
                raise self._reject(candidate, str(exc)) from None
            if candidate.file.requires_python is None and not self.python_allows(meta.requires_python):
                raise self._reject(
                    candidate, f"{candidate.describe()} requires Python {meta.requires_python} (target: {self._python_text()})"
                )
            if self.region is not None:
                spec = candidate.file.requires_python if candidate.file.requires_python else meta.requires_python
                self.region.check_python_fork(candidate, spec, self.options.python_reading(spec) if spec else None)
            deps = self._applying(candidate, meta.requires_dist, extras)
            for feature, values in candidate.properties.get(ABI_DEPENDENCY, {}).items():
                dist = canonicalize_name(feature.replace("_", "-"))
                specs = tuple(SpecifierSet(f"=={v}.*") for v in values)
                text = " or ".join(f"{dist}=={v}.*" for v in values) + f" (abi_dependency of {candidate.describe()})"
                deps.append(Dependency(dist, specs, frozenset(), text))
            self._deps[key] = deps
        return self._deps[key]

    def _applying(self, candidate: Candidate, requires_dist: Sequence[str], extras: frozenset[str]) -> list[Dependency]:
        deps: list[Dependency] = []
        seen: set[str] = set()
        if self.region is None:
            for text in requires_dist:
                req = parse_requirement(text)
                if any(req.evaluate(self.env, candidate.state, extra) for extra in ("", *sorted(extras))):
                    if req.text not in seen:
                        seen.add(req.text)
                        deps.append(Dependency.from_requirement(req))
            return deps
        # A universal fork: a requirement applies when it can hold somewhere in the region; its
        # variant markers are decided by this candidate's wheel, so the edge keeps only the
        # markers an environment decides. Several requirements on one package under different
        # markers are where uv forks: the region raises ForkNeeded for the driver.
        from .universal.region import ForkSignal, bounded_above

        parts: dict[NormalizedName, list[tuple[MarkerSet, bool]]] = {}
        for text in requires_dist:
            req = parse_requirement(text)
            applying = [self.region.applies(req, candidate.state, extra) for extra in ("", *sorted(extras))]
            holding = [part for part in applying if part is not None]
            if not holding:
                continue
            specialised = req.specialise(candidate.state) or req.text
            if specialised not in seen:
                seen.add(specialised)
                deps.append(_fork_dependency(specialised, req))
                union = holding[0]
                for part in holding[1:]:
                    union = union | part
                parts.setdefault(req.name, []).append((union, bounded_above(req.specifier)))
        whole = self.region.markers
        for name, found in parts.items():
            if len(found) > 1 and any(not whole.implies(m) for m, _ in found):
                markers, bounded = zip(*found, strict=True)
                self.region.check_signal(ForkSignal(candidate.key, name, markers, bounded))
        return deps

    def _python_text(self) -> str:
        if self.region is not None:
            return f"Python of {self.region.markers}"
        return str(self.target.python)

    def _reject(self, candidate: Candidate, reason: str) -> UnusableCandidate:
        self._rejected[id(candidate)] = reason
        log.info("rejecting %s: %s", candidate.describe(), reason)
        return UnusableCandidate(candidate, reason)

    def provides_extra(self, candidate: Candidate, extra: str) -> bool:
        meta = self.repo.metadata(candidate.release, self.metadata_file(candidate))
        if meta.provides_extra:
            return extra in meta.provides_extra
        return True

    # -- matching ---------------------------------------------------------------------------
    def matches(self, dep: Dependency, candidate: Candidate, *, pinned_elsewhere: bool = False) -> bool:
        """Whether ``candidate`` satisfies ``dep`` under the yanked and pre-release policies,
        reading ``dep`` alone (for pip's policies, which read all requirements on a package
        together, that is stricter than :meth:`admissible` over all of them).

        ``pinned_elsewhere``: treat a yanked candidate as pinned by some other requirement (a
        strategy that enforces pip's "some requirement pins it" itself passes True).
        """
        if not self.satisfies(dep, candidate):
            return False
        if candidate.yanked:
            if not self.yanked_usable(candidate, pinned=dep.pins or pinned_elsewhere):
                return False
            if not pinned_elsewhere and self._pip_yanked and self._unyanked_exists_for(candidate.name, (dep,)):
                return False
        return not candidate.version.is_prerelease or self._prerelease_allowed(candidate.name, (dep,))

    def satisfies(self, dep: Dependency, candidate: Candidate) -> bool:
        """Name and version range only; the policies are :meth:`admissible`'s."""
        return candidate.name == dep.name and dep.contains(candidate.version)

    def admissible(self, candidate: Candidate, deps: Sequence[Dependency]) -> bool:
        """The yanked and pre-release policies for ``candidate`` given every requirement
        ``deps`` on its package (pip merges them before filtering; packse's depend on the root)."""
        if candidate.yanked:
            pinned = any(d.pins and d.contains(candidate.version) for d in deps)
            if not self.yanked_usable(candidate, pinned):
                return False
            # pip: a pin allows a yanked release only when every release it admits is yanked
            # (==2.0.0 with a yanked 2.0.0 and a 2.0.0+cpu: only 2.0.0+cpu).
            if self._pip_yanked and self._unyanked_exists_for(candidate.name, deps):
                return False
        if candidate.version.is_prerelease and not self._prerelease_allowed(candidate.name, deps):
            return False
        return True

    def yanked_usable(self, candidate: Candidate, pinned: bool) -> bool:
        """Whether the yanked ``candidate`` may be chosen; ``pinned``: a requirement on it pins
        its version with ``==``/``===`` (what pip's policy asks)."""
        policy = self.options.yanked
        if policy == "packse":
            # uv: only a root requirement that is exactly one == / === clause naming this very
            # version allows a yanked one.
            return any(r.name == candidate.name and _names_version(r.specifier, candidate.version) for r in self.root_pins)
        if policy in ("pip", "pinned"):
            return pinned
        return False

    @property
    def _pip_yanked(self) -> bool:
        return self.options.yanked in ("pip", "pinned")

    def _unyanked_exists_for(self, name: NormalizedName, deps: Sequence[Dependency]) -> bool:
        """pip's yanked policy: some candidate of ``name`` that is not yanked satisfies ``deps``."""
        key = tuple(deps)
        if key not in self._unyanked_exists:
            self._unyanked_exists[key] = any(
                not c.yanked and all(d.contains(c.version) for d in deps) for c in self.candidates(name)
            )
        return self._unyanked_exists[key]

    def prerelease_excluded(self, name: NormalizedName, version: Version) -> bool:
        """``version`` of ``name`` is a pre-release the pre-release policy excludes whatever
        requirements are met (packse: none of the root requirements names a pre-release of
        ``name``, and it has final releases); pip's and uv's policies depend on them."""
        options = self.options
        return (
            version.is_prerelease
            and not options.prereleases
            and options.prerelease_policy == "packse"
            and not self.prereleases_allowed_for(name)
        )

    def prereleases_allowed_for(self, name: NormalizedName) -> bool:
        """packse policy: pre-releases of ``name`` are usable when a root requirement names one
        or ``name`` has no final release at all (uv's "if-necessary-or-explicit")."""
        if name not in self._prereleases_by_name:
            self._prereleases_by_name[name] = name in self.root_prerelease_names or not any(
                not r.version.is_prerelease for r in self.repo.releases(name)
            )
        return self._prereleases_by_name[name]

    def _prerelease_allowed(self, name: NormalizedName, deps: Sequence[Dependency]) -> bool:
        if self.options.prereleases or self.options.prerelease_policy == "uv":
            # uv: a pre-release is never excluded, only tried after the final releases
            # (:meth:`candidates`): transitive, only-in-range and fallback pre-releases alike.
            return True
        if self.options.prerelease_policy == "packse":
            return self.prereleases_allowed_for(name)
        # pip: PEP 440's rule on the merged requirements: pre-releases are fine when one of them
        # names a pre-release, or when no final release satisfies all of them.
        if any(d.explicit_prerelease for d in deps):
            return True
        key = tuple(deps)
        if key not in self._final_exists:
            self._final_exists[key] = any(
                all(d.contains(c.version) for d in deps) and not c.version.is_prerelease
                for c in self.candidates(name)
            )
        return not self._final_exists[key]
