"""``varsolve install pylock.toml``: PEP 751's installation steps with PEP 825 variant selection.

1. Read and validate the lock (lock-version major, keys, hashes, variants-json).
2. PEP 751 steps 3-5 -- requires-python, environments, package markers, one entry per
   package -- are packaging's ``Pylock.select`` over the label-blind view (see
   :mod:`.document`); only its choice of *wheel* is discarded.
3. Per selected package, PEP 825 selection among the listed wheels: tag filter, then
   filter-and-order of the labels with what the machine supports, best label, best tag in it;
   non-variant wheels only when no variant fits. A variant the lock chose but the machine does
   not support is refused (never silently swapped for a fallback with other dependencies), and
   every feature the lock unified must still have one common value.
4. Fetch every file, verify size and hashes, check each wheel's RECORD and ``variant.json``.
   A package the lock lists with an sdist only is built into a wheel for the target interpreter
   (PEP 517, :mod:`varsolve.sources.build`: build requirements resolved from the source the
   lock records, ``[tool.varsolve.source]``); ``--dry-run`` fetches it but builds nothing.
5. Only then write, all or nothing (:mod:`.journal`): under a lock on the environment, check
   every path the wheels would write and the replaced distributions' RECORDs would remove
   (:mod:`.safety`), unpack the wheels with the ``installer`` library into a stage inside the
   environment's prefix, then switch over with renames recorded in a journal; an interrupted
   install is rolled back (or, past its commit point, finished) by the next run.

What the machine supports: ``--variants FILE`` when given, else the properties recorded for the
lock's target in ``[tool.varsolve]`` (installing a lock asserts the machine is that target),
else only providers with static properties in the lock's metadata (PEP 850).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.markers import Marker
from packaging.tags import Tag
from packaging.utils import canonicalize_name

from ..errors import InputError, VarsolveError
from ..providers import supported_for_release
from ..target import ProviderPolicy, SupportedMap, Target
from ..variants.filenames import WheelFilename
from ..variants.ordering import is_compatible, order_labels, supported_subset
from ..variants.properties import PropertyMap, VariantFeature, properties_of
from . import journal
from .document import LockDocument, wheel_file_name
from .fetch import LockedFile, fetch
from .interpreter import Interpreter, installed_distributions
from .safety import Environment, PlannedFile, check_archive, first_line, is_file_like, wheel_layout

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("varsolve")


@dataclass
class Selected:
    name: str
    version: str
    label: str | None  # None: non-variant wheel
    file: LockedFile
    properties: PropertyMap = field(default_factory=dict)  # declared by the label
    supported: PropertyMap = field(default_factory=dict)  # of those, what the machine supports
    sdist: bool = False  # ``file`` is the locked sdist: a wheel is built from it

    def describe(self) -> str:
        return f"{self.name} {self.version}" + (f" [{self.label}]" if self.label else "")


@dataclass
class Plan:
    selected: list[Selected]
    tool_target: str | None  # the [tool.varsolve.targets] entry this machine matched
    # A universal lock: the marker of the fork installed ("" every environment), else None.
    fork: str | None = None

    def describe_fork(self) -> str | None:
        """For a universal lock, which fork (and variant target) this install is."""
        if self.fork is None:
            return None
        where = f"environments where {self.fork}" if self.fork else "every environment"
        target = f"target {self.tool_target!r}, " if self.tool_target else ""
        return f"universal lock: {target}the fork for {where}"


def locked_target(doc: LockDocument, environment: dict[str, str]) -> tuple[str, dict[str, Any]] | None:
    """The ``[tool.varsolve.targets]`` entry whose marker this environment satisfies."""
    targets = doc.tool.get("targets", {})
    if not isinstance(targets, dict):
        return None
    matching = []
    for name, info in sorted(targets.items()):
        marker = info.get("marker") if isinstance(info, dict) else None
        if isinstance(marker, str):
            try:
                if Marker(marker).evaluate(environment):
                    matching.append((name, info))
            except Exception:
                continue
    return matching[0] if len(matching) == 1 else None


def _supported_from_tool(info: dict[str, Any]) -> SupportedMap:
    raw = info.get("variants", {})
    if not isinstance(raw, dict):
        return {}
    return {
        ns: {f: tuple(v) for f, v in feats.items() if isinstance(v, list)}
        for ns, feats in raw.items()
        if isinstance(feats, dict)
    }


def plan(
    doc: LockDocument,
    interp: Interpreter,
    variants: SupportedMap | None = None,
    enabled: frozenset[str] | None = None,
    provider_policy: ProviderPolicy | None = None,
) -> Plan:
    from packaging.pylock import PylockSelectError

    from .universal import is_universal

    if is_universal(doc.tool):
        return _plan_universal(doc, interp, variants, enabled, provider_policy)
    where = str(doc.path)
    env = dict(interp.environment)
    tool_match = locked_target(doc, env)
    tool_name, tool_info = tool_match if tool_match else (None, {})
    supported_map = variants if variants is not None else _supported_from_tool(tool_info)
    if enabled is None:
        recorded = tool_info.get("enable", [])
        enabled = frozenset(recorded) if isinstance(recorded, list) else frozenset()
    machine = Target(variants=supported_map, enabled=enabled, provider_policy=provider_policy or ProviderPolicy())
    locked = tool_info.get("packages", {}) if isinstance(tool_info.get("packages", {}), dict) else {}

    index_of = {id(p): i for i, p in enumerate(doc.pylock.packages)}
    try:
        chosen = list(doc.pylock.select(environment=env, tags=list(interp.tags)))
    except PylockSelectError as exc:
        raise InputError(str(exc), where=where) from None

    rank = {tag: i for i, tag in enumerate(interp.tags)}
    selected: list[Selected] = []
    for package, _packaging_choice in chosen:
        i = index_of[id(package)]
        raw = doc.data["packages"][i]
        key = f"packages[{i}]"
        if not raw.get("wheels"):
            selected.append(_select_sdist(key, raw, where))
            continue
        selected.append(
            _select_wheel(doc, i, raw, rank, machine, locked.get(package.name), where)
        )
    _check_unified(doc, selected, where)
    return Plan(sorted(selected, key=lambda s: s.name), tool_name)


def _select_wheel(
    doc: LockDocument,
    i: int,
    raw: dict[str, Any],
    rank: dict[Tag, int],
    machine: Target,
    locked: Any,
    where: str,
) -> Selected:
    name = canonicalize_name(raw["name"])
    version = str(raw.get("version", ""))
    key = f"packages[{i}]"
    parsed: list[WheelFilename] = doc.wheels.get(i, [])
    wheels = [
        (wf, j) for j, wf in enumerate(parsed) if any(t in rank for t in wf.tags)
    ]
    groups: dict[str | None, list[tuple[WheelFilename, int]]] = {}
    for wf, j in wheels:
        groups.setdefault(wf.label, []).append((wf, j))
    metadata = doc.variants.get(i)
    labels = [label for label in groups if label is not None]
    label: str | None = None
    supported: SupportedMap = {}
    if labels and metadata is not None:
        supported = supported_for_release(metadata, machine)
        ordered = order_labels(metadata, supported, labels)
        if ordered:
            label = ordered[0]
    locked_label = locked.get("variant") if isinstance(locked, dict) else None
    if locked_label and locked_label != (label or ""):
        props = metadata.variants.get(locked_label, {}) if metadata else {}
        if locked_label in groups and metadata is not None and not is_compatible(props, supported):
            missing = _unsupported(props, supported)
            raise InputError(
                f"{key}: refusing to install variant {locked_label!r} of {name}: it needs {missing}, "
                "which this machine does not support (pass --variants FILE describing it, or re-lock for it)",
                where=where,
            )
        got = f"variant {label!r}" if label else "a non-variant wheel"
        raise InputError(f"{key}: the lock chose variant {locked_label!r} of {name}, selection here gives {got}", where=where)
    if label is None and None not in groups:
        if labels and metadata is not None:
            reasons = "; ".join(
                f"{lb} needs {_unsupported(metadata.variants[lb], supported)}" for lb in sorted(labels)
            )
            raise InputError(f"{key}: no listed wheel of {name} fits this machine ({reasons})", where=where)
        raise InputError(f"{key}: no listed wheel of {name} matches this interpreter's tags", where=where)
    group = groups[label]
    wf, j = min(
        group, key=lambda item: (min(rank[t] for t in item[0].tags if t in rank), -(item[0].build[0] if item[0].build else 0), j)
    )
    file = _locked_file(raw["wheels"][j], f"{where}: {key}.wheels[{j}]")
    props = metadata.variants[label] if (label and metadata) else {}
    return Selected(name, version, label, file, props, supported_subset(props, supported) if label else {})


# -- universal locks ---------------------------------------------------------------------------


def _plan_universal(
    doc: LockDocument,
    interp: Interpreter,
    variants: SupportedMap | None,
    enabled: frozenset[str] | None,
    provider_policy: ProviderPolicy | None,
) -> Plan:
    """A universal lock (docs/lock.md, "Universal locks"): PEP 751's steps by markers, then the
    fork whose marker holds here, of the first variant target (in the lock's order) whose chosen
    labels this machine supports; exactly that fork's packages whose markers hold, each the
    locked label's wheel that fits this interpreter best, else the sdist. Never a combination no
    fork resolved."""
    where = str(doc.path)
    env = dict(interp.environment)
    tool = doc.tool
    table = tool.get("universal", {})
    applying = _applying_entries(doc, env, where)
    targets = tool.get("targets", {}) if isinstance(tool.get("targets"), dict) else {}
    policy = provider_policy or ProviderPolicy()
    rank = {tag: i for i, tag in enumerate(interp.tags)}
    reasons: list[str] = []
    for name in list(targets) or [None]:
        fork = next(
            (f for f in table.get("forks", []) if f.get("target") == name and _holds(f.get("marker", ""), env)), None
        )
        if fork is None:
            reasons.append(f"target {name!r}: no fork for this environment" if name else "no fork for this environment")
            continue
        pins = {pkg: pin for pkg, pin in sorted(fork.get("packages", {}).items()) if _holds(pin.get("marker", ""), env)}
        located = {pkg: _entry_of(doc, applying, pkg, pin, where) for pkg, pin in pins.items()}
        info = targets.get(name, {}) if name else table.get("target", {})
        supported_map = variants if variants is not None else ({} if name else _supported_from_tool(info))
        recorded = info.get("enable", []) if isinstance(info, dict) else []
        machine = Target(
            variants=supported_map,
            enabled=enabled if enabled is not None else frozenset(recorded if isinstance(recorded, list) else ()),
            provider_policy=policy,
        )
        missing = _unsupported_labels(doc, located, pins, machine)
        if missing and name is None:
            pkg, label, needs = missing[0]
            raise InputError(
                f"packages[{located[pkg]}]: refusing to install variant {label!r} of {pkg}: it needs {needs}, which "
                "this machine does not support (pass --variants FILE describing it, or re-lock for it)",
                where=where,
            )
        if missing:
            reasons.append(f"target {name!r}: " + "; ".join(f"{p} [{lb}] needs {n}" for p, lb, n in missing))
            continue
        if name is None:
            extra = sorted(set(applying) - set(pins))
            if extra:
                raise InputError(
                    f"packages[{applying[extra[0]][0]}]: {extra[0]} applies here by its marker, but the locked fork "
                    "does not install it: the lock's [tool.varsolve.universal] disagrees with its packages",
                    where=where,
                )
        selected = [_select_locked(doc, located[pkg], pkg, pin, rank, machine, where) for pkg, pin in pins.items()]
        _check_unified(doc, selected, where)
        return Plan(sorted(selected, key=lambda s: s.name), name, fork=str(fork.get("marker", "")))
    machine_text = f"Python {env.get('python_full_version')} on {env.get('sys_platform')}/{env.get('platform_machine')}"
    if all(r.endswith("no fork for this environment") for r in reasons):
        raise InputError(f"no fork of the universal lock serves this environment ({machine_text})", where=where)
    raise InputError(
        f"no variant target of the lock fits this machine ({'; '.join(reasons)}); describe the machine with "
        "--variants FILE, or let --detect / --allow-provider ask its providers",
        where=where,
    )


def _holds(marker: Any, env: dict[str, str]) -> bool:
    """A marker of ``[tool.varsolve.universal]`` (validated when the lock was read) holds here."""
    from packaging.markers import UndefinedComparison, UndefinedEnvironmentName

    if not marker:
        return True
    try:
        return Marker(str(marker)).evaluate(_lock_environment(env), "lock_file")
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise InputError(f"tool.varsolve.universal: cannot evaluate {marker!r} here: {first_line(exc)}") from None


def _lock_environment(env: dict[str, str]) -> dict[str, Any]:
    return {**env, "extras": frozenset(), "dependency_groups": frozenset()}


def _applying_entries(doc: LockDocument, env: dict[str, str], where: str) -> dict[str, list[int]]:
    """PEP 751's steps for a universal lock, by package name: the lock's requires-python and
    environments must hold, then every entry whose marker holds here (its requires-python must
    hold too). Several entries of one name apply only where variant targets chose differently."""
    from packaging.version import InvalidVersion, Version

    lock = doc.pylock
    text = env.get("python_full_version", "")
    try:
        python = Version(text)
    except InvalidVersion:
        raise InputError(f"this interpreter's python_full_version {text!r} is not a version", where=where) from None
    if lock.requires_python is not None and not lock.requires_python.contains(python, prereleases=True):
        raise InputError(f"Python {text} does not satisfy the lock's requires-python {lock.requires_python}", where=where)
    if lock.environments and not any(m.evaluate(env) for m in lock.environments):
        where_am_i = f"Python {text} on {env.get('sys_platform')}"
        raise InputError(f"this environment ({where_am_i}) is none of the lock's environments", where=where)
    out: dict[str, list[int]] = {}
    for i, package in enumerate(lock.packages):
        if package.marker is not None and not package.marker.evaluate(_lock_environment(env), "lock_file"):
            continue
        if package.requires_python is not None and not package.requires_python.contains(python, prereleases=True):
            raise InputError(f"packages[{i}]: {package.name} needs Python {package.requires_python}", where=where)
        out.setdefault(package.name, []).append(i)
    return out


def _entry_of(doc: LockDocument, applying: dict[str, list[int]], name: str, pin: Any, where: str) -> int:
    """The ``[[packages]]`` entry that lists the fork's pin: same name and version, its marker
    holding here, the locked label among its wheels (an sdist pin: its sdist)."""
    from packaging.version import Version

    version = str(pin.get("version", ""))
    label = pin.get("variant")
    for i in applying.get(name, []):
        if doc.pylock.packages[i].version != Version(version):
            continue
        if label is None:
            if doc.data["packages"][i].get("sdist") is not None:
                return i
        elif any((wf.label or "") == label for wf in doc.wheels.get(i, [])) or (
            label == "" and doc.data["packages"][i].get("sdist") is not None
        ):
            return i
    shown = f"{name} {version}" + (f" [{label}]" if label else "")
    raise InputError(
        f"tool.varsolve.universal: the fork installs {shown} here, but no [[packages]] entry whose marker holds "
        "lists it", where=where,
    )


def _unsupported_labels(
    doc: LockDocument, located: dict[str, int], pins: dict[str, Any], machine: Target
) -> list[tuple[str, str, str]]:
    """(package, label, what it needs) for each locked variant label the machine does not support."""
    out = []
    for pkg, pin in pins.items():
        label = pin.get("variant")
        if not label:
            continue
        metadata = doc.variants.get(located[pkg])
        props = metadata.variants.get(label) if metadata is not None else None
        if metadata is None or props is None:
            out.append((pkg, label, "a label the lock's variants-json does not describe"))
            continue
        supported = supported_for_release(metadata, machine)
        if not is_compatible(props, supported):
            out.append((pkg, label, _unsupported(props, supported)))
    return out


def _select_locked(
    doc: LockDocument, i: int, name: str, pin: Any, rank: dict[Tag, int], machine: Target, where: str
) -> Selected:
    """The locked label's wheel that fits this interpreter best (a non-variant pin: else the sdist)."""
    raw = doc.data["packages"][i]
    key = f"packages[{i}]"
    label = pin.get("variant")  # None: the sdist was locked
    version = str(pin.get("version", ""))
    if label is not None:
        want = label or None
        group = [
            (wf, j) for j, wf in enumerate(doc.wheels.get(i, [])) if wf.label == want and any(t in rank for t in wf.tags)
        ]
        if group:
            wf, j = min(group, key=lambda item: (_best_rank(item[0], rank), -(item[0].build[0] if item[0].build else 0), item[1]))
            file = _locked_file(raw["wheels"][j], f"{where}: {key}.wheels[{j}]")
            metadata = doc.variants.get(i)
            if want is None or metadata is None:
                return Selected(canonicalize_name(name), version, None, file)
            props = metadata.variants[want]
            supported = supported_for_release(metadata, machine)
            return Selected(canonicalize_name(name), version, want, file, props, supported_subset(props, supported))
        if label:
            raise InputError(f"{key}: no listed wheel of {name} [{label}] matches this interpreter's tags", where=where)
    if raw.get("sdist") is None:
        raise InputError(f"{key}: no listed wheel of {name} matches this interpreter's tags, and it has no sdist", where=where)
    return _select_sdist(key, raw, where)


def _best_rank(wf: WheelFilename, rank: dict[Tag, int]) -> int:
    return min(rank[t] for t in wf.tags if t in rank)


def _select_sdist(key: str, raw: dict[str, Any], where: str) -> Selected:
    """A package whose lock entry has no wheels: its sdist, built into a wheel when installed."""
    sdist = raw.get("sdist")
    if not isinstance(sdist, dict):
        raise InputError(f"{key}: {raw.get('name')} has neither wheels nor an sdist", where=where)
    file = _locked_file(sdist, f"{where}: {key}.sdist")
    return Selected(canonicalize_name(raw["name"]), str(raw.get("version", "")), None, file, sdist=True)


def _locked_file(table: dict[str, Any], where: str) -> LockedFile:
    """A lock's wheel or sdist table as the file to fetch and check."""
    return LockedFile(
        filename=wheel_file_name(table) or "",
        url=table.get("url"),
        path=table.get("path"),
        size=table.get("size"),
        hashes={k.lower(): str(v) for k, v in table.get("hashes", {}).items()},
        where=where,
    )


def _unsupported(props: PropertyMap, supported: SupportedMap) -> str:
    missing = []
    for ns, feats in sorted(props.items()):
        for feature, values in sorted(feats.items()):
            ok = supported.get(ns, {}).get(feature, ())
            if not any(v in ok for v in values):
                missing.append(" or ".join(f"{ns} :: {feature} :: {v}" for v in values))
    return ", ".join(missing) or "nothing"


def _check_unified(doc: LockDocument, selected: list[Selected], where: str) -> None:
    options = doc.tool.get("options", {})
    unify = options.get("unify", []) if isinstance(options, dict) else []
    for text in unify if isinstance(unify, list) else []:
        try:
            feature = VariantFeature.parse(text)
        except VarsolveError as exc:
            raise InputError(f"tool.varsolve.options.unify: {exc}", where=where) from None
        common: set[str] | None = None
        holders = []
        for s in selected:
            declared = s.properties.get(feature.namespace, {}).get(feature.feature)
            if not declared:
                continue
            values = set(s.supported.get(feature.namespace, {}).get(feature.feature, ()))
            holders.append(f"{s.describe()} has {{{', '.join(sorted(values))}}}")
            common = values if common is None else common & values
        if common is not None and not common:
            raise InputError(f"unify {feature}: the selected wheels share no value ({'; '.join(holders)})", where=where)


# -- fetch, verify, install --------------------------------------------------------------------


def install(doc: LockDocument, interp: Interpreter, the_plan: Plan, client: httpx.Client | None = None) -> list[str]:
    """Fetch and verify everything, then install all or nothing (:mod:`.journal`); returns one
    line per change."""
    downloads = Path(tempfile.mkdtemp(prefix="varsolve-install-"))
    try:
        staged = _stage(doc, the_plan, downloads, client, interp)
        prefix = interp.root
        with journal.environment_lock(prefix):
            done = journal.recover(prefix)  # another run killed since this one started
            if done:
                log.warning("%s", done)
            env = Environment(prefix, dict(interp.paths), interp.executable, installed_distributions(interp.paths))
            actions = _actions(the_plan, env.installed)
            changes = [
                (s, path, actions[s.name]) for s, path in zip(the_plan.selected, staged, strict=True) if actions[s.name] != "keep"
            ]
            if not changes:
                return []
            tx, unpack = _prepare(changes, env, interp)
            with journal.terminate_as_interrupt():
                try:
                    journal.run(tx, unpack)
                except OSError as exc:
                    left = (
                        "its journal is left: varsolve install --recover rolls it back" if journal.pending(prefix)
                        else "the environment is unchanged"
                    )
                    message = f"cannot install: {exc.strerror or exc}: {exc.filename}; {left}"
                    raise InputError(message, where=str(prefix)) from None
        return [f"installed {s.describe()}" + (" (built from its sdist)" if s.sdist else "") for s, _, _ in changes]
    finally:
        shutil.rmtree(downloads, ignore_errors=True)


def stage_only(doc: LockDocument, the_plan: Plan, client: httpx.Client | None = None) -> None:
    """Fetch and verify everything (``--dry-run``), then throw it away."""
    staging = Path(tempfile.mkdtemp(prefix="varsolve-install-"))
    try:
        _stage(doc, the_plan, staging, client)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _stage(
    doc: LockDocument, the_plan: Plan, staging: Path, client: httpx.Client | None, interp: Interpreter | None = None
) -> list[Path]:
    """Every selected file, fetched and verified (``interp``: the sdists are built into wheels
    for it; without it, as for ``--dry-run``, they are only fetched)."""
    own_client = None
    if client is None and any(s.file.path is None and (s.file.url or "").startswith("http") for s in the_plan.selected):
        import httpx

        own_client = client = httpx.Client(follow_redirects=True, timeout=60)
    try:
        paths = []
        for s in the_plan.selected:
            path = fetch(s.file, doc.directory, staging, client)
            if s.sdist:
                if interp is None:
                    paths.append(path)
                    continue
                path = _build_wheel(path, s, doc, interp, staging / "built")
            _check_wheel(path, s, doc)
            paths.append(path)
        return paths
    finally:
        if own_client is not None:
            own_client.close()


def _build_wheel(sdist: Path, s: Selected, doc: LockDocument, interp: Interpreter, out_dir: Path) -> Path:
    """A wheel of the locked sdist for ``interp``, its build requirements resolved from the
    source the lock records."""
    from packaging.version import InvalidVersion, Version

    from ..repository import Release
    from ..sources import SourceSettings, open_repository
    from ..sources.build import SdistBuilder, interpreter_target
    from ..sources.simple import SimpleRepository

    recorded = doc.tool.get("source", {})
    recorded = recorded if isinstance(recorded, dict) else {}
    index, folder = recorded.get("index-url"), recorded.get("find-links")
    settings = SourceSettings(
        index_urls=(index,) if isinstance(index, str) else (),
        find_links=(doc.directory / folder,) if isinstance(folder, str) else (),
    )
    repository = open_repository(settings)
    if not isinstance(repository, SimpleRepository):
        raise InputError(
            f"building {s.file.filename} needs its build requirements, and the lock records no source "
            "([tool.varsolve.source])", where=s.file.where,
        )
    try:
        version = Version(s.version)
    except InvalidVersion:
        raise InputError(f"invalid version {s.version!r}", where=s.file.where) from None
    with repository:
        builder = SdistBuilder(
            repository, settings, python=interp.executable, target=interpreter_target(interp.environment, interp.tags)
        )
        return builder.wheel(Release(canonicalize_name(s.name), version, ()), s.file.filename, sdist.read_bytes(), out_dir)


def _check_wheel(path: Path, s: Selected, doc: LockDocument) -> None:
    """The wheel must be what the lock says: RECORD intact, name/version, variant.json."""
    import json
    import zipfile

    from installer.sources import WheelFile

    from ..variants.metadata import parse_metadata

    where = s.file.where
    check_archive(path, s.file.filename, where)  # names, RECORD paths, sizes: before reading anything
    try:
        with WheelFile.open(path) as source:
            source.validate_record()
            metadata = source.read_dist_info("METADATA")
            variant_json = source.read_dist_info("variant.json") if "variant.json" in source.dist_info_filenames else None
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, NotImplementedError, EOFError) as exc:
        raise InputError(f"{s.file.filename}: not a valid wheel: {first_line(exc)}", where=where) from None
    fields = dict(
        line.split(": ", 1) for line in metadata.split("\n\n", 1)[0].splitlines() if ": " in line
    )
    if canonicalize_name(fields.get("Name", "")) != s.name or fields.get("Version") != s.version:
        raise InputError(f"{s.file.filename}: METADATA names {fields.get('Name')} {fields.get('Version')}", where=where)
    if s.label is None:
        return
    if variant_json is None:
        raise InputError(f"{s.file.filename}: variant wheel without variant.json", where=where)
    try:
        own = parse_metadata(json.loads(variant_json), f"{s.file.filename}: variant.json")
    except json.JSONDecodeError as exc:
        raise InputError(f"{s.file.filename}: variant.json: malformed JSON: {exc}", where=where) from None
    if properties_of(own.variants.get(s.label, {})) != properties_of(s.properties) or s.label not in own.variants:
        raise InputError(f"{s.file.filename}: variant.json disagrees with the lock's variants-json for {s.label!r}", where=where)


