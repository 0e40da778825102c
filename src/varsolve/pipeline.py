"""From input to a verified result: a source, a target and the requirements make a
:class:`~varsolve.problem.Problem` (:func:`build_problem`); a strategy turns it into a
:class:`~varsolve.resolution.Resolution` and the independent verifier checks it (:func:`solve`).

The commands and :mod:`varsolve.api` build on these two; so do the lock writer and the scenario
checks, which is why they live below the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .problem import Problem, ResolverOptions
from .repository import Repository
from .resolution import Resolution
from .target import ProviderPolicy, Target
from .variants.properties import VariantFeature

if TYPE_CHECKING:
    from .strategies import Strategy, StrategyName

__all__ = ["build_problem", "solve"]


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
    ``repository`` is given) the packages. Without a scenario or a ``target`` the target is the
    running interpreter (:meth:`Target.of_running_interpreter`: its version and platform, no
    variant properties). ``python`` replaces only the target's Python,
    ``variants_file`` only what it supports (a static provider file), ``enable`` adds optional
    providers; ``provider_policy`` switches on host detection and allowed plugins
    (docs/providers.md).
    """
    from .errors import InputError

    if scenario is not None:
        from .sources.scenario import load_scenario

        problem = load_scenario(scenario, strict=strict, packages=repository is None).problem
    elif repository is not None:
        problem = Problem(
            repository, target or Target.of_running_interpreter(), tuple(requirements or ()), options or ResolverOptions()
        )
    else:
        raise InputError("nothing to resolve from: give a scenario or a repository")
    if repository is not None:
        problem = replace(problem, repository=repository)
    if requirements:
        problem = replace(problem, requirements=tuple(requirements))
    if target is not None:
        problem = replace(problem, target=target)
    if python is not None:
        problem = replace(problem, target=problem.target.with_python(python))
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
    from .collector import fewer_collections
    from .strategies import get_strategy

    runner = get_strategy(strategy) if isinstance(strategy, str) else strategy
    start_fetching(problem)
    with fewer_collections():
        resolution = runner.solve(problem)
        if verify:
            from .verifier import verify as run_verifier

            resolution = resolution.with_violations(run_verifier(problem, resolution))
    return resolution


def start_fetching(problem: Problem) -> None:
    """Tell the problem's source what will be asked (the target, the root's names), so that an
    index starts fetching pages and likely metadata in the background before the search asks."""
    problem.repository.hint_target(problem.target)
    problem.repository.prefetch(problem.root_names())
