"""Variant metadata: the three schema generations, validation, merging, writing."""

from __future__ import annotations

import copy
import json
import logging

import pytest
from packaging.version import Version

from conftest import FIXTURES
from varsolve.errors import InconsistentVariantMetadata, InputError, InvalidVariantMetadata
from varsolve.repository import RepositoryBase
from varsolve.variants.metadata import (
    SCHEMA_817,
    SCHEMA_825,
    SCHEMA_850,
    SCHEMA_VARIANTLIB_022,
    Provider,
    VariantMetadata,
    load_metadata_bytes,
    merge,
    parse_metadata,
    schema_version,
)


def fixture(name: str) -> VariantMetadata:
    path = FIXTURES / name
    return load_metadata_bytes(path.read_bytes(), str(path))


def fixture_json(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def doc825(variants: dict, namespaces=("a",), **extra) -> dict:
    return {"$schema": SCHEMA_825, "default-priorities": {"namespace": list(namespaces)}, "variants": variants, **extra}


# -- reading the three generations --------------------------------------------------------------


def test_reads_pep817_schema_0_0_3():
    md = fixture("pep817-0.0.3-foo-1.2.3-variants.json")
    assert md.schema_version == (0, 0, 3)
    assert md.namespaces == ("x86_64", "aarch64", "blas_lapack")
    # blas_lapack :: provider (0.0.3-era) is read as blas_lapack :: library (PEP 825)
    assert md.variants == {
        "x8664v3_openblas": {"blas_lapack": {"library": ("openblas",)}, "x86_64": {"level": ("v3",)}},
        "x8664v4_mkl": {"blas_lapack": {"library": ("mkl",)}, "x86_64": {"level": ("v4",)}},
    }
    assert md.feature_priorities == {"aarch64": ("version",), "x86_64": ("level",)}
    assert md.property_priorities == {"x86_64": {"level": ("v3", "v2", "v1")}}
    aarch64 = md.providers["aarch64"]
    assert aarch64.plugin_api == "provider_variant_aarch64.plugin:AArch64Plugin"
    assert aarch64.enable_if == "platform_machine == 'aarch64' or 'arm' in platform_machine"
    assert len(aarch64.requires) == 2 and aarch64.install_time
    # top-level static-properties of PEP 817 belong to the (ahead-of-time) provider
    blas = md.providers["blas_lapack"]
    assert not blas.install_time
    assert blas.static_properties == {"library": ("accelerate", "openblas", "mkl")}
    assert md.notes == ()  # 0.0.3 is read as it is: nothing to say


def test_reads_pep825_schema_0_1_1_index_file_and_wheel_file():
    md = fixture("pep825-0.1.1-numpy-2.3.2-variants.json")
    assert md.schema_version == (0, 1, 1)
    assert md.namespaces == ("x86_64", "aarch64", "blas_lapack")
    assert md.variants["null"] == {}
    # value lists are sets: stored sorted
    assert md.variants["aarch64_openblas"] == {"aarch64": {"version": ("8.1a", "8.2a")}, "blas_lapack": {"library": ("openblas",)}}
    assert md.providers == {}
    wheel = fixture("pep825-0.1.1-variant.json")
    assert list(wheel.variants) == ["x86_64_v3_openblas"]


def test_reads_variantlib_0_2_2_output():
    md = fixture("variantlib-0.2.2-torch-2.9.0-variants.json")
    assert md.schema_version == (0, 2, 0)
    assert md.namespaces == ("nvidia", "x86_64", "blas_lapack", "debug")
    assert md.providers["nvidia"] == Provider(
        requires=("nvidia-variant-provider>=0.0.1,<1.0.0",),
        plugin_api="nvidia_variant_provider.plugin:NvidiaVariantPlugin",
    )
    assert md.providers["blas_lapack"].static_properties == {"library": ("accelerate", "openblas", "mkl")}
    debug = md.providers["debug"]
    assert debug.optional
    # variantlib writes keys sorted; its feature-order restores the feature order
    assert list(debug.static_properties) == ["build", "asserts"]
    assert md.variants["cu129_v3_openblas"]["nvidia"]["sm_arch"] == ("100_real", "120_real")


def test_reads_pep850_schema_url_with_static_and_optional_providers():
    md = parse_metadata(
        {
            "$schema": SCHEMA_850,
            "default-priorities": {"namespace": ["blas_lapack"]},
            "providers": {"blas_lapack": {"static-properties": {"library": ["openblas", "mkl"]}, "optional": True}},
            "variants": {"mkl": {"blas_lapack": {"library": ["mkl"]}}},
        },
        "x.json",
    )
    assert md.schema_version == (0, 2, 0)
    assert md.providers["blas_lapack"] == Provider(optional=True, static_properties={"library": ("openblas", "mkl")})


def test_legacy_schema_url_is_0_0_3():
    assert schema_version("https://wheelnext.dev/variants.json") == (0, 0, 3)
    assert schema_version(SCHEMA_VARIANTLIB_022) == (0, 2, 0)


# -- rejecting invalid data ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "schema, fragment",
    [
        ("https://variants-schema.wheelnext.dev/peps/825/v1.0.0.json", "unsupported variant metadata schema version 1.0"),
        ("https://variants-schema.wheelnext.dev/peps/825/v2.1.0.json", "unsupported variant metadata schema version 2.1"),
        ("https://variants-schema.wheelnext.dev/v0.3.0.json", "unsupported variant metadata schema version 0.3"),
        ("https://example.com/schema.json", "unrecognised $schema"),
        (17, "missing $schema"),
    ],
)
def test_unknown_major_or_draft_version_is_rejected(schema, fragment):
    data = doc825({"x": {"a": {"f": ["v"]}}})
    data["$schema"] = schema
    with pytest.raises(InvalidVariantMetadata) as info:
        parse_metadata(data, "pkg-1.0-variants.json")
    assert str(info.value).startswith("pkg-1.0-variants.json: ")
    assert fragment in str(info.value)


