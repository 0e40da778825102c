"""Targets as pip and uv users expect them: uv's ``--python-platform`` names with uv's meaning,
platform tags in packaging's order (PEP 600's manylinux_2_5 and up, legacy aliases, musllinux,
macOS, Windows), and the running interpreter as the default target when no scenario names one.

The platform tests resolve against a loopback index built by ``varsolve index build`` from a
scenario whose releases each have one real wheel for one platform, and check every choice three
ways: a table written by hand, ``uv pip compile --python-platform`` and (given the same tag
platforms, pip has no platform names) ``pip install --dry-run --platform``. Every resolution is
verified (``solve`` and the CLI run the verifier).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_varsolve
from index_helpers import clean_env, python312, repository, uv
from varsolve.api import build_problem, solve
from varsolve.cli import main
from varsolve.errors import InputError
from varsolve.index.server import IndexServer
from varsolve.sources.scenario import load_scenario
from varsolve.target import Target, parse_python, platform_named, uv_platform_names

UV = uv()
PYTHON312 = python312()

# One release per wheel; ``anywhere`` is pure Python and needs no particular Python.
WHEELS = {
    "old-glibc": "cp312-cp312-manylinux_2_12_x86_64",  # PEP 600 below 2_17: rejected before
    "manylinux1-pure": "py3-none-manylinux_2_5_x86_64",
    "new-glibc": "cp312-cp312-manylinux_2_34_x86_64",  # too new for uv's linux (2_28)
    "arm-abi3": "cp310-abi3-manylinux2014_aarch64",  # legacy alias, an older stable ABI
    "musl": "cp312-cp312-musllinux_1_2_x86_64",
    "mac-arm": "cp312-cp312-macosx_11_0_arm64",
    "mac-new": "cp312-cp312-macosx_14_0_arm64",  # too new for uv's macOS (13.0)
    "mac-universal": "cp312-cp312-macosx_10_9_universal2",
    "win": "cp312-cp312-win_amd64",
    "win-arm": "cp312-cp312-win_arm64",
    "win32": "cp312-cp312-win32",
    "wrong-python": "cp311-cp311-manylinux_2_17_x86_64",  # never for 3.12
    "anywhere": "py3-none-any",
}
# A marker probe: which of its dependencies a platform gets shows its marker environment.
PROBE = {
    "on-amd64": "platform_machine == 'AMD64'",
    "on-x86-64": "platform_machine == 'x86_64'",
    "on-x86": "platform_machine == 'x86'",
    "on-arm64": "platform_machine == 'arm64'",
    "on-arm64-windows": "platform_machine == 'ARM64'",
    "on-aarch64": "platform_machine == 'aarch64'",
    "on-linux": "sys_platform == 'linux' and platform_system == 'Linux' and os_name == 'posix'",
    "on-darwin": "sys_platform == 'darwin' and platform_system == 'Darwin' and os_name == 'posix'",
    "on-windows": "sys_platform == 'win32' and platform_system == 'Windows' and os_name == 'nt'",
    "on-patch-release": "python_full_version >= '3.12.1'",  # --python 3.12 is 3.12.0
}
LINUX_X86 = {"old-glibc", "manylinux1-pure"}
# platform name -> the packages (of WHEELS) it installs, besides ``anywhere``; the probe's deps.
EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    "linux": (LINUX_X86, {"on-x86-64", "on-linux"}),
    "x86_64-unknown-linux-gnu": (LINUX_X86, {"on-x86-64", "on-linux"}),
    "x86_64-manylinux2014": (LINUX_X86, {"on-x86-64", "on-linux"}),
    "x86_64-manylinux_2_17": (LINUX_X86, {"on-x86-64", "on-linux"}),
    "x86_64-manylinux_2_40": (LINUX_X86 | {"new-glibc"}, {"on-x86-64", "on-linux"}),
    "aarch64-unknown-linux-gnu": ({"arm-abi3"}, {"on-aarch64", "on-linux"}),
    "aarch64-manylinux2014": ({"arm-abi3"}, {"on-aarch64", "on-linux"}),
    "x86_64-unknown-linux-musl": ({"musl"}, {"on-x86-64", "on-linux"}),
    "aarch64-unknown-linux-musl": (set(), {"on-aarch64", "on-linux"}),
    "macos": ({"mac-arm", "mac-universal"}, {"on-arm64", "on-darwin"}),
    "aarch64-apple-darwin": ({"mac-arm", "mac-universal"}, {"on-arm64", "on-darwin"}),
    "x86_64-apple-darwin": ({"mac-universal"}, {"on-x86-64", "on-darwin"}),
    "windows": ({"win"}, {"on-amd64", "on-windows"}),
    "x86_64-pc-windows-msvc": ({"win"}, {"on-amd64", "on-windows"}),
    "i686-pc-windows-msvc": ({"win32"}, {"on-x86", "on-windows"}),
    "aarch64-pc-windows-msvc": ({"win-arm"}, {"on-arm64-windows", "on-windows"}),
    # varsolve's names for what uv reads from MACOSX_DEPLOYMENT_TARGET / has no name for
    "aarch64-macosx_14_0": ({"mac-arm", "mac-new", "mac-universal"}, {"on-arm64", "on-darwin"}),
    "x86_64-musllinux_1_1": (set(), {"on-x86-64", "on-linux"}),
}
# How uv spells the varsolve-only names (None: uv has none).
UV_EQUIVALENT: dict[str, tuple[str, dict[str, str]] | None] = {
    "aarch64-macosx_14_0": ("aarch64-apple-darwin", {"MACOSX_DEPLOYMENT_TARGET": "14.0"}),
    "x86_64-musllinux_1_1": None,
}


def _scenario_text() -> str:
    lines = ['name = "platforms"', "[root]", 'requires = ["anywhere"]']
    for name, tag in WHEELS.items():
        lines += [f'[packages.{name}.versions."1.0.0"]', "sdist = false", f'wheel_tags = ["{tag}"]']
        if tag.startswith("py3-"):
            lines.append('requires_python = ""')
    probe = ", ".join(json.dumps(f"{dep}; {marker}") for dep, marker in PROBE.items())
    lines += ['[packages.probe.versions."1.0.0"]', "sdist = false", 'requires_python = ""', f"requires = [{probe}]"]
    for dep in PROBE:
        lines += [f'[packages.{dep}.versions."1.0.0"]', "sdist = false", 'requires_python = ""']
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    root = tmp_path_factory.mktemp("platform-index")
    scenario = root / "platforms.toml"
    scenario.write_text(_scenario_text())
    built = run_varsolve("index", "build", str(scenario), "-o", str(root / "index"))
    assert built.returncode == 0, built.stderr
    with IndexServer(root / "index") as server:
        yield server


def _resolve(index_url: str, target: Target, requirement: str, strategy: str = "backtrack") -> dict[str, str] | None:
    """The verified resolution of one requirement: {name: wheel filename}, None if none."""
    repo = repository(index_url)
    try:
        resolution = solve(build_problem([requirement], repository=repo, target=target), strategy)
    finally:
        repo.close()
    assert resolution.violations == (), resolution.violations  # the verifier agrees
    if not resolution.satisfiable:
        return None
    return {name: pin.filename or "" for name, pin in resolution.packages.items()}


def _uv(index_url: str, platform: str, requirement: str, python: str = "3.12", **env: str) -> dict[str, str] | None:
    """``uv pip compile`` for one requirement: {name: wheel filename}, None if no solution."""
    assert UV is not None
    r = subprocess.run(
        [UV, "pip", "compile", "-", "--python", sys.executable, "--python-version", python,
         "--python-platform", platform, "--index-url", index_url, "--no-cache", "--only-binary", ":all:",
         "--quiet", "--format", "pylock.toml"],
        input=requirement + "\n", capture_output=True, text=True, env=clean_env(**env), timeout=120,
    )
    if r.returncode != 0:
        assert "No solution found" in r.stderr, r.stderr
        return None
    lock = tomllib.loads(r.stdout)
    return {p["name"]: w["url"].rsplit("/", 1)[1] for p in lock.get("packages", []) for w in p.get("wheels", [])}


# -- platforms on a real index, against uv and pip ---------------------------------------------


@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_each_platform_installs_what_pip_and_uv_install(index: IndexServer, platform: str) -> None:
    installs, probe_deps = EXPECTED[platform]
    target = Target.make("3.12", platform)
    got = {name for name in WHEELS if _resolve(index.index_url, target, name) is not None}
    assert got == installs | {"anywhere"}
    probe = _resolve(index.index_url, target, "probe")
    assert probe is not None and set(probe) == {"probe"} | probe_deps
    assert _resolve(index.index_url, target, "probe", "sat") == probe  # the complete strategy agrees
    if UV is not None and (spelling := UV_EQUIVALENT.get(platform, (platform, {}))) is not None:
        uv_name, uv_env = spelling
        for name in WHEELS:
            assert (_uv(index.index_url, uv_name, name, **uv_env) is not None) == (name in got), (platform, name)
        assert _uv(index.index_url, uv_name, "probe", **uv_env) == probe


@pytest.mark.skipif(PYTHON312 is None, reason="needs a Python 3.12 with pip")
@pytest.mark.parametrize("platform", ["linux", "x86_64-manylinux_2_40", "aarch64-unknown-linux-gnu",
                                      "x86_64-unknown-linux-musl", "macos", "x86_64-apple-darwin", "windows",
                                      "i686-pc-windows-msvc", "aarch64-pc-windows-msvc"])
def test_pip_installs_the_same_wheels_given_the_same_tag_platforms(index: IndexServer, platform: str, tmp_path: Path) -> None:
    """pip has no platform names: it gets varsolve's tag platforms (``--platform`` each) and
    must install exactly the wheels varsolve chooses."""
    assert PYTHON312 is not None
    installs, _ = EXPECTED[platform]
    target = Target.make("3.12", platform)
    want: dict[str, str] = {}
    for name in sorted(installs | {"anywhere"}):
        want |= _resolve(index.index_url, target, name) or {}
    platforms = [arg for tag in target.platform.tag_platforms for arg in ("--platform", tag)]
    r = subprocess.run(
        [PYTHON312, "-m", "pip", "install", "--isolated", "--dry-run", "--target", str(tmp_path / "t"), "--quiet",
         "--report", "-", "--python-version", "3.12", *platforms, "--only-binary", ":all:", "--no-cache-dir",
         "--index-url", index.index_url, *sorted(want)],
        capture_output=True, text=True, env=clean_env(), timeout=180,
    )
    assert r.returncode == 0, r.stderr
    got = {item["metadata"]["name"]: item["download_info"]["url"].rsplit("/", 1)[1] for item in json.loads(r.stdout)["install"]}
    assert got == want


def test_the_cli_resolves_for_a_named_platform(index: IndexServer) -> None:
    """``--python 3.12 --python-platform``: the header names the target, the JSON carries it,
    the CLI verifies (exit 0 only for a valid resolution)."""
    r = run_varsolve("resolve", "old-glibc", "--python", "3.12", "--python-platform", "x86_64-manylinux2014",
                     "--index-url", index.index_url, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert r.stderr == "varsolve: resolving for CPython 3.12.0 on x86_64-manylinux2014\n"
    out = json.loads(r.stdout)
    assert out["packages"]["old-glibc"]["filename"] == "old_glibc-1.0.0-cp312-cp312-manylinux_2_12_x86_64.whl"
    assert out["target"] == {"python": "3.12.0", "platform": "x86_64-manylinux2014", "variants": {}, "enabled": []}
    assert out["violations"] == []
    r = run_varsolve("resolve", "win", "--python", "3.12.4", "--python-platform", "linux", "--index-url", index.index_url)
    assert r.returncode == 1 and r.stdout.startswith("no solution:")
    assert "has no wheel for x86_64-unknown-linux-gnu / Python 3.12" in r.stdout
    assert r.stderr == "varsolve: resolving for CPython 3.12.4 on x86_64-unknown-linux-gnu\n"


# -- the running interpreter ------------------------------------------------------------------


def _running_version() -> str:
    info = sys.version_info
    pre = {"alpha": "a", "beta": "b", "candidate": "rc"}.get(info.releaselevel, "")
    return f"{info.major}.{info.minor}.{info.micro}" + (f"{pre}{info.serial}" if pre else "")


def test_the_running_interpreter_is_the_target_pip_would_see() -> None:
    from packaging.markers import default_environment
    from packaging.tags import sys_tags

    target = Target.of_running_interpreter()
    assert str(target.python) == _running_version()
    assert target.tags() == tuple(dict.fromkeys(sys_tags()))  # exactly what pip accepts here
    env = target.marker_environment()
    real = default_environment()
    for key in ("python_version", "sys_platform", "platform_system", "platform_machine", "os_name",
                "platform_release", "platform_version", "implementation_name"):
        assert env[key] == real[key], key
    # never a variant property unasked
    assert target.variants == {} and target.enabled == frozenset()
    assert not target.provider_policy.detect and not target.provider_policy.allow
    # its platform has a name Target.make knows (a lock records it), with the same tag platforms
    named = platform_named(target.platform.name)
    assert set(named.tag_platforms) == set(target.platform.tag_platforms)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="manylinux hosts only")
def test_named_manylinux_tags_are_in_packagings_order() -> None:
    """On a glibc host, ARCH-manylinux_2_N named for this glibc lists packaging's own manylinux
    tags in packaging's order (legacy aliases right after the version they stand for)."""
    from packaging.tags import platform_tags

    host = [t for t in platform_tags() if t.startswith(("manylinux", "musllinux"))]
    if not host:
        pytest.skip("not a manylinux host")
    name = Target.of_running_interpreter().platform.name
    assert [t for t in platform_named(name).tag_platforms if not t.startswith("linux_")] == host


