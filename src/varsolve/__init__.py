"""varsolve: a Python resolver in which wheel-variant properties are solver variables.

>>> import varsolve
>>> resolution = varsolve.resolve(["numpy", "scipy"], scenario="scenarios/variants/blas-unify.toml")
>>> resolution.satisfiable, resolution.unified
(True, {'blas_lapack :: library': 'openblas'})

The public API (docs/api.md) is imported on first use so that ``import varsolve`` and the CLI
start fast; type checkers see it through the imports below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .api import check, install, lock, resolve, resolve_universal
    from .errors import InputError, SourceError, VarsolveError
    from .marker_algebra import MarkerSet
    from .pipeline import build_problem, solve
    from .problem import PrereleasePolicy, Problem, RequiresPythonPolicy, ResolverOptions, YankedPolicy
    from .repository import CoreMetadata, DistFile, Release, Repository
    from .resolution import Edge, Explanation, Pin, Resolution, Step, Violation
    from .scenario_check import CheckResult
    from .sources import SourceSettings, open_repository
    from .strategies import Strategy, StrategyName
    from .strategies.greedy import Backtrack, StatusQuo
    from .strategies.sat import SatStrategy
    from .target import ProviderPolicy, Target
    from .universal.result import Fork, UniversalResolution
    from .verifier import verify

__all__ = [
    "Backtrack",
    "CheckResult",
    "CoreMetadata",
    "DistFile",
    "Edge",
    "Explanation",
    "Fork",
    "InputError",
    "MarkerSet",
    "Pin",
    "PrereleasePolicy",
    "Problem",
    "ProviderPolicy",
    "Release",
    "Repository",
    "RequiresPythonPolicy",
    "Resolution",
    "ResolverOptions",
    "SatStrategy",
    "SourceError",
    "SourceSettings",
    "StatusQuo",
    "Step",
    "Strategy",
    "StrategyName",
    "Target",
    "UniversalResolution",
    "VarsolveError",
    "Violation",
    "YankedPolicy",
    "__version__",
    "build_problem",
    "check",
    "install",
    "lock",
    "open_repository",
    "resolve",
    "resolve_universal",
    "solve",
    "verify",
]

# name -> module that defines it; kept equal to the TYPE_CHECKING imports by a test.
_LAZY: dict[str, str] = {
    "build_problem": "varsolve.pipeline",
    "check": "varsolve.api",
    "install": "varsolve.api",
    "lock": "varsolve.api",
    "resolve": "varsolve.api",
    "resolve_universal": "varsolve.api",
    "MarkerSet": "varsolve.marker_algebra",
    "Fork": "varsolve.universal.result",
    "UniversalResolution": "varsolve.universal.result",
    "solve": "varsolve.pipeline",
    "CheckResult": "varsolve.scenario_check",
    "InputError": "varsolve.errors",
    "SourceError": "varsolve.errors",
    "VarsolveError": "varsolve.errors",
    "PrereleasePolicy": "varsolve.problem",
    "Problem": "varsolve.problem",
    "RequiresPythonPolicy": "varsolve.problem",
    "ResolverOptions": "varsolve.problem",
    "YankedPolicy": "varsolve.problem",
    "CoreMetadata": "varsolve.repository",
    "DistFile": "varsolve.repository",
    "Release": "varsolve.repository",
    "Repository": "varsolve.repository",
    "Edge": "varsolve.resolution",
    "Explanation": "varsolve.resolution",
    "Pin": "varsolve.resolution",
    "Resolution": "varsolve.resolution",
    "Step": "varsolve.resolution",
    "Violation": "varsolve.resolution",
    "SourceSettings": "varsolve.sources",
    "open_repository": "varsolve.sources",
    "Strategy": "varsolve.strategies",
    "StrategyName": "varsolve.strategies",
    "Backtrack": "varsolve.strategies.greedy",
    "StatusQuo": "varsolve.strategies.greedy",
    "SatStrategy": "varsolve.strategies.sat",
    "ProviderPolicy": "varsolve.target",
    "Target": "varsolve.target",
    "verify": "varsolve.verifier",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'varsolve' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
