"""The result of a strategy: chosen packages (version, variant label, file), or an explanation.

``variant`` is the label of a variant wheel, ``""`` for a non-variant wheel and ``None`` for an
sdist, as in the JSON output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from packaging.version import Version


@dataclass(frozen=True)
class Pin:
    version: Version
    variant: str | None
    filename: str

    def to_json(self) -> dict[str, Any]:
        return {"version": str(self.version), "variant": self.variant, "filename": self.filename}


@dataclass
class Resolution:
    strategy: str
    satisfiable: bool
    packages: dict[str, Pin] = field(default_factory=dict)
    explanation: str | None = None
    # Values chosen for unified features (feature -> value), when the strategy chose them.
    unified: dict[str, str] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    # Filled by the verifier.
    violations: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not any(v.startswith("unify") for v in self.violations)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "satisfiable": self.satisfiable,
            "strategy": self.strategy,
            "consistent": self.consistent,
            "violations": list(self.violations),
            "packages": {name: self.packages[name].to_json() for name in sorted(self.packages)},
            "unified": dict(sorted(self.unified.items())),
            "explanation": self.explanation,
            "stats": self.stats,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_json_dict(), indent=2, sort_keys=False) + "\n"

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
            lines.extend("  " + line for line in (self.explanation or "").splitlines())
        for v in self.violations:
            lines.append(f"violation: {v}")
        return "\n".join(lines) + "\n"