def test_build_problem_defaults_to_the_running_interpreter(index: IndexServer) -> None:
    repo = repository(index.index_url)
    try:
        problem = build_problem(["anywhere"], repository=repo)
        assert str(problem.target.python) == _running_version()
        assert problem.target.tags() == Target.of_running_interpreter().tags()
        assert problem.target.variants == {}
        moved = build_problem(["anywhere"], repository=repo, python="3.12")
        assert str(moved.target.python) == "3.12.0" and moved.target.platform == problem.target.platform
        resolution = solve(problem)
        assert resolution.satisfiable and resolution.violations == ()
    finally:
        repo.close()


def test_cli_default_target_and_header(index: IndexServer) -> None:
    host = Target.of_running_interpreter()
    r = run_varsolve("resolve", "anywhere", "--index-url", index.index_url, "--format", "json")
    assert r.returncode == 0, r.stderr
    header = f"varsolve: resolving for CPython {_running_version()} on {host.platform.name} (this interpreter)\n"
    assert r.stderr == header
    assert json.loads(r.stdout)["target"]["python"] == _running_version()
    r = run_varsolve("resolve", "anywhere", "--python", "3.12", "--index-url", index.index_url)
    assert r.stderr == f"varsolve: resolving for CPython 3.12.0 on {host.platform.name} (this machine's platform)\n"
    r = run_varsolve("resolve", "anywhere", "--python-platform", "windows", "--index-url", index.index_url)
    assert r.stderr == (
        f"varsolve: resolving for CPython {_running_version()} on x86_64-pc-windows-msvc (this interpreter's Python)\n"
    )
    r = run_varsolve("resolve", "-q", "anywhere", "--index-url", index.index_url)
    assert r.returncode == 0 and r.stderr == ""


