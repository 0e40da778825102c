"""Phrases shared by every derivation: releases, files, what they declare, who requires what.

Both the ``backtrack`` conflict explanation (:mod:`.conflict`) and the ``sat`` unsatisfiable
core (:mod:`.unsat`) are written with these, so that the two read alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from packaging.utils import canonicalize_name
from packaging.version import Version

from ..candidates import Candidate, CandidateFinder, Dependency
from ..variants.properties import ABI_DEPENDENCY, VariantFeature

MAX_VERSIONS = 3  # versions named in one sentence before "and N older versions"


def dependency_text(dep: Dependency, parent: Candidate | None) -> str:
    """The requirement as written; for an ``abi_dependency`` the property it comes from."""
    text = str(dep)
    suffix = f" (abi_dependency of {parent.describe()})" if parent is not None else ""
    if parent is None or not suffix or not text.endswith(suffix):
        return text
    props = [
        f"{ABI_DEPENDENCY} :: {feature} :: {value}"
        for feature, values in sorted(parent.properties.get(ABI_DEPENDENCY, {}).items())
        if canonicalize_name(feature.replace("_", "-")) == dep.name
        for value in values
    ]
    return f"{text[: -len(suffix)]} ({', '.join(props)})"


def offer_sentence(cands: Sequence[Candidate], features: Sequence[VariantFeature]) -> str:
    """``numpy 2.3.0 has only the mkl variant (blas_lapack :: library :: mkl)``: the files of one
    release and the values they declare for ``features``."""
    return f"{cands[0].name} {cands[0].version} has {offer_phrase(cands, features)}"


def offer_phrase(cands: Sequence[Candidate], features: Sequence[VariantFeature]) -> str:
    phrases = [f"{file_phrase(c)}{declared_phrase(c, features)}" for c in cands]
    if len(phrases) == 1:
        return f"only {phrases[0]}"
    return f"{', '.join(phrases[:-1])} and {phrases[-1]}"


def versions_phrase(versions: Sequence[Version]) -> str:
    """``2.0``, ``2.0 and 1.0``, ``2.0, 1.9, 1.8 and 4 older versions`` (newest first)."""
    ordered = sorted(versions, reverse=True)
    if len(ordered) == 1:
        return str(ordered[0])
    if len(ordered) <= MAX_VERSIONS + 1:
        return f"{', '.join(map(str, ordered[:-1]))} and {ordered[-1]}"
    return f"{', '.join(map(str, ordered[:MAX_VERSIONS]))} and {len(ordered) - MAX_VERSIONS} older versions"


def unify_rule(feature: VariantFeature) -> str:
    return f"{feature} must take one value across the environment"


def file_phrase(cand: Candidate) -> str:
    if cand.label is None:
        return "the sdist"
    if cand.label == "":
        return "the non-variant wheel"
    return f"the {cand.label} variant"


def declared_phrase(cand: Candidate, features: Sequence[VariantFeature]) -> str:
    props = [f"{f} :: {v}" for f in features for v in (cand.feature_values(f) or ())]
    return f" ({', '.join(props)})" if props else ""


def who(finder: CandidateFinder, parents: Sequence[Candidate | None]) -> str:
    """``a 1.0`` when every file of the release has the dependency, else ``a 1.0 [mkl]``."""
    cands = unique_candidates(parents)
    first = cands[0]
    release_files = finder.release_candidates(first.release)
    if len(cands) == len(release_files):
        return f"{first.name} {first.version}"
    return f"{first.name} {first.version} [{', '.join(label_phrase(c) for c in cands)}]"


def qualifier(who_text: str) -> str:
    """The ``[mkl]`` part of a :func:`who` phrase, ``""`` when there is none."""
    return who_text[who_text.index("[") :] if "[" in who_text else ""


def label_phrase(cand: Candidate) -> str:
    return {None: "sdist", "": "non-variant wheel"}.get(cand.label, cand.label or "")


def parents_phrase(finder: CandidateFinder, parents: Sequence[Candidate], domain: Sequence[Candidate] | None = None) -> str:
    """``a 2.0``, ``a 2.0 and 1.0``, ``a 2.0, 1.9, 1.8 and 4 older versions`` (plus the label
    qualifier of :func:`who` when only some files of a release have the dependency)."""
    first = parents[0]
    label = qualifier(who(finder, [c for c in parents if c.version == first.version]))
    versions = {c.version for c in parents}
    text = f"{first.name} {versions_phrase(list(versions))}"
    if domain and len(versions) > 1 and {c.version for c in domain} <= versions:
        text += " (every version that fits)"
    return f"{text} {label}".rstrip()


def requires_verb(parents: Sequence[Candidate]) -> str:
    return "requires" if len({c.version for c in parents}) == 1 else "require"


def unique_candidates(cands: Iterable[Candidate | None]) -> list[Candidate]:
    out: list[Candidate] = []
    for cand in cands:
        if cand is not None and cand not in out:
            out.append(cand)
    return out
