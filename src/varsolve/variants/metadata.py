"""Variant metadata: ``*.dist-info/variant.json`` and the index-level ``*-variants.json``.

Reads three schema generations (digest section 1.1):

* ``0.0.3`` (PEP 817, variantlib <= 0.1 and mockhouse): ``providers`` with ``enable-if`` /
  ``install-time``, top-level ``static-properties``, ``default-priorities.feature/property``;
* ``0.1.x`` (PEP 825): only ``$schema``, ``default-priorities.namespace`` and ``variants``;
* ``0.2.x`` (PEP 850, variantlib 0.2.2): ``providers`` with ``requires`` / ``plugin-api`` /
  ``optional`` / ``static-properties`` (+ variantlib's ``feature-order``).

Everything is normalised into one :class:`VariantMetadata`; :func:`merge` implements PEP 825's
consistency rules for the "combined variant metadata".

Published metadata mixes the generations (a 0.2 document with the 0.0.3-era ``enable-if``,
``install-time`` or top-level ``static-properties``, keys nobody defined). varsolve reads what it
can: keys of another generation are read as that generation defines them, unknown keys are
ignored, and each is said in :attr:`VariantMetadata.notes` (a warning naming the file). Only what
cannot be understood (malformed JSON, wrong types, invalid names, an unknown schema version) makes
a document invalid: then the release's variant wheels are not used, never the whole release.
Feature names are canonical (:data:`~varsolve.variants.properties.FEATURE_ALIASES`):
``blas_lapack :: provider`` is read as ``blas_lapack :: library``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import InconsistentVariantMetadata, InvalidProperty, InvalidVariantMetadata, VarsolveError
from .labels import LABEL_RE
from .properties import (
    ABI_DEPENDENCY,
    FEATURE_RE,
    NAMESPACE_RE,
    VALUE_RE,
    PropertyMap,
    canonical_feature,
    canonical_features,
    check_abi_value,
)

SCHEMA_817 = "https://variants-schema.wheelnext.dev/v0.0.3.json"
SCHEMA_825 = "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json"
SCHEMA_850 = "https://variants-schema.wheelnext.dev/peps/850/v0.2.0.json"
# variantlib 0.2.2 writes and accepts this URL for the PEP 850 generation.
SCHEMA_VARIANTLIB_022 = "https://variants-schema.wheelnext.dev/v0.2.0.json"

_SCHEMA_VERSION = re.compile(r"/v(\d+)\.(\d+)\.(\d+)\.json$")
_LEGACY_SCHEMA_URLS = {"https://wheelnext.dev/variants.json": (0, 0, 3)}


@dataclass(frozen=True)
class Provider:
    """What the metadata says about the provider of one namespace (PEP 817/850)."""

    requires: tuple[str, ...] = ()
    plugin_api: str | None = None
    optional: bool = False
    static_properties: dict[str, tuple[str, ...]] | None = None  # feature -> ordered values
    enable_if: str | None = None  # PEP 817 only
    install_time: bool = True  # PEP 817 only


@dataclass(frozen=True)
class VariantMetadata:
    schema: str
    namespaces: tuple[str, ...]
    variants: dict[str, PropertyMap]
    providers: dict[str, Provider] = field(default_factory=dict)
    # PEP 817 only: per-namespace feature order and per-feature value order put first.
    feature_priorities: dict[str, tuple[str, ...]] = field(default_factory=dict)
    property_priorities: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # What was read leniently or ignored (keys of another generation, unknown keys), one line
    # each naming the document; not part of equality.
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        # One name per feature, however the document (or a scenario) spelled it.
        canon = object.__setattr__
        canon(self, "variants", {
            label: {ns: {f: tuple(sorted(v)) for f, v in canonical_features(ns, feats).items()} for ns, feats in props.items()}
            for label, props in self.variants.items()
        })
        canon(self, "providers", {
            ns: p if p.static_properties is None else replace(p, static_properties=canonical_features(ns, p.static_properties))
            for ns, p in self.providers.items()
        })
        canon(self, "feature_priorities", {
            ns: tuple(dict.fromkeys(canonical_feature(ns, f) for f in fs)) for ns, fs in self.feature_priorities.items()
        })
        canon(self, "property_priorities", {ns: canonical_features(ns, fv) for ns, fv in self.property_priorities.items()})

    @property
    def schema_version(self) -> tuple[int, int, int]:
        return schema_version(self.schema)

    def namespace_order(self) -> tuple[str, ...]:
        """``default-priorities.namespace``, with ``abi_dependency`` appended when used.

        PEP 850's draft forbids listing ``abi_dependency`` while PEP 825 requires every used
        namespace (digest 3.6, CONFLICT); like variantlib we accept both and put it last.
        """
        if ABI_DEPENDENCY in self.namespaces:
            return self.namespaces
        used = any(ABI_DEPENDENCY in props for props in self.variants.values())
        return self.namespaces + (ABI_DEPENDENCY,) if used else self.namespaces

    def prune(self, labels: set[str]) -> VariantMetadata:
        """Keep only ``labels`` (PEP 825's pylock pruning); the namespace list is never emptied."""
        kept = {label: props for label, props in self.variants.items() if label in labels}
        used = {ns for props in kept.values() for ns in props}
        namespaces = tuple(ns for ns in self.namespaces if ns in used) or self.namespaces
        providers = {ns: p for ns, p in self.providers.items() if ns in namespaces}
        return VariantMetadata(
            self.schema, namespaces, kept, providers, self.feature_priorities, self.property_priorities, self.notes
        )

    def to_json_dict(self, schema: str | None = None) -> dict[str, Any]:
        """Serialise; ``schema`` picks the generation (default: the one it was read in)."""
        schema = schema or self.schema
        major, minor, _ = schema_version(schema)
        out: dict[str, Any] = {"$schema": schema}
        prio: dict[str, Any] = {"namespace": list(self.namespaces)}
        if (major, minor) == (0, 0):
            if self.feature_priorities:
                prio["feature"] = {ns: list(fs) for ns, fs in sorted(self.feature_priorities.items())}
            if self.property_priorities:
                prio["property"] = {
                    ns: {f: list(vs) for f, vs in sorted(fv.items())}
                    for ns, fv in sorted(self.property_priorities.items())
                }
        out["default-priorities"] = prio
        if (major, minor) == (0, 2):
            # variantlib 0.2.2 wants a provider for every listed namespace (abi_dependency is
            # listed only when a release uses nothing else: the list may not be empty).
            out["providers"] = {ns: _provider_to_json(self.providers.get(ns, Provider()), ns) for ns in self.namespaces}
        elif (major, minor) == (0, 0) and self.providers:
            out["providers"] = {
                ns: _provider_to_json(p, ns, legacy=True) for ns, p in sorted(self.providers.items())
            }
            static = {
                ns: {f: list(v) for f, v in p.static_properties.items()}
                for ns, p in sorted(self.providers.items())
                if p.static_properties
            }
            if static:
                out["static-properties"] = static
        out["variants"] = {
            label: {
                ns: {f: sorted(vals) for f, vals in sorted(feats.items())}
                for ns, feats in sorted(props.items())
            }
            for label, props in sorted(self.variants.items())
        }
        return out

    def to_json(self, schema: str | None = None) -> str:
        return json.dumps(self.to_json_dict(schema), indent=2, sort_keys=False) + "\n"


def _provider_to_json(p: Provider, namespace: str = "", legacy: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if p.requires:
        out["requires"] = list(p.requires)
    if p.plugin_api:
        out["plugin-api"] = p.plugin_api
    if p.optional:
        out["optional"] = True
    if legacy:
        if p.enable_if:
            out["enable-if"] = p.enable_if
        if not p.install_time:
            out["install-time"] = False
    elif p.static_properties is not None:
        # PEP 850: static-properties and requires/plugin-api are exclusive. A PEP 817 ahead-of-time
        # provider (install-time = false) carries both; its static list is what counts.
        out.pop("requires", None)
        out.pop("plugin-api", None)
        out["static-properties"] = {f: list(v) for f, v in p.static_properties.items()}
        if len(p.static_properties) > 1:
            out["feature-order"] = list(p.static_properties)
    if not legacy and not ({"requires", "static-properties"} & set(out)):
        # A provider we know nothing about (PEP 825 data, scenarios: the values come from the
        # user's static file or host detection). ``static-properties = {}`` would claim "nothing
        # supported"; variantlib wants one of requires / static-properties / builtin, and
        # ``builtin`` names no plugin package, so none is ever looked for. Read back unchanged.
        out["builtin"] = namespace
    return out


def schema_version(url: str) -> tuple[int, int, int]:
    if url in _LEGACY_SCHEMA_URLS:
        return _LEGACY_SCHEMA_URLS[url]
    match = _SCHEMA_VERSION.search(url or "")
    if not match:
        raise InvalidVariantMetadata(f"unrecognised $schema {url!r}")
    return int(match[1]), int(match[2]), int(match[3])


SUPPORTED_GENERATIONS = {(0, 0), (0, 1), (0, 2)}
# What variantlib 0.2.2 (the PEP 850 reference implementation) accepts in a provider table.
_PROVIDER_KEYS_850 = {
    "requires", "plugin-api", "optional", "static-properties", "feature-order", "build-requires", "builtin",
}
# Provider keys of the 0.0.3 generation (PEP 817), read in any generation.
_PROVIDER_KEYS_817 = {"enable-if", "install-time", "plugin-use"}


def _fail(where: str, message: str) -> InvalidVariantMetadata:
    return InvalidVariantMetadata(message, where=where)


def _str_list(value: Any, where: str, key: str, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, f"{key} must be a list of strings")
    if pattern is not None:
        for v in value:
            if not pattern.fullmatch(v):
                raise _fail(where, f"{key}: {v!r} does not match {pattern.pattern}")
    if len(set(value)) != len(value):
        raise _fail(where, f"{key} has duplicate entries")
    return tuple(value)


def _dict(value: Any, where: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, f"{key} must be a table/object")
    return value


def _property_map(value: Any, where: str, key: str) -> PropertyMap:
    out: PropertyMap = {}
    for ns, feats in _dict(value, where, key).items():
        if not NAMESPACE_RE.fullmatch(ns):
            raise _fail(where, f"{key}: invalid namespace {ns!r}")
        out[ns] = {}
        for feature, values in _dict(feats, where, f"{key}.{ns}").items():
            if not FEATURE_RE.fullmatch(feature):
                raise _fail(where, f"{key}.{ns}: invalid feature {feature!r}")
            vals = _str_list(values, where, f"{key}.{ns}.{feature}", VALUE_RE)
            if not vals:
                raise _fail(where, f"{key}.{ns}.{feature} must not be empty")
            if ns == ABI_DEPENDENCY:
                for v in vals:
                    try:
                        check_abi_value(feature, v, f"{ns} :: {feature} :: {v}")
                    except InvalidProperty as exc:
                        raise _fail(where, f"{key}.{ns}.{feature}: {exc}") from None
            out[ns][feature] = tuple(sorted(vals))
    return out


def parse_metadata(data: Any, where: str = "variant metadata") -> VariantMetadata:
    """Validate and normalise one parsed ``variant.json`` / ``*-variants.json`` document."""
    top = _dict(data, where, "document")
    schema = top.get("$schema")
    if not isinstance(schema, str):
        raise _fail(where, "missing $schema")
    try:
        major, minor, _ = schema_version(schema)
    except VarsolveError:
        raise _fail(where, f"unrecognised $schema {schema!r}") from None
    if (major, minor) not in SUPPORTED_GENERATIONS:
        raise _fail(where, f"unsupported variant metadata schema version {major}.{minor} ({schema})")
    notes: list[str] = []
    generation = f"{major}.{minor}"

    def note(message: str) -> None:
        # PEP 817 (0.0.x) told tools to read what they know and ignore the rest: no note there.
        if (major, minor) != (0, 0):
            notes.append(f"{where}: {message}")

    allowed = {"$schema", "default-priorities", "variants"}
    if (major, minor) == (0, 2):
        allowed |= {"providers"}
    for key in sorted(set(top) - allowed):
        # The 0.1 and 0.2 schemas forbid other keys; published data has them anyway.
        if key in ("providers", "static-properties"):
            note(f"{key!r} is not in schema {generation}; read as schema 0.0.3 defines it")
        else:
            note(f"unknown key {key!r} ignored")
    prio = _dict(top.get("default-priorities"), where, "default-priorities")
    namespaces = _str_list(prio.get("namespace"), where, "default-priorities.namespace", NAMESPACE_RE)
    if not namespaces:
        raise _fail(where, "default-priorities.namespace must not be empty")
    feature_prio: dict[str, tuple[str, ...]] = {}
    property_prio: dict[str, dict[str, tuple[str, ...]]] = {}
    for extra in sorted(set(prio) - {"namespace", "feature", "property"}):
        note(f"unknown key default-priorities.{extra} ignored")
    if (major, minor) == (0, 2) and set(prio) & {"feature", "property"}:
        note(f"default-priorities.feature/property are not in schema {generation}; read as schema 0.0.3 defines them")
    if prio:
        # 0.0.3 and 0.1.0 had feature/property priorities (removed in 0.1.1); read them when present.
        for ns, feats in _dict(prio.get("feature", {}), where, "default-priorities.feature").items():
            feature_prio[ns] = _str_list(feats, where, f"default-priorities.feature.{ns}", FEATURE_RE)
        for ns, fv in _dict(prio.get("property", {}), where, "default-priorities.property").items():
            property_prio[ns] = {
                f: _str_list(v, where, f"default-priorities.property.{ns}.{f}", VALUE_RE)
                for f, v in _dict(fv, where, f"default-priorities.property.{ns}").items()
            }

    variants: dict[str, PropertyMap] = {}
    for label, props in _dict(top.get("variants"), where, "variants").items():
        if not LABEL_RE.fullmatch(label):
            raise _fail(where, f"invalid variant label {label!r}")
        variants[label] = _property_map(props, where, f"variants.{label}")
        if label == "null" and variants[label]:
            raise _fail(where, "the null variant must have no properties")

    providers: dict[str, Provider] = {}
    legacy_static = _dict(top.get("static-properties", {}), where, "static-properties")
    for ns, info in _dict(top.get("providers", {}), where, "providers").items():
        if not NAMESPACE_RE.fullmatch(ns):
            raise _fail(where, f"providers: invalid namespace {ns!r}")
        info = _dict(info, where, f"providers.{ns}")
        for key in sorted(set(info) - _PROVIDER_KEYS_850):
            if key in _PROVIDER_KEYS_817:
                note(f"providers.{ns}.{key} is not in schema {generation}; read as schema 0.0.3 defines it")
            else:
                note(f"unknown key providers.{ns}.{key} ignored")
        static = info.get("static-properties", legacy_static.get(ns))
        static_map: dict[str, tuple[str, ...]] | None = None
        if static is not None:
            static_map = {}
            feature_order = info.get("feature-order")
            items = _dict(static, where, f"providers.{ns}.static-properties")
            if feature_order is not None:
                _str_list(feature_order, where, f"providers.{ns}.feature-order")
            order = list(feature_order) if isinstance(feature_order, list) else list(items)
            order += [f for f in items if f not in order]
            for feature in order:
                if feature in items:
                    static_map[feature] = _str_list(
                        items[feature], where, f"providers.{ns}.static-properties.{feature}", VALUE_RE
                    )
        requires = _str_list(info.get("requires", []), where, f"providers.{ns}.requires")
        plugin_api = info.get("plugin-api")
        if plugin_api is not None and not isinstance(plugin_api, str):
            raise _fail(where, f"providers.{ns}.plugin-api must be a string")
        optional = info.get("optional", False)
        if not isinstance(optional, bool):
            raise _fail(where, f"providers.{ns}.optional must be a boolean")
        enable_if = info.get("enable-if")
        if enable_if is not None and not isinstance(enable_if, str):
            raise _fail(where, f"providers.{ns}.enable-if must be a string (a marker)")
        install_time = info.get("install-time", info.get("plugin-use", "all") != "none")
        if not isinstance(install_time, bool):
            raise _fail(where, f"providers.{ns}.install-time must be a boolean")
        providers[ns] = Provider(
            requires=requires,
            plugin_api=plugin_api,
            optional=optional,
            static_properties=static_map,
            enable_if=enable_if,
            install_time=install_time,
        )
    for ns, static in legacy_static.items():
        if ns not in providers:
            providers[ns] = Provider(
                static_properties={
                    f: _str_list(v, where, f"static-properties.{ns}.{f}", VALUE_RE)
                    for f, v in _dict(static, where, f"static-properties.{ns}").items()
                }
            )

    used = {ns for props in variants.values() for ns in props} - {ABI_DEPENDENCY}
    missing = sorted(used - set(namespaces))
    if missing:
        raise _fail(where, f"namespace {missing[0]!r} is used but not in default-priorities.namespace")
    return VariantMetadata(schema, namespaces, variants, providers, feature_prio, property_prio, tuple(notes))


def load_metadata_bytes(raw: bytes, where: str) -> VariantMetadata:
    from ..structured import load_json

    return parse_metadata(load_json(raw, where, error=InvalidVariantMetadata), where)


def merge(items: list[VariantMetadata], where: str) -> VariantMetadata:
    """PEP 825's combined variant metadata; raises :class:`InconsistentVariantMetadata`.

    Namespace lists must be equal or one a prefix of the other (the longer wins); one label
    must map to one property set; providers of one namespace must agree (PEP 817/850).
    """
    if not items:
        raise ValueError("merge() needs at least one metadata document")
    namespaces: tuple[str, ...] = ()
    variants: dict[str, PropertyMap] = {}
    providers: dict[str, Provider] = {}
    schema = max((m.schema for m in items), key=schema_version)
    for md in items:
        a, b = namespaces, md.namespaces
        if a[: len(b)] == b:
            pass
        elif b[: len(a)] == a:
            namespaces = b
        else:
            raise InconsistentVariantMetadata(
                f"default-priorities.namespace {list(a)} and {list(b)} disagree", where=where
            )
        for label, props in md.variants.items():
            if label in variants and variants[label] != props:
                raise InconsistentVariantMetadata(
                    f"label {label!r} has two different property sets", where=where
                )
            variants[label] = props
        for ns, provider in md.providers.items():
            if ns in providers and providers[ns] != provider:
                raise InconsistentVariantMetadata(f"providers.{ns} differs between files", where=where)
            providers[ns] = provider
    first = items[0]
    notes = tuple(dict.fromkeys(n for md in items for n in md.notes))
    return VariantMetadata(
        schema, namespaces, variants, providers, first.feature_priorities, first.property_priorities, notes
    )
