"""Writes the ecosystem scenarios (``scenarios/ecosystem/*.toml``) from one model of the published
variant indexes and four machines; ``tests/test_ecosystem_scenarios.py`` checks that the files
are what this writes. Run it after changing the model::

    .venv/bin/python scenarios/ecosystem/generate.py

The machines' ``[environment.variants]`` come from varsolve's detectors reading recorded answers
(``tests/fixtures/cpuinfo``, ``tests/fixtures/nvidia``): what ``varsolve detect --cpuinfo ...
--nvidia-from ...`` writes for them. The Apple-silicon and ROCm answers are written by hand
(varsolve has no macOS or AMD detector): what uv's vendored aarch64 provider and the AMD plugin
report. Expectations are per strategy and written below, with the reason.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


# -- machines ---------------------------------------------------------------------------------
@dataclass
class Machine:
    key: str
    title: str
    platform: str
    variants: dict[str, dict[str, tuple[str, ...]]]
    source: str


def _detected(cpuinfo: str, nvidia_answer: str | None) -> dict[str, dict[str, tuple[str, ...]]]:
    sys.path.insert(0, str(ROOT / "src"))
    from varsolve.providers.detect import nvidia, x86_64

    path = FIXTURES / "cpuinfo" / cpuinfo
    out = {"x86_64": dict(x86_64.detect_from_cpuinfo(path.read_text(), str(path)).features)}
    if nvidia_answer is not None:
        out["nvidia"] = dict(nvidia.detect_from_file(FIXTURES / "nvidia" / nvidia_answer, {}).features)
    return out


def machines() -> list[Machine]:
    none = {"nvidia": {"cuda_version_lower_bound": ()}, "amd": {"gfx_arch": ()}, "intel": {"device_ip": ()}}
    cuda = _detected("x86-64-v4-skylake-sp.txt", "nvml-8x-h100-driver-570.json")
    cpu = _detected("x86-64-v3-haswell.txt", None)
    rocm = _detected("x86-64-v3-haswell.txt", None)
    return [
        Machine(
            "cuda128-v4", "a CUDA 12.8 x86-64-v4 machine (8x H100, driver 570, Skylake-SP Xeon)",
            "x86_64-manylinux_2_39", {**cuda, "amd": none["amd"], "intel": none["intel"]},
            "varsolve detect --cpuinfo tests/fixtures/cpuinfo/x86-64-v4-skylake-sp.txt"
            " --nvidia-from tests/fixtures/nvidia/nvml-8x-h100-driver-570.json",
        ),
        Machine(
            "cpu-v3", "a CPU-only x86-64-v3 machine (Haswell, no GPU)", "x86_64-manylinux_2_39",
            {**cpu, **none}, "varsolve detect --cpuinfo tests/fixtures/cpuinfo/x86-64-v3-haswell.txt (no NVIDIA driver)",
        ),
        Machine(
            "apple-m2", "an Apple-silicon machine (M2, macOS 14)", "aarch64-macosx_14_0",
            # uv's vendored aarch64 provider tops out at 8.4a; no per-flag features (varsolve
            # does not detect macOS CPUs: this is what a user's static file says).
            {"aarch64": {"version": ("8.4a", "8.3a", "8.2a", "8.1a", "8a")}, **none},
            "written by hand (what uv's vendored aarch64-variant-provider reports on an M2)",
        ),
        Machine(
            "rocm70-v3", "a ROCm 7.0 machine (MI250X, gfx90a, on an x86-64-v3 host)", "x86_64-manylinux_2_39",
            {**rocm, "nvidia": none["nvidia"], "amd": {"gfx_arch": ("gfx90a",), "rocm_version": ("7.0",)},
             "intel": none["intel"]},
            "varsolve detect --cpuinfo tests/fixtures/cpuinfo/x86-64-v3-haswell.txt; amd written by hand"
            " (what amd-variant-provider reports: the GPUs' gfx architectures, the ROCm major.minor)",
        ),
    ]


# -- the index --------------------------------------------------------------------------------
LINUX_X86 = "cp312-cp312-manylinux_2_28_x86_64"
LINUX_ARM = "cp312-cp312-manylinux_2_28_aarch64"
MACOS_11 = "cp312-cp312-macosx_11_0_arm64"
MACOS_14 = "cp312-cp312-macosx_14_0_arm64"
ALL_TAGS = [LINUX_X86, LINUX_ARM, MACOS_11]


@dataclass
class Release:
    version: str
    requires: list[str] = field(default_factory=list)
    wheel: bool = True
    sdist: bool = False
    tags: list[str] | None = None
    variants: dict[str, list[str]] | None = None
    namespaces: list[str] | None = None
    providers: dict[str, str] | None = None  # ns -> inline TOML table
    variants_json: str | None = None
    variant_tags: dict[str, list[str]] | None = None
    description: str = ""


NVIDIA_PROVIDER = (
    '{ requires = ["nvidia-variant-provider>=0.0.1,<1.0.0"], '
    'plugin-api = "nvidia_variant_provider.plugin:NvidiaVariantPlugin" }'
)
GFX = ["gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx1030", "gfx1100", "gfx1101", "gfx1102", "gfx1200", "gfx1201"]


def _cuda(lower: str, upper: str, sm: list[str]) -> list[str]:
    return [
        f"nvidia :: cuda_version_lower_bound :: {lower}",
        f"nvidia :: cuda_version_upper_bound :: {upper}",
        *(f"nvidia :: sm_arch :: {s}" for s in sm),
    ]


def torch() -> dict[str, list[Release]]:
    return {
        "torch": [
            Release(
                "2.10.0",
                requires=[
                    "filelock",
                    "typing-extensions>=4.10.0",
                    'nvidia-cuda-runtime-cu12==12.6.77 ; variant_label == "cuda12.6"',
                    'nvidia-cuda-runtime-cu12==12.8.90 ; variant_label == "cuda12.8"',
                    'nvidia-cuda-runtime==13.0.96 ; variant_label == "cuda13.0"',
                    "nvidia-cudnn-cu12==9.10.2.21 ; 'nvidia :: cuda_version_upper_bound :: 13' in variant_properties",
                    "nvidia-nccl-cu12==2.27.5 ; 'nvidia :: cuda_version_upper_bound :: 13' in variant_properties",
                    'nvidia-cudnn-cu13==9.13.0.50 ; variant_label == "cuda13.0"',
                    'nvidia-nccl-cu13==2.27.7 ; variant_label == "cuda13.0"',
                    "triton==3.5.0 ; 'nvidia' in variant_namespaces",
                    "pytorch-triton-rocm==3.5.0 ; 'amd' in variant_namespaces",
                    'pytorch-triton-xpu==3.5.0 ; variant_label == "xpu"',
                    "intel-cmplr-lib-rt==2025.2.1 ; 'intel' in variant_namespaces",
                ],
                wheel=False,
                tags=ALL_TAGS,
                namespaces=["nvidia", "amd", "intel"],
                variants={
                    "cuda12.6": _cuda("12.6", "13", ["50_real", "60_real", "70_real", "75_real", "80_real", "86_real", "90_real", "90_virtual"]),
                    "cuda12.8": _cuda("12.8", "13", ["75_real", "80_real", "86_real", "90_real", "100_real", "120_real", "120_virtual"]),
                    "cuda13.0": _cuda("13.0", "14", ["75_real", "80_real", "86_real", "90_real", "100_real", "110_real", "120_real", "120_virtual"]),
                    "rocm7.0": ["amd :: rocm_version :: 7.0", *(f"amd :: gfx_arch :: {g}" for g in GFX)],
                    "rocm7.1": ["amd :: rocm_version :: 7.1", *(f"amd :: gfx_arch :: {g}" for g in [*GFX, "gfx950"])],
                    "xpu": [f"intel :: device_ip :: {ip}" for ip in ("12.55.8", "12.60.7", "12.71.4", "20.1.0", "20.4.4", "30.0.4")],
                    "null": [],
                },
                variant_tags={
                    "cuda12.6": [LINUX_X86, LINUX_ARM], "cuda12.8": [LINUX_X86, LINUX_ARM], "cuda13.0": [LINUX_X86, LINUX_ARM],
                    "rocm7.0": [LINUX_X86], "rocm7.1": [LINUX_X86], "xpu": [LINUX_X86],
                },
                providers={
                    "nvidia": NVIDIA_PROVIDER,
                    "amd": '{ requires = ["amd-variant-provider"] }',
                    "intel": '{ requires = ["intel-variant-provider"] }',
                },
            ),
            Release(
                "2.8.0",
                requires=[
                    "filelock",
                    "typing-extensions>=4.10.0",
                    "nvidia-cuda-runtime-cu12 ; 'nvidia' in variant_namespaces",
                    "triton==3.4.0 ; 'nvidia' in variant_namespaces",
                ],
                wheel=False,
                tags=[LINUX_X86],
                variants_json="metadata/torch-2.8.0-variants.json",
            ),
        ],
        "filelock": [Release("3.20.0")],
        "typing-extensions": [Release("4.15.0")],
        "nvidia-cuda-runtime-cu12": [Release("12.6.77"), Release("12.8.90")],
        "nvidia-cuda-runtime": [Release("13.0.96")],
        "nvidia-cudnn-cu12": [Release("9.10.2.21", requires=["nvidia-cublas-cu12"])],
        "nvidia-cudnn-cu13": [Release("9.13.0.50", requires=["nvidia-cublas"])],
        "nvidia-cublas-cu12": [Release("12.8.4.1")],
        "nvidia-cublas": [Release("13.0.0.19")],
        "nvidia-nccl-cu12": [Release("2.27.5")],
        "nvidia-nccl-cu13": [Release("2.27.7")],
        "triton": [Release("3.4.0"), Release("3.5.0")],
        "pytorch-triton-rocm": [Release("3.5.0")],
        "pytorch-triton-xpu": [Release("3.5.0")],
        "intel-cmplr-lib-rt": [Release("2025.2.1")],
    }


BLAS_STATIC = '{ static-properties = { library = ["accelerate", "openblas", "mkl"] } }'


def numpy_scipy(scipy_latest: list[Release] | None = None, numpy_latest: list[Release] | None = None) -> dict[str, list[Release]]:
    numpy_tags = {"accelerate": [MACOS_14], "x8664v4_mkl": [LINUX_X86]}
    return {
        "numpy": [
            *(numpy_latest or []),
            Release(
                "2.3.4",
                requires=["mkl==2025.2.0 ; 'blas_lapack :: provider :: mkl' in variant_properties"],
                wheel=False, tags=ALL_TAGS, variants_json="metadata/numpy-2.3.4-variants.json", variant_tags=numpy_tags,
            ),
            Release(
                "2.3.3",
                requires=["mkl==2025.2.0 ; 'blas_lapack :: library :: mkl' in variant_properties"],
                wheel=False, tags=ALL_TAGS, namespaces=["x86_64", "aarch64", "blas_lapack"],
                variants={
                    "accelerate": ["blas_lapack :: library :: accelerate"],
                    "openblas": ["blas_lapack :: library :: openblas"],
                    "x8664v4_mkl": ["blas_lapack :: library :: mkl", "x86_64 :: level :: v4"],
                },
                variant_tags=numpy_tags, providers={"blas_lapack": BLAS_STATIC},
            ),
        ],
        "scipy": [
            *(scipy_latest or []),
            Release(
                "1.16.2",
                requires=["numpy>=1.25.2,<2.6"],
                wheel=False, tags=ALL_TAGS, namespaces=["blas_lapack"],
                variants={"accelerate": ["blas_lapack :: library :: accelerate"], "openblas": ["blas_lapack :: library :: openblas"]},
                variant_tags={"accelerate": [MACOS_14]},
                providers={"blas_lapack": '{ static-properties = { library = ["accelerate", "openblas"] } }'},
            ),
        ],
        "mkl": [Release("2025.2.0", tags=[LINUX_X86])],
    }


def gpu_libraries() -> dict[str, list[Release]]:
    return {
        "xgboost": [
            Release(
                "3.1.0rc1",
                requires=[
                    "numpy", "scipy",
                    'nvidia-nccl-cu12 ; variant_label == "cu12"',
                    'nvidia-nccl-cu13 ; variant_label == "cu13"',
                ],
                tags=[LINUX_X86, LINUX_ARM, MACOS_11],
                namespaces=["nvidia"],
                variants={"cu12": _cuda("12.0", "13", [])[:2], "cu13": _cuda("13.0", "14", [])[:2]},
                variant_tags={"cu12": [LINUX_X86, LINUX_ARM], "cu13": [LINUX_X86, LINUX_ARM]},
                providers={"nvidia": NVIDIA_PROVIDER},
                description="the plain wheel is the CPU build",
            ),
        ],
        "cupy": [
            Release(
                "13.6.0",
                requires=["numpy>=1.22,<2.6", "fastrlock>=0.5"],
                wheel=False, sdist=True, tags=[LINUX_X86, LINUX_ARM],
                namespaces=["nvidia"],
                variants={
                    "cu11": _cuda("11.2", "12", [])[:2],
                    "cu12": _cuda("12.0", "13", [])[:2],
                    "cu13": _cuda("13.0", "14", [])[:2],
                },
                providers={"nvidia": NVIDIA_PROVIDER},
                description="PyPI's cupy is an sdist that needs the CUDA toolkit to build",
            ),
        ],
        "fastrlock": [Release("0.8.3")],
    }


# -- writing ----------------------------------------------------------------------------------
def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _list(items: list[str] | tuple[str, ...], indent: str = "") -> str:
    one = "[" + ", ".join(_q(i) for i in items) + "]"
    if len(one) + len(indent) < 100:
        return one
    return "[\n" + "".join(f"{indent}  {_q(i)},\n" for i in items) + f"{indent}]"


@dataclass
class Expect:
    satisfiable: bool = True
    packages: dict[str, str] = field(default_factory=dict)
    variants: dict[str, str] = field(default_factory=dict)
    consistent: bool | None = None
    explanation_contains: list[str] = field(default_factory=list)


def render(
    name: str, description: str, machine: Machine, requires: list[str], index: dict[str, list[Release]],
    expected: dict[str, Expect], unify: list[str] | None = None, no_build: list[str] | None = None,
) -> str:
    out = [
        "# Generated by scenarios/ecosystem/generate.py from its model of the published variant",
        "# indexes; edit the model there and run it again.",
        f"name = {_q(name)}",
        'description = """',
        *description.strip().splitlines(),
        f"Target: {machine.title}; its variant properties are what {machine.source} writes.",
        '"""',
        "",
        "[root]",
        f"requires = {_list(requires)}",
        "",
        "[environment.variants]",
    ]
    for ns, feats in machine.variants.items():
        for feature, values in feats.items():
            out.append(f'"{ns} :: {feature}" = {_list(values)}')
    out += ["", "[resolver_options]", f"python_platform = {_q(machine.platform)}"]
    if unify:
        out.append(f"unify = {_list(unify)}")
    if no_build:
        out.append(f"no_build = {_list(no_build)}")
    for pkg, releases in index.items():
        for r in releases:
            key = f'packages.{pkg}.versions."{r.version}"'
            out += ["", f"[{key}]"]
            if r.description:
                out.append(f"description = {_q(r.description)}")
            if r.requires:
                out.append(f"requires = {_list(r.requires)}")
            if not r.wheel:
                out.append("wheel = false")
            if not r.sdist:
                out.append("sdist = false")
            if r.tags:
                out.append(f"wheel_tags = {_list(r.tags)}")
            if r.namespaces:
                out.append(f"namespaces = {_list(r.namespaces)}")
            if r.variants_json:
                out.append(f"variants_json = {_q(r.variants_json)}")
            if r.variants is not None:
                out += ["", f"[{key}.variants]"]
                for label, props in r.variants.items():
                    out.append(f"{_q(label)} = {_list(props)}")
            if r.variant_tags:
                out += ["", f"[{key}.variant_tags]"]
                for label, tags in r.variant_tags.items():
                    out.append(f"{_q(label)} = {_list(tags)}")
            if r.providers:
                out += ["", f"[{key}.providers]"]
                for ns, table in r.providers.items():
                    out.append(f"{ns} = {table}")
    for strategy, exp in expected.items():
        table = "expected" if strategy == "complete" else f"expected.{strategy}"
        out += ["", f"[{table}]", f"satisfiable = {str(exp.satisfiable).lower()}"]
        if exp.consistent is not None:
            out.append(f"consistent = {str(exp.consistent).lower()}")
        if exp.explanation_contains:
            out.append(f"explanation_contains = {_list(exp.explanation_contains)}")
        if exp.satisfiable:
            out += ["", f"[{table}.packages]"] + [f"{k} = {_q(v)}" for k, v in sorted(exp.packages.items())]
            out += ["", f"[{table}.variants]"] + [f"{k} = {_q(v)}" for k, v in sorted(exp.variants.items())]
    return "\n".join(out) + "\n"


