"""The fast paths of page parsing give what the general ones give: a JSON page's rows (one
lower-case sha256 and a plain https URL checked inline, anything else the general way) and a
release's files (built without their dataclass constructors)."""

from __future__ import annotations

import json

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from varsolve.errors import SourceError
from varsolve.repository import DistFile
from varsolve.sources.files import ProjectPage, row_dist_file, specifier_set, wheel_of
from varsolve.sources.pages import json_page_rows

PAGE = "https://index.example/simple/demo/"
SHA = "ab" * 32


def _page(*files: dict[str, object]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "demo", "files": list(files)}).encode()


def _file(filename: str, **extra: object) -> dict[str, object]:
    return {"filename": filename, "url": f"https://files.example/{filename}", "hashes": {"sha256": SHA}, **extra}


def test_the_usual_file_and_its_variations() -> None:
    rows = json_page_rows(_page(
        _file("demo-1.0-py3-none-any.whl", size=10, **{"requires-python": ">=3.8", "upload-time": "2024-01-01T00:00:00Z"}),
        _file("demo-1.1-py3-none-any.whl", hashes={"SHA256": SHA.upper()}),  # the general path lower-cases
        _file("demo-1.2-py3-none-any.whl", hashes={"sha256": SHA, "md5": "cd" * 16}),
        _file("demo-1.3-py3-none-any.whl", hashes={}),
        {"filename": "demo-1.4.tar.gz", "url": "../../files/demo-1.4.tar.gz", "hashes": {"sha256": SHA}},
        _file("demo-1.5-py3-none-any.whl", yanked="broken", **{"core-metadata": {"sha256": SHA}}),
        _file("demo-1.6-py3-none-any.whl", size=-1, **{"requires-python": "  ", "dist-info-metadata": True}),
    ), PAGE)
    assert rows[0] == (
        "demo-1.0-py3-none-any.whl", "https://files.example/demo-1.0-py3-none-any.whl", {"sha256": SHA}, ">=3.8", False, None,
        None, 10, "2024-01-01T00:00:00Z",
    )
    assert rows[1][2] == {"sha256": SHA}
    assert rows[2][2] == {"sha256": SHA, "md5": "cd" * 16}
    assert rows[3][2] == {}
    assert rows[4][1] == "https://index.example/files/demo-1.4.tar.gz"
    assert rows[5][4:7] == (True, "broken", {"sha256": SHA})
    assert rows[6][3] is None and rows[6][6] == {} and rows[6][7] is None


@pytest.mark.parametrize("hashes", [{"sha256": "ab" * 31}, {"sha256": "zz" * 32}, {"sha256": 5}, ["sha256"]])
def test_a_malformed_hash_is_still_an_error(hashes: object) -> None:
    with pytest.raises(SourceError):
        json_page_rows(_page(_file("demo-1.0-py3-none-any.whl", hashes=hashes)), PAGE)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "https://files.example/a#frag", "https://files.example/x/../demo-1.0-py3-none-any.whl"])
def test_urls_off_the_plain_path_go_the_general_way(url: str) -> None:
    page = _page({"filename": "demo-1.0-py3-none-any.whl", "url": url, "hashes": {"sha256": SHA}})
    if url.startswith("file:"):
        with pytest.raises(SourceError, match="may only link http"):
            json_page_rows(page, PAGE)
    else:
        assert "#" not in json_page_rows(page, PAGE)[0][1]


def test_a_release_s_files_equal_those_the_constructors_make() -> None:
    rows = json_page_rows(_page(
        _file("demo-1.0-py3-none-any.whl", size=10, **{"requires-python": ">=3.8"}),
        _file("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", yanked=True),
        _file("demo-1.0.tar.gz"),
    ), PAGE)
    name = canonicalize_name("demo")
    page = ProjectPage.from_rows(rows, name, PAGE, True)
    built = page.files(Version("1.0"))
    assert [row for row, _ in built] == sorted(rows)
    for row, dist in built:
        expected = DistFile(
            filename=row[0], wheel=wheel_of(row[0]) if row[0].endswith(".whl") else None, url=row[1], hashes=dict(row[2]),
            size=row[7], upload_time=row[8], requires_python=specifier_set(row[3] or ""), yanked=row[4],
        )
        assert dist == expected and vars(dist) == vars(expected) and type(dist) is DistFile
        assert row_dist_file(row, name, True) == expected
        with pytest.raises(AttributeError):
            dist.url = "changed"  # type: ignore[misc]


