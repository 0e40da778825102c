"""The ``varsolve`` command line, run as a real subprocess (the venv's console script)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from conftest import REPO, SCENARIOS, run_varsolve

BLAS = str(SCENARIOS / "variants" / "blas-unify.toml")
BLAS_UNSAT = str(SCENARIOS / "variants" / "blas-unify-unsatisfiable.toml")

JSON_KEYS = {"satisfiable", "strategy", "consistent", "violations", "packages", "graph", "unified", "explanation", "derivation", "stats"}


def resolve_json(*args: str) -> tuple[int, dict]:
    proc = run_varsolve("resolve", *args, "--format", "json")
    assert proc.stderr == "", proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("varsolve: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert proc.stdout == ""
    return lines[0]


# -- the README's commands ----------------------------------------------------------------------


def test_readme_scenario_check():
    proc = run_varsolve("scenario", "check", "scenarios/")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.splitlines()[-1]
    assert last.split(",")[0].endswith("passed") and " 0 failed" in last
    assert "Traceback" not in proc.stderr


def test_readme_resolve_backtrack_text():
    proc = run_varsolve("resolve", "numpy", "scipy", "--scenario", BLAS, "--strategy", "backtrack")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "numpy  2.3.0 [openblas]\n"
        "scipy  1.16.0 [openblas]\n"
        "unified: blas_lapack :: library = openblas\n"
    )


def test_readme_resolve_pep825_text_shows_the_violation():
    proc = run_varsolve("resolve", "numpy", "scipy", "--scenario", BLAS, "--strategy", "pep825")
    assert proc.returncode == 3, proc.stderr  # resolved, but inconsistent
    assert proc.stdout == (
        "mkl-runtime  2025.2.0\n"
        "numpy        2.3.0 [mkl]\n"
        "scipy        1.16.0 [openblas]\n"
        "violation: unify blas_lapack :: library: no common value "
        "(numpy [mkl] has {mkl}; scipy [openblas] has {openblas})\n"
    )


def test_readme_resolve_json_schema():
    code, out = resolve_json("--scenario", BLAS)
    assert code == 0
    assert JSON_KEYS <= set(out)
    assert out["satisfiable"] is True and out["consistent"] is True
    assert out["strategy"] == "backtrack"  # the default
    assert out["violations"] == [] and out["explanation"] is None
    assert out["packages"] == {
        "numpy": {"version": "2.3.0", "variant": "openblas", "filename": "numpy-2.3.0-py3-none-any-openblas.whl"},
        "scipy": {"version": "1.16.0", "variant": "openblas", "filename": "scipy-1.16.0-py3-none-any-openblas.whl"},
    }
    assert isinstance(out["stats"]["seconds"], float)


def test_json_variant_is_empty_for_wheels_and_null_for_sdists(write_scenario):
    path = write_scenario(
        """
        [root]
        requires = ["a", "b"]
        [packages.a.versions."1.0.0"]
        [packages.b.versions."1.0.0"]
        wheel = false
        """
    )
    code, out = resolve_json("--scenario", str(path))
    assert code == 0
    assert out["packages"]["a"] == {"version": "1.0.0", "variant": "", "filename": "a-1.0.0-py3-none-any.whl"}
    assert out["packages"]["b"] == {"version": "1.0.0", "variant": None, "filename": "b-1.0.0.tar.gz"}


def test_json_for_pep825_is_inconsistent():
    code, out = resolve_json("--scenario", BLAS, "--strategy", "pep825")
    assert code == 3
    assert out["satisfiable"] is True and out["consistent"] is False and out["strategy"] == "pep825"
    assert len(out["violations"]) == 1 and out["violations"][0]["message"].startswith("unify blas_lapack :: library")
    assert out["packages"]["numpy"]["variant"] == "mkl"


# -- exit codes ---------------------------------------------------------------------------------


def test_unsatisfiable_exits_1_with_an_explanation():
    proc = run_varsolve("resolve", "--scenario", BLAS_UNSAT)
    assert proc.returncode == 1 and proc.stderr == ""
    assert proc.stdout.startswith("no solution:\n")
    assert "blas_lapack :: library" in proc.stdout
    code, out = resolve_json("--scenario", BLAS_UNSAT)
    assert code == 1
    assert out["satisfiable"] is False and out["packages"] == {}
    assert "numpy" in out["explanation"] and "scipy" in out["explanation"]


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["resolve", "a >>= 1", "--scenario", BLAS], ["invalid requirement 'a >>= 1'"]),
        (["resolve", "--scenario", "nope.toml"], ["nope.toml", "cannot read scenario"]),
        (["resolve", "numpy"], ["no package source"]),
        (["resolve", "--scenario", BLAS, "--strategy", "nope"], ["unknown strategy 'nope'"]),
        (["resolve", "--scenario", BLAS, "--unify", "blas"], ["invalid variant feature 'blas'"]),
        (["resolve", "--scenario", BLAS, "--python", "three"], ["invalid Python version 'three'"]),
        (["resolve", "--scenario", BLAS, "-r", "missing-requirements.txt"], ["missing-requirements.txt", "cannot read requirements"]),
        (["resolve", "--scenario", BLAS, "--variants", "missing-variants.toml"], ["missing-variants.toml", "cannot read variants file"]),
        (["resolve", "--bogus"], ["unrecognized arguments: --bogus"]),
        (["resolve", "--scenario", BLAS, "--format", "xml"], ["invalid choice: 'xml'"]),
        (["scenario", "check", "no-such-dir/"], ["no-such-dir", "no such file or directory"]),
        (["scenario", "check", "scenarios/", "--strategy", "nope"], ["unknown strategy 'nope'"]),
    ],
)
def test_bad_input_exits_2_with_one_line(args, fragments):
    assert_one_line_error(run_varsolve(*args), *fragments)


def test_bad_scenario_file_exits_2_naming_file_and_key(write_scenario):
    bad = write_scenario(
        """
        [root]
        requires = ["numpy"]
        [packages.numpy.versions."2.3.0".variants]
        MKL = ["blas_lapack :: library :: mkl"]
        """
    )
    line = assert_one_line_error(run_varsolve("resolve", "--scenario", str(bad)))
    assert line == f'varsolve: error: {bad}: packages.numpy.versions."2.3.0".variants.MKL: invalid variant label \'MKL\' (must match ^[0-9a-z_.]+$)'
    # scenario check stops on bad input too (exit 2, not a failed check)
    assert_one_line_error(run_varsolve("scenario", "check", str(bad)), str(bad), "variants.MKL")
    malformed = write_scenario("[root\n", "malformed.toml")
    assert_one_line_error(run_varsolve("resolve", "--scenario", str(malformed)), str(malformed), "malformed TOML")


def test_bad_variants_file_exits_2(tmp_path):
    bad = tmp_path / "variants.toml"
    bad.write_text('[[provider]]\nnamespace = "blas_lapack"\n[provider.properties]\nlibrary = ["MKL"]\n')
    assert_one_line_error(run_varsolve("resolve", "--scenario", BLAS, "--variants", str(bad)), str(bad), "provider[0].properties.library")


# -- options ------------------------------------------------------------------------------------


def test_requirements_on_the_command_line_replace_the_root():
    code, out = resolve_json("numpy", "--scenario", BLAS)
    assert code == 0
    # alone, numpy takes its best variant (MKL) and pulls in mkl-runtime; scipy is not asked for
    assert {n: p["variant"] for n, p in out["packages"].items()} == {"numpy": "mkl", "mkl-runtime": ""}


def test_requirement_files(tmp_path):
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("# the two BLAS users\nnumpy  # first\n\nscipy>=1\n")
    code, out = resolve_json("-r", str(reqs), "--scenario", BLAS)
    assert code == 0 and set(out["packages"]) == {"numpy", "scipy"}
    code, out = resolve_json("numpy", "-r", str(reqs), "--scenario", BLAS, "--strategy", "pep825")
    assert code == 3 and set(out["packages"]) == {"numpy", "scipy", "mkl-runtime"}
    options = tmp_path / "options.txt"
    options.write_text("--no-index\n")  # the supported options: tests/test_cli_options.py
    assert_one_line_error(run_varsolve("resolve", "-r", str(options), "--scenario", BLAS), f"{options}:1: ", "--no-index")


def test_variants_static_provider_file(tmp_path):
    """uv's variant-lock layout: the target supports only OpenBLAS, so even the status quo
    chooses numpy's OpenBLAS build and needs no mkl-runtime."""
    static = tmp_path / "variants.toml"
    static.write_text(
        textwrap.dedent(
            """
            [metadata]
            created-by = "test"
            version = "0.1"

            [[provider]]
            namespace = "blas_lapack"
            plugin-api = "blas_lapack_provider:Plugin"
            resolved = ["blas-lapack-provider==1.0"]

            [provider.properties]
            library = ["openblas"]
            """
        )
    )
    code, out = resolve_json("--scenario", BLAS, "--strategy", "pep825", "--variants", str(static))
    assert code == 0 and out["consistent"] is True
    assert {n: p["variant"] for n, p in out["packages"].items()} == {"numpy": "openblas", "scipy": "openblas"}
    # an empty list: the feature is unsupported, so no variant fits
    static.write_text('[[provider]]\nnamespace = "blas_lapack"\n[provider.properties]\nlibrary = []\n')
    proc = run_varsolve("resolve", "--scenario", BLAS, "--variants", str(static))
    assert proc.returncode == 1


