"""End to end: a real index (built from tests/fixtures/lock/blas.toml, served by varsolve's own
HTTP server on 127.0.0.1 or read as a find-links folder) -> ``varsolve lock`` -> packaging's
pylock model -> ``varsolve install`` into fresh venvs -> ``importlib.metadata`` in those venvs.
Real consumers (uv) read the same locks; bad input leaves the environment untouched."""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from lock_helpers import installed, make_venv, site_packages, snapshot, uv_binary, varsolve

FIXTURE = Path(__file__).parent / "fixtures" / "lock" / "blas.toml"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="targets in these tests describe Linux hosts")


def _platform() -> str:
    return f"{platform.machine()}-manylinux_2_39"


def _target(directory: Path, name: str, libraries: list[str], plat: str | None = None, python: str = PYTHON) -> Path:
    path = directory / f"{name}.toml"
    values = ", ".join(f'"{v}"' for v in libraries)
    path.write_text(
        f'python = "{python}"\nplatform = "{plat or _platform()}"\n'
        f'[[provider]]\nnamespace = "blas_lapack"\n[provider.properties]\nlibrary = [{values}]\n'
    )
    return path


def _ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stderr
    return proc


def _blind(data: dict):
    """packaging's model of the lock: validated through the label-blind view (docs/lock.md)."""
    from packaging.pylock import Pylock

    from varsolve.lockfile.document import label_blind_view

    view, _ = label_blind_view(data, "pylock.toml")
    pylock = Pylock.from_dict(view)
    pylock.validate()
    return pylock


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    from varsolve.index.builder import build_index

    out = tmp_path_factory.mktemp("index") / "index"
    build_index(FIXTURE, out)
    return out


@pytest.fixture(scope="module")
def index_url(index_dir: Path):
    from varsolve.index.server import IndexServer

    # start()/close() (the context manager) shut the serving thread down; a thread of our own
    # running serve_forever() was never told to stop and cost a 10 s join at teardown.
    with IndexServer(str(index_dir), host="127.0.0.1", port=0) as server:
        yield f"{server.url}simple/"


@pytest.fixture(scope="module")
def find_links(index_dir: Path) -> Path:
    return index_dir / "files"


def test_roundtrip_over_http(tmp_path: Path, index_url: str) -> None:
    host = _target(tmp_path, "host", ["mkl", "openblas"])
    lock = tmp_path / "pylock.toml"
    args = ["lock", "--scenario", str(FIXTURE), "--index-url", index_url, "--target", str(host), "-o", str(lock)]
    _ok(varsolve(*args))
    first = lock.read_bytes()
    _ok(varsolve(*args))
    assert lock.read_bytes() == first, "same input, same lock, byte for byte"

    data = tomllib.loads(first.decode())
    assert data["lock-version"] == "1.0" and data["created-by"] == "varsolve"
    assert data["requires-python"] == f">={PYTHON}"
    pylock = _blind(data)
    assert [(p.name, str(p.version)) for p in pylock.packages] == [
        ("numpy", "2.3.0"), ("scipy", "1.16.0"), ("tinyutil", "1.1.0"),
    ]
    numpy, scipy, tinyutil = data["packages"]
    assert numpy["index"] == index_url
    # The chosen label (unified with scipy's only variant) plus the safe non-variant fallback.
    assert [w["name"] for w in numpy["wheels"]] == [
        "numpy-2.3.0-py3-none-any-openblas.whl", "numpy-2.3.0-py3-none-any.whl",
    ]
    assert all(w["url"].startswith(index_url.rsplit("/simple/", 1)[0]) and w["size"] > 0 and len(w["hashes"]["sha256"]) == 64 for w in numpy["wheels"])
    assert numpy["variants-json"]["variants"] == {"openblas": {"blas_lapack": {"library": ["openblas"]}}}
    assert numpy["variants-json"]["$schema"].startswith("https://variants-schema.wheelnext.dev/")
    assert [w["name"] for w in scipy["wheels"]] == ["scipy-1.16.0-py3-none-any-openblas.whl"]
    assert "variants-json" not in tinyutil
    tool = data["tool"]["varsolve"]
    assert tool["targets"]["host"]["unified"] == {"blas_lapack :: library": "openblas"}
    assert tool["targets"]["host"]["variants"] == {"blas_lapack": {"library": ["mkl", "openblas"]}}
    assert tool["targets"]["host"]["packages"]["numpy"]["variant"] == "openblas"

    python = make_venv(tmp_path / "venv")
    out = _ok(varsolve("install", str(lock), "--python", str(python)))
    assert "installed numpy 2.3.0 [openblas]" in out.stdout
    got = installed(python)
    assert {n: (d["version"], d["variant"]) for n, d in got.items()} == {
        "numpy": ("2.3.0", "openblas"), "scipy": ("1.16.0", "openblas"), "tinyutil": ("1.1.0", None),
    }
    assert got["numpy"]["installer"] == "varsolve"
    label = subprocess.run([str(python), "-c", "import numpy; print(numpy.__variant_label__)"], capture_output=True, text=True, check=True)
    assert label.stdout.strip() == "openblas"
    # Installing again changes nothing.
    assert _ok(varsolve("install", str(lock), "--python", str(python))).stdout.strip() == "nothing to do"

    # An HTTP error while downloading: one line naming the lock entry and URL, nothing written.
    fresh = make_venv(tmp_path / "fresh")
    before = snapshot(fresh)
    url = numpy["wheels"][0]["url"]  # the selected one (wheels[1] is the fallback)
    broken = tmp_path / "pylock.broken.toml"
    broken.write_text(first.decode().replace(url, url.replace("/files/", "/nothere/")))
    proc = varsolve("install", str(broken), "--python", str(fresh))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "packages[0].wheels[0]: GET" in proc.stderr and "HTTP 404" in proc.stderr
    assert snapshot(fresh) == before
    # --dry-run fetches and verifies everything and installs nothing.
    dry = _ok(varsolve("install", str(lock), "--python", str(fresh), "--dry-run"))
    assert "would install numpy 2.3.0 [openblas]" in dry.stdout and snapshot(fresh) == before