def test_lock_without_a_scenario_locks_for_this_interpreter(index: IndexServer, tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    r = run_varsolve("lock", "anywhere", "--index-url", index.index_url, "-o", str(lock))
    assert r.returncode == 0, r.stderr
    host = Target.of_running_interpreter()
    assert r.stderr == f"varsolve: locking for CPython {_running_version()} on {host.platform.name} (this interpreter)\n"
    target = tomllib.loads(lock.read_text())["tool"]["varsolve"]["targets"]["default"]
    assert target["python"] == host.python_version and target["platform"] == host.platform.name
    check = run_varsolve("lock", "--check", str(lock))
    assert check.returncode == 0, check.stdout + check.stderr
    r = run_varsolve("lock", "win", "--python", "3.12", "--python-platform", "windows", "--index-url", index.index_url,
                     "-o", str(lock))
    assert r.returncode == 0, r.stderr
    target = tomllib.loads(lock.read_text())["tool"]["varsolve"]["targets"]["default"]
    assert target["platform"] == "x86_64-pc-windows-msvc" and 'sys_platform == "win32"' in target["marker"]


# -- names and versions ---------------------------------------------------------------------------


def test_every_linux_macos_and_windows_name_of_uv_is_known() -> None:
    """The names ``uv pip compile --help`` lists (Android, iOS and Pyodide aside) are ours."""
    names = set(uv_platform_names())
    for name in names:
        platform_named(name)
    if UV is None:
        return
    help_text = subprocess.run([UV, "pip", "compile", "--help"], capture_output=True, text=True, env=clean_env(),
                               timeout=60, check=True).stdout
    help_text = " ".join(help_text.split())  # uv wraps its help to the terminal's width
    listed = help_text.split("--python-platform <PYTHON_PLATFORM>", 1)[1].split("possible values:", 1)[1].split("]", 1)[0]
    uv_names = {n.strip() for n in listed.split(",")}
    unsupported = {n for n in uv_names if "android" in n or "ios" in n or "pyodide" in n}
    assert uv_names - unsupported == names


def test_platform_meanings_follow_uv() -> None:
    assert platform_named("linux") == platform_named("x86_64-unknown-linux-gnu")
    gnu = platform_named("x86_64-unknown-linux-gnu").tag_platforms
    assert gnu == platform_named("x86_64-manylinux_2_28").tag_platforms  # uv: glibc 2.28
    assert gnu[:2] == ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64") and gnu[-1] == "linux_x86_64"
    legacy = platform_named("x86_64-manylinux2014").tag_platforms
    assert legacy == platform_named("x86_64-manylinux_2_17").tag_platforms
    assert legacy[:3] == ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_16_x86_64")
    assert legacy[-4:] == ("manylinux_2_6_x86_64", "manylinux_2_5_x86_64", "manylinux1_x86_64", "linux_x86_64")
    assert "manylinux2010_x86_64" == legacy[legacy.index("manylinux_2_12_x86_64") + 1]
    arm = platform_named("aarch64-unknown-linux-gnu").tag_platforms
    assert arm[-3:] == ("manylinux_2_17_aarch64", "manylinux2014_aarch64", "linux_aarch64")  # no 2_16 on ARM
    assert platform_named("x86_64-unknown-linux-musl").tag_platforms == (
        "musllinux_1_2_x86_64", "musllinux_1_1_x86_64", "musllinux_1_0_x86_64", "linux_x86_64",
    )
    from packaging.tags import mac_platforms

    assert platform_named("macos").tag_platforms == tuple(mac_platforms((13, 0), "arm64"))  # uv: macOS 13.0
    assert platform_named("x86_64-apple-darwin").tag_platforms == tuple(mac_platforms((13, 0), "x86_64"))
    assert platform_named("windows").tag_platforms == ("win_amd64",)
    assert platform_named("i686-pc-windows-msvc").tag_platforms == ("win32",)
    assert platform_named("aarch64-pc-windows-msvc").tag_platforms == ("win_arm64",)
    for name, machine in (("windows", "AMD64"), ("macos", "arm64"), ("aarch64-unknown-linux-gnu", "aarch64")):
        assert Target.make("3.12", name).marker_environment()["platform_machine"] == machine
    for bad in ("plan9", "aarch64-manylinux_2_12", "x86_64-manylinux_2_4", "aarch64-manylinux2010", "arm64-apple-darwin"):
        with pytest.raises(InputError, match="unknown platform"):
            platform_named(bad)


def test_python_versions() -> None:
    assert str(parse_python("3.12")) == "3.12.0"  # as uv's --python-version 3.12
    assert str(parse_python("3.12.4")) == "3.12.4"
    assert str(parse_python("3.14.0rc1")) == "3.14.0rc1"
    for bad in ("3", "3.", "three", "3.11.7.1", "", "3.12.x", "v3.12"):
        with pytest.raises(InputError, match="invalid Python version"):
            parse_python(bad)


@pytest.mark.parametrize("value", ["3", "3.", "three", "3.11.7.1"])
def test_cli_rejects_an_incomplete_python(capsys: pytest.CaptureFixture[str], value: str) -> None:
    for command in ("resolve", "lock"):
        with pytest.raises(SystemExit) as info:
            main([command, "x", "--python", value, "--find-links", os.devnull])
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("varsolve: error: argument --python: "), err
        assert f"invalid Python version '{value}'" in err


def test_cli_rejects_an_unknown_platform(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["resolve", "x", "--python-platform", "plan9", "--find-links", os.devnull])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("varsolve: error: argument --python-platform: unknown platform 'plan9'")


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ('[environment]\npython = "3"', "environment.python", "invalid Python version '3'"),
        ('[resolver_options]\npython = "3.11.7.1"', "resolver_options.python", "invalid Python version '3.11.7.1'"),
        ("[resolver_options]\npython = 3.12", "resolver_options.python", "must be a string"),
        ('[resolver_options]\npython_platform = "amiga"', "resolver_options.python_platform", "unknown platform 'amiga'"),
    ],
)
def test_scenario_python_and_platform_errors_name_file_and_key(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(f'name = "s"\n[root]\nrequires = []\n{text}\n')
    with pytest.raises(InputError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {key}: ") and fragment in message and "\n" not in message


def test_scenarios_keep_their_own_target(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('name = "s"\n[root]\nrequires = []\n')
    assert load_scenario(path).problem.target.describe()["python"] == "3.12.0"
    assert load_scenario(path).problem.target.platform.name == "x86_64-manylinux_2_39"
    path.write_text('name = "s"\n[root]\nrequires = []\n[resolver_options]\npython = "3.11.2"\npython_platform = "windows"\n')
    target = load_scenario(path).problem.target
    assert str(target.python) == "3.11.2" and target.platform.name == "x86_64-pc-windows-msvc"