def test_unify_option(write_scenario):
    path = write_scenario(
        """
        [root]
        requires = ["numpy", "scipy"]
        [environment.variants]
        "blas_lapack :: library" = ["mkl", "openblas"]
        [packages.numpy.versions."2.3.0"]
        wheel = false
        sdist = false
        [packages.numpy.versions."2.3.0".variants]
        mkl = ["blas_lapack :: library :: mkl"]
        openblas = ["blas_lapack :: library :: openblas"]
        [packages.scipy.versions."1.16.0"]
        wheel = false
        sdist = false
        [packages.scipy.versions."1.16.0".variants]
        openblas = ["blas_lapack :: library :: openblas"]
        """
    )
    code, out = resolve_json("--scenario", str(path))
    assert code == 0 and out["packages"]["numpy"]["variant"] == "mkl" and out["consistent"]
    code, out = resolve_json("--scenario", str(path), "--unify", "blas_lapack::library")
    assert code == 0 and out["packages"]["numpy"]["variant"] == "openblas" and out["consistent"]
    code, out = resolve_json("--scenario", str(path), "--unify", "blas_lapack :: library", "--strategy", "pep825")
    assert code == 3 and out["consistent"] is False


def test_python_option(write_scenario):
    path = write_scenario(
        """
        [root]
        requires = ["a"]
        [packages.a.versions."2.0.0"]
        requires_python = ">=3.13"
        [packages.a.versions."1.0.0"]
        """
    )
    assert resolve_json("--scenario", str(path))[1]["packages"]["a"]["version"] == "1.0.0"
    assert resolve_json("--scenario", str(path), "--python", "3.13")[1]["packages"]["a"]["version"] == "2.0.0"


