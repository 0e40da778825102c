"""Built-in detection: x86-64 levels, AArch64 versions, NVIDIA driver/GPUs, ``varsolve detect``,
and resolving with what it wrote (``--variants``) or with ``--detect``."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest

from conftest import FIXTURES, run_varsolve
from varsolve.api import build_problem, solve
from varsolve.providers.detect import aarch64, nvidia, x86_64
from varsolve.providers.static_file import load_static_file
from varsolve.target import ProviderPolicy

CPUINFO = FIXTURES / "cpuinfo"
NVIDIA = FIXTURES / "nvidia"
ON_X86_64 = platform.machine().lower() in ("x86_64", "amd64")


# -- x86-64 ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fixture", "levels"),
    [
        ("x86-64-v1-athlon64.txt", ("v1",)),
        ("x86-64-v2-nehalem.txt", ("v2", "v1")),
        ("x86-64-v2-vm-without-abm.txt", ("v2", "v1")),
        ("x86-64-v3-haswell.txt", ("v3", "v2", "v1")),
        ("x86-64-v4-skylake-sp.txt", ("v4", "v3", "v2", "v1")),
    ],
)
def test_x86_64_level_from_recorded_cpuinfo(fixture: str, levels: tuple[str, ...]) -> None:
    path = CPUINFO / fixture
    detection = x86_64.detect_from_cpuinfo(path.read_text(), str(path))
    assert detection.note is None
    assert detection.features["level"] == levels
    assert next(iter(detection.features)) == "level"  # the most important feature comes first


def test_x86_64_levels_are_cumulative() -> None:
    v1, v2, v3, v4 = x86_64.LEVEL_FLAGS
    assert x86_64.level(v1 | v2 | v3 | v4) == 4
    # AVX-512 without one v3 flag (a VM masking MOVBE) is not v4: each level needs the ones below.
    assert x86_64.level(v1 | v2 | (v3 - {"movbe"}) | v4) == 2
    assert x86_64.level(v1 | v3 | v4) == 1
    assert x86_64.level(v2 | v3 | v4) == 0
    assert x86_64.supported_features(v2 | v3 | v4) == {}


def test_x86_64_flag_features_use_plugin_names() -> None:
    path = CPUINFO / "x86-64-v3-haswell.txt"
    features = x86_64.detect_from_cpuinfo(path.read_text(), str(path)).features
    assert features["sse3"] == ("on",)  # Linux calls it "pni"
    assert features["avx2"] == features["abm"] == ("on",)
    assert "avx512f" not in features and "pni" not in features
    order = list(features)
    assert order.index("avx2") < order.index("sse4_2") < order.index("sse2")


def test_x86_64_processors_are_intersected() -> None:
    text = "processor: 0\nflags: fpu cx8 cmov mmx fxsr sse sse2 avx\n\nprocessor: 1\nflags: fpu cx8 cmov mmx fxsr sse sse2\n"
    assert x86_64.parse_cpuinfo_flags(text) == x86_64.LEVEL_FLAGS[0]
    assert x86_64.parse_cpuinfo_flags("Features: fp asimd\n") is None


@pytest.mark.skipif(not ON_X86_64, reason="needs an x86_64 machine")
def test_x86_64_this_machine() -> None:
    detection = x86_64.detect_host()
    levels = detection.features["level"]
    assert levels[-1] == "v1"
    assert levels == tuple(f"v{n}" for n in range(len(levels), 0, -1))
    flags = x86_64.parse_cpuinfo_flags(Path("/proc/cpuinfo").read_text())
    assert len(levels) == x86_64.level(flags)


def test_x86_64_detector_reports_other_machines() -> None:
    detection = x86_64.detect_from_cpuinfo((CPUINFO / "aarch64-8a-cortex-a72.txt").read_text(), "cpuinfo")
    assert detection.features == {} and "no x86 CPU flags" in detection.note


# -- AArch64 -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fixture", "versions"),
    [
        ("aarch64-8a-cortex-a72.txt", ("8a",)),
        ("aarch64-8.2a-neoverse-n1.txt", ("8.2a", "8.1a", "8a")),
        ("aarch64-8.4a-neoverse-v1.txt", ("8.4a", "8.3a", "8.2a", "8.1a", "8a")),
        # uv's vendored provider knows 8a to 8.4a: a 9.0a CPU is reported as 8.4a.
        ("aarch64-9.0a-neoverse-v2.txt", ("8.4a", "8.3a", "8.2a", "8.1a", "8a")),
    ],
)
def test_aarch64_version_from_recorded_cpuinfo(fixture: str, versions: tuple[str, ...]) -> None:
    path = CPUINFO / fixture
    detection = aarch64.detect_from_cpuinfo(path.read_text(), str(path))
    assert detection.features["version"] == versions
    assert next(iter(detection.features)) == "version"


def test_aarch64_hwcap_bits_decode_to_the_same_answer() -> None:
    text = (CPUINFO / "aarch64-9.0a-neoverse-v2.txt").read_text()
    names = aarch64.parse_cpuinfo_features(text)
    hwcap = sum(1 << i for i, name in enumerate(aarch64.HWCAP_BITS) if name in names)
    hwcap2 = sum(1 << i for i, name in enumerate(aarch64.HWCAP2_BITS) if name in names)
    decoded = aarch64.decode_hwcaps(hwcap, hwcap2)
    assert decoded == names & (set(aarch64.HWCAP_BITS) | set(aarch64.HWCAP2_BITS))
    assert aarch64.supported_features(decoded) == aarch64.supported_features(names)
    assert aarch64.decode_hwcaps(0b11, 0) == {"fp", "asimd"}
    assert aarch64.versions(frozenset({"fp", "asimd", "atomics", "asimdrdm"})) == ("8a",)  # no crc32


# -- NVIDIA ------------------------------------------------------------------------------------
def _nvidia(name: str):
    return nvidia.detect_from_file(NVIDIA / name)


def test_nvidia_nvml_rtx5090() -> None:
    detection = _nvidia("nvml-rtx5090-driver-570.json")
    features = detection.features
    assert list(features) == ["cuda_version_lower_bound", "cuda_version_upper_bound", "sm_arch"]
    lower = features["cuda_version_lower_bound"]
    assert lower[:10] == ("12.8", "12.7", "12.6", "12.5", "12.4", "12.3", "12.2", "12.1", "12.0", "12")
    assert lower[10:13] == ("11.20", "11.19", "11.18") and lower[-2:] == ("11.0", "11")
    assert len(lower) == 10 + 22
    upper = features["cuda_version_upper_bound"]
    assert upper[:3] == ("15.20", "15.19", "15.18") and upper[-2:] == ("12.10", "12.9")
    assert "12.8" not in upper and "13" in upper and "12" not in upper
    assert features["sm_arch"] == ("120_real", "120_virtual")
    assert detection.note is None


def test_nvidia_nvml_only_newest_gpu_counts() -> None:
    features = _nvidia("nvml-h100-and-t4-driver-550.json").features
    assert features["sm_arch"] == ("90_real", "90_virtual")
    assert features["cuda_version_lower_bound"][0] == "12.4"


def test_nvidia_nvml_old_gpu_and_cuda_11() -> None:
    detection = _nvidia("nvml-k80-driver-470.json")
    assert detection.features["cuda_version_lower_bound"] == ("11.4", "11.3", "11.2", "11.1", "11.0", "11")
    assert "sm_arch" not in detection.features
    assert "older than 5.0" in detection.note


def test_nvidia_nvml_driver_without_gpus() -> None:
    detection = _nvidia("nvml-driver-without-gpus.json")
    assert detection.features["cuda_version_lower_bound"][0] == "12.2"
    assert "sm_arch" not in detection.features


def test_nvidia_nvml_no_driver() -> None:
    detection = _nvidia("nvml-driver-not-loaded.json")
    assert detection.features == {}
    assert "Driver Not Loaded" in detection.note and "listing nothing" in detection.note


@pytest.mark.parametrize(
    ("fixture", "cuda", "sm_arch"),
    [
        ("nvidia-smi-a100-driver-535.csv", "12.2", ("80_real", "80_virtual")),
        (
            "nvidia-smi-2x-rtx4090-driver-560.csv", "12.6",
            ("89_real", "88_real", "87_real", "86_real", "85_real", "84_real", "83_real", "82_real",
             "81_real", "80_real", "80_virtual"),
        ),
        ("nvidia-smi-l4-driver-595.csv", "13.0", None),
    ],
)
def test_nvidia_smi_answers(fixture: str, cuda: str, sm_arch: tuple[str, ...] | None) -> None:
    features = _nvidia(fixture).features
    assert features["cuda_version_lower_bound"][0] == cuda
    if sm_arch is not None:
        assert features["sm_arch"] == sm_arch


def test_nvidia_smi_without_driver() -> None:
    detection = _nvidia("nvidia-smi-no-driver.txt")
    assert detection.features == {}
    assert "couldn't communicate with the NVIDIA driver" in detection.note


def test_nvidia_driver_table_boundaries() -> None:
    assert nvidia.cuda_for_driver("570.26") == (12, 8)
    assert nvidia.cuda_for_driver("570.25.99") == (12, 6)
    assert nvidia.cuda_for_driver("450.36.06") == (11, 0)
    assert nvidia.cuda_for_driver("440.100") is None


def test_nvidia_cuda_outside_plugin_range_lists_nothing() -> None:
    answer = nvidia.NvidiaAnswer("test", (10, 2), "440.33.01", ((7, 5),))
    features, note = nvidia.supported_features(answer)
    assert features == {} and "outside 11.0" in note
    answer = nvidia.NvidiaAnswer("test", (15, 20), "999.1", ((12, 1),))
    features, _ = nvidia.supported_features(answer)
    assert "cuda_version_upper_bound" not in features
    assert features["sm_arch"] == ("121_real", "120_real", "120_virtual")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"nvmlSystemGetCudaDriverVersion_v2": "12.8"}', "positive integer"),
        ('{"nvmlSystemGetCudaDriverVersion_v2": 12080, "devices": [{"nvmlDeviceGetCudaComputeCapability": [9]}]}', "[major, minor]"),
        ("{not json", "malformed JSON"),
        ("name, driver_version, compute_cap\nA100, 535.104.05\n", "expected 3 columns"),
        ("name, driver_version, compute_cap\nA100, 535.104.05, eight\n", "invalid compute capability"),
        ("name, driver_version, compute_cap\nA, 535.104.05, 8.0\nB, 550.54.15, 9.0\n", "different driver versions"),
    ],
)
def test_nvidia_bad_recordings(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "answer"
    path.write_text(content)
    with pytest.raises(nvidia.RecordError, match=message.replace("[", r"\[").replace("]", r"\]")):
        nvidia.read_recorded(path)


def test_nvidia_this_machine() -> None:
    """The live path (NVML, then nvidia-smi) runs for real; without a driver it says so."""
    detection = nvidia.detect_host()
    if detection.features:
        assert detection.features["cuda_version_lower_bound"]
    else:
        assert detection.note and "listing nothing" in detection.note


# -- varsolve detect ---------------------------------------------------------------------------
def test_detect_command_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "machine.toml"
    proc = run_varsolve("detect", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    supported = load_static_file(out)
    assert "nvidia" in supported  # listed even when empty: the file is the whole truth about it
    if ON_X86_64:
        assert supported["x86_64"]["level"][-1] == "v1"
    if not supported["nvidia"]:
        assert "nvidia" in proc.stderr and "listing nothing" in proc.stderr
    again = run_varsolve("detect")
    assert again.stdout == out.read_text()  # same machine, same bytes


def test_detect_command_from_recordings_toml_and_json(tmp_path: Path) -> None:
    args = ["--cpuinfo", str(CPUINFO / "x86-64-v3-haswell.txt"), "--nvidia-from", str(NVIDIA / "nvml-rtx5090-driver-570.json")]
    toml_path, json_path = tmp_path / "t.toml", tmp_path / "t.json"
    assert run_varsolve("detect", *args, "-o", str(toml_path)).returncode == 0
    proc = run_varsolve("detect", *args, "--format", "json", "-o", str(json_path))
    assert proc.returncode == 0 and proc.stderr == ""
    from_toml, from_json = load_static_file(toml_path), load_static_file(json_path)
    assert from_toml == from_json
    assert list(from_toml) == ["x86_64", "nvidia"]
    assert from_toml["x86_64"]["level"] == ("v3", "v2", "v1")
    assert from_toml["nvidia"]["sm_arch"] == ("120_real", "120_virtual")
    assert json.loads(json_path.read_text())["provider"][0]["namespace"] == "x86_64"


def test_detect_command_aarch64_recording_and_no_gpu(tmp_path: Path) -> None:
    proc = run_varsolve(
        "detect", "--cpuinfo", str(CPUINFO / "aarch64-8.4a-neoverse-v1.txt"),
        "--nvidia-from", str(NVIDIA / "nvidia-smi-no-driver.txt"),
    )
    assert proc.returncode == 0
    (tmp_path / "f.toml").write_text(proc.stdout)
    supported = load_static_file(tmp_path / "f.toml")
    assert supported["aarch64"]["version"][0] == "8.4a"
    assert supported["nvidia"] == {}
    assert proc.stderr.count("\n") == 1 and "nvidia" in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cpuinfo", "missing.txt"], "missing.txt: cannot read"),
        (["--cpuinfo", str(NVIDIA / "README.md")], "neither x86 'flags' nor AArch64 'Features'"),
        (["--nvidia-from", str(CPUINFO / "x86-64-v1-athlon64.txt"), "--cpuinfo", str(CPUINFO / "x86-64-v1-athlon64.txt")], None),
        (["--nvidia-from", "missing.json"], "missing.json: cannot read"),
    ],
)
def test_detect_command_bad_input(tmp_path: Path, args: list[str], message: str | None) -> None:
    out = tmp_path / "out.toml"
    proc = run_varsolve("detect", *args, "-o", str(out), cwd=tmp_path)
    if message is None:  # a text that is no nvidia-smi answer is nvidia-smi's complaint: nothing listed
        assert proc.returncode == 0 and load_static_file(out)["nvidia"] == {}
        return
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_detect_command_unwritable_output(tmp_path: Path) -> None:
    proc = run_varsolve("detect", "--cpuinfo", str(CPUINFO / "x86-64-v1-athlon64.txt"), "-o", str(tmp_path / "no" / "such" / "dir.toml"))
    assert proc.returncode == 2 and "cannot write" in proc.stderr
    assert not (tmp_path / "no").exists()


# -- resolving with what detect wrote ------------------------------------------------------------
SCENARIO = """
[root]
requires = ["numpy", "torch"]

[packages.numpy.versions."2.3.0"]
sdist = false

[packages.numpy.versions."2.3.0".variants]
x86_64_v4 = ["x86_64 :: level :: v4"]
x86_64_v3 = ["x86_64 :: level :: v3"]
x86_64_v2 = ["x86_64 :: level :: v2"]

[packages.torch.versions."2.9.0"]
sdist = false

[packages.torch.versions."2.9.0".variants]
cu129 = ["nvidia :: cuda_version_lower_bound :: 12.9"]
cu128 = ["nvidia :: cuda_version_lower_bound :: 12.8", "nvidia :: sm_arch :: 120_real"]
cu126 = ["nvidia :: cuda_version_lower_bound :: 12.6"]
cu118_old_gpu = ["nvidia :: cuda_version_lower_bound :: 11.8", "nvidia :: sm_arch :: 70_real"]
"""


def _labels(resolution) -> dict[str, str]:
    return {name: pin.variant for name, pin in resolution.packages.items()}


@pytest.mark.parametrize(
    ("cpu", "gpu", "numpy", "torch"),
    [
        ("x86-64-v3-haswell.txt", "nvml-rtx5090-driver-570.json", "x86_64_v3", "cu128"),
        ("x86-64-v4-skylake-sp.txt", "nvidia-smi-a100-driver-535.csv", "x86_64_v4", ""),
        ("x86-64-v2-nehalem.txt", "nvidia-smi-2x-rtx4090-driver-560.csv", "x86_64_v2", "cu126"),
        ("x86-64-v1-athlon64.txt", "nvml-driver-not-loaded.json", "", ""),
    ],
)
def test_resolve_with_detected_file(tmp_path: Path, write_scenario, cpu: str, gpu: str, numpy: str, torch: str) -> None:
    target = tmp_path / "target.toml"
    proc = run_varsolve("detect", "--cpuinfo", str(CPUINFO / cpu), "--nvidia-from", str(NVIDIA / gpu), "-o", str(target))
    assert proc.returncode == 0, proc.stderr
    scenario = write_scenario(SCENARIO)
    for strategy in ("pep825", "backtrack"):
        resolution = solve(build_problem(scenario=scenario, variants_file=target), strategy)
        assert resolution.satisfiable and resolution.violations == ()
        assert _labels(resolution) == {"numpy": numpy, "torch": torch}
    cli = run_varsolve("resolve", "--scenario", str(scenario), "--variants", str(target), "--format", "json")
    assert cli.returncode == 0, cli.stderr
    pins = {name: p["variant"] for name, p in json.loads(cli.stdout)["packages"].items()}
    assert pins == {"numpy": numpy, "torch": torch}


@pytest.mark.skipif(not ON_X86_64, reason="needs an x86_64 machine")
def test_resolve_detect_reads_this_machine_only_when_asked(write_scenario) -> None:
    scenario = write_scenario(SCENARIO)
    expected = f"x86_64_v{min(len(x86_64.detect_host().features['level']), 4)}"
    if expected == "x86_64_v1":
        expected = ""  # numpy has no v1 build: the non-variant wheel
    plain = solve(build_problem(scenario=scenario), "backtrack")
    assert _labels(plain)["numpy"] == ""  # the default target never reads the host
    detected = solve(build_problem(scenario=scenario, provider_policy=ProviderPolicy(detect=True)), "backtrack")
    assert detected.violations == ()
    assert _labels(detected)["numpy"] == expected
    cli = run_varsolve("resolve", "--scenario", str(scenario), "--detect", "--format", "json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["packages"]["numpy"]["variant"] == expected


def test_static_file_beats_detection(write_scenario, tmp_path: Path) -> None:
    """PEP 850 step 3 before step 4: a namespace in the user's file is never detected."""
    target = tmp_path / "target.toml"
    target.write_text('[[provider]]\nnamespace = "x86_64"\n[provider.properties]\nlevel = ["v2", "v1"]\n')
    scenario = write_scenario(SCENARIO)
    policy = ProviderPolicy(detect=True)
    resolution = solve(build_problem(scenario=scenario, variants_file=target, provider_policy=policy), "backtrack")
    assert _labels(resolution)["numpy"] == "x86_64_v2"
    assert resolution.violations == ()


# -- uv's vendored providers: fallbacks, override variables, tpu ---------------------------------
def test_x86_64_unreadable_cpu_is_v2_as_in_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(x86_64, "is_host", lambda: True)
    detection = x86_64.detect_host(tmp_path / "missing")
    assert detection.features == {"level": ("v2", "v1")}
    assert "assuming x86-64-v2, as uv does" in (detection.note or "")
    (tmp_path / "empty").write_text("processor: 0\n")
    assert x86_64.detect_host(tmp_path / "empty").features == {"level": ("v2", "v1")}


def test_x86_64_sse3_from_ssse3_as_archspec_does() -> None:
    v1, v2, _, _ = x86_64.LEVEL_FLAGS
    features = x86_64.supported_features(v1 | v2 - {"pni"} | {"pni"})
    assert features["sse3"] == ("on",)
    assert x86_64.supported_features(v1 | {"ssse3"})["sse3"] == ("on",)
    assert "sse3" not in x86_64.supported_features(v1)


def test_x86_64_flag_names_are_the_plugins() -> None:
    """The registry plugin's 0.0.1.post2 list, in its order (provider_variant_x86_64/plugin.py)."""
    assert x86_64.FLAG_FEATURES[:9] == (
        "avx_vnni", "cppc", "ibrs_enhanced", "tsc_adjust", "flush_l1d", "movdir64b", "movdiri", "avx512_bf16",
        "avx512_bitalg",
    )
    assert x86_64.FLAG_FEATURES[-3:] == ("sse2", "sse", "mmx") and len(x86_64.FLAG_FEATURES) == 56
    text = (CPUINFO / "x86-64-v4-skylake-sp.txt").read_text()
    features = x86_64.detect_from_cpuinfo(text, "skylake-sp").features
    assert all(values == ("on",) for name, values in features.items() if name != "level")


