"""Checking a universal resolution with the independent verifier, one environment at a time.

For every fork, the markers involved (the fork's region, each package's marker, each edge's)
cut the region into cells; one concrete environment stands for each cell. In it, the packages
whose marker holds are projected to an ordinary resolution (each with the best file of its
locked label for that environment) and :func:`varsolve.verifier.verify` checks it against the
problem as if that environment were the only target. So the verifier re-derives, from scratch,
what must be installed there; a wrong package marker shows up as a missing or an unrequired
package.

The dependencies of a wheel are read from the file the fork's resolution read for its release
and label, whichever wheel an environment installs (a Windows wheel on Windows): one set of
dependencies per version, as a universal lock records them (uv's too), and no download of every
platform's wheel just to check. Which file fits each environment (tags, Requires-Python) is
still checked per environment.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..resolution import Pin, Resolution, Violation

if TYPE_CHECKING:
    from packaging.tags import Tag
    from packaging.utils import NormalizedName
    from packaging.version import Version

    from ..marker_algebra import MarkerSet
    from ..problem import Problem
    from ..repository import CoreMetadata, DistFile, Release, Repository
    from ..target import Platform, Target
    from ..variants.metadata import VariantMetadata
    from .result import Fork, UniversalResolution

__all__ = [
    "Finding", "ProjectionMemo", "describe_environment", "environments_of", "project", "projections", "verify_universal",
]

# (fork index, environment described, what is wrong there)
Finding = tuple[int, str, Violation]

# The macOS an environment with sys_platform == 'darwin' is checked on: markers say no version,
# and a lock should serve current machines.
MACOS = (15, 0)
# Environments checked per fork at most: the first cells in the algebra's deterministic order.
MAX_ENVIRONMENTS = 64
_MACHINE_ALIASES = {"AMD64": "x86_64", "amd64": "x86_64", "arm64": "aarch64", "ARM64": "aarch64", "x86": "i686"}
_LINUX_MACHINES = {"x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64", "loongarch64"}


def verify_universal(result: UniversalResolution) -> tuple[list[Finding], list[Finding]]:
    """(violations, gaps): what the verifier rejects in some environment, and the packages with
    no file an environment can install. A gap is a violation in a required environment (the user
    asked for installability there, as uv's ``required-environments``); elsewhere a warning, as
    ``uv lock`` neither checks nor promises it."""
    from ..verifier import VerifierMemo, verify

    memo = VerifierMemo()
    violations: list[Finding] = []
    gaps: list[Finding] = []
    required = bool(result.environments)
    # A file's core metadata, read once for every fork and environment that reads it.
    metadata_memo: dict[tuple[NormalizedName, Version, str], CoreMetadata] = {}
    # The file each pin installs per tag ranking, and each project's releases as a fork reads
    # them, shared by the forks (most pin the same releases).
    shared = ProjectionMemo()
    for i, fork in enumerate(result.forks):
        for name in sorted(fork.resolution.packages):
            if fork.markers[name].is_empty():
                where = f"every environment where {fork.region}" if str(fork.region) else "every environment"
                violations.append((i, where, Violation(
                    "requirement", f"{name} is in the resolution but nothing requires it in any environment", (name,),
                )))
        for env, problem, projected, missing in projections(fork, metadata_memo, shared):
            where = describe_environment(env)
            for violation in verify(problem, projected, memo):
                if violation.kind == "file" and set(violation.packages) <= missing and not required:
                    continue
                violations.append((i, where, violation))
            for name in sorted(missing):
                gap = Violation("file", f"no file of {name} {projected.packages[name].version} installs", (name,))
                (violations if required else gaps).append((i, where, gap))
    return violations, gaps


def projections(
    fork: Fork, memo: dict[tuple[NormalizedName, Version, str], CoreMetadata] | None = None,
    shared: ProjectionMemo | None = None,
) -> Iterator[tuple[dict[str, str], Problem, Resolution, set[str]]]:
    """:func:`project` for each of :func:`environments_of`, sharing the work that does not depend
    on the environment; ``memo`` as :func:`read_as_locked`'s; ``shared``: what the projections
    of other forks found that holds for this one too (:class:`ProjectionMemo`)."""
    shared = shared or ProjectionMemo()
    projector = _Projector(fork, read_as_locked(fork, memo, shared), shared)
    for env in environments_of(fork):
        problem, projected, missing = projector.project(env)
        yield env, problem, projected, missing


def environments_of(fork: Fork) -> list[dict[str, str]]:
    """One environment per cell of the fork's region that its markers tell apart."""
    from ..marker_algebra import representative_environments
    from .region import parse_marker

    sets: list[MarkerSet] = [fork.region, *fork.markers.values()]
    for edge in fork.resolution.graph:
        if edge.marker:
            sets.append(parse_marker(edge.marker, ""))
    # One set per distinct cut: most packages share their marker (often the whole region), and
    # an edge's marker cuts the region as the marker of the package it leads to often does. A set
    # whose part of the region an earlier set already had cuts no cell again: left out, the cells
    # and their order are the same.
    region = fork.region
    distinct: list[MarkerSet] = []
    cuts: set[MarkerSet] = set()
    for m in dict.fromkeys(sets):
        # The region implies m, or is disjoint from it, exactly when m's part of it is all of
        # it, or none (asked so, no complement is built: a new diagram each time).
        cut = m & region
        if cut == region or cut.is_empty():
            continue
        if cut not in cuts:
            cuts.add(cut)
            distinct.append(m)
    found = [env for env in representative_environments(distinct or [fork.region], within=fork.region) if realistic(env)]
    return found[:MAX_ENVIRONMENTS]


def realistic(env: Mapping[str, str]) -> bool:
    """An environment a real interpreter can report: ``os_name`` is ``nt`` exactly on Windows,
    and the implementation's two names agree. The algebra keeps these variables independent (it
    must, to stay sound for any marker); a lock need not serve machines that cannot exist."""
    windows = env["sys_platform"] == "win32"
    if (env["os_name"] == "nt") != windows:
        return False
    return env["implementation_name"].lower() == env["platform_python_implementation"].lower()


def describe_environment(env: Mapping[str, str]) -> str:
    return (
        f"Python {env['python_full_version']} on {env['sys_platform']}/{env['platform_machine']}"
        f" ({env['implementation_name']}, os_name {env['os_name']})"
    )


def project(
    fork: Fork, env: Mapping[str, str], repository: Repository | None = None
) -> tuple[Problem, Resolution, set[str]]:
    """The fork's problem for ``env`` alone (no region), what the fork installs there, and the
    packages none of whose files can be installed there. ``repository``: the fork's
    :func:`read_as_locked` view (made here when not given)."""
    return _Projector(fork, repository or read_as_locked(fork)).project(env)


class ProjectionMemo:
    """What projecting one fork finds that holds for every fork of the same problem (one base
    repository, one set of options), kept across the forks of a universal check: most forks pin
    the same releases, and each environment's tag ranking is one of a few (one per Python and
    platform).

    * the file a pin installs under a tag ranking (:meth:`_Projector._pin_for` reads the
      release's files, the options' build policy and, for an sdist, whether its metadata is
      cheap: none of it the fork's);
    * each release looked up by version, and a project's releases with one version first (the
      order :func:`read_as_locked` gives its readers).

    Keyed by the identity of the base repository, the options and the ranking, each kept with
    the answer so that an id is never another object's."""

    def __init__(self) -> None:
        # (id of the base repository, id of the options, name, pin, id of the ranking)
        #   -> ((the repository, the options, the ranking), the pin installed or None)
        self.pins: dict[tuple[int, int, str, Pin, int], tuple[tuple[object, object, object], Pin | None]] = {}
        # (id of the base repository, name, version) -> (the repository, the release or None)
        self.releases: dict[tuple[int, str, Version], tuple[Repository, Release | None]] = {}
        # (id of the base repository, name, version first or None) -> (the repository, the releases)
        self.orders: dict[tuple[int, NormalizedName, Version | None], tuple[Repository, list[Release]]] = {}

    def release(self, base: Repository, name: str, version: Version) -> Release | None:
        """The release ``version`` of ``name`` in ``base``."""
        key = (id(base), name, version)
        known = self.releases.get(key)
        if known is None or known[0] is not base:
            from packaging.utils import canonicalize_name

            found = next((r for r in base.releases(canonicalize_name(name)) if r.version == version), None)
            known = self.releases[key] = (base, found)
        return known[1]

    def order(self, base: Repository, name: NormalizedName, version: Version | None) -> list[Release]:
        """``base``'s releases of ``name``, those of ``version`` first (else as listed)."""
        key = (id(base), name, version)
        known = self.orders.get(key)
        if known is None or known[0] is not base:
            found = base.releases(name)
            if version is not None:
                found = sorted(found, key=lambda r: r.version != version)
            known = self.orders[key] = (base, found)
        return known[1]


class _Projector:
    """:func:`project` for the environments of one fork, sharing what does not depend on the
    environment (each pin's release) or depends only on its tags (the file an installer takes
    there: environments of one Python and platform take the same files), with the other forks
    too (``shared``)."""

    def __init__(self, fork: Fork, repository: Repository, shared: ProjectionMemo | None = None) -> None:
        self.fork = fork
        self.repository = repository
        self.base = fork.problem.repository
        self.shared = shared or ProjectionMemo()
        self._ranks: dict[int, dict[Tag, int]] = {}  # id -> the ranking, kept so that ids stay theirs

    def project(self, env: Mapping[str, str]) -> tuple[Problem, Resolution, set[str]]:
        fork = self.fork
        target = environment_target(fork.problem.target, env)
        problem = replace(fork.problem, target=target, region=None, repository=self.repository)
        rank = target.tag_rank()
        self._ranks.setdefault(id(rank), rank)
        # marker -> whether env is in it: packages share markers, often as equal sets made apart
        # (a set hashes and compares by its canonical diagram, cheaply).
        holds: dict[MarkerSet, bool] = {}
        packages: dict[str, Pin] = {}
        missing: set[str] = set()
        for name, pin in fork.resolution.packages.items():
            marker = fork.markers[name]
            inside = holds.get(marker)
            if inside is None:
                inside = holds[marker] = marker.evaluate(env)
            if not inside:
                continue
            installed = self._installed(problem, name, pin, rank)
            if installed is None:
                missing.add(name)
                installed = self._stand_in(problem, name, pin)
            packages[name] = installed
        graph = tuple(e for e in fork.resolution.graph if e.child in packages and (e.parent is None or e.parent in packages))
        resolution = Resolution(fork.resolution.strategy, True, packages, graph, dict(fork.resolution.unified))
        return problem, resolution, missing

    def _installed(self, problem: Problem, name: str, pin: Pin, rank: dict[Tag, int]) -> Pin | None:
        """:meth:`_pin_for`, once per pin and ranking for every fork of the problem."""
        base, options = self.base, problem.options
        key = (id(base), id(options), name, pin, id(rank))
        known = self.shared.pins.get(key)
        if known is None or known[0][0] is not base or known[0][1] is not options or known[0][2] is not rank:
            known = self.shared.pins[key] = ((base, options, rank), self._pin_for(problem, name, pin, rank))
        return known[1]

    def _release(self, name: str, version: Version) -> Release | None:
        # The fork's repository lists the base's releases (in another order): the same release.
        return self.shared.release(self.base, name, version)

    def _pin_for(self, problem: Problem, name: str, pin: Pin, rank: Mapping[Tag, int]) -> Pin | None:
        """The fork's pin with the file an installer takes in this environment: the best-tagged
        wheel of the locked label, else (a non-variant pin) the sdist; None when nothing fits."""
        release = self._release(name, pin.version)
        if release is None:
            return pin  # the verifier says it does not exist
        file = _best_file(release.files, pin.variant, rank)
        if file is None and pin.variant == "" and problem.options.allows_build(name):
            file = _best_file(release.files, None, rank)
        if file is None or (file.wheel is None and not problem.repository.metadata_is_cheap(release, file)):
            return None  # nothing installs, or only a build would tell: a gap, never a build while checking
        return Pin(pin.version, file.wheel.label or "" if file.wheel is not None else None, file.filename)

    def _stand_in(self, problem: Problem, name: str, pin: Pin) -> Pin:
        """A pin for a package with no file for this environment whose metadata the verifier can
        read without a build (a wheel of the release, as the resolution read it); its file fault
        is reported as a gap."""
        if pin.variant is not None:
            return pin
        release = self._release(name, pin.version)
        wheels = sorted(f.filename for f in release.files if f.wheel is not None and f.label is None) if release else []
        return Pin(pin.version, "", wheels[0]) if wheels else pin


def read_as_locked(
    fork: Fork, memo: dict[tuple[NormalizedName, Version, str], CoreMetadata] | None = None,
    shared: ProjectionMemo | None = None,
) -> Repository:
    """The fork's repository, except that a wheel's metadata is that of the file the fork's
    resolution pinned for the same release and label (see the module). ``memo``: each file's
    metadata once read, shared with the views of the other forks of the same repository;
    ``shared``: each project's releases in the order given, too."""
    from ..repository import RepositoryBase

    base = fork.problem.repository
    pinned = {
        (name, pin.version, pin.variant): pin.filename
        for name, pin in fork.resolution.packages.items()
        if pin.variant is not None
    }
    versions = {name: pin.version for name, pin in fork.resolution.packages.items()}
    read: dict[tuple[NormalizedName, Version, str], CoreMetadata] = {} if memo is None else memo
    orders = shared or ProjectionMemo()

    class ReadAsLocked(RepositoryBase):
        def __init__(self) -> None:
            # Asked for the same projects once per pin in every environment checked; the
            # release the fork pinned first (any order will do), where a reader looks for it.
            self.known: dict[NormalizedName, list[Release]] = {}
            self.asked: dict[int, tuple[DistFile, CoreMetadata]] = {}

        def releases(self, name: NormalizedName) -> list[Release]:
            if name not in self.known:
                self.known[name] = orders.order(base, name, versions.get(name))
            return list(self.known[name])

        def metadata(self, release: Release, file: DistFile) -> CoreMetadata:
            # Asked again for the same file in every environment checked.
            known = self.asked.get(id(file))
            if known is not None and known[0] is file:
                return known[1]
            source = self._read(release, file)
            key = (release.name, release.version, source.filename)
            found = read.get(key)
            if found is None:
                found = read[key] = base.metadata(release, source)
            self.asked[id(file)] = (file, found)  # the file kept, so that its id stays its own
            return found

        def variant_metadata(self, release: Release) -> VariantMetadata | None:
            return base.variant_metadata(release)

        def metadata_is_cheap(self, release: Release, file: DistFile) -> bool:
            return base.metadata_is_cheap(release, self._read(release, file))

        @staticmethod
        def _read(release: Release, file: DistFile) -> DistFile:
            if file.wheel is None:
                return file
            filename = pinned.get((release.name, release.version, file.wheel.label or ""))
            if filename is None or filename == file.filename:
                return file
            return next((f for f in release.files if f.filename == filename and f.wheel is not None), file)

    return ReadAsLocked()


def environment_target(target: Target, env: Mapping[str, str]) -> Target:
    """``target`` (its supported properties kept) in the concrete environment ``env``."""
    from ..target import parse_python

    python = parse_python(env["python_full_version"])
    overrides = tuple(sorted(env.items()))
    return replace(target, python=python, platform=_platform(env), abis=(), marker_overrides=overrides)


def _platform(env: Mapping[str, str]) -> Platform:
    """The named platform an environment's OS and machine stand for; one without tags (only
    ``any`` wheels and sdists fit) when no platform name covers it."""
    from ..target import Platform, platform_named

    system, machine = env["sys_platform"], env["platform_machine"]
    # A cell's machine value is any the markers leave open: read it the way each OS spells it.
    machine = _MACHINE_ALIASES.get(machine, machine)
    name: str | None = None
    if system == "linux" and machine in _LINUX_MACHINES:
        name = f"{machine}-unknown-linux-gnu"
    elif system == "darwin" and machine in ("aarch64", "x86_64"):
        name = f"{machine}-macosx_{MACOS[0]}_{MACOS[1]}"
    elif system == "win32" and machine in ("x86_64", "i686", "aarch64"):
        name = f"{machine}-pc-windows-msvc"
    if name is not None:
        named = platform_named(name)
        return replace(named, platform_system=env["platform_system"], os_name=env["os_name"])
    return Platform(
        f"{system}-{machine}", (), system, env["platform_system"], machine, env["os_name"],
        env.get("platform_release", ""), env.get("platform_version", ""),
    )


def best_file(files: Sequence[DistFile], label: str | None, target: Target) -> DistFile | None:
    """Of ``files``, the wheel with the locked ``label`` ("" non-variant) the target ranks
    best, or for an sdist pin the sdist."""
    return _best_file(files, label, target.tag_rank())


def _best_file(files: Sequence[DistFile], label: str | None, rank: Mapping[Tag, int]) -> DistFile | None:
    best: tuple[int, str] | None = None
    chosen: DistFile | None = None
    for f in files:
        if label is None:
            if f.wheel is None:
                return f
            continue
        if f.wheel is None or (f.wheel.label or "") != label:
            continue
        ranks = [rank[t] for t in f.wheel.tags if t in rank]
        if not ranks:
            continue
        key = (min(ranks), f.filename)
        if best is None or key < best:
            best, chosen = key, f
    return chosen