# -- a JSON page grouped by version without checking every entry -----------------------------------
TRICKY = [
    _file("demo-2.0-py3-none-any.whl"),
    _file("demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
    _file("demo-2.0-py3-none-any.whl", size=99),  # listed twice: the first counts
    _file("demo-2.0.tar.gz"),
    _file("demo-1.0.0-py3-none-any.whl"),
    _file("demo-1.0.zip"),  # the same version written otherwise: one release, as its first file writes it
    _file("demo-1.5-py3-none.whl"),  # no tag triple: skipped
    _file("demo-1.6-1-py3-none-any.whl"),  # a build tag
    _file("demo-1.7-notaversion.whl"),  # not a wheel filename
    _file("other-3.0-py3-none-any.whl"),  # another project's file
    _file("demo_extra-3.0.tar.gz"),  # another project's sdist
    _file("demo-0.9.exe"),  # not a distribution
    _file("demo-2.0-variants.json"),
    _file("demo-0.1-py3-none-any.whl", hashes={"sha256": "not-a-hash"}),  # malformed, in a release never read
]


def test_a_json_page_is_grouped_as_its_rows_are() -> None:
    from varsolve.sources.pages import json_file_row, json_page_files

    name = canonicalize_name("demo")
    good = [item for item in TRICKY if "not-a-hash" not in str(item)]
    eager = ProjectPage.from_rows(json_page_rows(_page(*good), PAGE), name, PAGE, True)
    lazy = ProjectPage.from_json_files(json_page_files(_page(*good), PAGE), name, PAGE, True)
    assert [str(v) for v in lazy.versions] == [str(v) for v in eager.versions] == ["2.0", "1.6", "1.0.0"]
    assert lazy.variants == eager.variants and list(lazy.variants) == [Version("2.0")]
    for version in eager.versions:
        assert lazy.files(version) == eager.files(version)
    assert lazy.encode() == eager.encode()
    # A malformed entry fails its release only, when that release is read (issue 15: a release
    # the search never reads must not fail the run); the page's other releases read as before.
    page = ProjectPage.from_json_files(json_page_files(_page(*TRICKY), PAGE), name, PAGE, True)
    assert [str(v) for v in page.versions] == ["2.0", "1.6", "1.0.0", "0.1"]
    assert page.files(Version("2.0")) == eager.files(Version("2.0"))
    with pytest.raises(SourceError, match="malformed sha256 hash 'not-a-hash' for demo-0.1-py3-none-any.whl"):
        page.files(Version("0.1"))
    with pytest.raises(SourceError):
        json_file_row(TRICKY[-1], PAGE)


def test_a_json_page_s_rows_are_made_only_for_the_releases_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from varsolve.sources import files
    from varsolve.sources.pages import json_page_files

    made: list[str] = []
    original = files.json_file_row
    monkeypatch.setattr(files, "json_file_row", lambda item, url: made.append(item["filename"]) or original(item, url))
    versions = [f"1.{i}" for i in range(50)]
    page = ProjectPage.from_json_files(
        json_page_files(_page(*(_file(f"demo-{v}-py3-none-any.whl") for v in versions)), PAGE), canonicalize_name("demo"), PAGE, True
    )
    assert len(page.versions) == 50 and made == []
    page.files(Version("1.49"))
    assert made == ["demo-1.49-py3-none-any.whl"]


def _json_page(*files: dict[str, object]) -> ProjectPage:
    from varsolve.sources.pages import json_page_files

    return ProjectPage.from_json_files(json_page_files(_page(*files), PAGE), canonicalize_name("demo"), PAGE, True)


def _encoded_versions(data: bytes) -> list[object]:
    """Each version's array in an encoded page, decoded."""
    line, _, region = data.partition(b"\n")
    return [json.loads(region[start:end]) for _, start, end in json.loads(line)["versions"]]


def test_the_parsed_page_cache_keeps_a_json_page_s_unread_entries_as_they_came() -> None:
    """Making every release's rows for the cache cost a cold jupyter run 0.15 s: the entries of
    releases not read are written as the page had them (absolute http(s) URLs) and checked
    when read back, into the same files as the page's own."""
    good = [item for item in TRICKY if "not-a-hash" not in str(item)]
    page = _json_page(*good)
    page.files(Version("2.0"))  # read: written as rows
    data = page.encode()
    arrays = _encoded_versions(data)
    assert type(arrays[0][0]) is list and all(type(a[0]) is dict for a in arrays[1:])  # type: ignore[index]
    reloads: list[int] = []
    back = ProjectPage.decode(data, canonicalize_name("demo"), PAGE, True, lambda: reloads.append(1) or _json_page(*good))
    assert back is not None and back.versions == page.versions
    for version in page.versions:
        assert back.files(version) == page.files(version)
    assert reloads == [] and back.parses == 0
    # Relative URLs (the project's own index serves them): rows, as before.
    relative = {**good[0], "url": "../../files/demo-2.0-py3-none-any.whl"}
    assert all(type(a[0]) is list for a in _encoded_versions(_json_page(relative).encode()))  # type: ignore[index]


@pytest.mark.parametrize(
    "damage",
    [
        {"url": "file:///etc/passwd"},
        {"url": "../../secret.whl"},
        {"url": "https://files.example/demo-1.6-1-py3-none-any.whl#sha256=00"},
        {"hashes": {"sha256": "abc"}},
        {"hashes": ["sha256"]},
        {"yanked": {"reason": "an object"}},
        {"filename": 5},
    ],
    ids=["file-url", "relative-url", "fragment", "short-hash", "hashes-list", "yanked-object", "filename-type"],
)
def test_a_damaged_cached_entry_makes_the_page_parse_again(damage: dict[str, object]) -> None:
    good = [item for item in TRICKY if "not-a-hash" not in str(item)]
    data = _json_page(*good).encode()
    line, _, region = data.partition(b"\n")
    index = json.loads(line)
    blobs = []
    for text, start, end in index["versions"]:
        entries = json.loads(region[start:end])
        if text == "1.6":
            entries = [{**entry, **damage} for entry in entries]
        blobs.append(json.dumps(entries).encode())
    spans, offset = [], 0
    for (text, _, _), blob in zip(index["versions"], blobs, strict=True):
        spans.append([text, offset, offset + len(blob)])
        offset += len(blob)
    planted = json.dumps({**index, "versions": spans}).encode() + b"\n" + b"".join(blobs)
    fresh = _json_page(*good)
    reloads: list[int] = []
    back = ProjectPage.decode(planted, canonicalize_name("demo"), PAGE, True, lambda: reloads.append(1) or _json_page(*good))
    assert back is not None
    assert back.files(Version("2.0")) == fresh.files(Version("2.0")) and reloads == []
    assert back.files(Version("1.6")) == fresh.files(Version("1.6")) and reloads == [1] and back.parses == 1
