"""The four variant markers (digest section 5) wrapped around packaging's markers."""

from __future__ import annotations

import pytest

from varsolve.errors import InputError
from varsolve.target import Target
from varsolve.variants.markers import NON_VARIANT, VariantState, parse_requirement
from varsolve.variants.ordering import supported_subset

ENV = Target.make("3.12").marker_environment()

# A fat wheel declaring two sm_arch values and a CUDA bound; the target supports only 90_real.
DECLARED = {"nvidia": {"sm_arch": ("120_real", "90_real"), "cuda_version_lower_bound": ("12.8",)}, "x86_64": {"level": ("v3",)}}
SUPPORTED = {"nvidia": {"sm_arch": ["90_real", "80_real"], "cuda_version_lower_bound": ["12.9", "12.8"]}}
FAT = VariantState.for_wheel("fat", supported_subset(DECLARED, SUPPORTED))
NULL = VariantState.for_wheel("null", {})


def holds(requirement: str, state: VariantState = NON_VARIANT, extra: str = "", env=None) -> bool:
    return parse_requirement(requirement).evaluate(env or ENV, state, extra)


def test_state_of_a_variant_wheel_is_filtered_to_supported_properties():
    assert FAT.label == "fat"
    assert FAT.variant_properties == {"nvidia :: sm_arch :: 90_real", "nvidia :: cuda_version_lower_bound :: 12.8"}
    assert FAT.variant_features == {"nvidia :: sm_arch", "nvidia :: cuda_version_lower_bound"}
    # x86_64 :: level is declared but not supported by the target: its namespace is not visible
    assert FAT.variant_namespaces == {"nvidia"}


def test_state_of_non_variant_and_null():
    assert (NON_VARIANT.label, NON_VARIANT.variant_properties, NON_VARIANT.variant_features, NON_VARIANT.variant_namespaces) == ("", set(), set(), set())
    assert VariantState.non_variant() is NON_VARIANT
    assert (NULL.label, NULL.variant_properties, NULL.variant_features, NULL.variant_namespaces) == ("null", set(), set(), set())


@pytest.mark.parametrize(
    "marker, fat, null, non_variant",
    [
        ("'nvidia :: sm_arch :: 90_real' in variant_properties", True, False, False),
        # declared by the wheel but not supported by the target: dropped (digest tricky case 4)
        ("'nvidia :: sm_arch :: 120_real' in variant_properties", False, False, False),
        ("'nvidia :: sm_arch :: 120_real' not in variant_properties", True, True, True),
        ("'x86_64 :: level :: v3' in variant_properties", False, False, False),
        ("'nvidia :: sm_arch' in variant_features", True, False, False),
        ("'x86_64 :: level' in variant_features", False, False, False),
        ("'nvidia' in variant_namespaces", True, False, False),
        ("'nvidia' not in variant_namespaces", False, True, True),
        ("'x86_64' in variant_namespaces", False, False, False),
        ("variant_label == 'fat'", True, False, False),
        ("'fat' == variant_label", True, False, False),
        ("variant_label == 'null'", False, True, False),
        ("variant_label == ''", False, False, True),
        # tricky case 5: != "null" is true for a non-variant wheel
        ("variant_label != 'null'", True, False, True),
        ("variant_label != ''", True, True, False),
        ("'at' in variant_label", True, False, False),
        ("variant_label in 'fat_null'", True, True, True),  # PEP 508 substring; "" is in any string
        ("variant_label not in 'fatter'", False, True, False),
    ],
)
def test_marker_values(marker, fat, null, non_variant):
    requirement = f"dep ; {marker}"
    assert (holds(requirement, FAT), holds(requirement, NULL), holds(requirement, NON_VARIANT)) == (fat, null, non_variant)


