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
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName, default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from ..errors import InputError
from .properties import PropertyMap, canonical

_NONE: frozenset[str] = frozenset()
_PEP508_KEYS = frozenset(default_environment())

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

    __slots__ = ("text", "requirement", "clauses", "marker_text", "_marker", "name", "_reads", "_answers")

    def __init__(self, text: str) -> None:
        self.text = text
        req_part, marker_text = _split_marker(text)
        clauses: tuple[VariantClause, ...] = ()
        marker: Marker | None = None
        if marker_text is not None:
            rewritten = _Rewritten.of(text, marker_text)
            clauses = rewritten.clauses
            try:
                marker = Marker(rewritten.unmask(rewritten.masked))
            except InvalidMarker as exc:
                raise InputError(f"invalid requirement {text!r}: {_first_line(exc)}") from None
        try:
            self.requirement = Requirement(req_part)
        except InvalidRequirement as exc:
            raise InputError(f"invalid requirement {text!r}: {_first_line(exc)}") from None
        self.clauses = clauses
        self._marker = marker
        self._reads = _variables_read(marker) if marker is not None else ()
        # (values of the variables read, variant clauses that hold, extra) -> the answer: a
        # universal check evaluates the same requirements in dozens of environments that differ
        # mostly in variables the marker does not read.
        self._answers: dict[tuple[object, ...], bool] = {}
        self.name: NormalizedName = canonicalize_name(self.requirement.name)
        self.marker_text = marker_text  # as written, variant markers included; None without one

    @property
    def specifier(self) -> SpecifierSet:
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
    def reads(self) -> tuple[str, ...] | None:
        """The environment variables the marker compares (``extra`` and the variant markers
        aside: :meth:`evaluate` sets them); None when they are not known. An answer of
        :meth:`evaluate` depends on the values of these, the variant and the extra only."""
        return self._reads

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
        holding = frozenset(f"vs{i}" for i, c in enumerate(self.clauses) if c.holds(variant)) if self.clauses else _NONE
        # Prepared by hand (packaging's evaluate merges in this interpreter's environment and
        # repairs it at every call; a resolution evaluates tens of thousands of markers): the
        # target's environment has every PEP 508 key, plus the keys of the lock_file context.
        if not environment.keys() >= _PEP508_KEYS:  # a partial environment: the rest is this interpreter's
            environment = {**cast("dict[str, str]", default_environment()), **environment}
        key: tuple[object, ...] | None = None
        if self._reads is not None:
            key = (tuple(map(environment.get, self._reads)), holding, extra)
            try:
                known = self._answers.get(key)
            except TypeError:  # a value that is not hashable (a set): evaluated every time
                known = key = None
            if known is not None:
                return known
        env = {**environment, "extras": _NONE, "dependency_groups": holding, "extra": canonicalize_name(extra) if extra else ""}
        try:
            answer = self._marker.evaluate_prepared(env)
        except (UndefinedComparison, UndefinedEnvironmentName) as exc:
            raise InputError(f"cannot evaluate marker of {self.text!r}: {_first_line(exc)}") from None
        if key is not None:
            self._answers[key] = answer
        return answer

    def specialise(self, variant: VariantState) -> str | None:
        """This requirement for one wheel: its variant markers replaced by their values for
        ``variant`` and folded away, the rest of the marker kept; None when the marker becomes
        false, the requirement without a marker when it becomes true.

        PEP 825 lets builders evaluate variant markers partially, and variant-unaware installers
        need it: they reject ``variant_*`` markers. A requirement without variant markers is
        returned as written.
        """
        if not self.clauses or self.marker_text is None:
            return self.text
        rewritten = _Rewritten.of(self.text, self.marker_text)
        holds = [clause.holds(variant) for clause in self.clauses]

        def value(comparison: str) -> bool | str:
            placeholder = _PLACEHOLDER.fullmatch(comparison)
            if placeholder is not None:
                return holds[int(placeholder[1])]
            return _normal_comparison(rewritten.unmask(comparison))

        folded = _fold(_parse_marker(rewritten.masked), value)
        req_part = _split_marker(self.text)[0]
        if folded is False:
            return None
        if folded is True:
            return req_part
        separator = " ; " if "@" in req_part else "; "
        return f"{req_part}{separator}{_format(folded)}"

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<VariantRequirement {self.text!r}>"


# Set by :meth:`VariantRequirement.evaluate` itself, never read from the caller's environment.
_SET_BY_EVALUATE = frozenset({"extra", "extras", "dependency_groups"})


def _variables_read(marker: Marker) -> tuple[str, ...] | None:
    """The environment variables ``marker`` compares, legacy spellings already normalised by
    packaging. packaging has no public view of a parsed marker, so this reads its tree (nested
    lists of ``(lhs, op, rhs)`` tuples and ``"and"``/``"or"``) and says None when the tree is not
    there or has a shape this does not know: an answer is never keyed on less than it reads."""
    try:
        from packaging._parser import Op, Value, Variable
    except ImportError:  # pragma: no cover - a packaging that moved its parser
        return None

    found: set[str] = set()

    def walk(node: object) -> bool:
        if isinstance(node, list):
            return all(walk(item) for item in node)
        if isinstance(node, tuple) and len(node) == 3 and isinstance(node[1], Op):
            for side in (node[0], node[2]):
                if isinstance(side, Variable):
                    found.add(side.value)
                elif not isinstance(side, Value):
                    return False
            return True
        return node in ("and", "or")

    if not walk(getattr(marker, "_markers", None)):
        return None
    return tuple(sorted(found - _SET_BY_EVALUATE))


