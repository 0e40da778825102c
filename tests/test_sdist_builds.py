"""Sdists whose metadata is dynamic are built the PEP 517 way, only when the search needs them:
in an isolated environment whose build requirements varsolve resolves from the same sources,
with a timeout, cached by the sdist's hash; a build that fails, hangs or is malformed rejects
that sdist with one line and never crashes the run.

Every index here is real and served on loopback (the project's own builder and server); most
sdists carry a tiny in-tree backend (``backend-path``), so that no download is needed; one test
builds with setuptools from a wheel downloaded once per session.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from conftest import run_varsolve
from index_helpers import clean_env
from varsolve.errors import BuildError
from varsolve.index.builder import FileEntry, index_contents, project_html, project_json, root_html, root_json
from varsolve.index.server import IndexServer
from varsolve.sources import SourceSettings, open_repository
from varsolve.sources.scenario import load_scenario

# -- sdists -------------------------------------------------------------------------------------

DYNAMIC_PKG_INFO = "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"

# An in-tree backend whose dependencies are computed when it runs (as setup.py files do).
DYNAMIC_BACKEND = '''
import os

def _metadata():
    deps = ["dep>=%d" % (1 + 0), "extra-dep; extra == 'more'"]
    lines = ["Metadata-Version: 2.1", "Name: {name}", "Version: {version}", "Provides-Extra: more"]
    return "\\n".join(lines + ["Requires-Dist: " + d for d in deps]) + "\\n"

def get_requires_for_build_wheel(config_settings=None):
    return []

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    dist_info = "{module}-{version}.dist-info"
    os.makedirs(os.path.join(metadata_directory, dist_info))
    with open(os.path.join(metadata_directory, dist_info, "METADATA"), "w") as f:
        f.write(_metadata())
    return dist_info

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("only metadata in these tests")
'''

# Dynamic metadata, and a real wheel (for varsolve install of a locked sdist).
WHEEL_BACKEND = DYNAMIC_BACKEND.replace(
    '''def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("only metadata in these tests")''',
    '''def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    import base64, hashlib, zipfile
    dist_info = "{module}-{version}.dist-info"
    files = {{"{module}.py": b"BUILT = True\\n", dist_info + "/METADATA": _metadata().encode(),
             dist_info + "/WHEEL": b"Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}}
    digest = lambda d: base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
    record = "".join("%s,sha256=%s,%d\\n" % (n, digest(d), len(d)) for n, d in files.items()) + dist_info + "/RECORD,,\\n"
    name = "{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for n, d in files.items():
            z.writestr(n, d)
        z.writestr(dist_info + "/RECORD", record)
    return name''',
)

FAILING_BACKEND = '''
import sys

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    print("checking for a C compiler... no", flush=True)
    raise RuntimeError("no C compiler found")

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("no C compiler found")
'''

# Hangs, with a grandchild in its process group that would outlive it.
HANGING_BACKEND = '''
import os, subprocess, sys, time

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(os.environ["HANG_PID_FILE"], "w") as f:
        f.write(str(child.pid))
    time.sleep(600)
'''

# Garbage on stdout and stderr, then METADATA that names another project.
GARBAGE_BACKEND = '''
import os, sys

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    sys.stdout.buffer.write(bytes(range(256)) * 4)
    sys.stderr.buffer.write(b"\\x1b[31m\\xff\\xfe garbage \\x00\\x07\\n")
    os.makedirs(os.path.join(metadata_directory, "x.dist-info"))
    with open(os.path.join(metadata_directory, "x.dist-info", "METADATA"), "wb") as f:
        f.write(b"Metadata-Version: 2.1\\nName: something-else\\nVersion: 9\\n")
    return "x.dist-info"
'''

# Writes metadata that does not parse (an invalid Requires-Dist).
MALFORMED_BACKEND = '''
import os

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    os.makedirs(os.path.join(metadata_directory, "m.dist-info"))
    with open(os.path.join(metadata_directory, "m.dist-info", "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\nRequires-Dist: ===!!not a requirement\\n")
    return "m.dist-info"
'''

IN_TREE_PYPROJECT = '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'


def sdist(
    name: str, version: str, files: Mapping[str, str | bytes], pkg_info: str | None = DYNAMIC_PKG_INFO
) -> tuple[str, bytes]:
    """A ``.tar.gz`` sdist with ``files`` (``{name}``, ``{version}``, ``{module}`` filled in) in
    its top folder, and a PKG-INFO (default: Metadata-Version 2.1, so only a build tells)."""
    module = name.replace("-", "_")
    root = f"{module}-{version}"
    members = dict(files)
    if pkg_info is not None:
        members["PKG-INFO"] = pkg_info
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for path, content in sorted(members.items()):
            data = content if isinstance(content, bytes) else content.format(name=name, version=version, module=module).encode()
            info = tarfile.TarInfo(f"{root}/{path}")
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return f"{root}.tar.gz", raw.getvalue()


def in_tree(name: str, version: str, backend: str, **kw: object) -> tuple[str, bytes]:
    return sdist(name, version, {"pyproject.toml": IN_TREE_PYPROJECT, "backend.py": backend}, **kw)  # type: ignore[arg-type]


# -- indexes ------------------------------------------------------------------------------------

WHEELS = """
name = "sdist-builds"
[root]
requires = ["app"]
[packages.app.versions."1.0.0"]
requires_python = ""
requires = ["dyn"]
sdist = false
[packages.dep.versions."1.0.0"]
requires_python = ""
sdist = false
[packages.extra-dep.versions."1.0.0"]
requires_python = ""
sdist = false
[packages.fallback.versions."0.9.0"]
requires_python = ""
sdist = false
"""


def write_index(tmp: Path, sdists: list[tuple[str, bytes]], *, scenario: str = WHEELS, metadata_files: bool = False) -> Path:
    """A built index of ``scenario``'s wheels plus ``sdists`` (no PEP 658 file for them unless
    ``metadata_files``: then their PKG-INFO is one)."""
    path = tmp / "scenario.toml"
    tmp.mkdir(parents=True, exist_ok=True)
    path.write_text(scenario)
    contents = index_contents(load_scenario(path).problem.repository, name="sdist-builds")
    for filename, data in sdists:
        project = filename.rsplit("-", 1)[0].replace("_", "-")
        contents.files[f"files/{filename}"] = data
        metadata_sha256 = None
        if metadata_files:
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                member = next(m for m in tar.getmembers() if m.name.endswith("/PKG-INFO"))
                handle = tar.extractfile(member)
                assert handle is not None
                pkg_info = handle.read()
            contents.files[f"files/{filename}.metadata"] = pkg_info
            metadata_sha256 = hashlib.sha256(pkg_info).hexdigest()
        entry = FileEntry(filename, hashlib.sha256(data).hexdigest(), len(data), metadata_sha256=metadata_sha256)
        contents.projects.setdefault(project, []).append(entry)  # type: ignore[arg-type]
    for project, entries in contents.projects.items():
        contents.files[f"simple/{project}/index.html"] = project_html(project, entries)
        contents.files[f"simple/{project}/index.json"] = project_json(project, entries)
    contents.files["simple/index.html"] = root_html(sorted(contents.projects))
    contents.files["simple/index.json"] = root_json(sorted(contents.projects))
    return contents.write(tmp / "index")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    servers: list[IndexServer] = []

    def start(sdists: list[tuple[str, bytes]], **kw: object) -> str:
        root = write_index(tmp_path / f"i{len(servers)}", sdists, **kw)  # type: ignore[arg-type]
        server = IndexServer(root).start()
        servers.append(server)
        return server.index_url

    yield start
    for server in servers:
        server.close()


def repo(url: str, cache: Path | None = None, **kw: object):
    settings = SourceSettings(index_urls=(url,), cache_dir=cache, no_cache=cache is None, workers=0, **kw)  # type: ignore[arg-type]
    opened = open_repository(settings)
    assert opened is not None
    return opened


def release_file(repository, name: str, version: str, sdist_only: bool = True):
    release = next(r for r in repository.releases(name) if str(r.version) == version)
    return release, next(f for f in release.files if not sdist_only or not f.is_wheel)


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return run_varsolve(*args)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def assert_one_clean_error(proc: subprocess.CompletedProcess[str], filename: str, reason: str) -> None:
    """The strategies reject the sdist: no solution (exit 1), the explanation names the sdist
    and the reason; never a traceback."""
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.returncode == 1, proc.stderr
    assert f"sdist {filename} failed to build" in proc.stdout and reason in proc.stdout, proc.stdout


# -- the build ----------------------------------------------------------------------------------


def test_dynamic_sdist_is_built_when_needed_and_cached_by_its_hash(serve, tmp_path: Path) -> None:
    url = serve([in_tree("dyn", "1.0", DYNAMIC_BACKEND)])
    cache = tmp_path / "cache"
    first = run("resolve", "app", "dyn[more]", "--index-url", url, "--cache-dir", str(cache), "--python", "3.12")
    assert first.returncode == 0, first.stderr
    building = [line for line in first.stderr.splitlines() if "building metadata" in line]
    assert building == ["varsolve: warning: building metadata of dyn-1.0.tar.gz (runs its build backend)"]
    for name in ("app", "dyn", "dep", "extra-dep"):
        assert name in first.stdout
    # A second run builds nothing: the built metadata is cached by the sdist's hash.
    second = run("resolve", "app", "dyn[more]", "--index-url", url, "--cache-dir", str(cache), "--python", "3.12")
    assert second.returncode == 0, second.stderr
    assert "building" not in second.stderr
    assert second.stdout == first.stdout


def test_metadata_is_cheap_and_the_api(serve, tmp_path: Path) -> None:
    final = "Metadata-Version: 2.2\nName: static\nVersion: 1.0\nRequires-Dist: dep\n"
    static = sdist("static", "1.0", {"setup.py": ""}, pkg_info=final)
    url = serve([in_tree("dyn", "1.0", DYNAMIC_BACKEND), static], metadata_files=True)
    cache = tmp_path / "cache"
    with repo(url, cache) as r:
        app, wheel = release_file(r, "app", "1.0.0", sdist_only=False)
        assert r.metadata_is_cheap(app, wheel)
        release, file = release_file(r, "static", "1.0")
        assert r.metadata_is_cheap(release, file)  # its PEP 658 file says it is final
        assert r.metadata(release, file).requires_dist == ("dep",)
        release, file = release_file(r, "dyn", "1.0")
        assert not r.metadata_is_cheap(release, file)  # its PEP 658 file says Metadata-Version 2.1
        meta = r.metadata(release, file)
        assert meta.requires_dist == ("dep>=1", "extra-dep; extra == 'more'")
        assert meta.provides_extra == {"more"}
        assert r.metadata_is_cheap(release, file)
    with repo(url, cache) as r:  # a later run: the cache knows
        release, file = release_file(r, "dyn", "1.0")
        assert r.metadata_is_cheap(release, file)
    with repo(url, None, builds=False) as r:
        release, file = release_file(r, "dyn", "1.0")
        with pytest.raises(BuildError) as err:
            r.metadata(release, file)
        assert err.value.filename == "dyn-1.0.tar.gz"
        assert "builds are off" in err.value.reason and "Metadata-Version 2.1" in err.value.reason


def test_sdist_is_not_read_while_wheels_serve(serve, tmp_path: Path) -> None:
    """The newest version's wheel is chosen: the older, dynamic sdist is never downloaded."""
    scenario = WHEELS + '[packages.dyn.versions."2.0.0"]\nrequires_python = ""\nsdist = false\n'
    url = serve([in_tree("dyn", "1.0", FAILING_BACKEND)], scenario=scenario)
    proc = run("resolve", "app", "--index-url", url, "--no-cache", "--python", "3.12")
    assert proc.returncode == 0, proc.stderr
    assert "building" not in proc.stderr and "dyn" in proc.stdout and "2.0.0" in proc.stdout