def test_newer_minor_of_a_supported_generation_is_accepted():
    data = doc825({"x": {"a": {"f": ["v"]}}})
    data["$schema"] = "https://variants-schema.wheelnext.dev/peps/825/v0.1.9.json"
    assert parse_metadata(data, "x").schema_version == (0, 1, 9)


def test_missing_schema_key():
    data = doc825({})
    del data["$schema"]
    with pytest.raises(InvalidVariantMetadata, match="missing \\$schema"):
        parse_metadata(data, "x")


def _bad(mutate) -> dict:
    data = doc825({"mkl": {"a": {"f": ["v"]}}, "null": {}})
    mutate(data)
    return data


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda d: d["default-priorities"].update(namespace=[]), "must not be empty"),
        (lambda d: d["default-priorities"].update(namespace=["a", "a"]), "duplicate"),
        (lambda d: d["default-priorities"].update(namespace=["A"]), "does not match"),
        (lambda d: d["default-priorities"].update(namespace="a"), "must be a list of strings"),
        (lambda d: d.pop("default-priorities"), "default-priorities must be a table"),
        (lambda d: d.pop("variants"), "variants must be a table"),
        (lambda d: d["variants"].update(MKL={}), "invalid variant label 'MKL'"),
        (lambda d: d["variants"].update(null={"a": {"f": ["v"]}}), "null variant must have no properties"),
        (lambda d: d["variants"]["mkl"].update(B={"f": ["v"]}), "invalid namespace 'B'"),
        (lambda d: d["variants"]["mkl"]["a"].update(F=["v"]), "invalid feature 'F'"),
        (lambda d: d["variants"]["mkl"]["a"].update(f=["V"]), "does not match"),
        (lambda d: d["variants"]["mkl"]["a"].update(f=[]), "must not be empty"),
        (lambda d: d["variants"]["mkl"]["a"].update(f=["v", "v"]), "duplicate"),
        (lambda d: d["variants"]["mkl"]["a"].update(f="v"), "must be a list of strings"),
        (lambda d: d["variants"]["mkl"].update(b={"f": ["v"]}), "namespace 'b' is used but not in default-priorities.namespace"),
    ],
)
def test_invalid_pep825_documents(mutate, fragment):
    with pytest.raises(InvalidVariantMetadata) as info:
        parse_metadata(_bad(mutate), "numpy-2.3.2-variants.json")
    assert isinstance(info.value, InputError)
    assert "numpy-2.3.2-variants.json" in str(info.value) and fragment in str(info.value)


