"""Requirements whose markers may use the four variant markers of PEP 825 (digest section 5).

packaging 26.3 cannot parse ``variant_label``, ``variant_properties``, ``variant_features`` or
``variant_namespaces``. Rather than fork its parser, we rewrite each variant clause into a
placeholder clause ``"vsN" in dependency_groups`` that packaging can parse, and at evaluation
time put the ids of the clauses that hold into the ``dependency_groups`` set. Requires-Dist may
not use ``dependency_groups`` itself (it is a lock-file-only marker), so the name is free.
This module is hand-written because no library evaluates variant markers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from dataclasses import dataclass
from functools import lru_cache

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from ..errors import InputError
from .properties import PropertyMap, canonical

SET_MARKERS = ("variant_properties", "variant_features", "variant_namespaces")
LABEL_MARKER = "variant_label"

# String literals are masked as ``__litN__`` before clauses are matched, so that text inside a
# literal (``extra == "variant_label"``) is never taken for a marker.
_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"")
_STRING = r"__lit\d+__"
_MASKED = re.compile(r"__lit(\d+)__")
_OP = r"(?:==|!=|not\s+in|in)"
_VAR = r"(?:variant_properties|variant_features|variant_namespaces|variant_label)"
_CLAUSE = re.compile(
    rf"(?P<lit1>{_STRING})\s*(?P<op1>{_OP})\s*(?P<var1>{_VAR})\b"
    rf"|\b(?P<var2>{_VAR})\s*(?P<op2>{_OP})\s*(?P<lit2>{_STRING})"
)
_ANY_VAR = re.compile(rf"\b{_VAR}\b")


@dataclass(frozen=True, slots=True)
class VariantClause:
    variable: str
    op: str  # "==", "!=", "in", "not in"
    literal: str
    literal_on_left: bool

    def holds(self, state: VariantState) -> bool:
        if self.variable == LABEL_MARKER:
            value = state.label
            if self.op == "==":
                return value == self.literal
            if self.op == "!=":
                return value != self.literal
            # String "in" is substring containment (PEP 508).
            inside = self.literal in value if self.literal_on_left else value in self.literal
            return inside if self.op == "in" else not inside
        if not self.literal_on_left or self.op not in ("in", "not in"):
            return False  # other forms are invalid for set markers; installers evaluate False
        members = getattr(state, self.variable)
        inside = canonical(self.literal) in members
        return inside if self.op == "in" else not inside


@dataclass(frozen=True, slots=True)
class VariantState:
    """The values of the four markers for one selected wheel."""

    label: str
    variant_properties: frozenset[str]
    variant_features: frozenset[str]
    variant_namespaces: frozenset[str]

    @classmethod
    def non_variant(cls) -> VariantState:
        return NON_VARIANT

    @classmethod
    def for_wheel(cls, label: str, supported_props: PropertyMap) -> VariantState:
        """``supported_props``: the label's properties already filtered to what the target supports."""
        props = frozenset(
            f"{ns} :: {f} :: {v}" for ns, feats in supported_props.items() for f, vals in feats.items() for v in vals
        )
        feats = frozenset(f"{ns} :: {f}" for ns, fs in supported_props.items() for f in fs)
        return cls(label, props, feats, frozenset(supported_props))


NON_VARIANT = VariantState("", frozenset(), frozenset(), frozenset())


class VariantRequirement:
    """A PEP 508 requirement that may use variant markers.

    ``name``, ``specifier``, ``extras`` and ``url`` are those of packaging's Requirement.
    """

    __slots__ = ("text", "requirement", "clauses", "marker_text", "_marker", "name")

    def __init__(self, text: str) -> None:
        self.text = text
        req_part, marker_text = _split_marker(text)
        clauses: list[VariantClause] = []

        literals: list[str] = []

        def mask(match: re.Match[str]) -> str:
            literals.append(match[0])
            return f" __lit{len(literals) - 1}__ "

        def value(masked: str) -> str:
            return literals[int(_MASKED.fullmatch(masked)[1])][1:-1]

        def replace(match: re.Match[str]) -> str:
            if match["var1"]:
                clause = VariantClause(match["var1"], _norm_op(match["op1"]), value(match["lit1"]), True)
            else:
                clause = VariantClause(match["var2"], _norm_op(match["op2"]), value(match["lit2"]), False)
            clauses.append(clause)
            return f'"vs{len(clauses) - 1}" in dependency_groups'

        marker: Marker | None = None
        if marker_text is not None:
            masked = _LITERAL.sub(mask, marker_text)
            if "dependency_groups" in masked:
                raise InputError(f"invalid requirement {text!r}: dependency_groups is for lock files only")
            rewritten = _CLAUSE.sub(replace, masked)
            if _ANY_VAR.search(rewritten):
                raise InputError(f"invalid requirement {text!r}: unsupported use of a variant marker")
            rewritten = _MASKED.sub(lambda m: literals[int(m[1])], rewritten)
            try:
                marker = Marker(rewritten)
            except InvalidMarker as exc:
                raise InputError(f"invalid requirement {text!r}: {_first_line(exc)}") from None
        try:
            self.requirement = Requirement(req_part)
        except InvalidRequirement as exc:
            raise InputError(f"invalid requirement {text!r}: {_first_line(exc)}") from None
        self.clauses = tuple(clauses)
        self._marker = marker
        self.name: NormalizedName = canonicalize_name(self.requirement.name)
        self.marker_text = marker_text  # as written, variant markers included; None without one

    @property
    def specifier(self):
        return self.requirement.specifier

    @property
    def extras(self) -> set[str]:
        return {canonicalize_name(e) for e in self.requirement.extras}

    @property
    def url(self) -> str | None:
        return self.requirement.url

    @property
    def has_marker(self) -> bool:
        return self._marker is not None

    @property
    def uses_variant_markers(self) -> bool:
        return bool(self.clauses)

    def evaluate(
        self,
        environment: Mapping[str, str | Set[str]],
        variant: VariantState = NON_VARIANT,
        extra: str = "",
    ) -> bool:
        """Whether the dependency applies, for this target, selected wheel and extra."""
        if self._marker is None:
            return True
        holding = frozenset(f"vs{i}" for i, c in enumerate(self.clauses) if c.holds(variant))
        env = dict(environment)
        env["dependency_groups"] = holding
        env["extra"] = extra
        try:
            return self._marker.evaluate(env, context="lock_file")
        except (UndefinedComparison, UndefinedEnvironmentName) as exc:
            raise InputError(f"cannot evaluate marker of {self.text!r}: {_first_line(exc)}") from None

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<VariantRequirement {self.text!r}>"


@lru_cache(maxsize=65536)
def parse_requirement(text: str) -> VariantRequirement:
    return VariantRequirement(text)


def _norm_op(op: str) -> str:
    return "not in" if op.startswith("not") else op


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _split_marker(text: str) -> tuple[str, str | None]:
    """Split at the first ``;`` outside quotes (URLs need a space before it, PEP 508)."""
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == ";":
            before = text[:i]
            if "@" in before and not before.endswith((" ", "\t")):
                continue
            return before.strip(), text[i + 1 :].strip()
    return text.strip(), None
