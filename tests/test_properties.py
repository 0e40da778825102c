"""Variant properties and features: PEP 825 grammar, canonical form, whitespace, errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from varsolve.errors import InputError, InvalidProperty, VarsolveError
from varsolve.variants.properties import (
    FEATURE_RE,
    NAMESPACE_RE,
    VALUE_RE,
    VariantFeature,
    VariantProperty,
    canonical,
    features_of,
    group_properties,
    properties_of,
)


def test_regexes_are_the_digests():
    assert NAMESPACE_RE.pattern == r"^[a-z0-9_]+$"
    assert FEATURE_RE.pattern == r"^[a-z0-9_]+$"
    assert VALUE_RE.pattern == r"^[a-z0-9_.]+$"


@pytest.mark.parametrize(
    "text",
    [
        "blas_lapack :: library :: mkl",
        "blas_lapack::library::mkl",
        "  blas_lapack ::library::   mkl ",
        "blas_lapack\t::\tlibrary :: mkl",
        "blas_lapack ::\n library :: mkl",
    ],
)
def test_property_parse_is_whitespace_insensitive_and_canonical(text):
    prop = VariantProperty.parse(text)
    assert (prop.namespace, prop.feature, prop.value) == ("blas_lapack", "library", "mkl")
    assert str(prop) == "blas_lapack :: library :: mkl"
    assert prop == VariantProperty.parse("blas_lapack :: library :: mkl")


def test_value_may_contain_dots_but_namespace_and_feature_may_not():
    assert VariantProperty.parse("nvidia :: cuda_version_lower_bound :: 12.8").value == "12.8"
    with pytest.raises(InvalidProperty, match="namespace"):
        VariantProperty.parse("nv.idia :: cuda :: 12")
    with pytest.raises(InvalidProperty, match="feature"):
        VariantProperty.parse("nvidia :: cuda.version :: 12")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("Blas :: library :: mkl", "invalid namespace 'Blas'"),
        ("blas :: Library :: mkl", "invalid feature 'Library'"),
        ("blas :: library :: MKL", "invalid value 'MKL'"),
        ("blas-lapack :: library :: mkl", "invalid namespace 'blas-lapack'"),
        ("blas :: library :: mkl-2", "invalid value 'mkl-2'"),
        ("blas :: library :: mkl 2", "invalid value 'mkl 2'"),
        ("blas :: library :: ", "invalid value ''"),
        (":: library :: mkl", "invalid namespace ''"),
        ("blas :: :: mkl", "invalid feature ''"),
        ("blas :: library", "expected 'namespace :: feature :: value'"),
        ("blas :: library :: mkl :: extra", "expected 'namespace :: feature :: value'"),
        ("blas : library : mkl", "expected 'namespace :: feature :: value'"),
        ("blas :: library :: mkl\u00e9", "invalid value"),
        ("", "expected 'namespace :: feature :: value'"),
    ],
)
def test_property_parse_errors_are_input_errors_naming_the_text(text, fragment):
    with pytest.raises(InvalidProperty) as info:
        VariantProperty.parse(text)
    assert isinstance(info.value, InputError) and isinstance(info.value, VarsolveError)
    assert info.value.exit_code == 2
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    if text.strip():
        assert repr(text) in message  # names the whole offending property


def test_property_make_validates_components():
    assert str(VariantProperty.make("x86_64", "level", "v3")) == "x86_64 :: level :: v3"
    with pytest.raises(InvalidProperty, match="invalid value 'V3'"):
        VariantProperty.make("x86_64", "level", "V3")
    with pytest.raises(InvalidProperty, match="invalid namespace"):
        VariantProperty.make("x86-64", "level", "v3")


def test_feature_parse_canonical_and_errors():
    feature = VariantFeature.parse("  blas_lapack::library ")
    assert (feature.namespace, feature.feature) == ("blas_lapack", "library")
    assert str(feature) == "blas_lapack :: library"
    assert VariantProperty.parse("blas_lapack :: library :: mkl").feature_key == feature
    for bad in ("blas_lapack", "blas_lapack :: library :: mkl", "Blas :: library", "blas :: lib-rary"):
        with pytest.raises(InvalidProperty):
            VariantFeature.parse(bad)


def test_canonical_normalises_marker_literals_without_validating():
    assert canonical(" a::b ::c ") == "a :: b :: c"
    assert canonical("a  ::  b") == "a :: b"
    assert canonical("ns") == "ns"
    # Not a valid property, but canonical() must not raise: such a literal simply never matches.
    assert canonical("A :: B") == "A :: B"


def test_properties_are_ordered_and_hashable():
    a = VariantProperty.parse("a :: b :: c")
    b = VariantProperty.parse("a :: b :: d")
    assert a < b and len({a, b, VariantProperty.parse("a::b::c")}) == 2


def test_group_and_ungroup_properties_roundtrip_and_sort():
    props = [VariantProperty.parse(p) for p in ("z :: f :: b", "a :: g :: x", "z :: f :: a", "a :: e :: y")]
    grouped = group_properties(props)
    assert grouped == {"a": {"e": ("y",), "g": ("x",)}, "z": {"f": ("a", "b")}}
    assert list(grouped) == ["a", "z"] and list(grouped["a"]) == ["e", "g"]
    assert properties_of(grouped) == frozenset(props)
    assert features_of(grouped) == {VariantFeature("a", "e"), VariantFeature("a", "g"), VariantFeature("z", "f")}


_ident = st.text(alphabet="abcxyz019_", min_size=1, max_size=8)
_value = st.text(alphabet="abcxyz019_.", min_size=1, max_size=8)
_space = st.text(alphabet=" \t", max_size=3)


@given(_ident, _ident, _value, _space, _space, _space, _space)
def test_any_valid_property_parses_back_from_its_canonical_form(ns, f, v, s1, s2, s3, s4):
    text = f"{s1}{ns}{s2}::{s3}{f}{s4}::{s1}{v}{s2}"
    prop = VariantProperty.parse(text)
    assert (prop.namespace, prop.feature, prop.value) == (ns, f, v)
    assert VariantProperty.parse(str(prop)) == prop
    assert canonical(text) == str(prop)


@pytest.mark.parametrize("value", ["2", "2.9", "2.9.1", "10.0.12"])
def test_abi_dependency_values_are_release_segments(value):
    assert VariantProperty.parse(f"abi_dependency :: torch :: {value}").value == value
    assert VariantProperty.make("abi_dependency", "torch", value).value == value


@pytest.mark.parametrize("value", ["2.x", "2.9.1.4", "2.", "rc1", "2_9"])
def test_abi_dependency_values_that_are_no_version_range_are_rejected(value):
    """Regression: ``abi_dependency :: torch :: 2.x`` passed the value regex and crashed the
    resolver later (``==2.x.*`` is no specifier)."""
    with pytest.raises(InvalidProperty, match="invalid abi_dependency value"):
        VariantProperty.parse(f"abi_dependency :: torch :: {value}")
    with pytest.raises(InvalidProperty, match="invalid abi_dependency value"):
        VariantProperty.make("abi_dependency", "torch", value)
