"""What the target supports of each namespace, per release, in PEP 850's order (digest 3.1).

1. a provider that is optional and not enabled gives nothing;
2. ``static-properties`` in the release's variant metadata are used as they are;
3. the user's static file (``--variants``, a scenario's ``[environment.variants]``) is used
   exclusively for the namespaces it lists;
4. a built-in detector (:data:`DETECTORS`) for a namespace it knows;
5. otherwise nothing: a plugin would run third-party code, which varsolve only does for
   providers the user allowed by name.

``abi_dependency`` is not a provider: its values depend on the version the resolver chooses for
the named distribution, so every declared value is kept here and the candidate turns it into a
dependency (see :mod:`varsolve.candidates`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from packaging.version import InvalidVersion, Version

from ..target import SupportedMap, Target
from ..variants.metadata import VariantMetadata
from ..variants.properties import ABI_DEPENDENCY

log = logging.getLogger("varsolve")

# namespace -> callable(target) returning feature -> ordered values; filled by optional
# detector modules (x86_64, aarch64, nvidia) when the user asks for host detection.
DETECTORS: dict[str, Callable[[Target], dict[str, tuple[str, ...]]]] = {}


def supported_for_release(metadata: VariantMetadata, target: Target) -> SupportedMap:
    out: SupportedMap = {}
    for ns in metadata.namespace_order():
        if ns == ABI_DEPENDENCY:
            out[ns] = _abi_values(metadata)
            continue
        provider = metadata.providers.get(ns)
        if provider is not None and provider.optional and ns not in target.enabled:
            continue
        if provider is not None and provider.static_properties is not None:
            out[ns] = dict(provider.static_properties)
        elif ns in target.variants:
            out[ns] = dict(target.variants[ns])
        elif ns in DETECTORS:
            out[ns] = DETECTORS[ns](target)
    return out


def _abi_values(metadata: VariantMetadata) -> dict[str, tuple[str, ...]]:
    """Every declared value, newest release first, the more specific value first on a tie."""
    declared: dict[str, set[str]] = {}
    for props in metadata.variants.values():
        for feature, values in props.get(ABI_DEPENDENCY, {}).items():
            declared.setdefault(feature, set()).update(values)

    def key(value: str) -> tuple:
        try:
            return (Version(value), len(value.split(".")))
        except InvalidVersion:
            return (Version("0"), 0)

    return {f: tuple(sorted(vals, key=key, reverse=True)) for f, vals in sorted(declared.items())}
