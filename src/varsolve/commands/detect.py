"""``varsolve detect``: describe this machine as a static provider file.

The file is what ``varsolve resolve --variants FILE`` reads: copy it from the machine that will
run the packages to the one that resolves or builds the environment (docs/providers.md).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..providers.detect.detection import Detection

log = logging.getLogger("varsolve")

HEADER = """\
# What the target machine supports, written by `varsolve detect`.
# Resolve for it, here or on another machine, with `varsolve resolve --variants FILE`.
# Values are most preferred first; an empty list or table means "not supported". Edit freely.
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "detect",
        help="describe this machine as a static provider file (for resolve --variants)",
        description="Detect x86-64 levels, AArch64 versions and the NVIDIA driver/GPUs of this machine "
        "and write them in the static provider file layout that `resolve --variants` reads.",
    )
    p.add_argument("--format", choices=["toml", "json"], default="toml")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument(
        "--cpuinfo", metavar="FILE",
        help="read the CPU from a copy of another machine's /proc/cpuinfo instead of this one's",
    )
    p.add_argument(
        "--nvidia-from", metavar="FILE",
        help="read the NVIDIA driver and GPUs from a recorded answer instead of asking this machine: "
        "the output of `nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv`, "
        "or an NVML answer as JSON (docs/providers.md)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..atomic_write import write_text_atomically
    from ..providers.static_file import dump_static, dump_static_json

    detections = [_cpu(args.cpuinfo), _nvidia(args.nvidia_from)]
    if args.cpuinfo is None and args.nvidia_from is None:
        # This machine (a recorded answer describes another one, whose TPUs we cannot see).
        from ..providers.detect import tpu

        detections.append(tpu.detect_host())
    supported = {}
    for detection in detections:
        if detection is None:
            continue
        if detection.note:
            log.warning("%s: %s", detection.namespace, detection.note)
        supported[detection.namespace] = dict(detection.features)
    if args.format == "json":
        text = dump_static_json(supported, created_by="varsolve detect")
    else:
        text = HEADER + dump_static(supported, created_by="varsolve detect")
    if args.output:
        write_text_atomically(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return 0


def _cpu(cpuinfo: str | None) -> Detection | None:
    from ..errors import InputError
    from ..providers.detect import aarch64, x86_64

    if cpuinfo is None:
        if x86_64.is_host():
            return x86_64.detect_host()
        if aarch64.is_host():
            return aarch64.detect_host()
        import platform

        log.warning("no CPU detector for this machine (%s)", platform.machine() or "unknown")
        return None
    from ..limits import TooLarge, read_text_capped

    try:
        text = read_text_capped(cpuinfo).decode("utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", where=cpuinfo) from None
    except TooLarge as exc:
        raise InputError(f"cannot read: {exc}", where=cpuinfo) from None
    if x86_64.parse_cpuinfo_flags(text) is not None:
        return x86_64.detect_from_cpuinfo(text, cpuinfo)
    if aarch64.parse_cpuinfo_features(text) is not None:
        return aarch64.detect_from_cpuinfo(text, cpuinfo)
    raise InputError("lists neither x86 'flags' nor AArch64 'Features'", where=cpuinfo)


def _nvidia(recorded: str | None) -> Detection | None:
    from ..errors import InputError
    from ..providers.detect import nvidia

    if recorded is None:
        return nvidia.detect_host()
    try:
        return nvidia.detect_from_file(recorded)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", where=recorded) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", where=recorded) from None
    except nvidia.RecordError as exc:
        raise InputError(f"not an nvidia-smi or NVML answer: {exc}", where=recorded) from None