def _actions(the_plan: Plan, installed: dict[str, dict[str, str]]) -> dict[str, str]:
    """"new", "keep" or the dist-info path of the installed distribution to replace."""
    by_name: dict[str, dict[str, str]] = {canonicalize_name(n): info for n, info in installed.items()}
    out: dict[str, str] = {}
    for s in the_plan.selected:
        info = by_name.get(s.name)
        if info is None:
            out[s.name] = "new"
        elif info["version"] == s.version and _installed_label(Path(info["path"])) == s.label:
            out[s.name] = "keep"
        else:
            out[s.name] = info["path"]
    return out


def _installed_label(dist_info: Path) -> str | None:
    import json

    try:
        data = json.loads((dist_info / "variant.json").read_text(encoding="utf-8"))
        labels = list(data.get("variants", {}))
        return labels[0] if len(labels) == 1 else None
    except (OSError, ValueError, AttributeError):
        return None


def _script_kind(interp: Interpreter) -> str:
    return "posix" if interp.environment.get("os_name") != "nt" else "win-amd64"


def _scheme_for(interp: Interpreter, name: str) -> dict[str, str]:
    """The installer scheme for one distribution: headers in a directory of its own, as pip does."""
    scheme = dict(interp.paths)
    scheme["headers"] = os.path.join(scheme["headers"], name)
    return scheme