def test_packaging_cannot_read_variant_locks_without_the_label_blind_view(tmp_path: Path, find_links: Path) -> None:
    from packaging.pylock import Pylock, PylockValidationError

    lock = tmp_path / "pylock.toml"
    _ok(varsolve("lock", "numpy", "--find-links", str(find_links), "--target", str(_target(tmp_path, "t", ["mkl"])), "-o", str(lock)))
    data = tomllib.loads(lock.read_text())
    with pytest.raises(PylockValidationError, match="Invalid wheel filename"):
        Pylock.from_dict(data)
    # Through the view, packaging's own select() does PEP 751's steps (it cannot see labels).
    chosen = [(p.name, w.filename) for p, w in _blind(data).select()]
    assert ("mkl-runtime", "mkl_runtime-2025.2.0-py3-none-any.whl") in chosen


def test_targets_that_differ_only_in_support_get_one_lock_each(tmp_path: Path, find_links: Path) -> None:
    mkl = _target(tmp_path, "mkl", ["mkl"])
    openblas = _target(tmp_path, "openblas", ["openblas"])
    out = _ok(varsolve("lock", "numpy", "--find-links", str(find_links), "--target", str(mkl), "--target", str(openblas), "-o", str(tmp_path / "pylock.toml")))
    assert sorted(p.name for p in tmp_path.glob("pylock*.toml")) == ["pylock.mkl.toml", "pylock.openblas.toml"]
    assert "pylock.mkl.toml" in out.stdout
    locks = {name: tomllib.loads((tmp_path / f"pylock.{name}.toml").read_text()) for name in ("mkl", "openblas")}
    names = {k: [p["name"] for p in v["packages"]] for k, v in locks.items()}
    # mkl-runtime is behind numpy's variant marker: only the MKL machine's lock has it.
    assert names == {"mkl": ["mkl-runtime", "numpy", "tinyutil"], "openblas": ["numpy", "tinyutil"]}
    for name, data in locks.items():
        _blind(data)
        assert list(data["tool"]["varsolve"]["targets"]) == [name]
        assert data["tool"]["varsolve"]["layout"] == "per-target"
        assert data["tool"]["varsolve"]["targets"][name]["packages"]["numpy"]["variant"] == name
        assert [p.get("marker") for p in data["packages"]] == [None] * len(data["packages"])
        assert data["packages"][[p["name"] for p in data["packages"]].index("numpy")]["wheels"][0]["path"].startswith("../")

    python = make_venv(tmp_path / "venv")
    _ok(varsolve("install", str(tmp_path / "pylock.mkl.toml"), "--python", str(python)))
    got = installed(python)
    assert (got["numpy"]["variant"], got["mkl-runtime"]["version"]) == ("mkl", "2025.2.0")
    # Each named lock re-checks on its own.
    for name in ("mkl", "openblas"):
        proc = varsolve("lock", "--check", str(tmp_path / f"pylock.{name}.toml"))
        assert proc.returncode == 0 and "up to date" in proc.stdout, proc.stderr
    # Installing the OpenBLAS machine's lock on a machine described as MKL-only is refused.
    other = make_venv(tmp_path / "venv2")
    before = snapshot(other)
    proc = varsolve("install", str(tmp_path / "pylock.openblas.toml"), "--python", str(other), "--variants", str(mkl))
    assert proc.returncode == 2 and "refusing to install variant 'openblas' of numpy" in proc.stderr, proc.stderr
    assert snapshot(other) == before


