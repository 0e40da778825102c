"""Installer conformance: what real installers (uv, pip, any command) choose for each scenario,
checked by the independent verifier and compared with varsolve's strategies.

``run_conformance`` is what ``varsolve conformance`` calls::

    from varsolve.conformance import run_conformance
    report = run_conformance(["scenarios/variants"], "uv", timeout=60)
    print(report.render("md"))          # or "table", "json"

Modules: :mod:`.target_index` (a scenario's index with its target written into the variant
metadata, the way uv reads it), :mod:`.installers` (the uv, pip and command-template adapters,
bounded runs), :mod:`.verdict` (verification, comparison, why it differs), :mod:`.report`
(rows and renderings), :mod:`.runner` (the loop). docs/conformance.md has the tables.
"""

from __future__ import annotations

from .installers import PLACEHOLDERS, CommandInstaller, Installer, PipInstaller, UvInstaller, get_installer
from .report import FORMATS, ConformanceReport, ConformanceRow
from .runner import DEFAULT_TIMEOUT, run_conformance

__all__ = [
    "DEFAULT_TIMEOUT",
    "FORMATS",
    "PLACEHOLDERS",
    "CommandInstaller",
    "ConformanceReport",
    "ConformanceRow",
    "Installer",
    "PipInstaller",
    "UvInstaller",
    "get_installer",
    "run_conformance",
]