def _prepare(
    changes: list[tuple[Selected, Path, str]], env: Environment, interp: Interpreter
) -> tuple[journal.Transaction, Callable[[], None]]:
    """Every check on what the install would write and remove; nothing is written. Returns the
    transaction and the function that unpacks the wheels into its stage."""
    replaced = {canonicalize_name(s.name): Path(action) for s, _, action in changes if action != "new"}
    owners = env.owners() if replaced else {}  # every installed RECORD, read only when needed
    # Old files: the replaced distributions' RECORDs, only where they resolve inside the
    # environment, never the interpreter's own files, never a file another distribution lists too.
    remove: dict[Path, None] = {}
    for _, dist_info in sorted(replaced.items()):
        inside, outside = env.record_files(dist_info)
        for path in outside:
            log.warning("%s: RECORD lists %s, outside the environment: left alone", dist_info, path)
        for key in inside:
            if not is_file_like(key):
                continue
            why = env.protected(key)
            if why:
                log.warning("%s: RECORD lists %s, %s: left alone", dist_info, key, why)
                continue
            others = sorted(set(owners.get(key, ())) - set(replaced))
            if others:
                log.warning("%s: RECORD lists %s, which %s also lists: left in place", dist_info, key, others[0])
                continue
            remove[key] = None
    # New files: every path checked, before anything is written.
    placed: dict[Path, str] = {}
    finals: list[Path] = []
    for s, wheel, _ in changes:
        scheme = _scheme_for(interp, s.name)
        for f in wheel_layout(wheel, s.file.filename, scheme, interp.executable, _script_kind(interp), s.file.where):
            problem = _placement_problem(f, env, remove, placed)
            if problem:
                raise InputError(f"{s.file.filename}: refusing {f.entry!r}: {problem}; nothing was installed", where=s.file.where)
            placed[env.key(f.final)] = s.file.filename
            finals.append(f.final)
    tx = journal.Transaction(env.prefix, changes=[_change_text(s, action, env) for s, _, action in changes])
    tx.aside = list(remove)
    tx.place = [(tx.staged(final), final) for final in finals]
    created: dict[Path, None] = {}
    for final in finals:
        missing = []
        for parent in final.parents:
            if parent.is_dir():
                break
            missing.append(parent)
        created.update(dict.fromkeys(reversed(missing)))
    tx.created = sorted(created, key=lambda p: len(p.parts))
    emptied: dict[Path, None] = {}
    for key in tx.aside:
        for parent in key.parents:
            if not env.removable_dir(parent):
                break
            emptied[parent] = None
    tx.emptied = sorted(emptied, key=lambda p: len(p.parts), reverse=True)
    journal.check_same_filesystem(env.prefix, [*tx.aside, *finals])

    def unpack() -> None:
        for s, wheel, _ in changes:
            _unpack(wheel, interp, _scheme_for(interp, s.name), tx.stage)

    return tx, unpack


