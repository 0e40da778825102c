"""Why the ``sat`` strategy found no resolution: a minimal unsatisfiable set of constraint
groups, rendered as a short derivation a person can follow.

The groups are the root's requirements, the dependencies of a release, "one candidate per
package", "a unified feature takes one value" and the yanked and pre-release policies; the facts
about candidates (which variants a release has, which properties they declare) are not groups,
they are what the derivation quotes. For example::

    the root requires numpy
    the root requires scipy
    numpy 2.3.0 has only the mkl variant (blas_lapack :: library :: mkl)
    scipy 1.16.0 has only the openblas variant (blas_lapack :: library :: openblas)
    blas_lapack :: library must take one value across the environment

The sentences about candidates are shared with the ``backtrack`` explanation
(:func:`varsolve.explain.explain_conflict`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from packaging.version import Version

from packaging.utils import canonicalize_name

from .candidates import Candidate, CandidateFinder, Dependency
from .variants.properties import ABI_DEPENDENCY, VariantFeature

if TYPE_CHECKING:
    from pysat.formula import IDPool

    from .strategies.sat_encoding import Formula, Group
    from .strategies.sat_universe import Requirement, Universe

MAX_VERSIONS = 3  # versions named in one sentence before "and N older versions"

# Groups tried for removal first end up in the explanation least often: dependencies are
# dropped before the policies, the root's requirements and the rules that tie packages together.
_REMOVAL_ORDER = {"dep": 0, "prerelease": 1, "yanked": 2, "one": 3, "root": 4, "unify": 5}


# -- minimal unsatisfiable subset -------------------------------------------------------------
def minimal_unsatisfiable_groups(formula: Formula, pool: IDPool, stats: dict, solver: str) -> list[Group]:
    """A subset-minimal set of groups whose clauses, with every fact, are unsatisfiable
    (deletion-based, pysat's MUSX over one selector literal per group)."""
    from pysat.examples.musx import MUSX
    from pysat.formula import WCNF

    groups = sorted(formula.groups.values(), key=lambda g: (_REMOVAL_ORDER[g.kind], g.key))
    selector = {g.key: pool.id(("select",) + g.key) for g in groups}
    wcnf = WCNF()
    for key, clause in formula.hard:
        wcnf.append(clause if key is None else clause + [-selector[key]])
    for group in groups:
        wcnf.append([selector[group.key]], weight=1)
    with MUSX(wcnf, solver=solver, verbosity=0) as musx:
        oracle_solve = musx.oracle.solve

        def counted(*args, **kwargs):
            stats["sat_calls"] += 1
            return oracle_solve(*args, **kwargs)

        musx.oracle.solve = counted
        indices = musx.compute()
    if indices is None:  # the facts alone are contradictory: cannot happen, they are implications
        raise AssertionError("no unsatisfiable core although the formula is unsatisfiable")
    return [groups[i - 1] for i in sorted(indices)]


def explain_unsatisfiable(
    finder: CandidateFinder, universe: Universe, formula: Formula, pool: IDPool, stats: dict, solver: str
) -> str:
    groups = minimal_unsatisfiable_groups(formula, pool, stats, solver)
    stats["explanation_groups"] = len(groups)
    return render(finder, formula, groups)


# -- rendering --------------------------------------------------------------------------------
def render(finder: CandidateFinder, formula: Formula, groups: Sequence[Group]) -> str:
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

    lines: list[str] = []
    order: list[str] = []  # packages in the order the derivation brings them in
    for target, req_lines in _requirement_lines(finder, formula, groups, domain):
        lines.extend(req_lines)
        if target not in order:
            order.append(target)
    for name in order:
        lines.extend(_facts(name, domain.get(name, []), unified))
    for group in groups:
        if group.kind == "yanked":
            cand = group.candidates[0]
            lines.append(f"{cand.name} {cand.version} is yanked and no requirement that applies pins it with ==")
        elif group.kind == "prerelease":
            cand = group.candidates[0]
            final = group.key[3]
            lines.append(
                f"{cand.name} {cand.version} is a pre-release: no requirement on {cand.name} names one"
                f" and {cand.name} {final} satisfies them all"
            )
    for group in groups:
        if group.kind == "one" and group.package is not None:
            versions = {c.version for c in domain.get(group.package, group.candidates)}
            what = "version" if len(versions) > 1 else "file"
            lines.append(f"only one {what} of {group.package} can be installed")
    for feature in unified:
        lines.append(unify_rule(feature))
    return "\n".join(_unique(lines))


def _requirement_lines(
    finder: CandidateFinder, formula: Formula, groups: Sequence[Group], domain: dict[str, list[Candidate]]
) -> list[tuple[str, list[str]]]:
    """Requirements in derivation order: the root's, then each package's after the line that
    brought it in; dependencies shared by several releases are one sentence. Returns the
    required package and the lines of each."""
    from .explain import why_no_candidate

    roots = sorted((g for g in groups if g.kind == "root"), key=lambda g: g.key)
    deps = [g for g in groups if g.kind == "dep"]
    merged: dict[tuple, list[Requirement]] = {}
    for group in deps:
        first = group.requirements[0]
        who = _who(finder, [r.parent for r in group.requirements])
        key = (first.parent.name, _qualifier(who), first.extra or "", dependency_text(first.dep, first.parent))
        merged.setdefault(key, []).extend(group.requirements)
    placed: set[str] = set()
    out: list[tuple[str, list[str]]] = []

    def emit(text: str, reqs: list[Requirement]) -> None:
        lines = [text]
        dep = reqs[0].dep
        usable = [c for r in reqs for c in formula.matching.get(r, []) if c not in formula.excluded]
        if not usable and not any(r in formula.hidden for r in reqs):
            lines.append(why_no_candidate(finder, dep))
        out.append((dep.name, lines))
        placed.add(dep.name)

    for group in roots:
        req = group.requirements[0]
        emit(f"the root requires {req.dep}", [req])
    pending = sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][3]))
    while pending:
        ready = next((i for i, (k, _) in enumerate(pending) if k[0] in placed), 0)
        key, reqs = pending.pop(ready)
        parents = _unique_candidates(r.parent for r in reqs)
        subject = parents_phrase(finder, parents, domain.get(key[0]))
        verb = requires_verb(parents)
        extra = f" with extra {key[2]}" if key[2] else ""
        emit(f"{subject}{extra} {verb} {dependency_text(reqs[0].dep, reqs[0].parent)}", reqs)
    return out


