"""NVIDIA driver and GPUs (namespace ``nvidia``), the way ``nvidia-variant-provider`` reports
them (the plugin uv 0.0.98 vendors as ``nvidia_variant_provider.plugin:NvidiaVariantPlugin``):

* ``cuda_version_lower_bound``: the CUDA version the driver supports and every older one, newest
  first: ``12.8 … 12.0, 12, 11.20 … 11.0, 11`` (minors 0..20 per major, then the bare major);
* ``cuda_version_upper_bound``: the versions above it, newest first (``15.20 … 12.9``);
* ``sm_arch``: from the newest GPU only: ``{major}{minor}_real`` down to minor 0, then
  ``{major}0_virtual`` (``120_real, 120_virtual`` for compute capability 12.0).

CUDA versions outside 11.0–15.20 switch detection off, as in the plugin; GPUs older than compute
capability 5.0 give no ``sm_arch``.

The machine is asked through NVML (``libnvidia-ml``, via ctypes, the same calls the plugin makes),
else through ``nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv``. Both answers
can be recorded to a file (NVML's as JSON keyed by the call names, nvidia-smi's as its output) and
read back with :func:`detect_from_file`; live answers go through the same parsers.
"""

from __future__ import annotations

import csv
import ctypes
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from .detection import Detection, Features

NAMESPACE = "nvidia"
CUDA_MAJORS = range(11, 16)  # the plugin's supported CUDA majors
CUDA_MINORS = range(0, 21)  # and minors within each
MIN_COMPUTE_CAPABILITY = (5, 0)
SMI_FIELDS = ("name", "driver_version", "compute_cap")
SMI_COMMAND = ("nvidia-smi", f"--query-gpu={','.join(SMI_FIELDS)}", "--format=csv")

# nvidia-smi's query interface has no field for the CUDA version the driver supports, so it is
# read from NVIDIA's table of minimum Linux driver versions per CUDA toolkit (CUDA release
# notes, "CUDA Toolkit and Corresponding Driver Versions"). Newer drivers count as the newest
# entry: an under-estimate, which can only pick an older build. NVML gives the exact value.
DRIVER_FOR_CUDA: tuple[tuple[str, tuple[int, int]], ...] = (
    ("580.65.06", (13, 0)),
    ("575.51.03", (12, 9)),
    ("570.26", (12, 8)),
    ("560.28.03", (12, 6)),
    ("555.42.02", (12, 5)),
    ("550.54.14", (12, 4)),
    ("545.23.06", (12, 3)),
    ("535.54.03", (12, 2)),
    ("530.30.02", (12, 1)),
    ("525.60.13", (12, 0)),
    ("520.61.05", (11, 8)),
    ("515.43.04", (11, 7)),
    ("510.39.01", (11, 6)),
    ("495.29.05", (11, 5)),
    ("470.42.01", (11, 4)),
    ("465.19.01", (11, 3)),
    ("460.27.03", (11, 2)),
    ("455.23", (11, 1)),
    ("450.36.06", (11, 0)),
)


class RecordError(ValueError):
    """A recorded answer that cannot be read; the message names what is wrong."""


@dataclass(frozen=True)
class NvidiaAnswer:
    source: str
    cuda_driver_version: tuple[int, int] | None = None
    driver_version: str | None = None
    compute_capabilities: tuple[tuple[int, int], ...] = ()
    # Why the machine gave no usable answer (no driver, nvidia-smi failed, ...).
    problem: str | None = None


