"""Provider plugins: metadata that points an allowed name at a URL of its choosing, a plugin that
leaves processes behind, hostile timeouts, a project's pyproject.toml switching plugins on, the
caller's credentials. Every plugin is a real wheel built here, installed by uv or pip from a
local folder (no network), and run for real; each writes what it did to files of this case's
folder (their paths are written into its source)."""

from __future__ import annotations

import base64
import hashlib
import os
import time
import zipfile
from pathlib import Path

from hostile.corpus import CLEAN, DATA_LOSS, HANG, TRACEBACK, WRONG, Outcome, case, expect_clean_error, varsolve

CATEGORY = "plugins"

SCENARIO = """
[root]
requires = ["pkg"]

[packages.pkg.versions."1.0"]
sdist = false

[packages.pkg.versions."1.0".variants]
fast = ["demo :: flavour :: fast"]
safe = ["demo :: flavour :: safe"]

[packages.pkg.versions."1.0".providers.demo]
requires = [REQUIRES]
plugin-api = "API"
"""

# The plugin: importing it appends to RAN; Plugin answers; Spawner and Lingerer start a child in
# a new session that holds the plugin's stdout and stderr for 400 s (Spawner then hangs, Lingerer
# answers at once); Snoop records the environment it sees.
PLUGIN_SOURCE = '''
import os, subprocess, sys, time

with open(RAN, "a") as f:
    f.write("imported\\n")


class Plugin:
    def get_supported_configs(self):
        return [{"name": "flavour", "values": ["safe", "fast"]}]


def _child():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(400)"], start_new_session=True)
    with open(CHILD, "w") as f:
        f.write(str(child.pid))


class Spawner:
    def get_supported_configs(self):
        _child()
        time.sleep(400)


class Lingerer:
    def get_supported_configs(self):
        _child()
        return [{"name": "flavour", "values": ["fast"]}]


class Snoop:
    def get_supported_configs(self):
        with open(ENVIRON, "w") as f:
            f.write("\\n".join(f"{k}={v}" for k, v in sorted(os.environ.items())))
        return [{"name": "flavour", "values": ["safe"]}]
'''


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def plugin_wheel(folder: Path, version: str, tmp: Path) -> Path:
    """A real, installable demo-provider wheel whose files report to ``tmp``."""
    source = (
        f"RAN, CHILD, ENVIRON = {str(tmp / 'ran.txt')!r}, {str(tmp / 'child.pid')!r}, {str(tmp / 'environ.txt')!r}\n"
        + PLUGIN_SOURCE
    )
    info = f"demo_provider-{version}.dist-info"
    entries = {
        "demo_provider/__init__.py": source.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: demo-provider\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: varsolve-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in entries.items())
    entries[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"demo_provider-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in entries.items():
            zf.writestr(zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return path


def _setup(tmp: Path, api: str = "demo_provider:Plugin", requires: str = '"demo-provider"') -> tuple[Path, dict[str, str]]:
    """The scenario and an environment in which uv and pip find the plugin in a local folder."""
    links = tmp / "links"
    plugin_wheel(links, "1.0", tmp)
    scenario = tmp / "scenario.toml"
    scenario.write_text(SCENARIO.replace("REQUIRES", requires).replace("API", api), encoding="utf-8")
    env = {"UV_FIND_LINKS": str(links), "UV_NO_INDEX": "1", "UV_OFFLINE": "1", "PIP_FIND_LINKS": str(links), "PIP_NO_INDEX": "1"}
    return scenario, env


def _alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:  # a zombie is dead
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def _kill(pid_file: Path) -> None:
    try:
        os.kill(int(pid_file.read_text()), 9)
    except (OSError, ValueError):
        pass


def _ran(tmp: Path) -> bool:
    return (tmp / "ran.txt").exists()


@case(CATEGORY, "an allowed name pointed at a direct URL by the metadata (demo-provider @ file:///...6.6.6.whl)")
def direct_url_bypass(tmp: Path) -> Outcome:
    evil = plugin_wheel(tmp / "evil", "6.6.6", tmp)
    scenario, env = _setup(tmp, requires=f'"demo-provider @ {evil.as_uri()}"')
    proc = varsolve("resolve", "--scenario", str(scenario), "--allow-provider", "demo-provider", cwd=tmp, env=env, timeout=120)
    if proc is None:
        return Outcome(HANG, "no answer")
    if "Traceback" in proc.stderr:
        return Outcome(TRACEBACK, proc.stderr[-2000:])
    if _ran(tmp) or (tmp / ".cache" / "plugins").exists():
        return Outcome(WRONG, "the wheel at the metadata's URL was installed or run")
    if proc.returncode != 0 or "direct URL" not in proc.stderr or "pkg" not in proc.stdout:
        return Outcome(WRONG, f"exit {proc.returncode}: {proc.stderr[-800:]}")
    return Outcome(CLEAN, proc.stderr.strip())


@case(CATEGORY, "a plugin that starts a child in a new session and hangs (--plugin-timeout 2)")
def new_session_child_hangs(tmp: Path) -> Outcome:
    scenario, env = _setup(tmp, api="demo_provider:Spawner")
    started = time.monotonic()
    proc = varsolve(
        "resolve", "--scenario", str(scenario), "--allow-provider", "demo-provider", "--plugin-timeout", "2",
        cwd=tmp, env=env, timeout=120,
    )
    took = time.monotonic() - started
    try:
        outcome = expect_clean_error(proc, names=["demo-provider", "did not answer within 2 s"])
        if outcome.kind == CLEAN and took > 60:
            return Outcome(HANG, f"took {took:.0f} s for a 2 s plugin timeout")
        if outcome.kind == CLEAN and _alive(tmp / "child.pid"):
            return Outcome(DATA_LOSS, "the plugin's child in its own session is still running")
        return outcome
    finally:
        _kill(tmp / "child.pid")


@case(CATEGORY, "a plugin that answers but leaves a child in a new session holding its pipes")
def new_session_child_lingers(tmp: Path) -> Outcome:
    scenario, env = _setup(tmp, api="demo_provider:Lingerer")
    started = time.monotonic()
    proc = varsolve(
        "resolve", "--scenario", str(scenario), "--allow-provider", "demo-provider", "--plugin-timeout", "30",
        cwd=tmp, env=env, timeout=120,
    )
    took = time.monotonic() - started
    try:
        if proc is None or took > 90:
            return Outcome(HANG, f"no answer for {took:.0f} s: waited on a pipe the child holds")
        if "Traceback" in proc.stderr:
            return Outcome(TRACEBACK, proc.stderr[-2000:])
        if proc.returncode != 0 or "pkg" not in proc.stdout or "[fast]" not in proc.stdout:
            return Outcome(WRONG, f"exit {proc.returncode}: {proc.stdout[-300:]} {proc.stderr[-500:]}")
        if _alive(tmp / "child.pid"):
            return Outcome(DATA_LOSS, "the plugin's child in its own session is left running")
        return Outcome(CLEAN, proc.stdout.strip())
    finally:
        _kill(tmp / "child.pid")


@case(CATEGORY, "--plugin-timeout inf")
def plugin_timeout_inf(tmp: Path) -> Outcome:
    scenario, env = _setup(tmp)
    proc = varsolve("resolve", "--scenario", str(scenario), "--allow-provider", "demo-provider", "--plugin-timeout", "inf", cwd=tmp, env=env)
    outcome = expect_clean_error(proc, names=["--plugin-timeout"])
    return Outcome(WRONG, "the plugin ran") if outcome.kind == CLEAN and _ran(tmp) else outcome


@case(CATEGORY, "--plugin-timeout nan")
def plugin_timeout_nan(tmp: Path) -> Outcome:
    scenario, env = _setup(tmp)
    proc = varsolve("resolve", "--scenario", str(scenario), "--allow-provider", "demo-provider", "--plugin-timeout", "nan", cwd=tmp, env=env)
    return expect_clean_error(proc, names=["--plugin-timeout"])


@case(CATEGORY, "--plugin-timeout -1")
def plugin_timeout_negative(tmp: Path) -> Outcome:
    scenario, env = _setup(tmp)
    proc = varsolve("resolve", "--scenario", str(scenario), "--allow-provider", "demo-provider", "--plugin-timeout=-1", cwd=tmp, env=env)
    return expect_clean_error(proc, names=["--plugin-timeout"])


@case(CATEGORY, "a cloned repository's pyproject.toml allows a plugin")
def pyproject_allows(tmp: Path) -> Outcome:
    scenario, env = _setup(tmp)
    project = tmp / "cloned"
    project.mkdir()
    pyproject = project / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n[tool.varsolve]\nallow-providers = ["demo-provider"]\n', encoding="utf-8")
    proc = varsolve("resolve", "--scenario", str(scenario), cwd=project, env=env, timeout=120)
    if proc is None:
        return Outcome(HANG, "no answer")
    if "Traceback" in proc.stderr:
        return Outcome(TRACEBACK, proc.stderr[-2000:])
    if _ran(tmp):
        return Outcome(WRONG, "the project's file alone switched the plugin on")
    if proc.returncode != 0 or "skipped variant provider 'demo'" not in proc.stderr:
        return Outcome(WRONG, f"exit {proc.returncode}: {proc.stderr[-800:]}")
    # With the user's flag it runs, and stderr names the file that allowed it.
    proc = varsolve("resolve", "--scenario", str(scenario), "--allow-project-providers", cwd=project, env=env, timeout=120)
    if proc is None:
        return Outcome(HANG, "no answer")
    if proc.returncode != 0 or not _ran(tmp) or f"allowed by {pyproject}" not in proc.stderr:
        return Outcome(WRONG, f"with --allow-project-providers: exit {proc.returncode}: {proc.stderr[-800:]}")
    return Outcome(CLEAN, proc.stderr.strip())


@case(CATEGORY, "the caller's tokens and credentials reach the plugin")
def scrubbed_environment(tmp: Path) -> Outcome:
    scenario, env = _setup(tmp, api="demo_provider:Snoop")
    secrets = {
        "GITHUB_TOKEN": "ghp_secret1", "AWS_SECRET_ACCESS_KEY": "secret2", "PIP_INDEX_URL": "https://user:secret3@example.invalid/simple",
        "HTTPS_PROXY": "http://user:secret4@127.0.0.1:9", "NETRC": "/secret5/.netrc", "MY_SERVICE_PASSWORD": "secret6",
    }
    proc = varsolve(
        "resolve", "--scenario", str(scenario), "--allow-provider", "demo-provider", cwd=tmp, env={**env, **secrets}, timeout=120,
    )
    if proc is None:
        return Outcome(HANG, "no answer")
    if "Traceback" in proc.stderr:
        return Outcome(TRACEBACK, proc.stderr[-2000:])
    try:
        seen = (tmp / "environ.txt").read_text()
    except OSError:
        return Outcome(WRONG, f"the plugin did not run: exit {proc.returncode}: {proc.stderr[-800:]}")
    leaked = [name for name, value in secrets.items() if value in seen or f"{name}=" in seen]
    if leaked:
        return Outcome(WRONG, f"the plugin saw {leaked}")
    if proc.returncode != 0 or "[safe]" not in proc.stdout:
        return Outcome(WRONG, f"exit {proc.returncode}: {proc.stdout[-300:]} {proc.stderr[-500:]}")
    return Outcome(CLEAN, proc.stdout.strip())


@case(CATEGORY, "plugin-api with a trailing newline")
def plugin_api_newline(tmp: Path) -> Outcome:
    scenario, env = _setup(tmp, api="demo_provider:Plugin\\n")
    proc = varsolve("resolve", "--scenario", str(scenario), "--allow-provider", "demo-provider", cwd=tmp, env=env, timeout=120)
    outcome = expect_clean_error(proc, names=["demo", "plugin-api"])
    return Outcome(WRONG, "the plugin ran") if outcome.kind == CLEAN and _ran(tmp) else outcome
