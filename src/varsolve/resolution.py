"""The result of a strategy: what is installed (pins), why (the dependency graph), which value
each unified feature took, and, when there is no resolution, a derivation a person can follow.

Everything here is immutable data with a JSON form (:meth:`Resolution.to_json` /
:meth:`Resolution.from_json`), so that a result can be stored, sent to another process and
compared. ``Pin.variant`` is the label of a variant wheel, ``""`` for a non-variant wheel and
``None`` for an sdist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

from packaging.version import Version

__all__ = [
    "Edge",
    "Explanation",
    "Pin",
    "Resolution",
    "Step",
    "StepKind",
    "Violation",
    "ViolationKind",
]

ViolationKind = Literal[
    "unify",  # a unified feature takes two values (the status quo is allowed these)
    "requirement",  # a requirement is not met, or something is pinned that nothing requires
    "file",  # the pinned file does not exist, does not fit the target or is not allowed
    "variant",  # variant metadata missing, invalid or unsupported for the pinned label
    "abi",  # an abi_dependency property does not match the pinned distribution
    "policy",  # the yanked or pre-release policy forbids the pin
    "python",  # Requires-Python excludes the target
    "result",  # the result itself is malformed (e.g. unsatisfiable without a reason)
]

StepKind = Literal[
    "root",  # the root requires X
    "requires",  # a package (or several releases of it) requires X
    "no-candidate",  # why nothing of a package fits
    "offers",  # what the releases of a package declare for a unified feature
    "rule",  # a rule: one value per unified feature, one version per package
    "policy",  # the yanked or pre-release policy excludes a release
    "limit",  # the search gave up
]


@dataclass(frozen=True, slots=True)
class Pin:
    """One installed distribution: its version and the file chosen."""

    version: Version
    variant: str | None
    filename: str

    def to_dict(self) -> dict[str, Any]:
        return {"version": str(self.version), "variant": self.variant, "filename": self.filename}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pin:
        return cls(Version(data["version"]), data["variant"], data["filename"])


@dataclass(frozen=True, slots=True)
class Edge:
    """``parent`` (``None``: the root) requires ``child`` through ``requirement`` (as written,
    marker included); ``specifier``, ``extras`` and ``marker`` are its parts."""

    parent: str | None
    child: str
    requirement: str
    specifier: str = ""
    extras: tuple[str, ...] = ()
    marker: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "parent": self.parent,
            "child": self.child,
            "requirement": self.requirement,
            "specifier": self.specifier,
            "extras": list(self.extras),
            "marker": self.marker,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Edge:
        return cls(
            data["parent"], data["child"], data["requirement"], data.get("specifier", ""),
            tuple(data.get("extras", ())), data.get("marker"),
        )


@dataclass(frozen=True, slots=True)
class Violation:
    """What the independent verifier found wrong with a resolution."""

    kind: ViolationKind
    message: str
    packages: tuple[str, ...] = ()
    feature: str | None = None

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "feature": self.feature, "packages": list(self.packages), "message": self.message}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Violation:
        kind = data["kind"]
        if kind not in get_args(ViolationKind):
            raise ValueError(f"unknown violation kind {kind!r}")
        return cls(kind, data["message"], tuple(data.get("packages", ())), data.get("feature"))


@dataclass(frozen=True, slots=True)
class Step:
    """One sentence of a derivation, with the packages and feature it is about."""

    kind: StepKind
    text: str
    packages: tuple[str, ...] = ()
    feature: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "packages": list(self.packages), "feature": self.feature}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        return cls(data["kind"], data["text"], tuple(data.get("packages", ())), data.get("feature"))


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why there is no resolution: the steps of a derivation, in order. The text is rendered
    from the steps, one sentence a line, each sentence once."""

    steps: tuple[Step, ...]

    @classmethod
    def of(cls, steps: Sequence[Step]) -> Explanation:
        """The derivation without repeated sentences (the first occurrence stays)."""
        seen: set[str] = set()
        kept = []
        for step in steps:
            if step.text not in seen:
                seen.add(step.text)
                kept.append(step)
        return cls(tuple(kept))

    @property
    def text(self) -> str:
        return "\n".join(step.text for step in self.steps)

    def __str__(self) -> str:
        return self.text

    def __contains__(self, text: str) -> bool:
        return text in self.text

    def to_list(self) -> list[dict[str, Any]]:
        return [step.to_dict() for step in self.steps]