def test_aarch64_unreadable_cpu_is_8a_as_in_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aarch64, "is_host", lambda: True)
    monkeypatch.setattr(aarch64, "_auxv_hwcaps", lambda: None)
    detection = aarch64.detect_host(tmp_path / "missing")
    assert detection.features == {"version": ("8a",)}
    assert "assuming 8a" in (detection.note or "")


def test_aarch64_capped_at_8_4a() -> None:
    everything = frozenset().union(*(f for _, f in aarch64.VERSION_FEATURES))
    assert aarch64.versions(everything) == ("8.4a", "8.3a", "8.2a", "8.1a", "8a")


def test_nvidia_values_match_the_plugin_for_12_7() -> None:
    """The plugin's own example (driver 12.7) and value counts."""
    lower = nvidia.cuda_lower_bounds(12, 7)
    assert lower[:9] == ("12.7", "12.6", "12.5", "12.4", "12.3", "12.2", "12.1", "12.0", "12")
    assert lower[9:] == (*[f"11.{n}" for n in range(20, -1, -1)], "11")
    upper = nvidia.cuda_upper_bounds(12, 7)
    assert upper[:2] == ("15.20", "15.19") and upper[20:22] == ("15.0", "15") and upper[-2:] == ("12.9", "12.8")
    assert len(upper) == 3 * 22 + 13
    assert "13" in upper and "12" not in upper
    assert nvidia.sm_arch_values(8, 9) == tuple(f"8{n}_real" for n in range(9, -1, -1)) + ("80_virtual",)


