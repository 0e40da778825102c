"""The index server: negotiation, ranges, validators and fault switches, over real loopback HTTP."""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from conftest import SCENARIOS, varsolve_command
from varsolve.errors import InputError
from varsolve.index.builder import build_index
from varsolve.index.server import Fault, IndexServer, parse_fault

PIP_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
WHEEL = "files/numpy-2.3.0-py3-none-any-mkl.whl"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("served") / "index"
    build_index(SCENARIOS / "variants" / "blas-unify.toml", out)
    return out


@pytest.fixture
def server(index_dir: Path):
    with IndexServer(index_dir, page_max_age=0) as srv:
        yield srv


def get(server: IndexServer, path: str, **headers: str) -> httpx.Response:
    return httpx.get(server.url + path.lstrip("/"), headers=headers, timeout=5)


def test_content_negotiation(server: IndexServer, index_dir: Path) -> None:
    r = get(server, "simple/numpy/", Accept=PIP_ACCEPT)
    assert r.headers["content-type"] == "application/vnd.pypi.simple.v1+json"
    assert r.content == (index_dir / "simple/numpy/index.json").read_bytes()
    assert r.headers["vary"] == "Accept"
    for accept in ("text/html", "*/*", "application/vnd.pypi.simple.v1+html"):
        r = get(server, "simple/numpy/", Accept=accept)
        assert r.content == (index_dir / "simple/numpy/index.html").read_bytes(), accept
    assert "html" in get(server, "simple/numpy/").headers["content-type"]  # no Accept: HTML
    r = get(server, "simple/numpy/?format=application/vnd.pypi.simple.v1+json")
    assert r.json()["name"] == "numpy"
    assert get(server, "simple/numpy/", Accept="application/xml").status_code == 406
    assert get(server, "simple/", Accept=PIP_ACCEPT).json()["projects"][0]["name"] == "mkl-runtime"
    with IndexServer(index_dir, html_only=True) as plain:
        assert "html" in get(plain, "simple/numpy/", Accept=PIP_ACCEPT).headers["content-type"]


def test_redirects_and_not_found(server: IndexServer) -> None:
    r = httpx.get(server.url + "simple/numpy", timeout=5)
    assert r.status_code == 301 and r.headers["location"] == "/simple/numpy/"
    assert get(server, "simple/no-such-project/").status_code == 404
    assert get(server, "simple/../../../etc/passwd").status_code == 404
    assert get(server, "files/%2e%2e/%2e%2e/etc/passwd").status_code == 404


def test_ranges(server: IndexServer, index_dir: Path) -> None:
    data = (index_dir / WHEEL).read_bytes()
    size = len(data)
    r = get(server, WHEEL, Range="bytes=10-19")
    assert r.status_code == 206 and r.content == data[10:20] and r.headers["content-range"] == f"bytes 10-19/{size}"
    r = get(server, WHEEL, Range="bytes=-100")
    assert r.status_code == 206 and r.content == data[-100:]
    r = get(server, WHEEL, Range=f"bytes={size - 5}-")
    assert r.content == data[-5:]
    r = get(server, WHEEL, Range="bytes=0-3,-4")
    assert r.status_code == 206 and r.headers["content-type"].startswith("multipart/byteranges")
    message = email.message_from_bytes(
        b"Content-Type: " + r.headers["content-type"].encode() + b"\r\n\r\n" + r.content
    )
    parts = [(p["Content-Range"], p.get_payload(decode=True)) for p in message.get_payload()]
    assert parts == [(f"bytes 0-3/{size}", data[:4]), (f"bytes {size - 4}-{size - 1}/{size}", data[-4:])]
    assert get(server, WHEEL, Range=",".join(["0-1"] * 17)).status_code == 200  # too many: ignored
    assert get(server, WHEEL, Range="bytes=z-9").status_code == 200  # invalid: ignored
    r = get(server, WHEEL, Range=f"bytes={size}-")
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{size}"
    etag = get(server, WHEEL).headers["etag"]
    assert get(server, WHEEL, Range="bytes=0-1", **{"If-Range": etag}).status_code == 206
    assert get(server, WHEEL, Range="bytes=0-1", **{"If-Range": '"other"'}).status_code == 200
    head = httpx.head(server.url + WHEEL, timeout=5)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) == size