def test_no_sdist_is_built_while_a_wheel_of_its_release_serves(serve) -> None:
    """dyn 2.0.0 has a wheel (which needs an older dep) and an sdist that must be built: unread,
    the sdist would look cheaper to sat's optimum (no dependencies known, so dep 2.0.0 or none);
    as in pip and uv it is no candidate while the wheel can be installed: nothing is built."""
    scenario = WHEELS + (
        '[packages.dyn.versions."2.0.0"]\nrequires_python = ""\nrequires = ["dep<2"]\nsdist = false\n'
        '[packages.dep.versions."2.0.0"]\nrequires_python = ""\nsdist = false\n'
    )
    url = serve([in_tree("dyn", "2.0.0", FAILING_BACKEND)], scenario=scenario)
    for strategy in ("pep825", "backtrack", "sat"):
        proc = run("resolve", "app", "--index-url", url, "--no-cache", "--python", "3.12", "--strategy", strategy)
        assert proc.returncode == 0, proc.stderr
        assert "building" not in proc.stderr and "dep" in proc.stdout, (strategy, proc.stderr)
    # sat says so as soon as it reads the release, not in a round of its own (the optimum
    # would otherwise lean on the unread sdist first).
    proc = run("resolve", "app", "--index-url", url, "--no-cache", "--python", "3.12", "--strategy", "sat", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["violations"] == [] and doc["packages"]["dep"]["version"] == "1.0.0"
    assert doc["stats"]["rounds"] == 1, doc["stats"]


def _pyproject(text: str) -> tuple[str, bytes]:
    return sdist("broken", "1.0", {"pyproject.toml": text})


BROKEN = {
    "fails": (
        lambda: in_tree("broken", "1.0", FAILING_BACKEND),
        "prepare_metadata_for_build_wheel exited with 1: RuntimeError: no C compiler found",
    ),
    "not-a-tar": (lambda: ("broken-1.0.tar.gz", b"this is not a tar file at all" * 10), "not a valid sdist"),
    "requires-not-a-list": (
        lambda: _pyproject('[build-system]\nrequires = "setuptools"\n'), "`requires` must be an array of strings"
    ),
    "invalid-toml": (lambda: _pyproject("[build-system\nrequires = ["), "Failed to parse pyproject.toml"),
    "no-backend": (
        lambda: _pyproject('[build-system]\nrequires = []\nbuild-backend = "nowhere.to.be.found"\n'),
        "its build backend cannot be imported (ModuleNotFoundError: No module named 'nowhere'",
    ),
    "unknown-requirement": (
        lambda: _pyproject('[build-system]\nrequires = ["no-such-backend>=1"]\n'),
        "its build requirements (no-such-backend>=1) cannot be installed",
    ),
    "no-project": (lambda: sdist("broken", "1.0", {"README": "no project here"}), "no pyproject.toml or setup.py"),
    "garbage": (lambda: in_tree("broken", "1.0", GARBAGE_BACKEND), "the backend gave the metadata of 'something-else' '9'"),
    "malformed": (lambda: in_tree("broken", "1.0", MALFORMED_BACKEND), "the backend gave malformed metadata"),
}


@pytest.mark.parametrize(("make", "reason"), list(BROKEN.values()), ids=list(BROKEN))
def test_a_broken_sdist_is_one_explained_build_error_and_nothing_is_cached(serve, tmp_path: Path, make, reason: str) -> None:
    filename, data = make()
    url = serve([(filename, data)])
    cache = tmp_path / "cache"
    with repo(url, cache) as r:
        release, file = release_file(r, "broken", "1.0")
        with pytest.raises(BuildError) as err:
            r.metadata(release, file)
    assert err.value.filename == filename
    assert reason in err.value.reason, err.value.reason
    assert "\n" not in str(err.value) and str(err.value).isprintable()
    with repo(url, cache) as r:  # nothing a later run would trust
        release, file = release_file(r, "broken", "1.0")
        assert not r.metadata_is_cheap(release, file)
    proc = run("resolve", "broken", "--index-url", url, "--cache-dir", str(cache), "--python", "3.12")
    assert_one_clean_error(proc, filename, reason)


@pytest.mark.parametrize("strategy", ["pep825", "backtrack", "sat"])
def test_a_failed_sdist_is_rejected_and_an_older_wheel_serves(serve, strategy: str) -> None:
    """Every strategy rejects the candidate whose build fails and moves on (the CLI verifies)."""
    url = serve([in_tree("fallback", "1.0", FAILING_BACKEND)])
    proc = run("resolve", "fallback", "--index-url", url, "--no-cache", "--python", "3.12", "--strategy", strategy)
    assert proc.returncode == 0, proc.stderr
    assert "0.9.0" in proc.stdout and "building metadata of fallback-1.0.tar.gz" in proc.stderr
    pinned = run("resolve", "fallback>=1", "--index-url", url, "--no-cache", "--python", "3.12", "--strategy", strategy)
    assert_one_clean_error(pinned, "fallback-1.0.tar.gz", "no C compiler found")


@pytest.mark.parametrize("strategy", ["pep825", "backtrack", "sat"])
def test_an_sdist_the_search_never_chooses_is_never_built(serve, strategy: str) -> None:
    """A failing dynamic sdist of an older version, and one of the same version as a wheel:
    no strategy builds either (sat reads a needs-a-build candidate only when an optimum
    chooses it)."""
    scenario = WHEELS + '[packages.dyn.versions."2.0.0"]\nrequires_python = ""\n'
    url = serve([in_tree("dyn", "1.0", FAILING_BACKEND), in_tree("dyn", "2.0.0", FAILING_BACKEND)], scenario=scenario)
    proc = run("resolve", "app", "--index-url", url, "--no-cache", "--python", "3.12", "--strategy", strategy)
    assert proc.returncode == 0, proc.stderr
    assert "building" not in proc.stderr and "2.0.0" in proc.stdout


def test_a_hanging_build_is_killed_with_its_processes(serve, tmp_path: Path) -> None:
    url = serve([in_tree("broken", "1.0", HANGING_BACKEND)])
    pid_file = tmp_path / "grandchild.pid"
    os.environ["HANG_PID_FILE"] = str(pid_file)
    try:
        started = time.monotonic()
        with repo(url, None, build_timeout=3.0) as r:
            release, file = release_file(r, "broken", "1.0")
            with pytest.raises(BuildError) as err:
                r.metadata(release, file)
        elapsed = time.monotonic() - started
    finally:
        del os.environ["HANG_PID_FILE"]
    assert "did not finish within 3 s" in err.value.reason
    assert elapsed < 30
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid), "the backend's own child outlived the timeout"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_cli_build_timeout(serve, tmp_path: Path) -> None:
    url = serve([in_tree("broken", "1.0", HANGING_BACKEND)])
    proc = run(
        "resolve", "broken", "--index-url", url, "--no-cache", "--python", "3.12", "--build-timeout", "2",
        HANG_PID_FILE=str(tmp_path / "pid"),
    )
    assert_one_clean_error(proc, "broken-1.0.tar.gz", "did not finish within 2 s")
    assert run("resolve", "x", "--index-url", url, "--build-timeout", "0").returncode == 2


