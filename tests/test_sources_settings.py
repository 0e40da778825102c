"""The one source builder (SourceSettings + open_repository) under every command, the one cache
root, the Repository lifecycle, the Reporter, and the layering of varsolve.sources.

Indexes are real: built from small scenarios and served by the project's server on loopback.
"""

from __future__ import annotations

import ast
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from conftest import varsolve_command
from index_helpers import clean_env, tiny_scenario
from varsolve.errors import SourceError
from varsolve.index.builder import build_index
from varsolve.index.server import IndexServer
from varsolve.reporter import Reporter
from varsolve.repository import RepositoryBase
from varsolve.sources import INDEX_URL_VARIABLES, SourceSettings, index_url_from_environment, open_repository
from varsolve.sources.cache import default_cache_dir

SRC = Path(__file__).resolve().parent.parent / "src" / "varsolve"

MAIN = tiny_scenario("main-index")

EXTRA = """
name = "extra-index"
[root]
requires = ["helper"]
[packages.helper.versions."2.0.0"]
requires_python = ""
requires = ["tinyutil>=1"]
"""


def _index(tmp: Path, name: str, text: str) -> Path:
    scenario = tmp / f"{name}.toml"
    scenario.write_text(text)
    build_index(scenario, tmp / name)
    return tmp / name


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("settings-indexes")
    return {"main": _index(tmp, "main", MAIN), "extra": _index(tmp, "extra", EXTRA)}


@pytest.fixture(scope="module")
def servers(indexes: dict[str, Path]) -> Iterator[dict[str, str]]:
    with IndexServer(indexes["main"]) as main, IndexServer(indexes["extra"]) as extra:
        yield {"main": main.index_url, "extra": extra.index_url, "main_root": main.url}


def _varsolve(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*varsolve_command(), *args], capture_output=True, text=True, cwd=cwd, env=clean_env(**env), timeout=120
    )


# -- SourceSettings and open_repository --------------------------------------------------------


def test_no_source_named_gives_none() -> None:
    assert open_repository(SourceSettings()) is None
    settings = SourceSettings(index_urls=["https://a.example/simple/"], find_links=["wheels"])  # type: ignore[arg-type]
    assert settings.index_urls == ("https://a.example/simple/",) and settings.find_links == ("wheels",)
    assert settings.names_a_source and hash(settings)  # frozen and hashable


def test_index_url_from_environment_first_set_wins() -> None:
    assert INDEX_URL_VARIABLES == ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL")
    assert index_url_from_environment({}) is None
    assert index_url_from_environment({"UV_INDEX_URL": "u", "UV_DEFAULT_INDEX": " d "}) == "d"
    assert index_url_from_environment({"PIP_INDEX_URL": "  ", "UV_INDEX_URL": "u"}) == "u"


def test_index_then_find_links_first_lister_wins(servers: dict[str, str], indexes: dict[str, Path]) -> None:
    settings = SourceSettings(index_urls=(servers["extra"],), find_links=(indexes["main"] / "files",), no_cache=True)
    with open_repository(settings) as repo:
        assert [str(r.version) for r in repo.releases("helper")] == ["2.0.0"]
        assert [str(r.version) for r in repo.releases("tinyutil")] == ["1.1.0", "1.0.0"]  # from the folder
        assert repo.releases("absent") == []  # the index answers 404 for the page, 200 for itself
        assert repo.counters["pages"] == 3 and repo.counters["requests"] >= 3


class _Recorder(Reporter):
    def __init__(self) -> None:
        self.updates: list[dict[str, int]] = []
        self.done = 0

    def fetch_progress(self, counters: Mapping[str, int]) -> None:
        self.updates.append(dict(counters))

    def fetch_done(self) -> None:
        self.done += 1


