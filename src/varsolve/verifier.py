"""An independent check of any resolution against its problem.

It re-derives everything from the repository and the target with the variant model's primitive
rules (compatibility, marker evaluation) and shares no code with the candidate expansion or the
strategies, so a bug there cannot hide here. Each violation is a sentence with a kind; those of
kind ``unify`` (a unified feature takes two values) are the only ones the status quo is allowed:
it reports ``consistent=false``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from packaging.specifiers import Specifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from .errors import InvalidDistribution, InvalidVariantMetadata
from .problem import Problem, ResolverOptions
from .providers import supported_for_release
from .repository import DistFile, Release, Repository
from .resolution import Pin, Resolution, Violation, ViolationKind
from .variants.markers import NON_VARIANT, VariantState, parse_requirement
from .variants.ordering import is_compatible, supported_subset
from .variants.properties import ABI_DEPENDENCY, PropertyMap, VariantFeature

if TYPE_CHECKING:
    from packaging.tags import Tag


def verify(problem: Problem, resolution: Resolution, memo: VerifierMemo | None = None) -> list[Violation]:
    """Return the violations (empty when the resolution is valid and consistent). ``memo``:
    answers kept from other checks (a universal resolution checks dozens of environments)."""
    if not resolution.satisfiable:
        if resolution.explanation is not None and resolution.explanation.text.strip():
            return []
        return [Violation("result", "unsatisfiable result without an explanation")]
    return _Verifier(problem, resolution, memo or VerifierMemo()).run()


class VerifierMemo:
    """Which of a file's requirements apply, kept across checks: the answer depends only on
    the requirement texts, the wheel's variant state, the extras asked for and the values of
    the environment variables their markers compare, and the environments of a universal
    resolution mostly differ in variables a package's markers do not compare."""

    def __init__(self) -> None:
        # requirement texts -> the variables their markers compare (None: not known)
        self._reads: dict[tuple[str, ...], tuple[str, ...] | None] = {}
        self._applying: dict[tuple[object, ...], tuple[str, ...]] = {}
        self._facts: dict[str, _Facts] = {}
        self._contains: dict[tuple[str, Version], bool] = {}
        self._files: dict[tuple[int, str], tuple[Release, DistFile | None]] = {}
        self._releases: dict[tuple[int, str, Version], tuple[Repository, Release | None]] = {}
        self._tag_sets: dict[int, tuple[tuple[Tag, ...], frozenset[Tag]]] = {}
        self._allows: dict[tuple[int, Version, str], tuple[SpecifierSet, bool]] = {}

    def facts(self, text: str) -> _Facts:
        """What the walk reads of a requirement besides its marker (every environment walks
        the same edges)."""
        known = self._facts.get(text)
        if known is None:
            req = parse_requirement(text)
            known = self._facts[text] = _Facts(
                req.name, req.specifier, frozenset(req.extras), any(_pins_exactly(s) for s in req.specifier)
            )
        return known

    def tag_set(self, tags: tuple[Tag, ...]) -> frozenset[Tag]:
        """``tags`` as a set, once per tuple (a target's tags are one cached tuple per Python and
        platform; a macOS one has thousands)."""
        known = self._tag_sets.get(id(tags))
        if known is None or known[0] is not tags:
            known = self._tag_sets[id(tags)] = (tags, frozenset(tags))  # the tuple kept, so that its id stays its own
        return known[1]

    def release_of(self, repo: Repository, name: str, version: Version) -> Release | None:
        """The release ``version`` of ``name`` in ``repo`` (asked for every pin in every
        environment; a project lists hundreds of releases)."""
        key = (id(repo), name, version)
        known = self._releases.get(key)
        if known is None or known[0] is not repo:
            found = next((r for r in repo.releases(NormalizedName(name)) if r.version == version), None)
            known = self._releases[key] = (repo, found)  # the repository kept, so that its id stays its own
        return known[1]

    def file_named(self, release: Release, filename: str) -> DistFile | None:
        """The file of ``release`` called ``filename`` (a release may have hundreds of files, and
        every environment looks up the same pins)."""
        key = (id(release), filename)
        known = self._files.get(key)
        if known is None or known[0] is not release:
            found = next((f for f in release.files if f.filename == filename), None)
            known = self._files[key] = (release, found)  # the release kept, so that its id stays its own
        return known[1]

    def allows_python(self, options: ResolverOptions, spec: SpecifierSet | None, python: Version) -> bool:
        """``options.allows_python``, by the identity of the specifier (files share a few parsed
        ones) rather than its hash, which packaging computes at every call."""
        if spec is None:
            return True
        key = (id(spec), python, options.requires_python_policy)
        known = self._allows.get(key)
        if known is None or known[0] is not spec:
            known = self._allows[key] = (spec, options.allows_python(spec, python))
        return known[1]

    def contains(self, text: str, version: Version) -> bool:
        """The requirement ``text``'s specifier contains ``version`` (pre-releases included)."""
        key = (text, version)
        known = self._contains.get(key)
        if known is None:
            known = self._contains[key] = self.facts(text).specifier.contains(version, prereleases=True)
        return known

    def applying(
        self, requires_dist: tuple[str, ...], env: dict[str, str], state: VariantState, extras: tuple[str, ...]
    ) -> tuple[str, ...]:
        """The texts of ``requires_dist`` whose marker holds in ``env`` for a wheel in ``state``
        with no extra or one of ``extras``, in their order."""
        if requires_dist in self._reads:
            reads = self._reads[requires_dist]
        else:
            reads = self._reads[requires_dist] = _reads_of(requires_dist)
        if reads is None:
            return _applying(requires_dist, env, state, extras)
        key = (requires_dist, state, extras, tuple(map(env.get, reads)))
        try:
            known = self._applying.get(key)
        except TypeError:  # a value that is not hashable: not kept
            return _applying(requires_dist, env, state, extras)
        if known is None:
            known = self._applying[key] = _applying(requires_dist, env, state, extras)
        return known


