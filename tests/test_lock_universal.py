"""Universal locks end to end (docs/lock.md, "Universal locks"): scenarios built into a real
index (``varsolve index build``) served on 127.0.0.1 -> ``varsolve lock --universal`` (and the
Python API) -> one pylock.toml -> ``varsolve install``, ``uv pip install -r`` and ``pip install -r``
into real venvs of Python 3.10 and 3.12 (pyenv) -> what ``importlib.metadata`` in each venv
reports, compared with :meth:`UniversalResolution.packages_for` for that interpreter's
environment. Also: determinism, ``lock --check`` clean and after the index changes, variant
targets, bad input."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from index_helpers import clean_env
from lock_helpers import installed, snapshot, uv_binary, varsolve

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the venvs and wheel tags here are Linux ones")


def _pyenv(minor: int) -> str | None:
    found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/3.{minor}.*/bin/python3.{minor}")))
    return found[-1] if found else None


PY310, PY312 = _pyenv(10), _pyenv(12)
needs_pythons = pytest.mark.skipif(PY310 is None or PY312 is None, reason="needs pyenv's Python 3.10 and 3.12")

# Every package of these tests in one index. Wheels are pure Python whatever their tags, so a
# cp310 manylinux wheel installs into any Linux x86_64 CPython 3.10.
INDEX = """
name = "universal-lock-index"
[root]
requires = []

# fork/basic: two versions of a, one per platform
[packages.a.versions."1.0.0"]
requires_python = ""
[packages.a.versions."2.0.0"]
requires_python = ""

# tag-specific wheels: cp39 (below requires-python) and win_amd64 (outside `c`'s Linux marker)
# must not be listed; the rest are
[packages.c.versions."1.0.0"]
requires_python = ">=3.9"
wheel_tags = [
  "cp39-cp39-manylinux_2_17_x86_64", "cp310-cp310-manylinux_2_17_x86_64",
  "cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-win_amd64", "py3-none-any",
]

# a Requires-Python split: b 2 needs Python 3.11, b 1 (which needs d) runs on 3.10
[packages.b.versions."1.0.0"]
requires_python = ">=3.8"
requires = ["d"]
[packages.b.versions."2.0.0"]
requires_python = ">=3.11"
[packages.d.versions."1.0.0"]
requires_python = ""

# variants: numpy has MKL and OpenBLAS variant wheels and a plain one; its MKL variant needs
# mkl-runtime. accel 2 exists only as an MKL variant, accel 1 only as a plain wheel.
[packages.numpy.versions."2.3.0"]
requires_python = ""
sdist = false
requires = ["mkl-runtime; 'blas_lapack :: library :: mkl' in variant_properties"]
[packages.numpy.versions."2.3.0".variants]
mkl = ["blas_lapack :: library :: mkl"]
openblas = ["blas_lapack :: library :: openblas"]
[packages.mkl-runtime.versions."2025.2.0"]
requires_python = ""
sdist = false
[packages.accel.versions."1.0.0"]
requires_python = ""
sdist = false
[packages.accel.versions."2.0.0"]
requires_python = ""
sdist = false
wheel = false
[packages.accel.versions."2.0.0".variants]
mkl = ["blas_lapack :: library :: mkl"]

