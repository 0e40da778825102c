"""Scenario files: packse 0.3.59's TOML plus variant additions (docs/scenario-format.md).

A scenario is both a problem (root, target, options, an in-memory repository), which this
module loads, and the expectations a strategy's resolution is checked against, which
:mod:`varsolve.expectations` reads from its ``[expected]`` table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import parse_tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import InputError, InvalidVariantMetadata, VarsolveError
from ..expectations import Expected, read_expected
from ..problem import DEFAULT_POLICY, POLICIES, POLICY_VALUES, Problem, ResolverOptions
from ..repository import CoreMetadata, DistFile, Release, RepositoryBase
from ..target import Target
from ..toml_fields import TomlFields, key_part
from ..variants.filenames import escaped_name, parse_wheel, wheel_filename
from ..variants.labels import NULL_LABEL, validate_label
from ..variants.markers import parse_requirement
from ..variants.metadata import SCHEMA_850, Provider, VariantMetadata
from ..variants.properties import ABI_DEPENDENCY, PropertyMap, VariantFeature, VariantProperty, group_properties

_TOP = {"name", "description", "root", "environment", "resolver_options", "packages", "expected", "template"}
_ROOT = {"requires", "requires_python"}
_ENVIRONMENT = {"python", "additional_python", "variants", "targets"}
_TARGET = {"variants", "enable"}
_OPTIONS = {
    "strict",
    "python", "prereleases", "no_build", "no_binary", "universal", "python_platform",
    "required_environments", "unify", "enable", "yanked", "variants",
    "prerelease_policy", "requires_python_policy", "policy",
}
_VERSION = {
    "requires", "extras", "requires_python", "sdist", "wheel", "yanked", "wheel_tags", "description",
    "namespaces", "optional", "variants", "providers", "variants_json", "variant_tags",
}
# PEP 508 distribution names; extras are names too (PEP 685).
_NAME_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
# The longest file name file systems take (NAME_MAX, 255 bytes): every file of a release must
# fit, with the ".metadata" that varsolve index build adds to its core metadata file.
_MAX_FILENAME_BYTES = 255 - len(".metadata")


@dataclass(frozen=True)
class Scenario:
    path: Path
    name: str
    description: str
    problem: Problem
    expected: Expected
    universal: bool = False
    # Universal resolution: the root's requires_python and resolver_options.required_environments.
    requires_python: str | None = None
    environments: tuple[str, ...] = ()
    # [environment.targets.<name>]: variant targets (supported properties) of a universal scenario.
    targets: tuple[tuple[str, Target], ...] = ()


class ScenarioRepository(RepositoryBase):
    """An in-memory repository built from a scenario's ``[packages]``."""

    def __init__(self) -> None:
        self._releases: dict[NormalizedName, list[Release]] = {}
        self._metadata: dict[tuple[NormalizedName, Version], CoreMetadata] = {}
        # A release's variant metadata, or why it is invalid (``variants_json`` read as published).
        self._variants: dict[tuple[NormalizedName, Version], VariantMetadata | InvalidVariantMetadata] = {}

    def add(
        self, release: Release, metadata: CoreMetadata, variants: VariantMetadata | InvalidVariantMetadata | None
    ) -> None:
        self._releases.setdefault(release.name, []).append(release)
        self._metadata[(release.name, release.version)] = metadata
        if variants is not None:
            self._variants[(release.name, release.version)] = variants

    def names(self) -> list[NormalizedName]:
        return sorted(self._releases)

    def releases(self, name: NormalizedName) -> list[Release]:
        return list(self._releases.get(name, ()))

    def metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        return self._metadata[(release.name, release.version)]

    def variant_metadata(self, release: Release) -> VariantMetadata | None:
        found = self._variants.get((release.name, release.version))
        if isinstance(found, InvalidVariantMetadata):
            raise found
        return found


def load_scenario(path: str | Path, strict: bool | None = None, *, packages: bool = True) -> Scenario:
    """Load a scenario file.

    ``strict`` (default: the file's ``resolver_options.strict``, else off) also rejects a
    requirement on a package the file does not define and a dependency cycle among its
    packages, as input errors. Off by default because packse's scenarios use missing packages
    to mean "unsatisfiable" (and pip installs cycles).

    ``packages=False``: the packages come from elsewhere (an index): the ``[packages]`` table
    is neither read nor checked, and the problem's repository is empty.
    """
    from ..textfile import read_text_file

    return load_scenario_text(read_text_file(path, "scenario"), Path(path), strict, packages=packages)