# -- scenario check -----------------------------------------------------------------------------


def test_scenario_check_summary_and_failures(write_scenario):
    failing = write_scenario(
        """
        [root]
        requires = ["a"]
        [packages.a.versions."1.0.0"]
        [expected]
        satisfiable = false
        """,
        "failing.toml",
    )
    proc = run_varsolve("scenario", "check", str(failing), "--strategy", "backtrack")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [f"FAIL {failing} [backtrack]", "     expected unsatisfiable, got satisfiable", "0 passed, 1 failed"]
    proc = run_varsolve("scenario", "check", BLAS, "--strategy", "pep825", "--strategy", "backtrack", "-v")
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == [f"PASS {BLAS} [pep825]", f"PASS {BLAS} [backtrack]", "2 passed, 0 failed"]


def test_scenario_check_json(write_scenario):
    proc = run_varsolve("scenario", "check", BLAS, "--strategy", "backtrack", "--format", "json")
    assert proc.returncode == 0
    out = json.loads(proc.stdout)
    assert (out["passed"], out["failed"]) == (1, 0)
    (result,) = out["results"]
    assert result["status"] == "pass" and result["strategy"] == "backtrack"
    assert result["resolution"]["packages"]["numpy"]["variant"] == "openblas"


# -- determinism and start-up -------------------------------------------------------------------


def _without_seconds(text: str) -> dict:
    data = json.loads(text)
    data["stats"].pop("seconds")
    return data


@pytest.mark.parametrize("strategy", ["pep825", "backtrack"])
def test_same_command_same_output(strategy):
    args = ("resolve", "--scenario", str(SCENARIOS / "variants" / "mpi-shared-by-three.toml"), "--strategy", strategy)
    first, second = run_varsolve(*args, "--format", "json"), run_varsolve(*args, "--format", "json")
    assert first.returncode == second.returncode == (3 if strategy == "pep825" else 0)  # pep825 mixes MPIs
    assert _without_seconds(first.stdout) == _without_seconds(second.stdout)
    strip = [line for line in first.stdout.splitlines() if '"seconds"' not in line]
    assert strip == [line for line in second.stdout.splitlines() if '"seconds"' not in line]
    assert run_varsolve(*args).stdout == run_varsolve(*args).stdout


def test_scenario_check_is_deterministic():
    a = run_varsolve("scenario", "check", "scenarios/", "--strategy", "backtrack", "--strategy", "pep825", "-v")
    b = run_varsolve("scenario", "check", "scenarios/", "--strategy", "backtrack", "--strategy", "pep825", "-v")
    assert a.stdout == b.stdout and a.returncode == b.returncode == 0


HEAVY = ("resolvelib", "httpx", "pysat", "networkx")


def _imported_modules(code: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, cwd=REPO)
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "varsolve.cli" in names, proc.stderr[-2000:]
    return names


@pytest.mark.parametrize(
    "code",
    [
        "import varsolve.cli",
        "import contextlib, varsolve.cli as c\nwith contextlib.suppress(SystemExit): c.main(['--help'])",
        "import contextlib, varsolve.cli as c\nwith contextlib.suppress(SystemExit): c.main(['resolve', '--help'])",
    ],
)
def test_cli_start_up_imports_no_heavy_module(code):
    imported = _imported_modules(code)
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == []
