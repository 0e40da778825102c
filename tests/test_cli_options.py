"""Issue #10, "small things a user met": exit code 3 for inconsistent resolutions, -q/-v after
the subcommand, requirement files with options, pyproject.toml, constraints, ``resolve -o``,
``detect -o`` permissions, lock's dependencies, and the README's numbers.

Every resolution asserted on is either produced by the CLI (which runs the verifier) or checked
with :func:`varsolve.verifier.verify` here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, SCENARIOS, run_varsolve, varsolve_command
from varsolve.cli import main
from varsolve.errors import InputError
from varsolve.requirements_file import (
    PinnedRequirement,
    RequirementsFile,
    format_pinned,
    read_inputs,
    read_pyproject,
    read_requirements_file,
)

BLAS = str(SCENARIOS / "variants" / "blas-unify.toml")
VERSIONS = str(SCENARIOS / "variants" / "versions-win-over-variants.toml")
STRATEGIES = ["pep825", "backtrack", "sat"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``varsolve ARGS`` in this process: (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, *fragments: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("varsolve: error: ") and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- lock works after `pip install -e .` -----------------------------------------------------------


def test_lock_and_install_dependencies_are_core() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = " ".join(project["dependencies"])
    assert "tomli-w" in core and "installer" in core
    # The extra stays as an empty alias, so `pip install 'varsolve[lock]'` keeps working.
    assert project["optional-dependencies"].get("lock", []) == []
    for readme_text in ((REPO / "README.md").read_text(encoding="utf-8"),):
        assert "[lock]" not in readme_text


# -- exit codes ------------------------------------------------------------------------------------


def test_inconsistent_resolution_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "resolve", "--scenario", BLAS, "--strategy", "pep825", "--format", "json")
    data = json.loads(out)
    assert code == 3 and err == ""
    assert data["satisfiable"] is True and data["consistent"] is False
    assert all(str(v if isinstance(v, str) else v["message"]).startswith("unify") for v in data["violations"])
    code, out, _ = run(capsys, "resolve", "--scenario", BLAS, "--strategy", "pep825")
    assert code == 3 and "violation: unify blas_lapack :: library" in out
    for strategy in ("backtrack", "sat"):
        code, out, _ = run(capsys, "resolve", "--scenario", BLAS, "--strategy", strategy, "--format", "json")
        assert code == 0 and json.loads(out)["consistent"] is True


def test_a_consistent_pep825_resolution_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "resolve", "--scenario", VERSIONS, "--strategy", "pep825", "--format", "json")
    assert code == 0 and json.loads(out)["violations"] == []


def test_scenario_check_and_compare_keep_their_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    # pep825's inconsistent results are expected by the scenarios: a report, not a failure.
    code, out, _ = run(capsys, "scenario", "check", BLAS, "--strategy", "pep825")
    assert code == 0 and out.strip().endswith("1 passed, 0 failed")
    code, out, _ = run(capsys, "-q", "compare", BLAS, "--memory", "off", "--format", "json")
    assert code == 0 and json.loads(out)["rows"][0]["consistent"] is False


def test_help_documents_every_exit_code() -> None:
    proc = run_varsolve("--help")
    assert proc.returncode == 0
    epilog = proc.stdout[proc.stdout.index("exit codes") :]
    for code, words in [("0", "success"), ("1", "no solution"), ("2", "bad input"), ("3", "inconsistent")]:
        assert re.search(rf"^\s+{code}\s+.*{words}", epilog, re.MULTILINE), epilog
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for code in ("0", "1", "2", "3"):
        assert re.search(rf"^\|\s*`?{code}`?\s*\|", readme, re.MULTILINE), f"README lacks exit code {code}"


# -- -q / -v after the subcommand ------------------------------------------------------------------


def test_verbose_after_and_before_scenario_check(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["scenario", "check", "-v", BLAS], ["-v", "scenario", "check", BLAS], ["scenario", "check", BLAS, "--verbose"]):
        code, out, _ = run(capsys, *args, "--strategy", "sat")
        assert code == 0 and f"PASS {BLAS} [sat]" in out, args
    code, out, _ = run(capsys, "scenario", "check", BLAS, "--strategy", "sat")
    assert code == 0 and "PASS" not in out


def test_quiet_after_the_subcommand(capsys: pytest.CaptureFixture[str], tmp_path: Path, find_links: Path) -> None:
    lock = tmp_path / "pylock.toml"
    base = ["lock", "--scenario", BLAS, "--find-links", str(find_links), "--strategy", "pep825", "-o", str(lock)]
    code, _, err = run(capsys, *base)
    assert code == 3 and "warning" in err and "unify" in err
    for args in (["-q", *base], [*base, "-q"], [base[0], "--quiet", *base[1:]]):
        code, _, err = run(capsys, *args)
        assert code == 3 and err == "", args
    code, out, err = run(capsys, "resolve", "-q", "--scenario", BLAS)
    assert code == 0 and err == "" and "numpy" in out


# -- requirements files ----------------------------------------------------------------------------


def test_requirements_file_options_nesting_and_continuations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIPY_PIN", "1.16.0")
    (tmp_path / "wheels").mkdir()
    write(tmp_path / "sub" / "more.txt", "tinyutil  # trailing comment\n-c ../cons.txt\n")
    write(tmp_path / "cons.txt", "numpy<3\n# only constraints here\n")
    top = write(
        tmp_path / "requirements.txt",
        "# a comment line\n"
        "--index-url https://index.example/simple/\n"
        "-i https://second.example/simple/\n"
        "--extra-index-url=https://extra.example/simple/\n"
        "--find-links wheels\n"
        "-f https://example.org/links/\n"
        "--only-binary numpy,SciPy\n"
        "--pre\n"
        "numpy>=2 \\\n"
        "    ; python_version >= '3.11'\n"
        "\n"
        "scipy==${SCIPY_PIN} --hash=sha256:00ff \\\n"
        "    --hash=sha256:11ee\n"
        "-r sub/more.txt\n"
        "--constraint=cons.txt\n",
    )
    got = read_requirements_file(top)
    assert got.requirements == ("numpy>=2 ; python_version >= '3.11'", "scipy==1.16.0", "tinyutil")
    assert got.constraints == ("numpy<3", "numpy<3")
    assert got.index_url == "https://second.example/simple/"  # the last one, as in pip
    assert got.extra_index_urls == ("https://extra.example/simple/",)
    assert got.find_links == (str(tmp_path / "wheels"), "https://example.org/links/")
    assert got.only_binary == frozenset({"numpy", "scipy"}) and got.pre is True


def test_only_binary_all_and_none(tmp_path: Path) -> None:
    assert read_requirements_file(write(tmp_path / "a.txt", "--only-binary :all:\n")).only_binary == {":all:"}
    got = read_requirements_file(write(tmp_path / "b.txt", "--only-binary a\n--only-binary=:none:,b\n"))
    assert got.only_binary == {"a", "b"}  # options of separate lines add up


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("-e ./src", "editable requirements (-e) are not supported"),
        ("--no-index", "unsupported option '--no-index'"),
        ("numpy --pre", "option '--pre' cannot follow a requirement"),
        ("-r", "option '-r' needs a value"),
        ("-r missing.txt", "cannot read"),
        ("-r https://example.org/r.txt", "only local files can be included"),
        ("--pre=yes", "option '--pre' takes no value"),
        ("numpy --hash=md5", "expected ALGORITHM:HEXDIGEST"),
        ("numpy >>= 1", "invalid requirement 'numpy >>= 1'"),
        ("--index-url a b", "unexpected 'b'"),
    ],
)
def test_bad_line_is_file_colon_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str) -> None:
    path = write(tmp_path / "requirements.txt", f"numpy\n# comment\n{line}\n")
    with pytest.raises(InputError) as info:
        read_requirements_file(path)
    assert str(info.value).startswith(f"{path}:3: ") and message in str(info.value)
    code, out, err = run(capsys, "resolve", "--scenario", BLAS, "-r", str(path))
    assert code == 2 and out == ""
    one_line_error(err, f"{path}:3: ", message)


def test_errors_in_included_files_name_that_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "sub" / "inner.txt", "ok\n\nnot a requirement!\n")
    top = write(tmp_path / "top.txt", "-r sub/inner.txt\n")
    with pytest.raises(InputError, match=re.escape(f"{tmp_path / 'sub' / 'inner.txt'}:3: invalid requirement")):
        read_requirements_file(top)
    loop = write(tmp_path / "loop.txt", "-r ./loop.txt\n")
    with pytest.raises(InputError, match=re.escape(f"{loop}:1: ./loop.txt: includes itself")):
        read_requirements_file(loop)
    continued = write(tmp_path / "continued.txt", "a\nb \\\n  >>= 1\n")
    with pytest.raises(InputError, match=re.escape(f"{continued}:2: ")):  # the first line of the joined line
        read_requirements_file(continued)


def test_options_in_a_file_act_like_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, find_links: Path
) -> None:
    # --find-links from the file is the only source.
    reqs = write(tmp_path / "requirements.txt", f"--find-links {find_links}\nnumpy\nscipy\n")
    code, out, err = run(
        capsys, "resolve", "--scenario", BLAS, "--find-links", str(find_links), "-r", str(reqs), "--format", "json"
    )
    assert code == 0, err
    assert json.loads(out)["packages"]["numpy"]["variant"] == "openblas"
    write(tmp_path / "only-source.txt", f"-f {find_links}\nnumpy\n")
    code, out, err = run(
        capsys,
        "-q",
        "resolve",
        "-r",
        str(tmp_path / "only-source.txt"),
        "--python",
        "3.12",
        "--format",
        "json",
        "--variants",
        str(_blas_variants(tmp_path)),
    )
    assert code == 0, err
    assert json.loads(out)["packages"]["numpy"]["version"] == "2.3.0"
    # --only-binary :all: in the file: no sdists, as --no-build would.
    sdist_only = _sdist_scenario(tmp_path)
    write(tmp_path / "binary.txt", "--only-binary :all:\nb\n")
    code, out, _ = run(capsys, "resolve", "--scenario", str(sdist_only), "-r", str(tmp_path / "binary.txt"))
    assert code == 1 and out.startswith("no solution")
    code, out, _ = run(capsys, "resolve", "--scenario", str(sdist_only), "b")
    assert code == 0 and "(sdist)" in out
    # --pre in the file allows the pre-release.
    pre = _prerelease_scenario(tmp_path)
    write(tmp_path / "pre.txt", "--pre\nc\n")
    code, out, _ = run(capsys, "resolve", "--scenario", str(pre), "c", "--format", "json")
    assert code == 0 and json.loads(out)["packages"]["c"]["version"] == "1.0.0"
    code, out, _ = run(capsys, "resolve", "--scenario", str(pre), "-r", str(tmp_path / "pre.txt"), "--format", "json")
    assert code == 0 and json.loads(out)["packages"]["c"]["version"] == "2.0.0b1"


def test_command_line_index_url_wins_over_the_file(tmp_path: Path) -> None:
    from varsolve.cli import build_parser
    from varsolve.commands.options import read_requirement_arguments

    reqs = write(tmp_path / "r.txt", "--index-url https://file.example/simple/\n--extra-index-url https://x.example/\nnumpy\n")
    for argv, expected in [
        (["resolve", "-r", str(reqs)], "https://file.example/simple/"),
        (["resolve", "-r", str(reqs), "--index-url", "https://cli.example/simple/"], "https://cli.example/simple/"),
    ]:
        args = build_parser(argv).parse_args(argv)
        inputs = read_requirement_arguments(args)
        assert inputs.requirements == ("numpy",)
        assert args.index_url == expected
        assert args.extra_index_url == ["https://x.example/"]


# -- pyproject.toml --------------------------------------------------------------------------------

PYPROJECT = """\
[project]
name = "My.App"
version = "1.0"
dependencies = ["numpy>=2"]

