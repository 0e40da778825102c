"""Requirement sources as pip and uv read them: ``requirements.txt`` and ``pyproject.toml``.

A requirements file holds one requirement per line, comments (``#`` at the start of a line or
after whitespace), line continuations (a trailing ``\\``), ``${VARIABLE}`` references to the
environment, and these option lines, which act like the same command-line options:

========================================  ==========================================================
``-r FILE``, ``--requirement FILE``       the requirements of FILE (relative to this file's folder)
``-c FILE``, ``--constraint FILE``        FILE's requirement lines limit versions without adding
``-i URL``, ``--index-url URL``           the index (the command line's ``--index-url`` wins)
``--extra-index-url URL``                 a further index
``-f DIR``, ``--find-links DIR``          a folder of wheels (relative to this file when it is there)
``--only-binary NAMES``                   no sdists for NAMES (comma-separated, ``:all:``, ``:none:``)
``--pre``                                 pre-releases are allowed everywhere
========================================  ==========================================================

A requirement line may carry ``--hash=ALGO:DIGEST`` options (as ``varsolve resolve -o`` and
``uv pip compile --generate-hashes`` write them); they are accepted and not checked here. As in
pip, ``-r`` always adds requirements and ``-c`` always constraints, whichever file names them.
Any other option is an error. Errors are :class:`~varsolve.errors.InputError` s located
``FILE:LINE``.

``pyproject.toml`` (any ``*.toml`` given as a requirement file) contributes
``[project].dependencies``, the ``[project.optional-dependencies]`` of the requested extras
(a requirement on the project itself, ``name[a,b]``, requests further extras) and the PEP 735
``[dependency-groups]`` requested (with ``{include-group = "..."}``). Errors name the file and
the key.

The module knows nothing of argparse: :func:`read_inputs` takes the paths and names and returns
one frozen :class:`RequirementsFile`. It also writes them: :func:`format_pinned` renders a
resolution as pinned requirements (``name==version`` and ``--hash`` lines, like ``uv pip
compile``), :func:`varsolve.atomic_write.write_text_atomically` puts the text in place all at once.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    from .repository import Repository
    from .resolution import Resolution

__all__ = [
    "PinnedRequirement",
    "RequirementsFile",
    "format_pinned",
    "pinned_requirements",
    "read_constraints_file",
    "read_inputs",
    "read_pyproject",
    "read_requirements_file",
    "redact_url_credentials",
]


@dataclass(frozen=True)
class RequirementsFile:
    """What one or more requirement sources ask for (in the order read)."""

    requirements: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    only_binary: frozenset[str] = frozenset()  # canonical names, or ":all:"
    pre: bool = False
    # The extras and dependency groups that some pyproject.toml read here defines (normalized).
    extras_found: frozenset[str] = field(default=frozenset(), compare=False)
    groups_found: frozenset[str] = field(default=frozenset(), compare=False)
    # A pyproject.toml's [project].requires-python (a universal resolution's default universe).
    requires_python: str | None = None

    def merge(self, other: RequirementsFile) -> RequirementsFile:
        """``self`` then ``other``: lists are concatenated, ``other``'s index URL wins."""
        return RequirementsFile(
            requirements=self.requirements + other.requirements,
            constraints=self.constraints + other.constraints,
            index_url=other.index_url if other.index_url is not None else self.index_url,
            extra_index_urls=_unique(self.extra_index_urls + other.extra_index_urls),
            find_links=_unique(self.find_links + other.find_links),
            only_binary=self.only_binary | other.only_binary,
            pre=self.pre or other.pre,
            extras_found=self.extras_found | other.extras_found,
            groups_found=self.groups_found | other.groups_found,
            requires_python=other.requires_python if other.requires_python is not None else self.requires_python,
        )


def read_inputs(
    requirement_files: Sequence[str | os.PathLike[str]] = (),
    constraint_files: Sequence[str | os.PathLike[str]] = (),
    *,
    extras: Sequence[str] = (),
    groups: Sequence[str] = (),
) -> RequirementsFile:
    """Every ``-r`` and ``-c`` file of a command line, merged in order.

    ``*.toml`` requirement files are read as ``pyproject.toml``, with ``extras`` and ``groups``;
    each of those must be defined by at least one of them.
    """
    from packaging.utils import canonicalize_name

    tomls = [p for p in requirement_files if _is_toml(p)]
    if (extras or groups) and not tomls:
        option = "--extra" if extras else "--group"
        raise InputError(f"{option} NAME needs a pyproject.toml requirement source (-r pyproject.toml)")
    result = RequirementsFile()
    for path in requirement_files:
        if _is_toml(path):
            result = result.merge(read_pyproject(path, extras=extras, groups=groups))
        else:
            result = result.merge(read_requirements_file(path))
    for path in constraint_files:
        result = result.merge(read_constraints_file(path))
    where = ", ".join(str(p) for p in tomls)
    for extra in extras:
        if canonicalize_name(extra) not in result.extras_found:
            raise InputError(f"project.optional-dependencies: no extra {extra!r}", where=where)
    for group in groups:
        if canonicalize_name(group) not in result.groups_found:
            raise InputError(f"dependency-groups: no group {group!r}", where=where)
    return result


