"""The Python API under the CLI: ``varsolve.resolve(...)``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .problem import Problem, ResolverOptions
from .repository import Repository
from .resolution import Resolution
from .target import ProviderPolicy, Target
from .variants.properties import VariantFeature


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

    ``provider_policy`` switches on host detection and allowed plugins (docs/providers.md).
    """
    from .errors import InputError

    if scenario is not None:
        from .sources.scenario import load_scenario

        base = load_scenario(scenario, strict=strict).problem
    elif repository is not None:
        base = Problem(repository, target or Target(), tuple(requirements or ()), options or ResolverOptions())
    else:
        raise InputError("nothing to resolve from: give a scenario or a repository")
    problem = base
    if repository is not None:
        problem = replace(problem, repository=repository)
    if requirements:
        problem = replace(problem, requirements=tuple(requirements))
    if target is not None:
        problem = replace(problem, target=target)
    if python is not None:
        problem = replace(problem, target=Target.make(python, problem.target.platform.name, problem.target.variants, sorted(problem.target.enabled)))
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


def solve(problem: Problem, strategy: str = "backtrack", verify: bool = True) -> Resolution:
    from .strategies import get_strategy
    from .verify import verify as run_verifier

    resolution = get_strategy(strategy).solve(problem)
    if verify:
        resolution.violations = run_verifier(problem, resolution)
    return resolution


def resolve(
    requirements: Sequence[str] | None = None,
    *,
    strategy: str = "backtrack",
    **kwargs,
) -> Resolution:
    """Resolve ``requirements`` (or a scenario's root) and verify the result.

    Keyword arguments are those of :func:`build_problem`.
    """
    return solve(build_problem(requirements, **kwargs), strategy)
