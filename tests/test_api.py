"""The library API: what ``import varsolve`` exposes, that type checkers see it, that results are
frozen data with a graph and a JSON form, and that docs/api.md runs as written."""

from __future__ import annotations

import ast
import dataclasses
import doctest
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import varsolve
from varsolve.resolution import Resolution
from varsolve.strategies import available

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "varsolve"
SCENARIOS = sorted((ROOT / "scenarios").rglob("*.toml"))


def test_every_public_name_resolves_and_is_typed_for_checkers() -> None:
    tree = ast.parse((SRC / "__init__.py").read_text())
    checked: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom)
                for alias in imp.names:
                    checked.add(alias.name)
                    assert varsolve._LAZY[alias.name] == f"varsolve{'.' if imp.module else ''}{imp.module or ''}"
    assert checked == set(varsolve._LAZY)
    assert set(varsolve.__all__) == checked | {"__version__"}
    for name in varsolve.__all__:
        assert getattr(varsolve, name) is not None, name
    with pytest.raises(AttributeError):
        varsolve.no_such_name  # noqa: B018


def test_no_submodule_shadows_a_public_name() -> None:
    """Importing ``varsolve.X`` binds ``varsolve.X`` to the module: a public function named like a
    submodule would turn into that module once anything imports it."""
    import pkgutil

    submodules = {m.name for m in pkgutil.iter_modules(varsolve.__path__)}
    assert submodules & set(varsolve.__all__) == set()
    for module in sorted(submodules):
        __import__(f"varsolve.{module}")
    assert all(callable(getattr(varsolve, name)) for name in ("resolve", "lock", "install", "check", "verify", "solve"))


@pytest.mark.skipif(shutil.which("mypy", path=str(Path(sys.executable).parent)) is None, reason="mypy not installed")
def test_type_checkers_see_the_api(tmp_path: Path) -> None:
    program = tmp_path / "use.py"
    program.write_text(
        "import varsolve\n"
        "reveal_type(varsolve.resolve)\n"
        "r = varsolve.resolve(['a'], scenario='x.toml', strategy='sat')\n"
        "reveal_type(r.packages)\n"
        "varsolve.resolve(['a'], strategy='no-such-strategy')\n"
    )
    mypy = Path(sys.executable).parent / "mypy"
    proc = subprocess.run(
        [str(mypy), "--strict", "--no-incremental", str(program)], capture_output=True, text=True, cwd=tmp_path
    )
    out = proc.stdout
    first = out.splitlines()[0]
    assert 'Revealed type is "def (requirements: typing.Sequence[str] | None =, *, strategy: Literal[' in first, out
    assert "-> varsolve.resolution.Resolution" in first and "Any" not in first, out
    assert 'Revealed type is "typing.Mapping[str, varsolve.resolution.Pin]"' in out, out
    # A mistyped strategy name is a type error, not only a run-time one.
    assert 'Argument "strategy" to "resolve" has incompatible type' in out, out


def test_docs_api_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert tried > 20 and failures == 0


def test_package_docstring_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testmod(varsolve)
    assert tried >= 2 and failures == 0


@pytest.mark.parametrize("strategy", available())
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_resolutions_are_frozen_and_survive_json(path: Path, strategy: str) -> None:
    resolution = varsolve.resolve(scenario=path, strategy=strategy)
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolution.satisfiable = not resolution.satisfiable  # type: ignore[misc]
    again = Resolution.from_json(resolution.to_json())
    assert again == resolution
    assert again.to_json() == resolution.to_json()
    if not resolution.satisfiable:
        assert resolution.explanation is not None and resolution.explanation.steps
        assert resolution.explanation.text == "\n".join(step.text for step in resolution.explanation.steps)
        return
    # The graph covers exactly the pins: every pin is required by the root or another pin, and
    # every edge joins pins.
    pinned = set(resolution.packages)
    assert {edge.child for edge in resolution.graph} == pinned
    assert {edge.parent for edge in resolution.graph} - {None} <= pinned
    roots = {edge.child for edge in resolution.dependencies(None)}
    assert roots and roots <= pinned
    assert list(resolution.graph) == sorted(
        resolution.graph, key=lambda e: (e.parent is not None, e.parent or "", e.child, e.requirement)
    )


def test_graph_carries_specifier_extras_and_marker(write_scenario) -> None:
    path = write_scenario(
        """
        [root]
        requires = ["a[x]"]
        [packages.a.versions."1.0.0"]
        requires = ["c ; python_version >= '3'"]
        [packages.a.versions."1.0.0".extras]
        x = ["b>=1"]
        [packages.b.versions."1.0.0"]
        [packages.b.versions."2.0.0"]
        [packages.c.versions."1.0.0"]
        """
    )
    for strategy in available():
        resolution = varsolve.resolve(scenario=path, strategy=strategy)
        assert resolution.violations == ()
        edges = {(e.parent, e.child): e for e in resolution.graph}
        assert edges[None, "a"].extras == ("x",)
        assert edges["a", "b"].specifier == ">=1" and edges["a", "b"].marker == 'extra == "x"'
        assert edges["a", "c"].marker == "python_version >= '3'"


