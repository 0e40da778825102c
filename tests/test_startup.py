"""Fixed costs of a run (issue #15, item 5; docs/benchmarks.md, "CLI start-up"): a scenario whose
packages come from an index is read without its ``[packages]`` tables (not even parsed), and a
small resolve imports only what it uses."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from conftest import REPO
from varsolve.cli import main
from varsolve.index.builder import build_index
from varsolve.index.server import IndexServer
from varsolve.sources.scenario import load_scenario, load_scenario_text, without_packages_tables

BUNDLED = sorted((REPO / "scenarios").rglob("*.toml"))


# -- a scenario's header without its packages ------------------------------------------------------


@pytest.mark.parametrize("path", BUNDLED, ids=[str(p.relative_to(REPO / "scenarios")) for p in BUNDLED])
def test_a_scenario_read_without_packages_has_the_same_header(path: Path) -> None:
    full = load_scenario(path)
    header = load_scenario(path, packages=False)
    assert header.problem.repository.names() == []
    for field in ("name", "description", "expected", "universal", "requires_python", "environments", "targets"):
        assert getattr(header, field) == getattr(full, field), field
    assert (header.problem.target, header.problem.requirements, header.problem.options) == (
        full.problem.target, full.problem.requirements, full.problem.options,
    )
    text = path.read_text()
    short = without_packages_tables(text)
    assert short is not None and len(short) < len(text)  # every bundled scenario is cut, not parsed
    expected = {k: v for k, v in tomllib.loads(text).items() if k != "packages"}
    assert tomllib.loads(short) == expected


HEAD = 'name = "cut"\n[root]\nrequires = ["a"]\n[resolver_options]\nunify = ["blas_lapack :: library"]\n'


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        # A header-like line in a multi-line string after the first packages table: not cut.
        (HEAD + '[packages.a.versions."1.0"]\ndescription = """\n[resolver_options]\nunify = []\n"""\n', False),
        (HEAD + "[packages.a.versions.\"1.0\"]\ndescription = '''\n[root]\n'''\n", False),
        # ... or in one before it that hides a packages header: not cut.
        ('description = """\n[packages.x]\n"""\n' + HEAD, False),
        # A header-like element of a multi-line array: the cut text is not TOML, the whole is parsed.
        (HEAD + '[packages.a.versions."1.0"]\nrequires = [\n["x"]\n, "y"]\n[expected]\nsatisfiable = true\n', True),
        (HEAD + '[packages.a.versions."1.0"]\nwheel_tags = [\n[1]\n]\n', True),
        # Quoted and spaced headers, comments, CRLF line ends.
        (HEAD + '[ "packages" . a . versions . "1.0" ] # a comment\nrequires_python = ""\n', True),
        (HEAD.replace("\n", "\r\n") + '[packages.a.versions."1.0"]\r\nrequires_python = ""\r\n', True),
        # Packages as dotted keys or inline tables at the top: nothing to cut.
        ('packages.a.versions."1.0".requires_python = ""\n' + HEAD, False),
    ],
)
def test_cutting_packages_is_safe_or_not_done(tmp_path: Path, text: str, cut: bool) -> None:
    assert (without_packages_tables(text) is not None) == cut
    path = tmp_path / "s.toml"
    try:
        full = load_scenario_text(text, path)
    except Exception as exc:  # noqa: BLE001  (a scenario the full read rejects: judged by its header alone)
        assert "packages" in str(exc)
        full = None
    header = load_scenario_text(text, path, packages=False)
    assert header.problem.requirements == ("a",) and len(header.problem.options.unify) == 1
    if full is not None:
        assert header.problem.options == full.problem.options and header.expected == full.expected


def test_resolve_with_a_scenario_and_an_index_reads_only_its_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import varsolve.commands.options as options
    from varsolve.sources import scenario as scenario_module

    scenario = REPO / "scenarios" / "variants" / "blas-unify.toml"
    build_index(scenario, tmp_path / "index")
    calls: list[bool] = []
    load = scenario_module.load_scenario

    def spy(*args: object, packages: bool = True, **kwargs: object):  # type: ignore[no-untyped-def]
        calls.append(packages)
        return load(*args, packages=packages, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scenario_module, "load_scenario", spy)
    monkeypatch.setattr(options, "check_universal_arguments", lambda args: None)  # its own read: see below
    with IndexServer(tmp_path / "index") as server:
        capsys.readouterr()
        assert main(["-q", "resolve", "--scenario", str(scenario), "--index-url", server.index_url, "--no-cache"]) == 0
        with_index = capsys.readouterr().out
    assert calls == [False]
    assert main(["-q", "resolve", "--scenario", str(scenario)]) == 0
    assert capsys.readouterr().out == with_index


def test_resolve_with_a_scenario_and_an_index_reads_no_packages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = REPO / "scenarios" / "variants" / "blas-unify.toml"
    build_index(scenario, tmp_path / "index")
    # The same header with a [packages] table that would not load: never read, with an index.
    broken = tmp_path / "broken.toml"
    broken.write_text(scenario.read_text() + '\n[packages.zzz.versions."not a version"]\nrequires = ["::"]\n')
    with pytest.raises(Exception, match="invalid version"):
        load_scenario(broken)
    outputs = []
    with IndexServer(tmp_path / "index") as server:
        for path in (scenario, broken):
            capsys.readouterr()
            assert main(["-q", "resolve", "--scenario", str(path), "--index-url", server.index_url, "--no-cache"]) == 0
            outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and "numpy  2.3.0 [openblas]" in outputs[0]


# -- the process's end -------------------------------------------------------------------------------


def test_main_called_in_process_leaves_the_collector_alone(capsys: pytest.CaptureFixture[str]) -> None:
    """The command line freezes what it built before the interpreter exits (the exit's
    collections skip it); a caller that runs ``main(argv)`` in its own process keeps collecting."""
    import gc

    frozen = gc.get_freeze_count()
    assert main(["resolve", "--scenario", str(REPO / "scenarios" / "variants" / "blas-unify.toml")]) == 0
    assert gc.get_freeze_count() == frozen
    assert "numpy  2.3.0 [openblas]" in capsys.readouterr().out


def test_the_command_line_freezes_before_it_exits() -> None:
    import subprocess
    import sys

    code = (
        "import gc, sys; from varsolve.cli import main; sys.argv = ['varsolve', 'resolve', '--scenario', sys.argv[1]]; "
        "code = main(); print(code, gc.get_freeze_count() > 0)"
    )
    scenario = str(REPO / "scenarios" / "variants" / "blas-unify-unsatisfiable.toml")
    out = subprocess.run([sys.executable, "-c", code, scenario], capture_output=True, text=True, timeout=120).stdout
    assert out.splitlines()[-1] == "1 True"  # no solution: exit code 1, kept