def test_invalid_pep850_documents():
    base = fixture_json("variantlib-0.2.2-torch-2.9.0-variants.json")
    for mutate, fragment in [
        (lambda d: d.update(**{"static-properties": []}), "static-properties must be a table"),
        (lambda d: d["providers"]["nvidia"].update(**{"enable-if": 1}), "enable-if must be a string"),
        (lambda d: d["providers"]["nvidia"].update(optional="yes"), "optional must be a boolean"),
        (lambda d: d["providers"]["nvidia"].update(**{"plugin-api": 3}), "plugin-api must be a string"),
        (lambda d: d["providers"].update(Bad={}), "invalid namespace 'Bad'"),
    ]:
        data = copy.deepcopy(base)
        mutate(data)
        with pytest.raises(InvalidVariantMetadata, match=fragment):
            parse_metadata(data, "torch.json")


def test_pep817_ignores_unknown_keys():
    data = fixture_json("pep817-0.0.3-foo-1.2.3-variants.json")
    data["future-key"] = {"x": 1}
    assert parse_metadata(data, "x").namespaces == ("x86_64", "aarch64", "blas_lapack")


def test_abi_dependency_needs_no_namespace_entry_and_goes_last():
    md = parse_metadata(doc825({"t29": {"abi_dependency": {"torch": ["2.9"]}, "a": {"f": ["v"]}}}), "x")
    assert md.namespaces == ("a",)
    assert md.namespace_order() == ("a", "abi_dependency")
    listed = parse_metadata(doc825({"t29": {"abi_dependency": {"torch": ["2.9"]}}}, namespaces=("abi_dependency", "a")), "x")
    assert listed.namespace_order() == ("abi_dependency", "a")


def test_malformed_json_names_the_file():
    with pytest.raises(InvalidVariantMetadata) as info:
        load_metadata_bytes(b"{not json", "https://example.org/numpy-2.3.2-variants.json")
    assert str(info.value).startswith("https://example.org/numpy-2.3.2-variants.json: malformed JSON")
    with pytest.raises(InvalidVariantMetadata, match="malformed JSON"):
        load_metadata_bytes(b"\xff\xfe", "x.json")
    with pytest.raises(InvalidVariantMetadata, match="document must be a table"):
        load_metadata_bytes(b"[]", "x.json")


# -- merging (PEP 825 consistency rules) ---------------------------------------------------------


def md825(variants: dict, namespaces=("a",)) -> VariantMetadata:
    return parse_metadata(doc825(variants, namespaces), "x")


def test_merge_prefix_namespace_lists_take_the_longer_in_any_order():
    short = md825({"x": {"a": {"f": ["1"]}}}, ("a",))
    long = md825({"y": {"b": {"f": ["2"]}}}, ("a", "b"))
    for items in ([short, long], [long, short]):
        merged = merge(items, "numpy 2.3.2")
        assert merged.namespaces == ("a", "b")
        assert merged.variants == {"x": {"a": {"f": ("1",)}}, "y": {"b": {"f": ("2",)}}}


def test_merge_identical_documents_is_idempotent():
    one = md825({"x": {"a": {"f": ["1", "2"]}}, "null": {}})
    assert merge([one, one, one], "w") == one


def test_merge_disagreeing_namespace_order_is_inconsistent():
    with pytest.raises(InconsistentVariantMetadata) as info:
        merge([md825({}, ("a", "b")), md825({}, ("b", "a"))], "numpy 2.3.2")
    assert str(info.value).startswith("numpy 2.3.2: ")
    assert "default-priorities.namespace" in str(info.value)


