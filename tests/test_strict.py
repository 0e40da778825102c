"""Strict scenario loading: missing packages and dependency cycles are input errors (exit 2).

Off by default, because packse's scenarios use a missing package to mean "unsatisfiable" and
pip installs dependency cycles; on with ``--strict`` or ``resolver_options.strict = true``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from varsolve.api import solve
from varsolve.errors import InputError
from varsolve.sources.scenario import load_scenario

CYCLE = """
[root]
requires = ["a"]
[packages.a.versions."1.0.0"]
requires = ["b"]
[packages.b.versions."1.0.0"]
requires = ["a>=1"]
"""

MISSING = """
[root]
requires = ["a"]
[packages.a.versions."1.0.0"]
requires = ["zzz"]
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_cycle_resolves_by_default_like_pip(tmp_path):
    scenario = load_scenario(write(tmp_path, "cycle.toml", CYCLE))
    resolution = solve(scenario.problem, "backtrack")
    assert resolution.satisfiable and not resolution.violations
    assert sorted(resolution.packages) == ["a", "b"]


def test_missing_package_is_unsatisfiable_by_default(tmp_path):
    scenario = load_scenario(write(tmp_path, "missing.toml", MISSING))
    resolution = solve(scenario.problem, "backtrack")
    assert not resolution.satisfiable
    assert "there is no package named zzz" in resolution.explanation


def test_strict_cycle_names_file_key_and_cycle(tmp_path):
    path = write(tmp_path, "cycle.toml", CYCLE)
    with pytest.raises(InputError) as info:
        load_scenario(path, strict=True)
    message = str(info.value)
    assert message.startswith(str(path))
    assert 'packages.a.versions."1.0.0".requires' in message
    assert "dependency cycle a -> b -> a" in message


def test_strict_missing_names_key(tmp_path):
    path = write(tmp_path, "missing.toml", MISSING)
    with pytest.raises(InputError, match=r'packages\.a\.versions\."1\.0\.0"\.requires: requires zzz'):
        load_scenario(path, strict=True)


def test_strict_from_the_file(tmp_path):
    path = write(tmp_path, "missing.toml", "[resolver_options]\nstrict = true\n" + MISSING)
    with pytest.raises(InputError):
        load_scenario(path)
    # The flag overrides the file in both directions.
    assert load_scenario(path, strict=False).problem.requirements == ("a",)


@pytest.mark.parametrize("command", [["resolve", "--strict", "--scenario"], ["scenario", "check", "--strict"]])
def test_cli_strict_exit_2_one_line(tmp_path, command):
    path = write(tmp_path, "cycle.toml", CYCLE)
    proc = subprocess.run(
        [sys.executable, "-m", "varsolve.cli", *command, str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "dependency cycle" in proc.stderr


def test_bundled_scenarios_are_strict_clean():
    from pathlib import Path

    for path in sorted(Path(__file__).parent.parent.joinpath("scenarios").rglob("*.toml")):
        load_scenario(path, strict=True)

