"""``varsolve conformance``: uv 0.13.9 and pip 26.3 on every bundled scenario for real, both suites
(``scenarios/``: their verdicts must equal docs/conformance.md's tables), a command template
(varsolve itself), bad
installers (missing, hanging, garbage: error rows, one stderr line each, the run goes on), and
the parts: the index that expresses the target, the output parsers, the verdicts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, SCENARIOS, varsolve_command
from varsolve.conformance import ConformanceReport, run_conformance
from varsolve.conformance.installers import (
    CommandInstaller,
    Completed,
    InstallerFailure,
    Job,
    PipInstaller,
    UvInstaller,
    get_installer,
    uv_platform,
)
from varsolve.conformance.target_index import build_installer_index, express_target
from varsolve.errors import InputError
from varsolve.sources.scenario import load_scenario
from varsolve.target import Target
from varsolve.variants.filenames import parse_wheel

VARIANTS = SCENARIOS / "variants"
ECOSYSTEM = SCENARIOS / "ecosystem"
DOC = REPO / "docs" / "conformance.md"
BUNDLED = sorted(VARIANTS.glob("*.toml"))
SUITES = ("ecosystem", "variants")  # scenarios/*/: one block of docs/conformance.md each
ALL = sorted(SCENARIOS.glob("*/*.toml"))
INSTALLER_CAUSES = {"markers", "metadata", "unaware", "optional", "abi"}


def _conformance(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    return subprocess.run([*varsolve_command(), "conformance", *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=timeout)


def _doc_block(installer: str, suite: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    begin = f"<!-- begin: varsolve conformance scenarios/{suite} --installer {installer} --format md -->\n"
    start = text.index(begin) + len(begin)
    return text[start: text.index("<!-- end -->", start)]


def _suite_of(row: dict) -> str:
    return Path(row["path"]).parent.name


def _run_bundled(installer: str, tmp_path: Path) -> dict:
    """§5: `varsolve conformance scenarios/ --installer uv|pip`, in CI: both suites, quickly, and
    each of docs/conformance.md's tables is its suite's verdicts (regenerate each with
    `varsolve conformance scenarios/SUITE --installer ... --format md`)."""
    out = tmp_path / f"{installer}.json"
    started = time.monotonic()
    r = _conformance("scenarios/", "--installer", installer, "--format", "json", "-o", str(out), "-j", "2")
    assert time.monotonic() - started < 120
    assert r.returncode == 0, r.stderr
    # Only varsolve's own warnings about the ecosystem suite's messy published metadata (its
    # strategies read the scenarios), never an error line.
    for line in r.stderr.splitlines():
        assert line.startswith("varsolve: warning: ") and "scenarios/ecosystem/metadata/" in line, r.stderr
    data = json.loads(out.read_text())
    report = ConformanceReport.from_dict(data)
    assert len(report.rows) == len(ALL) and not report.errors
    assert report.installer == {"uv": "uv 0.13.9", "pip": "pip 26.3"}[installer]  # the pinned test dependencies
    for suite in SUITES:
        part = ConformanceReport(report.installer, [row for row in report.rows if Path(row.path).parent.name == suite],
                                 report.strategies, report.command)
        assert part.rows and part.render("md") == _doc_block(installer, suite), suite
    return data


# -- uv and pip for real, against the document ----------------------------------------------------


def test_uv_matches_the_document_its_answers_are_verified_and_every_difference_has_a_cause(tmp_path: Path) -> None:
    data = _run_bundled("uv", tmp_path)
    rows = {row["scenario"]: row for row in data["rows"]}
    for row in rows.values():
        if row["status"] == "skip":  # the universal suite: uv pip compile resolves one target
            assert row["path"].startswith("scenarios/universal/") or "/universal/" in row["path"], row
            continue
        codes = {reason["code"] for reason in row["reasons"]}
        assert "unexplained" not in codes, row
        if row["status"] == "ok":
            assert row["valid"] is True, row  # the verifier accepts every file uv chose
            assert row["files"] and all(name in row["packages"] for name in row["files"])
        if row["same"]["pep825"] is False:  # only uv's own departures separate it from pep825
            assert codes & INSTALLER_CAUSES, row
    # The selection itself agrees even where uv then refused the metadata: the file it had
    # selected (its log) is pep825's, where both took the same version.
    marker_rows = [row for row in rows.values() if any(r["marker"] for r in row["rejected"])]
    assert len([row for row in marker_rows if _suite_of(row) == "variants"]) == 7
    for row in marker_rows:
        pep825 = row["strategies"]["pep825"]
        for rejection in row["rejected"]:
            if not rejection["marker"]:
                continue
            label = re.search(r"-([0-9a-z_.]+)\.whl$", rejection["file"]).group(1)
            if pep825 is not None and pep825[rejection["name"]].split()[0] == rejection["version"]:
                assert pep825[rejection["name"]] == f"{rejection['version']} [{label}]", row
    # Published metadata (variants_json) reaches uv as published: it refuses the 0.0.3-era
    # documents, the whole version, and silently takes an older release (ecosystem section 2).
    for row in rows.values():
        published = _published_releases(Path(row["path"]))
        for rejection in row["rejected"]:
            if rejection["file"].endswith("-variants.json"):
                assert (rejection["name"], rejection["version"]) in published, row
                assert rejection["reason"].startswith(f"Failed to parse variant metadata `{rejection['file']}`")
    mixed = {(r["name"], r["version"]): r for r in rows["ecosystem-messy-mixed-generations-cpu-v3"]["rejected"]}
    assert mixed[("scipy", "1.16.3")]["instead"] == "1.16.2" and mixed[("numpy", "2.3.4")]["instead"] == "2.3.3"
    assert "Unknown variant metadata schema" in mixed[("scipy", "1.16.3")]["reason"]
    legacy = rows["ecosystem-torch-2.8-legacy-labels-cuda128-v4"]
    assert [r["file"] for r in legacy["rejected"]] == ["torch-2.8.0-variants.json"]
    assert "unknown field `feature`" in legacy["rejected"][0]["reason"]
    assert [r["code"] for r in legacy["reasons"]] == ["metadata"]
    assert rows["blas-unify-unsatisfiable"]["mixed"] == ["blas_lapack :: library"]
    assert rows["optional-provider-enabled"]["reasons"] == [{"code": "optional", "text": "optional provider debug cannot be enabled"}]
    assert rows["abi-dependency"]["reasons"][0]["code"] == "abi"
    assert rows["two-namespaces-order"]["files"] == {
        "numpy": "numpy-2.3.0-py3-none-any-v3_openblas.whl", "scipy": "scipy-1.16.0-py3-none-any-v2_mkl.whl",
    }


PUBLISHED_WITH_PLAIN_WHEELS = """
name = "published-with-plain-wheels"
[root]
requires = ["scipy", "numpy", "linalg"]
[environment.variants]
"blas_lapack :: library" = ["openblas"]
[resolver_options]
python_platform = "x86_64-manylinux_2_39"
[packages.scipy.versions."1.16.3"]
sdist = false
variants_json = "scipy-1.16.3-invalid-variants.json"
[packages.scipy.versions."1.16.2"]
sdist = false
[packages.numpy.versions."2.3.5"]
sdist = false
wheel = false
variants_json = "numpy-2.3.5-invalid-variants.json"
[packages.numpy.versions."2.3.4"]
sdist = false
[packages.linalg.versions."2.0"]
sdist = false
variants_json = "scipy-1.16.3-mixed-generations-variants.json"
[packages.linalg.versions."1.0"]
sdist = false
"""


def test_uv_drops_a_whole_version_over_its_published_metadata_and_says_nothing(tmp_path: Path) -> None:
    """Ecosystem section 2: a *-variants.json uv cannot parse (a value written as a string; 0.0.3-era
    keys in a 0.2 file) makes the whole version unusable to uv 0.13.9, its non-variant wheel
    included: it installs the older release, and at its default verbosity says nothing. pep825
    takes the newer release's non-variant wheel (malformed file) or its variant (read with
    notes). numpy 2.3.5's schema from the future: uv reads it as its own, finds nothing
    compatible, and both take 2.3.4."""
    import shutil

    for name in ("scipy-1.16.3-invalid-variants.json", "numpy-2.3.5-invalid-variants.json",
                 "scipy-1.16.3-mixed-generations-variants.json"):
        shutil.copyfile(ECOSYSTEM / "metadata" / name, tmp_path / name)
    scenario = tmp_path / "published.toml"
    scenario.write_text(PUBLISHED_WITH_PLAIN_WHEELS)
    report = run_conformance([scenario], "uv")
    (row,) = report.rows
    assert row.status == "ok" and row.valid is True, row
    assert row.packages == {"linalg": "1.0", "numpy": "2.3.4", "scipy": "1.16.2"}
    pep825 = row.strategies["pep825"]
    assert pep825 is not None and pep825["numpy"] == "2.3.4" and pep825["scipy"] == "1.16.3"  # its non-variant wheel
    assert pep825["linalg"].startswith("2.0 [")  # a variant of the newer release (the file read with notes)
    assert [(r["name"], r["version"], r["file"], r["instead"]) for r in row.rejected] == [
        ("scipy", "1.16.3", "scipy-1.16.3-variants.json", "1.16.2"),
        ("linalg", "2.0", "linalg-2.0-variants.json", "1.0"),
    ]
    assert {r["code"] for r in row.reasons} == {"metadata"}
    assert "expected a sequence" in row.rejected[0]["reason"]
    # The same index, uv without -v (as a user runs it): the downgrade is silent.
    from varsolve.conformance.installers import Invocation, run_invocation
    from varsolve.index.server import IndexServer

    loaded = load_scenario(scenario)
    build_installer_index(loaded, tmp_path / "index")
    uv = UvInstaller()
    (tmp_path / "run").mkdir()
    with IndexServer(tmp_path / "index") as server:
        job = Job(loaded.name, server.index_url, loaded.problem.target, tuple(loaded.problem.requirements), tmp_path / "run")
        job.write_inputs()
        invocation = uv.invocation(job)
        quiet = run_invocation(Invocation(tuple(a for a in invocation.argv if a != "-v"), invocation.env, invocation.cwd),
                               60, "uv")
    assert quiet.returncode == 0 and "scipy==1.16.2" in quiet.stdout and "linalg==1.0" in quiet.stdout
    assert "invalid metadata" not in quiet.stderr and "warn" not in quiet.stderr.lower(), quiet.stderr


def _published_releases(scenario: Path) -> set[tuple[str, str]]:
    """The releases the scenario gives as published (variants_json)."""
    import tomllib

    data = tomllib.loads(scenario.read_text(encoding="utf-8"))
    return {
        (name, version) for name, package in data.get("packages", {}).items()
        for version, info in package.get("versions", {}).items() if "variants_json" in info
    }


def test_pip_matches_the_document_and_its_answers_are_non_variant_and_verified(tmp_path: Path) -> None:
    data = _run_bundled("pip", tmp_path)
    for row in data["rows"]:
        assert {r["code"] for r in row["reasons"]} <= {"unaware"}, row
        if row["status"] == "ok":
            assert row["valid"] is True and row["consistent"] is True, row
            assert all(parse_wheel(f).label is None for f in row["files"].values() if f.endswith(".whl")), row
    resolved = {row["scenario"] for row in data["rows"] if row["status"] == "ok"}
    assert resolved == {"non-variant-after-null", "null-variant-fallback", "optional-provider-disabled", "optional-provider-enabled"}


def test_varsolve_itself_as_a_command_template_agrees_with_pep825(tmp_path: Path) -> None:
    """The whole path (target in the served metadata, published metadata served as published,
    {variants}, the JSON reader, the verifier) gives back what `--strategy pep825` gives, on
    every bundled scenario of both suites but the one whose enabled optional provider the
    template cannot pass."""
    program = " ".join(varsolve_command())
    template = (
        f"{program} -q resolve -r {{requirements}} --index-url {{index_url}} --python {{python}} "
        "--python-platform {platform} --variants {variants} --strategy pep825 --only-binary :all: --no-cache --format json"
    )
    out = tmp_path / "report.json"
    r = _conformance("scenarios/", "--installer", template, "--format", "json", "-o", str(out), "-j", "2")
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["command"] == template
    differing = {row["scenario"] for row in data["rows"] if row["status"] != "skip" and not row["same"]["pep825"]}
    assert differing == {"optional-provider-enabled"}
    assert {row["scenario"] for row in data["rows"] if row["status"] == "skip"} == {"cuda-cpu-one-lock", "python-split-blas-unify"}
    assert all(row["status"] != "error" for row in data["rows"])


# -- bad installers ---------------------------------------------------------------------------------


BAD_SCRIPT = """
import os, sys, time
scenario, report = sys.argv[1], sys.argv[2]
open(os.path.join(sys.argv[3], "pid"), "a").write(f"{os.getpid()}\\n")
if scenario == "blas-unify":
    time.sleep(60)
