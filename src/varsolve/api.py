"""The Python API under the CLI: ``varsolve.resolve``, ``lock``, ``install`` and ``check``.

Data flows one way: a source and a target and the requirements make a :class:`Problem`
(:func:`build_problem`), a strategy turns it into a :class:`Resolution` (:func:`solve`), the
independent verifier checks it, and the result is printed, locked or installed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .problem import Problem, ResolverOptions
from .repository import Repository
from .resolution import Resolution
from .target import ProviderPolicy, Target, parse_python
from .variants.properties import VariantFeature

if TYPE_CHECKING:
    from .check import CheckResult
    from .strategies import Strategy, StrategyName

__all__ = ["build_problem", "check", "install", "lock", "resolve", "solve"]


def build_problem(
    requirements: Sequence[str] | None = None,
    *,
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
) -> Problem:
    """Assemble a problem from a scenario and/or explicit parts; explicit parts win.

    ``scenario`` gives the root requirements, the target, the options and (unless
    ``repository`` is given) the packages. ``python`` replaces only the target's Python,
    ``variants_file`` only what it supports (a static provider file), ``enable`` adds optional
    providers; ``provider_policy`` switches on host detection and allowed plugins
    (docs/providers.md).
    """
    from .errors import InputError

    if scenario is not None:
        from .sources.scenario import load_scenario

        problem = load_scenario(scenario, strict=strict).problem
    elif repository is not None:
        problem = Problem(repository, target or Target(), tuple(requirements or ()), options or ResolverOptions())
    else:
        raise InputError("nothing to resolve from: give a scenario or a repository")
    if repository is not None:
        problem = replace(problem, repository=repository)
    if requirements:
        problem = replace(problem, requirements=tuple(requirements))
    if target is not None:
        problem = replace(problem, target=target)
    if python is not None:
        problem = replace(problem, target=replace(problem.target, python=parse_python(python)))
    if variants_file is not None:
        from .providers.static_file import load_static_file

        problem = replace(problem, target=replace(problem.target, variants=load_static_file(variants_file)))
    if enable:
        problem = replace(problem, target=replace(problem.target, enabled=problem.target.enabled | frozenset(enable)))
    if provider_policy is not None:
        problem = replace(problem, target=replace(problem.target, provider_policy=provider_policy))
    if options is not None:
        problem = replace(problem, options=options)
    if unify:
        features = tuple(VariantFeature.parse(f) for f in unify)
        problem = replace(problem, options=replace(problem.options, unify=features))
    return problem


def solve(problem: Problem, strategy: StrategyName | Strategy = "backtrack", *, verify: bool = True) -> Resolution:
    """Run ``strategy`` (a name or any object with ``solve(problem)``) on ``problem``; with
    ``verify``, the independent verifier's findings are in ``Resolution.violations``."""
    from .strategies import get_strategy

    runner = get_strategy(strategy) if isinstance(strategy, str) else strategy
    resolution = runner.solve(problem)
    if verify:
        from .verify import verify as run_verifier

        resolution = resolution.with_violations(run_verifier(problem, resolution))
    return resolution


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
) -> list[Path]:
    """Resolve for every target and write ``pylock.toml`` (PEP 751 with PEP 825's
    ``[packages.variants-json]``) or one lock per target; returns the paths written. Nothing is
    written unless every target resolves (docs/lock.md)."""
    from .lock.api import lock as write_lock

    return write_lock(
        requirements, scenario=scenario, index_url=index_url, find_links=find_links,
        target_files=target_files, python=python, variants_file=variants_file, unify=unify,
        enable=enable, strategy=strategy, output=Path(output), adjust=adjust,
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
    from .lock.api import install_lock

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
    from .check import run_checks
    from .strategies import available

    return run_checks(list(paths), list(strategies or available()), strict=strict)
