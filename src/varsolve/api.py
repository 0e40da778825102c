"""The Python API under the CLI: ``varsolve.resolve``, ``lock``, ``install`` and ``check``.

Data flows one way: a source and a target and the requirements make a :class:`Problem`
(:func:`build_problem`), a strategy turns it into a :class:`Resolution` and the independent
verifier checks it (:func:`solve`, both in :mod:`varsolve.pipeline`); then the result is
printed, locked or installed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .pipeline import build_problem, solve
from .problem import Problem, ResolverOptions
from .repository import Repository
from .resolution import Resolution
from .target import ProviderPolicy, Target

if TYPE_CHECKING:
    from .lockfile.api import LockResult
    from .scenario_check import CheckResult
    from .sources import SourceSettings
    from .strategies import Strategy, StrategyName
    from .universal.result import UniversalResolution

__all__ = ["build_problem", "check", "install", "lock", "resolve", "resolve_universal", "solve"]


def resolve(
    requirements: Sequence[str] | None = None,
    *,
    strategy: StrategyName | Strategy = "backtrack",
    verify: bool = True,
    scenario: str | Path | None = None,
    repository: Repository | None = None,
    target: Target | None = None,
    python: str | None = None,
    variants_file: str | Path | None = None,
    unify: Sequence[str] | None = None,
    enable: Sequence[str] | None = None,
    options: ResolverOptions | None = None,
    provider_policy: ProviderPolicy | None = None,
    strict: bool | None = None,
) -> Resolution:
    """Resolve ``requirements`` (or a scenario's root) and verify the result.

    The other keyword arguments are those of :func:`build_problem`; ``strategy`` and
    ``verify`` those of :func:`solve`.
    """
    problem = build_problem(
        requirements, scenario=scenario, repository=repository, target=target, python=python,
        variants_file=variants_file, unify=unify, enable=enable, options=options,
        provider_policy=provider_policy, strict=strict,
    )
    return solve(problem, strategy, verify=verify)


def resolve_universal(
    requirements: Sequence[str] | None = None,
    *,
    requires_python: str | None = None,
    environments: Sequence[str] = (),
    targets: Sequence[tuple[str, Target]] = (),
    strategy: StrategyName | Strategy = "backtrack",
    verify: bool = True,
    scenario: str | Path | None = None,
    repository: Repository | None = None,
    target: Target | None = None,
    unify: Sequence[str] | None = None,
    options: ResolverOptions | None = None,
    strict: bool | None = None,
) -> UniversalResolution:
    """Resolve for every environment ``requires_python`` allows (narrowed to ``environments``,
    PEP 508 markers), forking on markers as ``uv lock`` does; each named variant target in
    ``targets`` (only its supported variant properties matter) is resolved over the whole
    universe. ``requires_python`` defaults to a scenario's root ``requires_python``, else ``>=``
    the target's X.Y; ``environments`` to the scenario's ``required_environments``. With
    ``verify``, every fork is checked in each environment its markers tell apart
    (``violations``; ``gaps``: packages with no file an environment can install).
    """
    from .universal.driver import resolve_universal as run

    problem = build_problem(
        requirements, scenario=scenario, repository=repository, target=target, unify=unify, options=options, strict=strict,
    )
    if scenario is not None and (requires_python is None or not environments):
        from .sources.scenario import load_scenario

        loaded = load_scenario(scenario, strict=strict)
        requires_python = requires_python or loaded.requires_python
        environments = environments or loaded.environments
    return run(
        problem, strategy, requires_python=requires_python, environments=environments, targets=targets, verify=verify
    )


def lock(
    requirements: Sequence[str] | None = None,
    *,
    output: str | Path = "pylock.toml",
    strategy: StrategyName = "backtrack",
    scenario: str | Path | None = None,
    index_url: str | None = None,
    find_links: str | Path | None = None,
    target_files: Sequence[str | Path] = (),
    python: str | None = None,
    variants_file: str | Path | None = None,
    unify: Sequence[str] | None = None,
    enable: Sequence[str] | None = None,
    adjust: Callable[[Problem], Problem] | None = None,
    sources: SourceSettings | None = None,
    universal: bool = False,
    requires_python: str | None = None,
    environments: Sequence[str] = (),
) -> LockResult:
    """Resolve for every target and write ``pylock.toml`` (PEP 751 with PEP 825's
    ``[packages.variants-json]``) or one lock per target; returns the paths written and each
    target's verified resolution. Nothing is written unless every target resolves
    (docs/lock.md).

    ``universal``: one lock for every environment ``requires_python`` allows, narrowed to
    ``environments`` (PEP 508 markers); ``target_files`` are then variant targets
    (docs/lock.md, "Universal locks")."""
    from .lockfile.api import lock as write_lock

    return write_lock(
        requirements, scenario=scenario, index_url=index_url, find_links=find_links,
        target_files=target_files, python=python, variants_file=variants_file, unify=unify,
        enable=enable, strategy=strategy, output=Path(output), adjust=adjust, sources=sources,
        universal=universal, requires_python=requires_python, environments=environments,
    )


def install(
    lock_file: str | Path,
    *,
    python: str | None = None,
    variants_file: str | Path | None = None,
    dry_run: bool = False,
    provider_policy: ProviderPolicy | None = None,
) -> list[str]:
    """Install a lock into the environment of ``python`` (default: the active venv), choosing
    each package's variant wheel for this machine (PEP 825); returns what was done, a line per
    package. Every file is fetched and its hash checked before anything is written."""
    from .lockfile.api import install_lock

    return list(
        install_lock(
            Path(lock_file), python=python, variants_file=variants_file, dry_run=dry_run,
            provider_policy=provider_policy or ProviderPolicy(),
        )
    )


def check(
    paths: Sequence[str | Path], *, strategies: Sequence[StrategyName] | None = None, strict: bool | None = None
) -> list[CheckResult]:
    """Run scenario files (or folders of them) with ``strategies`` (default: every available
    one) and compare each verified resolution with the scenario's expectations."""
    from .scenario_check import run_checks
    from .strategies import available

    return run_checks(list(paths), list(strategies or available()), strict=strict)
