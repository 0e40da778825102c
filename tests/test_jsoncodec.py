"""varsolve.sources.jsoncodec reads what the standard library reads, the same way (orjson where
installed, json whenever orjson refuses a document), and writes JSON that reads back equal."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from varsolve.sources import jsoncodec
from varsolve.sources.pages import json_file_row, json_page_files

DOCUMENTS: list[bytes] = [
    b'{"files": [{"filename": "a-1.0-py3-none-any.whl", "url": "a.whl"}], "meta": {"api-version": "1.1"}}',
    b'{"a": 1, "a": 2}',  # the last of duplicate keys
    b'{"a": NaN, "b": Infinity, "c": -Infinity}',  # not JSON, but json reads it
    b'{"a": 1e400}',  # beyond a double: inf for json
    b'{"a": "\\ud800"}',  # a lone surrogate escape
    b'\xef\xbb\xbf{"a": 1}',  # a UTF-8 byte order mark
    '{"a": "\u00e9"}'.encode("utf-16"),  # UTF-16 with its byte order mark
    '{"a": 1}'.encode("utf-32"),
    b'{"a": "\xff"}',  # not UTF-8
    b'{"a": 1} x',  # trailing data
    b"",
    b"   ",
    b"[" * 3000 + b"]" * 3000,  # deeper than either parser goes
    b"[" * 500 + b"]" * 500,
    b'{"a": -0, "b": 0.1, "c": 1.5e-300, "d": "\\u0000", "e": [true, false, null]}',
    b'{"a": "\\u00e9\\ud83d\\ude00"}',
    b'{"a": 9223372036854775807, "b": -9223372036854775808}',
    b"[1, 2,]",
    b"{'a': 1}",
]


def outcome(load: object, data: bytes) -> tuple[str, object]:
    try:
        return "value", load(data)  # type: ignore[operator]
    except RecursionError:
        return "error", "RecursionError"
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return "error", f"{type(exc).__name__}: {exc}"


def same(a: tuple[str, object], b: tuple[str, object]) -> bool:
    # NaN is not equal to itself: compare the JSON the standard library writes for both
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


@pytest.mark.parametrize("data", DOCUMENTS, ids=range(len(DOCUMENTS)))
def test_loads_reads_what_json_reads(data: bytes) -> None:
    assert same(outcome(jsoncodec.loads, data), outcome(json.loads, data))
    assert same(outcome(jsoncodec.loads, memoryview(data)), outcome(json.loads, data))


def test_orjson_does_the_work_on_cpython() -> None:
    # pyproject.toml installs orjson on CPython: the speed this module exists for
    if sys.implementation.name == "cpython":
        assert jsoncodec.native()


def test_an_integer_beyond_64_bits_is_the_one_difference() -> None:
    data = b'{"a": 123456789012345678901234567890}'
    found = jsoncodec.loads(data)["a"]
    if jsoncodec.native():
        assert isinstance(found, float)
    else:
        assert found == 123456789012345678901234567890
    # Through a page: with orjson the size reads as a float and counts as unknown (pages.py keeps
    # an int only); without it, it is the absurd size the page announces.
    page = b'{"meta": {"api-version": "1.0"}, "files": [{"filename": "a-1.0.tar.gz", "url": "a-1.0.tar.gz", "hashes": {}, "size": 123456789012345678901234567890}]}'
    (item,) = json_page_files(page, "https://example.org/simple/a/")
    size = json_file_row(item, "https://example.org/simple/a/")[7]
    assert size is None if jsoncodec.native() else size == 123456789012345678901234567890


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_dumps_reads_back_equal(value: object) -> None:
    written = jsoncodec.dumps(value)
    assert isinstance(written, bytes)
    assert json.loads(written) == value
    assert jsoncodec.loads(written) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": 2**70}, [{"a": 2**70}]),
        ({1: "not a string key"}, [{"1": "not a string key"}]),
        (["\ud800"], [["\ud800"]]),
        ([(1, "é")], [[[1, "é"]]]),
        ({"size": float("nan")}, [{"size": None}, "nan"]),  # null (orjson) or NaN (json)
    ],
    ids=["big int", "int key", "lone surrogate", "tuple", "nan"],
)
def test_dumps_writes_what_orjson_cannot(value: object, expected: list[object]) -> None:
    read = json.loads(jsoncodec.dumps(value))
    if expected[-1] == "nan":
        assert read["size"] is None or read["size"] != read["size"]
    else:
        assert read == expected[0]


def test_without_orjson_the_standard_library_reads_the_same() -> None:
    """An interpreter without orjson (PyPy; CPython if it is missing) takes the json path and
    reads every document as the native path does, apart from the documented big integer."""
    code = (
        "import json, sys\n"
        "sys.modules['orjson'] = None\n"  # the import fails as on an interpreter without it
        "from varsolve.sources import jsoncodec\n"
        "assert not jsoncodec.native()\n"
        "docs = json.loads(sys.stdin.read())\n"
        "out = []\n"
        "for text in docs:\n"
        "    data = bytes.fromhex(text)\n"
        "    try:\n"
        "        out.append(['value', jsoncodec.loads(data)])\n"
        "    except RecursionError:\n"
        "        out.append(['error', 'RecursionError'])\n"
        "    except ValueError as exc:\n"
        "        out.append(['error', type(exc).__name__ + ': ' + str(exc)])\n"
        "print(json.dumps([out, jsoncodec.dumps({'a': [1, 'é']}).decode()], default=str))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps([d.hex() for d in DOCUMENTS]),
        capture_output=True, text=True, timeout=60, check=True,
    )
    fallback, written = json.loads(done.stdout)
    for data, found in zip(DOCUMENTS, fallback, strict=True):
        assert same(tuple(found), outcome(jsoncodec.loads, data)), data[:40]  # type: ignore[arg-type]
    assert json.loads(written) == {"a": [1, "é"]}
