"""Third-party provider plugins: run only when allowed by name, installed from real wheels into a
cached environment, called in a subprocess with a timeout; otherwise no trace at all."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import run_varsolve, varsolve_command
from varsolve.api import build_problem, solve
from varsolve.errors import VarsolveError
from varsolve.providers import plugins, supported_for_release
from varsolve.providers.plugins import PluginSpec, ProviderError, plugin_spec
from varsolve.providers.policy import allow_list_from_pyproject
from varsolve.target import ProviderPolicy, Target
from varsolve.variants.metadata import SCHEMA_850, Provider, VariantMetadata

HAS_UV = shutil.which("uv") is not None or (Path(sys.executable).parent / "uv").exists()
# Plugins run with a scrubbed environment; the test plugin's own variables are passed through.
PASS_ENV = "VARSOLVE_PLUGIN_ENV"
PASSED = "DEMO_PROVIDER_MARKER,DEMO_PROVIDER_PID"

# The plugin package the tests install. Importing it appends a line to the file named by
# DEMO_PROVIDER_MARKER, so a test can tell whether its code ran at all.
PLUGIN_SOURCE = '''
import os, time

_marker = os.environ.get("DEMO_PROVIDER_MARKER")
if _marker:
    with open(_marker, "a") as f:
        f.write("imported\\n")


class Config:
    def __init__(self, name, values):
        self.name, self.values = name, values


class Plugin:
    """Reports the preference order the scenario must follow (not alphabetical, not declared)."""

    def get_supported_configs(self, known_properties):
        return [Config("flavour", ["safe", "fast"]), Config("tier", [])]


def get_supported_configs():  # the module itself as the endpoint: PEP 850's default
    return [{"name": "flavour", "values": ["fast"]}]


class Hang:
    @staticmethod
    def get_supported_configs():
        pid_file = os.environ.get("DEMO_PROVIDER_PID")
        if pid_file:
            with open(pid_file, "w") as f:
                f.write(str(os.getpid()))
        time.sleep(120)


class Crash:
    @classmethod
    def get_supported_configs(cls):
        raise RuntimeError("boom: no device")


class BadName:
    def get_supported_configs(self):
        return [Config("Not A Feature", ["x"])]


class NotAList:
    def get_supported_configs(self):
        return 42
'''


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(directory: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A real, installable pure-Python wheel: METADATA, WHEEL, RECORD with hashes."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    entries = {path: text.encode() for path, text in files.items()}
    entries[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    entries[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: varsolve-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in entries.items())
    entries[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    path = directory / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in entries.items():
            zf.writestr(zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return path


@pytest.fixture(scope="session")
def find_links(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("find-links")
    build_wheel(directory, "demo-provider", "1.0", {"demo_provider/__init__.py": PLUGIN_SOURCE})
    return directory


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One plugin cache for the allowed-path tests: the environment is built once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def fresh_run(monkeypatch, tmp_path: Path):
    plugins.clear_caches()
    monkeypatch.setenv("DEMO_PROVIDER_MARKER", str(tmp_path / "imported.txt"))
    monkeypatch.setenv(PASS_ENV, PASSED)
    monkeypatch.setenv("VARSOLVE_CACHE_DIR", str(tmp_path / "empty-cache"))
    yield
    plugins.clear_caches()


SCENARIO = """
[root]
requires = ["pkg"]

[packages.pkg.versions."1.0"]
sdist = false

[packages.pkg.versions."1.0".variants]
fast = ["demo :: flavour :: fast"]
safe = ["demo :: flavour :: safe"]
turbo = ["demo :: flavour :: turbo"]
premium = ["demo :: tier :: gold"]

