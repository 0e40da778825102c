"""A resolution problem: what to install (root requirements), from where (a repository), for
which target, under which policy. Strategies take a Problem and return a Resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, TypedDict, get_args

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

from .repository import Repository
from .target import Target
from .variants.markers import VariantRequirement, parse_requirement
from .variants.properties import VariantFeature

if TYPE_CHECKING:
    from .universal.region import Region

PrereleasePolicy = Literal["packse", "pip", "uv"]
YankedPolicy = Literal["packse", "pip", "pinned", "never"]
RequiresPythonPolicy = Literal["packse", "pip"]
PolicyName = Literal["packse", "uv", "pip"]


class PolicyFields(TypedDict):
    """The options a preset sets (:data:`POLICIES`)."""

    prerelease_policy: PrereleasePolicy
    yanked: YankedPolicy
    requires_python_policy: RequiresPythonPolicy


@dataclass(frozen=True)
class ResolverOptions:
    # Features that must take one value across the environment.
    unify: tuple[VariantFeature, ...] = ()
    # True: allow pre-releases everywhere. False: ``prerelease_policy`` decides.
    prereleases: bool = False
    no_build: frozenset[str] = frozenset()  # names, or ":all:"
    no_binary: frozenset[str] = frozenset()
    # Where packse, uv and pip differ, each has its policy; "packse" is the default so that the
    # packse conformance scenarios hold (docs/scenario-format.md, "Policies: packse, uv and pip").
    # ``policy_preset`` sets the three at once (POLICIES: "packse", "uv", "pip").
    # Pre-releases, "packse": a package may use them when a root requirement on it names a
    # pre-release or it has no final release at all. "pip" (PEP 440's rule, as packaging 26
    # reads it): the requirements on a package accept them when one of them names one (other
    # than with ``!=``) or no final release satisfies them all. "uv" (uv 0.13.9): always
    # usable, but a package's final releases are all tried before its first pre-release.
    prerelease_policy: PrereleasePolicy = "packse"
    # Yanked releases, "packse" (uv's rule): usable only where a root requirement that is one
    # == or === clause names exactly that version. "pip": where a requirement on the package
    # pins it with == or === and no release that is not yanked satisfies the requirements on
    # it. "never": never. ("pinned" is the older name of "pip".)
    yanked: YankedPolicy = "packse"
    # Requires-Python, "packse": only its lower bounds are checked against the target (uv
    # ignores upper bounds). "pip": the whole specifier.
    requires_python_policy: RequiresPythonPolicy = "packse"
    # Variant-aware resolution on (default) or "non-variant wheels only" (PEP 817 option).
    variants: bool = True

    def allows_build(self, name: str) -> bool:
        return not ({":all:", name} & self.no_build)

    def allows_binary(self, name: str) -> bool:
        return not ({":all:", name} & self.no_binary)

    def allows_python(self, requires_python: SpecifierSet | None, python: Version) -> bool:
        """Whether a file with ``requires_python`` may be installed on ``python``."""
        if requires_python is None:
            return True
        # Memoised: a large project's files share a few dozen specifiers (sources share the
        # objects too), and a search asks for every file of every release it lists.
        key = (requires_python, python, self.requires_python_policy)
        allowed = _ALLOWS_PYTHON.get(key)
        if allowed is None:
            spec = lower_bounds(requires_python) if self.requires_python_policy == "packse" else requires_python
            allowed = _ALLOWS_PYTHON[key] = spec.contains(python, prereleases=True)
        return allowed

    def python_reading(self, requires_python: SpecifierSet) -> SpecifierSet:
        """The part of ``requires_python`` the Requires-Python policy reads."""
        return _lower_bounds(requires_python) if self.requires_python_policy == "packse" else requires_python

    def policy_preset(self, name: str) -> ResolverOptions:
        """These options with the pre-release, yanked and Requires-Python policies of the preset
        ``name`` (:data:`POLICIES`); the rest unchanged."""
        return replace(self, **POLICIES[name])

    def policy_name(self) -> str | None:
        """The preset whose three policies these options have, or None (a mix)."""
        yanked: YankedPolicy = "pip" if self.yanked == "pinned" else self.yanked
        mine = PolicyFields(
            prerelease_policy=self.prerelease_policy, yanked=yanked, requires_python_policy=self.requires_python_policy
        )
        return next((name for name, fields in POLICIES.items() if fields == mine), None)


_ALLOWS_PYTHON: dict[tuple[SpecifierSet, Version, str], bool] = {}


POLICY_VALUES: dict[str, tuple[str, ...]] = {
    "prerelease_policy": get_args(PrereleasePolicy),
    "yanked": get_args(YankedPolicy),
    "requires_python_policy": get_args(RequiresPythonPolicy),
}


# The presets: what one installer does, as a whole (docs/scenario-format.md, "Policies").
# "packse": the packse 0.3.59 scenarios' expectations (the default); "uv": uv 0.13.9 (packse's
# yanked and Requires-Python rules, its newer pre-release rule); "pip": pip 26.3.
POLICIES: dict[str, PolicyFields] = {
    "packse": PolicyFields(prerelease_policy="packse", yanked="packse", requires_python_policy="packse"),
    "uv": PolicyFields(prerelease_policy="uv", yanked="packse", requires_python_policy="packse"),
    "pip": PolicyFields(prerelease_policy="pip", yanked="pip", requires_python_policy="pip"),
}
DEFAULT_POLICY: PolicyName = "packse"


_LOWER_BOUNDS: dict[SpecifierSet, SpecifierSet] = {}


def _lower_bounds(spec: SpecifierSet) -> SpecifierSet:
    # Memoised: a universal search asks about every file of every release it reads, and files
    # share a few dozen specifiers.
    found = _LOWER_BOUNDS.get(spec)
    if found is None:
        found = _LOWER_BOUNDS[spec] = lower_bounds(spec)
    return found


def lower_bounds(spec: SpecifierSet) -> SpecifierSet:
    """The clauses of ``spec`` that bound the version from below (``~=V`` and ``==V`` as ``>=V``).

    Hand-written: packaging has no interval arithmetic; this is uv's "ignore upper bounds"
    reading of Requires-Python, in which ``<``, ``<=`` and ``!=`` never exclude a target.
    """
    kept: list[str] = []
    for clause in spec:
        version = clause.version.removesuffix(".*")
        if clause.operator in (">=", ">"):
            kept.append(str(clause))
        elif clause.operator in ("~=", "==", "===") and _is_version(version):
            kept.append(f">={version}")
    return SpecifierSet(",".join(kept))


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


@dataclass(frozen=True)
class Problem:
    repository: Repository
    target: Target
    requirements: tuple[str, ...]
    options: ResolverOptions = field(default_factory=ResolverOptions)
    # A fork of a universal resolution (varsolve.universal): resolve for every environment in
    # it at once instead of for the target's marker environment; None: the target alone.
    region: Region | None = None

    def root_requirements(self) -> list[VariantRequirement]:
        """Root requirements whose markers hold for the target (can hold in the region)."""
        parsed = [parse_requirement(text) for text in self.requirements]
        if self.region is not None:
            from .variants.markers import NON_VARIANT

            region = self.region
            return [req for req in parsed if region.applies(req, NON_VARIANT) is not None]
        env = self.target.marker_environment()
        return [req for req in parsed if req.evaluate(env)]

    def root_names(self) -> set[NormalizedName]:
        return {req.name for req in self.root_requirements()}
