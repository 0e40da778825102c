"""The final conflict of a backtracking search, as a derivation in the style of the ``sat``
explanations (:mod:`.unsat`): the root's requirements, the dependencies (one sentence for
several releases), why nothing fits, what the releases offer for a unified feature, and the rule
that feature must obey.

Strategies feed it structured causes (:class:`RequirementCause`, :class:`ExactCause`,
:class:`UnifyCause`), not their search engine's own types, so this package depends on no
strategy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..candidates import Candidate, CandidateFinder, Dependency
from ..resolution import Explanation, Step
from ..variants.properties import VariantFeature
from .sentences import dependency_text, offer_sentence, parents_phrase, requires_verb, unify_rule
from .unusable import why_no_candidate, why_no_common_candidate


@dataclass(frozen=True)
class RequirementCause:
    """``parent`` (None: the root; with ``parent_extras``: ``parent[extras]``) requires ``dep``."""

    dep: Dependency
    parent: Candidate | None = None
    parent_extras: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ExactCause:
    """``parent[parent_extras]`` needs exactly ``candidate`` (the extras of a candidate are that
    candidate plus the extras' dependencies)."""

    candidate: Candidate
    parent: Candidate
    parent_extras: frozenset[str]


@dataclass(frozen=True)
class UnifyCause:
    """``source`` declares ``feature``, which must take one value across the environment."""

    feature: VariantFeature
    source: Candidate


@dataclass(frozen=True)
class RejectedCause:
    """``candidate`` cannot be used: ``reason`` (its metadata is malformed or its build failed)."""

    candidate: Candidate
    reason: str


Cause = RequirementCause | ExactCause | UnifyCause | RejectedCause


def explain_conflict(finder: CandidateFinder, causes: Iterable[Cause], one_per_version: bool = False) -> Explanation:
    root_text: dict[str, str] = {r.name: r.text for r in finder.problem.root_requirements()}
    roots: list[str] = []  # root requirement texts, in order
    sources: dict[str, list[Candidate]] = {}  # unified feature -> candidates offering too little
    features: dict[str, VariantFeature] = {}
    merged: dict[tuple[str, str, str], list[Candidate]] = {}  # (target, parent name, text) -> parents
    other: dict[str, list[Step]] = {}  # target -> sentences about extras wrappers and exact pins
    deps: dict[str, list[Dependency]] = {}
    rejected: dict[str, list[Step]] = {}  # package -> why candidates of it could not be used
    for cause in causes:
        if isinstance(cause, UnifyCause):
            key = str(cause.feature)
            features[key] = cause.feature
            offering = sources.setdefault(key, [])
            if not any(c.release == cause.source.release for c in offering):
                offering.append(cause.source)
            if cause.source.name in root_text and root_text[cause.source.name] not in roots:
                roots.append(root_text[cause.source.name])
            continue
        if isinstance(cause, RejectedCause):
            rejected.setdefault(cause.candidate.name, []).append(Step("no-candidate", cause.reason, (cause.candidate.name,)))
            continue
        if isinstance(cause, ExactCause):
            target = cause.candidate.name
            text = f"{_with_extras(cause.parent, cause.parent_extras)} needs exactly {cause.candidate.describe()}"
            other.setdefault(target, []).append(Step("requires", text, (cause.parent.name, target)))
            continue
        target = cause.dep.name
        deps.setdefault(target, []).append(cause.dep)
        parent = cause.parent
        if parent is None:
            if (cause.dep.text or cause.dep.name) not in roots:
                roots.append(cause.dep.text or cause.dep.name)
        elif cause.parent_extras:
            text = f"{_with_extras(parent, cause.parent_extras)} requires {cause.dep.text or cause.dep.name}"
            other.setdefault(target, []).append(Step("requires", text, (parent.name, target)))
        else:
            group = merged.setdefault((target, parent.name, dependency_text(cause.dep, parent)), [])
            if parent not in group:
                group.append(parent)
            if parent.name in root_text and root_text[parent.name] not in roots:
                roots.append(root_text[parent.name])
    order = {text: i for i, text in enumerate(root_text.values())}
    steps = [
        Step("root", f"the root requires {text}", (_name_of(text, root_text),))
        for text in sorted(roots, key=lambda t: order.get(t, len(order)))
    ]
    for name in sorted(set(deps) | set(other) | set(rejected)):
        items = list(other.get(name, [])) + rejected.get(name, [])
        for (child, parent_name, text), parents in sorted(merged.items()):
            if child == name:
                sentence = f"{parents_phrase(finder, parents)} {requires_verb(parents)} {text}"
                items.append(Step("requires", sentence, (parent_name, name)))
        steps.extend(items)
        on_name = deps.get(name, [])
        if len({d.text for d in on_name}) > 1:
            steps.append(Step("no-candidate", why_no_common_candidate(finder, on_name), (name,)))
        elif on_name:
            if _has_candidates(finder, on_name[0]):
                steps.append(Step("no-candidate", f"no candidate of {name} fits the rest of the resolution", (name,)))
            else:
                steps.append(Step("no-candidate", why_no_candidate(finder, on_name[0]), (name,)))
        elif len(items) > 1:
            steps.append(Step("no-candidate", f"no candidate of {name} satisfies all of these", (name,)))
    for key in sorted(sources):
        for source in sources[key]:
            sentence = offer_sentence(finder.release_candidates(source.release), [features[key]])
            steps.append(Step("offers", sentence, (source.name,), key))
    steps.extend(Step("rule", unify_rule(features[key]), (), key) for key in sorted(sources))
    if one_per_version:
        steps.append(Step("rule", "(the status quo considers only the best wheel of each version)"))
    return Explanation.of(steps)


def _has_candidates(finder: CandidateFinder, dep: Dependency) -> bool:
    return any(finder.matches(dep, c) and finder.rejection(c) is None for c in finder.candidates(dep.name))


def _with_extras(parent: Candidate, extras: frozenset[str]) -> str:
    return f"{parent.describe()} with extras [{','.join(sorted(extras))}]"


def _name_of(text: str, root_text: dict[str, str]) -> str:
    return next((name for name, t in root_text.items() if t == text), text)
