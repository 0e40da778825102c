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
