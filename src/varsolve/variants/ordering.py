"""PEP 825's filter-and-order algorithm over the variant labels of one release (digest 4.2).

``supported`` is what the target supports, per namespace: features in decreasing preference,
each with its values in decreasing preference (PEP 850 providers produce exactly this).
Namespace order comes from the release's ``default-priorities.namespace``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .metadata import VariantMetadata
from .properties import PropertyMap

# namespace -> feature -> ordered values; dict order of features is the feature order.
Supported = Mapping[str, Mapping[str, Sequence[str]]]

# (namespace position, feature position, best value position) of one declared feature.
_Item = tuple[float, float, float]
_LAST: _Item = (float("inf"), float("inf"), float("inf"))


def is_compatible(props: PropertyMap, supported: Supported) -> bool:
    """AND across declared features, OR within one feature; zero properties always fit."""
    for ns, feats in props.items():
        ns_supported = supported.get(ns, {})
        for feature, values in feats.items():
            ok = ns_supported.get(feature, ())
            if not any(v in ok for v in values):
                return False
    return True


def supported_subset(props: PropertyMap, supported: Supported) -> PropertyMap:
    """The declared properties the target supports (what ``variant_properties`` sees)."""
    out: PropertyMap = {}
    for ns, feats in props.items():
        for feature, values in feats.items():
            ok = supported.get(ns, {}).get(feature, ())
            kept = tuple(v for v in values if v in ok)
            if kept:
                out.setdefault(ns, {})[feature] = kept
    return out


def label_sort_key(
    label: str, props: PropertyMap, namespace_order: Sequence[str], supported: Supported
) -> tuple[tuple[_Item, ...], str]:
    """Sort key of a compatible label: lower sorts first (more preferred).

    Each declared feature contributes one item keyed by (namespace, feature, best value)
    positions; items are sorted; lists compare position by position, a strict prefix loses to
    the longer list (the sentinel does that), and the label string breaks exact ties.
    """
    ns_index = {ns: i for i, ns in enumerate(namespace_order)}
    items: list[_Item] = []
    for ns, feats in props.items():
        features = list(supported[ns])
        for feature, values in feats.items():
            order = list(supported[ns][feature])
            best = min(order.index(v) for v in values if v in order)
            items.append((ns_index.get(ns, len(ns_index)), features.index(feature), best))
    items.sort()
    return (tuple(items) + (_LAST,), label)


def apply_legacy_priorities(metadata: VariantMetadata, supported: Supported) -> Supported:
    """PEP 817 data: ``default-priorities.feature/property`` move listed items to the front."""
    if not metadata.feature_priorities and not metadata.property_priorities:
        return supported
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for ns, feats in supported.items():
        first = [f for f in metadata.feature_priorities.get(ns, ()) if f in feats]
        order = first + [f for f in feats if f not in first]
        out[ns] = {}
        for feature in order:
            values = list(feats[feature])
            preferred = [
                v for v in metadata.property_priorities.get(ns, {}).get(feature, ()) if v in values
            ]
            out[ns][feature] = tuple(preferred + [v for v in values if v not in preferred])
    return out


def order_labels(
    metadata: VariantMetadata, supported: Supported, labels: Iterable[str] | None = None
) -> list[str]:
    """The compatible labels among ``labels`` (default: all), most preferred first."""
    supported = apply_legacy_priorities(metadata, supported)
    namespace_order = metadata.namespace_order()
    chosen = metadata.variants if labels is None else {
        label: metadata.variants[label] for label in labels if label in metadata.variants
    }
    compatible = [
        (label_sort_key(label, props, namespace_order, supported), label)
        for label, props in chosen.items()
        if is_compatible(props, supported)
    ]
    return [label for _, label in sorted(compatible)]
