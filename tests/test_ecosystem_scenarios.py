"""The ecosystem suite (scenarios/ecosystem): published variant data (torch, numpy, scipy,
xgboost, cupy, NVIDIA runtime libraries) on four machines, with every strategy through the
verifier (test_bundled_scenarios runs every file too); messy published metadata; the same index
served from a folder of real wheels, with and without its ``*-variants.json``."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import SCENARIOS, run_varsolve
from varsolve.api import build_problem, solve
from varsolve.errors import InputError
from varsolve.scenario_check import check_scenario
from varsolve.sources.scenario import iter_scenario_files, load_scenario
from varsolve.strategies import COMPLETE, available

ECOSYSTEM = SCENARIOS / "ecosystem"
FILES = iter_scenario_files([ECOSYSTEM])
MACHINES = ("cuda128-v4", "cpu-v3", "apple-m2", "rocm70-v3")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ecosystem_generate", ECOSYSTEM / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_files_are_what_the_generator_writes() -> None:
    """The TOML files are generated from one model (and the machines from the detectors reading
    recorded answers): a hand edit, or a detector change, shows up here."""
    expected = _generator().scenarios()
    on_disk = {p.stem: p.read_text(encoding="utf-8") for p in FILES}
    assert sorted(on_disk) == sorted(expected)
    for name, text in expected.items():
        assert on_disk[name] == text, f"{name}.toml is stale: run scenarios/ecosystem/generate.py"


def test_every_machine_and_situation_is_covered() -> None:
    stems = {p.stem for p in FILES}
    for situation in ("torch", "blas", "gpu-stack"):
        for machine in MACHINES:
            assert f"{situation}-{machine}" in stems


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_strategy_has_its_own_expectation(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.expected.complete.satisfiable is not None
    assert scenario.expected.for_strategy("pep825", False) is not None
    for strategy in available():
        result = check_scenario(scenario, strategy, strategy in COMPLETE)
        assert result.status == "pass", "\n".join(result.problems)
        assert result.resolution is not None and result.resolution.valid, result.resolution


def _pins(path: Path, strategy: str) -> dict[str, tuple[str, str | None]]:
    resolution = solve(load_scenario(path).problem, strategy)
    assert resolution.satisfiable
    return {name: (str(pin.version), pin.variant) for name, pin in resolution.packages.items()}


def test_machine_targets_come_from_the_detectors() -> None:
    """CUDA 12.8 machine: x86-64-v4 flags and nvidia values as varsolve detect writes them."""
    target = load_scenario(ECOSYSTEM / "torch-cuda128-v4.toml").problem.target
    assert target.variants["nvidia"]["cuda_version_lower_bound"][:3] == ("12.8", "12.7", "12.6")
    assert target.variants["nvidia"]["sm_arch"] == ("90_real", "90_virtual")
    assert target.variants["x86_64"]["level"] == ("v4", "v3", "v2", "v1")
    assert target.variants["x86_64"]["avx512f"] == ("on",)
    cpu = load_scenario(ECOSYSTEM / "torch-cpu-v3.toml").problem.target
    assert cpu.variants["x86_64"]["level"] == ("v3", "v2", "v1")
    assert cpu.variants["nvidia"] == {"cuda_version_lower_bound": ()}  # listed, nothing supported


# -- the status quo breaks: a BLAS mismatch, seen through two spellings -------------------------
def test_blas_mismatch_needs_the_two_spellings_to_be_one_feature() -> None:
    path = ECOSYSTEM / "blas-cuda128-v4.toml"
    status_quo = solve(load_scenario(path).problem, "pep825")
    assert status_quo.packages["numpy"].variant == "x8664v4_mkl" and status_quo.packages["scipy"].variant == "openblas"
    assert not status_quo.consistent  # numpy says blas_lapack :: provider, scipy :: library: still caught
    for strategy in COMPLETE:
        assert _pins(path, strategy)["numpy"] == ("2.3.4", "openblas")


# -- messy metadata: never downgrade silently -----------------------------------------------------
def test_invalid_metadata_is_reported_in_json_and_on_stderr() -> None:
    path = ECOSYSTEM / "messy-invalid-metadata-cpu-v3.toml"
    proc = run_varsolve("resolve", "--scenario", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["packages"]["scipy"] == {
        "version": "1.16.3", "variant": "", "filename": "scipy-1.16.3-cp312-cp312-manylinux_2_28_x86_64.whl",
    }
    assert data["packages"]["numpy"]["version"] == "2.3.4"
    report = {(r["package"], r["version"]): r for r in data["stats"]["variant_metadata"]}
    scipy = report[("scipy", "1.16.3")]
    assert scipy["status"] == "invalid" and scipy["fallback"] == "non-variant wheel"
    assert scipy["file"].endswith("metadata/scipy-1.16.3-invalid-variants.json")
    assert "must be a list of strings" in scipy["reason"]
    numpy = report[("numpy", "2.3.5")]
    assert numpy["fallback"] is None and "unsupported variant metadata schema version 0.3" in numpy["reason"]
    lines = proc.stderr.splitlines()
    assert any("scipy 1.16.3" in line and "scipy-1.16.3-invalid-variants.json" in line and "non-variant wheel" in line for line in lines)
    assert any("numpy 2.3.5" in line and "an older release may be used" in line for line in lines)


def test_mixed_generation_metadata_is_read_with_notes() -> None:
    path = ECOSYSTEM / "messy-mixed-generations-cpu-v3.toml"
    resolution = solve(load_scenario(path).problem, "sat")
    assert resolution.packages["scipy"].variant == "openblas" and str(resolution.packages["scipy"].version) == "1.16.3"
    (entry,) = resolution.stats["variant_metadata"]
    assert entry["status"] == "read with notes" and len(entry["notes"]) == 4
    assert any("providers.blas_lapack.enable-if" in n for n in entry["notes"])


# -- the same index as real wheels in a folder --------------------------------------------------
def _folder(tmp_path: Path, scenario: Path) -> Path:
    from varsolve.index.builder import build_index

    out = tmp_path / "index"
    build_index(scenario, out, metadata_files=False, json_pages=False)
    return out / "files"


def _resolve_folder(scenario: Path, folder: Path, strategy: str) -> dict[str, tuple[str, str | None]]:
    from varsolve.sources.findlinks import FindLinksRepository

    repository = FindLinksRepository(folder)
    try:
        resolution = solve(build_problem(scenario=scenario, repository=repository), strategy)
    finally:
        repository.close()
    assert resolution.satisfiable and resolution.valid, resolution
    return {name: (str(pin.version), pin.variant) for name, pin in resolution.packages.items()}


@pytest.mark.parametrize("situation", ["blas-cuda128-v4", "torch-rocm70-v3"])
def test_missing_variants_json_reads_each_wheels_variant_json(tmp_path: Path, situation: str) -> None:
    """PEP 825: without an index-level ``*-variants.json`` (a local folder), the metadata is read
    from one wheel per label; the answer is the scenario's, for every strategy."""
    scenario = ECOSYSTEM / f"{situation}.toml"
    folder = _folder(tmp_path, scenario)
    removed = sorted(p.name for p in folder.glob("*-variants.json"))
    assert removed
    for path in folder.glob("*-variants.json"):
        path.unlink()
    for strategy in available():
        assert _resolve_folder(scenario, folder, strategy) == _pins(scenario, strategy), strategy


def test_published_0_0_3_file_in_a_folder(tmp_path: Path) -> None:
    """numpy's index-level file replaced by the published 0.0.3 document, byte for byte."""
    scenario = ECOSYSTEM / "blas-cuda128-v4.toml"
    folder = _folder(tmp_path, scenario)
    shutil.copyfile(ECOSYSTEM / "metadata" / "numpy-2.3.4-variants.json", folder / "numpy-2.3.4-variants.json")
    for strategy in available():
        assert _resolve_folder(scenario, folder, strategy) == _pins(scenario, strategy), strategy


# -- the scenario keys the suite needs ----------------------------------------------------------
def test_variants_json_and_variant_tags_errors(write_scenario: Any, tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text(json.dumps({
        "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json",
        "default-priorities": {"namespace": ["a"]}, "variants": {"x": {"a": {"f": ["v"]}}},
    }))
    (tmp_path / "nolabels.json").write_text('{"$schema": "x"}')
    cases = [
        ('variants_json = "ok.json"\nvariants = { x = [] }', "versions.\"1.0\".variants: not allowed together with variants_json"),
        ('variants_json = "missing.json"', "variants_json"),
        ('variants_json = "nolabels.json"', "no variants table"),
        ('variants_json = "ok.json"\nvariant_tags = { y = ["py3-none-any"] }', "no variant is labelled 'y'"),
        ('variants_json = "ok.json"\nvariant_tags = { x = ["not a tag"] }', "invalid tag"),
        ('variant_tags = { x = ["py3-none-any"] }', "only allowed together with variants"),
    ]
    for body, message in cases:
        path = write_scenario(f'[packages.p.versions."1.0"]\n{body}\n')
        with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_scenario(path)
    path = write_scenario('[packages.p.versions."1.0"]\nvariants_json = "ok.json"\nvariant_tags = { x = ["cp312-none-any"] }\n')
    files = {f.filename for f in load_scenario(path).problem.repository.releases("p")[0].files}
    assert "p-1.0-cp312-none-any-x.whl" in files and "p-1.0-py3-none-any.whl" in files