def test_strategy_objects_and_the_verify_switch() -> None:
    scenario = ROOT / "scenarios" / "variants" / "blas-unify.toml"

    class Recording:
        name, complete = "recording", True
        problems: list[varsolve.Problem] = []

        def solve(self, problem: varsolve.Problem) -> Resolution:
            self.problems.append(problem)
            return varsolve.StatusQuo().solve(problem)

    recording = Recording()
    checked = varsolve.resolve(scenario=scenario, strategy=recording)
    unchecked = varsolve.resolve(scenario=scenario, strategy=recording, verify=False)
    assert len(recording.problems) == 2
    assert [v.kind for v in checked.violations] == ["unify"] and not checked.consistent
    assert unchecked.violations == () and unchecked.consistent
    assert checked.packages == unchecked.packages


def test_build_problem_keeps_the_provider_policy_when_python_changes() -> None:
    policy = varsolve.ProviderPolicy(detect=True)
    problem = varsolve.build_problem(
        scenario=ROOT / "scenarios" / "variants" / "blas-unify.toml",
        target=varsolve.Target(provider_policy=policy),
        python="3.12",
    )
    assert problem.target.provider_policy is policy
    assert str(problem.target.python) == "3.12.0"


def test_bad_json_is_a_clear_error() -> None:
    good = varsolve.resolve(scenario=ROOT / "scenarios" / "variants" / "blas-unify.toml", strategy="pep825")
    data = good.to_dict()
    data["violations"][0]["kind"] = "nonsense"
    with pytest.raises(ValueError, match="unknown violation kind 'nonsense'"):
        Resolution.from_dict(data)


def test_exit_codes_follow_the_verifier() -> None:
    from varsolve.cli import EXIT_INCONSISTENT, EXIT_NO_SOLUTION, EXIT_OK, exit_code
    from varsolve.resolution import Violation

    ok = Resolution("x", satisfiable=True)
    assert exit_code(ok) == EXIT_OK
    assert exit_code(ok.with_violations([Violation("unify", "unify f :: g: no common value")])) == EXIT_INCONSISTENT
    # A resolution the verifier rejects is a failed check, whatever else it has.
    broken = ok.with_violations([Violation("unify", "u"), Violation("requirement", "the root requires a but ...")])
    assert exit_code(broken) == EXIT_NO_SOLUTION
    assert exit_code(Resolution("x", satisfiable=False)) == EXIT_NO_SOLUTION


def test_lock_reports_each_targets_resolution(tmp_path: Path) -> None:
    from varsolve.index.builder import build_index

    scenario = ROOT / "scenarios" / "variants" / "blas-unify.toml"
    build_index(scenario, tmp_path / "index")
    sources = varsolve.SourceSettings(find_links=[tmp_path / "index" / "files"], no_cache=True)
    quo = varsolve.lock(scenario=scenario, sources=sources, strategy="pep825", output=tmp_path / "pylock.toml")
    assert quo.paths == (tmp_path / "pylock.toml",) and quo.paths[0].is_file()
    assert set(quo.resolutions) == {"default"} and not quo.consistent
    complete = varsolve.lock(scenario=scenario, sources=sources, strategy="sat", output=tmp_path / "pylock.sat.toml")
    assert complete.consistent and complete.resolutions["default"].violations == ()


@pytest.mark.parametrize("universal", [False, True])
def test_the_api_tells_the_source_what_it_will_ask_as_the_cli_does(universal: bool) -> None:
    # An index prefetches pages and likely metadata only once it knows the target and the
    # root's names; a library user calling varsolve.resolve gets the same head start as the CLI.
    from varsolve.sources.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "variants" / "blas-unify.toml")
    calls: list[str] = []

    class Spy:
        def __init__(self, base: object) -> None:
            self.base = base

        def __getattr__(self, name: str) -> object:
            return getattr(self.base, name)

        def hint_target(self, target: object) -> None:
            calls.append("hint_target")

        def prefetch(self, names: object) -> None:
            calls.append(f"prefetch {sorted(names)}")  # type: ignore[call-overload]

    spy = Spy(scenario.problem.repository)
    roots = [str(r) for r in scenario.problem.requirements]
    if universal:
        result = varsolve.resolve_universal(
            roots, repository=spy, target=scenario.problem.target, requires_python=">=3.12"  # type: ignore[arg-type]
        )
    else:
        result = varsolve.resolve(roots, repository=spy, target=scenario.problem.target)  # type: ignore[arg-type]
    assert result.satisfiable
    assert calls[:2] == ["hint_target", f"prefetch {sorted(scenario.problem.root_names())}"]