# -- parsing ------------------------------------------------------------------------------------
def parse_nvml_answer(data: object, source: str) -> NvidiaAnswer:
    """An NVML answer: ``{"nvmlSystemGetDriverVersion": "570.86.15",
    "nvmlSystemGetCudaDriverVersion_v2": 12080, "devices": [{"nvmlDeviceGetName": "…",
    "nvmlDeviceGetCudaComputeCapability": [12, 0]}]}``, or ``{"error": "…"}``."""
    if not isinstance(data, dict):
        raise RecordError("an NVML answer must be a JSON object")
    if "error" in data:
        return NvidiaAnswer(source, problem=f"NVML: {data['error']}")
    cuda = data.get("nvmlSystemGetCudaDriverVersion_v2", data.get("nvmlSystemGetCudaDriverVersion"))
    if cuda is not None and (not isinstance(cuda, int) or isinstance(cuda, bool) or cuda <= 0):
        raise RecordError("nvmlSystemGetCudaDriverVersion_v2 must be a positive integer like 12080")
    driver = data.get("nvmlSystemGetDriverVersion")
    if driver is not None and not isinstance(driver, str):
        raise RecordError("nvmlSystemGetDriverVersion must be a string")
    devices = data.get("devices", [])
    if not isinstance(devices, list):
        raise RecordError("devices must be a list")
    capabilities: list[tuple[int, int]] = []
    for i, device in enumerate(devices):
        cc = device.get("nvmlDeviceGetCudaComputeCapability") if isinstance(device, dict) else None
        if cc is None:  # the query failed for this device: skipped, as the plugin does
            continue
        if not (isinstance(cc, list) and len(cc) == 2 and all(isinstance(x, int) and x >= 0 for x in cc)):
            raise RecordError(f"devices[{i}].nvmlDeviceGetCudaComputeCapability must be [major, minor]")
        capabilities.append((cc[0], cc[1]))
    # The driver encodes CUDA 12.8 as 12080 (major * 1000 + minor * 10).
    version = (cuda // 1000, cuda % 1000 // 10) if cuda else None
    problem = None if version else "NVML reports no CUDA driver version"
    return NvidiaAnswer(source, version, driver, tuple(capabilities), problem)


def parse_nvidia_smi_output(text: str, source: str) -> NvidiaAnswer:
    """The output of ``nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv``
    (header line first); anything else is nvidia-smi's account of why it could not answer."""
    lines = [line for line in text.splitlines() if line.strip()]
    rows = list(csv.reader(io.StringIO("\n".join(lines)), skipinitialspace=True))
    if not rows or [c.strip().lower() for c in rows[0]] != list(SMI_FIELDS):
        reason = lines[0].strip() if lines else "no output"
        return NvidiaAnswer(source, problem=f"nvidia-smi: {reason}")
    drivers: set[str] = set()
    capabilities: list[tuple[int, int]] = []
    for number, row in enumerate(rows[1:], 2):
        if len(row) != len(SMI_FIELDS):
            raise RecordError(f"line {number}: expected {len(SMI_FIELDS)} columns, got {len(row)}")
        _name, driver, cc = (c.strip() for c in row)
        drivers.add(driver)
        major, dot, minor = cc.partition(".")
        if dot and major.isdigit() and minor.isdigit():
            capabilities.append((int(major), int(minor)))
        elif not cc.startswith("["):  # "[N/A]" and "[Not Supported]" skip the GPU
            raise RecordError(f"line {number}: invalid compute capability {cc!r}")
    if len(drivers) > 1:
        raise RecordError(f"GPUs report different driver versions: {', '.join(sorted(drivers))}")
    if not drivers:
        return NvidiaAnswer(source, problem="nvidia-smi lists no GPU")
    the_driver = drivers.pop()
    cuda = cuda_for_driver(the_driver)
    problem = None if cuda else f"driver {the_driver} is older than any CUDA 11 driver"
    return NvidiaAnswer(source, cuda, the_driver, tuple(capabilities), problem)


def cuda_for_driver(driver: str) -> tuple[int, int] | None:
    try:
        version = Version(driver)
    except InvalidVersion:
        raise RecordError(f"invalid driver version {driver!r}") from None
    for minimum, cuda in DRIVER_FOR_CUDA:
        if version >= Version(minimum):
            return cuda
    return None


def read_recorded(path: str | Path) -> NvidiaAnswer:
    """A recorded NVML (JSON) or nvidia-smi (CSV text) answer. Raises RecordError, and
    InputError for a file that cannot be read or is no JSON (naming it)."""
    from ...errors import InputError
    from ...structured import load_json
    from ...textfile import read_text_file

    text = read_text_file(path, "recorded NVIDIA answer")
    if text.lstrip().startswith("{"):
        try:
            data = load_json(text, "")  # malformed, nested too deeply
        except InputError as exc:
            raise RecordError(str(exc)) from None
        return parse_nvml_answer(data, str(path))
    return parse_nvidia_smi_output(text, str(path))


# -- what the plugin reports --------------------------------------------------------------------
# The plugin's override variables (nvidia-variant-provider, as uv vendors it): a forced CUDA
# driver version is taken as it is (no range check, no driver needed); a forced SM architecture
# ("9.0") replaces the GPUs' compute capabilities.
FORCE_CUDA = "NV_VARIANT_PROVIDER_FORCE_CUDA_DRIVER_VERSION"
FORCE_SM = "NV_VARIANT_PROVIDER_FORCE_SM_ARCH"
# uv reads at most this many values per feature from a provider.
MAX_VALUES = 1024


@dataclass(frozen=True)
class Overrides:
    """The override variables as read: the forced values and what could not be read."""

    cuda: tuple[int, int] | None = None
    sm: tuple[int, int] | None = None
    problems: tuple[str, ...] = ()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Overrides:
        cuda = sm = None
        problems: list[str] = []
        if text := environ.get(FORCE_CUDA, "").strip():
            try:
                version = Version(text)
                cuda = (version.major, version.minor)
            except InvalidVersion:
                problems.append(f"{FORCE_CUDA}={text!r} is not a version; ignored")
        if text := environ.get(FORCE_SM, "").strip():
            major, dot, minor = text.partition(".")
            if dot and major.isdigit() and minor.isdigit():
                sm = (int(major), int(minor))
            else:
                problems.append(f"{FORCE_SM}={text!r} is not MAJOR.MINOR (such as 9.0); ignored")
        return cls(cuda, sm, tuple(problems))

    def describe(self) -> str:
        forced = []
        if self.cuda is not None:
            forced.append(f"{FORCE_CUDA}={self.cuda[0]}.{self.cuda[1]}")
        if self.sm is not None:
            forced.append(f"{FORCE_SM}={self.sm[0]}.{self.sm[1]}")
        return ", ".join(forced)


def cuda_lower_bounds(major: int, minor: int) -> tuple[str, ...]:
    """``X.Y`` and ``X`` at or below the driver's CUDA version, newest first (the plugin's
    ``cuda_version_lower_bound``): 12.7 gives ``12.7 ... 12.0, 12, 11.20 ... 11.0, 11``."""
    top_minor = CUDA_MINORS[-1]
    values: list[str] = []
    for m in range(major, CUDA_MAJORS[0] - 1, -1):
        start = minor if m == major else top_minor
        values += [f"{m}.{n}" for n in range(start, -1, -1)] + [str(m)]
    return tuple(values)


def cuda_upper_bounds(major: int, minor: int) -> tuple[str, ...]:
    """Every value above the driver's CUDA version up to 15.20, newest first (the plugin's
    ``cuda_version_upper_bound``, an exclusive bound): 12.7 gives ``15.20 ... 15, ... 13, 12.20
    ... 12.8``."""
    top_minor = CUDA_MINORS[-1]
    values: list[str] = []
    for m in range(CUDA_MAJORS[-1], major - 1, -1):
        if m > major:
            values += [f"{m}.{n}" for n in range(top_minor, -1, -1)] + [str(m)]
        else:
            values += [f"{m}.{n}" for n in range(top_minor, minor, -1)]
    return tuple(values)


def sm_arch_values(major: int, minor: int) -> tuple[str, ...]:
    """``{major}{minor}_real`` down to minor 0, then ``{major}0_virtual``."""
    return tuple(f"{major}{n}_real" for n in range(minor, -1, -1)) + (f"{major}0_virtual",)


def supported_features(answer: NvidiaAnswer, overrides: Overrides | None = None) -> tuple[Features, str | None]:
    """``(features, note)``: the plugin's answer for this driver and these GPUs, with the
    override variables applied as the plugin applies them."""
    overrides = overrides or Overrides()
    notes = list(overrides.problems)
    if overrides.cuda is not None:
        major, minor = overrides.cuda  # forced: used as it is, as in the plugin
    elif answer.cuda_driver_version is None:
        return {}, "; ".join([*notes, answer.problem or "no CUDA driver version"])
    else:
        major, minor = answer.cuda_driver_version
        lowest, highest = (CUDA_MAJORS[0], CUDA_MINORS[0]), (CUDA_MAJORS[-1], CUDA_MINORS[-1])
        if not lowest <= (major, minor) <= highest:
            return {}, "; ".join([
                *notes,
                f"CUDA driver version {major}.{minor} is outside {lowest[0]}.{lowest[1]}"
                f"–{highest[0]}.{highest[1]}; detection is off, as in nvidia-variant-provider",
            ])
    features: Features = {}
    for name, values in (
        ("cuda_version_lower_bound", cuda_lower_bounds(major, minor)),
        ("cuda_version_upper_bound", cuda_upper_bounds(major, minor)),
    ):
        if len(values) > MAX_VALUES:
            notes.append(f"{name} has {len(values)} values; keeping the first {MAX_VALUES}, as uv does")
            values = values[:MAX_VALUES]
        if values:
            features[name] = values
    sm = overrides.sm
    if sm is None and answer.compute_capabilities:
        sm = max(answer.compute_capabilities)  # only the newest GPU counts, as in the plugin
    if sm is None:
        notes.append("no GPU reports a compute capability: sm_arch lists nothing")
    elif sm < MIN_COMPUTE_CAPABILITY:
        notes.append(f"compute capability {sm[0]}.{sm[1]} is older than 5.0: sm_arch lists nothing")
    else:
        features["sm_arch"] = sm_arch_values(*sm)
    if overrides.cuda is not None or overrides.sm is not None:
        notes.append(f"forced by {overrides.describe()}")
    return features, "; ".join(notes) or None


def detect_from_answer(answer: NvidiaAnswer, environ: Mapping[str, str] | None = None) -> Detection:
    """The plugin's answer for a recorded or live driver answer; ``environ`` (default: this
    process's environment) supplies the override variables."""
    overrides = Overrides.from_environ(os.environ if environ is None else environ)
    features, note = supported_features(answer, overrides)
    if note and not features:
        note = f"{note}; listing nothing for nvidia"
    return Detection(NAMESPACE, features, f"{answer.source}: {note}" if note else None)


def detect_from_file(path: str | Path, environ: Mapping[str, str] | None = None) -> Detection:
    return detect_from_answer(read_recorded(path), environ)


# -- asking this machine ------------------------------------------------------------------------
class _NvmlUnavailable(Exception):
    pass


def query_nvml() -> dict[str, object]:
    """Ask NVML; the answer has the recorded layout. Raises _NvmlUnavailable without a driver."""
    names = ("nvml.dll",) if sys.platform == "win32" else ("libnvidia-ml.so.1", "libnvidia-ml.so")
    lib = None
    for name in names:
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None:
        raise _NvmlUnavailable(f"{names[0]} is not loadable")

    def error(code: int) -> str:
        try:
            fn = lib.nvmlErrorString
            fn.restype = ctypes.c_char_p
            message: bytes = fn(code)  # a char* (restype above)
            return message.decode(errors="replace")
        except AttributeError:
            return f"NVML error {code}"

    ret = lib.nvmlInit_v2()
    if ret != 0:
        return {"error": f"nvmlInit_v2: {error(ret)}"}
    try:
        answer: dict[str, object] = {}
        buf = ctypes.create_string_buffer(96)
        if lib.nvmlSystemGetDriverVersion(buf, ctypes.c_uint(len(buf))) == 0:
            answer["nvmlSystemGetDriverVersion"] = buf.value.decode(errors="replace")
        cuda = ctypes.c_int()
        if lib.nvmlSystemGetCudaDriverVersion_v2(ctypes.byref(cuda)) == 0:
            answer["nvmlSystemGetCudaDriverVersion_v2"] = cuda.value
        elif lib.nvmlSystemGetCudaDriverVersion(ctypes.byref(cuda)) == 0:
            answer["nvmlSystemGetCudaDriverVersion"] = cuda.value
        count = ctypes.c_uint()
        ret = lib.nvmlDeviceGetCount_v2(ctypes.byref(count))
        if ret != 0:
            return {"error": f"nvmlDeviceGetCount_v2: {error(ret)}"}
        devices: list[dict[str, object]] = []
        for index in range(count.value):
            handle = ctypes.c_void_p()
            ret = lib.nvmlDeviceGetHandleByIndex_v2(ctypes.c_uint(index), ctypes.byref(handle))
            if ret != 0:
                return {"error": f"nvmlDeviceGetHandleByIndex_v2({index}): {error(ret)}"}
            device: dict[str, object] = {}
            if lib.nvmlDeviceGetName(handle, buf, ctypes.c_uint(len(buf))) == 0:
                device["nvmlDeviceGetName"] = buf.value.decode(errors="replace")
            major, minor = ctypes.c_int(), ctypes.c_int()
            if lib.nvmlDeviceGetCudaComputeCapability(handle, ctypes.byref(major), ctypes.byref(minor)) == 0:
                device["nvmlDeviceGetCudaComputeCapability"] = [major.value, minor.value]
            devices.append(device)
        answer["devices"] = devices
        return answer
    finally:
        lib.nvmlShutdown()


def run_nvidia_smi(timeout: float = 30.0) -> str | None:
    """nvidia-smi's answer (stdout, or its complaint), None when it is not installed."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        proc = subprocess.run(
            [exe, *SMI_COMMAND[1:]], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return f"did not answer within {timeout:g} s"
    except OSError as exc:
        return f"cannot run: {exc.strerror}"
    return proc.stdout if proc.returncode == 0 else (proc.stdout + proc.stderr).strip() or f"exit code {proc.returncode}"


def detect_host(environ: Mapping[str, str] | None = None) -> Detection:
    """This machine's answer (NVML, else nvidia-smi); the override variables apply even without
    a driver, as in the plugin."""
    try:
        return detect_from_answer(parse_nvml_answer(query_nvml(), "NVML"), environ)
    except _NvmlUnavailable as exc:
        nvml_reason = str(exc)
    output = run_nvidia_smi()
    if output is None:
        problem = f"no NVIDIA driver found ({nvml_reason}, nvidia-smi is not on PATH)"
        return detect_from_answer(NvidiaAnswer("this machine", problem=problem), environ)
    try:
        return detect_from_answer(parse_nvidia_smi_output(output, "nvidia-smi"), environ)
    except RecordError as exc:
        return detect_from_answer(NvidiaAnswer("nvidia-smi", problem=f"unexpected output ({exc})"), environ)