def load_scenario_text(text: str, path: str | Path, strict: bool | None = None, *, packages: bool = True) -> Scenario:
    """Load a scenario from its text; ``path`` names it (in errors and ``Scenario.path``)."""
    from ..structured import load_toml

    path = Path(path)
    data = None
    if not packages:  # not even parsed, when its tables can be cut out of the text safely
        short = without_packages_tables(text)
        if short is not None:
            try:
                data = load_toml(short, str(path))
            except InputError:
                data = None  # the whole text tells what is wrong, if anything
    if data is None:
        data = load_toml(text, str(path))
    try:
        return ScenarioLoader(path, strict, packages=packages).scenario(data)
    except VarsolveError as exc:
        if isinstance(exc, InputError) and exc.where and exc.where.startswith(str(path)):
            raise
        raise InputError(str(exc), where=str(path)) from None


# A TOML table header line: [a.b."c"] or [[a.b]], with an optional comment.
_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_HEADER_PATTERN = rf"^[ \t]*\[\[?[ \t]*({_KEY})(?:[ \t]*\.[ \t]*{_KEY})*[ \t]*\]\]?[ \t]*(?:#[^\n]*)?\r?$"
_PACKAGES_KEYS = ("packages", '"packages"', "'packages'")


def without_packages_tables(text: str) -> str | None:
    """``text`` without its ``[packages...]`` tables (each header line to the next header),
    or ``None`` when that cannot be done safely: a multi-line string at or after the first of
    them (a header-like line in it would be cut). A header-like line elsewhere can only be an
    element of a multi-line array, and cutting there leaves text that is not TOML (the line
    after it starts with ``,`` or ``]``): the caller then parses the whole text."""
    headers = list(re.finditer(_HEADER_PATTERN, text, re.M))  # compiled once, by re's cache
    first = next((h.start() for h in headers if h[1] in _PACKAGES_KEYS), None)
    if first is None or '"""' in text[first:] or "'''" in text[first:]:
        return None
    parts = [text[: headers[0].start()]] if headers else [text]
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        if header[1] not in _PACKAGES_KEYS:
            parts.append(text[header.start() : following.start() if following is not None else len(text)])
    return "".join(parts)


