"""The comparison harness (``varsolve compare``): rows, summary, formats, determinism, errors.

Every resolution in these tests comes out of a real strategy and goes through the independent
verifier inside the harness (``row.violations``), which is what ``consistent`` is read from.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from varsolve.cli import main
from varsolve.compare import run_compare
from varsolve.compare.report import CSV_COLUMNS, summarize
from varsolve.compare.tasks import Row
from varsolve.reporter import Reporter
from varsolve.strategies import available

REPO = Path(__file__).resolve().parent.parent

# numpy has MKL and OpenBLAS builds, scipy only OpenBLAS, BLAS unified: the status quo mixes
# them (satisfiable, inconsistent), a complete strategy takes numpy's OpenBLAS build.
MIXED_BLAS = """
name = "mixed-blas"
[root]
requires = ["numpy", "scipy"]
[environment.variants]
"blas_lapack :: library" = ["mkl", "openblas"]
[resolver_options]
unify = ["blas_lapack :: library"]
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
[expected]
satisfiable = true
[expected.variants]
numpy = "openblas"
scipy = "openblas"
[expected.pep825]
satisfiable = true
consistent = false
[expected.pep825.variants]
numpy = "mkl"
scipy = "openblas"
"""

# a's preferred (MKL) build needs b==1, the root pins b==2: the status quo rejects the whole
# version and fails; a complete strategy takes a's OpenBLAS build.
VARIANT_DEPENDENCY = """
name = "variant-dependency"
[root]
requires = ["a", "b==2.0.0"]
[environment.variants]
"blas_lapack :: library" = ["mkl", "openblas"]
[packages.a.versions."1.0.0"]
wheel = false
sdist = false
requires = ["b==1.0.0; 'blas_lapack :: library :: mkl' in variant_properties"]
[packages.a.versions."1.0.0".variants]
mkl = ["blas_lapack :: library :: mkl"]
openblas = ["blas_lapack :: library :: openblas"]
[packages.b.versions]
"1.0.0" = {}
"2.0.0" = {}
[expected]
satisfiable = true
[expected.variants]
a = "openblas"
b = ""
[expected.pep825]
satisfiable = false
"""

# Every strategy agrees; nothing variant-specific.
PLAIN = """
name = "plain"
[root]
requires = ["a"]
[packages.a.versions."1.0.0"]
requires = ["b>=1"]
[packages.b.versions]
"1.0.0" = {}
"1.1.0" = {}
[expected]
satisfiable = true
[expected.packages]
a = "1.0.0"
b = "1.1.0"
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    directory = tmp_path / "suite"
    directory.mkdir()
    write(directory, "a-mixed-blas.toml", MIXED_BLAS)
    write(directory, "b-variant-dependency.toml", VARIANT_DEPENDENCY)
    write(directory, "c-plain.toml", PLAIN)
    return directory


def without_measurements(report_json: dict) -> dict:
    data = json.loads(json.dumps(report_json))
    for row in data["rows"]:
        for key in Row.MEASUREMENTS:
            row.pop(key)
    for entry in data["summary"]["per_strategy"]:
        for key in list(entry):
            if key.startswith(("seconds", "peak_kib")):
                entry.pop(key)
    return data


def by_key(report) -> dict[tuple[str, str], Row]:
    return {(r.scenario, r.strategy): r for r in report.rows}


STRATEGIES = ["pep825", "backtrack"]


