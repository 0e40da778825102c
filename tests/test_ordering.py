"""PEP 825's filter-and-order algorithm (digest 4.2), rule by rule."""

from __future__ import annotations

import pytest
from packaging.version import Version

from varsolve.variants.metadata import SCHEMA_817, SCHEMA_825, VariantMetadata, parse_metadata
from varsolve.variants.ordering import is_compatible, label_sort_key, order_labels, supported_subset


def md(variants: dict[str, list[str]], namespaces=None, schema=SCHEMA_825, **prio) -> VariantMetadata:
    """Metadata from ``label -> ["ns :: f :: v", ...]``."""
    from varsolve.variants.properties import VariantProperty, group_properties

    grouped = {label: group_properties([VariantProperty.parse(p) for p in props]) for label, props in variants.items()}
    used = sorted({ns for props in grouped.values() for ns in props})
    doc = {
        "$schema": schema,
        "default-priorities": {"namespace": list(namespaces or used or ["x"]), **prio},
        "variants": {label: {ns: {f: list(v) for f, v in fs.items()} for ns, fs in props.items()} for label, props in grouped.items()},
    }
    return parse_metadata(doc, "test")


BLAS = {"blas": {"lib": ["mkl", "openblas", "accelerate"]}}


def test_compatibility_is_and_across_features_or_within_a_feature():
    supported = {"gpu": {"arch": ["sm90", "sm80"], "cuda": ["12"]}}
    assert is_compatible({"gpu": {"arch": ("sm70", "sm90")}}, supported)  # OR: one value is enough
    assert not is_compatible({"gpu": {"arch": ("sm70",)}}, supported)
    assert not is_compatible({"gpu": {"arch": ("sm90",), "cuda": ("13",)}}, supported)  # AND
    assert not is_compatible({"gpu": {"driver": ("1",)}}, supported)  # unknown feature
    assert not is_compatible({"cpu": {"level": ("v1",)}}, supported)  # unknown namespace
    assert not is_compatible({"gpu": {"arch": ("sm90",)}}, {"gpu": {"arch": []}})  # empty list = unsupported
    assert is_compatible({}, {})  # zero properties always fit


def test_supported_subset_keeps_only_supported_values():
    supported = {"gpu": {"arch": ["sm90", "sm80"]}, "blas": {"lib": ["mkl"]}}
    props = {"gpu": {"arch": ("sm70", "sm80", "sm90")}, "blas": {"lib": ("openblas",)}, "cpu": {"level": ("v3",)}}
    assert supported_subset(props, supported) == {"gpu": {"arch": ("sm80", "sm90")}}


def test_incompatible_labels_are_filtered_out():
    meta = md({"mkl": ["blas :: lib :: mkl"], "armpl": ["blas :: lib :: armpl"], "null": []})
    assert order_labels(meta, BLAS) == ["mkl", "null"]


def test_value_order_from_the_provider():
    meta = md({"mkl": ["blas :: lib :: mkl"], "openblas": ["blas :: lib :: openblas"], "acc": ["blas :: lib :: accelerate"]})
    assert order_labels(meta, BLAS) == ["mkl", "openblas", "acc"]
    assert order_labels(meta, {"blas": {"lib": ["accelerate", "openblas", "mkl"]}}) == ["acc", "openblas", "mkl"]


def test_only_the_best_value_of_a_multi_valued_feature_counts():
    # "fat" lists mkl and accelerate: its key is mkl's, exactly like "mkl"; extra values add
    # nothing, so the label string decides ("fat" < "mkl").
    meta = md({"mkl": ["blas :: lib :: mkl"], "fat": ["blas :: lib :: mkl", "blas :: lib :: accelerate"], "openblas": ["blas :: lib :: openblas"]})
    assert order_labels(meta, BLAS) == ["fat", "mkl", "openblas"]
    # an unsupported extra value neither helps nor hurts
    meta = md({"fat": ["blas :: lib :: armpl", "blas :: lib :: openblas"], "acc": ["blas :: lib :: accelerate"]})
    assert order_labels(meta, BLAS) == ["fat", "acc"]


def test_prefix_rule_longer_list_wins():
    supported = {"a": {"f": ["1", "2"], "g": ["1"]}}
    meta = md({"short": ["a :: f :: 1"], "long": ["a :: f :: 1", "a :: g :: 1"], "worse": ["a :: f :: 2", "a :: g :: 1"]})
    assert order_labels(meta, supported) == ["long", "short", "worse"]


def test_position_by_position_first_difference_decides():
    # both have f=1; then "x" has g (feature 2) and "y" has h (feature 3): g is the better feature
    supported = {"a": {"f": ["1"], "g": ["1", "2"], "h": ["1"]}}
    meta = md({"y": ["a :: f :: 1", "a :: h :: 1"], "x": ["a :: f :: 1", "a :: g :: 2"]})
    assert order_labels(meta, supported) == ["x", "y"]
    # a better first item beats more items
    meta = md({"one": ["a :: f :: 1"], "two": ["a :: g :: 1", "a :: h :: 1"]})
    assert order_labels(meta, supported) == ["one", "two"]


def test_feature_order_comes_from_the_supported_dict_order():
    meta = md({"by_f": ["a :: f :: 1"], "by_g": ["a :: g :: 1"]})
    assert order_labels(meta, {"a": {"f": ["1"], "g": ["1"]}}) == ["by_f", "by_g"]
    assert order_labels(meta, {"a": {"g": ["1"], "f": ["1"]}}) == ["by_g", "by_f"]