[project.optional-dependencies]
Fast = ["scipy"]
all = ["my-app[fast,extra-two]"]
extra-two = ["tinyutil"]

[dependency-groups]
lint = ["ruff"]
dev = [{include-group = "lint"}, "mypy"]
"""


def test_pyproject_dependencies_extras_and_groups(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", PYPROJECT)
    assert read_pyproject(path).requirements == ("numpy>=2",)
    assert read_inputs([path], extras=["FAST"]).requirements == ("numpy>=2", "scipy")
    # A self-reference's extras are read in sorted order: extra-two, then fast.
    assert read_inputs([path], extras=["all"]).requirements == ("numpy>=2", "tinyutil", "scipy")
    assert read_inputs([path], groups=["dev"]).requirements == ("numpy>=2", "ruff", "mypy")


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        (PYPROJECT, {"extras": ["nope"]}, "project.optional-dependencies: no extra 'nope'"),
        (PYPROJECT, {"groups": ["nope"]}, "dependency-groups: no group 'nope'"),
        ('[project]\nname = "a"\ndependencies = ["ok", 3]\n', {}, "project.dependencies[1]: must be a requirement string"),
        ('[project]\nname = "a"\ndependencies = ["a >>= 1"]\n', {}, "project.dependencies[0]: invalid requirement"),
        ('[project]\nname = "a"\ndynamic = ["dependencies"]\n', {}, "project.dependencies: dynamic"),
        ("[tool.x]\n", {}, "neither [project] nor [dependency-groups]"),
        ("[project\n", {}, "malformed TOML"),
        (
            '[project]\nname = "a"\n[dependency-groups]\nx = [{include-group = "y"}]\ny = [{include-group = "x"}]\n',
            {"groups": ["x"]},
            "dependency-groups.y[0]: include-group cycle (x -> y -> x)",
        ),
        (
            '[project]\nname = "a"\n[dependency-groups]\nx = [{include-group = "z"}]\n',
            {"groups": ["x"]},
            "no group 'z' to include",
        ),
    ],
)
def test_pyproject_errors_name_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, kwargs: dict[str, list[str]], message: str
) -> None:
    path = write(tmp_path / "pyproject.toml", text)
    with pytest.raises(InputError) as info:
        read_inputs([path], **kwargs)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)
    flags = [f"--extra={e}" for e in kwargs.get("extras", [])] + [f"--group={g}" for g in kwargs.get("groups", [])]
    code, _, err = run(capsys, "resolve", "--scenario", BLAS, "-r", str(path), *flags)
    assert code == 2
    one_line_error(err, str(path), message)


def test_extra_and_group_need_a_pyproject(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "resolve", "--scenario", BLAS, "numpy", "--extra", "x")
    assert code == 2
    one_line_error(err, "--extra NAME needs a pyproject.toml requirement source")


def test_resolve_a_pyproject(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["numpy"]\n[project.optional-dependencies]\nsci = ["scipy"]\n',
    )
    code, out, _ = run(capsys, "resolve", "--scenario", BLAS, "-r", str(path), "--format", "json")
    assert code == 0 and set(json.loads(out)["packages"]) == {"numpy", "mkl-runtime"}
    code, out, _ = run(capsys, "resolve", "--scenario", BLAS, "-r", str(path), "--extra", "sci", "--format", "json")
    assert code == 0 and set(json.loads(out)["packages"]) == {"numpy", "scipy"}


# -- constraints -----------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_constraints_limit_versions_with_every_strategy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, strategy: str
) -> None:
    cons = write(tmp_path / "constraints.txt", "scipy<1.17\nnumpy!=2.4.0 ; python_version >= '3'\nnot-required==1.0\n")
    code, out, err = run(capsys, "resolve", "--scenario", VERSIONS, "--strategy", strategy, "-c", str(cons), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["violations"] == [] and data["consistent"] is True  # verified by the CLI
    assert {n: (p["version"], p["variant"]) for n, p in data["packages"].items()} == {
        "numpy": ("2.3.0", "mkl"),
        "scipy": ("1.16.0", "mkl"),
    }
    # Without constraints: the newest versions.
    code, out, _ = run(capsys, "resolve", "--scenario", VERSIONS, "--strategy", strategy, "--format", "json")
    assert {n: p["version"] for n, p in json.loads(out)["packages"].items()} == {"numpy": "2.4.0", "scipy": "1.17.0"}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_constrained_resolution_verifies_against_the_original_problem(strategy: str) -> None:
    from varsolve.api import build_problem, solve
    from varsolve.constraints import ConstrainedRepository, constrain
    from varsolve.verifier import verify

    problem = build_problem(scenario=BLAS)
    constrained = constrain(problem, ["mkl-runtime<2000", "numpy>=2"])
    assert isinstance(constrained.repository, ConstrainedRepository)
    resolution = solve(constrained, strategy)
    assert list(verify(constrained, resolution)) == list(verify(problem, resolution)) == []
    if strategy == "pep825":
        # The status quo takes numpy's best variant, MKL, whose mkl-runtime the constraint
        # excludes, and does not try the OpenBLAS variant of the same version.
        assert not resolution.satisfiable and resolution.explanation
    else:
        assert resolution.satisfiable
        assert "mkl-runtime" not in resolution.packages  # numpy's MKL variant needs it
        assert resolution.packages["numpy"].variant == "openblas"
    assert constrain(problem, []) is problem


def test_constraints_that_exclude_everything_and_bad_constraints(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cons = write(tmp_path / "c.txt", "scipy>5\n")
    code, out, _ = run(capsys, "resolve", "--scenario", VERSIONS, "-c", str(cons))
    assert code == 1 and out.startswith("no solution")
    for line, message in [
        ("numpy[x]<3", "constraints cannot have extras"),
        ("numpy @ https://e.org/n.whl", "cannot be URLs"),
        ("numpy; 'a :: b :: c' in variant_properties", "cannot test variant properties"),
    ]:
        bad = write(tmp_path / "bad.txt", f"scipy\n{line}\n")
        code, _, err = run(capsys, "resolve", "--scenario", VERSIONS, "-c", str(bad))
        assert code == 2
        one_line_error(err, f"{bad}:2: ", message)


def test_lock_with_constraints(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cons = write(tmp_path / "c.txt", "scipy==1.16.0\n")
    lock = tmp_path / "pylock.toml"
    links = built_index(VERSIONS, tmp_path_factory)
    code, _, err = run(capsys, "lock", "--scenario", VERSIONS, "--find-links", str(links), "-c", str(cons), "-o", str(lock))
    assert code == 0, err
    pins = {p["name"]: p["version"] for p in tomllib.loads(lock.read_text())["packages"]}
    assert pins == {"numpy": "2.4.0", "scipy": "1.16.0"}


# -- resolve -o ------------------------------------------------------------------------------------


_INDEXES: dict[str, Path] = {}


def built_index(scenario: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index of ``scenario`` (wheels with sha256 hashes), read as a find-links folder."""
    from varsolve.index.builder import build_index

    if scenario not in _INDEXES:
        out = tmp_path_factory.mktemp("index") / "index"
        build_index(Path(scenario), out)
        _INDEXES[scenario] = out / "files"
    return _INDEXES[scenario]


@pytest.fixture
def find_links(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_index(BLAS, tmp_path_factory)


def _blas_variants(tmp_path: Path) -> Path:
    return write(
        tmp_path / "variants.toml",
        '[[provider]]\nnamespace = "blas_lapack"\n[provider.properties]\nlibrary = ["mkl", "openblas"]\n',
    )


def _sdist_scenario(tmp_path: Path) -> Path:
    return write(tmp_path / "sdist.toml", '[root]\nrequires = ["b"]\n[packages.b.versions."1.0.0"]\nwheel = false\n')


def _prerelease_scenario(tmp_path: Path) -> Path:
    return write(
        tmp_path / "pre.toml", '[root]\nrequires = ["c"]\n[packages.c.versions."1.0.0"]\n[packages.c.versions."2.0.0b1"]\n'
    )


def test_resolve_output_pinned_with_hashes(capsys: pytest.CaptureFixture[str], tmp_path: Path, find_links: Path) -> None:
    out_file = tmp_path / "requirements.lock.txt"
    args = ["resolve", "--scenario", BLAS, "--find-links", str(find_links), "-o", str(out_file)]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    assert out == "numpy  2.3.0 [openblas]\nscipy  1.16.0 [openblas]\nunified: blas_lapack :: library = openblas\n"
    text = out_file.read_text()
    lines = text.splitlines()
    assert lines[0].startswith("# This file was written by varsolve")
    assert any(line.startswith("#    varsolve resolve --scenario") for line in lines)
    body = [line for line in lines if not line.startswith("#")]
    assert body[0] == "numpy==2.3.0 \\" and re.fullmatch(r"    --hash=sha256:[0-9a-f]{64}", body[1])
    assert body[2] == "    # variant: openblas (numpy-2.3.0-py3-none-any-openblas.whl)"
    assert body[3] == "scipy==1.16.0 \\"
    # The hash is the chosen file's.
    import hashlib

    digest = hashlib.sha256((find_links / "numpy-2.3.0-py3-none-any-openblas.whl").read_bytes()).hexdigest()
    assert body[1] == f"    --hash=sha256:{digest}"
    # Deterministic, and readable by the requirements reader (hashes and all).
    first = out_file.read_bytes()
    assert run(capsys, *args)[0] == 0 and out_file.read_bytes() == first
    assert read_requirements_file(out_file).requirements == ("numpy==2.3.0", "scipy==1.16.0")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary file left behind"


def test_resolve_output_without_hashes_and_inconsistent(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "pins.txt"
    code, _, _ = run(capsys, "resolve", "--scenario", BLAS, "--strategy", "pep825", "-o", str(out_file))
    assert code == 3
    text = out_file.read_text()
    assert "# violation: unify blas_lapack :: library" in text
    assert [line for line in text.splitlines() if not line.startswith(" ") and not line.startswith("#")] == [
        "mkl-runtime==2025.2.0",
        "numpy==2.3.0",
        "scipy==1.16.0",
    ]


def test_resolve_output_is_all_or_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "pins.txt"
    out_file.write_text("old\n")
    code, out, _ = run(
        capsys, "resolve", "--scenario", str(SCENARIOS / "variants" / "blas-unify-unsatisfiable.toml"), "-o", str(out_file)
    )
    assert code == 1 and out.startswith("no solution") and out_file.read_text() == "old\n"
    code, _, err = run(capsys, "resolve", "--scenario", BLAS, "-o", str(tmp_path / "no" / "such" / "pins.txt"))
    assert code == 2
    one_line_error(err, "cannot write")


def test_format_pinned_redacts_nothing_and_orders_hashes() -> None:
    text = format_pinned(
        [
            PinnedRequirement("a", "1.0", "a-1.0.tar.gz", None, {"sha512": "bb", "sha256": "aa", "md5": "cc"}),
            PinnedRequirement("b", "2.0", "b-2.0-py3-none-any.whl", "", {}),
        ],
        header=["header"],
    )
    assert text == ("# header\na==1.0 \\\n    --hash=sha256:aa \\\n    --hash=sha512:bb\n    # sdist: a-1.0.tar.gz\nb==2.0\n")


def test_output_header_redacts_credentials(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from varsolve.requirements_file import redact_url_credentials

    assert redact_url_credentials("--index-url https://user:secret@host/simple/") == "--index-url https://****@host/simple/"


# -- file permissions ------------------------------------------------------------------------------


def _with_umask(mask: int, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    command = " ".join(f"'{a}'" for a in [*varsolve_command(), *args])
    return subprocess.run(
        ["sh", "-c", f"umask {mask:03o} && exec {command}"], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_respect_the_umask(tmp_path: Path, mask: int, mode: int) -> None:
    detect = tmp_path / "target.toml"
    proc = _with_umask(
        mask,
        "detect",
        "--cpuinfo",
        str(FIXTURES / "cpuinfo" / "x86-64-v3-haswell.txt"),
        "--nvidia-from",
        str(FIXTURES / "nvidia" / "nvidia-smi-no-driver.txt"),
        "-o",
        str(detect),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert detect.stat().st_mode & 0o777 == mode
    pins = tmp_path / "pins.txt"
    proc = _with_umask(mask, "resolve", "--scenario", BLAS, "-o", str(pins), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert pins.stat().st_mode & 0o777 == mode
    report = tmp_path / "report.json"
    proc = _with_umask(mask, "compare", str(BLAS), "--jobs", "1", "--format", "json", "-o", str(report), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert report.stat().st_mode & 0o777 == mode
    generated = tmp_path / "generated"
    proc = _with_umask(mask, "generate", "layered", "--out", str(generated), "--seed", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert {p.stat().st_mode & 0o777 for p in generated.iterdir()} == {mode}


# -- the README's numbers --------------------------------------------------------------------------


def test_readme_compare_summary_matches_a_fresh_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-q", "compare", str(SCENARIOS), "--memory", "off")
    assert code == 0
    summary = out[out.index("pep825 (status quo)") :].strip().splitlines()
    assert len(summary) == 3, summary
    for doc in ("README.md", "docs/compare.md"):
        text = (REPO / doc).read_text(encoding="utf-8")
        for line in summary:
            assert line in text, (doc, line)


def test_readme_notebook_instructions_name_what_the_extra_installs() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extra = " ".join(project["optional-dependencies"]["notebooks"])
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "pip install -e '.[notebooks]'" in readme
    assert "nbclient" in extra and "ipykernel" in extra and "jupyter execute" in readme  # nbclient's command


def test_requirements_file_dataclass_is_frozen() -> None:
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        RequirementsFile().pre = True  # type: ignore[misc]


# -- more edges ------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pip's vendored pkg_resources
def test_requirements_reader_agrees_with_pip(tmp_path: Path) -> None:
    """pip's own parser (private API: skipped when it moves) reads the same requirements and
    constraints from a file using every supported feature."""
    req_file = pytest.importorskip("pip._internal.req.req_file")
    session_mod = pytest.importorskip("pip._internal.network.session")
    write(tmp_path / "sub" / "more.txt", "tinyutil  # trailing comment\n-c ../cons.txt\n")
    write(tmp_path / "cons.txt", "numpy<3\nscipy!=1.0 ; python_version > '3'\n")
    top = write(
        tmp_path / "requirements.txt",
        "# comment\n--pre\n--only-binary :all:\nnumpy>=2 \\\n    ; python_version >= '3.11'\n\n"
        "scipy==1.16.0 --hash=sha256:00ff \\\n    --hash=sha256:11ee\n-r sub/more.txt\n-c cons.txt\n"
        "a[x,y] >= 1 ; sys_platform == 'linux'  # c\n",
    )
    ours = read_requirements_file(top)
    theirs = list(req_file.parse_requirements(str(top), session=session_mod.PipSession()))

    def normal(text: str) -> str:
        from packaging.requirements import Requirement

        return str(Requirement(text))

    assert [normal(r) for r in ours.requirements] == [normal(r.requirement) for r in theirs if not r.constraint]
    assert [normal(r) for r in ours.constraints] == [normal(r.requirement) for r in theirs if r.constraint]


def test_verbose_and_quiet_anywhere_are_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ["-v", "resolve", "--scenario", BLAS],
        ["resolve", "-vv", "--scenario", BLAS],
        ["resolve", "--scenario", BLAS, "-q", "-v"],
    ):
        code, out, _ = run(capsys, *args)
        assert code == 0 and out.startswith("numpy"), args
    code, _, err = run(
        capsys,
        "detect",
        "-q",
        "--cpuinfo",
        str(FIXTURES / "cpuinfo" / "x86-64-v3-haswell.txt"),
        "--nvidia-from",
        str(FIXTURES / "nvidia" / "nvidia-smi-no-driver.txt"),
    )
    assert code == 0 and "warning" not in err
    help_text = run_varsolve("resolve", "--help").stdout
    assert "-q, --quiet" in help_text and "-v, --verbose" in help_text


def test_lock_check_takes_no_new_inputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cons = write(tmp_path / "c.txt", "numpy<3\n")
    for extra in (["-c", str(cons)], ["--group", "dev"], ["--extra", "x"]):
        code, _, err = run(capsys, "lock", "--check", str(tmp_path / "pylock.toml"), *extra)
        assert code == 2
        one_line_error(err, "--check re-resolves the lock's own inputs")


def test_lock_constraint_markers_need_one_target(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    links = built_index(VERSIONS, tmp_path_factory)
    target = write(
        tmp_path / "t.toml",
        'name = "t"\n[[provider]]\nnamespace = "blas_lapack"\n[provider.properties]\nlibrary = ["openblas"]\n',
    )
    cons = write(tmp_path / "c.txt", "scipy<1.17 ; python_version >= '3'\n")
    code, _, err = run(
        capsys,
        "lock",
        "--scenario",
        VERSIONS,
        "--find-links",
        str(links),
        "--target",
        str(target),
        "-c",
        str(cons),
        "-o",
        str(tmp_path / "pylock.toml"),
    )
    assert code == 2
    one_line_error(err, "a marker needs a single target")
    assert not (tmp_path / "pylock.toml").exists()
    code, _, err = run(
        capsys, "lock", "--scenario", VERSIONS, "--find-links", str(links), "-c", str(cons), "-o", str(tmp_path / "pylock.toml")
    )
    assert code == 0, err
    pins = {p["name"]: p["version"] for p in tomllib.loads((tmp_path / "pylock.toml").read_text())["packages"]}
    assert pins["scipy"] == "1.16.0"


def test_inconsistent_lock_is_written_and_exits_3(capsys: pytest.CaptureFixture[str], tmp_path: Path, find_links: Path) -> None:
    lock = tmp_path / "pylock.toml"
    code, out, err = run(
        capsys, "lock", "--scenario", BLAS, "--find-links", str(find_links), "--strategy", "pep825", "-o", str(lock)
    )
    assert code == 3 and out == f"wrote {lock}\n"
    assert err.count("varsolve: warning: target default: unify blas_lapack :: library") == 1
    names = {p["name"] for p in tomllib.loads(lock.read_text())["packages"]}
    assert names == {"mkl-runtime", "numpy", "scipy"}
    code, _, err = run(capsys, "lock", "--scenario", BLAS, "--find-links", str(find_links), "-o", str(lock))
    assert code == 0 and err == ""