@pytest.mark.parametrize(
    "literal",
    [
        "nvidia::sm_arch::90_real",
        "  nvidia ::sm_arch::   90_real ",
        "nvidia\t::\tsm_arch :: 90_real",
    ],
)
def test_literals_are_whitespace_insensitive(literal):
    assert holds(f'dep ; "{literal}" in variant_properties', FAT)
    assert not holds(f'dep ; "{literal}" not in variant_properties', FAT)
    assert holds('dep ; " nvidia::sm_arch " in variant_features', FAT)
    assert holds("dep ; ' nvidia ' in variant_namespaces", FAT)


def test_combined_with_ordinary_markers():
    linux = Target.make("3.12", "linux").marker_environment()
    windows = Target.make("3.12", "windows").marker_environment()
    req = "mkl-runtime ; sys_platform == 'linux' and 'nvidia' in variant_namespaces"
    assert holds(req, FAT, env=linux) and not holds(req, FAT, env=windows) and not holds(req, NULL, env=linux)
    req = "x ; (variant_label == 'fat' or python_version < '3.10') and python_full_version >= '3.12'"
    assert holds(req, FAT) and not holds(req, NULL)
    assert holds(req.replace("'3.10'", "'3.13'"), NULL)
    req = "x ; python_version >= '3.13' or 'nvidia :: sm_arch :: 90_real' in variant_properties"
    assert holds(req, FAT) and not holds(req, NON_VARIANT)


def test_combined_with_extras():
    req = "cupy ; extra == 'gpu' and 'nvidia' in variant_namespaces"
    assert holds(req, FAT, extra="gpu")
    assert not holds(req, FAT)  # extra not requested
    assert not holds(req, NULL, extra="gpu")
    # extra names are normalised
    assert holds("cupy ; extra == 'GPU_Support' and variant_label == 'fat'", FAT, extra="gpu-support")


def test_requirement_parts_are_packagings():
    req = parse_requirement("Foo_Bar[Extra_One]>=1.0,<2 ; variant_label == 'fat'")
    assert req.name == "foo-bar"
    assert str(req.specifier) == "<2,>=1.0"
    assert req.extras == {"extra-one"}
    assert req.uses_variant_markers and req.has_marker
    url = parse_requirement("pkg @ https://example.org/pkg-1.0-py3-none-any.whl ; variant_label == 'fat'")
    assert url.url == "https://example.org/pkg-1.0-py3-none-any.whl" and holds(url.text, FAT)
    plain = parse_requirement("pkg>=1")
    assert not plain.has_marker and not plain.uses_variant_markers and holds("pkg>=1")
    assert parse_requirement("pkg>=1") is plain  # cached


def test_operators_that_make_no_sense_on_sets_evaluate_false():
    assert not holds("x ; variant_properties == 'nvidia :: sm_arch :: 90_real'", FAT)
    assert not holds("x ; variant_namespaces in 'nvidia'", FAT)


def test_variant_names_inside_string_literals_are_just_strings():
    assert not holds("x ; extra == 'variant_label'", FAT)
    assert holds("x ; extra == 'variant_label'", FAT, extra="variant-label")
    assert holds("x ; platform_machine != \"'a' in variant_properties\"", FAT)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("x ; variant_label >= 'a'", "unsupported use of a variant marker"),
        ("x ; 'a' < variant_label", "unsupported use of a variant marker"),
        ("x ; variant_label == fat", "unsupported use of a variant marker"),
        ("x ; variant_label ==", "unsupported use of a variant marker"),
        ("x ; variant_properties", "unsupported use of a variant marker"),
        ("x ; variant_labels == 'a'", "invalid requirement"),
        ("x ; 'a' in dependency_groups", "dependency_groups is for lock files only"),
        ("x ;", "invalid requirement"),
        ("x ; (variant_label == 'a'", "invalid requirement"),
        (">=1.0", "invalid requirement"),
        ("x >>= 1", "invalid requirement"),
    ],
)
def test_invalid_forms_are_input_errors(text, fragment):
    with pytest.raises(InputError) as info:
        parse_requirement(text)
    message = str(info.value)
    assert fragment in message and repr(text) in message and "\n" not in message