# -- requirements.txt ---------------------------------------------------------------------------


def read_requirements_file(path: str | os.PathLike[str]) -> RequirementsFile:
    """A pip requirements file and the files it includes."""
    return _Reader().read(str(path), constraint=False, stack=())


def read_constraints_file(path: str | os.PathLike[str]) -> RequirementsFile:
    """A pip constraints file: its requirement lines become constraints."""
    return _Reader().read(str(path), constraint=True, stack=())


# Option -> (name, takes a value). Short options may also be written glued: -rFILE.
_OPTIONS: dict[str, tuple[str, bool]] = {
    "-r": ("requirement", True),
    "--requirement": ("requirement", True),
    "-c": ("constraint", True),
    "--constraint": ("constraint", True),
    "-i": ("index_url", True),
    "--index-url": ("index_url", True),
    "--extra-index-url": ("extra_index_url", True),
    "-f": ("find_links", True),
    "--find-links": ("find_links", True),
    "--only-binary": ("only_binary", True),
    "--pre": ("pre", False),
    "--hash": ("hash", True),
}
_SUPPORTED = "-r, -c, -i/--index-url, --extra-index-url, -f/--find-links, --only-binary, --pre, --hash"
_COMMENT = re.compile(r"(^|\s+)#.*$")
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_HASH = re.compile(r"^[a-z0-9_]+:[0-9a-fA-F]+$")


class _Reader:
    def read(self, path: str, *, constraint: bool, stack: tuple[str, ...], text: str | None = None) -> RequirementsFile:
        if text is None:
            try:
                text = _load(path)
            except OSError as exc:
                what = "constraints" if constraint else "requirements"
                raise InputError(f"cannot read {what}: {exc.strerror}", where=path) from None
        stack = (*stack, os.path.realpath(path))
        result = RequirementsFile()
        for number, line in _logical_lines(text):
            where = f"{path}:{number}"
            try:
                result = result.merge(self._line(line, path, constraint=constraint, stack=stack))
            except InputError as exc:
                if exc.where is not None:  # from a nested file: it names its own line
                    raise
                raise InputError(str(exc), where=where) from None
        return result

    def _line(self, line: str, path: str, *, constraint: bool, stack: tuple[str, ...]) -> RequirementsFile:
        requirement, tokens = _split_options(line)
        options = _parse_options(tokens)
        if requirement:
            other = [token for token, name, _ in options if name != "hash"]
            if other:
                raise InputError(f"option {other[0]!r} cannot follow a requirement on its line")
            for _, _, value in options:
                if not _HASH.match(value):
                    raise InputError(f"--hash {value!r}: expected ALGORITHM:HEXDIGEST")
            return self._requirement(requirement, constraint=constraint)
        result = RequirementsFile()
        for _, name, value in options:
            result = result.merge(self._option(name, value, path, stack=stack))
        return result

    def _requirement(self, text: str, *, constraint: bool) -> RequirementsFile:
        if constraint:
            from .constraints import check_constraint

            check_constraint(text)
            return RequirementsFile(constraints=(text,))
        from .variants.markers import parse_requirement

        parse_requirement(text)
        return RequirementsFile(requirements=(text,))

    def _option(self, name: str, value: str, path: str, *, stack: tuple[str, ...]) -> RequirementsFile:
        if name in ("requirement", "constraint"):
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value):
                raise InputError(f"{value}: only local files can be included")
            nested = value if os.path.isabs(value) else os.path.join(os.path.dirname(path), value)
            if "\0" in nested:
                raise InputError(f"{value!r}: not a valid path")
            if os.path.realpath(nested) in stack:
                raise InputError(f"{value}: includes itself")
            try:
                text = _load(nested)
            except OSError as exc:
                raise InputError(f"cannot read {nested}: {exc.strerror}") from None
            return self.read(nested, constraint=name == "constraint", stack=stack, text=text)
        if name == "index_url":
            return RequirementsFile(index_url=value)
        if name == "extra_index_url":
            return RequirementsFile(extra_index_urls=(value,))
        if name == "find_links":
            # pip: relative to the requirements file when it exists there, else as given.
            beside = os.path.join(os.path.dirname(path), value)
            is_url = "://" in value
            return RequirementsFile(find_links=(beside if not is_url and os.path.exists(beside) else value,))
        if name == "only_binary":
            return RequirementsFile(only_binary=_only_binary(value))
        if name == "pre":
            return RequirementsFile(pre=True)
        raise InputError("--hash belongs on a requirement's line")


