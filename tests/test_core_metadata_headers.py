"""parse_core_metadata reads a METADATA / PKG-INFO file's headers only (the body is the long
description): what it returns must be what packaging's parser makes of the whole file."""

from __future__ import annotations

import random

import pytest
from packaging.metadata import parse_email
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from varsolve.errors import InvalidDistribution
from varsolve.sources.distmeta import parse_core_metadata

HEADERS = (
    "Metadata-Version: 2.4\n"
    "Name: demo\n"
    "Version: 1.0\n"
    "Summary: a summary folded\n"
    "  over two lines\n"
    "Requires-Python: >=3.9\n"
    "Provides-Extra: Fast\n"
    "Requires-Dist: requests>=2\n"
    "Requires-Dist: numpy; extra == 'fast'\n"
    "Requires-Dist: tomli; python_version < '3.11'\n"
    "Description-Content-Type: text/markdown\n"
)


def whole_file_fields(raw: bytes) -> tuple[tuple[str, ...], SpecifierSet | None, frozenset[str]]:
    """The oracle: packaging's parser over the whole file, body included."""
    fields, _ = parse_email(raw)
    rp = fields.get("requires_python")
    extras = frozenset(canonicalize_name(e) for e in fields.get("provides_extra", []))
    return tuple(fields.get("requires_dist", [])), SpecifierSet(rp) if rp else None, extras


def as_tuple(raw: bytes) -> tuple[tuple[str, ...], SpecifierSet | None, frozenset[str]]:
    meta = parse_core_metadata(raw, "demo-1.0.dist-info/METADATA")
    return meta.requires_dist, meta.requires_python, meta.provides_extra


def test_a_body_that_looks_like_headers_adds_nothing() -> None:
    body = "\n".join(["# demo", "", "Requires-Dist: evil", "Requires-Python: <3", "", *(f"line {n}" for n in range(5000))])
    raw = (HEADERS + "\n" + body + "\n").encode()
    found = as_tuple(raw)
    assert found == whole_file_fields(raw)
    assert found[0] == ("requests>=2", "numpy; extra == 'fast'", "tomli; python_version < '3.11'")
    assert found[1] == SpecifierSet(">=3.9") and found[2] == {"fast"}


def test_a_body_that_is_not_utf8_is_not_read() -> None:
    raw = (HEADERS + "\n").encode() + b"\xff\xfe not text \x80\n" * 100
    assert as_tuple(raw)[0] == ("requests>=2", "numpy; extra == 'fast'", "tomli; python_version < '3.11'")


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_endings_and_a_file_without_a_body(newline: str) -> None:
    headers = HEADERS.replace("\n", newline)
    for raw in ((headers + newline + "Body" + newline).encode(), headers.encode()):
        assert as_tuple(raw) == whole_file_fields(raw)
        assert len(as_tuple(raw)[0]) == 3


def test_headers_still_checked() -> None:
    raw = (HEADERS + "Requires-Python: >=3.10\n\nbody\n").encode()  # a second Requires-Python
    with pytest.raises(InvalidDistribution, match="unreadable requires-python"):
        parse_core_metadata(raw, "demo-1.0.dist-info/METADATA")


def test_random_files_read_as_the_whole_file_reads() -> None:
    """Random header orders, folded lines, blank-looking lines in the body, both newlines."""
    rng = random.Random(7)
    lines = [line for line in HEADERS.splitlines(keepends=True) if not line.startswith("  ")]
    for _ in range(200):
        chosen = rng.sample(lines[3:], rng.randint(0, len(lines) - 3))
        head = "".join(lines[:3] + chosen)
        if rng.random() < 0.5:
            head += "Keywords: a,\n b,\n c\n"  # a folded header after the ones we read
        body_lines = [rng.choice(["", " ", "Requires-Dist: x", "text", "\t", "Name: other"]) for _ in range(rng.randint(0, 30))]
        raw = head + ("\n" + "\n".join(body_lines) if rng.random() < 0.8 else "")
        if rng.random() < 0.3:
            raw = raw.replace("\n", "\r\n")
        data = raw.encode()
        assert as_tuple(data) == whole_file_fields(data), raw
