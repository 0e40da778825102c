"""Variant labels and wheel filenames with the optional label (digest 2.2, tricky case 1)."""

from __future__ import annotations

import pytest
from packaging.tags import Tag
from packaging.version import Version

from varsolve.errors import InputError, InvalidLabel, InvalidWheelFilename
from varsolve.variants.filenames import (
    escaped_name,
    parse_sdist,
    parse_wheel,
    variants_json_filename,
    wheel_filename,
)
from varsolve.variants.labels import LABEL_RE, NULL_LABEL, validate_label


def test_label_regex_is_pep_825():
    assert LABEL_RE.pattern == r"^[0-9a-z_.]+$"
    assert NULL_LABEL == "null"


@pytest.mark.parametrize("label", ["null", "cpu", "x86_64_v3", "cuda12.6", "0", "a" * 17, "a_much_longer_label_than_sixteen.chars"])
def test_valid_labels_including_longer_than_16(label):
    assert validate_label(label) == label


@pytest.mark.parametrize("label", ["", "CPU", "cu-da", "cuda 12", "cuda/12", "ümlaut", None, 3])
def test_invalid_labels(label):
    with pytest.raises(InvalidLabel) as info:
        validate_label(label)
    assert isinstance(info.value, InputError)
    assert repr(label) in str(info.value)


def _tag(text: str) -> Tag:
    interp, abi, plat = text.split("-")
    return Tag(interp, abi, plat)


def test_five_parts_is_a_non_variant_wheel():
    w = parse_wheel("numpy-2.3.2-cp313-cp313t-musllinux_1_2_x86_64.whl")
    assert (w.name, w.version, w.build, w.label) == ("numpy", Version("2.3.2"), (), None)
    assert w.tags == {_tag("cp313-cp313t-musllinux_1_2_x86_64")}
    assert not w.is_variant


def test_six_parts_with_a_label():
    w = parse_wheel("numpy-2.3.2-cp313-cp313t-musllinux_1_2_x86_64-x86_64_v3.whl")
    assert (w.label, w.build) == ("x86_64_v3", ())
    assert w.tags == {_tag("cp313-cp313t-musllinux_1_2_x86_64")}
    assert w.is_variant


def test_six_parts_with_a_build_tag_when_the_third_part_starts_with_a_digit():
    w = parse_wheel("numpy-2.3.2-1-cp313-cp313-linux_x86_64.whl")
    assert (w.label, w.build) == (None, (1, ""))
    assert w.tags == {_tag("cp313-cp313-linux_x86_64")}


def test_seven_parts_has_build_tag_and_label():
    w = parse_wheel("numpy-2.3.2-2abc-cp313-cp313-linux_x86_64-null.whl")
    assert (w.label, w.build) == ("null", (2, "abc"))
    assert w.tags == {_tag("cp313-cp313-linux_x86_64")}


def test_null_label_and_long_and_dotted_labels():
    assert parse_wheel("torch-2.9.0-py3-none-any-null.whl").label == "null"
    assert parse_wheel("torch-2.9.0-py3-none-any-cuda12.6.whl").label == "cuda12.6"
    long = "a_label_that_is_longer_than_sixteen"
    assert parse_wheel(f"torch-2.9.0-py3-none-any-{long}.whl").label == long


def test_compressed_tag_sets_are_kept():
    w = parse_wheel("x-1.0-py2.py3-none-any-cpu.whl")
    assert w.tags == {Tag("py2", "none", "any"), Tag("py3", "none", "any")}
    assert w.label == "cpu"


@pytest.mark.parametrize(
    "filename, fragment",
    [
        ("numpy-2.3.2-py3-none-any.tar.gz", "must end in .whl"),
        ("numpy-2.3.2-py3-none.whl", "wrong number of parts"),
        ("numpy-2.3.2-1-py3-none-any-cpu-extra.whl", "wrong number of parts"),
        ("numpy-2.3.2-py3-none-any-CPU.whl", "invalid variant label 'CPU'"),
        ("numpy-2.3.2-py3-none-any-.whl", "invalid variant label ''"),
        # 7 parts: the third must be a build tag, so it must start with a digit.
        ("numpy-2.3.2-abc-cp313-cp313-linux_x86_64-null.whl", "build"),
        # 6 parts with a digit-first third part is a build tag; then the python tag starts with a digit.
        ("numpy-2.3.2-1-3py-none-any.whl", "python tag starts with a digit"),
        ("numpy-notaversion-py3-none-any.whl", "version"),
    ],
)
def test_invalid_wheel_filenames(filename, fragment):
    with pytest.raises(InvalidWheelFilename) as info:
        parse_wheel(filename)
    assert isinstance(info.value, InputError)
    message = str(info.value)
    assert fragment in message
    assert filename.removesuffix(".whl") in message  # names the file


def test_wheel_filename_escapes_and_round_trips():
    assert escaped_name("Scikit-Learn") == "scikit_learn"
    assert escaped_name("a.b--c") == "a_b_c"
    name = wheel_filename("mkl-runtime", "2025.02", "py3-none-any", "x86_64_v3")
    assert name == "mkl_runtime-2025.2-py3-none-any-x86_64_v3.whl"
    w = parse_wheel(name)
    assert (w.name, str(w.version), w.label) == ("mkl-runtime", "2025.2", "x86_64_v3")
    assert wheel_filename("a", "1", "py3-none-any") == "a-1-py3-none-any.whl"
    built = wheel_filename("a", "1", "py3-none-any", "null", build="3")
    assert built == "a-1-3-py3-none-any-null.whl"
    assert parse_wheel(built).build == (3, "") and parse_wheel(built).label == "null"


def test_variants_json_filename_is_normalised():
    assert variants_json_filename("Scikit-Learn", "1.02.3") == "scikit_learn-1.2.3-variants.json"


def test_parse_sdist():
    assert parse_sdist("mkl_runtime-2025.2.0.tar.gz") == ("mkl-runtime", Version("2025.2.0"))
    with pytest.raises(InvalidWheelFilename):
        parse_sdist("mkl_runtime.tar.gz")
