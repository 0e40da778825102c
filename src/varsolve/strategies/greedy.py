"""The two resolvelib strategies.

* ``pep825`` (the status quo of PEP 825 and every installer prototype): resolvelib over
  versions; each version is represented by its single best file in PEP 825 order, whose
  dependencies are read with that file's variant markers. Rejecting the file rejects the
  version. ``unify`` is ignored (the verifier reports the violations).
* ``backtrack``: resolvelib over (version, variant) candidates, newest version first, then PEP
  825 order; every unified feature is a virtual identifier whose candidates are its supported
  values, so a mismatch backtracks across the variants of a version and across versions.

Both are greedy: the first solution found in preference order is returned.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from packaging.utils import NormalizedName
from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver
from resolvelib.structs import RequirementInformation

from ..candidates import Candidate, CandidateFinder, Dependency
from ..explain import explain_conflict
from ..problem import Problem
from ..resolution import Pin, Resolution
from ..variants.properties import VariantFeature

MAX_ROUNDS = 200_000  # pip's limit


@dataclass(frozen=True)
class ExtrasCandidate:
    """``name[extras]`` at one candidate: depends on exactly that candidate plus the extras' deps."""

    base: Candidate
    extras: frozenset[str]


@dataclass(frozen=True)
class UnifyValue:
    feature: VariantFeature
    value: str


@dataclass(frozen=True)
class PackageRequirement:
    dep: Dependency


@dataclass(frozen=True)
class ExactRequirement:
    candidate: Candidate


@dataclass(frozen=True)
class UnifyRequirement:
    feature: VariantFeature
    values: frozenset[str]
    source: Candidate


Req = Union[PackageRequirement, ExactRequirement, UnifyRequirement]
Cand = Union[Candidate, ExtrasCandidate, UnifyValue]


def unify_id(feature: VariantFeature) -> str:
    return f"<unify {feature}>"


def extras_id(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]"


class _Provider(AbstractProvider):
    def __init__(self, finder: CandidateFinder, one_per_version: bool, unify: Sequence[VariantFeature]) -> None:
        self.finder = finder
        self.one_per_version = one_per_version
        self.unify = tuple(unify)
        self.roots = finder.problem.root_names()

    def identify(self, requirement_or_candidate: Req | Cand) -> str:
        x = requirement_or_candidate
        if isinstance(x, PackageRequirement):
            return extras_id(x.dep.name, x.dep.extras) if x.dep.extras else x.dep.name
        if isinstance(x, (UnifyRequirement, UnifyValue)):
            return unify_id(x.feature)
        if isinstance(x, ExactRequirement):
            return x.candidate.name
        if isinstance(x, ExtrasCandidate):
            return extras_id(x.base.name, x.extras)
        return x.name

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Cand],
        candidates: Mapping[str, Iterator[Cand]],
        information: Mapping[str, Iterator[RequirementInformation]],
        backtrack_causes: Sequence[RequirementInformation],
    ) -> Any:
        infos = list(information[identifier])
        pinned = any(
            isinstance(i.requirement, ExactRequirement)
            or (isinstance(i.requirement, PackageRequirement) and i.requirement.dep.pins)
            for i in infos
        )
        is_root = any(i.parent is None for i in infos)
        in_conflict = any(self.identify(c.requirement) == identifier for c in backtrack_causes)
        is_unify = identifier.startswith("<unify")
        return (not is_unify, not pinned, not in_conflict, not is_root, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Cand]],
    ) -> list[Cand]:
        reqs = list(requirements[identifier])
        bad = set(incompatibilities[identifier])
        if identifier.startswith("<unify"):
            feature = next(r.feature for r in reqs)
            allowed = set.intersection(*(set(r.values) for r in reqs)) if reqs else set()
            order = self.finder.value_order(feature)
            ranked = sorted(allowed, key=lambda v: (order.index(v) if v in order else len(order), v))
            return [c for c in (UnifyValue(feature, v) for v in ranked) if c not in bad]
        name = identifier.split("[", 1)[0]
        extras = frozenset(identifier[len(name) + 1 : -1].split(",")) if "[" in identifier else frozenset()
        # The yanked and pre-release policies read all requirements on the package together.
        deps = [r.dep for r in reqs if isinstance(r, PackageRequirement)]
        out: list[Cand] = []
        seen_versions = set()
        for cand in self.finder.candidates(name):
            if self.one_per_version:
                # The status quo sees only the best file of each version.
                if cand.version in seen_versions:
                    continue
                seen_versions.add(cand.version)
            wrapped: Cand = ExtrasCandidate(cand, extras) if extras else cand
            if wrapped in bad:
                continue
            if all(self.is_satisfied_by(r, wrapped) for r in reqs) and self.finder.admissible(cand, deps):
                out.append(wrapped)
        return out

    def is_satisfied_by(self, requirement: Req, candidate: Cand) -> bool:
        if isinstance(requirement, UnifyRequirement):
            return isinstance(candidate, UnifyValue) and candidate.value in requirement.values
        base = candidate.base if isinstance(candidate, ExtrasCandidate) else candidate
        if not isinstance(base, Candidate):
            return False
        if isinstance(requirement, ExactRequirement):
            return base is requirement.candidate
        # The policies were applied by find_matches, which sees every requirement on the package.
        return self.finder.satisfies(requirement.dep, base)

    def get_dependencies(self, candidate: Cand) -> Iterable[Req]:
        if isinstance(candidate, UnifyValue):
            return []
        if isinstance(candidate, ExtrasCandidate):
            deps = [ExactRequirement(candidate.base)]
            deps += [PackageRequirement(d) for d in self.finder.dependencies(candidate.base, candidate.extras)]
            return deps
        out: list[Req] = [PackageRequirement(d) for d in self.finder.dependencies(candidate)]
        for dep in list(out):
            if isinstance(dep, PackageRequirement) and dep.dep.extras:
                # name[extra] pins the same candidate as the plain name.
                out.append(PackageRequirement(Dependency(dep.dep.name, dep.dep.specifiers, frozenset(), dep.dep.text, dep.dep.url)))
        for feature in self.unify:
            values = candidate.feature_values(feature)
            if values is not None:
                out.append(UnifyRequirement(feature, frozenset(values), candidate))
        return out