@dataclass(frozen=True, slots=True)
class Resolution:
    """A strategy's answer to a problem.

    ``satisfiable``: ``packages`` maps each installed name to its pin, ``graph`` says who
    requires whom, ``unified`` the value each unified feature took. Otherwise ``explanation``
    says why. ``violations`` is filled by the verifier (``varsolve.resolve(..., verify=True)``);
    ``stats`` are the strategy's own counters (not part of equality).
    """

    strategy: str
    satisfiable: bool
    packages: Mapping[str, Pin] = field(default_factory=dict)
    graph: tuple[Edge, ...] = ()
    unified: Mapping[str, str] = field(default_factory=dict)
    explanation: Explanation | None = None
    violations: tuple[Violation, ...] = ()
    stats: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def consistent(self) -> bool:
        """No unified feature takes two values."""
        return not any(v.kind == "unify" for v in self.violations)

    @property
    def valid(self) -> bool:
        """The verifier found nothing wrong but (possibly) unified features taking two values."""
        return all(v.kind == "unify" for v in self.violations)

    def with_violations(self, violations: Sequence[Violation]) -> Resolution:
        return replace(self, violations=tuple(violations))

    def with_stats(self, **stats: Any) -> Resolution:
        return replace(self, stats={**self.stats, **stats})

    def dependents(self, name: str) -> list[Edge]:
        """The edges into ``name``: who requires it, with which requirement."""
        return [edge for edge in self.graph if edge.child == name]

    def dependencies(self, name: str | None) -> list[Edge]:
        """The edges out of ``name`` (``None``: the root's requirements)."""
        return [edge for edge in self.graph if edge.parent == name]

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "satisfiable": self.satisfiable,
            "strategy": self.strategy,
            "consistent": self.consistent,
            "violations": [v.to_dict() for v in self.violations],
            "packages": {name: self.packages[name].to_dict() for name in sorted(self.packages)},
            "graph": [edge.to_dict() for edge in self.graph],
            "unified": dict(sorted(self.unified.items())),
            "explanation": self.explanation.text if self.explanation is not None else None,
            "derivation": self.explanation.to_list() if self.explanation is not None else None,
            "stats": dict(self.stats),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Resolution:
        derivation = data.get("derivation")
        return cls(
            strategy=data["strategy"],
            satisfiable=bool(data["satisfiable"]),
            packages={name: Pin.from_dict(pin) for name, pin in data.get("packages", {}).items()},
            graph=tuple(Edge.from_dict(e) for e in data.get("graph", ())),
            unified=dict(data.get("unified", {})),
            explanation=Explanation(tuple(Step.from_dict(s) for s in derivation)) if derivation is not None else None,
            violations=tuple(Violation.from_dict(v) for v in data.get("violations", ())),
            stats=dict(data.get("stats", {})),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Resolution:
        return cls.from_dict(json.loads(text))

    # -- text ---------------------------------------------------------------------------------
    def to_text(self) -> str:
        lines = []
        if self.satisfiable:
            width = max((len(n) for n in self.packages), default=0)
            for name in sorted(self.packages):
                pin = self.packages[name]
                variant = {None: "(sdist)", "": ""}.get(pin.variant, f"[{pin.variant}]")
                lines.append(f"{name.ljust(width)}  {pin.version} {variant}".rstrip())
            for feature, value in sorted(self.unified.items()):
                lines.append(f"unified: {feature} = {value}")
        else:
            lines.append("no solution:")
            text = self.explanation.text if self.explanation is not None else ""
            lines.extend("  " + line for line in text.splitlines())
        for v in self.violations:
            lines.append(f"violation: {v.message}")
        return "\n".join(lines) + "\n"
