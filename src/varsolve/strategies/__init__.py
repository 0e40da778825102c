"""Resolution strategies behind one small protocol.

A strategy turns a :class:`~varsolve.problem.Problem` into a
:class:`~varsolve.resolution.Resolution`. ``complete`` strategies find a solution whenever one
exists; the others (the status quo) may fail or violate ``unify`` where a solution exists.
Modules are imported on first use to keep the CLI fast.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Protocol

from ..errors import InputError
from ..problem import Problem
from ..resolution import Resolution


class Strategy(Protocol):
    name: str
    complete: bool

    def solve(self, problem: Problem) -> Resolution: ...


_REGISTRY = {
    "pep825": ("varsolve.strategies.greedy", "StatusQuo"),
    "backtrack": ("varsolve.strategies.greedy", "Backtrack"),
    "sat": ("varsolve.strategies.sat", "SatStrategy"),
}
COMPLETE = {"backtrack", "sat"}


def available() -> list[str]:
    """Names of the strategies whose implementation is installed, in canonical order."""
    out = []
    for name, (module, _) in _REGISTRY.items():
        if importlib.util.find_spec(module) is not None:
            out.append(name)
    return out


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
    return getattr(mod, attr)()