[packages.pkg.versions."1.0".providers.demo]
requires = ["demo-provider>=1.0"]
plugin-api = "{api}"
"""


def _scenario(write_scenario, api: str = "demo_provider:Plugin", requires: str | None = None) -> Path:
    text = SCENARIO.replace("{api}", api)
    if requires is not None:
        text = text.replace('requires = ["demo-provider>=1.0"]', f"requires = [{requires}]")
    return write_scenario(text)


def _policy(find_links: Path, **kw) -> ProviderPolicy:
    return ProviderPolicy(allow=frozenset({"demo-provider"}), find_links=(str(find_links),), **kw)


def _installer_env(find_links: Path, cache: Path, tmp_path: Path) -> dict[str, str]:
    """What a user sets for pip and uv to find the plugin (the CLI has no index options yet)."""
    env = dict(os.environ)
    env.update(
        VARSOLVE_CACHE_DIR=str(cache), DEMO_PROVIDER_MARKER=str(tmp_path / "imported.txt"), VARSOLVE_PLUGIN_ENV=PASSED,
        UV_FIND_LINKS=str(find_links), UV_NO_INDEX="1", PIP_FIND_LINKS=str(find_links), PIP_NO_INDEX="1",
    )
    return env


def _run(*args: str, env: dict[str, str], cwd: Path):
    return subprocess.run([*varsolve_command(), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


# -- allowed -----------------------------------------------------------------------------------
def test_allowed_plugin_decides_the_variant(write_scenario, find_links, shared_cache, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("VARSOLVE_CACHE_DIR", str(shared_cache))
    scenario = _scenario(write_scenario)
    for strategy in ("pep825", "backtrack"):
        resolution = solve(build_problem(scenario=scenario, provider_policy=_policy(find_links)), strategy)
        assert resolution.satisfiable and resolution.violations == ()
        # The plugin prefers "safe" over "fast"; "turbo" and tier "gold" are unsupported.
        assert resolution.packages["pkg"].variant == "safe"
    # It ran once for the whole process although two strategies and the verifier asked.
    assert (tmp_path / "imported.txt").read_text() == "imported\n"
    venvs = [p for p in (shared_cache / "plugins").iterdir() if not p.name.startswith(".")]
    assert len(venvs) == 1 and (venvs[0] / "varsolve-plugin.json").exists()


def test_allowed_plugin_module_endpoint_by_default(write_scenario, find_links, shared_cache, monkeypatch) -> None:
    """Without plugin-api the endpoint is the first requirement's module (demo_provider)."""
    monkeypatch.setenv("VARSOLVE_CACHE_DIR", str(shared_cache))
    metadata = VariantMetadata(SCHEMA_850, ("demo",), {"fast": {"demo": {"flavour": ("fast",)}}}, {"demo": Provider(requires=("demo-provider",))})
    target = Target(provider_policy=_policy(find_links))
    assert supported_for_release(metadata, target) == {"demo": {"flavour": ("fast",)}}