def test_target_environment_defines_every_marker_so_the_host_never_leaks_in():
    """packaging fills missing names from the running interpreter; the target must define all."""
    from packaging.markers import default_environment

    assert set(default_environment()) <= set(ENV)
    windows = Target.make("3.11", "windows").marker_environment()
    assert holds("x ; sys_platform == 'win32' and python_version == '3.11'", env=windows)


def test_dependency_groups_inside_a_literal_is_fine():
    assert holds("x ; extra == 'dependency_groups'", FAT, extra="dependency-groups")


# -- partial evaluation (what builders write into wheels for variant-unaware installers) --------

MKL = VariantState.for_wheel("mkl", {"blas_lapack": {"library": ["mkl"]}})


@pytest.mark.parametrize(
    "text, variant, expected",
    [
        # no variant marker: as written, whatever the wheel
        ("numpy>=2 ; python_version>='3.9'", MKL, "numpy>=2 ; python_version>='3.9'"),
        ("mkl-rt ; 'blas_lapack :: library :: mkl' in variant_properties", MKL, "mkl-rt"),
        ("mkl-rt ; 'blas_lapack :: library :: mkl' in variant_properties", NON_VARIANT, None),
        # the rest of the marker stays, as packaging writes it; parentheses as written, except
        # around the whole marker
        ("x ; variant_label == 'mkl' and os_name=='nt'", MKL, 'x; os_name == "nt"'),
        ("x ; variant_label == 'mkl' or os_name=='nt'", NON_VARIANT, 'x; os_name == "nt"'),
        ("x ; variant_label == 'mkl' or os_name=='nt'", MKL, "x"),
        (
            "x ; sys_platform == 'linux' and ('blas_lapack' in variant_namespaces or python_version < '3.10')",
            NON_VARIANT,
            'x; sys_platform == "linux" and python_version < "3.10"',
        ),
        (
            "x ; (os_name == 'nt' or sys_platform == 'linux') and variant_label != 'mkl'",
            NON_VARIANT,
            'x; os_name == "nt" or sys_platform == "linux"',
        ),
        (
            "x ; os_name == 'nt' and ((python_version < '3' or sys_platform == 'x')) and variant_label == 'mkl'",
            MKL,
            'x; os_name == "nt" and (python_version < "3" or sys_platform == "x")',
        ),
        # a literal that looks like a connective or a parenthesis is a literal
        ("x ; variant_label == 'mkl' and platform_release == 'a or (b'", MKL, 'x; platform_release == "a or (b"'),
        ("x ; 'Foo_Bar' == extra and 'blas_lapack' in variant_namespaces", MKL, 'x; "foo-bar" == extra'),
        # a URL requirement keeps the space PEP 508 needs before ";"
        ("x @ https://e.org/x.whl ; variant_label == 'mkl' and os_name == 'nt'", MKL, 'x @ https://e.org/x.whl ; os_name == "nt"'),
    ],
)
def test_specialise_evaluates_only_the_variant_markers(text: str, variant: VariantState, expected: str | None) -> None:
    assert parse_requirement(text).specialise(variant) == expected


def test_evaluation_fills_a_partial_environment_and_normalises_the_extra() -> None:
    # The fast path takes a full environment as given; a partial one is completed from this
    # interpreter, as packaging's Marker.evaluate does, and extras compare normalised.
    import sys

    from varsolve.variants.markers import parse_requirement

    req = parse_requirement("x ; python_version >= '3' and sys_platform == 'linux' and extra == 'Foo_Bar'")
    assert req.evaluate({"sys_platform": "linux"}, extra="foo-bar")
    assert not req.evaluate({"sys_platform": "win32"}, extra="foo-bar")
    assert not req.evaluate({"sys_platform": "linux"}, extra="other")
    here = parse_requirement(f"x ; python_full_version == '{'.'.join(map(str, sys.version_info[:3]))}'")
    assert here.evaluate({"sys_platform": "linux"})
