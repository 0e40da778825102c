"""The Python API under ``varsolve lock`` and ``varsolve install``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..problem import Problem
from ..providers import freeze_detection
from ..repository import Repository
from ..resolution import Resolution
from .targets import LockTarget, check_unique_names, load_target_file, validate_target_name
from .universal import Universe, is_universal, resolve_for_lock, universal_document
from .writer import LockSource

if TYPE_CHECKING:
    from ..sources import SourceSettings
    from ..target import ProviderPolicy
    from ..universal.result import Fork, UniversalResolution


def source_settings(
    index_url: str | None, find_links: str | Path | None, sources: SourceSettings | None = None
) -> SourceSettings:
    """``sources`` when they name a source, else they (or the defaults) with the one index URL
    or else the one find-links folder."""
    from ..sources import SourceSettings

    base = sources if sources is not None else SourceSettings()
    if base.names_a_source:
        return base
    if index_url is not None:
        return replace(base, index_urls=(index_url,))
    return replace(base, find_links=(find_links,) if find_links is not None else ())


def lock_source(settings: SourceSettings) -> LockSource:
    """What ``[tool.varsolve.source]`` records: the (first) index, else the first folder."""
    if settings.index_urls:
        return LockSource(settings.index_urls[0], None)
    return LockSource(None, Path(settings.find_links[0]) if settings.find_links else None)


def _close(repository: Repository | None) -> None:
    if repository is not None:
        repository.close()


def check_output_name(output: Path) -> None:
    from packaging.pylock import is_valid_pylock_path

    if not is_valid_pylock_path(output):
        raise InputError("a lock file must be named pylock.toml or pylock.<name>.toml (PEP 751)", where=str(output))


def lock(
    requirements: Sequence[str] | None = None,
    *,
    scenario: str | Path | None = None,
    index_url: str | None = None,
    find_links: str | Path | None = None,
    target_files: Sequence[str | Path] = (),
    python: str | None = None,
    variants_file: str | Path | None = None,
    unify: Sequence[str] | None = None,
    enable: Sequence[str] | None = None,
    strategy: str = "backtrack",
    output: Path = Path("pylock.toml"),
    adjust: Callable[[Problem], Problem] | None = None,
    sources: SourceSettings | None = None,
    universal: bool = False,
    requires_python: str | None = None,
    environments: Sequence[str] = (),
    requires_python_key: str = "requires_python",
    environments_key: str = "environments",
) -> LockResult:
    """Resolve for every target and write the lock file(s); returns the paths written and each
    target's resolution.

    The packages come from ``sources`` when given, else from ``index_url`` or ``find_links``.

    ``universal`` (or a scenario's ``resolver_options.universal``): one lock for every
    environment ``requires_python`` allows (default: the scenario's root ``requires_python``,
    else ``>=`` the target's X.Y), narrowed to ``environments`` (default: the scenario's
    ``required_environments``); each target file is then a variant target resolved over the
    whole universe (docs/lock.md, "Universal locks"). ``*_key`` name those inputs in errors.
    """
    from ..atomic_write import write_texts_atomically
    from ..pipeline import build_problem
    from ..sources import open_repository
    from .tomlio import dumps
    from .writer import lock_files, resolve_targets

    check_output_name(output)
    if target_files and (python is not None or variants_file is not None or enable):
        raise InputError("--target files describe each target; --python, --variants and --enable apply only without --target")
    loaded = None
    if scenario is not None:
        from ..sources.scenario import load_scenario

        loaded = load_scenario(scenario)
        universal = universal or loaded.universal
    if not universal:
        for key, value in ((requires_python_key, requires_python), (environments_key, environments)):
            if value:
                raise InputError(f"{key}: only for a universal lock")
    settings = source_settings(index_url, find_links, sources)
    repository = open_repository(settings)
    if repository is None and scenario is None:
        raise InputError("no package source: give --index-url URL or --find-links DIR")
    problem = build_problem(
        requirements, scenario=scenario, repository=repository, python=python,
        variants_file=variants_file, unify=unify, enable=enable,
    )
    if adjust is not None:  # the CLI's policy flags
        problem = adjust(problem)
    problem.repository.hint_target(problem.target)  # an HTTP index starts fetching what is needed first
    problem.repository.prefetch(problem.root_names())
    policy = problem.target.provider_policy
    targets = [
        LockTarget(t.name, replace(t.target, provider_policy=policy)) for t in map(load_target_file, target_files)
    ] or [LockTarget("default", problem.target)]
    # A lock records what each target supports ([tool.varsolve]); with --detect that includes
    # what this machine's detectors found, so that `lock --check` re-resolves for the same machine.
    targets = [LockTarget(t.name, freeze_detection(t.target)) for t in targets]
    check_unique_names(targets)
    source = lock_source(settings)
    if universal:
        if loaded is not None and not target_files and loaded.targets:
            targets = [LockTarget(name, freeze_detection(replace(t, provider_policy=policy))) for name, t in loaded.targets]
        if loaded is not None and requires_python is None and loaded.requires_python:
            requires_python, requires_python_key = loaded.requires_python, f"{scenario}: root.requires_python"
        if loaded is not None and not environments and loaded.environments:
            environments, environments_key = loaded.environments, f"{scenario}: resolver_options.required_environments"
        universe = Universe(
            requires_python or f">={problem.target.python_version}",
            tuple(environments),
            tuple(targets) if target_files or (loaded is not None and loaded.targets) else (),
            requires_python_key,
            environments_key,
        )
        base = replace(problem, target=freeze_detection(problem.target))
        try:
            universal_result = resolve_for_lock(base, strategy, universe)
            document = universal_document(
                universal_result, base.repository, output.parent, source, strategy, problem=base, universe=universe
            )
        finally:
            _close(repository)
        write_texts_atomically({output: dumps(document)})
        return LockResult((output,), _fork_resolutions(universal_result), universal_result)
    try:
        results = resolve_targets(problem.repository, problem.requirements, targets, problem.options, strategy)
        documents = lock_files(results, problem.repository, output, source, strategy)
    finally:
        _close(repository)
    write_texts_atomically({path: dumps(doc) for path, doc in documents.items()})
    return LockResult(tuple(sorted(documents)), {r.lock_target.name: r.resolution for r in results})


@dataclass(frozen=True)
class LockResult:
    """What :func:`lock` wrote, and the verified resolution of each target it wrote it from."""

    paths: tuple[Path, ...]
    resolutions: Mapping[str, Resolution]
    # A universal lock: the universal resolution (``resolutions``: each fork's, by fork_name).
    universal: UniversalResolution | None = None

    @property
    def consistent(self) -> bool:
        """No target's resolution has a unified feature taking two values (only the status quo
        writes such a lock, with a warning; ``varsolve install`` refuses it)."""
        return all(r.consistent for r in self.resolutions.values())


def fork_name(fork: Fork) -> str:
    """A fork as :attr:`LockResult.resolutions` names it: ``[target] marker`` (``*``: every
    environment)."""
    where = str(fork.region) or "*"
    return f"[{fork.target_name}] {where}" if fork.target_name else where


def _fork_resolutions(result: UniversalResolution) -> dict[str, Resolution]:
    return {fork_name(fork): fork.resolution for fork in result.forks}


# -- lock --check ------------------------------------------------------------------------------


@dataclass
class DriftReport:
    lock: Path
    changes: list[str] = field(default_factory=list)

    @property
    def drift(self) -> bool:
        return bool(self.changes)

    def to_text(self) -> str:
        if not self.changes:
            return f"{self.lock}: up to date\n"
        return "".join(f"{self.lock}: {c}\n" for c in self.changes)


def check_lock(
    lock_path: Path, *, index_url: str | None = None, find_links: str | None = None, sources: SourceSettings | None = None
) -> DriftReport:
    """Re-resolve a lock's recorded inputs and compare with the file, byte for byte and by pin.

    The packages come from ``sources`` when they name any, else from ``index_url`` or
    ``find_links``, else from the source the lock records.
    """
    from ..sources import open_repository
    from .document import load
    from .tomlio import dumps
    from .writer import lock_files, options_from_table, resolve_targets

    doc = load(lock_path)
    where = str(lock_path)
    tool = doc.tool
    if tool.get("format") != 1:
        raise InputError("no [tool.varsolve] (format 1): this lock was not written by varsolve", where=where)
    settings = source_settings(index_url, find_links, sources)
    if not settings.names_a_source:
        recorded = tool.get("source", {})
        folder = recorded.get("find-links")
        settings = source_settings(recorded.get("index-url"), doc.directory / folder if folder is not None else None, settings)
    # A check asks the index what it serves now: every cached page is revalidated (a 304 keeps
    # it cheap), so an index rebuilt a minute ago is not reported "up to date" from the cache.
    # --offline checks against the cache as it is.
    if not settings.offline:
        settings = replace(settings, refresh=True)
    repository = open_repository(settings)
    if repository is None:
        raise InputError("tool.varsolve.source: no source recorded; give --index-url or --find-links", where=where)
    if is_universal(tool):
        return _check_universal(doc.path, tool, repository, source_of=lock_source(settings))
    targets = [_target_from_tool(name, info, where) for name, info in sorted(tool.get("targets", {}).items())]
    if not targets:
        raise InputError("tool.varsolve.targets: empty", where=where)
    options = options_from_table(tool.get("options", {}), where)
    strategy = str(tool.get("strategy", "backtrack"))
    requirements = [str(r) for r in tool.get("requirements", [])]
    source = lock_source(settings)
    layout = str(tool.get("layout", "shared"))
    output = lock_path if layout == "shared" else lock_path.parent / "pylock.toml"
    try:
        results = resolve_targets(repository, requirements, targets, options, strategy)
        documents = lock_files(results, repository, output, source, strategy, layout)
    finally:
        _close(repository)
    fresh = documents.get(lock_path) or next(iter(documents.values()))
    report = DriftReport(lock_path)
    report.changes = _pin_changes(tool, fresh["tool"]["varsolve"])
    if not report.changes and dumps(fresh) != lock_path.read_text(encoding="utf-8"):
        report.changes.append("the lock's files or metadata changed (same pins): re-run varsolve lock")
    return report


def _check_universal(lock_path: Path, tool: dict[str, Any], repository: Repository, source_of: LockSource) -> DriftReport:
    """``lock --check`` of a universal lock: the recorded universe, targets and inputs resolved
    again, the document rebuilt and compared (forks and pins first, then the bytes)."""
    from .tomlio import dumps
    from .universal import universal_changes, universe_from_tool
    from .writer import options_from_table

    where = str(lock_path)
    universe, base = universe_from_tool(tool, where)
    options = options_from_table(tool.get("options", {}), where)
    strategy = str(tool.get("strategy", "backtrack"))
    problem = Problem(repository, base, tuple(str(r) for r in tool.get("requirements", [])), options)
    try:
        result = resolve_for_lock(problem, strategy, universe)
        fresh = universal_document(result, repository, lock_path.parent, source_of, strategy, problem=problem, universe=universe)
    finally:
        _close(repository)
    report = DriftReport(lock_path)
    report.changes = universal_changes(tool, fresh["tool"]["varsolve"])
    if not report.changes and dumps(fresh) != lock_path.read_text(encoding="utf-8"):
        report.changes.append("the lock's files or metadata changed (same pins): re-run varsolve lock")
    return report


def _target_from_tool(name: str, info: Any, where: str) -> LockTarget:
    from ..target import Target

    key = f"tool.varsolve.targets.{name}"
    if not isinstance(info, dict):
        raise InputError(f"{key}: must be a table", where=where)
    validate_target_name(name, where)
    variants = info.get("variants", {})
    target = Target.make(info.get("python"), info.get("platform"), variants, info.get("enable", []), where=f"{where}: {key}")
    return LockTarget(name, target)


def _pin_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changes = []
    old_targets, new_targets = old.get("targets", {}), new.get("targets", {})
    for name in sorted(set(old_targets) | set(new_targets)):
        was = old_targets.get(name, {}).get("packages", {})
        now = new_targets.get(name, {}).get("packages", {})
        for pkg in sorted(set(was) | set(now)):
            a, b = was.get(pkg), now.get(pkg)
            if a == b:
                continue
            prefix = f"target {name}: " if len(new_targets) > 1 else ""
            if a is None:
                changes.append(f"{prefix}{pkg}: new, {_pin_text(b)}")
            elif b is None:
                changes.append(f"{prefix}{pkg}: no longer needed (locked {_pin_text(a)})")
            else:
                changes.append(f"{prefix}{pkg}: locked {_pin_text(a)}, now {_pin_text(b)}")
        u_was = old_targets.get(name, {}).get("unified", {})
        u_now = new_targets.get(name, {}).get("unified", {})
        for feature in sorted(set(u_was) | set(u_now)):
            if u_was.get(feature) != u_now.get(feature):
                changes.append(f"target {name}: unified {feature}: locked {u_was.get(feature)!r}, now {u_now.get(feature)!r}")
    return changes


def _pin_text(pin: dict[str, Any]) -> str:
    variant = pin.get("variant")
    label = "" if not variant else f" [{variant}]"
    return f"{pin.get('version')}{label}"


# -- install -----------------------------------------------------------------------------------


def install_lock(
    lock_path: Path,
    *,
    python: str | None = None,
    variants_file: str | Path | None = None,
    dry_run: bool = False,
    provider_policy: ProviderPolicy | None = None,
) -> list[str]:
    from .document import load
    from .install import install, plan, stage_only
    from .interpreter import probe

    try:
        import installer  # noqa: F401
    except ModuleNotFoundError:
        raise InputError("varsolve install needs the installer library: pip install 'varsolve[lock]'") from None
    doc = load(lock_path)
    variants = enabled = None
    if variants_file is not None:
        # A static provider file or a whole target file (its provider part and enable list).
        machine = load_target_file(variants_file).target
        variants, enabled = machine.variants, machine.enabled
    interp = probe(python)
    the_plan = plan(doc, interp, variants, enabled, provider_policy)
    head = [line for line in [the_plan.describe_fork()] if line is not None]  # a universal lock: which fork
    if dry_run:
        stage_only(doc, the_plan)
        return head + [f"would install {s.describe()}" for s in the_plan.selected]
    lines = install(doc, interp, the_plan)
    return head + (lines or ["nothing to do"])