def _overrides(**env: str) -> dict[str, str]:
    return {f"NV_VARIANT_PROVIDER_FORCE_{k.upper()}": v for k, v in env.items()}


def test_nvidia_force_variables_apply_without_a_driver() -> None:
    """NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION / _SM_ARCH, as pytorch's CI sets them."""
    no_driver = nvidia.NvidiaAnswer("this machine", problem="no NVIDIA driver found")
    detection = nvidia.detect_from_answer(no_driver, _overrides(cuda_driver_version="12.8", sm_arch="9.0"))
    assert detection.features["cuda_version_lower_bound"][0] == "12.8"
    assert detection.features["cuda_version_upper_bound"][-1] == "12.9"
    assert detection.features["sm_arch"] == ("90_real", "90_virtual")
    assert "forced by NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION=12.8" in (detection.note or "")
    # Without the SM override and without a GPU: CUDA values, no sm_arch.
    detection = nvidia.detect_from_answer(no_driver, _overrides(cuda_driver_version="13"))
    assert detection.features["cuda_version_lower_bound"][:2] == ("13.0", "13")
    assert "sm_arch" not in detection.features
    # Nothing forced: nothing.
    assert nvidia.detect_from_answer(no_driver, {}).features == {}


def test_nvidia_force_variables_beat_the_driver() -> None:
    answer = nvidia.read_recorded(NVIDIA / "nvml-rtx5090-driver-570.json")
    detection = nvidia.detect_from_answer(answer, _overrides(cuda_driver_version="12.6", sm_arch="8.6"))
    assert detection.features["cuda_version_lower_bound"][0] == "12.6"
    assert detection.features["sm_arch"] == ("86_real", "85_real", "84_real", "83_real", "82_real", "81_real", "80_real", "80_virtual")
    # A forced version is not range-checked (the plugin takes it as it is) ...
    assert nvidia.detect_from_answer(answer, _overrides(cuda_driver_version="16.1")).features["cuda_version_lower_bound"][:3] == (
        "16.1", "16.0", "16",
    )
    # ... and uv keeps at most 1024 values of a feature.
    huge = nvidia.detect_from_answer(answer, _overrides(cuda_driver_version="999.0"))
    assert len(huge.features["cuda_version_lower_bound"]) == nvidia.MAX_VALUES
    assert "keeping the first 1024" in (huge.note or "")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION": "twelve"}, "is not a version; ignored"),
        ({"NV_VARIANT_PROVIDER_FORCE_SM_ARCH": "12"}, "is not MAJOR.MINOR"),
    ],
)
def test_nvidia_bad_force_variables_are_ignored_with_a_note(env: dict[str, str], message: str) -> None:
    answer = nvidia.read_recorded(NVIDIA / "nvml-rtx5090-driver-570.json")
    detection = nvidia.detect_from_answer(answer, env)
    assert detection.features == nvidia.detect_from_answer(answer, {}).features
    assert message in (detection.note or "")