def _load(path: str) -> str:
    """The text of ``path`` (a UTF-8 BOM dropped); an undecodable file, one holding NUL bytes
    (binary), one past :data:`~varsolve.limits.MAX_TEXT_FILE` and a path with a NUL byte are
    OSErrors too."""
    from .limits import TooLarge, read_text_capped

    try:
        raw = read_text_capped(path)
    except TooLarge as exc:
        raise OSError(0, str(exc)) from None
    except ValueError:  # a NUL byte in the path
        raise OSError(0, "not a valid path") from None
    if b"\0" in raw:
        raise OSError(0, "a binary file, not text (it holds NUL bytes)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise OSError(0, "not UTF-8 text") from None


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first physical line number, text) of each non-empty line: continuations joined,
    comments removed, ``${VARIABLE}`` expanded (as pip does: only the set ones)."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        is_comment = _COMMENT.match(line) is not None
        if line.endswith("\\") and not is_comment:
            if not pending:
                start = number
            pending.append(line[:-1])
            continue
        if pending:
            if is_comment:  # a comment ends a continuation
                line = ""
            pending.append(line)
            joined, pending = "".join(pending), []
            yield from _clean(start, joined)
        else:
            yield from _clean(number, line)
    if pending:
        yield from _clean(start, "".join(pending))


def _clean(number: int, line: str) -> Iterator[tuple[int, str]]:
    line = _COMMENT.sub("", line).strip()
    line = _VARIABLE.sub(lambda m: os.environ.get(m[1], m[0]), line)
    if line:
        yield number, line


def _split_options(line: str) -> tuple[str, list[str]]:
    """pip's split: the requirement runs up to the first word that starts with ``-``."""
    words = line.split()
    for i, word in enumerate(words):
        if word.startswith("-"):
            try:
                tokens = shlex.split(" ".join(words[i:]))
            except ValueError as exc:
                raise InputError(f"cannot split options: {exc}") from None
            return " ".join(words[:i]), tokens
    return " ".join(words), []


def _glued(word: str) -> bool:
    return len(word) > 2 and word[:2] in ("-r", "-c", "-i", "-f")