def test_reporter_hears_counters_and_the_end(servers: dict[str, str]) -> None:
    recorder = _Recorder()
    repo = open_repository(SourceSettings(index_urls=(servers["main"],), no_cache=True, reporter=recorder))
    assert repo is not None
    with repo:
        repo.releases("tinyutil")
    assert recorder.updates and recorder.updates[-1]["pages"] == 1 and recorder.updates[-1]["in_flight"] == 0
    assert any(u["in_flight"] == 1 for u in recorder.updates)
    repo.close()  # closing twice reports once
    assert recorder.done == 1
    Reporter().fetch_progress({})  # the base class ignores every event
    Reporter().task_done("x")


# -- a mistyped index URL ----------------------------------------------------------------------


def test_mistyped_index_url_names_the_index(servers: dict[str, str], tmp_path: Path) -> None:
    wrong = servers["main_root"] + "simpel/"
    with open_repository(SourceSettings(index_urls=(wrong,), no_cache=True, retries=0)) as repo:
        with pytest.raises(SourceError, match=r"/simpel/: HTTP 404 for the index page itself: is the index URL right\?"):
            repo.releases("tinyutil")
    proc = _varsolve("resolve", "tinyutil", "--index-url", wrong, "--no-cache", cwd=tmp_path)
    assert proc.returncode == 2 and "simpel/: HTTP 404 for the index page itself" in proc.stderr
    assert "no package named" not in proc.stderr
    # The right index, a missing package: that is what the user hears.
    proc = _varsolve("resolve", "tinyutli", "--index-url", servers["main"], "--no-cache", cwd=tmp_path)
    assert proc.returncode == 1 and "no package named tinyutli" in proc.stdout + proc.stderr
    assert "index page" not in proc.stderr


def test_missing_local_index_names_the_index(tmp_path: Path) -> None:
    url = (tmp_path / "nowhere" / "simple").as_uri() + "/"
    with open_repository(SourceSettings(index_urls=(url,))) as repo:
        with pytest.raises(SourceError, match="nowhere/simple/: no such directory: is the index URL right"):
            repo.releases("tinyutil")


# -- lock: the same source options as resolve --------------------------------------------------