def test_merge_same_label_different_properties_is_inconsistent():
    one = md825({"x": {"a": {"f": ["1"]}}})
    other = md825({"x": {"a": {"f": ["1", "2"]}}})
    with pytest.raises(InconsistentVariantMetadata, match="label 'x' has two different property sets"):
        merge([one, other], "numpy 2.3.2")
    assert issubclass(InconsistentVariantMetadata, InvalidVariantMetadata)


def test_merge_same_label_same_properties_in_different_order_is_consistent():
    one = md825({"x": {"a": {"f": ["2", "1"]}}})
    other = md825({"x": {"a": {"f": ["1", "2"]}}})
    assert merge([one, other], "w").variants == {"x": {"a": {"f": ("1", "2")}}}


def test_merge_providers_must_agree():
    base = fixture_json("variantlib-0.2.2-torch-2.9.0-variants.json")
    one = parse_metadata(base, "1")
    changed = copy.deepcopy(base)
    changed["providers"]["blas_lapack"]["static-properties"]["library"] = ["mkl", "openblas", "accelerate"]
    with pytest.raises(InconsistentVariantMetadata, match="providers.blas_lapack differs"):
        merge([one, parse_metadata(changed, "2")], "torch 2.9.0")
    assert merge([one, parse_metadata(copy.deepcopy(base), "3")], "w").providers == one.providers


def test_merge_takes_the_newest_schema():
    old = md825({"x": {"a": {"f": ["1"]}}})
    new = parse_metadata({**doc825({"y": {"a": {"f": ["1"]}}}), "$schema": "https://variants-schema.wheelnext.dev/peps/825/v0.1.4.json"}, "n")
    assert merge([old, new], "w").schema_version == (0, 1, 4)


def test_merge_needs_input():
    with pytest.raises(ValueError):
        merge([], "w")


# -- writing -------------------------------------------------------------------------------------


def test_pep825_round_trip_is_lossless_and_sorted():
    md = fixture("pep825-0.1.1-numpy-2.3.2-variants.json")
    out = md.to_json_dict(SCHEMA_825)
    assert out["$schema"] == SCHEMA_825
    assert set(out) == {"$schema", "default-priorities", "variants"}
    assert out["default-priorities"] == {"namespace": ["x86_64", "aarch64", "blas_lapack"]}
    assert list(out["variants"]) == sorted(out["variants"])
    assert parse_metadata(json.loads(md.to_json(SCHEMA_825)), "rt") == md
    # deterministic bytes
    assert md.to_json(SCHEMA_825) == fixture("pep825-0.1.1-numpy-2.3.2-variants.json").to_json(SCHEMA_825)


def test_pep817_round_trip():
    md = fixture("pep817-0.0.3-foo-1.2.3-variants.json")
    again = parse_metadata(json.loads(md.to_json(SCHEMA_817)), "rt")
    assert again == md


def _variantlib_accepts(data: dict):
    from variantlib.variants_json import VariantsJson

    return VariantsJson(data)


def test_variantlib_0_2_0_round_trip_and_variantlib_accepts_it():
    md = fixture("variantlib-0.2.2-torch-2.9.0-variants.json")
    out = md.to_json_dict(SCHEMA_VARIANTLIB_022)
    assert parse_metadata(out, "rt") == md
    vj = _variantlib_accepts(json.loads(json.dumps(out)))
    assert vj.namespace_priorities == list(md.namespaces)
    assert vj.providers["debug"].optional and vj.providers["debug"].feature_order == ["build", "asserts"]
    assert vj.providers["blas_lapack"].static_properties == {"library": ["accelerate", "openblas", "mkl"]}
    assert sorted(vj.variants) == sorted(md.variants)
    for label, vdesc in vj.variants.items():
        assert {p.to_str() for p in vdesc.properties} == {
            f"{ns} :: {f} :: {v}" for ns, fs in md.variants[label].items() for f, vs in fs.items() for v in vs
        }
    # and variantlib's own serialisation reads back to the same metadata
    assert parse_metadata(json.loads(vj.to_str()), "vl") == md