def _same(exp: Expect) -> dict[str, Expect]:
    """One expectation for every strategy (the status quo gets its own table all the same)."""
    return {"complete": exp, "pep825": exp}


TORCH_COMMON = {"torch": "2.10.0", "filelock": "3.20.0", "typing-extensions": "4.15.0"}
CUDA128_LIBS = {
    "nvidia-cuda-runtime-cu12": "12.8.90", "nvidia-cudnn-cu12": "9.10.2.21", "nvidia-cublas-cu12": "12.8.4.1",
    "nvidia-nccl-cu12": "2.27.5", "triton": "3.5.0",
}


def _plain(names: dict[str, str]) -> dict[str, str]:
    return {n: "" for n in names}


def scenarios() -> dict[str, str]:
    ms = {m.key: m for m in machines()}
    files: dict[str, str] = {}

    # torch: one accelerator build per machine, its runtime libraries pulled by variant markers.
    torch_outcomes = {
        "cuda128-v4": ("cuda12.8", CUDA128_LIBS, "cuda12.8 over cuda12.6 (lower bound 12.8 is preferred), cuda13.0 needs a CUDA 13 driver; rocm/xpu builds need amd/intel"),
        "cpu-v3": ("null", {}, "no accelerator: the null variant (the CPU build)"),
        "apple-m2": ("null", {}, "macOS: only the null variant has a macOS wheel"),
        "rocm70-v3": ("rocm7.0", {"pytorch-triton-rocm": "3.5.0"}, "rocm7.0: rocm_version is one value (7.0), so the rocm7.1 build does not fit"),
    }
    for key, (label, libs, why) in torch_outcomes.items():
        pkgs = {**TORCH_COMMON, **libs}
        exp = Expect(packages=pkgs, variants={**_plain(pkgs), "torch": label})
        files[f"torch-{key}"] = render(
            f"ecosystem-torch-{key}",
            f"torch 2.10.0 as published (cuda12.6, cuda12.8, cuda13.0, rocm7.0, rocm7.1, xpu, null), the\n"
            f"NVIDIA/ROCm/XPU runtime libraries pulled per build by variant markers. Expected: {why}.\n"
            "Every strategy agrees: there is one package with variants.",
            ms[key], ["torch"], torch(), _same(exp),
        )

    # torch 2.8.0: 0.0.3-era metadata, the older cu126/cu128/cu129 labels and a hash label.
    pkgs = {**TORCH_COMMON, "torch": "2.8.0", "nvidia-cuda-runtime-cu12": "12.8.90", "triton": "3.4.0"}
    cpu_only = {**TORCH_COMMON, "torch": "2.8.0"}
    files["torch-2.8-legacy-labels-cuda128-v4"] = render(
        "ecosystem-torch-2.8-legacy-labels-cuda128-v4",
        "torch==2.8.0, whose metadata is in the 0.0.3 schema (metadata/torch-2.8.0-variants.json) with the\n"
        "older labels cu126, cu128, cu129 and the legacy zero-property label 00000000. cu129 needs a\n"
        "CUDA 12.9 driver, so the status quo and backtrack take cu128; its runtime and triton==3.4.0 come\n"
        "from a namespace marker. sat differs: its objective ranks 'every other package newest' above\n"
        "'the preferred file', and cu128 pins triton 3.4.0 while 3.5.0 exists, so the optimum is the\n"
        "zero-property build 00000000 (no GPU support), which pulls no triton at all.",
        ms["cuda128-v4"], ["torch==2.8.0"], torch(),
        {
            **_same(Expect(packages=pkgs, variants={**_plain(pkgs), "torch": "cu128"})),
            "sat": Expect(packages=cpu_only, variants={**_plain(cpu_only), "torch": "00000000"}),
        },
    )

    # numpy + scipy: the published BLAS mismatch, two spellings of one feature, unified.
    for key in ms:
        if key == "cuda128-v4":
            mixed = Expect(
                packages={"numpy": "2.3.4", "scipy": "1.16.2", "mkl": "2025.2.0"},
                variants={"numpy": "x8664v4_mkl", "scipy": "openblas", "mkl": ""}, consistent=False,
            )
            fixed = Expect(packages={"numpy": "2.3.4", "scipy": "1.16.2"}, variants={"numpy": "openblas", "scipy": "openblas"})
            expected = {"complete": fixed, "pep825": mixed}
            why = ("On this x86-64-v4 machine the status quo takes numpy's x8664v4_mkl (the x86_64 namespace comes\n"
                   "first) and scipy's openblas: two BLAS libraries in one process. backtrack and sat unify\n"
                   "blas_lapack :: library and take numpy's openblas build.")
        elif key == "apple-m2":
            exp = Expect(packages={"numpy": "2.3.4", "scipy": "1.16.2"}, variants={"numpy": "accelerate", "scipy": "accelerate"})
            expected = _same(exp)
            why = "On macOS 14 both take their accelerate builds (macOS-only wheels): consistent already."
        else:
            exp = Expect(packages={"numpy": "2.3.4", "scipy": "1.16.2"}, variants={"numpy": "openblas", "scipy": "openblas"})
            expected = _same(exp)
            why = "x8664v4_mkl needs x86-64-v4 and accelerate is macOS-only: both take openblas."
        files[f"blas-{key}"] = render(
            f"ecosystem-blas-{key}",
            "numpy 2.3.4 (0.0.3-era metadata: blas_lapack :: provider, enable-if, install-time, top-level\n"
            "static-properties; labels openblas, accelerate, x8664v4_mkl) and scipy 1.16.2 (blas_lapack ::\n"
            "library; openblas and accelerate only: no MKL). The two spellings are one feature, unified.\n" + why,
            ms[key], ["numpy", "scipy"], numpy_scipy(), expected, unify=["blas_lapack :: library"],
        )

    # torch + xgboost + cupy, binaries only.
    for key in ms:
        if key == "cuda128-v4":
            pkgs = {
                **TORCH_COMMON, **CUDA128_LIBS, "xgboost": "3.1.0rc1", "cupy": "13.6.0", "fastrlock": "0.8.3",
                "numpy": "2.3.4", "scipy": "1.16.2", "mkl": "2025.2.0",
            }
            exp = Expect(
                packages=pkgs,
                variants={**_plain(pkgs), "torch": "cuda12.8", "xgboost": "cu12", "cupy": "cu12", "numpy": "x8664v4_mkl", "scipy": "openblas"},
            )
            expected = _same(exp)
            why = ("torch cuda12.8, xgboost cu12 and cupy cu12 (cu13 needs a CUDA 13 driver) share one CUDA 12\n"
                   "runtime; numpy and scipy come with xgboost (nothing unified here: numpy takes MKL).")
        else:
            fail = Expect(satisfiable=False, explanation_contains=["cupy"])
            expected = _same(fail)
            why = ("cupy has CUDA builds only (cu11, cu12, cu13) and an sdist, and builds are off: no solution,\n"
                   "and the explanation names cupy (the status quo's too).")
        files[f"gpu-stack-{key}"] = render(
            f"ecosystem-gpu-stack-{key}",
            "torch, xgboost==3.1.0rc1 (cu12, cu13 and a plain CPU wheel) and cupy 13.6.0 (cu11, cu12, cu13),\n"
            "binaries only (no_build = all, as --only-binary :all:).\n" + why,
            ms[key], ["torch", "xgboost==3.1.0rc1", "cupy"], {**torch(), **numpy_scipy(), **gpu_libraries()},
            expected, no_build=[":all:"],
        )

    # Messy published metadata: read what can be read, never downgrade silently.
    cpu = ms["cpu-v3"]
    scipy_mixed = Release(
        "1.16.3", requires=["numpy>=1.25.2,<2.6"], wheel=False, tags=ALL_TAGS,
        variants_json="metadata/scipy-1.16.3-mixed-generations-variants.json", variant_tags={"accelerate": [MACOS_14]},
    )
    exp = Expect(packages={"numpy": "2.3.4", "scipy": "1.16.3"}, variants={"numpy": "openblas", "scipy": "openblas"})
    files["messy-mixed-generations-cpu-v3"] = render(
        "ecosystem-messy-mixed-generations-cpu-v3",
        "scipy 1.16.3's variants.json claims schema 0.2 but carries 0.0.3-era keys (enable-if,\n"
        "install-time, top-level static-properties) and a key nobody defined. uv 0.13.9 cannot parse\n"
        "it and silently installs scipy 1.16.2; varsolve reads what it can (warnings name the file and\n"
        "each key, --format json has them in stats.variant_metadata) and installs 1.16.3.",
        cpu, ["scipy"], numpy_scipy(scipy_latest=[scipy_mixed]), _same(exp),
    )
    scipy_broken = Release(
        "1.16.3", requires=["numpy>=1.25.2,<2.6"], wheel=True, tags=ALL_TAGS,
        variants_json="metadata/scipy-1.16.3-invalid-variants.json",
    )
    numpy_broken = Release(
        "2.3.5", wheel=False, tags=ALL_TAGS, variants_json="metadata/numpy-2.3.5-invalid-variants.json",
    )
    exp = Expect(packages={"numpy": "2.3.4", "scipy": "1.16.3"}, variants={"numpy": "openblas", "scipy": ""})
    files["messy-invalid-metadata-cpu-v3"] = render(
        "ecosystem-messy-invalid-metadata-cpu-v3",
        "Two releases whose variants.json cannot be understood: scipy 1.16.3 (a value list written as a\n"
        "string) also has a plain wheel, which is used, with a warning naming the file; numpy 2.3.5 (a\n"
        "schema version from the future) has nothing else, so numpy 2.3.4 is used, again with a warning\n"
        "naming the file and what is used instead. Both reasons are in stats.variant_metadata of --format json.",
        cpu, ["numpy", "scipy"], numpy_scipy(scipy_latest=[scipy_broken], numpy_latest=[numpy_broken]), _same(exp),
    )
    return files


def main() -> None:
    for name, text in scenarios().items():
        (HERE / f"{name}.toml").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
