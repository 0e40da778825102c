"""A resolution problem: what to install (root requirements), from where (a repository), for
which target, under which policy. Strategies take a Problem and return a Resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from packaging.utils import NormalizedName

from .repository import Repository
from .target import Target
from .variants.markers import VariantRequirement, parse_requirement
from .variants.properties import VariantFeature


@dataclass(frozen=True)
class ResolverOptions:
    # Features that must take one value across the environment.
    unify: tuple[VariantFeature, ...] = ()
    # True: allow pre-releases everywhere. False (default, pip's and uv's policy): only where a
    # specifier names a pre-release, or where nothing else satisfies the requirement.
    prereleases: bool = False
    no_build: frozenset[str] = frozenset()  # names, or ":all:"
    no_binary: frozenset[str] = frozenset()
    # "pinned" (pip, default): a yanked release is usable when some requirement pins it with
    # == or ===. "never": yanked releases are never used.
    yanked: str = "pinned"
    # Variant-aware resolution on (default) or "non-variant wheels only" (PEP 817 option).
    variants: bool = True

    def allows_build(self, name: str) -> bool:
        return not ({":all:", name} & self.no_build)

    def allows_binary(self, name: str) -> bool:
        return not ({":all:", name} & self.no_binary)


@dataclass(frozen=True)
class Problem:
    repository: Repository
    target: Target
    requirements: tuple[str, ...]
    options: ResolverOptions = field(default_factory=ResolverOptions)

    def root_requirements(self) -> list[VariantRequirement]:
        """Root requirements whose markers hold for the target."""
        env = self.target.marker_environment()
        parsed = [parse_requirement(text) for text in self.requirements]
        return [req for req in parsed if req.evaluate(env)]

    def root_names(self) -> set[NormalizedName]:
        return {req.name for req in self.root_requirements()}
