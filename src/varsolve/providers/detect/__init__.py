"""varsolve's own detectors for the namespaces whose published plugins it reimplements
(PEP 850 step 4, digest 3.1): ``x86_64``, ``aarch64``, ``nvidia`` and ``tpu``, with the value
lists, order and override variables of the providers uv vendors.

Each detector reads the machine varsolve runs on, and only when the user asked for it
(``varsolve detect``, ``varsolve resolve --detect``). Each returns ``feature -> values``, values
most preferred first, in the order the published plugin reports them, plus the reason when it
found nothing. Recorded answers (a copy of ``/proc/cpuinfo``, an ``nvidia-smi`` or NVML answer)
go through the same parsers as live ones, which is how the tests and ``varsolve detect
--cpuinfo/--nvidia-from`` describe machines other than this one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from packaging.utils import canonicalize_name

from .detection import Detection, Features

__all__ = ["BuiltinProvider", "Detection", "Features", "detect_namespace"]

@dataclass(frozen=True)
class BuiltinProvider:
    namespace: str
    # The published plugin this detector stands in for: its distribution and its plugin API.
    distribution: str
    plugin_api: str
    detect: Callable[[], Detection]

    def stands_in_for(self, requires: tuple[str, ...], plugin_api: str | None) -> bool:
        """True when metadata naming these requirements / this API means the published plugin.

        Metadata without a plugin (scenarios, static data) names no one, so the namespace decides.
        """
        if plugin_api is not None and plugin_api.replace(" ", "") == self.plugin_api:
            return True
        if not requires:
            return plugin_api is None
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            names = {canonicalize_name(Requirement(r).name) for r in requires}
        except InvalidRequirement:
            return False
        return canonicalize_name(self.distribution) in names


def _x86_64() -> Detection:
    from .x86_64 import detect_host

    return detect_host()


def _aarch64() -> Detection:
    from .aarch64 import detect_host

    return detect_host()


def _nvidia() -> Detection:
    from .nvidia import detect_host

    return detect_host()


def _tpu() -> Detection:
    from .tpu import detect_host

    return detect_host()


BUILTIN: dict[str, BuiltinProvider] = {
    "x86_64": BuiltinProvider(
        "x86_64", "provider-variant-x86-64", "provider_variant_x86_64.plugin:X8664Plugin", _x86_64
    ),
    "aarch64": BuiltinProvider(
        "aarch64", "provider-variant-aarch64", "provider_variant_aarch64.plugin:AArch64Plugin", _aarch64
    ),
    "nvidia": BuiltinProvider(
        "nvidia", "nvidia-variant-provider", "nvidia_variant_provider.plugin:NvidiaVariantPlugin", _nvidia
    ),
    # uv vendors tpu-variant-provider 0.1.0; the registry has no such package, and its plugin API
    # is not published (the requirement's name decides, see stands_in_for).
    "tpu": BuiltinProvider("tpu", "tpu-variant-provider", "tpu_variant_provider.plugin:TPUVariantPlugin", _tpu),
}


@cache
def detect_namespace(namespace: str) -> Detection:
    """The host's answer for one namespace, computed once per process (the machine does not
    change during a run)."""
    return BUILTIN[namespace].detect()