def test_namespace_order_comes_from_the_metadata():
    supported = {"a": {"f": ["1"]}, "b": {"f": ["1"]}}
    variants = {"in_a": ["a :: f :: 1"], "in_b": ["b :: f :: 1"]}
    assert order_labels(md(variants, ["a", "b"]), supported) == ["in_a", "in_b"]
    assert order_labels(md(variants, ["b", "a"]), supported) == ["in_b", "in_a"]
    # namespace beats feature and value: a worse value in a better namespace still wins
    supported = {"a": {"f": ["1", "2", "3"]}, "b": {"f": ["1"]}}
    assert order_labels(md({"in_a": ["a :: f :: 3"], "in_b": ["b :: f :: 1"]}, ["a", "b"]), supported) == ["in_a", "in_b"]


def test_label_string_breaks_exact_ties_and_zero_property_labels_go_last():
    meta = md({"null": [], "cpu": [], "b": ["blas :: lib :: mkl"], "a": ["blas :: lib :: mkl"]})
    # cpu and null both have no properties: label order, so a non-null zero-property label
    # like "cpu" sorts before "null" (digest tricky case 3)
    assert order_labels(meta, BLAS) == ["a", "b", "cpu", "null"]
    assert order_labels(meta, {}) == ["cpu", "null"]


def test_labels_argument_restricts_and_ignores_unknown_labels():
    meta = md({"mkl": ["blas :: lib :: mkl"], "openblas": ["blas :: lib :: openblas"], "null": []})
    assert order_labels(meta, BLAS, ["null", "openblas", "nope"]) == ["openblas", "null"]
    assert order_labels(meta, BLAS, []) == []


def test_sort_key_is_ascending_and_deterministic():
    key = label_sort_key("x", {"a": {"f": ("2", "1")}}, ("a",), {"a": {"f": ["1", "2"]}})
    assert key == (((0, 0, 0), (float("inf"),) * 3), "x")


def test_pep817_legacy_priorities_move_listed_items_first():
    meta = md(
        {"v3": ["x86_64 :: level :: v3"], "v2": ["x86_64 :: level :: v2"], "lvl_v4": ["x86_64 :: level :: v4"]},
        schema=SCHEMA_817,
        property={"x86_64": {"level": ["v2"]}},
    )
    supported = {"x86_64": {"level": ["v4", "v3", "v2"]}}
    assert order_labels(meta, supported) == ["v2", "lvl_v4", "v3"]
    meta = md(
        {"by_f": ["a :: f :: 1"], "by_g": ["a :: g :: 1"]}, schema=SCHEMA_817, feature={"a": ["g"]}
    )
    assert order_labels(meta, {"a": {"f": ["1"], "g": ["1"]}}) == ["by_g", "by_f"]


# -- the candidate order of one release: variants, null, non-variant wheel, sdist ----------------


def test_release_order_null_after_variants_then_non_variant_then_sdist(load):
    scenario = load(
        """
        [root]
        requires = ["torch"]
        [environment.variants]
        "gpu :: cuda" = ["12", "11"]
        [packages.torch.versions."2.0.0"]
        wheel_tags = ["cp312-cp312-manylinux_2_17_x86_64", "py3-none-any"]
        [packages.torch.versions."2.0.0".variants]
        cu11 = ["gpu :: cuda :: 11"]
        cu12 = ["gpu :: cuda :: 12"]
        cu13 = ["gpu :: cuda :: 13"]
        null = []
        [packages.torch.versions."1.0.0"]
        [packages.torch.versions."1.0.0".variants]
        cu12 = ["gpu :: cuda :: 12"]
        """
    )
    from varsolve.candidates import CandidateFinder

    finder = CandidateFinder(scenario.problem)
    got = [(str(c.version), c.label, c.file.filename) for c in finder.candidates("torch")]
    assert got == [
        # variant order dominates; within a label the better platform tag wins
        ("2.0.0", "cu12", "torch-2.0.0-cp312-cp312-manylinux_2_17_x86_64-cu12.whl"),
        ("2.0.0", "cu11", "torch-2.0.0-cp312-cp312-manylinux_2_17_x86_64-cu11.whl"),
        ("2.0.0", "null", "torch-2.0.0-cp312-cp312-manylinux_2_17_x86_64-null.whl"),
        ("2.0.0", "", "torch-2.0.0-cp312-cp312-manylinux_2_17_x86_64.whl"),
        ("2.0.0", None, "torch-2.0.0.tar.gz"),
        ("1.0.0", "cu12", "torch-1.0.0-py3-none-any-cu12.whl"),
        ("1.0.0", "", "torch-1.0.0-py3-none-any.whl"),
        ("1.0.0", None, "torch-1.0.0.tar.gz"),
    ]
    assert all(c.version == Version("2.0.0") for c in finder.candidates("torch")[:5])


def test_non_variant_wheel_ranks_after_null_even_with_a_better_tag(load):
    scenario = load(
        """
        [root]
        requires = ["a"]
        [packages.a.versions."1.0.0"]
        sdist = false
        wheel_tags = ["cp312-cp312-manylinux_2_39_x86_64"]
        [packages.a.versions."1.0.0".variants]
        null = []
        """
    )
    from varsolve.candidates import CandidateFinder

    labels = [c.label for c in CandidateFinder(scenario.problem).candidates("a")]
    assert labels == ["null", ""]


@pytest.mark.parametrize("variants_on, expected", [(True, ["mkl", "", None]), (False, ["", None])])
def test_variants_can_be_switched_off(load, variants_on, expected):
    scenario = load(
        f"""
        [root]
        requires = ["a"]
        [environment.variants]
        "blas :: lib" = ["mkl"]
        [resolver_options]
        variants = {str(variants_on).lower()}
        [packages.a.versions."1.0.0".variants]
        mkl = ["blas :: lib :: mkl"]
        """
    )
    from varsolve.candidates import CandidateFinder

    assert [c.label for c in CandidateFinder(scenario.problem).candidates("a")] == expected
