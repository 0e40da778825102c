"""varsolve: a Python resolver in which wheel-variant properties are solver variables.

The public API is imported lazily so that ``import varsolve`` (and the CLI) start fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["resolve", "solve", "build_problem", "verify", "Resolution", "Problem", "Target"]

_LAZY = {
    "resolve": ("varsolve.api", "resolve"),
    "solve": ("varsolve.api", "solve"),
    "build_problem": ("varsolve.api", "build_problem"),
    "verify": ("varsolve.verify", "verify"),
    "Resolution": ("varsolve.resolution", "Resolution"),
    "Problem": ("varsolve.problem", "Problem"),
    "Target": ("varsolve.target", "Target"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'varsolve' has no attribute {name!r}")