def test_validators_and_cache_control(server: IndexServer) -> None:
    r = get(server, "simple/numpy/", Accept=PIP_ACCEPT)
    assert r.headers["cache-control"] == "max-age=0, public"
    again = get(server, "simple/numpy/", Accept=PIP_ACCEPT, **{"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    html_etag = get(server, "simple/numpy/", Accept="text/html").headers["etag"]
    assert html_etag != r.headers["etag"]  # one ETag per representation
    assert get(server, "simple/numpy/", Accept=PIP_ACCEPT, **{"If-None-Match": html_etag}).status_code == 200
    since = get(server, "simple/numpy/", **{"If-Modified-Since": r.headers["last-modified"]})
    assert since.status_code == 304
    assert "immutable" in get(server, WHEEL).headers["cache-control"]
    assert server.stats.not_modified == 2


def test_fault_specs() -> None:
    f = parse_fault("http500:2@/simple/*")
    assert (f.kind, f.times, f.path) == ("http500", 2, "/simple/*")
    assert parse_fault("delay=25").value == 25.0 and parse_fault("drop").times is None
    with pytest.raises(InputError):
        parse_fault("explode")
    with pytest.raises(InputError):
        parse_fault("drop:many")


def test_faults_fire_as_configured(index_dir: Path) -> None:
    faults = [Fault("http500", times=2, path="/simple/numpy/"), Fault("drop", times=1, path="/simple/scipy/")]
    with IndexServer(index_dir, faults=faults) as srv:
        assert [get(srv, "simple/numpy/").status_code for _ in range(3)] == [500, 500, 200]
        with pytest.raises(httpx.RemoteProtocolError):
            get(srv, "simple/scipy/")
        assert get(srv, "simple/scipy/").status_code == 200
        assert srv.stats.by_path["/simple/numpy/"] == 3
    with IndexServer(index_dir, faults=[Fault("truncate", path="/files/*")]) as srv:
        with pytest.raises(httpx.RemoteProtocolError):
            get(srv, WHEEL)
    with IndexServer(index_dir, faults=[Fault("malformed")]) as srv:
        with pytest.raises(json.JSONDecodeError):
            get(srv, "simple/numpy/", Accept=PIP_ACCEPT).json()
        with pytest.raises(UnicodeDecodeError):
            get(srv, "simple/numpy/").content.decode("utf-8")
    with IndexServer(index_dir, faults=[Fault("wrong-hash")]) as srv:
        page = get(srv, "simple/numpy/", Accept=PIP_ACCEPT).json()
        real = json.loads((index_dir / "simple/numpy/index.json").read_text())
        assert page["files"][0]["hashes"] != real["files"][0]["hashes"]
    with IndexServer(index_dir, faults=[Fault("not-zip"), Fault("no-range")]) as srv:
        r = get(srv, WHEEL, Range="bytes=0-3")
        assert r.status_code == 200 and not r.content.startswith(b"PK")
    with IndexServer(index_dir, faults=[Fault("stall")]) as srv:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(srv.url + "simple/", timeout=0.3)
    with IndexServer(index_dir, faults=[Fault("delay", value=200)]) as srv:
        start = time.monotonic()
        assert get(srv, "simple/").status_code == 200
        assert time.monotonic() - start >= 0.2


def test_serve_command_runs_and_stops(index_dir: Path) -> None:
    proc = subprocess.Popen(
        [*varsolve_command(), "index", "serve", str(index_dir), "--port", "0"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stderr.readline()
        assert line.startswith("varsolve: serving") and "/simple/" in line
        url = line.split(" at ")[1].split()[0]
        assert httpx.get(url + "numpy/", timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_serve_rejects_a_directory_that_is_not_an_index(tmp_path: Path) -> None:
    r = subprocess.run([*varsolve_command(), "index", "serve", str(tmp_path), "--port", "0"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "not an index directory" in r.stderr and len(r.stderr.strip().splitlines()) == 1