class _CountingReporter(BaseReporter):
    def __init__(self) -> None:
        self.rounds = 0
        self.backtracks = 0
        self.rejected = 0

    def starting_round(self, index: int) -> None:
        self.rounds = index + 1

    def resolving_conflicts(self, causes: Any) -> None:
        self.backtracks += 1

    def rejecting_candidate(self, criterion: Any, candidate: Any) -> None:
        self.rejected += 1


class _ResolvelibStrategy:
    name = ""
    complete = False
    one_per_version = False
    use_unify = True

    def solve(self, problem: Problem) -> Resolution:
        start = time.perf_counter()
        finder = CandidateFinder(problem)
        unify = problem.options.unify if self.use_unify else ()
        provider = _Provider(finder, self.one_per_version, unify)
        reporter = _CountingReporter()
        roots = [PackageRequirement(Dependency.from_requirement(r)) for r in problem.root_requirements()]
        for r in list(roots):
            if r.dep.extras:
                roots.append(PackageRequirement(Dependency(r.dep.name, r.dep.specifiers, frozenset(), r.dep.text)))
        resolution = Resolution(self.name, satisfiable=False)
        try:
            result = Resolver(provider, reporter).resolve(roots, max_rounds=MAX_ROUNDS)
        except ResolutionImpossible as exc:
            resolution.explanation = explain_conflict(finder, exc.causes, one_per_version=self.one_per_version)
        except ResolutionTooDeep:
            resolution.explanation = f"gave up after {MAX_ROUNDS} rounds of backtracking"
            resolution.stats["too_deep"] = True
        else:
            resolution.satisfiable = True
            reachable = _reachable(result.graph)
            for key, cand in result.mapping.items():
                if key not in reachable:
                    continue
                if isinstance(cand, Candidate):
                    resolution.packages[cand.name] = Pin(cand.version, cand.label, cand.file.filename)
                elif isinstance(cand, UnifyValue):
                    resolution.unified[str(cand.feature)] = cand.value
        resolution.stats.update(
            seconds=round(time.perf_counter() - start, 6),
            rounds=reporter.rounds,
            backtracks=reporter.backtracks,
            rejected=reporter.rejected,
            candidates=finder.stats["candidates"],
        )
        return resolution


class StatusQuo(_ResolvelibStrategy):
    name = "pep825"
    complete = False
    one_per_version = True
    use_unify = False


class Backtrack(_ResolvelibStrategy):
    name = "backtrack"
    complete = True
    one_per_version = False
    use_unify = True


def _reachable(graph: Any) -> set[str]:
    """Identifiers reachable from the root: resolvelib may keep pins nothing requires any more."""
    seen: set[str] = set()
    stack = list(graph.iter_children(None))
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        stack.extend(graph.iter_children(key))
    return seen