@lru_cache(maxsize=65536)
def parse_requirement(text: str) -> VariantRequirement:
    return VariantRequirement(text)


@dataclass(frozen=True, slots=True)
class _Rewritten:
    """A marker that packaging can parse: each variant clause replaced by the placeholder
    ``"vsN" in dependency_groups`` (N indexes ``clauses``); string literals still masked as
    ``__litN__`` (N indexes ``literals``) in ``masked``."""

    masked: str
    literals: tuple[str, ...]
    clauses: tuple[VariantClause, ...]

    @classmethod
    def of(cls, requirement: str, marker_text: str) -> _Rewritten:
        literals: list[str] = []
        clauses: list[VariantClause] = []

        def mask(match: re.Match[str]) -> str:
            literals.append(match[0])
            return f" __lit{len(literals) - 1}__ "

        def value(masked: str) -> str:
            return literals[int(masked[5:-2])][1:-1]  # __litN__ -> the literal without quotes

        def replace(match: re.Match[str]) -> str:
            if match["var1"]:
                clause = VariantClause(match["var1"], _norm_op(match["op1"]), value(match["lit1"]), True)
            else:
                clause = VariantClause(match["var2"], _norm_op(match["op2"]), value(match["lit2"]), False)
            clauses.append(clause)
            return f'"vs{len(clauses) - 1}" in dependency_groups'

        masked = _LITERAL.sub(mask, marker_text)
        if "dependency_groups" in masked:
            raise InputError(f"invalid requirement {requirement!r}: dependency_groups is for lock files only")
        rewritten = _CLAUSE.sub(replace, masked)
        if _ANY_VAR.search(rewritten):
            raise InputError(f"invalid requirement {requirement!r}: unsupported use of a variant marker")
        return cls(rewritten, tuple(literals), tuple(clauses))

    def unmask(self, text: str) -> str:
        return _MASKED.sub(lambda m: self.literals[int(m[1])], text)


# -- partial evaluation --------------------------------------------------------------------------
# Hand-written because packaging has no marker algebra: no partial evaluation, no public tree.
# The masked marker (no literals left, so no quotes to respect) is split at parentheses and at
# "and" / "or" into packaging's grammar (or of and-groups of comparisons or parenthesised
# expressions); each comparison stays text, normalised by packaging itself.

_PLACEHOLDER = re.compile(r'"vs(\d+)" in dependency_groups')
_CONNECTIVES = re.compile(r"(\(|\)|\band\b|\bor\b)")


@dataclass(slots=True)
class _Or:
    """``groups`` joined by "or"; each group's items joined by "and"; an item is a comparison
    or a parenthesised expression."""

    groups: list[list[str | _Or]]


def _parse_marker(masked: str) -> _Or:
    tokens = [t.strip() for t in _CONNECTIVES.split(masked) if t.strip()]
    expression, _ = _parse_or(tokens, 0)
    return expression


def _parse_or(tokens: list[str], pos: int) -> tuple[_Or, int]:
    """The expression starting at ``tokens[pos]``, up to its closing parenthesis (consumed) or
    the end; packaging has parsed the marker already, so it is well formed."""
    expression = _Or([[]])
    while pos < len(tokens):
        token = tokens[pos]
        pos += 1
        if token == "(":
            inner, pos = _parse_or(tokens, pos)
            expression.groups[-1].append(inner)
        elif token == ")":
            break
        elif token == "or":
            expression.groups.append([])
        elif token != "and":
            expression.groups[-1].append(token)
    return expression, pos


def _fold(expression: _Or, value: Callable[[str], bool | str]) -> bool | _Or:
    """``expression`` with each comparison replaced by ``value(comparison)`` (a truth value or
    text to keep) and the truth values folded away."""
    groups: list[list[str | _Or]] = []
    for group in expression.groups:
        kept: list[str | _Or] = []
        for item in group:
            folded = _fold(item, value) if isinstance(item, _Or) else value(item)
            if folded is False:
                break
            if folded is not True:
                kept.append(folded)
        else:
            if not kept:
                return True
            groups.append(kept)
    return _Or(groups) if groups else False


def _format(expression: _Or, nested: bool = False) -> str:
    """The marker text, as packaging writes one: parentheses where the input had them around
    more than one comparison, none around the whole marker."""
    if len(expression.groups) == 1 and len(expression.groups[0]) == 1:
        item = expression.groups[0][0]
        return _format(item, nested) if isinstance(item, _Or) else item
    text = " or ".join(
        " and ".join(_format(item, nested=True) if isinstance(item, _Or) else item for item in group)
        for group in expression.groups
    )
    return f"({text})" if nested else text


@lru_cache(maxsize=4096)
def _normal_comparison(text: str) -> str:
    """One comparison as packaging writes it (double quotes, one space around the operator)."""
    return str(Marker(text))


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