@pytest.mark.skipif(not HAS_UV, reason="uv is not installed")
def test_allowed_plugin_through_the_command_line(write_scenario, find_links, shared_cache, tmp_path) -> None:
    scenario = _scenario(write_scenario)
    env = _installer_env(find_links, shared_cache, tmp_path)
    proc = _run("resolve", "--scenario", str(scenario), "--allow-provider", "Demo_Provider", "--format", "json", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["packages"]["pkg"]["variant"] == "safe"
    assert proc.stderr == ""


@pytest.mark.skipif(not HAS_UV, reason="uv is not installed")
def test_allow_list_in_pyproject(write_scenario, find_links, shared_cache, tmp_path) -> None:
    scenario = _scenario(write_scenario)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "app"\n\n[tool.varsolve]\nallow-providers = ["demo-provider"]\n')
    env = _installer_env(find_links, shared_cache, tmp_path)
    # A project's file alone does not switch plugins on (a cloned repository is not trusted) ...
    proc = _run("resolve", "--scenario", str(scenario), "--format", "json", env=env, cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["packages"]["pkg"]["variant"] == ""
    assert "skipped variant provider 'demo'" in proc.stderr and "--allow-project-providers" in proc.stderr
    assert not (tmp_path / "imported.txt").exists()
    # ... the user's --allow-project-providers does, and one line says which file allowed what.
    proc = _run("resolve", "--scenario", str(scenario), "--format", "json", "--allow-project-providers", env=env, cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["packages"]["pkg"]["variant"] == "safe"
    assert proc.stderr.splitlines() == [
        f"varsolve: warning: provider plugins allowed by {project / 'pyproject.toml'} ([tool.varsolve] allow-providers, "
        "with --allow-project-providers): demo-provider"
    ]


def test_allowed_plugin_installed_with_pip(write_scenario, find_links, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VARSOLVE_PLUGIN_INSTALLER", "pip")
    monkeypatch.setenv("VARSOLVE_CACHE_DIR", str(tmp_path / "pip-cache"))
    resolution = solve(build_problem(scenario=_scenario(write_scenario), provider_policy=_policy(find_links)), "backtrack")
    assert resolution.packages["pkg"].variant == "safe" and resolution.violations == ()


# -- not allowed: no trace -----------------------------------------------------------------------
def test_plugin_not_allowed_leaves_no_trace(write_scenario, find_links, tmp_path) -> None:
    scenario = _scenario(write_scenario)
    cache = tmp_path / "untouched-cache"
    proc = _run("resolve", "--scenario", str(scenario), "--format", "json", env=_installer_env(find_links, cache, tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # Nothing in "demo" counts as supported: the non-variant wheel is chosen.
    assert json.loads(proc.stdout)["packages"]["pkg"]["variant"] == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "skipped variant provider 'demo' (plugin demo-provider)" in lines[0]
    assert "--allow-provider demo-provider" in lines[0] and "allow-providers" in lines[0]
    assert "--detect" not in lines[0]  # varsolve has no detector of its own for "demo"
    assert not (tmp_path / "imported.txt").exists()  # never imported
    assert not cache.exists()  # never installed


def test_plugin_not_allowed_through_the_api(write_scenario, find_links, tmp_path, caplog) -> None:
    policy = ProviderPolicy(allow=frozenset({"some-other-provider"}), find_links=(str(find_links),), detect=True)
    resolution = solve(build_problem(scenario=_scenario(write_scenario), provider_policy=policy), "backtrack")
    assert resolution.packages["pkg"].variant == "" and resolution.violations == ()
    assert sum("skipped variant provider 'demo'" in r.getMessage() for r in caplog.records) == 1
    assert not (tmp_path / "imported.txt").exists()
    assert not (tmp_path / "empty-cache").exists()


def test_every_requirement_must_be_allowed(write_scenario, find_links, tmp_path) -> None:
    scenario = _scenario(write_scenario, requires='"demo-provider", "helper-lib"')
    resolution = solve(build_problem(scenario=scenario, provider_policy=_policy(find_links)), "backtrack")
    assert resolution.packages["pkg"].variant == ""
    assert not (tmp_path / "imported.txt").exists() and not (tmp_path / "empty-cache").exists()


def test_requirement_for_another_platform_runs_nothing(write_scenario, find_links, tmp_path, caplog) -> None:
    scenario = _scenario(write_scenario, requires="\"demo-provider; sys_platform == 'nonexistent'\"")
    resolution = solve(build_problem(scenario=scenario, provider_policy=_policy(find_links)), "backtrack")
    assert resolution.packages["pkg"].variant == ""
    assert not caplog.records and not (tmp_path / "imported.txt").exists()


# -- broken plugins --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("api", "message"),
    [
        ("demo_provider:Crash", "get_supported_configs() failed: RuntimeError: boom: no device"),
        ("demo_provider:BadName", "returned an invalid feature name at [0]: 'Not A Feature'"),
        ("demo_provider:NotAList", "returned 42, not a list of feature configs"),
        ("demo_provider:Missing", "failed: AttributeError"),
        ("no_such_module", "failed: ModuleNotFoundError"),
    ],
)
def test_broken_plugin_is_a_one_line_error(write_scenario, find_links, shared_cache, tmp_path, api, message) -> None:
    scenario = _scenario(write_scenario, api=api)
    env = _installer_env(find_links, shared_cache, tmp_path)
    proc = _run("resolve", "--scenario", str(scenario), "--allow-provider", "demo-provider", env=env, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("varsolve: error: variant provider 'demo' (plugin demo-provider): ")
    assert message in proc.stderr


def test_hanging_plugin_times_out_and_is_killed(write_scenario, find_links, shared_cache, tmp_path) -> None:
    scenario = _scenario(write_scenario, api="demo_provider:Hang")
    env = _installer_env(find_links, shared_cache, tmp_path)
    env["DEMO_PROVIDER_PID"] = str(tmp_path / "pid")
    started = time.monotonic()
    proc = _run(
        "resolve", "--scenario", str(scenario), "--allow-provider", "demo-provider", "--plugin-timeout", "1.5",
        env=env, cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "variant provider 'demo' (plugin demo-provider): get_supported_configs() did not answer within 1.5 s" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert time.monotonic() - started < 60
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the plugin process is gone, not left running


def test_uninstallable_plugin_is_a_one_line_error(write_scenario, find_links, tmp_path) -> None:
    scenario = _scenario(write_scenario, requires='"missing-provider"')
    policy = ProviderPolicy(allow=frozenset({"missing-provider"}), find_links=(str(find_links),))
    with pytest.raises(ProviderError, match=r"variant provider 'demo' \(plugin missing-provider\): cannot be installed with (uv|pip): "):
        solve(build_problem(scenario=scenario, provider_policy=policy), "backtrack")
    plugins_dir = tmp_path / "empty-cache" / "plugins"
    assert [p.name for p in plugins_dir.iterdir()] == []  # the half-built environment is gone


# -- units -----------------------------------------------------------------------------------------
def test_plugin_spec_defaults_and_validation() -> None:
    spec = plugin_spec("x86_64", Provider(requires=("provider-variant-x86-64>=0.1", "archspec; python_version < '2'")))
    assert spec == PluginSpec("x86_64", ("provider-variant-x86-64>=0.1",), ("provider-variant-x86-64",), "provider_variant_x86_64")
    spec = plugin_spec("nvidia", Provider(requires=("nvidia-variant-provider",), plugin_api="nvidia_variant_provider.plugin : NvidiaVariantPlugin"))
    assert spec.plugin_api == "nvidia_variant_provider.plugin:NvidiaVariantPlugin"
    assert plugin_spec("x", Provider(requires=("a; sys_platform == 'nonexistent'",))) is None
    with pytest.raises(ProviderError, match="invalid plugin-api"):
        plugin_spec("x", Provider(requires=("a",), plugin_api="a:b:c"))
    with pytest.raises(ProviderError, match="invalid requirement"):
        plugin_spec("x", Provider(requires=("not a requirement!",)))


def test_builtin_detector_stands_in_for_the_published_plugin(tmp_path, caplog) -> None:
    """PEP 850 step 4: with --detect, metadata naming provider-variant-x86-64 runs no plugin."""
    metadata = VariantMetadata(
        SCHEMA_850, ("x86_64",), {"x86_64_v1": {"x86_64": {"level": ("v1",)}}},
        {"x86_64": Provider(requires=("provider-variant-x86-64",), plugin_api="provider_variant_x86_64.plugin:X8664Plugin")},
    )
    detected = supported_for_release(metadata, Target(provider_policy=ProviderPolicy(detect=True)))
    from varsolve.providers.detect import x86_64

    if x86_64.is_host():
        assert detected["x86_64"]["level"][-1] == "v1"
    assert not (tmp_path / "empty-cache").exists() and not caplog.records
    # Without --detect the plugin is third-party code like any other: skipped unless allowed.
    assert supported_for_release(metadata, Target()) == {"x86_64": {}}
    assert "--allow-provider provider-variant-x86-64" in caplog.records[0].getMessage()
    assert "or use --detect" in caplog.records[0].getMessage()
    # A different plugin claiming the namespace is not the published one: detection does not apply.
    other = VariantMetadata(SCHEMA_850, ("x86_64",), metadata.variants, {"x86_64": Provider(requires=("evil-x86",))})
    assert supported_for_release(other, Target(provider_policy=ProviderPolicy(detect=True))) == {"x86_64": {}}


def test_scenario_static_properties_are_used_as_they_are(write_scenario) -> None:
    text = SCENARIO.replace(
        'requires = ["demo-provider>=1.0"]\nplugin-api = "{api}"', 'static-properties = { flavour = ["turbo", "fast"] }'
    )
    resolution = solve(build_problem(scenario=write_scenario(text)), "backtrack")
    assert resolution.packages["pkg"].variant == "turbo" and resolution.violations == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[tool.varsolve\n", "malformed TOML"),
        ('[tool.varsolve]\nallow-providers = "demo-provider"\n', "must be a list"),
        ('[tool.varsolve]\nallow-providers = ["demo provider"]\n', "invalid distribution name"),
    ],
)
def test_bad_pyproject_allow_list(write_scenario, tmp_path, content, message) -> None:
    (tmp_path / "pyproject.toml").write_text(content)
    with pytest.raises(VarsolveError, match=message):
        allow_list_from_pyproject(tmp_path / "pyproject.toml")
    proc = run_varsolve("resolve", "--scenario", str(_scenario(write_scenario)), "--allow-project-providers", cwd=tmp_path)
    assert proc.returncode == 2 and "pyproject.toml" in proc.stderr and proc.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[packages.pkg.versions."1.0".providers.other]\nrequires = ["x"]\n', "namespace 'other' is not in namespaces"),
        ('[packages.pkg.versions."1.0".providers.demo]\nplugin-api = "x"\n', "exactly one of requires and static-properties"),
    ],
)
def test_scenario_provider_errors(write_scenario, text, message) -> None:
    base = SCENARIO.split("[packages.pkg.versions.\"1.0\".providers.demo]")[0]
    with pytest.raises(VarsolveError, match=message):
        build_problem(scenario=write_scenario(base + text))


def test_policy_from_command_line_options(tmp_path) -> None:
    import argparse

    from varsolve.cli import build_parser
    from varsolve.commands.options import apply_policy_arguments, provider_policy_from_args

    (tmp_path / "pyproject.toml").write_text('[tool.varsolve]\nallow-providers = ["From_Pyproject"]\n')
    args = build_parser().parse_args(["resolve", "--detect", "--allow-provider", "Demo.Provider", "--plugin-timeout", "5"])
    policy = provider_policy_from_args(args, tmp_path / "pyproject.toml")
    assert policy == ProviderPolicy(detect=True, allow=frozenset({"demo-provider"}), timeout=5.0)
    project_args = build_parser().parse_args(["resolve", "--allow-provider", "Demo.Provider", "--allow-project-providers"])
    policy = provider_policy_from_args(project_args, tmp_path / "pyproject.toml")
    assert policy.allow == frozenset({"demo-provider", "from-pyproject"})
    # Index options of commands that have them are where plugins come from too.
    lock_like = argparse.Namespace(find_links="wheels", index_url=["https://a.example/simple", "https://b.example/simple"])
    policy = provider_policy_from_args(lock_like, tmp_path / "missing.toml")
    assert policy.find_links == ("wheels",) and policy.index_url == "https://a.example/simple"
    assert policy.extra_index_urls == ("https://b.example/simple",) and not policy.detect
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(VarsolveError, match="--plugin-timeout"):
            provider_policy_from_args(argparse.Namespace(plugin_timeout=bad), tmp_path / "missing.toml")
    # Every command that applies the shared problem flags (resolve, lock) gets the policy.
    problem = build_problem(scenario=Path(__file__).resolve().parent.parent / "scenarios/variants/x86-64-level-too-new.toml")
    assert apply_policy_arguments(problem, args).target.provider_policy.detect is True
