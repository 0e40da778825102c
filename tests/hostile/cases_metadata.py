"""Variant metadata and core metadata out of distributions: ``*-variants.json`` and
``variant.json`` that are malformed, nested too deeply, of the wrong types or decompression
bombs; METADATA and PKG-INFO that inflate to gigabytes. Served from a ``--find-links`` folder of
real wheels and sdists (the same readers serve HTTP indexes and lazy zips)."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from hostile.bombs import deflate_stream, tar_gz_with_bomb, zip_with_bomb
from hostile.corpus import CLEAN, HANG, TRACEBACK, WRONG, Outcome, case, varsolve
from varsolve.index import wheels
from varsolve.variants.metadata import SCHEMA_817, SCHEMA_850

CATEGORY = "variant metadata"
GIB = 2048  # megabytes in the bombs: the 2 GB at which reading them whole was a MemoryError

VARIANTS = {
    "$schema": SCHEMA_850,
    "default-priorities": {"namespace": ["blas_lapack"]},
    "providers": {"blas_lapack": {"static-properties": {"library": ["mkl", "openblas"]}}},
    "variants": {"mkl": {"blas_lapack": {"library": ["mkl"]}}},
}


def _folder(tmp: Path) -> Path:
    folder = tmp / "links"
    folder.mkdir(exist_ok=True)
    return folder


def _variant_wheel(folder: Path, variant_json: dict[str, Any] | None = None) -> Path:
    return wheels.build_wheel("a", "1.0", label="mkl", variant_json=variant_json or VARIANTS).write(folder)


def _variants_file(tmp: Path, document: Any) -> tuple[Path, Path]:
    """A variant wheel of a 1.0 and the index-level a-1.0-variants.json with ``document``."""
    folder = _folder(tmp)
    _variant_wheel(folder)
    path = folder / "a-1.0-variants.json"
    path.write_bytes(document if isinstance(document, bytes) else json.dumps(document).encode())
    return folder, path


def _resolve(tmp: Path, folder: Path) -> subprocess.CompletedProcess[str] | None:
    return varsolve("resolve", "a", "--find-links", str(folder), "--python", "3.12", "--python-platform", "linux", cwd=tmp, timeout=120)


def _bad_variants(tmp: Path, document: Any, *names: str) -> Outcome:
    """Bad variant metadata makes the release's variant wheels unusable (one warning naming the
    file and what is wrong); the release has nothing else: no solution, exit 1."""
    folder, path = _variants_file(tmp, document)
    return expect_rejected(_resolve(tmp, folder), path.name, *names)


def expect_rejected(proc: subprocess.CompletedProcess[str] | None, *mentions: str) -> Outcome:
    """The distribution is unusable and the run says why: no traceback, no success (a file
    whose metadata cannot be read is rejected, never used: exit 1 with the reason, or 2 when
    the run stops on it)."""
    if proc is None:
        return Outcome(HANG, "no answer within the time limit")
    output = proc.stdout + proc.stderr
    if "Traceback (most recent call last)" in output or "MemoryError" in output:
        return Outcome(TRACEBACK, output[-2000:])
    if proc.returncode not in (1, 2):
        return Outcome(WRONG, f"exit {proc.returncode}: {output[-800:]}")
    missing = [m for m in mentions if m not in output]
    if missing:
        return Outcome(WRONG, f"the output does not mention {missing}: {output[-800:]}")
    return Outcome(CLEAN, output.strip().splitlines()[-1])


# -- *-variants.json ----------------------------------------------------------------------------


@case(CATEGORY, "*-variants.json nested 100,000 arrays deep")
def variants_json_nesting_bomb(tmp: Path) -> Outcome:
    return _bad_variants(tmp, b"[" * 100_000 + b"]" * 100_000, "nested too deeply")


@case(CATEGORY, "*-variants.json nested 100,000 objects deep")
def variants_json_object_bomb(tmp: Path) -> Outcome:
    return _bad_variants(tmp, b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply")


@case(CATEGORY, "*-variants.json holding an integer of 5,000 digits")
def variants_json_huge_integer(tmp: Path) -> Outcome:
    return _bad_variants(tmp, b'{"$schema": ' + b"1" * 5000 + b"}", "malformed JSON")


@case(CATEGORY, "*-variants.json that is not UTF-8")
def variants_json_not_utf8(tmp: Path) -> Outcome:
    return _bad_variants(tmp, b'{"$schema": "caf\xe9"}', "malformed JSON")


@case(CATEGORY, "a label with a trailing newline")
def label_newline(tmp: Path) -> Outcome:
    document = {**VARIANTS, "variants": {"mkl\n": {"blas_lapack": {"library": ["mkl"]}}}}
    return _bad_variants(tmp, document, "invalid variant label")


@case(CATEGORY, "a property value with a trailing newline")
def value_newline(tmp: Path) -> Outcome:
    document = {**VARIANTS, "variants": {"mkl": {"blas_lapack": {"library": ["mkl\n"]}}}}
    return _bad_variants(tmp, document, "variants.mkl.blas_lapack.library")


@case(CATEGORY, "a static-properties value with a trailing newline")
def static_value_newline(tmp: Path) -> Outcome:
    document = {**VARIANTS, "providers": {"blas_lapack": {"static-properties": {"library": ["mkl\n"]}}}}
    return _bad_variants(tmp, document, "static-properties.library")


@case(CATEGORY, "0.0.3-era enable-if that is not a string")
def enable_if_not_a_string(tmp: Path) -> Outcome:
    document = {
        "$schema": SCHEMA_817,
        "default-priorities": {"namespace": ["blas_lapack"]},
        "providers": {"blas_lapack": {"requires": ["blas-provider"], "enable-if": ["python_version >= '3'"]}},
        "variants": {"mkl": {"blas_lapack": {"library": ["mkl"]}}},
    }
    return _bad_variants(tmp, document, "enable-if")


@case(CATEGORY, "0.0.3-era install-time that is not a boolean")
def install_time_not_a_boolean(tmp: Path) -> Outcome:
    document = {
        "$schema": SCHEMA_817,
        "default-priorities": {"namespace": ["blas_lapack"]},
        "providers": {"blas_lapack": {"requires": ["blas-provider"], "install-time": "no"}},
        "variants": {"mkl": {"blas_lapack": {"library": ["mkl"]}}},
    }
    return _bad_variants(tmp, document, "install-time")


@case(CATEGORY, "feature-order holding a table")
def feature_order_table(tmp: Path) -> Outcome:
    provider = {"static-properties": {"library": ["mkl"]}, "feature-order": [{"x": 1}]}
    return _bad_variants(tmp, {**VARIANTS, "providers": {"blas_lapack": provider}}, "feature-order")


# -- variant.json inside a wheel ----------------------------------------------------------------


def _with_member(wheel: Path, member_suffix: str, bomb: tuple[bytes, int, int]) -> Path:
    """``wheel`` with its ``*.dist-info/<member_suffix>`` replaced by the deflate stream ``bomb``."""
    with zipfile.ZipFile(wheel) as z:
        members = {n: z.read(n) for n in z.namelist()}
    name = next(n for n in members if n.endswith("/" + member_suffix))
    del members[name]
    wheel.write_bytes(zip_with_bomb(members, name, bomb))
    return wheel


@case(CATEGORY, "variant.json: a zip bomb (2 GB of whitespace around {})")
def variant_json_zip_bomb(tmp: Path) -> Outcome:
    folder = _folder(tmp)
    wheel = _with_member(_variant_wheel(folder), "variant.json", deflate_stream(b"{", b" ", GIB, tail=b"}"))
    return expect_rejected(_resolve(tmp, folder), wheel.name, "larger than")


@case(CATEGORY, "variant.json nested 100,000 arrays deep")
def variant_json_nesting_bomb(tmp: Path) -> Outcome:
    folder = _folder(tmp)
    wheel = _variant_wheel(folder)
    with zipfile.ZipFile(wheel) as z:
        members = {n: z.read(n) for n in z.namelist()}
    name = next(n for n in members if n.endswith("/variant.json"))
    members[name] = b"[" * 100_000 + b"]" * 100_000
    with zipfile.ZipFile(wheel, "w") as z:
        for member, data in members.items():
            z.writestr(member, data)
    return expect_rejected(_resolve(tmp, folder), wheel.name, "nested too deeply")


# -- METADATA and PKG-INFO ----------------------------------------------------------------------


@case(CATEGORY, "METADATA: a zip bomb (2 GB)")
def metadata_zip_bomb(tmp: Path) -> Outcome:
    folder = _folder(tmp)
    wheel = wheels.build_wheel("a", "1.0").write(folder)
    head = b"Metadata-Version: 2.1\nName: a\nVersion: 1.0\nSummary: "
    _with_member(wheel, "METADATA", deflate_stream(head, b"x", GIB))
    return expect_rejected(_resolve(tmp, folder), wheel.name, "larger than")


@case(CATEGORY, "PKG-INFO: a gzip bomb (2 GB in the sdist's tarball)")
def pkg_info_gzip_bomb(tmp: Path) -> Outcome:
    folder = _folder(tmp)
    sdist = folder / "a-1.0.tar.gz"
    sdist.write_bytes(tar_gz_with_bomb("a-1.0/PKG-INFO", b"Metadata-Version: 2.2\nName: a\nVersion: 1.0\n", GIB))
    return expect_rejected(_resolve(tmp, folder), sdist.name, "larger than")


@case(CATEGORY, "PKG-INFO: a zip sdist bomb (2 GB)")
def pkg_info_zip_bomb(tmp: Path) -> Outcome:
    folder = _folder(tmp)
    sdist = folder / "a-1.0.zip"
    head = b"Metadata-Version: 2.2\nName: a\nVersion: 1.0\nSummary: "
    sdist.write_bytes(zip_with_bomb({"a-1.0/setup.py": b""}, "a-1.0/PKG-INFO", deflate_stream(head, b"x", GIB)))
    return expect_rejected(_resolve(tmp, folder), sdist.name, "larger than")