class _Facts(NamedTuple):
    name: NormalizedName
    specifier: SpecifierSet
    extras: frozenset[str]
    pins_exactly: bool  # some clause is == without a wildcard, or ===


def _reads_of(requires_dist: tuple[str, ...]) -> tuple[str, ...] | None:
    found: set[str] = set()
    for text in requires_dist:
        reads = parse_requirement(text).reads
        if reads is None:
            return None
        found.update(reads)
    return tuple(sorted(found))


def _applying(
    requires_dist: tuple[str, ...], env: dict[str, str], state: VariantState, extras: tuple[str, ...]
) -> tuple[str, ...]:
    return tuple(
        text for text in requires_dist if any(parse_requirement(text).evaluate(env, state, e) for e in ("", *extras))
    )


class _Verifier:
    def __init__(self, problem: Problem, resolution: Resolution, memo: VerifierMemo) -> None:
        self.memo = memo
        self.problem = problem
        self.repo = problem.repository
        self.target = problem.target
        self.pins = resolution.packages
        self.unified = resolution.unified
        self.env = self.target.marker_environment()
        self.tags = memo.tag_set(self.target.tags())
        self.violations: list[Violation] = []
        self.states: dict[str, VariantState] = {}
        self.files: dict[str, tuple[Release, DistFile]] = {}
        self.supported: dict[str, PropertyMap] = {}

    def fail(self, kind: ViolationKind, message: str, *packages: str, feature: str | None = None) -> None:
        violation = Violation(kind, message, tuple(packages), feature)
        if violation not in self.violations:
            self.violations.append(violation)

    def run(self) -> list[Violation]:
        for name, pin in sorted(self.pins.items()):
            self.check_pin(name, pin)
        required = self.check_requirements()
        for name in sorted(set(self.pins) - required):
            self.fail("requirement", f"{name} is in the resolution but nothing requires it", name)
        self.check_unify()
        return self.violations

    def check_pin(self, name: str, pin: Pin) -> None:
        if canonicalize_name(name) != name:
            self.fail("file", f"{name}: package name is not normalised", name)
        # Looked up as written (a name that is not normalised was reported above).
        release = self.memo.release_of(self.repo, name, pin.version)
        if release is None:
            return self.fail("file", f"{name} {pin.version} does not exist", name)
        file = self.memo.file_named(release, pin.filename)
        if file is None:
            return self.fail("file", f"{name} {pin.version}: no file {pin.filename}", name)
        self.files[name] = (release, file)
        py = self.target.python
        meta = self.repo.metadata(release, file)
        for spec in (file.requires_python, meta.requires_python):
            if not self.memo.allows_python(self.problem.options, spec, py):
                self.fail("python", f"{name} {pin.version} requires Python {spec}, target is {py}", name)
        opts = self.problem.options
        if file.wheel is None:
            if pin.variant is not None:
                self.fail("file", f"{name}: {pin.filename} is an sdist but the variant is {pin.variant!r}", name)
            if not opts.allows_build(name):
                self.fail("file", f"{name}: building from source is not allowed", name)
            self.states[name] = NON_VARIANT
            return None
        if not opts.allows_binary(name):
            self.fail("file", f"{name}: binary wheels are not allowed", name)
        if not (file.wheel.tags & self.tags):
            self.fail("file", f"{name}: {pin.filename} has no tag the target supports", name)
        label = file.wheel.label
        if (label or "") != pin.variant:
            self.fail("file", f"{name}: variant {pin.variant!r} does not match {pin.filename}", name)
        if label is None:
            self.states[name] = NON_VARIANT
            return None
        if not opts.variants:
            self.fail("variant", f"{name}: variant wheels are disabled", name)
        try:
            metadata = self.repo.variant_metadata(release)
        except InvalidVariantMetadata as exc:
            return self.fail("variant", f"{name} {pin.version}: variant metadata is invalid ({exc})", name)
        if metadata is None or label not in metadata.variants:
            return self.fail("variant", f"{name} {pin.version}: label {label!r} has no variant metadata", name)
        supported = supported_for_release(metadata, self.target)
        props = metadata.variants[label]
        if not is_compatible(props, supported):
            self.fail("variant", f"{name} {pin.version}: variant {label!r} needs properties the target does not support", name)
        sub = supported_subset(props, supported)
        self.supported[name] = sub
        visible = {ns: f for ns, f in sub.items() if ns != ABI_DEPENDENCY}
        self.states[name] = VariantState.for_wheel(label, visible)
        for feature, values in props.get(ABI_DEPENDENCY, {}).items():
            dist = canonicalize_name(feature.replace("_", "-"))
            other = self.pins.get(dist)
            if other is None or not any(_prefix_match(other.version, v) for v in values):
                got = f"{dist} {other.version}" if other else f"no {dist}"
                self.fail(
                    "abi", f"{name} [{label}] is built for {dist} {' or '.join(values)} but the resolution has {got}", name, dist
                )
        return None

    def check_requirements(self) -> set[str]:
        """Walk from the root; returns the names reached. Extras are collected to a fixpoint."""
        extras: dict[str, set[str]] = {}
        pinned_by_eq: set[str] = set()
        # packse's yanked policy: only a root requirement that is one ==/=== clause counts.
        root_pinned: list[tuple[str, Specifier]] = []
        root_prerelease: set[str] = set()  # packse's pre-release policy: root opt-ins
        specifiers: dict[str, list[SpecifierSet]] = {}  # every requirement on each package
        reached: set[str] = set()
        queue: list[tuple[str, str | None]] = []  # (requirement text, requiring package or None)
        for text in self.problem.requirements:
            if parse_requirement(text).evaluate(self.env):
                queue.append((text, None))
        seen_edges: set[tuple[str, str | None]] = set()
        while queue:
            text, parent = queue.pop()
            if (text, parent) in seen_edges:
                continue
            seen_edges.add((text, parent))
            req = self.memo.facts(text)
            who = f"{parent}" if parent else "the root"
            pin = self.pins.get(req.name)
            if pin is None:
                self.fail("requirement", f"{who} requires {text} but {req.name} is not in the resolution", req.name)
                continue
            if not self.memo.contains(text, pin.version):
                self.fail("requirement", f"{who} requires {text} but the resolution has {req.name} {pin.version}", req.name)
            specifiers.setdefault(req.name, []).append(req.specifier)
            if req.pins_exactly:
                pinned_by_eq.add(req.name)
                clauses = list(req.specifier)
                if parent is None and len(clauses) == 1:
                    root_pinned.append((req.name, clauses[0]))
            if parent is None and any(_names_prerelease(s.version) for s in req.specifier):
                root_prerelease.add(req.name)
            new_extras = req.extras - extras.setdefault(req.name, set())
            first_visit = req.name not in reached
            reached.add(req.name)
            extras[req.name] |= req.extras
            if (first_visit or new_extras) and req.name in self.files:
                release, file = self.files[req.name]
                state = self.states.get(req.name, NON_VARIANT)
                requires_dist = tuple(self.repo.metadata(release, file).requires_dist)
                for dep_text in self.memo.applying(requires_dist, self.env, state, tuple(sorted(extras[req.name]))):
                    queue.append((dep_text, req.name))
                # An abi_dependency is a requirement too: walk into that distribution's own
                # dependencies (check_pin has already compared its version with the values).
                for feature in self.supported.get(req.name, {}).get(ABI_DEPENDENCY, {}):
                    dist = canonicalize_name(feature.replace("_", "-"))
                    if dist in self.pins:
                        queue.append((dist, req.name))
        opts = self.problem.options
        for name, (release, file) in self.files.items():
            if not file.yanked:
                continue
            if opts.yanked == "never":
                self.fail("policy", f"{name} {release.version} is yanked and yanked releases are not allowed", name)
            elif opts.yanked == "packse":
                if not any(n == name and _names_exactly(c, release.version) for n, c in root_pinned):
                    self.fail("policy", f"{name} {release.version} is yanked and no root requirement pins it", name)
            elif name not in pinned_by_eq:
                self.fail("policy", f"{name} {release.version} is yanked and no requirement pins it", name)
            else:
                # pip: a pin allows a yanked release only when every release it admits is.
                other = self._installable_release(name, specifiers[name], lambda r: not r.yanked)
                if other is not None:
                    self.fail(
                        "policy",
                        f"{name} {release.version} is yanked and {name} {other}, which is not, satisfies every"
                        " requirement on it",
                        name,
                    )
        if not opts.prereleases and opts.prerelease_policy == "pip":
            # PEP 440 as pip reads it, on the requirements of the final resolution (pip decides on
            # those it knows; later ones only narrow the range, so what held then holds now).
            for name, (release, _) in self.files.items():
                if not release.version.is_prerelease or any(
                    _opts_in(clause) for spec in specifiers.get(name, []) for clause in spec
                ):
                    continue
                final = self._installable_release(name, specifiers.get(name, []), lambda r: not r.version.is_prerelease)
                if final is not None:
                    self.fail(
                        "policy",
                        f"{name} {release.version} is a pre-release, but no requirement on {name} names one"
                        f" and {name} {final} satisfies them all",
                        name,
                    )
        if not opts.prereleases and opts.prerelease_policy == "packse":
            for name, (release, _) in self.files.items():
                if (
                    release.version.is_prerelease
                    and name not in root_prerelease
                    and any(not r.version.is_prerelease for r in self.repo.releases(NormalizedName(name)))
                ):
                    self.fail(
                        "policy",
                        f"{name} {release.version} is a pre-release, but {name} has final releases"
                        " and no root requirement opts in to its pre-releases",
                        name,
                    )
        return reached | {
            canonicalize_name(f.replace("_", "-"))
            for name in self.files
            for f in self.supported.get(name, {}).get(ABI_DEPENDENCY, {})
            if canonicalize_name(f.replace("_", "-")) in self.pins
        }

    def _installable_release(
        self, name: str, specs: list[SpecifierSet], wanted: Callable[[Release], bool]
    ) -> Version | None:
        """The newest release of ``name`` that ``wanted`` accepts, every one of ``specs``
        contains and the target can surely install (a compatible non-variant wheel or an
        allowed sdist whose Requires-Python fits); None if there is none. Variant wheels and
        files whose Requires-Python is unknown without a download do not count, so that this
        can only miss a release, never invent one."""
        opts = self.problem.options
        py = self.target.python
        for release in sorted(self.repo.releases(NormalizedName(name)), key=lambda r: r.version, reverse=True):
            if not wanted(release) or not all(s.contains(release.version, prereleases=True) for s in specs):
                continue
            for file in release.files:
                if file.wheel is not None:
                    if file.wheel.label is not None or not opts.allows_binary(name) or not (file.wheel.tags & self.tags):
                        continue
                elif not opts.allows_build(name):
                    continue
                requires_python = file.requires_python
                if requires_python is None:
                    if not self.repo.metadata_is_cheap(release, file):
                        continue
                    try:
                        requires_python = self.repo.metadata(release, file).requires_python
                    except InvalidDistribution:
                        continue
                if opts.allows_python(requires_python, py):
                    return release.version
        return None

    def check_unify(self) -> None:
        for feature in self.problem.options.unify:
            common: set[str] | None = None
            holders = []
            names = []
            for name in sorted(self.supported):
                values = self.supported[name].get(feature.namespace, {}).get(feature.feature)
                release, file = self.files[name]
                declared = _declared(self.repo, release, file, feature)
                if declared is None:
                    continue
                holders.append(f"{name} [{file.label}] has {{{', '.join(sorted(declared))}}}")
                names.append(name)
                common = set(values or ()) if common is None else common & set(values or ())
            if common is not None and not common:
                self.fail(
                    "unify", f"unify {feature}: no common value ({'; '.join(holders)})", *names, feature=str(feature)
                )
            reported = self.unified.get(str(feature))
            if common and reported is not None and reported not in common:
                self.fail(
                    "unify",
                    f"unify {feature}: the reported value {reported} is not common to all wheels"
                    f" ({'; '.join(holders)})",
                    *names,
                    feature=str(feature),
                )


