"""x86-64 micro-architecture levels (namespace ``x86_64``) from the CPU's flags.

Feature ``level`` is what uv's vendored ``x86-64-variant-provider`` reports: the levels the CPU
runs, best first (``["v3", "v2", "v1"]``), and ``["v2", "v1"]`` when the CPU cannot be read.
Then, as the registry's ``provider-variant-x86-64`` plugin names them, one feature per known CPU
flag the CPU has, each with the single value ``on`` (``avx512_bf16 = ["on"]``); unlike the
plugin, which reports the flags of the micro-architecture archspec names for the CPU, the flags
here are the CPU's own (``/proc/cpuinfo``), so a CPU archspec cannot name still gets its flags.
The level definitions are the x86-64 psABI's four fixed flag lists, small enough to keep here
instead of adding archspec and its database.
"""

from __future__ import annotations

import platform
from pathlib import Path

from .cpuinfo import common_field_words
from .detection import Detection, Features

NAMESPACE = "x86_64"

# The x86-64 psABI's levels, as Linux spells the flags in /proc/cpuinfo. Each level needs its own
# flags and those of every level below it. Left out: OSFXSR, SCE and OSXSAVE are operating-system
# state that /proc/cpuinfo does not always list; a running 64-bit kernel implies the first two,
# and "xsave" stands for the third. LZCNT is "abm", SSE3 is "pni".
LEVEL_FLAGS: tuple[frozenset[str], ...] = (
    frozenset({"cmov", "cx8", "fpu", "fxsr", "mmx", "sse", "sse2"}),
    frozenset({"cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"}),
    frozenset({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}),
    frozenset({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}),
)
MAX_LEVEL = len(LEVEL_FLAGS)

# Single-flag features the published plugin reports (value "on"), in its preference order:
# grouped by the micro-architecture that introduced them, newest first.
FLAG_FEATURES: tuple[str, ...] = (
    # zen5
    "avx_vnni", "cppc", "ibrs_enhanced", "tsc_adjust",
    # zen4
    "flush_l1d",
    # sapphirerapids
    "movdir64b", "movdiri",
    # icelake
    "avx512_bf16", "avx512_bitalg", "avx512_vbmi2", "avx512_vnni", "avx512_vp2intersect",
    "avx512_vpopcntdq", "avx512ifma", "avx512vbmi", "rdpid", "sha_ni", "vaes", "vpclmulqdq",
    # skylake_avx512
    "clwb", "clzero",
    # x86-64-v4
    "avx512bw", "avx512cd", "avx512dq", "avx512f", "avx512vl",
    # skylake
    "clflushopt", "gfni", "rdseed", "xsavec", "xsaveopt",
    # broadwell
    "adx",
    # x86-64-v3
    "avx2", "avx", "bmi2", "bmi1", "abm", "f16c", "fma", "movbe", "xsave",
    # sandybridge, westmere, nehalem
    "rdrand", "aes", "pclmulqdq",
    # steamroller
    "sse4a", "fsgsbase",
    # x86-64-v2
    "sse4_2", "sse4_1", "ssse3", "sse3", "cx16", "lahf_lm", "popcnt",
    # x86-64-v1
    "sse2", "sse", "mmx",
)
# Feature names that Linux spells differently in /proc/cpuinfo, and (as archspec, which the
# plugin asks, does) flags that imply them: SSSE3 is a superset of SSE3.
_LINUX_NAMES: dict[str, tuple[str, ...]] = {"sse3": ("pni", "ssse3")}
# What uv's vendored x86-64 provider reports when it cannot detect the CPU.
FALLBACK_LEVEL = 2


def parse_cpuinfo_flags(text: str) -> frozenset[str] | None:
    """The flags every processor in a /proc/cpuinfo text has; None when it lists no x86 flags.

    Intersected across processors because a process may run on any of them.
    """
    return common_field_words(text, "flags")


def level(flags: frozenset[str]) -> int:
    """The highest psABI level whose flags, and those of all lower levels, are all present."""
    reached = 0
    for required in LEVEL_FLAGS:
        if not required <= flags:
            break
        reached += 1
    return reached


def supported_features(flags: frozenset[str]) -> Features:
    top = level(flags)
    if top == 0:
        return {}
    out: Features = {"level": tuple(f"v{n}" for n in range(top, 0, -1))}
    for feature in FLAG_FEATURES:
        if any(name in flags for name in _LINUX_NAMES.get(feature, (feature,))):
            out[feature] = ("on",)
    return out


def fallback(reason: str) -> Detection:
    """uv's answer when detection fails: ``v2`` and below, and no per-flag feature."""
    levels = tuple(f"v{n}" for n in range(FALLBACK_LEVEL, 0, -1))
    return Detection(NAMESPACE, {"level": levels}, f"{reason}; assuming x86-64-v{FALLBACK_LEVEL}, as uv does")


def detect_from_cpuinfo(text: str, where: str) -> Detection:
    flags = parse_cpuinfo_flags(text)
    if flags is None:
        return Detection(NAMESPACE, {}, f"{where} lists no x86 CPU flags")
    features = supported_features(flags)
    if not features:
        missing = sorted(LEVEL_FLAGS[0] - flags)
        return Detection(NAMESPACE, {}, f"the CPU lacks x86-64 baseline flags ({', '.join(missing)})")
    return Detection(NAMESPACE, features)


def is_host() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64")


def detect_host(cpuinfo: str | Path = "/proc/cpuinfo") -> Detection:
    if not is_host():
        return Detection(NAMESPACE, {}, f"this machine is {platform.machine() or 'unknown'}, not x86_64")
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return fallback(f"cannot read {cpuinfo}: {exc.strerror}")
    if parse_cpuinfo_flags(text) is None:
        return fallback(f"{cpuinfo} lists no x86 CPU flags")
    return detect_from_cpuinfo(text, str(cpuinfo))