def test_outcomes_that_differ_per_strategy_show_up_as_such(suite: Path) -> None:
    report = run_compare([suite], STRATEGIES)
    rows = by_key(report)

    mixed_quo, mixed_bt = rows["mixed-blas", "pep825"], rows["mixed-blas", "backtrack"]
    assert (mixed_quo.satisfiable, mixed_quo.consistent, mixed_quo.valid) == (True, False, True)
    assert any(v.startswith("unify blas_lapack :: library") for v in mixed_quo.violations)
    assert mixed_quo.packages == {"numpy": "2.3.0 [mkl]", "scipy": "1.16.0 [openblas]"}
    assert (mixed_bt.satisfiable, mixed_bt.consistent, mixed_bt.violations) == (True, True, [])
    assert mixed_bt.packages == {"numpy": "2.3.0 [openblas]", "scipy": "1.16.0 [openblas]"}
    assert mixed_bt.unified == {"blas_lapack :: library": "openblas"}
    # Both match their own expectation: a per-strategy outcome is a pass, not a difference.
    assert (mixed_quo.expected, mixed_bt.expected) == ("pass", "pass")
    # The greedy choice of the status quo is "better" only because it breaks unify: the
    # objective ranks the preferred MKL build (rank 0) ahead of OpenBLAS (rank 1).
    assert mixed_quo.objective == [0, 0, 0, 2]
    assert mixed_bt.objective == [0, 0, 1, 2]

    dep_quo, dep_bt = rows["variant-dependency", "pep825"], rows["variant-dependency", "backtrack"]
    assert dep_quo.satisfiable is False and dep_quo.consistent is None and dep_quo.objective is None
    assert dep_quo.explanation and "b" in dep_quo.explanation
    assert dep_bt.satisfiable is True and dep_bt.packages == {"a": "1.0.0 [openblas]", "b": "2.0.0"}

    plain_quo, plain_bt = rows["plain", "pep825"], rows["plain", "backtrack"]
    assert plain_quo.packages == plain_bt.packages == {"a": "1.0.0", "b": "1.1.0"}
    # pep825 has no [expected.pep825] here: nothing to match but the verifier's rules.
    assert (plain_quo.expected, plain_bt.expected) == ("n/a", "pass")

    for row in report.rows:
        assert row.status == "ok" and row.valid is True and row.problems == []
        assert row.seconds is not None and row.seconds >= 0
        assert row.peak_kib is not None and row.peak_kib > 0
        assert row.counters["rounds"] is not None and row.counters["rounds"] >= 1
        assert row.counters["candidates"] is not None and row.counters["candidates"] >= 1
        assert row.size["packages"] >= 2
    assert not report.failed


def test_summary_counts_status_quo_failures(suite: Path) -> None:
    report = run_compare([suite], STRATEGIES)
    summary = report.summary
    assert summary["tasks"] == 6 and summary["scenarios"] == 3
    (quo,) = summary["status_quo"]
    assert quo == {"strategy": "pep825", "compared": 3, "inconsistent": 1, "fails_where_complete_succeeds": 1}
    per = {s["strategy"]: s for s in summary["per_strategy"]}
    assert per["pep825"]["satisfiable"] == 2 and per["pep825"]["unsatisfiable"] == 1
    assert per["pep825"]["inconsistent"] == 1 and per["backtrack"]["inconsistent"] == 0
    assert per["backtrack"]["satisfiable"] == 3
    assert per["pep825"]["expected_pass"] == 2  # plain has no pep825 expectation
    assert per["backtrack"]["expected_pass"] == 3
    assert summary["complete_strategies_disagree"] == []

    text = report.render("table")
    assert "inconsistent environment (a unified feature takes two values): 1 of 3 (33%)" in text
    assert "no solution where a complete strategy finds one: 1 of 3 (33%)" in text


def test_summary_counts_on_hand_made_rows() -> None:
    """The summary's arithmetic, independent of any strategy."""

    def row(path: str, strategy: str, complete: bool, **kw) -> Row:
        return Row(scenario=path, path=path, strategy=strategy, complete=complete, **kw)

    rows = [
        row("s1", "quo", False, satisfiable=True, consistent=False, valid=True, objective=[0, 0, 0, 2]),
        row("s1", "full", True, satisfiable=True, consistent=True, valid=True, objective=[0, 0, 1, 2]),
        row("s2", "quo", False, satisfiable=False),
        row("s2", "full", True, satisfiable=True, consistent=True, valid=True, objective=[0, 0, 0, 1]),
        row("s3", "quo", False, satisfiable=False),
        row("s3", "full", True, satisfiable=False),
        row("s4", "quo", False, status="timeout"),
        row("s4", "full", True, satisfiable=True, consistent=True, valid=True, objective=[1, 0, 0, 1]),
        row("s4", "greedy", True, satisfiable=True, consistent=True, valid=True, objective=[1, 2, 0, 1]),
        row("s5", "full", True, satisfiable=True, consistent=True, valid=True, objective=[0, 0, 0, 1]),
        row("s5", "greedy", True, satisfiable=False),
    ]
    summary = summarize(rows, ["quo", "full", "greedy"])
    (quo,) = summary["status_quo"]
    # s1 inconsistent; s2 fails where full succeeds; s3 both fail (not counted); s4 timed out.
    assert quo == {"strategy": "quo", "compared": 4, "inconsistent": 1, "fails_where_complete_succeeds": 1}
    per = {s["strategy"]: s for s in summary["per_strategy"]}
    assert per["quo"]["timeouts"] == 1 and per["quo"]["unsatisfiable"] == 2
    assert per["greedy"]["worse_objective_than_best_complete"] == 1  # s4
    assert per["full"]["worse_objective_than_best_complete"] == 0
    assert summary["complete_strategies_disagree"] == [{"path": "s5", "target": ""}]


