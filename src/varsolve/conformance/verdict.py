"""An installer's answer, verified and compared with varsolve's strategies, and why it differs.

The installer's choice becomes a :class:`~varsolve.resolution.Resolution` that goes through the
independent verifier like any strategy's. Two answers are the same when both have no solution
or both install the same files. A difference is attributed from evidence, installer first:

``markers``    the installer refused a release's metadata over a variant marker (uv 0.13.9)
``metadata``   it refused a release's metadata for another reason (uv 0.13.9: a ``*-variants.json``
               it cannot parse, such as published 0.0.3-era files: the whole version)
``unaware``    it has no variant support: non-variant wheels only (pip)
``optional``   the target enables an optional provider the installer cannot enable
``abi``        it calls ``abi_dependency`` variants unsupported
then what the status quo itself does:
``no-unify``   a unified feature takes two values in its result
``no-variant-backtracking``  no solution, or another variant of the same versions, where a
               complete strategy finds one (the variant is fixed before the dependencies)
``other-optimum``  a valid, consistent result with other versions than a complete strategy's
``unexplained``    differs from varsolve's ``pep825`` with none of the above: a bug in the
               status-quo model or an installer deviation nobody has described yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from packaging.utils import NormalizedName

from ..errors import InputError, InvalidVariantMetadata
from ..problem import Problem
from ..repository import Release
from ..resolution import Pin, Resolution
from ..variants.metadata import VariantMetadata
from ..variants.properties import ABI_DEPENDENCY
from .installers import Installer, Outcome

__all__ = ["Reason", "Verdict", "diagnose", "installer_resolution", "summary_of", "verify_outcome"]

PinSummary = dict[str, tuple[str, str]]  # name -> (version, filename)


@dataclass(frozen=True)
class Reason:
    code: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text}


@dataclass(frozen=True)
class Verdict:
    """The installer's verified result against every strategy's."""

    resolution: Resolution | None  # None: the installer failed (an error row)
    same: Mapping[str, bool | None]  # strategy -> same answer (None: no installer answer)
    reasons: tuple[Reason, ...]


def installer_resolution(name: str, outcome: Outcome) -> Resolution:
    """The installer's choice as a resolution (unsatisfiable: its own reason as explanation)."""
    from ..resolution import Explanation, Step

    if outcome.status != "ok":
        return Resolution(name, False, explanation=Explanation.of([Step("limit", outcome.message or "no solution")]))
    packages: dict[str, Pin] = {}
    for chosen in outcome.pins:
        packages[chosen.name] = Pin(chosen.version, _variant_of(chosen.filename), chosen.filename)
    return Resolution(name, True, packages)


def _variant_of(filename: str) -> str | None:
    if not filename.endswith(".whl"):
        return None
    from ..variants.filenames import parse_wheel

    try:
        return parse_wheel(filename).label or ""
    except InputError:
        return ""  # the verifier reports that no such file exists


def verify_outcome(problem: Problem, name: str, outcome: Outcome) -> Resolution:
    from ..verifier import verify

    resolution = installer_resolution(name, outcome)
    return resolution.with_violations(verify(problem, resolution))


def summary_of(resolution: Resolution) -> PinSummary | None:
    if not resolution.satisfiable:
        return None
    return {name: (str(pin.version), pin.filename) for name, pin in sorted(resolution.packages.items())}