# -- the options --------------------------------------------------------------------------------


def test_no_build_only_binary_and_no_binary(serve, tmp_path: Path) -> None:
    url = serve([in_tree("dyn", "1.0", DYNAMIC_BACKEND)])
    base = ("--index-url", url, "--no-cache", "--python", "3.12")
    for flags in (["--no-build"], ["--only-binary", ":all:"], ["--only-binary", "dyn"]):
        proc = run("resolve", "app", *base, *flags)
        assert proc.returncode == 1, (flags, proc.stderr)
        assert "building" not in proc.stderr and "dyn" in proc.stdout
    proc = run("resolve", "app", *base, "--only-binary", ":none:")
    assert proc.returncode == 0 and "building metadata of dyn-1.0.tar.gz" in proc.stderr
    # --no-binary: dep's wheel may not be used, and it has no sdist.
    proc = run("resolve", "dep", *base, "--no-binary", "dep")
    assert proc.returncode == 1, proc.stderr
    assert run("resolve", "dep", *base, "--no-binary", ":all:").returncode == 1
    assert run("resolve", "dep", *base, "--no-binary", "other").returncode == 0


def test_scenario_no_build_and_no_binary_still_work(load) -> None:
    scenario = load(
        """
        name = "opts"
        [root]
        requires = ["a", "b"]
        [resolver_options]
        no_build = ["a"]
        no_binary = ["b"]
        [packages.a.versions."1.0.0"]
        wheel = false
        [packages.a.versions."0.9.0"]
        [packages.b.versions."1.0.0"]
        sdist = false
        [packages.b.versions."0.9.0"]
        """
    )
    from varsolve.api import solve

    resolution = solve(scenario.problem, "backtrack")
    assert {n: str(p.version) for n, p in resolution.packages.items()} == {"a": "0.9.0", "b": "0.9.0"}


