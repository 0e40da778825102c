"""The CLI imports a command's module only when that command runs (start-up time)."""

from __future__ import annotations

import subprocess
import sys


def test_command_help_matches_the_modules():
    """`varsolve --help` lists commands without importing them: the copies must stay equal."""
    import argparse

    from varsolve import cli

    for name in cli.COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        cli._command_module(name).add_parser(sub)
        helps = {a.dest: a.help for a in sub._choices_actions}
        assert helps[name] == cli.COMMAND_HELP[name], name


def test_resolve_imports_no_other_command_module():
    code = (
        "import sys; from varsolve.cli import build_parser; build_parser(['resolve', 'x']); "
        "print(sorted(m for m in sys.modules if m.startswith('varsolve.commands.') and m != 'varsolve.commands.options'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
