"""``varsolve install --detect``: the machine an install runs on is the target, so its own
detectors may fill the namespaces a ``--variants`` file leaves out (docs/providers.md)."""

from __future__ import annotations

import platform
import sys
import textwrap
from pathlib import Path

import pytest

from lock_helpers import varsolve

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() != "x86_64", reason="needs an x86_64 Linux host"
)

SCENARIO = """
[root]
requires = ["fastmath"]
[packages.fastmath.versions."1.0.0"]
requires_python = ">=3.8"
wheel = false
sdist = false
[packages.fastmath.versions."1.0.0".variants]
x86_64_v1 = ["x86_64 :: level :: v1"]
"""


def test_install_detect_fills_namespaces_the_variants_file_leaves_out(tmp_path: Path) -> None:
    from varsolve.index.builder import build_index

    scenario = tmp_path / "scenario.toml"
    scenario.write_text(textwrap.dedent(SCENARIO))
    build_index(scenario, tmp_path / "index")
    target = tmp_path / "v1.toml"
    target.write_text(
        f'python = "{sys.version_info.major}.{sys.version_info.minor}"\nplatform = "x86_64-manylinux_2_39"\n'
        '[[provider]]\nnamespace = "x86_64"\n[provider.properties]\nlevel = ["v1"]\n'
    )
    lock = tmp_path / "pylock.toml"
    proc = varsolve("lock", "fastmath", "--find-links", str(tmp_path / "index" / "files"), "--target", str(target), "-o", str(lock))
    assert proc.returncode == 0, proc.stderr
    # A machine description without the x86_64 namespace: the locked variant is unsupported.
    other = tmp_path / "blas-only.toml"
    other.write_text('[[provider]]\nnamespace = "blas_lapack"\n[provider.properties]\nlibrary = ["openblas"]\n')
    refused = varsolve("install", str(lock), "--python", sys.executable, "--dry-run", "--variants", str(other))
    assert refused.returncode == 2 and "fastmath" in refused.stderr, refused.stderr
    # With --detect this machine's own x86_64 detector says which levels it supports (>= v1).
    detected = varsolve("install", str(lock), "--python", sys.executable, "--dry-run", "--variants", str(other), "--detect")
    assert detected.returncode == 0, detected.stderr
    assert "would install fastmath" in detected.stdout and "x86_64_v1" in detected.stdout


def test_lock_detect_reaches_target_files_and_is_recorded(tmp_path: Path) -> None:
    import tomllib

    from varsolve.index.builder import build_index

    scenario = tmp_path / "scenario.toml"
    scenario.write_text(textwrap.dedent(SCENARIO))
    build_index(scenario, tmp_path / "index")
    # A target file that says nothing about x86_64: only --detect can make the v1 wheel usable.
    target = tmp_path / "here.toml"
    target.write_text(
        f'python = "{sys.version_info.major}.{sys.version_info.minor}"\nplatform = "x86_64-manylinux_2_39"\n'
    )
    lock = tmp_path / "pylock.toml"
    args = ["lock", "fastmath", "--find-links", str(tmp_path / "index" / "files"), "--target", str(target), "-o", str(lock)]
    without = varsolve(*args)
    assert without.returncode != 0 and not lock.exists()
    proc = varsolve(*args, "--detect")
    assert proc.returncode == 0, proc.stderr
    recorded = tomllib.loads(lock.read_text())["tool"]["varsolve"]["targets"]["here"]
    assert "v1" in recorded["variants"]["x86_64"]["level"]
    assert recorded["packages"]["fastmath"]["variant"] == "x86_64_v1"
    # The recorded detection is enough to re-check the lock without --detect.
    check = varsolve("lock", "--check", str(lock))
    assert check.returncode == 0, check.stdout + check.stderr
