"""Variant properties, features and namespaces (PEP 825 section "Variant properties").

A property is ``namespace :: feature :: value``; whitespace around ``::`` is insignificant, the
canonical form uses exactly one space on each side.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import InvalidProperty

NAMESPACE_RE = re.compile(r"^[a-z0-9_]+$")
FEATURE_RE = re.compile(r"^[a-z0-9_]+$")
VALUE_RE = re.compile(r"^[a-z0-9_.]+$")
_SEPARATOR = re.compile(r"\s*::\s*")
# What parse() strips: spaces and tabs, not a newline (a value "mkl\n" is no value "mkl").
_BLANK = " \t"

ABI_DEPENDENCY = "abi_dependency"
# PEP 850: an abi_dependency value is a release segment of at most three numbers, matched as
# ``=={value}.*``; anything else cannot be turned into a version range.
ABI_VALUE_RE = re.compile(r"^[0-9]+(\.[0-9]+){0,2}$")


# One concept, two feature names in published metadata: 0.0.3-era numpy metadata (and
# blas-lapack-variant-provider) says ``blas_lapack :: provider``, PEP 825 and uv's tests say
# ``blas_lapack :: library``. Every feature name that enters varsolve (metadata, scenarios, the
# target, unify, marker literals) is read through this table, so both spellings are one feature.
FEATURE_ALIASES: dict[tuple[str, str], str] = {("blas_lapack", "provider"): "library"}


def canonical_feature(namespace: str, feature: str) -> str:
    """The one name varsolve uses for ``namespace :: feature`` (see FEATURE_ALIASES)."""
    return FEATURE_ALIASES.get((namespace, feature), feature)


def canonical_features(namespace: str, features: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """``feature -> values`` with aliased feature names merged into their canonical name: the
    feature keeps the position of its first spelling, values their order (first seen first)."""
    out: dict[str, tuple[str, ...]] = {}
    for feature, values in features.items():
        name = canonical_feature(namespace, feature)
        out[name] = tuple(dict.fromkeys((*out.get(name, ()), *values)))
    return out


def check_abi_value(feature: str, value: str, whole: str) -> None:
    if not ABI_VALUE_RE.fullmatch(value):
        raise InvalidProperty(
            f"invalid abi_dependency value {value!r} in {whole!r} (must be a release segment"
            f" X, X.Y or X.Y.Z, matched as {feature}=={value}.*)"
        )


def _check(kind: str, text: str, pattern: re.Pattern[str], whole: str) -> str:
    if not pattern.fullmatch(text):
        raise InvalidProperty(
            f"invalid {kind} {text!r} in {whole!r} (must match {pattern.pattern})"
        )
    return text


@dataclass(frozen=True, order=True, slots=True)
class VariantFeature:
    namespace: str
    feature: str

    @classmethod
    def parse(cls, text: str) -> VariantFeature:
        parts = _SEPARATOR.split(text.strip(_BLANK))
        if len(parts) != 2:
            raise InvalidProperty(f"invalid variant feature {text!r} (expected 'namespace :: feature')")
        ns, feature = parts
        _check("namespace", ns, NAMESPACE_RE, text)
        return cls(ns, canonical_feature(ns, _check("feature", feature, FEATURE_RE, text)))

    def __str__(self) -> str:
        return f"{self.namespace} :: {self.feature}"


@dataclass(frozen=True, order=True, slots=True)
class VariantProperty:
    namespace: str
    feature: str
    value: str

    @classmethod
    def parse(cls, text: str) -> VariantProperty:
        parts = _SEPARATOR.split(text.strip(_BLANK))
        if len(parts) != 3:
            raise InvalidProperty(
                f"invalid variant property {text!r} (expected 'namespace :: feature :: value')"
            )
        ns, feature, value = parts
        return cls.make(ns, feature, value, quoted=text)

    @classmethod
    def make(cls, namespace: str, feature: str, value: str, *, quoted: str | None = None) -> VariantProperty:
        """The property of these parts, checked; errors quote ``quoted`` (the text as given)."""
        whole = quoted if quoted is not None else f"{namespace} :: {feature} :: {value}"
        prop = cls(
            _check("namespace", namespace, NAMESPACE_RE, whole),
            canonical_feature(namespace, _check("feature", feature, FEATURE_RE, whole)),
            _check("value", value, VALUE_RE, whole),
        )
        if namespace == ABI_DEPENDENCY:
            check_abi_value(feature, value, whole)
        return prop

    @property
    def feature_key(self) -> VariantFeature:
        return VariantFeature(self.namespace, self.feature)

    def __str__(self) -> str:
        return f"{self.namespace} :: {self.feature} :: {self.value}"


def canonical(text: str) -> str:
    """Canonical form of a property, feature or namespace string as used in marker literals.

    Unlike :meth:`VariantProperty.parse` this does not validate: a marker literal that is not a
    valid property simply never matches. Aliased feature names become canonical.
    """
    parts = _SEPARATOR.split(text.strip())
    if len(parts) >= 2:
        parts[1] = canonical_feature(parts[0], parts[1])
    return " :: ".join(parts)


# A property set as stored in variant metadata: namespace -> feature -> values (OR within a feature).
PropertyMap = dict[str, dict[str, tuple[str, ...]]]


def properties_of(props: PropertyMap) -> frozenset[VariantProperty]:
    return frozenset(
        VariantProperty(ns, f, v) for ns, feats in props.items() for f, vals in feats.items() for v in vals
    )


def features_of(props: PropertyMap) -> frozenset[VariantFeature]:
    return frozenset(VariantFeature(ns, f) for ns, feats in props.items() for f in feats)


def group_properties(props: list[VariantProperty] | frozenset[VariantProperty]) -> PropertyMap:
    """Inverse of :func:`properties_of`: namespace -> feature -> sorted values (deterministic)."""
    grouped: dict[str, dict[str, set[str]]] = {}
    for p in props:
        grouped.setdefault(p.namespace, {}).setdefault(p.feature, set()).add(p.value)
    return {
        ns: {f: tuple(sorted(vals)) for f, vals in sorted(feats.items())}
        for ns, feats in sorted(grouped.items())
    }