def test_targets_markers_tell_apart_share_one_lock(tmp_path: Path, find_links: Path) -> None:
    from packaging.markers import default_environment

    host = _target(tmp_path, "host", ["mkl"])
    mac = _target(tmp_path, "mac", ["openblas"], plat="aarch64-apple-darwin")
    lock = tmp_path / "pylock.toml"
    args = ["lock", "numpy", "--find-links", str(find_links), "--target", str(host), "--target", str(mac), "-o", str(lock)]
    _ok(varsolve(*args))
    text = lock.read_text()
    _ok(varsolve(*args))
    assert lock.read_text() == text
    data = tomllib.loads(text)
    assert sorted(p.name for p in tmp_path.glob("pylock*.toml")) == ["pylock.toml"]
    assert len(data["environments"]) == 2
    entries = [(p["name"], p.get("marker")) for p in data["packages"]]
    linux = f'sys_platform == "linux" and platform_machine == "{platform.machine()}"'
    darwin = 'sys_platform == "darwin" and platform_machine == "arm64"'
    assert entries == [("mkl-runtime", linux), ("numpy", linux), ("numpy", darwin), ("tinyutil", None)]
    numpy_mac = data["packages"][2]
    assert list(numpy_mac["variants-json"]["variants"]) == ["openblas"]

    pylock = _blind(data)
    mac_env = dict(default_environment(), sys_platform="darwin", platform_machine="arm64", platform_system="Darwin")
    from packaging.tags import Tag

    picked = [p.name for p, _ in pylock.select(environment=mac_env, tags=[Tag("py3", "none", "any")])]
    assert picked == ["numpy", "tinyutil"], "no mkl-runtime on the OpenBLAS Mac"

    python = make_venv(tmp_path / "venv")
    _ok(varsolve("install", str(lock), "--python", str(python)))
    got = installed(python)
    assert {n: d["variant"] for n, d in got.items()} == {"mkl-runtime": None, "numpy": "mkl", "tinyutil": None}


# -- real consumers: uv ------------------------------------------------------------------------


def _uv_sync(lock: Path, python: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [uv_binary(), "pip", "sync", "--offline", "--cache-dir", str(tmp_path / "uv-cache"), "--python", str(python), str(lock)],
        capture_output=True, text=True, timeout=300,
    )