def iter_scenario_files(paths: list[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(p.rglob("*.toml")))
        elif p.exists():
            files.append(p)
        else:
            raise InputError("no such file or directory", where=str(p))
    return files


class ScenarioLoader(TomlFields):
    """A scenario file's TOML document -> :class:`Scenario` (one loader per file)."""

    def __init__(self, path: Path, strict: bool | None = None, *, packages: bool = True) -> None:
        super().__init__(path)
        self.strict = strict
        self.packages = packages  # False: [packages] is not read (see load_scenario)
        # (requiring package or None for the root, required name, key) for the strict checks
        self.edges: list[tuple[NormalizedName | None, NormalizedName, str]] = []

    def requirement(self, text: Any, key: str, dependency: bool = True) -> str:
        """A checked requirement; a ``dependency`` (not a provider plugin's) is an edge for the
        strict checks."""
        if not isinstance(text, str):
            raise self.err(key, "requirement must be a string")
        if text != " ".join(text.splitlines()):  # a line break would end a built METADATA's headers
            raise self.err(key, f"a requirement is one line: {text!r}")
        try:
            req = parse_requirement(text)
        except InputError as exc:
            raise self.err(key, str(exc)) from None
        if dependency:
            self.edges.append((self._current, req.name, key))
        return text

    _current: NormalizedName | None = None

    def scenario(self, data: dict[str, Any]) -> Scenario:
        self.table(data, "", _TOP)
        name = self.string(data.get("name", self.path.stem), "name")
        description = self.string(data.get("description", ""), "description")
        self.string(data.get("template", ""), "template")
        root = self.table(data.get("root", {}), "root", _ROOT)
        requires = [self.requirement(r, "root.requires") for r in self.strings(root.get("requires", []), "root.requires")]
        requires_python = None
        if "requires_python" in root:
            spec = self.specifier(root["requires_python"], "root.requires_python")
            requires_python = str(spec) if spec is not None else None
        env = self.table(data.get("environment", {}), "environment", _ENVIRONMENT)
        for i, extra_python in enumerate(self.strings(env.get("additional_python", []), "environment.additional_python")):
            self.python_version(extra_python, f"environment.additional_python[{i}]")
        opts = self.table(data.get("resolver_options", {}), "resolver_options", _OPTIONS)
        universal = self.boolean(opts.get("universal", False), "resolver_options.universal")
        environments = tuple(self.strings(opts.get("required_environments", []), "resolver_options.required_environments"))
        for i, marker in enumerate(environments):
            self.marker(marker, f"resolver_options.required_environments[{i}]")
        variants = self.supported(env.get("variants", {}))
        enabled = self.strings(opts.get("enable", []), "resolver_options.enable")
        target = self.target(opts, env, variants, enabled)
        variant_targets = []
        for target_name, raw in self.table(env.get("targets", {}), "environment.targets").items():
            from ..lockfile.targets import validate_target_name

            key = f"environment.targets.{key_part(target_name)}"
            described = self.table(raw, key, _TARGET)
            validate_target_name(target_name, f"{self.path}: {key}")
            own = self.supported(described.get("variants", {}), f"{key}.variants")
            own_enabled = self.strings(described.get("enable", []), f"{key}.enable")
            variant_targets.append((target_name, self.target(opts, env, own, own_enabled)))
        if variant_targets and not universal:
            raise self.err("environment.targets", "variant targets need resolver_options.universal = true")
        options = self.options(opts)
        repo = ScenarioRepository()
        strict = self.strict if self.strict is not None else self.boolean(opts.get("strict", False), "resolver_options.strict")
        if self.packages:
            packages = self.table(data.get("packages", {}), "packages")
            self.distinct(packages, "packages", self.package_name, "package")
            for raw_name, pkg in packages.items():
                self._current = canonicalize_name(raw_name)
                self.package(repo, raw_name, pkg)
            self._current = None
            if strict:
                self.check_closed_and_acyclic(set(repo.names()))
        expected = read_expected(self, data.get("expected", {"satisfiable": True}))
        problem = Problem(repo, target, tuple(requires), options)
        return Scenario(
            self.path, name, description.strip(), problem, expected, universal=universal,
            requires_python=requires_python, environments=environments, targets=tuple(variant_targets),
        )

    def distinct(
        self, table: dict[str, Any], key: str, normalize: Callable[[str, str], object], what: str, quote: bool = False
    ) -> None:
        """Two keys of ``table`` that normalise to one (``Foo_Bar`` and ``foo-bar``, ``1.0``
        and ``1.0.0``) are an error naming both."""
        seen: dict[object, str] = {}
        for raw in table:
            normal = normalize(raw, f"{key}.{key_part(raw, quote=quote)}")
            if normal in seen:
                first = seen[normal]
                raise self.err(
                    f"{key}.{key_part(raw, quote=quote)}",
                    f"the same {what} as {key}.{key_part(first, quote=quote)} ({normal}): write it once",
                )
            seen[normal] = raw

    def package_name(self, raw: str, key: str) -> NormalizedName:
        if not _NAME_RE.fullmatch(raw):
            raise self.err(key, f"invalid package name {raw!r}")
        return canonicalize_name(raw)

    def extra_name(self, raw: str, key: str) -> NormalizedName:
        if not _NAME_RE.fullmatch(raw):
            raise self.err(key, f"invalid extra name {raw!r}")
        return canonicalize_name(raw)

    def version(self, raw: str, key: str) -> Version:
        try:
            if raw != raw.strip():
                raise InvalidVersion(raw)
            return Version(raw)
        except InvalidVersion:
            raise self.err(key, "invalid version") from None

    def specifier(self, data: Any, key: str) -> SpecifierSet | None:
        """A specifier string (``""``: none)."""
        text = self.string(data, key)
        try:
            return SpecifierSet(text) if text.strip() else None
        except InvalidSpecifier:
            raise self.err(key, f"invalid specifier {text!r}") from None

    def python_version(self, data: Any, key: str) -> None:
        from ..target import parse_python

        if not isinstance(data, str):
            raise self.err(key, f"must be a string such as \"3.12\" (got {data!r})")
        try:
            parse_python(data, where=key)
        except InputError as exc:
            raise InputError(str(exc), where=str(self.path)) from None

    def marker(self, data: str, key: str) -> None:
        from packaging.markers import InvalidMarker, Marker

        try:
            Marker(data)
        except InvalidMarker as exc:
            raise self.err(key, f"invalid marker {data!r}: {' '.join(str(exc).split())}") from None

    def target(
        self, opts: dict[str, Any], env: dict[str, Any], variants: dict[str, dict[str, list[str]]], enabled: list[str]
    ) -> Target:
        """The scenario's own target: ``resolver_options.python`` (else ``environment.python``,
        else 3.12) and ``resolver_options.python_platform``; errors name the key."""
        key = "resolver_options.python" if "python" in opts else "environment.python"
        python = opts.get("python", env.get("python", "3.12"))
        if not isinstance(python, str):
            raise self.err(key, f"must be a string such as \"3.12\" (got {python!r})")
        platform = opts.get("python_platform")
        if platform is not None and not isinstance(platform, str):
            raise self.err("resolver_options.python_platform", f"must be a platform name such as \"linux\" (got {platform!r})")
        try:
            target = Target.make(python, None, variants, enabled, where=key)
            if platform is not None:
                target = target.with_platform(platform, where="resolver_options.python_platform")
        except InputError as exc:
            raise InputError(str(exc), where=str(self.path)) from None
        return target

    def check_closed_and_acyclic(self, defined: set[str]) -> None:
        for _, name, key in self.edges:
            if name not in defined:
                raise self.err(key, f"requires {name}, which is not defined under [packages]")
        import networkx

        graph = networkx.DiGraph()
        keys: dict[tuple[str, str], str] = {}
        for parent, name, key in self.edges:
            if parent is not None:
                graph.add_edge(parent, name)
                keys.setdefault((parent, name), key)
        try:
            cycle = networkx.find_cycle(graph)
        except networkx.NetworkXNoCycle:
            return
        path = " -> ".join([cycle[0][0], *(b for _, b in cycle)])
        raise self.err(keys[cycle[0]], f"dependency cycle {path}")

    def supported(self, data: Any, table_key: str = "environment.variants") -> dict[str, dict[str, list[str]]]:
        out: dict[str, dict[str, list[str]]] = {}
        for key, values in self.table(data, table_key).items():
            where = f'{table_key}."{key}"'
            try:
                feature = VariantFeature.parse(key)
                for value in self.strings(values, where):
                    VariantProperty.make(feature.namespace, feature.feature, value)
            except InputError as exc:
                raise self.err(where, str(exc)) from None
            out.setdefault(feature.namespace, {})[feature.feature] = list(values)
        return out

    def options(self, opts: dict[str, Any]) -> ResolverOptions:
        unify = []
        for text in self.strings(opts.get("unify", []), "resolver_options.unify"):
            try:
                unify.append(VariantFeature.parse(text))
            except InputError as exc:
                raise self.err("resolver_options.unify", str(exc)) from None
        # A preset sets the three policies; a policy's own key overrides it.
        preset = opts.get("policy", DEFAULT_POLICY)
        if not isinstance(preset, str) or preset not in POLICIES:
            raise self.err("resolver_options.policy", f"must be one of {', '.join(map(repr, POLICIES))}")
        defaults: Mapping[str, object] = POLICIES[preset]
        policies = {}
        for key, values in POLICY_VALUES.items():
            value = opts.get(key, defaults[key])
            if value not in values:
                raise self.err(f"resolver_options.{key}", f"must be one of {', '.join(map(repr, values))}")
            policies[key] = value
        return ResolverOptions(
            unify=tuple(unify),
            prereleases=self.boolean(opts.get("prereleases", False), "resolver_options.prereleases"),
            no_build=frozenset(self._names(opts.get("no_build", []), "resolver_options.no_build")),
            no_binary=frozenset(self._names(opts.get("no_binary", []), "resolver_options.no_binary")),
            **policies,
            variants=self.boolean(opts.get("variants", True), "resolver_options.variants"),
        )

    def _names(self, data: Any, key: str) -> list[str]:
        return [n if n == ":all:" else canonicalize_name(n) for n in self.strings(data, key)]

    def package(self, repo: ScenarioRepository, raw_name: str, pkg: Any) -> None:
        name = canonicalize_name(raw_name)
        pkg_key = f"packages.{key_part(raw_name)}"
        pkg = self.table(pkg, pkg_key, {"versions"})
        versions = self.table(pkg.get("versions", {}), f"{pkg_key}.versions")
        self.distinct(versions, f"{pkg_key}.versions", self.version, "version", quote=True)
        for raw_version, info in versions.items():
            key = f"{pkg_key}.versions.{key_part(raw_version, quote=True)}"
            version = self.version(raw_version, key)
            self.release(repo, name, version, self.table(info, key, _VERSION), key)

    def release(
        self, repo: ScenarioRepository, name: NormalizedName, version: Version, info: dict[str, Any], key: str
    ) -> None:
        requires = [self.requirement(r, f"{key}.requires") for r in self.strings(info.get("requires", []), f"{key}.requires")]
        extras = self.table(info.get("extras", {}), f"{key}.extras")
        self.distinct(extras, f"{key}.extras", self.extra_name, "extra")
        for extra, reqs in extras.items():
            extra_key = f"{key}.extras.{key_part(extra)}"
            for text in self.strings(reqs, extra_key):
                self.requirement(text, extra_key)
                requires.append(_with_extra(text, canonicalize_name(extra)))
        requires_python = self.specifier(info.get("requires_python", ">=3.12"), f"{key}.requires_python")
        self.string(info.get("description", ""), f"{key}.description")
        yanked = self.boolean(info.get("yanked", False), f"{key}.yanked")
        tags = self.strings(info.get("wheel_tags", []), f"{key}.wheel_tags") or ["py3-none-any"]
        for tag in tags:
            try:
                parse_tag(tag)
            except ValueError:
                raise self.err(f"{key}.wheel_tags", f"invalid tag {tag!r}") from None
        files: list[DistFile] = []
        if self.boolean(info.get("sdist", True), f"{key}.sdist"):
            files.append(DistFile(f"{escaped_name(name)}-{version}.tar.gz", None, yanked=yanked))
        if self.boolean(info.get("wheel", True), f"{key}.wheel"):
            files += [
                DistFile(wheel_filename(name, version, t), parse_wheel(wheel_filename(name, version, t)), yanked=yanked)
                for t in tags
            ]
        plain = self.variants(info, key) if "variants_json" not in info else None
        variant_md: VariantMetadata | InvalidVariantMetadata | None = plain
        labels = list(plain.variants) if plain is not None else []
        if "variants_json" in info:
            variant_md, labels = self.variants_json(info, key)
        label_tags = self.variant_tags(info, key, labels)
        if labels:
            for label in labels:
                for t in label_tags.get(label, tags):
                    filename = wheel_filename(name, version, t, label)
                    files.append(DistFile(filename, parse_wheel(filename), yanked=yanked))
        for file in files:
            if len(file.filename.encode()) > _MAX_FILENAME_BYTES:
                where = key if file.label is None else f"{key}.variants.{key_part(file.label)}"
                raise self.err(
                    where, f"its file name would be {len(file.filename.encode())} bytes long (at most {_MAX_FILENAME_BYTES})"
                )
        extras_set = frozenset(canonicalize_name(e) for e in extras)
        repo.add(
            Release(name, version, tuple(files)),
            CoreMetadata(tuple(requires), requires_python, extras_set),
            variant_md,
        )

    def variant_tags(self, info: dict[str, Any], key: str, labels: list[str]) -> dict[str, list[str]]:
        """``variant_tags = { label = [tags] }``: the wheel tags of one label's wheels, instead
        of ``wheel_tags`` (an index has numpy's ``accelerate`` wheels for macOS only)."""
        where = f"{key}.variant_tags"
        if "variant_tags" not in info:
            return {}
        if not labels:
            raise self.err(where, "only allowed together with variants or variants_json")
        out: dict[str, list[str]] = {}
        for label, tags in self.table(info["variant_tags"], where).items():
            lwhere = f"{where}.{key_part(label)}"
            if label not in labels:
                raise self.err(lwhere, f"no variant is labelled {label!r}")
            out[label] = self.strings(tags, lwhere)
            if not out[label]:
                raise self.err(lwhere, "must list at least one tag")
            for tag in out[label]:
                try:
                    parse_tag(tag)
                except ValueError:
                    raise self.err(lwhere, f"invalid tag {tag!r}") from None
        return out

    def variants_json(self, info: dict[str, Any], key: str) -> tuple[VariantMetadata | InvalidVariantMetadata, list[str]]:
        """``variants_json = "FILE"``: the release's ``*-variants.json`` as published (a path
        relative to the scenario file), read the way an index's file is read. A document that
        is invalid stays in the scenario as invalid (its labels still give the wheels), so that
        the strategies meet it as they would on an index; JSON without a ``variants`` table is
        an input error."""
        from ..structured import load_json
        from ..textfile import read_text_file
        from ..variants.metadata import parse_metadata

        where = f"{key}.variants_json"
        for other in ("variants", "namespaces", "optional", "providers"):
            if other in info:
                raise self.err(f"{key}.{other}", "not allowed together with variants_json (the file says it)")
        path = self.path.parent / self.string(info["variants_json"], where)
        try:
            data = load_json(read_text_file(path, "variants_json file"), str(path))
        except InputError as exc:
            raise self.err(where, str(exc)) from None
        raw = data.get("variants") if isinstance(data, dict) else None
        if not isinstance(raw, dict) or not raw:
            raise self.err(where, f"{path}: no variants table: its labels (the wheels) are unknown")
        labels = []
        for label in raw:
            try:
                validate_label(label)
            except InputError as exc:
                raise self.err(where, f"{path}: {exc}") from None
            labels.append(label)
        try:
            return parse_metadata(data, str(path)), labels
        except InvalidVariantMetadata as exc:
            return exc, labels

    def variants(self, info: dict[str, Any], key: str) -> VariantMetadata | None:
        if "variants" not in info:
            for k in ("namespaces", "optional", "providers"):
                if k in info:
                    raise self.err(f"{key}.{k}", "only allowed together with variants")
            return None
        labels = self.table(info["variants"], f"{key}.variants")
        variants: dict[str, PropertyMap] = {}
        for label, props in labels.items():
            where = f"{key}.variants.{key_part(label)}"
            try:
                validate_label(label)
                parsed = [VariantProperty.parse(p) for p in self.strings(props, where)]
            except InputError as exc:
                raise self.err(where, str(exc)) from None
            if label == NULL_LABEL and parsed:
                raise self.err(where, "the null variant has no properties")
            variants[label] = group_properties(parsed)
        used = sorted({ns for props in variants.values() for ns in props} - {ABI_DEPENDENCY})
        namespaces = self.strings(info.get("namespaces", used), f"{key}.namespaces")
        missing = sorted(set(used) - set(namespaces))
        if missing:
            raise self.err(f"{key}.namespaces", f"namespace {missing[0]!r} is used but not listed")
        if not namespaces:
            namespaces = used or [ABI_DEPENDENCY]
        optional = self.strings(info.get("optional", []), f"{key}.optional")
        for ns in optional:
            if ns not in namespaces:
                raise self.err(f"{key}.optional", f"namespace {ns!r} is not in namespaces")
        providers = {ns: Provider(optional=ns in optional) for ns in namespaces if ns != ABI_DEPENDENCY}
        providers.update(self.providers(info.get("providers", {}), f"{key}.providers", namespaces, optional))
        return VariantMetadata(SCHEMA_850, tuple(namespaces), variants, providers)

    def providers(self, data: Any, key: str, namespaces: list[str], optional: list[str]) -> dict[str, Provider]:
        """``providers.<ns>``: PEP 850 ``requires`` (+ ``plugin-api``) or ``static-properties``."""
        out: dict[str, Provider] = {}
        for ns, info in self.table(data, key).items():
            where = f"{key}.{ns}"
            if ns not in namespaces or ns == ABI_DEPENDENCY:
                raise self.err(where, f"namespace {ns!r} is not in namespaces")
            info = self.table(info, where, {"requires", "plugin-api", "static-properties"})
            if ("requires" in info) == ("static-properties" in info):
                raise self.err(where, "needs exactly one of requires and static-properties")
            requires = tuple(
                self.requirement(r, f"{where}.requires", dependency=False)
                for r in self.strings(info.get("requires", []), f"{where}.requires")
            )
            plugin_api = info.get("plugin-api")
            if plugin_api is not None and (not isinstance(plugin_api, str) or not requires):
                raise self.err(f"{where}.plugin-api", "must be a string, next to requires")
            static = None
            if "static-properties" in info:
                static = {}
                for feature, values in self.table(info["static-properties"], f"{where}.static-properties").items():
                    fwhere = f"{where}.static-properties.{feature}"
                    values = self.strings(values, fwhere)
                    try:
                        for value in values:
                            VariantProperty.make(ns, feature, value)
                    except InputError as exc:
                        raise self.err(fwhere, str(exc)) from None
                    static[feature] = tuple(values)
            out[ns] = Provider(requires=requires, plugin_api=plugin_api, optional=ns in optional, static_properties=static)
        return out


def _with_extra(text: str, extra: str) -> str:
    """Attach ``extra == "x"`` to a requirement, keeping its own marker."""
    req_part, _, marker = text.partition(";")
    if marker.strip():
        return f'{req_part.strip()} ; ({marker.strip()}) and extra == "{extra}"'
    return f'{req_part.strip()} ; extra == "{extra}"'
