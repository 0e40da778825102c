"""Arm architecture versions (namespace ``aarch64``) from the CPU's hardware capabilities.

Feature ``version`` is what uv's vendored ``aarch64-variant-provider`` reports: the versions the
CPU implements, newest first (``["8.2a", "8.1a", "8a"]``), capped at ``8.4a`` (the newest it
knows; the registry's ``provider-variant-aarch64`` goes on to ``9.0a``), ``["8a"]`` when the CPU
cannot be read. Then, as the registry plugin names them, one feature per known capability the CPU
has, each with the single value ``on``.

The plugin asks archspec, which names the CPU model and takes its generic ancestor. Here the
version is read from the capabilities Linux reports (the ``Features`` line of /proc/cpuinfo, or
the AT_HWCAP/AT_HWCAP2 auxiliary vector): a version is reached when the features the Arm
architecture makes mandatory at that version are all present. No library does that mapping.
"""

from __future__ import annotations

import ctypes
import platform
from pathlib import Path

from .cpuinfo import common_field_words
from .detection import Detection, Features

NAMESPACE = "aarch64"

# Per version: capabilities (Linux hwcap names) the Arm ARM makes mandatory from that version on.
# "8a" is the baseline every AArch64 Linux system has.
# "8a" is the baseline every AArch64 Linux system has. Versions after MAX_VERSION are recognised
# but not reported: uv's vendored aarch64-variant-provider knows 8a to 8.4a.
VERSION_FEATURES: tuple[tuple[str, frozenset[str]], ...] = (
    ("8a", frozenset({"fp", "asimd"})),
    ("8.1a", frozenset({"atomics", "asimdrdm", "crc32"})),  # LSE, RDM, CRC32
    ("8.2a", frozenset({"dcpop"})),  # DPB
    ("8.3a", frozenset({"jscvt", "fcma", "lrcpc", "paca", "pacg"})),  # JSCVT, FCMA, LRCPC, PAuth
    ("8.4a", frozenset({"dit", "uscat", "ilrcpc", "flagm"})),  # DIT, LSE2, LRCPC2, FlagM
    ("8.5a", frozenset({"sb", "frint", "flagm2", "dcpodp", "bti"})),  # SB, FRINTTS, FlagM2, DPB2, BTI
    ("9.0a", frozenset({"sve2"})),  # Armv9.0 = Armv8.5 + SVE2
)
MAX_VERSION = "8.4a"
# What uv's vendored provider reports when it cannot detect the CPU.
FALLBACK_VERSION = "8a"

# Single-capability features the published plugin reports (value "on"), in its preference
# order: grouped by the first core generation that had them, newest first.
FLAG_FEATURES: tuple[str, ...] = (
    # Armv9.0 cores (neoverse_n2/v2)
    "sve2", "flagm2", "frint", "sb",
    # Armv8.5 (m2)
    "btiecv",
    # Armv8.4 (m1, neoverse_v1)
    "paca", "pacg", "ssbs", "asimdfhm", "bf16", "dcpodp", "dgh", "dit", "flagm", "i8mm", "ilrcpc",
    "jscvt", "rng", "sha3", "sha512", "svebf16", "svei8mm", "uscat",
    # Armv8.2 (neoverse_n1, a64fx)
    "asimddp", "lrcpc", "asimdhp", "dcpop", "fcma", "fphp", "sve",
    # Armv8.1 (thunderx2)
    "asimdrdm", "atomics",
    # Armv8.0 (cortex_a72)
    "aes", "asimd", "cpuid", "crc32", "evtstrm", "fp", "pmull", "sha1", "sha2",
)

# Bit positions in AT_HWCAP / AT_HWCAP2 (linux/arch/arm64/include/uapi/asm/hwcap.h).
HWCAP_BITS = (
    "fp", "asimd", "evtstrm", "aes", "pmull", "sha1", "sha2", "crc32", "atomics", "fphp", "asimdhp",
    "cpuid", "asimdrdm", "jscvt", "fcma", "lrcpc", "dcpop", "sha3", "sm3", "sm4", "asimddp", "sha512",
    "sve", "asimdfhm", "dit", "uscat", "ilrcpc", "flagm", "ssbs", "sb", "paca", "pacg",
)
HWCAP2_BITS = (
    "dcpodp", "sve2", "sveaes", "svepmull", "svebitperm", "svesha3", "svesm4", "flagm2", "frint",
    "svei8mm", "svef32mm", "svef64mm", "svebf16", "i8mm", "bf16", "dgh", "rng", "bti", "mte",
)
AT_HWCAP = 16
AT_HWCAP2 = 26


def parse_cpuinfo_features(text: str) -> frozenset[str] | None:
    """The capabilities every processor in a /proc/cpuinfo text has; None when none are listed."""
    return common_field_words(text, "Features")


def decode_hwcaps(hwcap: int, hwcap2: int) -> frozenset[str]:
    names = {name for bit, name in enumerate(HWCAP_BITS) if hwcap >> bit & 1}
    names |= {name for bit, name in enumerate(HWCAP2_BITS) if hwcap2 >> bit & 1}
    return frozenset(names)


def versions(features: frozenset[str]) -> tuple[str, ...]:
    """Versions reached, newest first, from MAX_VERSION down: each needs its own features and
    all earlier ones'."""
    reached: list[str] = []
    for version, required in VERSION_FEATURES:
        if not required <= features:
            break
        reached.append(version)
        if version == MAX_VERSION:
            break
    return tuple(reversed(reached))


def supported_features(features: frozenset[str]) -> Features:
    reached = versions(features)
    if not reached:
        return {}
    out: Features = {"version": reached}
    for feature in FLAG_FEATURES:
        if feature in features:
            out[feature] = ("on",)
    return out


def detect_from_features(features: frozenset[str], where: str) -> Detection:
    supported = supported_features(features)
    if not supported:
        return Detection(NAMESPACE, {}, f"{where}: the CPU lacks the AArch64 baseline (fp, asimd)")
    return Detection(NAMESPACE, supported)


def detect_from_cpuinfo(text: str, where: str) -> Detection:
    features = parse_cpuinfo_features(text)
    if features is None:
        return Detection(NAMESPACE, {}, f"{where} lists no AArch64 CPU features")
    return detect_from_features(features, where)


def is_host() -> bool:
    return platform.machine().lower() in ("aarch64", "arm64")


def _auxv_hwcaps() -> frozenset[str] | None:
    try:
        getauxval = ctypes.CDLL(None).getauxval
    except (OSError, AttributeError):
        return None
    getauxval.restype = ctypes.c_ulong
    getauxval.argtypes = [ctypes.c_ulong]
    hwcap = getauxval(AT_HWCAP)
    return decode_hwcaps(hwcap, getauxval(AT_HWCAP2)) if hwcap else None


def detect_host(cpuinfo: str | Path = "/proc/cpuinfo") -> Detection:
    if not is_host():
        return Detection(NAMESPACE, {}, f"this machine is {platform.machine() or 'unknown'}, not aarch64")
    try:
        features = parse_cpuinfo_features(Path(cpuinfo).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        features = None
    where = str(cpuinfo)
    if features is None:
        # Containers and some kernels hide /proc/cpuinfo; the auxiliary vector is always there.
        features, where = _auxv_hwcaps(), "AT_HWCAP"
    if features is None:
        return Detection(
            NAMESPACE, {"version": (FALLBACK_VERSION,)},
            f"cannot read the CPU's features (/proc/cpuinfo, AT_HWCAP); assuming {FALLBACK_VERSION}, as uv does",
        )
    return detect_from_features(features, where)