def _placement_problem(
    f: PlannedFile, env: Environment, remove: dict[Path, None], placed: dict[Path, str]
) -> str | None:
    """Why the new file ``f`` must not be written, or None."""
    key = env.key(f.final)
    if key in placed:
        return f"{placed[key]} installs {f.final} too"
    why = env.protected(key)
    if why:
        return f"it would replace {f.final}, {why}"
    if not env.inside(key):
        return f"{f.final} resolves to {key}, outside the environment"
    if os.path.lexists(f.final) and key not in remove:
        if os.path.isdir(f.final) and not os.path.islink(f.final):
            return f"it would replace the directory {f.final}"
        holders = sorted(env.owners().get(key, ()))
        owner = f"which {holders[0]} owns" if holders else "which no installed distribution owns"
        return f"it would overwrite {f.final}, {owner}"
    parent = f.final.parent
    while not os.path.isdir(parent) and parent != parent.parent:  # the nearest existing ancestor
        if os.path.lexists(parent) and env.key(parent) not in remove:
            return f"{parent} is a file, not a directory"
        parent = parent.parent
    return None


def _change_text(s: Selected, action: str, env: Environment) -> str:
    if action == "new":
        return f"{s.describe()} (new)"
    old = next((info["version"] for info in env.installed.values() if info["path"] == action), "?")
    return f"{s.name} {old} -> {s.version}" + (f" [{s.label}]" if s.label else "")


def _unpack(path: Path, interp: Interpreter, scheme: dict[str, str], stage: Path) -> None:
    """Unpack one wheel with the ``installer`` library below ``stage`` (its ``destdir``): RECORD,
    scripts and shebangs are written for the final paths."""
    from installer import install as installer_install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile

    destination = SchemeDictionaryDestination(
        scheme,
        interpreter=interp.executable,
        script_kind=_script_kind(interp),  # type: ignore[arg-type]
        bytecode_optimization_levels=(),
        destdir=str(stage),
    )
    import warnings

    with WheelFile.open(path) as source, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # __pycache__ entries are skipped (wheel_layout skipped them too)
        installer_install(source, destination, additional_metadata={"INSTALLER": b"varsolve\n"})
