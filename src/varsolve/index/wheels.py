"""Reproducible wheels and sdists: real, installable, byte for byte the same for the same input.

The small API other modules use (the index builder, the lock tests)::

    dist = build_wheel("numpy", "2.3.0", "cp312-cp312-manylinux_2_17_x86_64", label="mkl",
                       variant_json=wheel_variant_json(metadata, "mkl"),
                       requires_dist=["mkl-runtime; 'blas_lapack :: library :: mkl' in variant_properties"])
    path = dist.write(directory)          # numpy-2.3.0-cp312-...-mkl.whl
    dist.sha256, dist.metadata            # hash of the file, its core METADATA (PEP 658 body)
    build_sdist("numpy", "2.3.0", requires_dist=[...]).write(directory)

Wheels are zip files with sorted entries, every timestamp 1980-01-01 00:00 and fixed
permissions; they hold a tiny importable module (``import numpy`` gives ``__version__`` and
``__variant_label__``), ``METADATA`` (Metadata-Version 2.4), ``WHEEL``, ``RECORD`` with sha256
hashes and, for variant wheels, ``variant.json``. Sdists are gzip'd tars with a fixed mtime,
``PKG-INFO``, ``pyproject.toml`` and a ten-line in-tree PEP 517 backend, so installers can
build them without fetching setuptools.

Writing wheels by hand (rather than with ``wheel``/``build``) is deliberate: those tools stamp
build times and need a project on disk; here every byte is decided by the arguments.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from packaging.version import Version

from .. import __version__
from ..variants.filenames import escaped_name, wheel_filename
from ..variants.markers import NON_VARIANT, VariantState, parse_requirement
from ..variants.metadata import SCHEMA_VARIANTLIB_022, VariantMetadata

ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can store
SOURCE_DATE_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the same instant for tar and gzip
GENERATOR = f"varsolve-index-builder {__version__}"


@dataclass(frozen=True)
class Dist:
    """A built distribution in memory."""

    filename: str
    data: bytes
    metadata: bytes  # core metadata (wheel METADATA / sdist PKG-INFO)

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)

    def write(self, directory: str | Path) -> Path:
        path = Path(directory) / self.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.data)
        return path


# -- core metadata --------------------------------------------------------------------------


def core_metadata(
    name: str,
    version: str | Version,
    *,
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
    provides_extra: Iterable[str] = (),
    summary: str | None = None,
) -> bytes:
    """Core metadata 2.4 (the body of ``METADATA``, ``PKG-INFO`` and PEP 658 ``.metadata``)."""
    lines = ["Metadata-Version: 2.4", f"Name: {name}", f"Version: {Version(str(version))}"]
    if summary:
        lines.append(f"Summary: {summary}")
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Provides-Extra: {extra}" for extra in sorted(set(provides_extra))]
    lines += [f"Requires-Dist: {text}" for text in requires_dist]
    for line in lines:
        # A line break in a value would end the headers (or add one): the scenario loader refuses
        # such input, and nothing else may write it.
        if any(c in line for c in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
            raise ValueError(f"a line break in core metadata: {line!r}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def specialise_requirements(requires_dist: Iterable[str], state: VariantState = NON_VARIANT) -> list[str]:
    """``requires_dist`` with the variant markers evaluated for ``state`` (default: non-variant).

    PEP 825 lets builders partially evaluate variant markers; variant-unaware installers need
    it because they reject ``variant_*`` markers. Requirements without variant markers are kept
    verbatim; a requirement whose marker becomes false is dropped.
    """
    out = []
    for text in requires_dist:
        reduced = parse_requirement(text).specialise(state)
        if reduced is not None:
            out.append(reduced)
    return out


# -- variant metadata as files ----------------------------------------------------------------


def variants_json(metadata: VariantMetadata) -> dict[str, Any]:
    """The index-level ``{name}-{version}-variants.json`` document, valid for variantlib 0.2.2
    (providers without data are written ``"builtin": <namespace>``, see ``metadata.py``)."""
    return metadata.to_json_dict(SCHEMA_VARIANTLIB_022)


def wheel_variant_json(metadata: VariantMetadata, label: str) -> dict[str, Any]:
    """``*.dist-info/variant.json`` of the wheel with ``label``: one variant, every namespace.

    The namespace list stays whole (PEP 825: it is project-level data copied into each wheel),
    so merging the wheels' files gives back the release's metadata.
    """
    doc = variants_json(metadata)
    doc["variants"] = {label: doc["variants"][label]}
    return doc


def published_wheel_variant_json(document: dict[str, Any], label: str) -> dict[str, Any]:
    """``variant.json`` of the wheel with ``label`` of a release whose ``*-variants.json`` is
    given as published (a scenario's ``variants_json``): that document as it is, any schema,
    keys and mistakes included, its ``variants`` narrowed to the label. Nothing is re-derived or
    validated: an installer meets the published data, not varsolve's reading of it."""
    doc = dict(document)
    doc["variants"] = {label: document["variants"][label]}
    return doc


def json_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


# -- wheels ---------------------------------------------------------------------------------


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def _expand_tags(tag: str) -> list[str]:
    pythons, abis, platforms = tag.split("-")
    return [f"{p}-{a}-{pl}" for p in pythons.split(".") for a in abis.split(".") for pl in platforms.split(".")]


def _module_source(name: str, version: str, label: str | None) -> bytes:
    return (
        f'"""{name} {version}: a package built by varsolve\'s index builder."""\n\n'
        f"__version__ = {version!r}\n"
        f"__variant_label__ = {label!r}\n"
    ).encode()


def _zip(entries: Sequence[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for arcname, data in entries:
            info = zipfile.ZipInfo(arcname, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever the host: the permission bits below apply
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def build_wheel(
    name: str,
    version: str | Version,
    tag: str = "py3-none-any",
    *,
    label: str | None = None,
    variant_json: dict[str, Any] | None = None,
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
    provides_extra: Iterable[str] = (),
    build: str | None = None,
) -> Dist:
    """A wheel; ``label`` makes it a variant wheel and then ``variant_json`` is required.

    ``requires_dist`` goes into METADATA as given: pass it through
    :func:`specialise_requirements` for a wheel old installers may read.
    """
    if (label is None) != (variant_json is None):
        raise ValueError("a variant wheel needs both a label and its variant.json")
    version = str(Version(str(version)))
    filename = wheel_filename(name, version, tag, label, build)
    module = escaped_name(name)
    dist_info = f"{module}-{version}.dist-info"
    metadata = core_metadata(
        name, version, requires_dist=requires_dist, requires_python=requires_python, provides_extra=provides_extra
    )
    wheel_lines = ["Wheel-Version: 1.0", f"Generator: {GENERATOR}", "Root-Is-Purelib: true"]
    if build:
        wheel_lines.append(f"Build: {build}")
    wheel_lines += [f"Tag: {t}" for t in _expand_tags(tag)]
    files: dict[str, bytes] = {
        f"{module}/__init__.py": _module_source(name, version, label),
        f"{dist_info}/METADATA": metadata,
        f"{dist_info}/WHEEL": ("\n".join(wheel_lines) + "\n").encode("utf-8"),
    }
    if variant_json is not None:
        files[f"{dist_info}/variant.json"] = json_bytes(variant_json)
    record_lines = [f"{path},{_record_hash(data)},{len(data)}" for path, data in sorted(files.items())]
    record_lines.append(f"{dist_info}/RECORD,,")
    entries = sorted(files.items()) + [(f"{dist_info}/RECORD", ("\n".join(record_lines) + "\n").encode("utf-8"))]
    return Dist(filename, _zip(entries), metadata)


# -- sdists ---------------------------------------------------------------------------------

# A PEP 517 backend shipped inside each sdist: it packs the module with PKG-INFO as METADATA.
_BACKEND = '''\
"""In-tree PEP 517 backend of a varsolve test sdist: no build dependencies."""
import base64, hashlib, os, re, zipfile

def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "PKG-INFO"), "rb") as f:
        metadata = f.read()
    fields = dict(line.split(": ", 1) for line in metadata.decode().splitlines()[:3] if ": " in line)
    name = re.sub(r"[-_.]+", "_", fields["Name"]).lower()
    version = fields["Version"]
    with open(os.path.join(here, name, "__init__.py"), "rb") as f:
        module = f.read()
    dist_info = name + "-" + version + ".dist-info"
    files = {name + "/__init__.py": module, dist_info + "/METADATA": metadata,
             dist_info + "/WHEEL": b"Wheel-Version: 1.0\\nGenerator: varsolve-sdist\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
    record = "".join("%s,%s,%d\\n" % (p, _hash(d), len(d)) for p, d in sorted(files.items()))
    entries = sorted(files.items()) + [(dist_info + "/RECORD", (record + dist_info + "/RECORD,,\\n").encode())]
    filename = name + "-" + version + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in entries:
            info = zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            z.writestr(info, data, zipfile.ZIP_DEFLATED)
    return filename
'''  # noqa: E501 (the backend's source is part of every sdist: its bytes must not change)


_PYPROJECT = b'[build-system]\nrequires = []\nbuild-backend = "varsolve_sdist_backend"\nbackend-path = ["."]\n'


def build_sdist(
    name: str,
    version: str | Version,
    *,
    requires_dist: Iterable[str] = (),
    requires_python: str | None = None,
    provides_extra: Iterable[str] = (),
) -> Dist:
    """A ``.tar.gz`` sdist whose PKG-INFO (2.4, nothing dynamic) is its final metadata."""
    version = str(Version(str(version)))
    module = escaped_name(name)
    root = f"{module}-{version}"
    metadata = core_metadata(
        name, version, requires_dist=requires_dist, requires_python=requires_python, provides_extra=provides_extra
    )
    files = {
        f"{root}/PKG-INFO": metadata,
        f"{root}/pyproject.toml": _PYPROJECT,
        f"{root}/varsolve_sdist_backend.py": _BACKEND.encode("utf-8"),
        f"{root}/{module}/__init__.py": _module_source(name, version, None),
    }
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=SOURCE_DATE_EPOCH, compresslevel=9) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path, data in sorted(files.items()):
                info = tarfile.TarInfo(path)
                info.size = len(data)
                info.mtime = SOURCE_DATE_EPOCH
                info.mode = 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
    return Dist(f"{root}.tar.gz", raw.getvalue(), metadata)