def _lock_packages(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    data = tomllib.loads(path.read_text())
    return {p["name"]: p["version"] for p in data["packages"]}, data["tool"]["varsolve"]["source"]


def test_lock_with_extra_index_url(servers: dict[str, str], tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    args = ["lock", "helper", "--index-url", servers["main"], "--extra-index-url", servers["extra"], "-o", str(lock)]
    proc = _varsolve(*args, "--cache-dir", str(tmp_path / "cache"), "--timeout", "10", "--retries", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    packages, source = _lock_packages(lock)
    assert packages == {"helper": "2.0.0", "tinyutil": "1.1.0"}
    assert source == {"index-url": servers["main"]}
    assert (tmp_path / "cache" / "http").is_dir()
    # Without the extra index there is no helper.
    proc = _varsolve("lock", "helper", "--index-url", servers["main"], "--no-cache", "-o", str(lock), cwd=tmp_path)
    assert proc.returncode != 0 and "helper" in proc.stderr + proc.stdout


@pytest.mark.parametrize("variable", INDEX_URL_VARIABLES)
def test_lock_honours_the_index_url_variables(variable: str, servers: dict[str, str], tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    proc = _varsolve("lock", "tinyutil<1.1", "--no-cache", "-o", str(lock), cwd=tmp_path, **{variable: servers["main"]})
    assert proc.returncode == 0, proc.stderr
    packages, source = _lock_packages(lock)
    assert packages == {"tinyutil": "1.0.0"} and source == {"index-url": servers["main"]}
    # --check re-resolves from the recorded source, whatever the environment says now.
    proc = _varsolve("lock", "--check", str(lock), "--no-cache", cwd=tmp_path, PIP_INDEX_URL=servers["extra"])
    assert proc.returncode == 0 and "up to date" in proc.stdout, proc.stderr


def test_lock_without_any_source_says_so(tmp_path: Path) -> None:
    proc = _varsolve("lock", "tinyutil", "-o", str(tmp_path / "pylock.toml"), cwd=tmp_path)
    assert proc.returncode == 2 and "no package source" in proc.stderr


# -- one cache root ------------------------------------------------------------------------------


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VARSOLVE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "varsolve"
    monkeypatch.setenv("VARSOLVE_CACHE_DIR", str(tmp_path / "own"))
    assert default_cache_dir() == tmp_path / "own"
    monkeypatch.setenv("VARSOLVE_CACHE_DIR", "")
    assert default_cache_dir() == tmp_path / "xdg" / "varsolve"


def test_http_cache_under_varsolve_cache_dir_unless_cache_dir(servers: dict[str, str], tmp_path: Path) -> None:
    own, flag = tmp_path / "own", tmp_path / "flag"
    base = ["resolve", "tinyutil", "--index-url", servers["main"]]
    proc = _varsolve(*base, cwd=tmp_path, VARSOLVE_CACHE_DIR=str(own), XDG_CACHE_HOME=str(tmp_path / "xdg"))
    assert proc.returncode == 0, proc.stderr
    assert any(p.is_file() for p in (own / "http").rglob("*")) and not (tmp_path / "xdg").exists()
    proc = _varsolve(*base, "--cache-dir", str(flag), cwd=tmp_path, VARSOLVE_CACHE_DIR=str(own / "unused"))
    assert proc.returncode == 0, proc.stderr
    assert any(p.is_file() for p in (flag / "http").rglob("*")) and not (own / "unused").exists()


def test_plugin_environments_share_the_cache_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from varsolve.providers import plugins
    from varsolve.target import ProviderPolicy

    def install(venv: Path, spec: object, policy: object) -> None:  # no real installer: only where
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").write_text("")

    monkeypatch.setattr(plugins, "_install", install)
    monkeypatch.setenv("VARSOLVE_CACHE_DIR", str(tmp_path / "root"))
    spec = plugins.PluginSpec("demo", ("demo-provider",), ("demo-provider",), "demo_provider")
    python = plugins.plugin_environment(spec, ProviderPolicy())
    assert python.is_relative_to(default_cache_dir() / "plugins") and default_cache_dir() == tmp_path / "root"


# -- the Repository lifecycle ------------------------------------------------------------------


def test_repository_base_has_no_op_lifecycle(tmp_path: Path) -> None:
    from varsolve.sources.scenario import load_scenario

    scenario = tmp_path / "s.toml"
    scenario.write_text(MAIN)
    repo = load_scenario(scenario).problem.repository
    assert isinstance(repo, RepositoryBase)
    with repo as same:
        assert same is repo
        repo.hint_target(load_scenario(scenario).problem.target)
        repo.prefetch(["tinyutil"])
        assert repo.counters == {} and list(repo.names() or []) == ["tinyutil"]
    assert RepositoryBase().names() is None


# -- layering ------------------------------------------------------------------------------------


def _imports(path: Path, package: str) -> Iterator[tuple[str, list[str]]]:
    """(module imported, names imported from it) for every import of the module at ``path`` in
    ``package``, relative ones made absolute; function-level imports count too."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [a.name for a in node.names]
            if node.module is None:  # from . import x: x is a module
                for name in names:
                    yield f"{module}.{name}", []
            else:
                yield module, names
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def test_sources_have_no_import_cycles_and_no_private_imports() -> None:
    import networkx as nx

    graph = nx.DiGraph()
    for path in sorted((SRC / "sources").glob("*.py")):
        module = f"varsolve.sources.{path.stem}"
        for imported, names in _imports(path, "varsolve.sources"):
            if imported.startswith("varsolve.sources.") and path.stem != "__init__":
                graph.add_edge(module, imported)
            private = [n for n in names if n.startswith("_") and n != "__version__"]
            assert not private, f"{module} imports private {private} from {imported}"
    assert "varsolve.sources.findlinks" in graph and "varsolve.sources.simple" in graph
    assert list(nx.simple_cycles(graph)) == []


def test_no_argparse_below_the_cli() -> None:
    below = [SRC / "reporter.py", SRC / "repository.py", SRC / "providers" / "policy.py", *(SRC / "sources").glob("*.py")]
    for path in below:
        assert "argparse" not in {module for module, _ in _imports(path, "varsolve.sources")}, path
