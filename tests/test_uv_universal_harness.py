"""tests/uv_universal.py for real: packse scenarios built into an index, served on loopback and
locked by uv 0.13.9, then read per environment.

The packse scenarios come from the package registry at test time (tests/packse_data.py); when
they cannot be fetched those tests are skipped, with the reason. The scenarios written here need
only uv.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from index_helpers import uv
from packse_data import PackseUnavailable, packse_scenarios_dir
from uv_universal import (
    UvUniversalResult,
    locked_packages,
    marker_environment,
    served_scenario,
    uv_lock_universal,
    uv_universal_for_scenario,
)

pytestmark = pytest.mark.skipif(uv() is None, reason="uv is not installed")

LINUX = marker_environment("linux")
DARWIN = marker_environment("darwin")
WINDOWS = marker_environment("win32")


@pytest.fixture(scope="module")
def packse_root() -> Path:
    try:
        return packse_scenarios_dir()
    except PackseUnavailable as exc:
        pytest.skip(f"packse scenarios unavailable: {exc}")


@pytest.mark.network
def test_fork_basic_locks_one_version_per_platform(packse_root: Path, tmp_path: Path) -> None:
    scenario = packse_root / "fork" / "basic.toml"
    with served_scenario(scenario, tmp_path) as index_url:
        assert index_url.startswith("http://127.0.0.1:")
        result = uv_lock_universal(scenario, index_url, tmp_path / "project")
    assert result.satisfiable and result.message == ""
    assert result.entries == (("a", "1.0.0", "sys_platform == 'darwin'"), ("a", "2.0.0", "sys_platform == 'linux'"))
    assert result.requires_python == ">=3.12"
    assert result.packages_for(LINUX) == {("a", "2.0.0")}
    assert result.packages_for(DARWIN) == {("a", "1.0.0")}
    assert result.packages_for(WINDOWS) == frozenset()
    # uv export lists what uv.lock holds, and the project uv locked is the one of uv's tests.
    assert locked_packages(tmp_path / "project") == {("a", "1.0.0"), ("a", "2.0.0")}
    pyproject = (tmp_path / "project" / "pyproject.toml").read_text(encoding="utf-8")
    assert 'name = "project"' in pyproject and 'requires-python = ">=3.12"' in pyproject
    assert "\"a>=2 ; sys_platform == 'linux'\"" in pyproject


@pytest.mark.network
def test_fork_conflict_unsatisfiable_is_no_lock_with_uvs_reason(packse_root: Path) -> None:
    result = uv_universal_for_scenario(packse_root / "fork" / "conflict-unsatisfiable.toml")
    assert not result.satisfiable
    assert result.entries == () and result.packages_for(LINUX) == frozenset()
    assert "No solution found" in result.message and "a>=2" in result.message, result.message


@pytest.mark.network
def test_requires_python_of_the_root_is_the_projects(packse_root: Path, tmp_path: Path) -> None:
    """``a==1.0.0 ; python_version == '3.10'`` under ``requires-python = ">=3.10.1"``: locked,
    installed on 3.10 only (uv simplifies the marker under requires-python)."""
    result = uv_universal_for_scenario(packse_root / "fork" / "requires-python-patch-overlap.toml", tmp_path)
    assert result.satisfiable
    assert result.requires_python == ">=3.10.1"
    assert result.entries == (("a", "1.0.0", "python_full_version < '3.11'"),)
    assert result.packages_for(marker_environment("linux", "3.10.2")) == {("a", "1.0.0")}
    assert result.packages_for(marker_environment("linux", "3.12.1")) == frozenset()
    assert 'requires-python = ">=3.10.1"' in (tmp_path / "project" / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.network
def test_required_environments_reach_uv(packse_root: Path, tmp_path: Path) -> None:
    result = uv_universal_for_scenario(packse_root / "wheels" / "requires-python-subset.toml", tmp_path)
    assert result.satisfiable
    assert result.packages_for(WINDOWS) == {("win-only", "1.0.0")} and result.packages_for(LINUX) == frozenset()
    pyproject = (tmp_path / "project" / "pyproject.toml").read_text(encoding="utf-8")
    assert "[tool.uv]\nrequired-environments = [" in pyproject and "sys_platform == \\\"win32\\\"" in pyproject
    lock = (tmp_path / "project" / "uv.lock").read_text(encoding="utf-8")
    assert "required-markers" in lock


def test_a_requires_python_no_interpreter_here_meets_is_recorded_unsatisfiable(write_scenario) -> None:
    scenario = write_scenario(
        """
        name = "needs-python-99"
        [root]
        requires = ["a"]
        requires_python = ">=3.99"
        [resolver_options]
        universal = true
        [packages.a.versions."1.0.0"]
        """
    )
    result = uv_universal_for_scenario(scenario)
    assert not result.satisfiable and result.entries == ()
    assert ">=3.99" in result.message, result.message


def test_options_uv_lock_has_no_equivalent_are_refused(write_scenario, tmp_path: Path) -> None:
    scenario = write_scenario(
        """
        name = "single-target"
        [root]
        requires = ["a"]
        [resolver_options]
        universal = true
        python_platform = "x86_64-manylinux2014"
        [packages.a.versions."1.0.0"]
        """
    )
    with pytest.raises(ValueError, match="python_platform"):
        uv_lock_universal(scenario, "http://127.0.0.1:9/simple/", tmp_path / "project")


def test_packages_for_evaluates_each_marker() -> None:
    result = UvUniversalResult(
        True, "", (("a", "1.0", ""), ("b", "2.0", "implementation_name == 'pypy'"), ("c", "1.0", "os_name == 'nt'"))
    )
    assert result.packages_for(LINUX) == {("a", "1.0")}
    assert result.packages_for(WINDOWS) == {("a", "1.0"), ("c", "1.0")}
    assert result.packages_for(marker_environment("linux", implementation_name="pypy")) == {("a", "1.0"), ("b", "2.0")}