def diagnose(
    problem: Problem,
    installer: Installer,
    outcome: Outcome,
    resolution: Resolution,
    strategies: Mapping[str, Resolution],
    complete: Sequence[str],
) -> Verdict:
    """Compare ``resolution`` (the installer's, verified) with each strategy's and say why it
    differs (module docs)."""
    mine = summary_of(resolution)
    same = {name: summary_of(other) == mine for name, other in strategies.items()}
    unify = [v for v in resolution.violations if v.kind == "unify"]
    differs = not all(same.values()) or bool(unify)
    if not differs:
        return Verdict(resolution, same, ())
    reasons: list[Reason] = []
    for rejection in outcome.rejected:
        instead = f"; took {rejection.name} {rejection.instead} instead" if rejection.instead else ""
        if rejection.filename and rejection.filename.endswith("-variants.json"):
            detail = rejection.reason.removeprefix(f"Failed to parse variant metadata `{rejection.filename}`: ")
            reasons.append(Reason("metadata", (
                f"variant metadata rejected: {rejection.name} {rejection.version} ({rejection.filename}: {detail})"
                f"{instead}"
            )))
            continue
        label = _variant_of(rejection.filename) if rejection.filename else None
        release = f"{rejection.name} {rejection.version}" + (f" [{label}]" if label else "")
        if rejection.marker:
            reasons.append(Reason(
                "markers",
                f"variant markers unsupported: {release} rejected as invalid metadata (`{rejection.marker}`){instead}",
            ))
        else:
            reasons.append(Reason("metadata", f"metadata rejected: {release}: {rejection.reason}{instead}"))
    pep825 = strategies.get("pep825")
    if not installer.variant_aware:
        reasons.append(Reason("unaware", "variant-unaware: non-variant wheels only"))
    if installer.variant_aware and not installer.enables_optional and pep825 is not None and not same.get("pep825", True):
        for ns in sorted(_enabled_optional_namespaces_used(problem, pep825)):
            reasons.append(Reason("optional", f"optional provider {ns} cannot be enabled"))
    for name in outcome.unsupported_variants:
        if _uses_abi_dependency(problem, name):
            reasons.append(Reason("abi", f"abi_dependency variants unsupported: {name}"))
    specific = bool(reasons)
    for violation in unify:
        packages = ", ".join(f"{p} [{resolution.packages[p].variant}]" for p in violation.packages if p in resolution.packages)
        reasons.append(Reason("no-unify", f"no unification: {violation.feature} mixed ({packages})"))
    if not specific:
        if pep825 is not None and not same.get("pep825", True):
            reasons.append(Reason("unexplained", "differs from varsolve's pep825 for no known reason"))
        elif not unify:  # the status quo's answer: its own limits explain the rest
            reasons += _status_quo_reasons(resolution, strategies, complete, same)
    return Verdict(resolution, same, tuple(dict.fromkeys(reasons)))


def _status_quo_reasons(
    resolution: Resolution, strategies: Mapping[str, Resolution], complete: Sequence[str], same: Mapping[str, bool]
) -> list[Reason]:
    """Why a result differs from the complete strategies', when the installer did nothing
    else wrong: the status quo's own limits (one reason per difference, strategies merged).
    The texts hold ``{has}``/``{finds}``, filled with the strategies' names."""
    found: dict[tuple[str, str], list[str]] = {}
    for name in complete:
        other = strategies.get(name)
        if other is None or same.get(name, True) or not other.satisfiable:
            continue
        if not resolution.satisfiable:
            key = ("no-variant-backtracking", "no backtracking across variants: no solution where {finds} one")
            found.setdefault(key, []).append(name)
            continue
        shared = sorted(set(resolution.packages) & set(other.packages))
        mine, theirs = resolution.packages, other.packages
        if all(mine[p].version == theirs[p].version for p in shared):
            changed = [f"{p} [{mine[p].variant}] where {{has}} [{theirs[p].variant}]"
                       for p in shared if mine[p].variant != theirs[p].variant]
            key = ("no-variant-backtracking", "no backtracking across variants: " + ", ".join(changed))
        else:
            changed = [f"{p} {mine[p].version} where {{has}} {theirs[p].version}"
                       for p in shared if mine[p].version != theirs[p].version]
            key = ("other-optimum", "another resolution, not the optimum: " + ", ".join(changed))
        found.setdefault(key, []).append(name)
    out = []
    for (code, text), names in found.items():
        subject, plural = " and ".join(names), len(names) > 1
        has = f"{subject} {'have' if plural else 'has'}"
        finds = f"{subject} {'find' if plural else 'finds'}"
        out.append(Reason(code, text.format(has=has, finds=finds)))
    return out


def _enabled_optional_namespaces_used(problem: Problem, resolution: Resolution) -> set[str]:
    """Namespaces of optional providers the target enables that ``resolution``'s variants use."""
    used: set[str] = set()
    repo = problem.repository
    for name, pin in resolution.packages.items():
        if not pin.variant:
            continue
        release = next((r for r in repo.releases(NormalizedName(name)) if r.version == pin.version), None)
        metadata = _variant_metadata(problem, release) if release is not None else None
        if metadata is None or pin.variant not in metadata.variants:
            continue
        for ns in metadata.variants[pin.variant]:
            provider = metadata.providers.get(ns)
            if provider is not None and provider.optional and ns in problem.target.enabled:
                used.add(ns)
    return used


def _uses_abi_dependency(problem: Problem, name: NormalizedName) -> bool:
    repo = problem.repository
    for release in repo.releases(name):
        metadata = _variant_metadata(problem, release)
        if metadata is not None and any(ABI_DEPENDENCY in props for props in metadata.variants.values()):
            return True
    return False


def _variant_metadata(problem: Problem, release: Release) -> VariantMetadata | None:
    try:
        return problem.repository.variant_metadata(release)
    except InvalidVariantMetadata:
        return None
