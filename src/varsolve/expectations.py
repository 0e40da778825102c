"""What a scenario expects of each strategy: its ``[expected]`` table (docs/scenario-format.md).

``[expected]`` holds the outcome the complete strategies must produce; ``[expected.<strategy>]``
replaces it for one strategy (and is the only way to hold the status quo, ``pep825``, to
anything). ``varsolve scenario check`` and ``varsolve compare`` compare resolutions with these
(:func:`varsolve.scenario_check.compare`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name

from .toml_fields import TomlFields, key_part

STRATEGY_NAMES = ("pep825", "backtrack", "sat")
OUTCOME_KEYS = {"satisfiable", "consistent", "packages", "variants", "explanation_contains"}
EXPECTED_KEYS = {"satisfiable", "packages", "explanation", "explanation_contains", "variants", "environments"}
ENVIRONMENT_KEYS = {"python", "platform", "target", "packages", "variants"}


@dataclass(frozen=True)
class Outcome:
    """What one strategy (or the complete strategies) must produce; None = not checked."""

    satisfiable: bool | None = None
    consistent: bool | None = None
    packages: dict[str, str] | None = None
    variants: dict[str, str] | None = None
    explanation_contains: tuple[str, ...] = ()


@dataclass(frozen=True)
class EnvironmentOutcome:
    """A universal scenario's ``[[expected.environments]]`` entry: what is installed on one
    Python and platform (uv's platform names), for one variant target (None: the scenario's
    own), by every complete strategy: exactly ``packages``, with ``variants``' labels."""

    python: str
    platform: str
    target: str | None
    packages: dict[str, str]
    variants: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Expected:
    complete: Outcome
    per_strategy: dict[str, Outcome] = field(default_factory=dict)
    explanation: str | None = None  # packse's prose, informational
    environments: tuple[EnvironmentOutcome, ...] = ()

    def for_strategy(self, strategy: str, complete: bool) -> Outcome | None:
        """The outcome ``strategy`` is held to; None when it is held to none (the status quo
        without ``[expected.pep825]``: then only the verifier's rules apply)."""
        if strategy in self.per_strategy:
            return self.per_strategy[strategy]
        return self.complete if complete else None


def read_expected(fields: TomlFields, data: Any) -> Expected:
    """The ``[expected]`` table of a scenario file (``fields`` names the file in errors)."""
    exp = fields.table(data, "expected", EXPECTED_KEYS | set(STRATEGY_NAMES))
    complete = _outcome(fields, {k: v for k, v in exp.items() if k in OUTCOME_KEYS}, "expected")
    per_strategy = {
        s: _outcome(fields, fields.table(exp[s], f"expected.{s}", OUTCOME_KEYS), f"expected.{s}")
        for s in STRATEGY_NAMES
        if s in exp
    }
    explanation = fields.string(exp["explanation"], "expected.explanation") if "explanation" in exp else None
    environments = exp.get("environments", [])
    if not isinstance(environments, list):
        raise fields.err("expected.environments", "must be an array of tables ([[expected.environments]])")
    outcomes = tuple(_environment(fields, entry, f"expected.environments[{i}]") for i, entry in enumerate(environments))
    return Expected(complete, per_strategy, explanation, outcomes)


def _environment(fields: TomlFields, data: Any, key: str) -> EnvironmentOutcome:
    table = fields.table(data, key, ENVIRONMENT_KEYS)
    for required in ("python", "platform", "packages"):
        if required not in table:
            raise fields.err(key, f"needs {required!r}")
    outcome = _outcome(fields, {k: table[k] for k in ("packages", "variants") if k in table}, key)
    target = fields.string(table["target"], f"{key}.target") if "target" in table else None
    return EnvironmentOutcome(
        fields.string(table["python"], f"{key}.python"), fields.string(table["platform"], f"{key}.platform"),
        target, outcome.packages or {}, outcome.variants or {},
    )


def _outcome(fields: TomlFields, data: dict[str, Any], key: str) -> Outcome:
    def opt_bool(k: str) -> bool | None:
        return fields.boolean(data[k], f"{key}.{k}") if k in data else None

    def mapping(k: str) -> dict[str, str] | None:
        if k not in data:
            return None
        table = fields.table(data[k], f"{key}.{k}")
        out: dict[str, str] = {}
        first: dict[str, str] = {}
        for n, v in table.items():
            where = f"{key}.{k}.{key_part(n)}"
            if not isinstance(v, str):
                raise fields.err(where, "must be a string")
            name = canonicalize_name(n)
            if name in out:
                raise fields.err(where, f"the same package as {key}.{k}.{key_part(first[name])} ({name}): write it once")
            out[name], first[name] = v, n
        return out

    return Outcome(
        satisfiable=opt_bool("satisfiable"),
        consistent=opt_bool("consistent"),
        packages=mapping("packages"),
        variants=mapping("variants"),
        explanation_contains=tuple(fields.strings(data.get("explanation_contains", []), f"{key}.explanation_contains")),
    )