# kernels' plain wheel needs slowpath, its variant does not: a lock that chose the variant must
# not offer the plain wheel to variant-unaware installers (slowpath is not locked)
[packages.kernels.versions."1.0.0"]
requires_python = ""
sdist = false
requires = ["slowpath; variant_label == ''"]
[packages.kernels.versions."1.0.0".variants]
fast = ["blas_lapack :: library :: mkl"]
[packages.slowpath.versions."1.0.0"]
requires_python = ""
sdist = false
"""

# Like packse's fork/basic, with Python 3.10 allowed and a Linux-only package with tagged wheels.
FORK = """
name = "universal-fork"
[root]
requires = ["a>=2 ; sys_platform == 'linux'", "a<2 ; sys_platform == 'darwin'", "c ; sys_platform == 'linux'"]
requires_python = ">=3.10"
[resolver_options]
universal = true
"""

PYTHON_SPLIT = """
name = "universal-python-split"
[root]
requires = ["b"]
requires_python = ">=3.10"
[resolver_options]
universal = true
"""


def _ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _one_line_error(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    """Exit ``code`` and one error line (after the header naming the target when no scenario or
    target file did, docs/index.md) holding every needle."""
    assert proc.returncode == code, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("varsolve: locking for CPython ")]
    assert len(lines) == 1 and lines[0].startswith("varsolve: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], proc.stderr


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def _venv(python: str, path: Path) -> Path:
    """A fresh venv of ``python`` without pip; returns its interpreter."""
    subprocess.run([python, "-m", "venv", "--without-pip", str(path)], check=True, capture_output=True, timeout=120)
    return path / "bin" / "python"


def _environment(python: Path) -> dict[str, str]:
    from varsolve.lockfile.interpreter import probe

    return dict(probe(str(python)).environment)


def _versions(python: Path) -> dict[str, str]:
    return {name: info["version"] for name, info in installed(python).items()}


def _blind(data: dict):
    from packaging.pylock import Pylock

    from varsolve.lockfile.document import label_blind_view

    view, _ = label_blind_view(data, "pylock.toml")
    pylock = Pylock.from_dict(view)
    pylock.validate()
    return pylock


def _uv_install(lock: Path, python: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [uv_binary(), "pip", "install", "--cache-dir", str(tmp_path / "uv-cache"), "--python", str(python), "-r", str(lock)],
        capture_output=True, text=True, timeout=300, env=clean_env(),
    )


def _pip_install(lock: Path, python: Path) -> subprocess.CompletedProcess[str]:
    """pip 26.3 (this venv's), installing into ``python``'s environment (``pip --python``)."""
    pip = Path(sys.executable).with_name("pip")
    if not pip.exists():
        pytest.skip("pip is not installed next to the test interpreter")
    return subprocess.run(
        [str(pip), "--python", str(python), "install", "--no-cache-dir", "-r", str(lock)],
        capture_output=True, text=True, timeout=300, env=clean_env(),
    )


@pytest.fixture(scope="module")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from varsolve.index.builder import build_index
    from varsolve.index.server import IndexServer

    root = tmp_path_factory.mktemp("universal-index")
    scenario = _write(root, "index.toml", INDEX)
    build_index(scenario, root / "index")
    with IndexServer(str(root / "index"), host="127.0.0.1", port=0) as server:
        yield f"{server.url}simple/"


# -- fork/basic and the Requires-Python split, installed on 3.10 and 3.12 -----------------------


def _lock_and_install_everywhere(tmp_path: Path, index_url: str, scenario_text: str) -> tuple[dict, dict[str, dict[str, str]]]:
    """Lock ``scenario_text`` with the API and the CLI (same bytes, twice), then install it on
    Python 3.10 and 3.12 with varsolve, uv and pip; every install must be exactly what the
    universal resolution says that interpreter's environment gets."""
    from varsolve.lockfile.api import lock

    scenario = _write(tmp_path, "scenario.toml", scenario_text)
    api_lock = tmp_path / "api" / "pylock.toml"
    api_lock.parent.mkdir()
    result = lock(scenario=scenario, index_url=index_url, output=api_lock)  # universal from the scenario
    assert result.paths == (api_lock,) and result.universal is not None and result.consistent
    universal = result.universal

    lock_path = tmp_path / "pylock.toml"
    args = ["lock", "--universal", "--scenario", str(scenario), "--index-url", index_url, "-o", str(lock_path)]
    assert _ok(varsolve(*args)).stdout == f"wrote {lock_path}\n"
    first = lock_path.read_bytes()
    _ok(varsolve(*args))
    assert lock_path.read_bytes() == first, "same input, same lock, byte for byte"
    assert api_lock.read_bytes() == first, "the API and the CLI write the same lock"
    assert _ok(varsolve("lock", "--check", str(lock_path))).stdout == f"{lock_path}: up to date\n"

    data = tomllib.loads(first.decode())
    _blind(data)
    expected: dict[str, dict[str, str]] = {}
    for python in (PY310, PY312):
        assert python is not None
        minor = python.rsplit("python", 1)[-1]
        ours = _venv(python, tmp_path / f"varsolve-{minor}")
        env = _environment(ours)
        want = {name: str(pin.version) for name, pin in universal.packages_for(env).items()}
        assert want, f"the universal resolution installs something on {minor}"
        expected[minor] = want
        out = _ok(varsolve("install", str(lock_path), "--python", str(ours)))
        assert out.stdout.startswith("universal lock: the fork for "), out.stdout
        assert _versions(ours) == want, minor
        assert all(info["installer"] == "varsolve" for info in installed(ours).values())
        assert _ok(varsolve("install", str(lock_path), "--python", str(ours))).stdout.splitlines()[-1] == "nothing to do"

        uv_venv = _venv(python, tmp_path / f"uv-{minor}")
        _ok(_uv_install(lock_path, uv_venv, tmp_path))
        assert _versions(uv_venv) == want, ("uv", minor)

        pip_venv = _venv(python, tmp_path / f"pip-{minor}")
        _ok(_pip_install(lock_path, pip_venv))
        assert _versions(pip_venv) == want, ("pip", minor)
    return data, expected


@needs_pythons
def test_fork_basic_lock_installs_per_environment(tmp_path: Path, index_url: str) -> None:
    data, expected = _lock_and_install_everywhere(tmp_path, index_url, FORK)
    assert expected == {"3.10": {"a": "2.0.0", "c": "1.0.0"}, "3.12": {"a": "2.0.0", "c": "1.0.0"}}
    assert data["requires-python"] == ">=3.10" and "environments" not in data
    entries = [(p["name"], p["version"], p.get("marker")) for p in data["packages"]]
    # Two forks chose different versions of a: two entries, disjoint markers (the requires-python
    # bound the universe implies is left out, as uv.lock leaves it out).
    assert entries == [
        ("a", "1.0.0", 'sys_platform == "darwin"'),
        ("a", "2.0.0", 'sys_platform == "linux"'),
        ("c", "1.0.0", 'sys_platform == "linux"'),
    ]
    c = data["packages"][2]
    # Only the wheels some environment of c's marker can install (cp39: below requires-python;
    # win_amd64: not Linux), and the sdist.
    assert [w["name"] for w in c["wheels"]] == [
        "c-1.0.0-cp310-cp310-manylinux_2_17_x86_64.whl",
        "c-1.0.0-cp312-cp312-manylinux_2_17_x86_64.whl",
        "c-1.0.0-py3-none-any.whl",
    ]
    assert c["sdist"]["name"] == "c-1.0.0.tar.gz" and c["requires-python"] == ">=3.9"
    assert all(w["url"].startswith("http://127.0.0.1:") for w in c["wheels"])
    tool = data["tool"]["varsolve"]
    assert tool["layout"] == "universal" and tool["source"] == {"index-url": index_url}
    universal = tool["universal"]
    assert universal["requires-python"] == ">=3.10" and universal["environments"] == []
    assert universal["target"]["variants"] == {}
    forks = {f["marker"]: {n: (p["version"], p["variant"], p["marker"]) for n, p in f["packages"].items()} for f in universal["forks"]}
    assert forks['sys_platform == "linux"'] == {
        "a": ("2.0.0", "", 'sys_platform == "linux"'), "c": ("1.0.0", "", 'sys_platform == "linux"'),
    }
    assert forks['sys_platform == "darwin"'] == {"a": ("1.0.0", "", 'sys_platform == "darwin"')}


@needs_pythons
def test_python_split_installs_the_newest_release_each_python_can_run(tmp_path: Path, index_url: str) -> None:
    data, expected = _lock_and_install_everywhere(tmp_path, index_url, PYTHON_SPLIT)
    assert expected == {"3.10": {"b": "1.0.0", "d": "1.0.0"}, "3.12": {"b": "2.0.0"}}
    entries = [(p["name"], p["version"], p.get("marker"), p.get("requires-python")) for p in data["packages"]]
    assert entries == [
        ("b", "1.0.0", 'python_full_version == "3.10.*"', ">=3.8"),
        ("b", "2.0.0", 'python_full_version >= "3.11"', ">=3.11"),
        ("d", "1.0.0", 'python_full_version == "3.10.*"', None),
    ]
    markers = [f["marker"] for f in data["tool"]["varsolve"]["universal"]["forks"]]
    assert markers == ['python_full_version == "3.10.*"', 'python_full_version >= "3.11"']


@needs_pythons
def test_a_python_outside_the_universe_is_refused_in_one_line(tmp_path: Path, index_url: str) -> None:
    lock_path = tmp_path / "pylock.toml"
    scenario = _write(tmp_path, "scenario.toml", PYTHON_SPLIT)
    args = ["lock", "--universal", "--scenario", str(scenario), "--index-url", index_url, "-o", str(lock_path)]
    _ok(varsolve(*args, "--python-requires", ">=3.11"))  # the flag wins over the scenario's
    data = tomllib.loads(lock_path.read_text())
    assert data["requires-python"] == ">=3.11" and [p["version"] for p in data["packages"]] == ["2.0.0"]
    assert PY310 is not None
    python = _venv(PY310, tmp_path / "venv310")
    before = snapshot(python)
    for extra in ([], ["--dry-run"]):
        proc = varsolve("install", str(lock_path), "--python", str(python), *extra)
        _one_line_error(proc, 2, "Python 3.10.", "does not satisfy the lock's requires-python >=3.11")
    assert snapshot(python) == before


@needs_pythons
def test_required_environments(tmp_path: Path, index_url: str) -> None:
    lock_path = tmp_path / "pylock.toml"
    scenario = _write(tmp_path, "scenario.toml", FORK)
    linux, darwin = "sys_platform == 'linux'", "sys_platform == 'darwin'"
    _ok(varsolve(
        "lock", "--universal", "--scenario", str(scenario), "--index-url", index_url, "-o", str(lock_path),
        "--environment", linux, "--environment", darwin,
    ))
    data = tomllib.loads(lock_path.read_text())
    assert data["environments"] == ['sys_platform == "linux"', 'sys_platform == "darwin"']
    assert data["tool"]["varsolve"]["universal"]["environments"] == [linux, darwin]
    assert [f["marker"] for f in data["tool"]["varsolve"]["universal"]["forks"]] == [
        'sys_platform == "linux"', 'sys_platform == "darwin"',
    ]
    # Within these environments a's markers need no more than the platform, c's none at all.
    assert [(p["name"], p["version"], p.get("marker")) for p in data["packages"]] == [
        ("a", "1.0.0", 'sys_platform == "darwin"'), ("a", "2.0.0", 'sys_platform == "linux"'),
        ("c", "1.0.0", 'sys_platform == "linux"'),
    ]
    assert _ok(varsolve("lock", "--check", str(lock_path))).returncode == 0
    assert PY312 is not None
    python = _venv(PY312, tmp_path / "venv")
    _ok(varsolve("install", str(lock_path), "--python", str(python)))
    assert _versions(python) == {"a": "2.0.0", "c": "1.0.0"}
    uv_venv = _venv(PY312, tmp_path / "uv")
    _ok(_uv_install(lock_path, uv_venv, tmp_path))
    assert _versions(uv_venv) == {"a": "2.0.0", "c": "1.0.0"}

    # A lock for macOS only, installed on Linux: PEP 751's environments check, one line.
    mac_lock = tmp_path / "mac" / "pylock.toml"
    mac_lock.parent.mkdir()
    _ok(varsolve(
        "lock", "--universal", "--scenario", str(scenario), "--index-url", index_url, "-o", str(mac_lock), "--environment", darwin,
    ))
    assert [(p["name"], p["version"], p.get("marker")) for p in tomllib.loads(mac_lock.read_text())["packages"]] == [("a", "1.0.0", None)]
    other = _venv(PY312, tmp_path / "other")
    before = snapshot(other)
    _one_line_error(varsolve("install", str(mac_lock), "--python", str(other)), 2, "is none of the lock's environments")
    assert snapshot(other) == before


# -- lock --check --------------------------------------------------------------------------------


def test_check_is_clean_then_reports_drift_after_the_index_changes(tmp_path: Path) -> None:
    from varsolve.index.builder import build_index
    from varsolve.index.server import IndexServer

    index_scenario = _write(tmp_path, "index.toml", INDEX)
    build_index(index_scenario, tmp_path / "index")
    scenario = _write(tmp_path, "scenario.toml", FORK)
    lock_path = tmp_path / "pylock.toml"
    with IndexServer(str(tmp_path / "index"), host="127.0.0.1", port=0) as server:
        url = f"{server.url}simple/"
        _ok(varsolve("lock", "--scenario", str(scenario), "--index-url", url, "-o", str(lock_path)))
        clean = varsolve("lock", "--check", str(lock_path))
        assert clean.returncode == 0 and clean.stdout == f"{lock_path}: up to date\n", clean.stdout + clean.stderr
        newer = _write(tmp_path, "newer.toml", INDEX + '\n[packages.a.versions."2.1.0"]\nrequires_python = ""\n')
        build_index(newer, tmp_path / "index")
        proc = varsolve("lock", "--check", str(lock_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == f'{lock_path}: where sys_platform == "linux": a: locked 2.0.0 ; sys_platform == "linux", now 2.1.0 ; sys_platform == "linux"\n'
    assert tomllib.loads(lock_path.read_text())["packages"][1]["version"] == "2.0.0", "--check writes nothing"


# -- variant targets -----------------------------------------------------------------------------


def _variant_target(directory: Path, name: str, libraries: list[str]) -> Path:
    values = ", ".join(f'"{v}"' for v in libraries)
    return _write(directory, f"{name}.toml", f'[[provider]]\nnamespace = "blas_lapack"\n[provider.properties]\nlibrary = [{values}]\n')


@needs_pythons
def test_variant_targets_share_one_lock_and_install_picks_the_first_that_fits(tmp_path: Path, index_url: str) -> None:
    mkl = _variant_target(tmp_path, "mkl", ["mkl"])
    openblas = _variant_target(tmp_path, "openblas", ["openblas"])
    lock_path = tmp_path / "pylock.toml"
    args = [
        "lock", "--universal", "numpy", "accel", "--python-requires", ">=3.10", "--index-url", index_url,
        "--target", str(mkl), "--target", str(openblas), "-o", str(lock_path),
    ]
    _ok(varsolve(*args))
    first = lock_path.read_bytes()
    _ok(varsolve(*args))
    assert lock_path.read_bytes() == first
    assert sorted(p.name for p in tmp_path.glob("pylock*.toml")) == ["pylock.toml"], "one lock, not one per target"
    data = tomllib.loads(first.decode())
    _blind(data)
    by_entry = {(p["name"], p["version"]): p for p in data["packages"]}
    assert sorted(by_entry) == [("accel", "1.0.0"), ("accel", "2.0.0"), ("mkl-runtime", "2025.2.0"), ("numpy", "2.3.0")]
    numpy = by_entry[("numpy", "2.3.0")]
    # Both targets' labels in numpy's one entry, and the plain wheel (its dependencies are locked).
    assert [w["name"] for w in numpy["wheels"]] == [
        "numpy-2.3.0-py3-none-any-mkl.whl", "numpy-2.3.0-py3-none-any-openblas.whl", "numpy-2.3.0-py3-none-any.whl",
    ]
    assert sorted(numpy["variants-json"]["variants"]) == ["mkl", "openblas"]
    # The targets chose different versions of accel for the same environments: two entries
    # whose markers overlap (both: every environment), which only a target tells apart.
    assert by_entry[("accel", "1.0.0")].get("marker") is None and by_entry[("accel", "2.0.0")].get("marker") is None
    assert [w["name"] for w in by_entry[("accel", "2.0.0")]["wheels"]] == ["accel-2.0.0-py3-none-any-mkl.whl"]
    tool = data["tool"]["varsolve"]
    assert list(tool["targets"]) == ["mkl", "openblas"], "in the order given: install tries them in this order"
    assert tool["targets"]["mkl"]["variants"] == {"blas_lapack": {"library": ["mkl"]}}
    assert "target" not in tool["universal"]
    forks = {f["target"]: {n: (p["version"], p["variant"]) for n, p in f["packages"].items()} for f in tool["universal"]["forks"]}
    assert forks == {
        "mkl": {"accel": ("2.0.0", "mkl"), "mkl-runtime": ("2025.2.0", ""), "numpy": ("2.3.0", "mkl")},
        "openblas": {"accel": ("1.0.0", ""), "numpy": ("2.3.0", "openblas")},
    }
    assert _ok(varsolve("lock", "--check", str(lock_path))).stdout == f"{lock_path}: up to date\n"

    both = _variant_target(tmp_path, "both", ["openblas", "mkl"])
    for python in (PY310, PY312):
        assert python is not None
        minor = python.rsplit("python", 1)[-1]
        cases = [
            (mkl, "mkl", {"accel": ("2.0.0", "mkl"), "mkl-runtime": ("2025.2.0", None), "numpy": ("2.3.0", "mkl")}),
            (openblas, "openblas", {"accel": ("1.0.0", None), "numpy": ("2.3.0", "openblas")}),
            # A machine both targets' labels fit gets the first target.
            (both, "mkl", {"accel": ("2.0.0", "mkl"), "mkl-runtime": ("2025.2.0", None), "numpy": ("2.3.0", "mkl")}),
        ]
        for machine, target, want in cases:
            venv = _venv(python, tmp_path / f"{machine.stem}-{minor}")
            out = _ok(varsolve("install", str(lock_path), "--python", str(venv), "--variants", str(machine)))
            assert out.stdout.splitlines()[0] == f"universal lock: target '{target}', the fork for every environment"
            assert {n: (d["version"], d["variant"]) for n, d in installed(venv).items()} == want, (minor, machine.stem)

    # A machine that supports neither target's labels: one line, nothing installed.
    assert PY312 is not None
    venv = _venv(PY312, tmp_path / "unknown")
    before = snapshot(venv)
    proc = varsolve("install", str(lock_path), "--python", str(venv))
    _one_line_error(
        proc, 2, "no variant target of the lock fits this machine",
        "target 'mkl': accel [mkl] needs blas_lapack :: library :: mkl", "target 'openblas': numpy [openblas] needs",
    )
    assert snapshot(venv) == before

    # Variant-unaware installers see both accel entries apply: uv refuses the lock, and pip
    # 26.3 (packaging's pylock model) rejects every variant wheel's filename.
    proc = _uv_install(lock_path, venv, tmp_path)
    assert proc.returncode != 0 and "Multiple active package entries found for `accel`" in proc.stderr, proc.stderr
    proc = _pip_install(lock_path, venv)
    assert proc.returncode != 0 and "Invalid wheel filename 'accel-2.0.0-py3-none-any-mkl.whl'" in proc.stderr, proc.stderr
    assert snapshot(venv) == before


@needs_pythons
def test_variant_lock_without_targets_installs_the_locked_labels(tmp_path: Path, index_url: str) -> None:
    mkl = _variant_target(tmp_path, "mkl", ["mkl"])
    openblas = _variant_target(tmp_path, "openblas", ["openblas"])
    lock_path = tmp_path / "pylock.toml"
    _ok(varsolve(
        "lock", "--universal", "numpy", "kernels", "--python-requires", ">=3.10", "--index-url", index_url,
        "--variants", str(mkl), "-o", str(lock_path),
    ))
    data = tomllib.loads(lock_path.read_text())
    wheels = {p["name"]: [w["name"] for w in p["wheels"]] for p in data["packages"]}
    assert wheels == {
        # The chosen label only, and the plain wheel whose dependencies the lock has.
        "numpy": ["numpy-2.3.0-py3-none-any-mkl.whl", "numpy-2.3.0-py3-none-any.whl"],
        "mkl-runtime": ["mkl_runtime-2025.2.0-py3-none-any.whl"],
        # No plain wheel: it needs slowpath, which is not locked.
        "kernels": ["kernels-1.0.0-py3-none-any-fast.whl"],
    }
    assert data["tool"]["varsolve"]["universal"]["target"]["variants"] == {"blas_lapack": {"library": ["mkl"]}}
    assert "targets" not in data["tool"]["varsolve"]
    assert PY310 is not None
    # What the lock recorded is what the machine is taken to support (installing asserts it).
    python = _venv(PY310, tmp_path / "venv")
    out = _ok(varsolve("install", str(lock_path), "--python", str(python)))
    assert out.stdout.splitlines()[0] == "universal lock: the fork for every environment"
    assert {n: (d["version"], d["variant"]) for n, d in installed(python).items()} == {
        "kernels": ("1.0.0", "fast"), "mkl-runtime": ("2025.2.0", None), "numpy": ("2.3.0", "mkl"),
    }
    # A machine described otherwise is refused the locked variant, never given the fallback.
    other = _venv(PY310, tmp_path / "other")
    before = snapshot(other)
    proc = varsolve("install", str(lock_path), "--python", str(other), "--variants", str(openblas))
    _one_line_error(proc, 2, "refusing to install variant 'fast' of kernels: it needs blas_lapack :: library :: mkl")
    assert snapshot(other) == before


@needs_pythons
def test_bundled_cuda_cpu_universe_locks_from_its_scenario(tmp_path: Path) -> None:
    """scenarios/universal/cuda-cpu-one-lock.toml: the variant targets come from the scenario.
    One torch entry lists the cu128 and the plain wheel; uv (variant-unaware) takes the plain one."""
    from varsolve.index.builder import build_index

    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "universal" / "cuda-cpu-one-lock.toml"
    build_index(scenario, tmp_path / "index")
    lock_path = tmp_path / "pylock.toml"
    _ok(varsolve("lock", "--scenario", str(scenario), "--find-links", str(tmp_path / "index" / "files"), "-o", str(lock_path)))
    data = tomllib.loads(lock_path.read_text())
    entries = {p["name"]: p for p in data["packages"]}
    assert sorted(entries) == ["nvidia-cublas", "torch", "torchvision"]
    assert [w["name"] for w in entries["torch"]["wheels"]] == ["torch-2.9.0-py3-none-any-cu128.whl", "torch-2.9.0-py3-none-any.whl"]
    assert entries["nvidia-cublas"]["marker"] == 'sys_platform == "linux"'
    assert list(data["tool"]["varsolve"]["targets"]) == ["cuda", "cpu"]
    assert PY312 is not None
    cuda = _write(tmp_path, "cuda.toml", '[[provider]]\nnamespace = "nvidia"\n[provider.properties]\ncuda_version_lower_bound = ["12.8"]\n')
    on_gpu = _venv(PY312, tmp_path / "gpu")
    _ok(varsolve("install", str(lock_path), "--python", str(on_gpu), "--variants", str(cuda)))
    assert {n: d["variant"] for n, d in installed(on_gpu).items()} == {"nvidia-cublas": None, "torch": "cu128", "torchvision": "cu128"}
    # No --variants: this machine supports no CUDA property, so the CPU target's fork.
    on_cpu = _venv(PY312, tmp_path / "cpu")
    out = _ok(varsolve("install", str(lock_path), "--python", str(on_cpu)))
    assert out.stdout.splitlines()[0] == "universal lock: target 'cpu', the fork for every environment"
    assert {n: d["variant"] for n, d in installed(on_cpu).items()} == {"torch": None, "torchvision": None}
    # uv ignores the variant wheels and installs every entry whose marker holds: the CUDA
    # target's nvidia-cublas comes along (docs/lock.md: variant targets are varsolve install's).
    with_uv = _venv(PY312, tmp_path / "uv")
    _ok(subprocess.run(
        [uv_binary(), "pip", "install", "--offline", "--cache-dir", str(tmp_path / "uv-cache"), "--python", str(with_uv), "-r", str(lock_path)],
        capture_output=True, text=True, timeout=300, env=clean_env(),
    ))
    assert {n: d["variant"] for n, d in installed(with_uv).items()} == {"nvidia-cublas": None, "torch": None, "torchvision": None}


# -- bad input -----------------------------------------------------------------------------------


def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, index_url: str) -> None:
    lock_path = tmp_path / "pylock.toml"
    base = ["lock", "a", "--index-url", index_url, "-o", str(lock_path)]
    _one_line_error(varsolve(*base, "--python-requires", ">=3.10"), 2, "--python-requires: only with --universal")
    _one_line_error(varsolve(*base, "--environment", "sys_platform == 'linux'"), 2, "--environment: only with --universal")
    never = "sys_platform == 'linux' and sys_platform == 'win32'"
    _one_line_error(varsolve(*base, "--universal", "--environment", never), 2, "--environment[0]", "can never be true")
    _one_line_error(varsolve(*base, "--universal", "--python-requires", ">=3.10,<3.9"), 2, "--python-requires", "allows no Python version")
    target = _variant_target(tmp_path, "same", ["mkl"])
    _one_line_error(varsolve(*base, "--universal", "--target", str(target), "--target", str(target)), 2, "two targets are named 'same'")
    _one_line_error(varsolve(*base, "--universal", "--python-platform", "linux"), 2, "--python-platform")
    unsat = varsolve("lock", "--universal", "a>=3", "--python-requires", ">=3.10", "--index-url", index_url, "-o", str(lock_path))
    assert unsat.returncode == 1 and "no solution" in unsat.stderr and "a" in unsat.stderr, unsat.stderr
    assert sorted(p.name for p in tmp_path.glob("pylock*")) == []

    from varsolve.errors import InputError
    from varsolve.lockfile.api import lock

    with pytest.raises(InputError, match="requires_python: only for a universal lock"):
        lock(["a"], index_url=index_url, output=lock_path, requires_python=">=3.10")
    assert not lock_path.exists()


def test_a_universal_lock_whose_tool_table_lies_is_refused(tmp_path: Path, index_url: str) -> None:
    """A fork naming a package no entry lists, or an entry no fork installs: one line, nothing
    installed (never an unverified combination)."""
    scenario = _write(tmp_path, "scenario.toml", FORK)
    lock_path = tmp_path / "pylock.toml"
    _ok(varsolve("lock", "--scenario", str(scenario), "--index-url", index_url, "-o", str(lock_path)))
    text = lock_path.read_text()
    python = Path(sys.executable)  # --dry-run: selects and fetches, installs nothing
    bad = tmp_path / "pylock.bad.toml"
    bad.write_text(text.replace('[tool.varsolve.universal.forks.packages.a]\nversion = "2.0.0"', '[tool.varsolve.universal.forks.packages.a]\nversion = "2.5.0"'))
    _one_line_error(varsolve("install", str(bad), "--python", str(python), "--dry-run"), 2, "the fork installs a 2.5.0 here")
    bad.write_text(text.replace('[tool.varsolve.universal.forks.packages.c]', '[tool.varsolve.universal.forks.packages.z]'))
    _one_line_error(varsolve("install", str(bad), "--python", str(python), "--dry-run"), 2, "the fork installs z 1.0.0 here")
    bad.write_text(text.replace('layout = "universal"', 'layout = "shared"'))
    _one_line_error(varsolve("install", str(bad), "--python", str(python), "--dry-run"), 2, 'tool.varsolve.universal: a universal lock has tool.varsolve.layout = "universal"')
    # Hand-edited keys: one line naming the key, for install and for lock --check alike.
    edits = {
        'marker = "sys_platform == \\"linux\\""\n\n[tool': ("tool.varsolve.universal.forks[", "invalid marker"),
        'version = "2.0.0"\nvariant': ("tool.varsolve.universal.forks[", "invalid version"),
        'requires-python = ">=3.10"\nenvironments': ("tool.varsolve.universal.requires-python", "must be a string"),
    }
    replacements = {
        'marker = "sys_platform == \\"linux\\""\n\n[tool': 'marker = "sys_platform ==="\n\n[tool',
        'version = "2.0.0"\nvariant': 'version = "two"\nvariant',
        'requires-python = ">=3.10"\nenvironments': 'requires-python = 3\nenvironments',
    }
    for old, (key, message) in edits.items():
        assert old in text, old
        bad.write_text(text.replace(old, replacements[old], 1))
        for command in (["install", str(bad), "--python", str(python), "--dry-run"], ["lock", "--check", str(bad)]):
            _one_line_error(varsolve(*command), 2, key, message)
