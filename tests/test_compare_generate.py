"""``varsolve generate`` over the families registry, and the ecosystem-shaped family."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from varsolve.cli import main
from varsolve.commands.generate import families, knobs_of
from varsolve.compare import run_compare
from varsolve.generate.ecosystem import generate
from varsolve.sources.scenario import load_scenario
from varsolve.strategies import COMPLETE, available


def test_list_shows_every_family_with_its_knobs(capsys) -> None:
    assert main(["generate", "--list"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert "ecosystem" in lines
    assert "leaves=20" in lines["ecosystem"] and "gpu=true" in lines["ecosystem"]
    assert sorted(lines) == sorted(families())


def test_sweep_writes_every_combination_deterministically(tmp_path: Path, capsys) -> None:
    args = ["generate", "ecosystem", "leaves=4,8", "versions=2", "upper-bounds=0.5", "--seed", "1..2"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    printed = capsys.readouterr().out.split()
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(Path(p).name for p in printed) == [
        "ecosystem-leaves4-versions2-upperbounds0.5-seed1.toml",
        "ecosystem-leaves4-versions2-upperbounds0.5-seed2.toml",
        "ecosystem-leaves8-versions2-upperbounds0.5-seed1.toml",
        "ecosystem-leaves8-versions2-upperbounds0.5-seed2.toml",
    ]
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        scenario = load_scenario(tmp_path / "a" / name)
        leaves = [n for n in scenario.problem.repository.names() if n.startswith("lib")]
        assert len(leaves) == int(name.split("leaves")[1].split("-")[0])
    seed1 = (tmp_path / "a" / names[0]).read_text()
    seed2 = (tmp_path / "a" / names[1]).read_text()
    assert seed1 != seed2


@pytest.mark.parametrize(
    "args, message",
    [
        (["ecosystem", "colour=red"], "ecosystem: unknown knob 'colour' (knobs: leaves=20"),
        (["ecosystem", "leaves=many"], "ecosystem: leaves: expected int, got 'many'"),
        (["ecosystem", "gpu=perhaps"], "ecosystem: gpu: expected true or false, got 'perhaps'"),
        (["ecosystem", "leaves=0"], "ecosystem: leaves: must be an integer >= 1, got 0"),
        (["ecosystem", "blas_share=1.5"], "ecosystem: blas_share: must be a number from 0 to 1"),
        (["ecosystem", "leaves"], "ecosystem: expected KNOB=VALUE, got 'leaves'"),
        (["ecosystem", "--seed", "x"], "--seed: expected N, N1,N2,... or START..END"),
        (["galaxy"], "unknown family 'galaxy'"),
        ([], "give a FAMILY"),
    ],
)
def test_bad_knobs_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    assert_generate_rejects(tmp_path, args, message)


def assert_generate_rejects(tmp_path: Path, args: list[str], message: str) -> None:
    """``varsolve generate ARGS`` exits 2 with one line holding ``message`` and writes nothing."""
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "varsolve.cli", "generate", *args, "--out", str(out)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert not out.exists()


def test_knobs_may_follow_the_options(tmp_path: Path, capsys) -> None:
    """The documented order: varsolve generate FAMILY --out DIR [knobs] [--seed N]."""
    assert main(["generate", "ecosystem", "--out", str(tmp_path), "leaves=5", "--seed", "3", "versions=2"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["ecosystem-leaves5-versions2-seed3.toml"]
    assert (tmp_path / "ecosystem-leaves5-versions2-seed3.toml").read_text() == generate(seed=3, leaves=5, versions=2)


def test_out_is_required(capsys) -> None:
    assert main(["generate", "ecosystem"]) == 2
    assert "--out DIR is required" in capsys.readouterr().err


@pytest.mark.parametrize("family", sorted(families()))
def test_every_registered_family_writes_loadable_scenarios(family: str, tmp_path: Path) -> None:
    """Whatever lands in varsolve.generate.FAMILIES works through the command with its defaults."""
    assert main(["-q", "generate", family, "--out", str(tmp_path), "--seed", "7"]) == 0
    (path,) = tmp_path.iterdir()
    scenario = load_scenario(path)
    assert scenario.problem.requirements
    assert "seed" not in knobs_of(families()[family])


def test_ecosystem_is_consistently_satisfiable_and_traps_the_status_quo(tmp_path: Path) -> None:
    """By construction a consistent resolution exists: every complete strategy must find one
    (checked by the verifier inside the harness), while the status quo mixes BLAS or CUDA
    builds in some of them: the point of the family."""
    for seed in range(6):
        (tmp_path / f"eco-{seed}.toml").write_text(generate(seed=seed, leaves=25, versions=4), encoding="utf-8")
    (tmp_path / "eco-cpu.toml").write_text(generate(seed=9, leaves=25, versions=4, gpu=False), encoding="utf-8")
    strategies = [s for s in available() if s in COMPLETE or s == "pep825"]
    report = run_compare([tmp_path], strategies, jobs=2, memory="off")
    for row in report.rows:
        assert row.status == "ok", (row.scenario, row.strategy, row.error)
        if row.complete:
            assert row.satisfiable and row.consistent and row.valid, (row.scenario, row.strategy, row.violations)
            assert row.expected == "pass", (row.scenario, row.strategy, row.problems)
        else:
            assert row.valid, (row.scenario, row.violations)
    quo = report.summary["status_quo"][0]
    assert quo["inconsistent"] >= 2
    cpu = [r for r in report.rows if r.path.endswith("eco-cpu.toml")]
    assert all(not any(v.endswith(("[cu126]", "[cu128]")) for v in r.packages.values()) for r in cpu)


def test_ecosystem_knobs_shape_the_index() -> None:
    from varsolve.compare.tasks import scenario_from_text, scenario_size

    small = scenario_size(scenario_from_text(generate(seed=1, leaves=5, versions=2), "small"))
    big = scenario_size(scenario_from_text(generate(seed=1, leaves=50, versions=6), "big"))
    # 5 hubs (numpy, scipy, torch, mkl-runtime, nvidia-cuda-runtime) + the leaves.
    assert small["packages"] == 10 and big["packages"] == 55
    assert big["releases"] > small["releases"]
    repo = scenario_from_text(generate(seed=1, leaves=30, versions=3, blas_share=0.0, cuda_share=0.0), "plain").problem.repository
    carriers = {n for n in repo.names() for r in repo.releases(n) if repo.variant_metadata(r) is not None}
    assert carriers == {"numpy", "scipy", "torch"}  # only the hubs when no leaf is compiled
    repo = scenario_from_text(generate(seed=1, leaves=30, versions=3, blas_share=1.0), "blas").problem.repository
    leaves = [n for n in repo.names() if n.startswith("lib")]
    for name in leaves:
        for release in repo.releases(name):
            assert "openblas" in repo.variant_metadata(release).variants  # the consistent way out
    assert generate(seed=4) == generate(seed=4)