def test_uv_installs_a_lock_without_variant_wheels(tmp_path: Path, find_links: Path) -> None:
    lock = tmp_path / "pylock.toml"
    _ok(varsolve("lock", "tinyutil", "--find-links", str(find_links), "--target", str(_target(tmp_path, "t", [])), "-o", str(lock)))
    from packaging.pylock import Pylock

    Pylock.from_dict(tomllib.loads(lock.read_text())).validate()  # no labels: packaging reads it as is
    python = make_venv(tmp_path / "venv")
    proc = _uv_sync(lock, python, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert {n: d["version"] for n, d in installed(python).items()} == {"tinyutil": "1.1.0"}


def test_variant_unaware_uv_takes_the_non_variant_fallback(tmp_path: Path, find_links: Path) -> None:
    lock = tmp_path / "pylock.toml"
    _ok(varsolve("lock", "numpy", "--find-links", str(find_links), "--target", str(_target(tmp_path, "t", ["mkl"])), "-o", str(lock)))
    uv_venv = make_venv(tmp_path / "uv-venv")
    proc = _uv_sync(lock, uv_venv, tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = installed(uv_venv)
    # uv 0.13 ignores variant wheels: numpy is the non-variant wheel; the rest of the lock as is.
    assert {n: (d["version"], d["variant"]) for n, d in got.items()} == {
        "mkl-runtime": ("2025.2.0", None), "numpy": ("2.3.0", None), "tinyutil": ("1.1.0", None),
    }
    ours = make_venv(tmp_path / "venv")
    _ok(varsolve("install", str(lock), "--python", str(ours)))
    assert installed(ours)["numpy"]["variant"] == "mkl"


def test_no_fallback_when_the_lock_does_not_satisfy_it(tmp_path: Path, find_links: Path) -> None:
    lock = tmp_path / "pylock.toml"
    _ok(varsolve("lock", "kernels", "--find-links", str(find_links), "--target", str(_target(tmp_path, "t", ["mkl"])), "-o", str(lock)))
    (kernels,) = tomllib.loads(lock.read_text())["packages"]
    assert [w["name"] for w in kernels["wheels"]] == ["kernels-1.0.0-py3-none-any-fast.whl"]
    # Without MKL the non-variant wheel is the choice, and then slowpath comes with it.
    _ok(varsolve("lock", "kernels", "--find-links", str(find_links), "--target", str(_target(tmp_path, "t", ["openblas"])), "-o", str(lock)))
    data = tomllib.loads(lock.read_text())
    assert [(p["name"], [w["name"] for w in p["wheels"]]) for p in data["packages"]] == [
        ("kernels", ["kernels-1.0.0-py3-none-any.whl"]), ("slowpath", ["slowpath-1.0.0-py3-none-any.whl"]),
    ]


def test_variant_unaware_uv_fails_on_a_variant_only_package(tmp_path: Path, find_links: Path) -> None:
    lock = tmp_path / "pylock.toml"
    _ok(varsolve("lock", "scipy", "--find-links", str(find_links), "--target", str(_target(tmp_path, "t", ["openblas"])), "-o", str(lock)))
    python = make_venv(tmp_path / "venv")
    before = snapshot(python)
    proc = _uv_sync(lock, python, tmp_path)
    assert proc.returncode != 0
    message = " ".join(proc.stderr.split())
    assert "`scipy` can't be installed because it doesn't have a source distribution or wheel for the current platform" in message
    assert snapshot(python) == before


# -- bad input ---------------------------------------------------------------------------------


def test_bad_input_is_one_line_exit_2_and_leaves_the_environment_unchanged(tmp_path: Path, find_links: Path) -> None:
    host = _target(tmp_path, "host", ["mkl", "openblas"])
    old = tmp_path / "old" / "pylock.toml"
    old.parent.mkdir()
    _ok(varsolve("lock", "tinyutil==1.0.0", "--find-links", str(find_links), "--target", str(host), "-o", str(old)))
    lock = tmp_path / "pylock.toml"
    _ok(varsolve("lock", "--scenario", str(FIXTURE), "--find-links", str(find_links), "--target", str(host), "-o", str(lock)))
    python = make_venv(tmp_path / "venv")
    _ok(varsolve("install", str(old), "--python", str(python)))
    before = snapshot(python)
    assert "tinyutil-1.0.0.dist-info/RECORD" in "\n".join(before)

    data = tomllib.loads(lock.read_text())
    numpy_wheel = data["packages"][0]["wheels"][0]
    digest, size, rel = numpy_wheel["hashes"]["sha256"], numpy_wheel["size"], numpy_wheel["path"]
    # A wheel whose bytes are corrupt but whose hash and size the lock agrees with: RECORD catches it.
    raw = bytearray((lock.parent / rel).read_bytes())
    raw[len(raw) // 3] ^= 0xFF
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / numpy_wheel["name"]).write_bytes(bytes(raw))
    text = lock.read_text()
    corrupt_lock = text.replace(rel, f"corrupt/{numpy_wheel['name']}").replace(digest, hashlib.sha256(bytes(raw)).hexdigest())
    cases = {
        "corrupt lock": (text[: len(text) // 2], "malformed TOML"),
        "lock-version 2": (text.replace('lock-version = "1.0"', 'lock-version = "2.0"'), "lock-version 2.0 is not supported"),
        "hash mismatch": (text.replace(digest, "0" * 64), "sha256 mismatch"),
        "size mismatch": (text.replace(f"size = {size}\n", f"size = {size + 1}\n", 1), "size mismatch"),
        "missing file": (text.replace(rel, rel.replace("numpy-", "nope-")), "cannot read"),
        "corrupt wheel": (corrupt_lock, "not a valid wheel"),
    }
    bad = tmp_path / "pylock.bad.toml"
    for case, (content, message) in cases.items():
        assert content != text, case
        bad.write_text(content)
        proc = varsolve("install", str(bad), "--python", str(python))
        assert proc.returncode == 2, (case, proc.stdout, proc.stderr)
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("varsolve: error: "), (case, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr, (case, proc.stderr)
        assert snapshot(python) == before, case
    # The good lock still installs, replacing tinyutil 1.0.0.
    _ok(varsolve("install", str(lock), "--python", str(python)))
    assert installed(python)["tinyutil"]["version"] == "1.1.0"
    assert not list(site_packages(python).glob("tinyutil-1.0.0.dist-info"))


def test_lock_errors_write_nothing(tmp_path: Path, find_links: Path) -> None:
    lock = tmp_path / "pylock.toml"
    # scipy has only an OpenBLAS variant; a machine with MKL alone cannot install it: exit 1.
    proc = varsolve("lock", "scipy", "--find-links", str(find_links), "--target", str(_target(tmp_path, "t", ["mkl"])), "-o", str(lock))
    assert proc.returncode == 1 and "no solution for target 't'" in proc.stderr, proc.stderr
    bad_name = varsolve("lock", "numpy", "--find-links", str(find_links), "-o", str(tmp_path / "lock.toml"))
    assert bad_name.returncode == 2 and "pylock.toml or pylock.<name>.toml" in bad_name.stderr
    bad_target = tmp_path / "bad.toml"
    bad_target.write_text('python = "3.12"\nplatfrom = "linux"\n')
    proc = varsolve("lock", "numpy", "--find-links", str(find_links), "--target", str(bad_target), "-o", str(lock))
    assert proc.returncode == 2 and proc.stderr == f"varsolve: error: {bad_target}: platfrom: unknown key (known: enable, metadata, name, platform, provider, python)\n"
    same = _target(tmp_path, "same", ["mkl"])
    proc = varsolve("lock", "numpy", "--find-links", str(find_links), "--target", str(same), "--target", str(same), "-o", str(lock))
    assert proc.returncode == 2 and "two targets are named 'same'" in proc.stderr
    assert sorted(p.name for p in tmp_path.glob("*lock*")) == []


# -- lock --check ------------------------------------------------------------------------------


def test_check_reports_drift(tmp_path: Path) -> None:
    from varsolve.index.builder import build_index

    index = tmp_path / "index"
    build_index(FIXTURE, index)
    host = _target(tmp_path, "host", ["mkl", "openblas"])
    lock = tmp_path / "pylock.toml"
    _ok(varsolve("lock", "--scenario", str(FIXTURE), "--find-links", str(index / "files"), "--target", str(host), "-o", str(lock)))
    proc = varsolve("lock", "--check", str(lock))
    assert proc.returncode == 0 and "up to date" in proc.stdout, proc.stderr
    newer = tmp_path / "newer.toml"
    newer.write_text(FIXTURE.read_text() + '\n[packages.tinyutil.versions."1.2.0"]\nsdist = false\nrequires_python = ""\n')
    build_index(newer, index)
    proc = varsolve("lock", "--check", str(lock))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == f"{lock}: tinyutil: locked 1.1.0, now 1.2.0\n"