def _sysfs(root: Path, devices: dict[str, tuple[str, str]]) -> Path:
    for slot, (vendor, device) in devices.items():
        (root / slot).mkdir(parents=True)
        (root / slot / "vendor").write_text(vendor + "\n")
        (root / slot / "device").write_text(device + "\n")
    return root


def test_tpu_present_from_pci_devices(tmp_path: Path) -> None:
    from varsolve.providers.detect import tpu

    gce_vm = _sysfs(tmp_path / "vm", {"0000:00:04.0": ("0x1ae0", "0x0042"), "0000:00:05.0": ("0x1af4", "0x1004")})
    assert tpu.detect(gce_vm, {}).features == {"present": ("false",)}  # gVNIC is no TPU
    tpu_vm = _sysfs(tmp_path / "tpu", {"0000:00:04.0": ("0x1ae0", "0x0042"), "0000:00:05.0": ("0x1ae0", "0x0063")})
    assert tpu.detect(tpu_vm, {}).features == {"present": ("true",)}
    assert tpu.detect(tmp_path / "no-sysfs", {}).features == {"present": ("false",)}


def test_tpu_force_present(tmp_path: Path) -> None:
    from varsolve.providers.detect import tpu

    forced = tpu.detect(tmp_path, {"TPU_VARIANT_PROVIDER_FORCE_PRESENT": "1"})
    assert forced.features == {"present": ("true",)} and "forced by" in (forced.note or "")
    assert tpu.detect(tmp_path, {"TPU_VARIANT_PROVIDER_FORCE_PRESENT": "False"}).features == {"present": ("false",)}
    odd = tpu.detect(tmp_path, {"TPU_VARIANT_PROVIDER_FORCE_PRESENT": "maybe"})
    assert odd.features == {"present": ("false",)} and "neither true nor false" in (odd.note or "")


def test_tpu_is_a_builtin_provider() -> None:
    from varsolve.providers.detect import BUILTIN

    assert BUILTIN["tpu"].stands_in_for(("tpu-variant-provider>=0.1",), None)
    assert BUILTIN["tpu"].detect().features["present"] in (("true",), ("false",))


def test_detect_reports_tpu_presence_of_this_machine_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """uv's vendored tpu provider: ``tpu :: present`` is this machine's, forced by
    TPU_VARIANT_PROVIDER_FORCE_PRESENT; a recorded answer describes another machine: no tpu."""
    monkeypatch.setenv("TPU_VARIANT_PROVIDER_FORCE_PRESENT", "1")
    out = tmp_path / "machine.json"
    proc = run_varsolve("detect", "--format", "json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert load_static_file(out)["tpu"] == {"present": ("true",)}
    recorded = run_varsolve("detect", "--cpuinfo", str(FIXTURES / "cpuinfo" / "x86-64-v3-haswell.txt"), "--format", "json")
    assert recorded.returncode == 0 and '"tpu"' not in recorded.stdout
