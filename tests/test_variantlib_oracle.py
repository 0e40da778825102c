"""Our PEP 825 order against variantlib 0.2.2's ``sort_and_filter_supported_variants``.

variantlib is only a test oracle here. Two of its behaviours are neutralised or accounted for:

* ``inject_abi_dependency`` reads the *host's* installed distributions (and an environment
  variable) to support ``abi_dependency`` values; it is patched to a no-op, and the random inputs
  do not use that namespace (varsolve takes those values from the resolved version instead).
* it always appends the null variant; we therefore always put ``null`` in the label set we
  order ourselves, so both sides order the same labels.

Semantic differences found (documented, tested explicitly below rather than hidden):

1. variantlib refuses zero-property labels other than ``null`` (``VariantDescription`` raises),
   while PEP 825 allows them and orders them by label string with ``null`` (``cpu`` < ``null``).
2. variantlib raises when a supported namespace is missing from the namespace priorities;
   varsolve orders such a namespace after the listed ones. Random inputs list every namespace.
3. variantlib's rank is a fixed-width vector over all supported (namespace, feature) slots with
   "missing" as worst; PEP 825 compares sorted item lists with "longer wins on a prefix tie".
   The two are equivalent (a missing slot in one list is exactly where the other list has an
   item that sorts earlier), which the property test below checks on random inputs.
"""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import examples
from varsolve.variants.metadata import SCHEMA_825, VariantMetadata
from varsolve.variants.ordering import order_labels

variantlib_lib = pytest.importorskip("variantlib.resolver.lib")
from variantlib.models.variant import VariantDescription, VariantProperty  # noqa: E402

POOL = {
    "nvidia": {"cuda": ["13", "12.9", "12.8", "12"], "sm_arch": ["90_real", "100_real", "120_real"]},
    "x86_64": {"level": ["v4", "v3", "v2", "v1"]},
    "blas": {"lib": ["mkl", "openblas", "accelerate"]},
    "aa": {"f": ["1", "2"], "g": ["1", "2"], "h": ["1"]},
}
ALL_FEATURES = [(ns, f) for ns, feats in POOL.items() for f in feats]


@st.composite
def ordering_problems(draw):
    # what the target supports: per namespace a subset of features in a random order, each with
    # a random ordered subset of values (possibly empty = unsupported)
    supported: dict[str, dict[str, list[str]]] = {}
    for ns, feats in POOL.items():
        if not draw(st.booleans()) and ns != "aa":
            continue
        names = draw(st.permutations(list(feats)))
        kept = names[: draw(st.integers(0, len(names)))]
        supported[ns] = {}
        for f in kept:
            values = draw(st.permutations(feats[f]))
            supported[ns][f] = values[: draw(st.integers(0, len(values)))]
    # labels: 1-6 variants, each with 1-3 features and 1-2 values per feature (fat wheels)
    variants: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {}
    seen: set = set()
    for i in range(draw(st.integers(1, 6))):
        features = draw(st.lists(st.sampled_from(ALL_FEATURES), min_size=1, max_size=3, unique=True))
        props: dict[str, dict[str, tuple[str, ...]]] = {}
        for ns, f in features:
            values = draw(st.lists(st.sampled_from(POOL[ns][f]), min_size=1, max_size=2, unique=True))
            props.setdefault(ns, {})[f] = tuple(sorted(values))
        key = repr(sorted((ns, f, v) for ns, fs in props.items() for f, v in fs.items()))
        if key in seen and draw(st.booleans()):
            continue  # mostly distinct property sets, sometimes a duplicate under another label
        seen.add(key)
        variants[f"v{i}_{draw(st.sampled_from(['a', 'b', 'z']))}"] = props
    variants["null"] = {}
    namespaces = draw(st.permutations(list(POOL)))
    return VariantMetadata(SCHEMA_825, tuple(namespaces), variants), supported


def variantlib_order(metadata: VariantMetadata, supported) -> list[str]:
    vdescs = [
        VariantDescription(
            properties=[VariantProperty(ns, f, v) for ns, fs in props.items() for f, vs in fs.items() for v in vs],
            label=label,
        )
        for label, props in metadata.variants.items()
        if props
    ]
    supported_vprops = [VariantProperty(ns, f, v) for ns, fs in supported.items() for f, vs in fs.items() for v in vs]
    with mock.patch.object(variantlib_lib, "inject_abi_dependency", lambda *args, **kwargs: None):
        result = variantlib_lib.sort_and_filter_supported_variants(
            vdescs, supported_vprops, namespace_priorities=list(metadata.namespaces)
        )
    return [v.label for v in result]


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ordering_problems())
def test_order_labels_equals_variantlib(problem):
    metadata, supported = problem
    ours = order_labels(metadata, supported)
    theirs = variantlib_order(metadata, supported)
    assert ours == theirs
    assert ours[-1] == "null"


def test_oracle_is_not_vacuous():
    """The oracle distinguishes orders: a hand case where the best-value rule matters."""
    metadata = VariantMetadata(
        SCHEMA_825,
        ("blas",),
        {"fat": {"blas": {"lib": ("accelerate", "mkl")}}, "openblas": {"blas": {"lib": ("openblas",)}}, "null": {}},
    )
    supported = {"blas": {"lib": ["mkl", "openblas", "accelerate"]}}
    assert variantlib_order(metadata, supported) == ["fat", "openblas", "null"]
    assert order_labels(metadata, supported) == ["fat", "openblas", "null"]
    supported = {"blas": {"lib": ["openblas", "accelerate", "mkl"]}}
    assert variantlib_order(metadata, supported) == ["openblas", "fat", "null"]
    assert order_labels(metadata, supported) == ["openblas", "fat", "null"]


def test_inject_abi_dependency_is_what_we_neutralise():
    """Without the patch variantlib would read the host (here: every installed distribution)."""
    vprops: list = []
    namespaces: list = []
    variantlib_lib.inject_abi_dependency(vprops, namespaces)
    assert namespaces == ["abi_dependency"]
    assert any(p.feature == "packaging" for p in vprops)


def test_difference_zero_property_labels():
    """PEP 825 orders a zero-property ``cpu`` label before ``null``; variantlib cannot express it."""
    from variantlib.errors import ValidationError

    with pytest.raises(ValidationError):
        VariantDescription(properties=[], label="cpu")
    metadata = VariantMetadata(SCHEMA_825, ("blas",), {"cpu": {}, "null": {}, "mkl": {"blas": {"lib": ("mkl",)}}})
    assert order_labels(metadata, {"blas": {"lib": ["mkl"]}}) == ["mkl", "cpu", "null"]


def test_difference_unlisted_supported_namespace():
    from variantlib.errors import ValidationError

    metadata = VariantMetadata(SCHEMA_825, ("blas",), {"mkl": {"blas": {"lib": ("mkl",)}}, "null": {}})
    supported = {"blas": {"lib": ["mkl"]}, "other": {"f": ["1"]}}
    with pytest.raises(ValidationError):
        variantlib_order(metadata, supported)
    assert order_labels(metadata, supported) == ["mkl", "null"]
