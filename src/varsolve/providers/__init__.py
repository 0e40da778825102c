"""What the target supports of each namespace, per release, in PEP 850's order (digest 3.1).

1. a provider that is optional and not enabled gives nothing;
2. ``static-properties`` in the release's variant metadata are used as they are;
3. the user's static file (``--variants``, a scenario's ``[environment.variants]``) is used
   exclusively for the namespaces it lists;
4. a built-in detector for a namespace it knows (x86_64, aarch64, nvidia), only when the user
   asked for host detection (``--detect``) and the metadata names no other plugin for it;
5. otherwise the plugin in the provider's ``requires``, only when the user allowed every
   distribution it names (:mod:`varsolve.providers.plugins`); a plugin not allowed never runs,
   its namespace supports nothing and one warning says how to allow it.

PEP 817's ``enable-if`` marker, evaluated for the target, disables a provider like step 1.

``abi_dependency`` is not a provider: its values depend on the version the resolver chooses for
the named distribution, so every declared value is kept here and the candidate turns it into a
dependency (see :mod:`varsolve.candidates`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..variants.properties import ABI_DEPENDENCY, canonical_features

if TYPE_CHECKING:  # imported lazily: the CLI's argument parser imports this package
    from ..target import SupportedMap, Target
    from ..variants.metadata import Provider, VariantMetadata

log = logging.getLogger("varsolve")

# namespace -> callable(target) returning feature -> ordered values, consulted (when the user
# asked for host detection) before varsolve's own detectors; empty unless a caller registers one.
DETECTORS: dict[str, Callable[[Target], dict[str, tuple[str, ...]]]] = {}
_NOTED: set[str] = set()


def supported_for_release(metadata: VariantMetadata, target: Target) -> SupportedMap:
    out: SupportedMap = {}
    for ns in metadata.namespace_order():
        if ns == ABI_DEPENDENCY:
            out[ns] = _abi_values(metadata)
            continue
        provider = metadata.providers.get(ns)
        if provider is not None and _disabled(provider, ns, target):
            continue
        if provider is not None and provider.static_properties is not None:
            out[ns] = dict(provider.static_properties)
        elif ns in target.variants:
            out[ns] = dict(target.variants[ns])
        elif target.provider_policy.detect and _detectable(ns, provider):
            out[ns] = _detect(ns, target)
        elif provider is not None and provider.requires:
            out[ns] = _from_plugin(ns, provider, target)
        if ns in out:
            # One name per feature (blas_lapack :: provider is blas_lapack :: library), whoever spelled it.
            out[ns] = canonical_features(ns, out[ns])
    return out


def freeze_detection(target: Target) -> Target:
    """With ``--detect``: the target with the host's detected namespaces written into its static
    properties (namespaces the user listed stay as they are), so the detection can be recorded."""
    if not target.provider_policy.detect:
        return target
    from dataclasses import replace

    from .detect import BUILTIN, detect_namespace

    variants = dict(target.variants)
    for ns in sorted(BUILTIN):
        if ns not in variants and ns not in DETECTORS:
            features = dict(detect_namespace(ns).features)
            if features:
                variants[ns] = features
    for ns, detector in sorted(DETECTORS.items()):
        variants.setdefault(ns, detector(target))
    return replace(target, variants=variants)


def _disabled(provider: Provider, ns: str, target: Target) -> bool:
    if provider.optional and ns not in target.enabled:
        return True
    if provider.enable_if:
        from packaging.markers import InvalidMarker, Marker, UndefinedEnvironmentName

        try:
            return not Marker(provider.enable_if).evaluate(target.marker_environment())
        except (InvalidMarker, UndefinedEnvironmentName):
            return True  # a gate that cannot be evaluated does not open
    return False


def _detectable(ns: str, provider: Provider | None) -> bool:
    from .detect import BUILTIN

    if ns in DETECTORS:
        return True
    builtin = BUILTIN.get(ns)
    if builtin is None:
        return False
    return provider is None or builtin.stands_in_for(provider.requires, provider.plugin_api)


def _detect(ns: str, target: Target) -> dict[str, tuple[str, ...]]:
    if ns in DETECTORS:
        return DETECTORS[ns](target)
    from .detect import detect_namespace

    detection = detect_namespace(ns)
    if detection.note and ns not in _NOTED:
        _NOTED.add(ns)
        log.warning("%s: %s", ns, detection.note)
    return dict(detection.features)


def _from_plugin(ns: str, provider: Provider, target: Target) -> dict[str, tuple[str, ...]]:
    from .plugins import disallowed, plugin_spec, supported_from_plugin, warn_skipped

    spec = plugin_spec(ns, provider)
    if spec is None:
        return {}  # no requirement applies to this machine: nothing to run, nothing supported
    missing = disallowed(spec, target.provider_policy)
    if missing:
        warn_skipped(spec, missing, detectable=_detectable(ns, provider))
        return {}
    return dict(supported_from_plugin(spec, target.provider_policy))


def _abi_values(metadata: VariantMetadata) -> dict[str, tuple[str, ...]]:
    """Every declared value, newest release first, the more specific value first on a tie."""
    from packaging.version import InvalidVersion, Version

    declared: dict[str, set[str]] = {}
    for props in metadata.variants.values():
        for feature, values in props.get(ABI_DEPENDENCY, {}).items():
            declared.setdefault(feature, set()).update(values)

    def key(value: str) -> tuple[Version, int]:
        try:
            return (Version(value), len(value.split(".")))
        except InvalidVersion:
            return (Version("0"), 0)

    return {f: tuple(sorted(vals, key=key, reverse=True)) for f, vals in sorted(declared.items())}
