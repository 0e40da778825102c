"""Sets of marker environments described by PEP 508 markers, for universal resolution.

This module is hand-written because packaging has no marker algebra: a packaging ``Marker`` can
only be evaluated on one concrete environment, while a universal resolution (like ``uv lock``)
has to intersect, unite, complement and compare the *sets* of environments that markers describe.

A :class:`MarkerSet` is a reduced decision diagram, like uv's ``MarkerTree``: a node tests one
variable, its edges partition that variable's domain into pieces with pairwise different children,
and variables come in a fixed order (``python_full_version`` first). Reduced diagrams are
canonical, so equal sets compare and hash equal however they were built, and a set is empty
exactly when its diagram is the false leaf.

The domains, and where the algebra is deliberately coarser than packaging:

* ``python_full_version`` and ``implementation_version`` are unions of version intervals
  (packaging's ``Version`` order, so ``3.10 == 3.10.0``; the domain starts at ``0``).
  ``python_version`` atoms are translated to ``python_full_version`` (``python_version <= '3.10'``
  is ``python_full_version < '3.11'``), and ``python_version in '3.10 3.11'`` to the minors that are
  substrings of the literal. Python versions are taken to be final releases (``X.Y.Z``): the
  special cases of pre-, post- and local versions in specifiers are not modelled, and
  ``===`` holds only for a literal of that form.
* The other variables are strings: ``==`` / ``!=`` (and packaging's ``<=`` / ``>=``, which mean
  equality on strings; ``<`` / ``>`` are always false there) give finite include or cofinite
  exclude sets. ``in`` / ``not in`` (substrings), the version comparisons on
  ``platform_release`` and the ``extras`` / ``dependency_groups`` memberships are opaque atoms:
  independent boolean variables named by the atom's text, evaluated by packaging. A release that
  is not a version (``5.15.0-91-generic``) fails every version comparison, so
  ``platform_release >= '5.0'`` and ``platform_release < '5.0'`` are two variables, and as PEP 508
  has no ``not``, the printed negation of such an atom flips its operator: a text that is exact
  only for releases that are versions, and that parses back to a different set.
* Variables are independent, with one exception taken from uv: ``platform_system`` ``Darwin``,
  ``Linux`` and ``Windows`` are read as ``sys_platform`` ``darwin``, ``linux`` and ``win32``
  (uv.lock writes ``appnope ; sys_platform == 'darwin'`` for ``platform_system == "Darwin"``).
  Other values of ``platform_system``, and ``os_name``, stay independent:
  ``sys_platform == 'linux' and os_name == 'nt'`` is not empty. Only
  :func:`representative_environments` keeps them consistent when it picks values.
* ``extra`` is evaluated concretely when parsing (``fixed``, else no extra), as is any variable that
  ``fixed`` names.
* An atom that packaging cannot evaluate (``~=`` or ``===`` on a string variable, two literals or
  two variables compared, ``extras == 'x'``), or whose set the algebra cannot represent (a
  reversed ``'3.10' ~= python_version``), is an :class:`InputError` naming the marker.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

from .errors import InputError

__all__ = ["DEFAULT_ENVIRONMENT", "EMPTY_TEXT", "MAX_CELLS", "MarkerSet", "representative_environments"]

MAX_CELLS = 4096
# The text of the empty set: an always-false marker that parses back to the empty set.
EMPTY_TEXT = "python_full_version < '0'"
_ZERO = Version("0")
_ORDER = {
    name: i
    for i, name in enumerate(
        ("python_full_version", "implementation_version", "implementation_name", "platform_python_implementation",
         "sys_platform", "platform_system", "os_name", "platform_machine", "platform_release", "platform_version")
    )
}
_VERSION_VARS = frozenset({"python_full_version", "implementation_version", "python_version"})
_NEGATED = {"in": "not in", "not in": "in", "==": "!=", "!=": "==", "<": ">=", ">=": "<", "<=": ">", ">": "<="}
_FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}
_XY = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)")
_XYZ = re.compile(r"(0|[1-9]\d*)(\.(0|[1-9]\d*)){2}")
# opaque atom (its positive text) -> (its negation's text, the variable it reads, its literal)
_OPAQUE: dict[str, tuple[str, str, str]] = {}


# -- version intervals ----------------------------------------------------------------------------
# (low, low closed, high, high closed); None is unbounded (low: from 0, stored closed; high: open).
_Iv = tuple[Version | None, bool, Version | None, bool]


@lru_cache(maxsize=4096)
def _version(text: str) -> Version:
    """``text`` as a Version without trailing zeros (``3.10.0`` -> ``3.10``), so it prints one way."""
    return Version(canonicalize_version(Version(text), strip_trailing_zero=True))


def _bump(release: tuple[int, ...]) -> Version:
    return _version(".".join(map(str, (*release[:-1], release[-1] + 1))))


def _clip(iv: _Iv) -> _Iv | None:
    lo, lc, hi, hc = iv
    if lo is not None and (lo < _ZERO or (lo == _ZERO and lc)):
        lo, lc = None, True
    if lo is None:
        lc = True
    if hi is None:
        hc = False
    elif hi < _ZERO or (hi == _ZERO and not hc) or (lo is not None and (lo > hi or (lo == hi and not (lc and hc)))):
        return None
    return lo, lc, hi, hc


def _normalize(ivs: Iterable[_Iv]) -> tuple[_Iv, ...]:
    """Sorted, disjoint, with touching intervals merged: the canonical form of a union."""
    items = sorted((c for c in map(_clip, ivs) if c is not None), key=lambda iv: (iv[0] is not None, iv[0] or _ZERO, not iv[1]))
    out: list[_Iv] = []
    for lo, lc, hi, hc in items:
        if out:
            plo, plc, phi, phc = out[-1]
            if phi is None or lo is None or lo < phi or (lo == phi and (phc or lc)):
                if phi is not None and (hi is None or hi > phi or (hi == phi and hc)):
                    out[-1] = (plo, plc, hi, hc)
                continue
        out.append((lo, lc, hi, hc))
    return tuple(out)


def _complement(ivs: Iterable[_Iv]) -> tuple[_Iv, ...]:
    out: list[_Iv] = []
    lo: Version | None = None
    lc = True
    for ilo, ilc, ihi, ihc in _normalize(ivs):
        if ilo is not None:
            out.append((lo, lc, ilo, not ilc))
        if ihi is None:
            return _normalize(out)
        lo, lc = ihi, not ihc
    out.append((lo, lc, None, False))
    return _normalize(out)


def _intersect(a: tuple[_Iv, ...], b: tuple[_Iv, ...]) -> tuple[_Iv, ...]:
    out: list[_Iv] = []
    for alo, alc, ahi, ahc in a:
        for blo, blc, bhi, bhc in b:
            lo, lc = (alo, alc) if blo is None or (alo is not None and (alo > blo or (alo == blo and not alc))) else (blo, blc)
            hi, hc = (ahi, ahc) if bhi is None or (ahi is not None and (ahi < bhi or (ahi == bhi and not ahc))) else (bhi, bhc)
            out.append((lo, lc, hi, hc))
    return _normalize(out)


# -- constraints: the pieces a node splits its variable's domain into ------------------------------


@dataclass(frozen=True, slots=True)
class _Versions:
    ivs: tuple[_Iv, ...]

    def meet(self, other: _C) -> _C:
        assert isinstance(other, _Versions)
        return _Versions(_intersect(self.ivs, other.ivs))

    def join(self, other: _C) -> _C:
        assert isinstance(other, _Versions)
        return _Versions(_normalize(self.ivs + other.ivs))

    def invert(self) -> _C:
        return _Versions(_complement(self.ivs))

    def is_empty(self) -> bool:
        return not self.ivs

    def is_universe(self) -> bool:
        return self.ivs == ((None, True, None, False),)

    def contains(self, value: Version | str) -> bool:
        assert isinstance(value, Version)
        return any(
            (lo is None or lo < value or (lc and lo == value)) and (hi is None or value < hi or (hc and value == hi))
            for lo, lc, hi, hc in self.ivs
        )


@dataclass(frozen=True, slots=True)
class _Strings:
    include: bool  # True: the variable is one of `values`; False: it is none of them
    values: frozenset[str]

    def meet(self, other: _C) -> _C:
        assert isinstance(other, _Strings)
        if self.include and other.include:
            return _Strings(True, self.values & other.values)
        if self.include or other.include:
            inc, exc = (self, other) if self.include else (other, self)
            return _Strings(True, inc.values - exc.values)
        return _Strings(False, self.values | other.values)

    def join(self, other: _C) -> _C:
        return self.invert().meet(other.invert()).invert()

    def invert(self) -> _C:
        return _Strings(not self.include, self.values)

    def is_empty(self) -> bool:
        return self.include and not self.values

    def is_universe(self) -> bool:
        return not self.include and not self.values

    def contains(self, value: Version | str) -> bool:
        return (value in self.values) == self.include


_C = _Versions | _Strings


# -- reduced decision diagrams --------------------------------------------------------------------


class _Node:
    __slots__ = ("edges", "hash", "leaf", "var")

    def __init__(self, var: str, edges: frozenset[tuple[_C, _Node]], leaf: bool | None = None) -> None:
        self.var, self.edges, self.leaf = var, edges, leaf
        self.hash = hash((var, edges, leaf))

    def __hash__(self) -> int:
        return self.hash

    def __reduce__(self) -> str | tuple[object, ...]:
        # The leaves stay singletons; the hash is recomputed (string hashes differ between processes).
        return ("_TRUE" if self.leaf else "_FALSE") if self.leaf is not None else (_Node, (self.var, self.edges))

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, _Node) and self.hash == other.hash and self.leaf == other.leaf
            and self.var == other.var and self.edges == other.edges
        )


_TRUE = _Node("", frozenset(), True)
_FALSE = _Node("", frozenset(), False)


@lru_cache(maxsize=1024)
def _rank(var: str) -> tuple[int, str]:
    return _ORDER.get(var, len(_ORDER)), var


def _make(var: str, pairs: Iterable[tuple[_C, _Node]]) -> _Node:
    """The reduced node: pieces with the same child are merged, a single piece is its child."""
    groups: dict[_Node, _C] = {}
    for c, child in pairs:
        if not c.is_empty():
            groups[child] = groups[child].join(c) if child in groups else c
    if len(groups) == 1:
        return next(iter(groups))
    return _Node(var, frozenset((c, child) for child, c in groups.items())) if groups else _FALSE


def _atom(var: str, c: _C) -> _Node:
    return _make(var, ((c, _TRUE), (c.invert(), _FALSE)))


def _combine(a: _Node, b: _Node, conj: bool, memo: dict[tuple[_Node, _Node], _Node]) -> _Node:
    absorbing, neutral = (_FALSE, _TRUE) if conj else (_TRUE, _FALSE)
    if a is absorbing or b is absorbing:
        return absorbing
    if a is neutral or a == b:
        return b
    if b is neutral:
        return a
    found = memo.get((a, b))
    if found is not None:
        return found
    if a.var == b.var:
        pairs = [(ca.meet(cb), (na, nb)) for ca, na in a.edges for cb, nb in b.edges]
        result = _make(a.var, ((c, _combine(na, nb, conj, memo)) for c, (na, nb) in pairs if not c.is_empty()))
    elif _rank(a.var) < _rank(b.var):
        result = _make(a.var, ((c, _combine(na, b, conj, memo)) for c, na in a.edges))
    else:
        result = _make(b.var, ((c, _combine(a, nb, conj, memo)) for c, nb in b.edges))
    memo[(a, b)] = result
    return result


# Memoised across calls: a universal resolution meets the same regions and requirement markers
# in every fork (tens of thousands of intersections, a few thousand distinct).
@lru_cache(maxsize=65536)
def _and(a: _Node, b: _Node) -> _Node:
    return _combine(a, b, True, {})


@lru_cache(maxsize=65536)
def _or(a: _Node, b: _Node) -> _Node:
    return _combine(a, b, False, {})


def _negate(node: _Node, memo: dict[_Node, _Node] | None = None) -> _Node:
    if node.leaf is not None:
        return _FALSE if node.leaf else _TRUE
    memo = {} if memo is None else memo
    if node not in memo:
        memo[node] = _Node(node.var, frozenset((c, _negate(child, memo)) for c, child in node.edges))
    return memo[node]


def _walk(node: _Node) -> Iterator[_Node]:
    seen: set[_Node] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n.leaf is None and n not in seen:
            seen.add(n)
            yield n
            stack.extend(child for _, child in n.edges)


# -- parsing --------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'[^']*'|\"[^\"]*\")|(?P<op>===|==|~=|!=|<=|>=|<|>)|(?P<paren>[()])"
    r"|(?P<notin>not\s+in)\b|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)


def _variable(name: str) -> str:
    name = name.replace(".", "_")
    return "platform_python_implementation" if name == "python_implementation" else name


def _quote(s: str) -> str:
    """``s`` as a PEP 508 string that packaging reads back as ``s``."""
    if "\\" not in s and s.isprintable():
        if "'" not in s:
            return f"'{s}'"
        if '"' not in s:
            return f'"{s}"'
    return "'" + "".join(c if c.isprintable() and c not in "'\\" else f"\\U{ord(c):08x}" for c in s) + "'"


def _atom_text(var: str, op: str, lit: str, reverse: bool) -> str:
    return f"{_quote(lit)} {op} {var}" if reverse else f"{var} {op} {_quote(lit)}"


def _opaque(var: str, op: str, lit: str, reverse: bool) -> _Node:
    """An independent boolean variable named by the atom's text. ``not in`` is the exact negation of
    ``in``; any other atom (a version comparison on platform_release) is a variable of its own."""
    positive = op != "not in"
    pos_op = op if positive else "in"
    name = _atom_text(var, pos_op, lit, reverse)
    _OPAQUE.setdefault(name, (_atom_text(var, _NEGATED[pos_op], lit, reverse), var, lit))
    return _atom(name, _Strings(positive, frozenset({"true"})))


def _op_intervals(op: str, text: str) -> tuple[_Iv, ...]:
    """The versions ``v`` with ``v op text`` (a valid specifier), final releases assumed."""
    wildcard = text.endswith(".*")
    raw = Version(text[:-2] if wildcard else text)
    v = _version(str(raw))
    if op == "~=":
        return ((v, True, _bump(raw.release[:-1]), False),)
    if op in ("==", "!="):
        iv: _Iv = (v, True, _bump(raw.release), False) if wildcard else (v, True, v, True)
        return (iv,) if op == "==" else _complement([iv])
    return {"<": ((None, True, v, False),), "<=": ((None, True, v, True),),
            ">": ((v, False, None, False),), ">=": ((v, True, None, False),)}[op]


def _minor(v: Version) -> tuple[int, int]:
    r = (*v.release, 0)
    return r[0], r[1]


def _xy_preimage(ivs: Iterable[_Iv]) -> tuple[_Iv, ...]:
    """python_version intervals (over ``X.Y`` values) as python_full_version intervals."""
    out: list[_Iv] = []
    for lo, lc, hi, hc in ivs:
        nlo, nhi = lo, hi
        if lo is not None:
            x, y = _minor(lo)
            t = _version(f"{x}.{y}")
            nlo = t if t > lo or (t == lo and lc) else _version(f"{x}.{y + 1}")
        if hi is not None:
            x, y = _minor(hi)
            u = _version(f"{x}.{y}")
            nhi = _version(f"{x}.{y + 1}") if u < hi or (u == hi and hc) else u
        out.append((nlo, True, nhi, False))
    return _normalize(out)


def _version_atom(var: str, op: str, lit: str, reverse: bool, text: str) -> _Node:
    target = "implementation_version" if var == "implementation_version" else "python_full_version"
    xy = var == "python_version"
    ivs: tuple[_Iv, ...]
    if op in ("in", "not in"):
        if not xy or reverse:
            return _opaque(var, op, lit, reverse)
        # python_version in 'LIT': the X.Y values that are substrings of LIT
        minors = {lit[i:j] for i in range(len(lit)) for j in range(i + 3, len(lit) + 1) if _XY.fullmatch(lit[i:j])}
        c = _Versions(_xy_preimage((_version(m), True, _version(m), True) for m in minors))
        return _atom(target, c if op == "in" else c.invert())
    if op == "===":  # a string comparison: only a value of the variable's own form can match
        v = _version(lit) if (_XY if xy else _XYZ).fullmatch(lit) else None
        ivs = ((v, True, v, True),) if v is not None else ()
    elif reverse:  # packaging: Specifier(op + value).contains(literal)
        if op == "~=":
            raise InputError(f"marker {text!r}: the marker algebra cannot represent a reversed '~='")
        try:
            ivs = _op_intervals(_FLIPPED[op], str(Version(lit)))  # a wildcard is no version either
        except InvalidVersion:
            return _FALSE
    else:
        try:
            spec = Specifier(op + lit)
        except InvalidSpecifier:  # packaging compares strings: a version never equals this literal
            if op == "~=":
                raise InputError(f"marker {text!r}: '~=' needs a version") from None
            return _TRUE if op == "!=" else _FALSE
        ivs = _op_intervals(spec.operator, spec.version)
    return _atom(target, _Versions(_xy_preimage(ivs) if xy else _normalize(ivs)))


def _is_specifier(text: str) -> bool:
    try:
        Specifier(text)
    except InvalidSpecifier:
        return False
    return True


def _atom_node(left: tuple[bool, str], op: str, right: tuple[bool, str], fixed: Mapping[str, str], text: str) -> _Node:
    if left[0] == right[0]:
        raise InputError(f"marker {text!r}: compares two {'variables' if left[0] else 'literals'}")
    reverse = right[0]
    var, lit = (right[1], left[1]) if reverse else (left[1], right[1])
    if var in fixed or var == "extra":
        try:
            held = Marker(_atom_text(var, op, lit, reverse)).evaluate({"extra": "", **fixed})
        except (UndefinedComparison, UndefinedEnvironmentName, InvalidMarker) as exc:
            raise InputError(f"marker {text!r}: {exc}") from None
        return _TRUE if held else _FALSE
    if var in _VERSION_VARS:
        return _version_atom(var, op, lit, reverse, text)
    if var in ("extras", "dependency_groups"):
        if op not in ("in", "not in") or not reverse:
            raise InputError(f"marker {text!r}: {var} can only be tested with '\"name\" in {var}'")
        return _opaque(var, op, lit, reverse)
    if op in ("in", "not in"):
        return _opaque(var, op, lit, reverse)
    if op in ("~=", "==="):
        raise InputError(f"marker {text!r}: the marker algebra cannot represent {op!r} on {var}")
    if var == "platform_release":
        if reverse or _is_specifier(op + lit):  # a version comparison in packaging
            return _opaque(var, op, lit, reverse)
    if op in ("<", ">"):  # packaging: never true on strings; <= and >= mean ==
        return _FALSE
    if var == "platform_system" and lit in _SYSTEM_TO_PLATFORM:
        # uv's rule: platform_system Darwin, Linux and Windows are sys_platform darwin, linux and
        # win32 (so that ``platform_system == 'Darwin'`` and ``sys_platform == 'darwin'`` are
        # one set, and a lock reads ``sys_platform == 'darwin'`` as uv.lock does).
        var, lit = "sys_platform", _SYSTEM_TO_PLATFORM[lit]
    return _atom(var, _Strings(op != "!=", frozenset({lit})))


_SYSTEM_TO_PLATFORM = {"Darwin": "darwin", "Linux": "linux", "Windows": "win32"}


class _Parser:
    def __init__(self, text: str, fixed: Mapping[str, str]) -> None:
        self.text, self.fixed, self.pos = text, fixed, 0
        self.tokens: list[tuple[str, str]] = []
        end = len(text.rstrip())
        at = 0
        while at < end:
            m = _TOKEN.match(text, at)
            if m is None or m.lastgroup is None:
                raise InputError(f"invalid marker {text!r}")
            self.tokens.append((m.lastgroup, m.group(m.lastgroup)))
            at = m.end()

    def next(self) -> tuple[str, str]:
        self.pos += 1
        return self.tokens[self.pos - 1]

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expression(self) -> _Node:
        node = self.conjunction()
        while self.peek() == ("word", "or"):
            self.next()
            node = _or(node, self.conjunction())
        return node

    def conjunction(self) -> _Node:
        node = self.item()
        while self.peek() == ("word", "and"):
            self.next()
            node = _and(node, self.item())
        return node

    def item(self) -> _Node:
        if self.peek() == ("paren", "("):
            self.next()
            node = self.expression()
            self.next()
            return node
        left = self.operand()
        kind, op = self.next()
        right = self.operand()
        return _atom_node(left, "not in" if kind == "notin" else op, right, self.fixed, self.text)

    def operand(self) -> tuple[bool, str]:
        kind, value = self.next()
        if kind == "word":
            return True, _variable(value)
        if "\\" not in value and value.isprintable():
            return False, value[1:-1]
        return False, str(ast.literal_eval(value))


@lru_cache(maxsize=8192)
def _parse(text: str, fixed: tuple[tuple[str, str], ...]) -> _Node:
    if not text.strip():
        return _TRUE
    try:
        Marker(text)
    except InvalidMarker as exc:
        raise InputError(f"invalid marker {text!r}: {str(exc).splitlines()[0]}") from None
    parser = _Parser(text, dict(fixed))
    return parser.expression()


# -- printing -------------------------------------------------------------------------------------

_Cube = tuple[tuple[str, _C], ...]  # a conjunction, by variable order; absent variables are free


def _star(lo: Version, hi: Version) -> str | None:
    """``X.Y`` when [lo, hi) is ``== 'X.Y.*'``."""
    if any(v.pre or v.post is not None or v.dev is not None or v.local or v.epoch for v in (lo, hi)):
        return None
    n = len(hi.release)
    rel = lo.release + (0,) * (n - len(lo.release))
    if len(rel) == n and rel[:-1] == hi.release[:-1] and rel[-1] + 1 == hi.release[-1]:
        return ".".join(map(str, rel))
    return None


def _interval_text(var: str, iv: _Iv, eq: str = "==") -> str | None:
    lo, lc, hi, hc = iv
    if lo is not None and hi is not None:
        if lo == hi:
            return f"{var} {eq} '{lo}'"
        star = _star(lo, hi) if lc and not hc else None
        if star:
            return f"{var} {eq} '{star}.*'"
    if eq != "==":
        return None
    parts = ([f"{var} {'>=' if lc else '>'} '{lo}'"] if lo is not None else []) + (
        [f"{var} {'<=' if hc else '<'} '{hi}'"] if hi is not None else [])
    return " and ".join(parts)


def _constraint_text(var: str, c: _C) -> str:
    if isinstance(c, _Versions):
        gap = _complement(c.ivs)
        if len(gap) == 1 and (text := _interval_text(var, gap[0], "!=")):
            return text
        return " or ".join(t for iv in c.ivs if (t := _interval_text(var, iv)))
    if var in _OPAQUE:
        return var if c.include else _OPAQUE[var][0]
    op, glue = ("==", " or ") if c.include else ("!=", " and ")
    return glue.join(f"{var} {op} {_quote(v)}" for v in sorted(c.values))


def _cube_node(cube: _Cube) -> _Node:
    node = _TRUE
    for var, c in reversed(cube):
        node = _make(var, ((c, node), (c.invert(), _FALSE)))
    return node


def _paths(node: _Node, prefix: _Cube = ()) -> Iterator[_Cube]:
    if node.leaf is not None:
        if node.leaf:
            yield prefix
        return
    for c, child in node.edges:
        yield from _paths(child, (*prefix, (node.var, c)))


def _merge(cubes: list[_Cube]) -> list[_Cube]:
    """Cubes on the same variables that differ in one constraint, united, until none are left."""
    cubes = list(dict.fromkeys(cubes))
    changed = True
    while changed:
        changed = False
        for i, j in itertools.combinations(range(len(cubes)), 2):
            a, b = cubes[i], cubes[j]
            if [v for v, _ in a] != [v for v, _ in b]:
                continue
            diff = [k for k in range(len(a)) if a[k] != b[k]]
            if len(diff) == 1:
                k = diff[0]
                joined = a[k][1].join(b[k][1])
                merged = a[:k] + (((a[k][0], joined),) if not joined.is_universe() else ()) + a[k + 1:]
                cubes = [c for n, c in enumerate(cubes) if n not in (i, j)] + [merged]
                changed = True
                break
    return cubes


def _text(root: _Node) -> str:
    if root.leaf is not None:
        return "" if root.leaf else EMPTY_TEXT
    outside = _negate(root)
    cubes = []
    for cube in _merge(list(_paths(root))):
        for var, _ in cube:  # drop the constraints that the set does not need
            wider = tuple((v, k) for v, k in cube if v != var)
            if _and(_cube_node(wider), outside) is _FALSE:
                cube = wider
        cubes.append(cube)
    kept = list(dict.fromkeys(cubes))
    for cube in sorted(kept, key=lambda q: (-len(q), _cube_text(q))):  # drop cubes the others cover
        rest = [q for q in kept if q != cube]
        union = _FALSE
        for q in rest:
            union = _or(union, _cube_node(q))
        if _and(_cube_node(cube), _negate(union)) is _FALSE:
            kept = rest
    return " or ".join(sorted(_cube_text(q) for q in kept))


def _cube_text(cube: _Cube) -> str:
    texts = [_constraint_text(var, c) for var, c in cube]
    return " and ".join(f"({t})" if " or " in t and len(texts) > 1 else t for t in texts)


# -- the public class ------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _marker(text: str) -> Marker:
    return Marker(text)


@lru_cache(maxsize=1024)
def _env_version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise InputError(f"marker environment: {text!r} is not a version") from None


class MarkerSet:
    """An immutable, hashable set of marker environments (see the module's docstring)."""

    __slots__ = ("_root", "_text")

    def __init__(self, root: _Node) -> None:
        """Internal: use :meth:`parse`, :meth:`python_range`, :meth:`universe` or :meth:`empty`."""
        self._root = root
        self._text: str | None = None

    @classmethod
    def universe(cls) -> MarkerSet:
        return cls(_TRUE)

    @classmethod
    def empty(cls) -> MarkerSet:
        return cls(_FALSE)

    @classmethod
    def parse(cls, text: str, fixed: Mapping[str, str] | None = None) -> MarkerSet:
        """The environments in which the PEP 508 marker ``text`` holds (blank text: all of them).
        Atoms on the variables of ``fixed`` and on ``extra`` (``""`` unless ``fixed`` names it) are
        evaluated now. :class:`InputError` on a syntax error or an atom packaging cannot evaluate."""
        items = tuple(sorted((_variable(k), v) for k, v in (fixed or {}).items()))
        return cls(_parse(text, items))

    @classmethod
    def python_range(cls, specifier: str | SpecifierSet) -> MarkerSet:
        """The environments whose python_full_version is in ``specifier`` (``">=3.10"``)."""
        try:
            spec_set = SpecifierSet(specifier) if isinstance(specifier, str) else specifier
        except InvalidSpecifier as exc:
            raise InputError(f"invalid Python specifier {specifier!r}: {exc}") from None
        node = _TRUE
        for spec in spec_set:
            node = _and(node, _version_atom("python_full_version", spec.operator, spec.version, False, str(spec)))
        return cls(node)

    def __and__(self, other: MarkerSet) -> MarkerSet:
        return MarkerSet(_and(self._root, other._root)) if isinstance(other, MarkerSet) else NotImplemented

    def __or__(self, other: MarkerSet) -> MarkerSet:
        return MarkerSet(_or(self._root, other._root)) if isinstance(other, MarkerSet) else NotImplemented

    def __invert__(self) -> MarkerSet:
        return MarkerSet(_negate(self._root))

    def is_empty(self) -> bool:
        return self._root is _FALSE

    def is_universe(self) -> bool:
        return self._root is _TRUE

    def implies(self, other: MarkerSet) -> bool:
        """Whether every environment of this set is in ``other``."""
        return _and(self._root, _negate(other._root)) is _FALSE

    def disjoint(self, other: MarkerSet) -> bool:
        return _and(self._root, other._root) is _FALSE

    def evaluate(self, environment: Mapping[str, str]) -> bool:
        """Whether the concrete ``environment`` is in the set. It must hold every variable the set
        tests (python_full_version for python_version atoms); KeyError otherwise."""
        node = self._root
        while node.leaf is None:
            var = node.var
            value: Version | str
            if var in _OPAQUE:
                value = "true" if _marker(var).evaluate(dict(environment), "lock_file") else "false"
            elif var in _VERSION_VARS:
                value = _env_version(environment[var])
            else:
                value = environment[var]
            node = next(child for c, child in node.edges if c.contains(value))
        return bool(node.leaf)

    def _python_ivs(self) -> list[_Iv]:
        root = self._root
        if root.var != "python_full_version":
            return []
        return [iv for c, child in root.edges if child is not _FALSE and isinstance(c, _Versions) for iv in c.ivs]

    def python_lower_bound(self) -> Version | None:
        """The least python_full_version of the set (its infimum when that bound is open); None
        when the set is empty or unbounded below."""
        lows = [iv[0] for iv in self._python_ivs()]
        return None if not lows or None in lows else min(v for v in lows if v is not None)

    def python_cut_points(self) -> tuple[Version, ...]:
        """The python_full_version bounds the set mentions, sorted."""
        root = self._root
        if root.var != "python_full_version":
            return ()
        points = {v for c, _ in root.edges if isinstance(c, _Versions) for iv in c.ivs for v in (iv[0], iv[2]) if v is not None}
        return tuple(sorted(points))

    def variables(self) -> frozenset[str]:
        """The PEP 508 variables the set depends on (python_version atoms count as python_full_version)."""
        return frozenset(_OPAQUE[n.var][1] if n.var in _OPAQUE else n.var for n in _walk(self._root))

    def witness(self, base: Mapping[str, str] | None = None) -> dict[str, str] | None:
        """A full concrete environment in the set, with the values of ``base`` (default:
        :data:`DEFAULT_ENVIRONMENT`) where the set leaves them free; None for the empty set, or when
        none is found (see :func:`representative_environments`)."""
        return None if self.is_empty() else _witness(self._root, dict(DEFAULT_ENVIRONMENT, **(base or {})))

    def __str__(self) -> str:
        """A simplified PEP 508 marker, uv.lock style: ``""`` for the universe, :data:`EMPTY_TEXT`
        (``python_full_version < '0'``, always false) for the empty set. It parses back to an equal set."""
        if self._text is None:
            self._text = _text(self._root)
        return self._text

    def __repr__(self) -> str:
        return f"MarkerSet({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MarkerSet) and self._root == other._root

    def __hash__(self) -> int:
        return self._root.hash

    def __reduce__(self) -> tuple[object, ...]:
        return _restore, (self._root, {n.var: _OPAQUE[n.var] for n in _walk(self._root) if n.var in _OPAQUE})


def _restore(root: _Node, opaque: dict[str, tuple[str, str, str]]) -> MarkerSet:
    for name, entry in opaque.items():
        _OPAQUE.setdefault(name, entry)
    return MarkerSet(root)


_UNIVERSE = MarkerSet.universe()


# -- representative environments ------------------------------------------------------------------

DEFAULT_ENVIRONMENT = {
    "python_version": "3.12", "python_full_version": "3.12.0", "implementation_name": "cpython",
    "implementation_version": "3.12.0", "platform_python_implementation": "CPython", "os_name": "posix",
    "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "platform_release": "",
    "platform_version": "",
}
# Variables that go together, with the value tuples that go together (the first variable decides).
_FAMILIES = (
    (("sys_platform", "platform_system", "os_name"),
     (("linux", "Linux", "posix"), ("darwin", "Darwin", "posix"), ("win32", "Windows", "nt"))),
    (("implementation_name", "platform_python_implementation"),
     (("cpython", "CPython"), ("pypy", "PyPy"), ("graalpy", "GraalVM"))),
)
_REALISTIC = {"platform_machine": ("x86_64", "aarch64", "AMD64", "arm64")}


def _family_values(var: str) -> list[str]:
    return [f[names.index(var)] for names, families in _FAMILIES if var in names for f in families]


def _pick_string(c: _C, prefs: Iterable[str]) -> str:
    assert isinstance(c, _Strings)
    candidates: list[str] = [*prefs, *(sorted(c.values) if c.include else ()), "other"]
    candidates += [f"other{i}" for i in range(2, len(c.values) + 3)]
    return next(v for v in candidates if c.contains(v))


def _pick_version(c: _C, preferred: str) -> str:
    """A version in ``c``: the closed lower bound of its first interval as ``X.Y.Z``, else a final
    release just above it; for an interval unbounded below ``preferred`` or a release just below."""
    assert isinstance(c, _Versions)
    for lo, lc, hi, hc in c.ivs:
        piece = _Versions(((lo, lc, hi, hc),))
        if lo is not None:
            x, y, z = (*lo.release, 0, 0)[:3]
            picks = [f"{x}.{y}.{z}", f"{x}.{y}.{z + 1}", f"{x}.{y}.{z}.1"]
        else:
            picks = [preferred]
            if hi is not None:
                x, y, z = (*hi.release, 0, 0)[:3]
                picks += [f"{x}.{y}.{z}", f"{x}.{y}.{z - 1}" if z else f"{x}.{y - 1}.0" if y else f"{max(x - 1, 0)}.0.0"]
        for pick in picks:
            if piece.contains(_env_version(pick)):
                return pick
    return preferred


def _preferred_paths(node: _Node, base: Mapping[str, str]) -> Iterator[dict[str, _C]]:
    """The paths to true, the edges holding the base's value first."""
    if node.leaf is not None:
        if node.leaf:
            yield {}
        return
    var = node.var
    value = None if var in _OPAQUE else _env_version(base[var]) if var in _VERSION_VARS else base.get(var)
    edges = sorted(node.edges, key=lambda e: (not (value is not None and e[0].contains(value)), _constraint_text(var, e[0])))
    for c, child in edges:
        for rest in _preferred_paths(child, base):
            yield {var: c, **rest}


def _witness(root: _Node, base: Mapping[str, str]) -> dict[str, str] | None:
    cell = MarkerSet(root)
    for path in itertools.islice(_preferred_paths(root, base), 64):
        if (env := _realize(path, cell, base)) is not None:
            return env
    return None


def _realize(path: dict[str, _C], cell: MarkerSet, base: Mapping[str, str]) -> dict[str, str] | None:
    """An environment on ``path`` (variable -> constraint), checked to be in ``cell``."""
    env = dict(base)
    if "python_full_version" in path:
        env["python_full_version"] = _pick_version(path["python_full_version"], base["python_full_version"])
    env["python_version"] = "{}.{}".format(*_minor(_env_version(env["python_full_version"])))
    for names, families in _FAMILIES:
        family: tuple[str, ...] | None = None
        for i, name in enumerate(names):
            if name in path:
                prefs = ([family[i]] if family else []) + [base[name]] + [f[i] for f in families]
                env[name] = _pick_string(path[name], prefs)
                if family is None:
                    matches = [f for f in families if f[i] == env[name]]
                    own = tuple(base[n] for n in names)
                    family = own if own in matches else matches[0] if matches else None
        for i, name in enumerate(names):
            if name not in path and family is not None:
                env[name] = family[i]
    if "implementation_version" in path:
        env["implementation_version"] = _pick_version(path["implementation_version"], base["implementation_version"])
    elif env["implementation_name"] == "cpython":
        env["implementation_version"] = env["python_full_version"]
    for name in ("platform_machine", "platform_release", "platform_version"):
        if name in path:
            env[name] = _pick_string(path[name], (base[name], *_REALISTIC.get(name, ())))
    if "python_implementation" in env:
        env["python_implementation"] = env["platform_python_implementation"]
    if cell.evaluate(env):
        return env
    # Opaque atoms: try their literals (and the words in them) for the variables they read.
    options: dict[str, list[str]] = {}
    for var in path:
        if var in _OPAQUE:
            _, read, lit = _OPAQUE[var]
            words = [lit, *re.split(r"[\s,;]+", lit), f"{lit}.1", "0", "other", *_REALISTIC.get(read, ()), *_family_values(read)]
            if read in _VERSION_VARS:
                words = [".".join((*w.split("."), "0", "0")[:3]) for w in re.findall(r"\d+(?:\.\d+)*", lit)]
                read = "implementation_version" if read == "implementation_version" else "python_full_version"
            options.setdefault(read, [env[read]]).extend(words)
    for combo in itertools.islice(itertools.product(*options.values()), 1024):
        trial = dict(env, **dict(zip(options, combo, strict=True)))
        trial["python_version"] = "{}.{}".format(*_minor(_env_version(trial["python_full_version"])))
        if cell.evaluate(trial):
            return trial
    return None


def representative_environments(
    sets: Iterable[MarkerSet], within: MarkerSet = _UNIVERSE, base: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """One concrete marker environment per cell of the partition of ``within`` that ``sets`` induce
    (environments in one cell are in the same sets; different cells differ on some set), in a
    deterministic order: the cells inside the first set come first, and so on. ``base`` gives the
    values the sets leave free (default: :data:`DEFAULT_ENVIRONMENT`, CPython 3.12.0 on x86_64
    Linux); picked platform values are kept consistent (linux / Linux / posix, win32 / Windows / nt,
    darwin / Darwin / posix, cpython / CPython). A Python range gives its lower bound as ``X.Y.Z``.
    More than :data:`MAX_CELLS` cells is an :class:`InputError`. A cell that no concrete
    environment is found for (possible only with opaque atoms, such as ``'a' in sys_platform and
    sys_platform == 'b'``, which the algebra cannot see is empty) is left out."""
    defaults = dict(DEFAULT_ENVIRONMENT, **(base or {}))
    cells = [within] if not within.is_empty() else []
    for s in sets:
        outside = ~s  # once per set, not once per cell
        split: list[MarkerSet] = []
        for cell in cells:
            inside = cell & s
            # A cell on one side of the set is not split: canonical diagrams make the part on that
            # side equal to the cell itself, so one intersection is enough.
            if inside.is_empty():
                split.append(cell)
                continue
            split.append(inside)
            if inside != cell:
                rest = cell & outside
                if not rest.is_empty():
                    split.append(rest)
        cells = split
        if len(cells) > MAX_CELLS:
            raise InputError(f"the markers split the environments into more than {MAX_CELLS} cells")
    return [env for cell in cells if (env := cell.witness(defaults)) is not None]