def _declared(repo: Repository, release: Release, file: DistFile, feature: VariantFeature) -> set[str] | None:
    try:
        metadata = repo.variant_metadata(release)
    except InvalidVariantMetadata:
        return None
    if metadata is None or file.wheel is None or file.wheel.label not in metadata.variants:
        return None
    values = metadata.variants[file.wheel.label].get(feature.namespace, {}).get(feature.feature)
    return set(values) if values else None


def _names_prerelease(version: str) -> bool:
    try:
        return Version(version.removesuffix(".*")).is_prerelease
    except InvalidVersion:
        return False


def _opts_in(clause: Specifier) -> bool:
    """pip (packaging 26): a clause that names a pre-release opts in to pre-releases, unless it
    is an exclusion (``!=``) or a wildcard."""
    return clause.operator != "!=" and not clause.version.endswith(".*") and _names_prerelease(clause.version)


def _names_exactly(clause: Specifier, version: Version) -> bool:
    """uv's yanked rule: the pin ``==V``/``===V`` names this very version (``2.0`` is ``2.0.0``,
    ``2.0.0+cpu`` is another version)."""
    if not _pins_exactly(clause):
        return False
    if clause.operator == "===" and clause.version == str(version):
        return True
    try:
        return Version(clause.version) == version
    except InvalidVersion:
        return False


def _pins_exactly(spec: Specifier) -> bool:
    """PEP 592: ``==`` without a wildcard, or ``===``, may select a yanked release."""
    return spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith(".*"))


def _prefix_match(version: Version, value: str) -> bool:
    parts = [int(p) for p in value.split(".")]
    release = list(version.release) + [0] * max(0, len(parts) - len(version.release))
    return version.epoch == 0 and release[: len(parts)] == parts