elif scenario == "cuda-driver-too-old":
    print("garbage, not a report")
else:
    import json
    open(report, "w").write(json.dumps({"install": [{"metadata": {"name": "numpy", "version": "2.3.0"},
        "download_info": {"url": "http://x/numpy-2.3.0-py3-none-any-x86_64_v3.whl"}}]}))
"""


def test_a_hanging_and_a_garbage_installer_are_error_rows_and_the_run_goes_on(tmp_path: Path) -> None:
    script = tmp_path / "installer.py"
    script.write_text(BAD_SCRIPT)
    out = tmp_path / "report.json"
    started = time.monotonic()
    r = _conformance(
        str(VARIANTS / "blas-unify.toml"), str(VARIANTS / "cuda-driver-too-old.toml"), str(VARIANTS / "x86-64-level-too-new.toml"),
        "--installer", f"{sys.executable} {script} {{scenario}} {{report}} {tmp_path}", "--timeout", "2",
        "--format", "json", "-o", str(out),
    )
    assert time.monotonic() - started < 60
    assert r.returncode == 1
    program = Path(sys.executable).name
    assert r.stderr.splitlines() == [
        f"varsolve: error: {program}: blas-unify: timed out after 2 s (killed)",
        f"varsolve: error: {program}: cuda-driver-too-old: cannot read its output: not a pip installation report, "
        "varsolve JSON or pylock.toml ('garbage, not a report')",
    ]
    rows = {row["scenario"]: row for row in json.loads(out.read_text())["rows"]}
    assert [rows[s]["status"] for s in ("blas-unify", "cuda-driver-too-old", "x86-64-level-too-new")] == ["error", "error", "ok"]
    assert rows["blas-unify"]["message"] == "timed out after 2 s (killed)"
    assert rows["x86-64-level-too-new"]["same"] == {"pep825": True, "backtrack": True, "sat": True}
    for pid in map(int, (tmp_path / "pid").read_text().split()):  # the hanging one was killed
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.parametrize(
    ("installer", "message"),
    [
        ("no-such-installer-xyz {requirements}", "cannot run no-such-installer-xyz: No such file or directory"),
        ("sleep 30", "timed out after 0.5 s (killed)"),
        ("echo garbage", "cannot read its output: not a pip installation report, varsolve JSON or pylock.toml ('garbage')"),
        ("sh -c 'echo oops >&2; exit 4'", "exited with 4: oops"),
    ],
)
def test_bad_installers_give_error_rows(installer: str, message: str, tmp_path: Path) -> None:
    r = _conformance(str(VARIANTS / "blas-unify.toml"), str(VARIANTS / "x86-64-level-too-new.toml"),
                     "--installer", installer, "--timeout", "0.5")
    assert r.returncode == 1
    name = installer.split()[0]
    assert r.stderr.splitlines() == [f"varsolve: error: {name}: {s}: {message}" for s in ("blas-unify", "x86-64-level-too-new")]
    table = r.stdout.splitlines()
    assert table[1].split()[:2] == ["blas-unify", "error"] and table[2].split()[:2] == ["x86-64-level-too-new", "error"]
    assert "2 scenarios: 0 resolved, 0 no solution, 2 errors" in r.stdout


def test_a_missing_uv_is_an_error_row_per_scenario() -> None:
    report = run_conformance([VARIANTS / "blas-unify.toml"], UvInstaller(executable="/nonexistent/uv"))
    assert [row.status for row in report.rows] == ["error"]
    assert report.rows[0].message == "cannot run uv: No such file or directory"
    assert report.installer == "uv"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--installer", "x {nope}"], "--installer: unknown placeholder {nope}"),
        (["--installer", "x 'unclosed"], "--installer: cannot split"),
        (["--installer", "uv", "--timeout", "0"], "--timeout: must be a positive number"),
        (["--installer", "uv", "-j", "0"], "--jobs: must be at least 1"),
    ],
)
def test_bad_options_are_one_line_before_anything_runs(args: list[str], message: str) -> None:
    r = _conformance(str(VARIANTS / "blas-unify.toml"), *args, timeout=60)
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1 and message in r.stderr, r.stderr
    assert r.stdout == ""


def test_the_verifier_judges_every_installer_answer(tmp_path: Path) -> None:
    """A command that answers a wheel the target does not support, and one that forgets a
    dependency: the verifier says so; the row is `invalid`."""
    script = tmp_path / "answer.py"
    script.write_text(
        "import json, sys\n"
        "print(json.dumps({'install': [\n"
        "  {'metadata': {'name': 'numpy', 'version': '2.3.0'}, 'download_info': {'url': 'http://x/numpy-2.3.0-py3-none-any-mkl.whl'}},\n"
        "  {'metadata': {'name': 'scipy', 'version': '1.16.0'}, 'download_info': {'url': 'http://x/scipy-1.16.0-py3-none-any-openblas.whl'}}]}))\n"
    )
    report = run_conformance([VARIANTS / "blas-unify.toml"], f"{sys.executable} {script}")
    row = report.rows[0]
    assert row.status == "ok" and row.valid is False
    assert any("mkl-runtime" in v for v in row.violations), row.violations  # numpy [mkl] requires it
    assert row.consistent_text() == "invalid"


# -- the parts ----------------------------------------------------------------------------------------


def test_the_served_metadata_expresses_the_target(tmp_path: Path) -> None:
    scenario = load_scenario(VARIANTS / "static-properties-provider.toml")
    contents = build_installer_index(scenario, tmp_path / "index")
    impl = json.loads((tmp_path / "index" / "files" / "blas_impl-1.0-variants.json").read_text())
    user = json.loads((tmp_path / "index" / "files" / "lapack_user-1.0-variants.json").read_text())
    assert impl["$schema"] == user["$schema"] == "https://variants-schema.wheelnext.dev/peps/850/v0.2.0.json"
    assert impl["providers"] == {"blas_lapack": {"static-properties": {"library": ["openblas", "mkl"]}}}  # its own
    assert user["providers"] == {"blas_lapack": {"static-properties": {"library": ["mkl"]}}}  # the target's
    page = json.loads((tmp_path / "index" / "simple" / "lapack-user" / "index.json").read_text())
    entry = next(f for f in page["files"] if f["filename"].endswith("-variants.json"))
    data = (tmp_path / "index" / "files" / entry["filename"]).read_bytes()
    import hashlib

    assert entry["hashes"]["sha256"] == hashlib.sha256(data).hexdigest() and entry["size"] == len(data)
    assert contents.files["files/lapack_user-1.0-variants.json"] == data
    html = (tmp_path / "index" / "simple" / "lapack-user" / "index.html").read_text()
    assert f"#sha256={entry['hashes']['sha256']}" in html

    for name, expected in [
        ("optional-provider-enabled.toml", {"debug": {"optional": True, "static-properties": {"build": ["on"]}}}),
        ("null-variant-fallback.toml", {"nvidia": {"static-properties": {}}}),  # the target supports no nvidia
    ]:
        s = load_scenario(VARIANTS / name)
        repo = s.problem.repository
        release = next(r for n in repo.names() for r in repo.releases(n) if repo.variant_metadata(r) is not None)
        doc = express_target(repo.variant_metadata(release), s.problem.target).to_json_dict()
        assert doc["providers"] == expected, name


def test_published_metadata_is_served_as_published_not_rewritten(tmp_path: Path) -> None:
    """Releases given as published (variants_json) keep their file byte for byte, 0.0.3-era keys
    and unreadable documents included, so that the installer's column shows what it does with
    them; the others are rewritten with the target."""
    scenario = load_scenario(ECOSYSTEM / "messy-mixed-generations-cpu-v3.toml")
    build_installer_index(scenario, tmp_path / "index")
    files = tmp_path / "index" / "files"
    for served, source in [
        ("scipy-1.16.3-variants.json", "scipy-1.16.3-mixed-generations-variants.json"),
        ("numpy-2.3.4-variants.json", "numpy-2.3.4-variants.json"),
    ]:
        assert (files / served).read_bytes() == (ECOSYSTEM / "metadata" / source).read_bytes(), served
    rewritten = json.loads((files / "numpy-2.3.3-variants.json").read_text())
    assert rewritten["$schema"] == "https://variants-schema.wheelnext.dev/peps/850/v0.2.0.json"
    assert rewritten["providers"]["x86_64"]["static-properties"]["level"] == ["v3", "v2", "v1"]  # the target's
    assert rewritten["providers"]["blas_lapack"] == {"static-properties": {"library": ["accelerate", "openblas", "mkl"]}}
    invalid = load_scenario(ECOSYSTEM / "messy-invalid-metadata-cpu-v3.toml")  # varsolve cannot read it either
    build_installer_index(invalid, tmp_path / "invalid")
    assert (tmp_path / "invalid/files/numpy-2.3.5-variants.json").read_bytes() == (
        ECOSYSTEM / "metadata/numpy-2.3.5-invalid-variants.json").read_bytes()


def test_uv_platform_names() -> None:
    assert uv_platform(Target.make("3.12", "x86_64-manylinux_2_39")) == ("x86_64-manylinux_2_39", {})
    assert uv_platform(Target.make("3.12", "aarch64-macosx_14_0")) == ("aarch64-apple-darwin", {"MACOSX_DEPLOYMENT_TARGET": "14.0"})
    assert uv_platform(Target.make("3.12", "x86_64-musllinux_1_2")) == ("x86_64-unknown-linux-musl", {})
    with pytest.raises(InstallerFailure, match="musllinux_1_1"):
        uv_platform(Target.make("3.12", "x86_64-musllinux_1_1"))


def _job(tmp_path: Path) -> Job:
    return Job("s", "http://127.0.0.1:1/simple/", Target.make("3.12"), ("numpy",), tmp_path)


UV_LOG = """\
DEBUG Selecting: numpy==2.3.0 [compatible] (numpy-2.3.0-py3-none-any-mkl.whl)
DEBUG Selecting: scipy==1.16.0 [compatible] (scipy-1.16.0-py3-none-any-openblas.whl)
"""


def test_uv_output_is_read(tmp_path: Path) -> None:
    uv = UvInstaller(executable="uv")
    outcome = uv.parse(_job(tmp_path), Completed(0, "numpy==2.3.0\nscipy==1.16.0\n    # via numpy\n", UV_LOG))
    assert [(p.name, str(p.version), p.filename) for p in outcome.pins] == [
        ("numpy", "2.3.0", "numpy-2.3.0-py3-none-any-mkl.whl"), ("scipy", "1.16.0", "scipy-1.16.0-py3-none-any-openblas.whl"),
    ]
    refused = (
        "DEBUG Selecting: numpy==2.3.0 [compatible] (numpy-2.3.0-py3-none-any-mkl.whl)\n"
        "WARN `numpy==2.3.0` has invalid metadata: Expected a quoted string or a valid marker name, found `variant_properties`\n"
        "error: No solution found when resolving dependencies\n"
        "  cause: Because numpy==2.3.0 has invalid metadata and only numpy==2.3.0 is available, we can conclude ...\n"
    )
    outcome = uv.parse(_job(tmp_path), Completed(1, "", refused))
    assert outcome.status == "no-solution" and outcome.message.startswith("Because numpy==2.3.0 has invalid metadata")
    assert [(r.name, r.version, r.marker, r.filename) for r in outcome.rejected] == [
        ("numpy", "2.3.0", "variant_properties", "numpy-2.3.0-py3-none-any-mkl.whl"),
    ]
    published = (  # a *-variants.json uv cannot parse: the whole version, and an older one instead
        "WARN scipy has invalid metadata: Failed to parse variant metadata `scipy-1.16.3-variants.json`: Unknown variant "
        "metadata schema:\n  `https://variants-schema.wheelnext.dev/v0.2.0.json`:\n    data did not match any variant "
        "of untagged enum ProviderKind at line 11 column 5\n"
        "DEBUG Selecting: scipy==1.16.2 [compatible] (scipy-1.16.2-cp312-cp312-manylinux_2_28_x86_64-openblas.whl)\n"
    )
    outcome = uv.parse(_job(tmp_path), Completed(0, "scipy==1.16.2\n", published))
    assert [(r.name, r.version, r.filename, r.marker, r.instead) for r in outcome.rejected] == [
        ("scipy", "1.16.3", "scipy-1.16.3-variants.json", None, "1.16.2"),
    ]
    assert outcome.rejected[0].reason == (
        "Failed to parse variant metadata `scipy-1.16.3-variants.json`: Unknown variant metadata schema: "
        "`https://variants-schema.wheelnext.dev/v0.2.0.json`: data did not match any variant of untagged enum "
        "ProviderKind at line 11 column 5"
    )
    unsupported = "  cause: Because all versions of flashkit have only unsupported wheel variants and ...\nNo solution found\n"
    assert uv.parse(_job(tmp_path), Completed(1, "", unsupported)).unsupported_variants == ("flashkit",)
    with pytest.raises(InstallerFailure, match="its log names no file for numpy==2.3.0"):
        uv.parse(_job(tmp_path), Completed(0, "numpy==2.3.0\n", ""))
    with pytest.raises(InstallerFailure, match="exited with 2: error: unexpected argument"):
        uv.parse(_job(tmp_path), Completed(2, "", "error: unexpected argument '--bogus'\n"))


def test_pip_report_and_failures_are_read(tmp_path: Path) -> None:
    pip = PipInstaller(python=sys.executable)
    job = _job(tmp_path)
    job.report_file.write_text(json.dumps({"install": [
        {"metadata": {"name": "Torch", "version": "2.9.0"}, "download_info": {"url": "http://h/files/torch-2.9.0-py3-none-any.whl"}},
    ]}))
    outcome = pip.parse(job, Completed(0, "", ""))
    assert [(p.name, p.filename) for p in outcome.pins] == [("torch", "torch-2.9.0-py3-none-any.whl")]
    none = pip.parse(job, Completed(1, "", "ERROR: Could not find a version that satisfies the requirement numpy\n"
                                          "ERROR: No matching distribution found for numpy\n"))
    assert none.status == "no-solution" and none.message.startswith("Could not find a version")
    with pytest.raises(InstallerFailure, match="exited with 2: ERROR: no such option"):
        pip.parse(job, Completed(2, "", "ERROR: no such option: --bogus\n"))
    job.report_file.write_text("{not json")
    with pytest.raises(InstallerFailure, match="cannot read pip's report"):
        pip.parse(job, Completed(0, "", ""))


def test_command_templates(tmp_path: Path) -> None:
    installer = get_installer("tool --index {index_url} -r {requirements} --py {python} --plat {platform_tag} {{literal}}")
    assert isinstance(installer, CommandInstaller) and installer.name == "tool"
    argv = installer.invocation(_job(tmp_path)).argv
    assert argv == ("tool", "--index", "http://127.0.0.1:1/simple/", "-r", str(tmp_path / "requirements.in"),
                    "--py", "3.12.0", "--plat", "manylinux_2_39_x86_64", "{literal}")
    with pytest.raises(InputError, match="unknown placeholder"):
        get_installer("tool {indexurl}")
    lock = (
        'lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "numpy"\nversion = "2.3.0"\n'
        'wheels = [{ url = "http://h/numpy-2.3.0-py3-none-any-mkl.whl", hashes = { sha256 = "00" } }]\n'
    )
    outcome = installer.parse(_job(tmp_path), Completed(0, lock, ""))
    assert [(p.name, p.filename) for p in outcome.pins] == [("numpy", "numpy-2.3.0-py3-none-any-mkl.whl")]
    assert installer.parse(_job(tmp_path), Completed(1, "", "no luck\n")).message == "no luck"
    unsat = json.dumps({"satisfiable": False, "packages": {}, "explanation": "nothing fits\nmore"})
    assert installer.parse(_job(tmp_path), Completed(1, unsat, "")).status == "no-solution"
    assert installer.parse(_job(tmp_path), Completed(3, json.dumps({"satisfiable": True, "packages": {
        "numpy": {"version": "2.3.0", "variant": "mkl", "filename": "numpy-2.3.0-py3-none-any-mkl.whl"}}}), "")).status == "ok"