def test_a_broken_expectation_is_reported_and_fails_the_command(suite: Path, capsys) -> None:
    wrong = MIXED_BLAS.replace('name = "mixed-blas"', 'name = "wrong"').replace(
        '[expected.variants]\nnumpy = "openblas"', '[expected.variants]\nnumpy = "mkl"'
    )
    write(suite, "d-wrong.toml", wrong)
    report = run_compare([suite], STRATEGIES)
    rows = by_key(report)
    assert rows["wrong", "backtrack"].expected == "fail"
    assert rows["wrong", "backtrack"].problems == ["expected numpy variant 'mkl', got 'openblas'"]
    assert rows["wrong", "pep825"].expected == "pass"
    assert report.failed
    assert main(["compare", str(suite), "--strategy", "pep825", "--strategy", "backtrack", "--memory", "off"]) == 1
    out = capsys.readouterr().out
    assert "wrong" in out and "fail" in out


def test_json_and_csv_formats(suite: Path, tmp_path: Path, capsys) -> None:
    out_json = tmp_path / "report.json"
    assert main(["compare", str(suite), "--strategy", "pep825", "--strategy", "backtrack", "--format", "json", "-o", str(out_json)]) == 0
    assert capsys.readouterr().out == ""  # the report went to the file
    data = json.loads(out_json.read_text())
    assert data["strategies"] == STRATEGIES
    assert [(r["scenario"], r["strategy"]) for r in data["rows"]] == [
        (s, st) for s in ("mixed-blas", "variant-dependency", "plain") for st in STRATEGIES
    ]
    first = data["rows"][0]
    assert set(first) >= {"scenario", "strategy", "target", "satisfiable", "consistent", "objective", "expected",
                          "seconds", "peak_kib", "counters", "violations", "packages"}
    assert set(first["counters"]) == {"backtracks", "rounds", "sat_calls", "candidates"}
    assert data["summary"]["status_quo"][0]["inconsistent"] == 1

    assert main(["compare", str(suite), "--strategy", "pep825", "--strategy", "backtrack", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    table = list(csv.DictReader(io.StringIO(captured.out)))
    assert list(table[0]) == CSV_COLUMNS
    assert len(table) == 6
    mixed_quo = table[0]
    assert (mixed_quo["scenario"], mixed_quo["strategy"], mixed_quo["satisfiable"], mixed_quo["consistent"]) == (
        "mixed-blas", "pep825", "true", "false")
    assert mixed_quo["packages"] == "numpy==2.3.0[mkl] scipy==1.16.0[openblas]"
    assert mixed_quo["objective"] == "0 0 0 2"
    assert table[2]["satisfiable"] == "false" and table[2]["consistent"] == ""
    # The summary is not CSV: it goes to stderr.
    assert "pep825 (status quo)" in captured.err

    assert main(["compare", str(suite), "--strategy", "backtrack"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == [
        "scenario", "strategy", "sat", "consistent", "objective", "expected", "seconds", "peak", "KiB",
        "backtracks", "rounds", "sat_calls", "candidates",
    ]
    assert "summary: 3 runs over 3 scenarios" in text


def test_rows_are_in_task_order_whatever_finishes_first(tmp_path: Path) -> None:
    """With two workers the big first scenario finishes last; the rows keep the input order,
    and everything but the measurements is identical to a one-process run."""
    from varsolve.generate.ecosystem import generate

    directory = tmp_path / "mixed"
    directory.mkdir()
    write(directory, "a-big.toml", generate(seed=3, leaves=60, versions=5))
    write(directory, "b-small.toml", PLAIN)
    write(directory, "c-small.toml", MIXED_BLAS)
    finished: list[tuple[str, str]] = []
    parallel = run_compare([directory], STRATEGIES, jobs=2, reporter=_Recorder(finished))
    serial = run_compare([directory], STRATEGIES, jobs=1)
    order = [(r.scenario, r.strategy) for r in parallel.rows]
    assert order == [(r.scenario, r.strategy) for r in serial.rows]
    assert [o[0] for o in order[::2]] == ["ecosystem-60x5-seed3", "plain", "mixed-blas"]
    assert sorted(finished) == sorted(order)
    assert without_measurements(parallel.to_json_dict()) == without_measurements(serial.to_json_dict())
    again = run_compare([directory], STRATEGIES, jobs=2)
    assert without_measurements(again.to_json_dict()) == without_measurements(parallel.to_json_dict())


def test_target_file_overrides_the_environment(suite: Path, tmp_path: Path) -> None:
    openblas_only = tmp_path / "openblas-box.toml"
    openblas_only.write_text(
        'python = "3.12"\nplatform = "x86_64-manylinux_2_28"\n\n[[provider]]\nnamespace = "blas_lapack"\n\n'
        '[provider.properties]\nlibrary = ["openblas"]\n',
        encoding="utf-8",
    )
    no_variants = tmp_path / "plain-box.toml"
    no_variants.write_text('name = "no-variants"\nprovider = []\n', encoding="utf-8")
    report = run_compare([suite / "a-mixed-blas.toml"], STRATEGIES, [openblas_only, no_variants])
    assert report.targets == ["openblas-box", "no-variants"]
    rows = {(r.target, r.strategy): r for r in report.rows}
    assert list(rows) == [("openblas-box", "pep825"), ("openblas-box", "backtrack"),
                          ("no-variants", "pep825"), ("no-variants", "backtrack")]
    # Only OpenBLAS supported: the status quo cannot mix any more.
    for strategy in STRATEGIES:
        row = rows["openblas-box", strategy]
        assert row.packages == {"numpy": "2.3.0 [openblas]", "scipy": "1.16.0 [openblas]"}
        assert row.consistent is True
        # The scenario's expectations were written for its own environment.
        assert row.expected == "n/a"
    # Nothing supported and only variant wheels: no solution for anyone.
    for strategy in STRATEGIES:
        assert rows["no-variants", strategy].satisfiable is False
    assert "no-variants" in report.render("table")


@pytest.mark.parametrize(
    "content, message",
    [
        ("python = [", "malformed TOML"),
        ('colour = "red"\n', "colour: unknown key"),
        ('platform = "amiga"\n', "unknown platform 'amiga'"),
        ("[[provider]]\nnamespace = \"Bad NS\"\n", "provider[0].namespace: invalid namespace"),
        ("enable = \"nvidia\"\n", "enable: must be a list of strings"),
    ],
)
def test_bad_target_file_is_a_one_line_error(suite: Path, tmp_path: Path, capsys, content: str, message: str) -> None:
    target = tmp_path / "bad-target.toml"
    target.write_text(content, encoding="utf-8")
    output = tmp_path / "out.json"
    assert main(["compare", str(suite), "--target", str(target), "--format", "json", "-o", str(output)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(target) in err and message in err
    assert not output.exists()


def test_bad_inputs_are_one_line_errors_without_output(suite: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    write(bad, "broken.toml", '[root]\nrequires = ["numpy"\n')
    output = tmp_path / "never.json"
    cases = [
        ([str(bad)], f"{bad / 'broken.toml'}: malformed TOML"),
        ([str(suite), "--strategy", "simulated-annealing"], "unknown strategy 'simulated-annealing'"),
        ([str(tmp_path / "missing")], "no such file or directory"),
        ([str(suite), "--executor", "spark://x"], "--executor: expected 'local' or dask://HOST:PORT"),
        ([str(suite), "--executor", "dask://nohost"], "--executor: expected dask://HOST:PORT"),
        ([str(suite), "--jobs", "0"], "--jobs: must be at least 1"),
    ]
    for args, message in cases:
        result = subprocess.run(
            [sys.executable, "-m", "varsolve.cli", "compare", *args, "-o", str(output)],
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert not output.exists()


def test_memory_modes(suite: Path) -> None:
    plain = suite / "c-plain.toml"
    traced = run_compare([plain], ["backtrack"], memory="tracemalloc").rows[0]
    off = run_compare([plain], ["backtrack"], memory="off").rows[0]
    rss = run_compare([plain], ["backtrack"], memory="rss").rows[0]  # a fresh process per task
    assert traced.peak_kib is not None and traced.peak_kib > 0
    assert off.peak_kib is None
    assert rss.peak_kib is not None and rss.peak_kib >= 0
    assert traced.packages == off.packages == rss.packages


def test_timeout_gives_a_timeout_row_not_a_crash(tmp_path: Path) -> None:
    from varsolve.generate.ecosystem import generate

    big = write(tmp_path, "big.toml", generate(seed=1, leaves=80, versions=6))
    report = run_compare([big], ["backtrack"], timeout=1e-4, memory="off")
    (row,) = report.rows
    assert row.status == "timeout" and row.satisfiable is None and "no answer within" in row.error
    assert report.summary["per_strategy"][0]["timeouts"] == 1
    assert not report.failed  # running out of time is a result, not a broken expectation


def test_progress_bar_only_on_a_terminal(suite: Path, capsys) -> None:
    from varsolve.reporter import TerminalReporter

    stream = io.StringIO()
    bar = TerminalReporter(stream, enabled=True)
    bar.tasks_started(4)
    for label in "abcd":
        bar.task_done(label)
    bar.tasks_done()
    assert "\rcompare [######" in stream.getvalue() and "4/4 d" in stream.getvalue()
    assert stream.getvalue().endswith("\r\x1b[K")  # erased at the end
    silent = io.StringIO()
    quiet = TerminalReporter(silent, enabled=False)
    quiet.tasks_started(4)
    quiet.task_done("x")
    assert silent.getvalue() == ""
    # Under pytest stderr is not a terminal: the command prints nothing there.
    assert main(["compare", str(suite), "--strategy", "backtrack"]) == 0
    assert capsys.readouterr().err == ""


def test_plots_are_written(suite: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    plots = tmp_path / "plots"
    assert main(["-q", "compare", str(suite), "--strategy", "pep825", "--strategy", "backtrack", "--plot", str(plots)]) == 0
    for name in ("outcomes.png", "scaling.png"):
        data = (plots / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    assert sorted(p.name for p in plots.iterdir()) == ["outcomes.png", "scaling.png"]


def test_bundled_suite_with_every_strategy() -> None:
    """The whole bundled suite: each run matches its expectation or has none."""
    report = run_compare([REPO / "scenarios"], available(), jobs=2, memory="off")
    assert report.rows, "no bundled scenarios found"
    assert not report.failed, [
        (r.scenario, r.strategy, r.error or r.problems) for r in report.rows if r.status == "error" or r.expected == "fail"
    ]
    complete = [r for r in report.rows if r.complete]
    assert all(r.consistent is not False for r in complete)
    assert report.summary["complete_strategies_disagree"] == []


def test_objective_vector_ranks_any_strategy_and_tolerates_rejected_pins(suite: Path) -> None:
    from packaging.version import Version

    from varsolve.api import solve
    from varsolve.objective import objective_vector
    from varsolve.resolution import Pin, Resolution
    from varsolve.sources.scenario import load_scenario

    problem = load_scenario(suite / "a-mixed-blas.toml").problem
    resolution = solve(problem, "backtrack")
    assert resolution.violations == ()
    assert objective_vector(problem, resolution) == (0, 0, 1, 2)
    assert objective_vector(problem, Resolution("x", satisfiable=False)) is None
    # A version the index does not have counts as older than all its releases; a label that is
    # no candidate has rank 0: an invalid answer is still ranked, not a crash.
    bogus = Resolution("x", satisfiable=True, packages={
        "numpy": Pin(Version("9.9"), "no-such-label", "numpy-9.9-py3-none-any.whl"),
        "scipy": Pin(Version("1.16.0"), "no-such-label", "scipy-1.16.0-py3-none-any.whl"),
    })
    releases = len(problem.repository.releases("numpy"))
    assert objective_vector(problem, bogus) == (releases, 0, 0, 2)


def test_universal_scenarios_are_compared_per_environment(tmp_path: Path) -> None:
    universal = """
    name = "universal"
    [root]
    requires = ["a>=2 ; sys_platform == 'linux'", "a<2 ; sys_platform == 'darwin'"]
    [resolver_options]
    universal = true
    [packages.a.versions."1.0.0"]
    [packages.a.versions."2.0.0"]
    [expected]
    satisfiable = true
    [[expected.environments]]
    python = "3.12"
    platform = "linux"
    packages = { a = "2.0.0" }
    """
    write(tmp_path, "universal.toml", universal)
    write(tmp_path, "plain.toml", PLAIN)
    report = run_compare([tmp_path], STRATEGIES)
    rows = by_key(report)
    for strategy in STRATEGIES:
        row = rows["universal", strategy]
        assert row.status == "ok" and row.satisfiable and row.valid and row.expected == "pass", row
        assert row.packages == {"a ; sys_platform == 'darwin'": "1.0.0", "a ; sys_platform == 'linux'": "2.0.0"}
        assert row.objective is None and row.seconds is not None
    assert rows["plain", "backtrack"].status == "ok"
    assert not report.failed
    per = {s["strategy"]: s for s in report.summary["per_strategy"]}
    assert per["backtrack"]["skipped"] == 0


class _Recorder(Reporter):
    """Records what ``run_compare`` reports as done: ("scenario", "strategy") pairs."""

    def __init__(self, finished: list[tuple[str, str]]) -> None:
        self.finished = finished

    def task_done(self, label: str) -> None:
        scenario, strategy = label.rsplit(" [", 1)
        self.finished.append((scenario, strategy.rstrip("]")))