def test_pep817_ahead_of_time_provider_becomes_a_static_pep850_provider():
    md = fixture("pep817-0.0.3-foo-1.2.3-variants.json")
    out = md.to_json_dict(SCHEMA_VARIANTLIB_022)
    assert out["providers"]["blas_lapack"] == {"static-properties": {"library": ["accelerate", "openblas", "mkl"]}}
    assert "enable-if" not in out["providers"]["x86_64"]
    _variantlib_accepts(json.loads(json.dumps(out)))
    again = parse_metadata(out, "rt")
    assert again.providers["blas_lapack"].static_properties == md.providers["blas_lapack"].static_properties


def test_provider_without_data_does_not_become_nothing_supported():
    """A 0.2 file written from PEP 825 data (no provider information) must not claim
    ``static-properties = {}``: read back, that would make every property unsupported."""
    md = fixture("pep825-0.1.1-numpy-2.3.2-variants.json")
    again = parse_metadata(md.to_json_dict(SCHEMA_850), "rt")
    assert again.variants == md.variants and again.namespaces == md.namespaces
    assert all(p.static_properties is None for p in again.providers.values())
    from varsolve.providers import supported_for_release
    from varsolve.target import Target

    target = Target.make(variants={"x86_64": {"level": ["v3"]}, "blas_lapack": {"library": ["openblas"]}})
    assert supported_for_release(again, target) == supported_for_release(md, target)


def test_optional_flag_survives_a_0_2_round_trip():
    md = VariantMetadata(SCHEMA_850, ("debug",), {"dbg": {"debug": {"build": ("on",)}}}, {"debug": Provider(optional=True)})
    again = parse_metadata(md.to_json_dict(), "rt")
    assert again.providers["debug"].optional


def test_prune_keeps_listed_labels_and_never_empties_namespaces():
    md = fixture("pep825-0.1.1-numpy-2.3.2-variants.json")
    pruned = md.prune({"x86_64_v3_openblas"})
    assert list(pruned.variants) == ["x86_64_v3_openblas"]
    assert pruned.namespaces == ("x86_64", "blas_lapack")
    assert md.prune({"null"}).namespaces == md.namespaces


# -- inconsistent metadata disables the release's variants (with a warning) -----------------------


class _Repo(RepositoryBase):
    """A repository whose variant metadata is inconsistent."""

    def __init__(self):
        from varsolve.repository import CoreMetadata, DistFile, Release
        from varsolve.variants.filenames import parse_wheel

        files = tuple(
            DistFile(f, parse_wheel(f))
            for f in ("numpy-2.3.2-py3-none-any.whl", "numpy-2.3.2-py3-none-any-mkl.whl")
        )
        self.release = Release("numpy", Version("2.3.2"), files)
        self.core = CoreMetadata(())

    def releases(self, name):
        return [self.release] if name == "numpy" else []

    def metadata(self, release, file):
        return self.core

    def variant_metadata(self, release):
        return merge(
            [md825({"mkl": {"a": {"f": ["1"]}}}), md825({"mkl": {"a": {"f": ["2"]}}})], "numpy 2.3.2"
        )


def test_inconsistent_metadata_falls_back_to_non_variant_wheels_with_a_warning(caplog):
    from varsolve.api import solve
    from varsolve.problem import Problem
    from varsolve.target import Target

    problem = Problem(_Repo(), Target.make(variants={"a": {"f": ["1", "2"]}}), ("numpy",))
    with caplog.at_level(logging.WARNING, logger="varsolve"):
        for strategy in ("pep825", "backtrack"):
            resolution = solve(problem, strategy)
            assert resolution.satisfiable and resolution.violations == ()
            assert resolution.packages["numpy"].variant == ""
    assert any("numpy 2.3.2" in r.getMessage() and "two different property sets" in r.getMessage() for r in caplog.records)


def test_abi_dependency_values_must_be_release_segments():
    data = doc825({"t": {"abi_dependency": {"torch": ["2.9", "2.x"]}}})
    with pytest.raises(InvalidVariantMetadata, match="variants.t.abi_dependency.torch: invalid abi_dependency value '2.x'"):
        parse_metadata(data, "flashkit-1.0-variants.json")