def _parse_options(tokens: list[str]) -> list[tuple[str, str, str]]:
    """(option as written, its name, its value) of each option."""
    out: list[tuple[str, str, str]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        value: str | None = None
        if token.startswith("--") and "=" in token:
            token, value = token.split("=", 1)
        elif token not in _OPTIONS and _glued(token):
            token, value = token[:2], token[2:]
        if token in ("-e", "--editable"):
            raise InputError("editable requirements (-e) are not supported: varsolve resolves from indexes")
        if token not in _OPTIONS:
            if token.startswith("-"):
                raise InputError(f"unsupported option {token!r} (supported: {_SUPPORTED})")
            raise InputError(f"unexpected {token!r} after the options")
        name, takes_value = _OPTIONS[token]
        if takes_value and value is None:
            if i + 1 >= len(tokens):
                raise InputError(f"option {token!r} needs a value")
            i += 1
            value = tokens[i]
        elif not takes_value and value is not None:
            raise InputError(f"option {token!r} takes no value")
        if takes_value and not value:
            raise InputError(f"option {token!r} needs a value")
        out.append((token, name, value or ""))
        i += 1
    return out


def _only_binary(value: str) -> frozenset[str]:
    from packaging.utils import canonicalize_name

    names: set[str] = set()
    for item in value.split(","):
        item = item.strip()
        if item == ":none:":
            names.clear()
        elif item == ":all:":
            names = {":all:"}
        elif item:
            if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", item):
                raise InputError(f"--only-binary: invalid project name {item!r}")
            if ":all:" not in names:
                names.add(canonicalize_name(item))
    return frozenset(names)


# -- pyproject.toml -----------------------------------------------------------------------------


def read_pyproject(
    path: str | os.PathLike[str], *, extras: Sequence[str] = (), groups: Sequence[str] = ()
) -> RequirementsFile:
    """``[project].dependencies`` (when there is a ``[project]`` table), the requested extras
    and the requested PEP 735 dependency groups that this file defines."""
    from packaging.utils import canonicalize_name

    from .structured import load_toml
    from .textfile import read_text_file

    where = str(path)
    data = load_toml(read_text_file(os.fspath(path), "requirements"), where)
    project = data.get("project")
    table_groups = data.get("dependency-groups")
    if project is None and table_groups is None:
        raise InputError("neither [project] nor [dependency-groups]: no requirements here", where=where)
    if project is None and not groups:
        raise InputError("no [project] table (its [dependency-groups] are read with --group NAME)", where=where)
    result = RequirementsFile()
    if project is not None:
        if not isinstance(project, dict):
            raise InputError("project: must be a table", where=where)
        result = _project(project, [canonicalize_name(e) for e in extras], where)
        requires_python = project.get("requires-python")
        if requires_python is not None:
            result = replace(result, requires_python=_requires_python(requires_python, where))
    if table_groups is not None:
        found, requirements = _dependency_groups(table_groups, [canonicalize_name(g) for g in groups], where)
        result = replace(
            result, requirements=result.requirements + requirements, groups_found=frozenset(found)
        )
    return result


def _requires_python(value: object, where: str) -> str:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if not isinstance(value, str):
        raise InputError(f"project.requires-python: must be a string, not {type(value).__name__}", where=where)
    try:
        return str(SpecifierSet(value))
    except InvalidSpecifier:
        raise InputError(f"project.requires-python: invalid specifier {value!r}", where=where) from None


def _project(project: dict[str, Any], extras: list[str], where: str) -> RequirementsFile:
    from packaging.utils import canonicalize_name

    dynamic = project.get("dynamic", [])
    if not isinstance(dynamic, list):
        raise InputError("project.dynamic: must be an array", where=where)
    name = project.get("name")
    own = canonicalize_name(name) if isinstance(name, str) else None
    if "dependencies" in dynamic:
        raise InputError("project.dependencies: dynamic; varsolve cannot read them without building the project", where=where)
    requirements = _requirement_list(project.get("dependencies", []), "project.dependencies", where)
    optional = project.get("optional-dependencies", {})
    if extras and "optional-dependencies" in dynamic:
        raise InputError(
            "project.optional-dependencies: dynamic; varsolve cannot read them without building the project",
            where=where,
        )
    if not isinstance(optional, dict):
        raise InputError("project.optional-dependencies: must be a table", where=where)
    tables: dict[str, tuple[str, Any]] = {canonicalize_name(k): (k, v) for k, v in optional.items()}
    found = [e for e in extras if e in tables]
    done: set[str] = set()
    todo = list(found)
    out = list(_plain(requirements, own, where, "project.dependencies", todo))
    while todo:
        extra = todo.pop(0)
        if extra in done or extra not in tables:
            continue  # a missing extra named by a self-reference: pip ignores it too
        done.add(extra)
        key, value = tables[extra]
        label = f"project.optional-dependencies.{key}"
        out.extend(_plain(_requirement_list(value, label, where), own, where, label, todo))
    return RequirementsFile(requirements=tuple(out), extras_found=frozenset(found))


def _plain(
    requirements: Sequence[str], own: str | None, where: str, key: str, extras_todo: list[str]
) -> Iterator[str]:
    """``requirements`` without the references to the project itself, whose extras are
    queued instead (the ``all = ["name[a,b]"]`` idiom)."""
    from .variants.markers import parse_requirement

    for text in requirements:
        parsed = parse_requirement(text)
        if own is None or parsed.name != own:
            yield text
            continue
        if parsed.has_marker or parsed.url or str(parsed.specifier):
            raise InputError(f"{key}: {text!r}: a reference to the project itself takes only extras", where=where)
        extras_todo.extend(sorted(parsed.extras))


def _requirement_list(value: Any, key: str, where: str) -> list[str]:
    from .variants.markers import parse_requirement

    if not isinstance(value, list):
        raise InputError(f"{key}: must be an array of requirement strings", where=where)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise InputError(f"{key}[{i}]: must be a requirement string", where=where)
        try:
            parse_requirement(item)
        except InputError as exc:
            raise InputError(f"{key}[{i}]: {exc}", where=where) from None
    return list(value)


def _dependency_groups(table: Any, wanted: list[str], where: str) -> tuple[list[str], tuple[str, ...]]:
    """PEP 735: the requested groups that exist here, and their requirements (includes
    expanded, each group once)."""
    from packaging.utils import canonicalize_name

    if not isinstance(table, dict):
        raise InputError("dependency-groups: must be a table", where=where)
    groups: dict[str, tuple[str, Any]] = {}
    for key, value in table.items():
        normal = canonicalize_name(key)
        if normal in groups:
            raise InputError(f"dependency-groups: {groups[normal][0]!r} and {key!r} are the same group", where=where)
        groups[normal] = (key, value)

    def expand(name: str, chain: tuple[str, ...]) -> Iterator[str]:
        key, value = groups[name]
        label = f"dependency-groups.{key}"
        if not isinstance(value, list):
            raise InputError(f"{label}: must be an array", where=where)
        for i, item in enumerate(value):
            if isinstance(item, str):
                yield from _requirement_list([item], f"{label}[{i}]", where)
            elif isinstance(item, dict) and set(item) == {"include-group"} and isinstance(item["include-group"], str):
                included = canonicalize_name(item["include-group"])
                if included not in groups:
                    raise InputError(f"{label}[{i}]: no group {item['include-group']!r} to include", where=where)
                if included in chain:
                    cycle = " -> ".join(groups[g][0] for g in (*chain, included))
                    raise InputError(f"{label}[{i}]: include-group cycle ({cycle})", where=where)
                yield from expand(included, (*chain, included))
            else:
                raise InputError(f"{label}[{i}]: must be a requirement string or {{include-group = \"NAME\"}}", where=where)

    found = [g for g in wanted if g in groups]
    out: list[str] = []
    for name in dict.fromkeys(found):
        out.extend(expand(name, (name,)))
    return found, tuple(out)


def _is_toml(path: str | os.PathLike[str]) -> bool:
    return str(path).endswith(".toml")


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


# -- writing pinned requirements ------------------------------------------------------------------

HASH_ALGORITHMS = ("sha256", "sha384", "sha512")  # what pip's --hash accepts


@dataclass(frozen=True)
class PinnedRequirement:
    """One line of a pinned requirements file: the chosen file and its hashes."""

    name: str
    version: str
    filename: str
    variant: str | None = None  # the variant label; "" for a non-variant wheel, None for an sdist
    hashes: Mapping[str, str] = field(default_factory=dict, compare=False)


def pinned_requirements(resolution: Resolution, repository: Repository) -> list[PinnedRequirement]:
    """The pins of a satisfiable ``resolution``, sorted by name, with the hashes the
    repository knows for each chosen file."""
    from packaging.utils import canonicalize_name

    out: list[PinnedRequirement] = []
    for name in sorted(resolution.packages):
        pin = resolution.packages[name]
        hashes: Mapping[str, str] = {}
        for release in repository.releases(canonicalize_name(name)):
            if release.version == pin.version:
                hashes = next((f.hashes for f in release.files if f.filename == pin.filename), {})
                break
        out.append(PinnedRequirement(name, str(pin.version), pin.filename, pin.variant, dict(hashes)))
    return out


def format_pinned(pins: Iterable[PinnedRequirement], *, header: Sequence[str] = ()) -> str:
    """pip-readable pinned requirements: ``header`` as comments, then per package
    ``name==version``, its ``--hash`` options (of the chosen file) and the variant label as a
    comment (pip cannot select a variant; with the hash of the variant wheel, a hash-checking
    installer can only install that file)."""
    lines = [f"# {line}".rstrip() for line in header]
    for pin in pins:
        hashes = [f"--hash={algo}:{pin.hashes[algo]}" for algo in HASH_ALGORITHMS if pin.hashes.get(algo)]
        if hashes:
            lines.append(f"{pin.name}=={pin.version} \\")
            lines.extend(f"    {h} \\" for h in hashes[:-1])
            lines.append(f"    {hashes[-1]}")
        else:
            lines.append(f"{pin.name}=={pin.version}")
        if pin.variant:
            lines.append(f"    # variant: {pin.variant} ({pin.filename})")
        elif pin.variant is None:
            lines.append(f"    # sdist: {pin.filename}")
    return "\n".join(lines) + "\n"


def redact_url_credentials(text: str) -> str:
    """``text`` with the user:password of every URL in it replaced by ``****``."""
    return re.sub(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@", r"\1****@", text)
