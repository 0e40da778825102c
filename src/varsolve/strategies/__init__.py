"""Resolution strategies behind one small protocol.

A strategy turns a :class:`~varsolve.problem.Problem` into a
:class:`~varsolve.resolution.Resolution`. ``complete`` strategies find a solution whenever one
exists; the others (the status quo) may fail or violate ``unify`` where a solution exists.
Modules are imported on first use to keep the CLI fast.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Literal, Protocol, get_args

from ..errors import InputError
from ..problem import Problem
from ..resolution import Resolution

__all__ = ["COMPLETE", "Strategy", "StrategyName", "available", "get_strategy"]

StrategyName = Literal["pep825", "backtrack", "sat"]


class Strategy(Protocol):
    """What :func:`varsolve.resolve` accepts besides a name: any object with these."""

    @property
    def name(self) -> str: ...
    @property
    def complete(self) -> bool: ...
    def solve(self, problem: Problem) -> Resolution: ...


_REGISTRY: dict[str, tuple[str, str]] = {
    "pep825": ("varsolve.strategies.greedy", "StatusQuo"),
    "backtrack": ("varsolve.strategies.greedy", "Backtrack"),
    "sat": ("varsolve.strategies.sat", "SatStrategy"),
}
assert tuple(_REGISTRY) == get_args(StrategyName)
COMPLETE: frozenset[str] = frozenset({"backtrack", "sat"})


def available() -> list[StrategyName]:
    """Names of the strategies whose implementation is installed, in canonical order."""
    return [name for name in get_args(StrategyName) if importlib.util.find_spec(_REGISTRY[name][0]) is not None]


def get_strategy(name: str) -> Strategy:
    if name not in _REGISTRY:
        raise InputError(f"unknown strategy {name!r} (choose from {', '.join(_REGISTRY)})")
    module, attr = _REGISTRY[name]
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise InputError(f"strategy {name!r} is not available in this installation") from None
        raise
    strategy: Strategy = getattr(mod, attr)()
    return strategy
