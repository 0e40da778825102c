"""Why the ``sat`` strategy found no resolution: a minimal unsatisfiable set of constraint
groups (computed by the strategy), rendered as a short derivation a person can follow.

The groups are the root's requirements, the dependencies of a release, "one candidate per
package", "a unified feature takes one value" and the yanked and pre-release policies; the facts
about candidates (which variants a release has, which properties they declare) are not groups,
they are what the derivation quotes. For example::

    the root requires numpy
    the root requires scipy
    numpy 2.3.0 has only the mkl variant (blas_lapack :: library :: mkl)
    scipy 1.16.0 has only the openblas variant (blas_lapack :: library :: openblas)
    blas_lapack :: library must take one value across the environment

What this module reads of the strategy's encoding is declared by the protocols below, so that it
does not depend on the strategy.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import Protocol, TypeVar

from packaging.version import Version

from ..candidates import Candidate, CandidateFinder, Dependency
from ..resolution import Explanation, Step
from ..variants.properties import VariantFeature
from .sentences import (
    dependency_text,
    offer_phrase,
    parents_phrase,
    qualifier,
    requires_verb,
    unify_rule,
    unique_candidates,
    versions_phrase,
    who,
)
from .unusable import why_no_candidate


class CoreRequirement(Hashable, Protocol):
    """``dep`` as required by the root (``parent`` None) or by ``parent`` through ``extra``."""

    @property
    def dep(self) -> Dependency: ...
    @property
    def parent(self) -> Candidate | None: ...
    @property
    def extra(self) -> str | None: ...


# The encoding's requirement type: explain_core reads a formula and groups of one encoding.
R = TypeVar("R", bound=CoreRequirement)
R_co = TypeVar("R_co", bound=CoreRequirement, covariant=True)


class CoreGroup(Protocol[R_co]):
    """A constraint group: ``kind`` is ``root``, ``dep``, ``one``, ``unify``, ``yanked``,
    ``prerelease`` or ``rejected``; ``key`` orders groups deterministically (for ``prerelease``
    its fourth item is the final release that satisfies every requirement, for ``rejected`` its
    fifth the reason the candidate cannot be used)."""

    @property
    def kind(self) -> str: ...
    @property
    def key(self) -> tuple[str, ...]: ...
    @property
    def requirements(self) -> Sequence[R_co]: ...
    @property
    def package(self) -> str | None: ...
    @property
    def feature(self) -> VariantFeature | None: ...
    @property
    def candidates(self) -> Sequence[Candidate]: ...


class CoreFormula(Protocol[R]):
    """What the encoding knows of the requirements: the candidates each one matches, the
    candidates a policy excludes, and the requirements a release not read yet may meet."""

    @property
    def matching(self) -> Mapping[R, Sequence[Candidate]]: ...
    @property
    def excluded(self) -> Collection[Candidate]: ...
    @property
    def hidden(self) -> Collection[R]: ...


def explain_core(finder: CandidateFinder, formula: CoreFormula[R], groups: Sequence[CoreGroup[R]]) -> Explanation:
    reqs = [r for g in groups if g.kind in ("root", "dep") for r in g.requirements]
    # What the requirements in the set leave of each package they name.
    domain: dict[str, list[Candidate]] = {}
    for req in reqs:
        for cand in formula.matching.get(req, []):
            if cand not in domain.setdefault(req.dep.name, []):
                domain[req.dep.name].append(cand)
    for cands in domain.values():
        cands.sort(key=lambda c: (c.version, -c.rank), reverse=True)
    unified = [g.feature for g in groups if g.kind == "unify" and g.feature is not None]

    steps: list[Step] = []
    order: list[str] = []  # packages in the order the derivation brings them in
    for target, req_steps in _requirement_steps(finder, formula, groups, domain):
        steps.extend(req_steps)
        if target not in order:
            order.append(target)
    for name in order:
        steps.extend(_facts(name, domain.get(name, []), unified))
    for group in groups:
        if group.kind == "yanked":
            cand = group.candidates[0]
            text = f"{cand.name} {cand.version} is yanked and no requirement that applies pins it with =="
            if len(group.key) == 4:  # pip: a release that is not yanked satisfies them all
                text = f"{cand.name} {cand.version} is yanked and {cand.name} {group.key[3]}, which is not, satisfies them all"
            steps.append(Step("policy", text, (cand.name,)))
        elif group.kind == "rejected":
            steps.append(Step("no-candidate", str(group.key[4]), (group.candidates[0].name,)))
        elif group.kind == "prerelease":
            cand = group.candidates[0]
            final = group.key[3]
            text = (
                f"{cand.name} {cand.version} is a pre-release: no requirement on {cand.name} names one"
                f" and {cand.name} {final} satisfies them all"
            )
            steps.append(Step("policy", text, (cand.name,)))
    for group in groups:
        if group.kind == "one" and group.package is not None:
            versions = {c.version for c in domain.get(group.package, group.candidates)}
            what = "version" if len(versions) > 1 else "file"
            steps.append(Step("rule", f"only one {what} of {group.package} can be installed", (group.package,)))
    for feature in unified:
        steps.append(Step("rule", unify_rule(feature), (), str(feature)))
    return Explanation.of(steps)


def _requirement_steps(
    finder: CandidateFinder, formula: CoreFormula[R], groups: Sequence[CoreGroup[R]], domain: dict[str, list[Candidate]]
) -> list[tuple[str, list[Step]]]:
    """Requirements in derivation order: the root's, then each package's after the step that
    brought it in; dependencies shared by several releases are one sentence. Returns the
    required package and the steps of each."""
    roots = sorted((g for g in groups if g.kind == "root"), key=lambda g: g.key)
    deps = [g for g in groups if g.kind == "dep"]
    merged: dict[tuple[str, str, str, str], list[R]] = {}
    for group in deps:
        first = group.requirements[0]
        assert first.parent is not None  # a dependency group is a release's dependency
        group_parents = [r.parent for r in group.requirements]
        key: tuple[str, str, str, str] = (
            first.parent.name, qualifier(who(finder, group_parents)), first.extra or "", dependency_text(first.dep, first.parent)
        )
        merged.setdefault(key, []).extend(group.requirements)
    placed: set[str] = set()
    out: list[tuple[str, list[Step]]] = []

    def emit(step: Step, reqs: Sequence[R]) -> None:
        steps = [step]
        dep = reqs[0].dep
        usable = [c for r in reqs for c in formula.matching.get(r, []) if c not in formula.excluded]
        if not usable and not any(r in formula.hidden for r in reqs):
            steps.append(Step("no-candidate", why_no_candidate(finder, dep), (dep.name,)))
        out.append((dep.name, steps))
        placed.add(dep.name)

    for group in roots:
        req = group.requirements[0]
        emit(Step("root", f"the root requires {req.dep}", (req.dep.name,)), [req])
    pending = sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][3]))
    while pending:
        ready = next((i for i, (k, _) in enumerate(pending) if k[0] in placed), 0)
        key, reqs = pending.pop(ready)
        parents = unique_candidates(r.parent for r in reqs)
        subject = parents_phrase(finder, parents, domain.get(key[0]))
        verb = requires_verb(parents)
        extra = f" with extra {key[2]}" if key[2] else ""
        text = f"{subject}{extra} {verb} {dependency_text(reqs[0].dep, reqs[0].parent)}"
        emit(Step("requires", text, (key[0], reqs[0].dep.name)), reqs)
    return out


def _facts(name: str, cands: list[Candidate], unified: list[VariantFeature]) -> list[Step]:
    """What the candidates left of ``name`` declare for the unified features in the set;
    releases that offer the same are one sentence."""
    if not unified or not any(c.feature_values(f) is not None for c in cands for f in unified):
        return []
    by_version: dict[Version, list[Candidate]] = {}
    for cand in cands:
        by_version.setdefault(cand.version, []).append(cand)
    by_offer: dict[str, list[Version]] = {}
    for version, group in by_version.items():
        by_offer.setdefault(offer_phrase(group, unified), []).append(version)
    feature = str(unified[0]) if len(unified) == 1 else None
    return [
        Step("offers", f"{name} {versions_phrase(versions)} {'has' if len(versions) == 1 else 'have'} {offer}", (name,), feature)
        for offer, versions in by_offer.items()
    ]