# -- messy published data: read what can be read, say what was not -------------------------------
def test_keys_of_other_generations_are_read_and_noted():
    """A 0.2 document with 0.0.3-era keys (uv 0.13.9 rejects the whole release for them)."""
    data = fixture_json("variantlib-0.2.2-torch-2.9.0-variants.json")
    data["providers"]["x86_64"]["enable-if"] = "platform_machine == 'x86_64'"
    data["providers"]["x86_64"]["install-time"] = True
    data["providers"]["nvidia"]["colour"] = "green"
    data["static-properties"] = {"x86_64": {"level": ["v3", "v2"]}}
    data["default-priorities"]["tie-break"] = "label"
    data["generator"] = "someone's script"
    md = parse_metadata(data, "torch-2.9.0-variants.json")
    assert md.providers["x86_64"].enable_if == "platform_machine == 'x86_64'"
    assert md.providers["x86_64"].static_properties == {"level": ("v3", "v2")}
    assert md.notes == (
        "torch-2.9.0-variants.json: unknown key 'generator' ignored",
        "torch-2.9.0-variants.json: 'static-properties' is not in schema 0.2; read as schema 0.0.3 defines it",
        "torch-2.9.0-variants.json: unknown key default-priorities.tie-break ignored",
        "torch-2.9.0-variants.json: unknown key providers.nvidia.colour ignored",
        "torch-2.9.0-variants.json: providers.x86_64.enable-if is not in schema 0.2; read as schema 0.0.3 defines it",
        "torch-2.9.0-variants.json: providers.x86_64.install-time is not in schema 0.2; read as schema 0.0.3 defines it",
    )
    # notes are no part of the metadata's identity
    assert md == parse_metadata(data, "elsewhere") and md.variants == fixture("variantlib-0.2.2-torch-2.9.0-variants.json").variants


def test_pep825_document_with_providers_is_read_and_noted():
    data = doc825({"mkl": {"a": {"f": ["v"]}}})
    data["providers"] = {"a": {"requires": ["a-provider"]}}
    data["default-priorities"]["extra"] = 1
    md = parse_metadata(data, "x.json")
    assert md.providers["a"].requires == ("a-provider",)
    assert any("'providers' is not in schema 0.1" in n for n in md.notes)
    assert any("default-priorities.extra ignored" in n for n in md.notes)


def test_two_spellings_are_one_feature():
    """blas_lapack :: provider (0.0.3-era numpy) and :: library (PEP 825) are one feature,
    wherever they appear: metadata, static properties, marker literals, unify features."""
    from varsolve.variants.properties import VariantFeature, VariantProperty, canonical

    data = doc825({"mkl": {"blas_lapack": {"provider": ["mkl"], "library": ["mkl", "openblas"]}}}, ("blas_lapack",))
    md = parse_metadata(data, "x.json")
    assert md.variants["mkl"] == {"blas_lapack": {"library": ("mkl", "openblas")}}
    assert VariantProperty.parse("blas_lapack :: provider :: mkl") == VariantProperty.parse("blas_lapack::library::mkl")
    assert VariantFeature.parse("blas_lapack :: provider") == VariantFeature("blas_lapack", "library")
    assert canonical("blas_lapack::provider::mkl") == "blas_lapack :: library :: mkl"
    assert canonical("other :: provider :: x") == "other :: provider :: x"  # only that namespace
    other = doc825({"openblas": {"blas_lapack": {"library": ["openblas"]}}}, ("blas_lapack",))
    merged = merge([md, parse_metadata(other, "y")], "both")
    assert set(merged.variants) == {"mkl", "openblas"}


def test_notes_survive_merge_and_prune():
    data = doc825({"mkl": {"a": {"f": ["v"]}}, "null": {}})
    data["colour"] = 1
    md = parse_metadata(data, "x.json")
    assert merge([md, md], "w").notes == md.notes == ("x.json: unknown key 'colour' ignored",)
    assert md.prune({"mkl"}).notes == md.notes