# -- a real backend: setuptools from the same sources ---------------------------------------


@pytest.fixture(scope="session")
def setuptools_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """setuptools' wheel, downloaded once per session from the package registry."""
    folder = tmp_path_factory.mktemp("setuptools-wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "setuptools>=68", "--only-binary", ":all:", "--no-deps", "-qd", str(folder)],
        capture_output=True, text=True, timeout=180, env=clean_env(),
    )
    if proc.returncode != 0 or not list(folder.glob("setuptools-*.whl")):
        pytest.skip(f"cannot download setuptools: {proc.stderr.strip().splitlines()[-1:]}")
    return folder


SETUP_PY = """
import sys
from setuptools import setup
# Dependencies computed when setup.py runs: only a build knows them.
setup(name="legacy-app", version="2.0", py_modules=["legacy_app"],
      install_requires=["dep>=1"] + (["extra-dep"] if sys.version_info >= (3,) else []))
"""


@pytest.mark.network
def test_setuptools_sdist_builds_with_setuptools_from_the_same_sources(serve, setuptools_wheels: Path, tmp_path: Path) -> None:
    legacy = sdist(
        "legacy-app", "2.0",
        {"pyproject.toml": '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n',
         "setup.py": textwrap.dedent(SETUP_PY), "legacy_app.py": "", "setup.cfg": ""},
        pkg_info=None,
    )
    url = serve([legacy])
    cache = tmp_path / "cache"
    args = ("resolve", "legacy-app", "--index-url", url, "--find-links", str(setuptools_wheels), "--cache-dir", str(cache))
    proc = run(*args, "--python", "3.12", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert "building metadata of legacy_app-2.0.tar.gz" in proc.stderr
    import json

    packages = json.loads(proc.stdout)["packages"]
    assert set(packages) == {"legacy-app", "dep", "extra-dep"}
    again = run(*args, "--python", "3.12", "--format", "json")
    assert again.returncode == 0 and "building" not in again.stderr
    # Without setuptools in the sources its build requirement cannot be installed.
    proc = run("resolve", "legacy-app", "--index-url", url, "--no-cache", "--python", "3.12")
    assert_one_clean_error(proc, "legacy_app-2.0.tar.gz", "its build requirements (setuptools>=68) cannot be installed")


# -- the real public index (opt in: -m live) ---------------------------------------------------

LIVE_INDEX = os.environ.get("VARSOLVE_LIVE_INDEX_URL", "https://pypi.org/simple/")


def _live(*requirements: str, cache: Path) -> subprocess.CompletedProcess[str]:
    args = ("resolve", *requirements, "--python", "3.11", "--index-url", LIVE_INDEX, "--cache-dir", str(cache))
    return run(*args, "--format", "json", "--timeout", "60")


@pytest.mark.live
def test_live_numpy_and_pandas_need_no_build(tmp_path: Path) -> None:
    """numpy 1.26.4 has wheels for 3.11: no sdist is read, nothing is built."""
    import json

    proc = _live("numpy==1.26.4", "pandas>=2.2", cache=tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert "building" not in proc.stderr
    packages = json.loads(proc.stdout)["packages"]
    assert packages["numpy"]["version"] == "1.26.4"
    assert all(pin["filename"].endswith(".whl") for pin in packages.values())


@pytest.mark.live
def test_live_an_sdist_only_package_with_dynamic_dependencies_is_built_once(tmp_path: Path) -> None:
    """jsonpath-rw has only sdists (Metadata-Version 1.x, a setup.py with install_requires): its
    dependencies are known after building its metadata with setuptools, which varsolve resolves
    from the same index; the second run builds nothing."""
    import json

    cache = tmp_path / "cache"
    proc = _live("jsonpath-rw==1.4.0", cache=cache)
    assert proc.returncode == 0, proc.stderr
    assert "varsolve: warning: building metadata of jsonpath-rw-1.4.0.tar.gz (runs its build backend)" in proc.stderr
    packages = json.loads(proc.stdout)["packages"]
    assert {"jsonpath-rw", "ply", "decorator", "six"} <= set(packages)
    assert packages["jsonpath-rw"]["filename"] == "jsonpath-rw-1.4.0.tar.gz"
    again = _live("jsonpath-rw==1.4.0", cache=cache)
    assert again.returncode == 0 and "building" not in again.stderr
    assert json.loads(again.stdout)["packages"] == packages


# -- lock and install -------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform != "linux", reason="the lock's target describes a Linux host")
def test_a_lock_lists_the_sdist_and_install_builds_a_wheel_from_it(serve, tmp_path: Path) -> None:
    import platform
    import tomllib

    from lock_helpers import installed, make_venv

    url = serve([in_tree("dyn", "1.0", WHEEL_BACKEND)])
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    target = tmp_path / "host.toml"
    target.write_text(f'python = "{python}"\nplatform = "{platform.machine()}-manylinux_2_17"\n')
    lock = tmp_path / "pylock.toml"
    proc = run("lock", "app", "--index-url", url, "--no-cache", "--target", str(target), "-o", str(lock))
    assert proc.returncode == 0, proc.stderr
    assert "building metadata of dyn-1.0.tar.gz" in proc.stderr
    packages = {p["name"]: p for p in tomllib.loads(lock.read_text())["packages"]}
    assert set(packages) == {"app", "dyn", "dep"}
    assert packages["dyn"]["sdist"]["name"] == "dyn-1.0.tar.gz" and "wheels" not in packages["dyn"]
    assert len(packages["dyn"]["sdist"]["hashes"]["sha256"]) == 64

    venv = make_venv(tmp_path / "venv")
    dry = run("install", str(lock), "--python", str(venv), "--dry-run")
    assert dry.returncode == 0 and "building" not in dry.stderr and "would install dyn 1.0" in dry.stdout
    proc = run("install", str(lock), "--python", str(venv))
    assert proc.returncode == 0, proc.stderr
    assert "varsolve: warning: building a wheel of dyn-1.0.tar.gz (runs its build backend)" in proc.stderr
    assert "installed dyn 1.0 (built from its sdist)" in proc.stdout
    assert {n: d["version"] for n, d in installed(venv).items()} == {"app": "1.0.0", "dyn": "1.0", "dep": "1.0.0"}
    check = subprocess.run([str(venv), "-c", "import dyn; print(dyn.BUILT)"], capture_output=True, text=True, timeout=60)
    assert check.stdout.strip() == "True", check.stderr

    # A locked sdist whose build fails: one line, nothing installed.
    failing = tmp_path / "failing"
    url = serve([in_tree("dyn", "1.0", DYNAMIC_BACKEND)])  # prepares metadata, cannot build a wheel
    lock2 = tmp_path / "pylock.failing.toml"
    assert run("lock", "app", "--index-url", url, "--no-cache", "--target", str(target), "-o", str(lock2)).returncode == 0
    fresh = make_venv(failing)
    proc = run("install", str(lock2), "--python", str(fresh))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("varsolve: error:")]
    assert errors == ["varsolve: error: sdist dyn-1.0.tar.gz failed to build: build_wheel exited with 1: "
                      "RuntimeError: only metadata in these tests"], proc.stderr
    assert installed(fresh) == {}