def dependency_text(dep: Dependency, parent: Candidate | None) -> str:
    """The requirement as written; for an ``abi_dependency`` the property it comes from."""
    text = str(dep)
    suffix = f" (abi_dependency of {parent.describe()})" if parent is not None else ""
    if not suffix or not text.endswith(suffix):
        return text
    props = [
        f"{ABI_DEPENDENCY} :: {feature} :: {value}"
        for feature, values in sorted(parent.properties.get(ABI_DEPENDENCY, {}).items())
        if canonicalize_name(feature.replace("_", "-")) == dep.name
        for value in values
    ]
    return f"{text[: -len(suffix)]} ({', '.join(props)})"


def _facts(name: str, cands: list[Candidate], unified: list[VariantFeature]) -> list[str]:
    """What the candidates left of ``name`` declare for the unified features in the set;
    releases that offer the same are one sentence."""
    if not unified or not any(c.feature_values(f) is not None for c in cands for f in unified):
        return []
    by_version: dict[Version, list[Candidate]] = {}
    for cand in cands:
        by_version.setdefault(cand.version, []).append(cand)
    by_offer: dict[str, list[Version]] = {}
    for version, group in by_version.items():
        by_offer.setdefault(_offer(group, unified), []).append(version)
    return [
        f"{name} {_versions(versions)} {'has' if len(versions) == 1 else 'have'} {offer}"
        for offer, versions in by_offer.items()
    ]


