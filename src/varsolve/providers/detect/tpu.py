"""Google TPUs (namespace ``tpu``), as uv's vendored ``tpu-variant-provider`` 0.1.0 reports them:
one feature, ``present``, with the value ``true`` when the machine has a TPU and ``false`` when it
has none; ``TPU_VARIANT_PROVIDER_FORCE_PRESENT`` (``true``/``false``, also ``1``/``0``,
``yes``/``no``) decides instead.

A TPU is a PCI device of Google's vendor id with one of the TPU device ids (the list JAX and
torch_xla use to find local TPUs), read from ``/sys/bus/pci/devices/*/{vendor,device}``. Google's
other PCI devices (the gVNIC network card of every Compute Engine VM) do not count. The plugin's
own source is not published; its feature and values are uv's, the way it looks is varsolve's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .detection import Detection

NAMESPACE = "tpu"
FORCE_PRESENT = "TPU_VARIANT_PROVIDER_FORCE_PRESENT"
GOOGLE_PCI_VENDOR = "0x1ae0"
TPU_PCI_DEVICES = frozenset({
    "0x0027",  # TPU v2, v3
    "0x0056",
    "0x005e",  # TPU v4
    "0x0062",  # TPU v5p
    "0x0063",  # TPU v5e
    "0x006f",  # TPU v6e
})
PCI_DEVICES = Path("/sys/bus/pci/devices")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def count_tpus(pci_devices: Path = PCI_DEVICES) -> int:
    """TPU chips among the PCI devices of a sysfs tree (0 when it cannot be read)."""
    found = 0
    try:
        devices = sorted(pci_devices.iterdir())
    except OSError:
        return 0
    for device in devices:
        try:
            vendor = (device / "vendor").read_text(encoding="ascii", errors="replace").strip().lower()
            if vendor != GOOGLE_PCI_VENDOR:
                continue
            if (device / "device").read_text(encoding="ascii", errors="replace").strip().lower() in TPU_PCI_DEVICES:
                found += 1
        except OSError:
            continue
    return found


def detect(pci_devices: Path = PCI_DEVICES, environ: Mapping[str, str] | None = None) -> Detection:
    environ = os.environ if environ is None else environ
    forced = environ.get(FORCE_PRESENT, "").strip().lower()
    if forced in _TRUE | _FALSE:
        value = "true" if forced in _TRUE else "false"
        return Detection(NAMESPACE, {"present": (value,)}, f"forced by {FORCE_PRESENT}={environ[FORCE_PRESENT]}")
    note = None
    if forced:
        note = f"{FORCE_PRESENT}={environ[FORCE_PRESENT]!r} is neither true nor false; ignored"
    chips = count_tpus(pci_devices)
    return Detection(NAMESPACE, {"present": ("true" if chips else "false",)}, note)


def detect_host() -> Detection:
    return detect()