def offer_sentence(cands: Sequence[Candidate], features: Sequence[VariantFeature]) -> str:
    """``numpy 2.3.0 has only the mkl variant (blas_lapack :: library :: mkl)``: the files of one
    release and the values they declare for ``features``."""
    return f"{cands[0].name} {cands[0].version} has {_offer(cands, features)}"


def _offer(cands: Sequence[Candidate], features: Sequence[VariantFeature]) -> str:
    phrases = [f"{file_phrase(c)}{_declared(c, features)}" for c in cands]
    if len(phrases) == 1:
        return f"only {phrases[0]}"
    return f"{', '.join(phrases[:-1])} and {phrases[-1]}"


def _versions(versions: Sequence[Version]) -> str:
    """``2.0``, ``2.0 and 1.0``, ``2.0, 1.9, 1.8 and 4 older versions`` (newest first)."""
    versions = sorted(versions, reverse=True)
    if len(versions) == 1:
        return str(versions[0])
    if len(versions) <= MAX_VERSIONS + 1:
        return f"{', '.join(map(str, versions[:-1]))} and {versions[-1]}"
    return f"{', '.join(map(str, versions[:MAX_VERSIONS]))} and {len(versions) - MAX_VERSIONS} older versions"


def unify_rule(feature: VariantFeature) -> str:
    return f"{feature} must take one value across the environment"


def file_phrase(cand: Candidate) -> str:
    if cand.label is None:
        return "the sdist"
    if cand.label == "":
        return "the non-variant wheel"
    return f"the {cand.label} variant"


def _declared(cand: Candidate, features: Sequence[VariantFeature]) -> str:
    props = [f"{f} :: {v}" for f in features for v in (cand.feature_values(f) or ())]
    return f" ({', '.join(props)})" if props else ""


def _who(finder: CandidateFinder, parents: Sequence[Candidate | None]) -> str:
    """``a 1.0`` when every file of the release has the dependency, else ``a 1.0 [mkl]``."""
    cands = _unique_candidates(parents)
    first = cands[0]
    release_files = [c for c in finder.release_candidates(first.release)]
    if len(cands) == len(release_files):
        return f"{first.name} {first.version}"
    return f"{first.name} {first.version} [{', '.join(_label(c) for c in cands)}]"


def _qualifier(who: str) -> str:
    return who[who.index("[") :] if "[" in who else ""


def _label(cand: Candidate) -> str:
    return {None: "sdist", "": "non-variant wheel"}.get(cand.label, cand.label or "")


def parents_phrase(finder: CandidateFinder, parents: list[Candidate], domain: list[Candidate] | None = None) -> str:
    """``a 2.0``, ``a 2.0 and 1.0``, ``a 2.0, 1.9, 1.8 and 4 older versions`` (plus the label
    qualifier of :func:`_who` when only some files of a release have the dependency)."""
    first = parents[0]
    qualifier = _qualifier(_who(finder, [c for c in parents if c.version == first.version]))
    versions = {c.version for c in parents}
    text = f"{first.name} {_versions(list(versions))}"
    if domain and len(versions) > 1 and {c.version for c in domain} <= set(versions):
        text += " (every version that fits)"
    return f"{text} {qualifier}".rstrip()


def requires_verb(parents: Sequence[Candidate]) -> str:
    return "requires" if len({c.version for c in parents}) == 1 else "require"


def _unique_candidates(cands: Iterable[Candidate | None]) -> list[Candidate]:
    out: list[Candidate] = []
    for cand in cands:
        if cand is not None and cand not in out:
            out.append(cand)
    return out


def _unique(lines: list[str]) -> list[str]:
    seen: set[str] = set()
    return [line for line in lines if not (line in seen or seen.add(line))]
