"""HTTP and indexes: servers that drip, stall, loop, lie about types and encodings, send bombs,
link local files; several indexes that compete for one name; a wheel that is not what the index
says. Every server is the project's own (varsolve.index.server, its fault switches) on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

from hostile.corpus import CLEAN, WRONG, Outcome, case, expect_clean_error, expect_success, varsolve
from index_helpers import tiny_scenario
from varsolve.index.server import Fault, IndexServer

CATEGORY = "HTTP and indexes"

TINY = tiny_scenario("hostile-http")

# One project, two indexes: what the company publishes, and what anyone can publish elsewhere.
INTERNAL = """
name = "internal"
[root]
requires = ["internal-lib"]
[packages.internal-lib.versions."1.0.0"]
requires_python = ""
"""
PUBLIC = """
name = "public"
[root]
requires = ["internal-lib"]
[packages.internal-lib.versions."99.0.0"]
requires_python = ""
"""

# A variant release on the first index (OpenBLAS only), and the same release on another index
# with a variant the target ranks higher (MKL).
VARIANTS_A = """
name = "variants-a"
[root]
requires = ["numpy"]
[environment.variants]
"blas_lapack :: library" = ["mkl", "openblas"]
[packages.numpy.versions."2.3.0"]
wheel = false
sdist = false
requires_python = ""
[packages.numpy.versions."2.3.0".variants]
openblas = ["blas_lapack :: library :: openblas"]
"""
VARIANTS_B = VARIANTS_A.replace('name = "variants-a"', 'name = "variants-b"').replace(
    'openblas = ["blas_lapack :: library :: openblas"]',
    'mkl = ["blas_lapack :: library :: mkl"]\nopenblas = ["blas_lapack :: library :: openblas"]',
)

# Small timeouts: every case ends in a few seconds.
FAST = ("--timeout", "2", "--retries", "0", "--no-cache", "-q")


def _index(tmp: Path, text: str = TINY, name: str = "index", **options: bool) -> Path:
    from varsolve.index.builder import build_index

    scenario = tmp / f"{name}.toml"
    scenario.write_text(text, encoding="utf-8")
    build_index(scenario, tmp / name, **options)
    return tmp / name


def _resolve(tmp: Path, index_url: str, *more: str, timeout: float = 20) -> subprocess.CompletedProcess[str] | None:
    return varsolve("resolve", "tinyutil", "--index-url", index_url, *FAST, *more, cwd=tmp, timeout=timeout)


def _served(tmp: Path, faults: Sequence[Fault], *, names: Sequence[str] = (), html_only: bool = False, **options: bool) -> Outcome:
    """Resolve ``tinyutil`` from a tiny index served with ``faults``; a clean error naming the
    project page (and ``names``) is expected."""
    root = _index(tmp, **options)
    with IndexServer(root, faults=list(faults), html_only=html_only) as server:
        return expect_clean_error(_resolve(tmp, server.index_url), names=[*names])


def _versions(proc: subprocess.CompletedProcess[str] | None, expected: dict[str, tuple[str, str | None]]) -> Outcome:
    """Exit 0 and exactly ``expected`` (name: (version, variant)) in ``--format json`` output."""
    outcome = expect_success(proc)
    if outcome.kind != CLEAN or proc is None:
        return outcome
    packages = json.loads(proc.stdout)["packages"]
    got = {name: (p["version"], p.get("variant") or None) for name, p in packages.items()}
    return outcome if got == expected else Outcome(WRONG, f"resolved {got}, expected {expected}")


# -- hangs ------------------------------------------------------------------------------------


@case(CATEGORY, "a server that drips one byte per second (--timeout 2 bounds the whole request)")
def drip(tmp: Path) -> Outcome:
    root = _index(tmp)
    with IndexServer(root, faults=[Fault("drip", value=1000, path="/simple/*")]) as server:
        start = time.monotonic()
        outcome = expect_clean_error(_resolve(tmp, server.index_url, timeout=12), names=["/simple/tinyutil/", "timed out"])
    elapsed = time.monotonic() - start
    if outcome.kind == CLEAN and elapsed > 8:
        return Outcome(WRONG, f"--timeout 2 took {elapsed:.1f} s")
    return outcome


@case(CATEGORY, "a server that never answers (--timeout 1 --retries 1)")
def never_answers(tmp: Path) -> Outcome:
    root = _index(tmp)
    with IndexServer(root, faults=[Fault("stall")]) as server:
        proc = varsolve(
            "resolve", "tinyutil", "--index-url", server.index_url, "--timeout", "1", "--retries", "1", "--no-cache", "-q",
            cwd=tmp, timeout=10,
        )
        return expect_clean_error(proc, names=["/simple/tinyutil/", "timed out (after 2 attempts)"])


@case(CATEGORY, "a server that never answers, with the default timeouts (said in --help)")
def default_timeouts(tmp: Path) -> Outcome:
    from varsolve.sources import SourceSettings

    defaults = SourceSettings()
    worst = (defaults.retries + 1) * defaults.timeout + sum(defaults.backoff * 2**i for i in range(defaults.retries))
    if worst > 60:
        return Outcome(WRONG, f"a dead server costs {worst:.0f} s with the defaults")
    proc = varsolve("resolve", "--help", cwd=tmp)
    if proc is None or f"default: {defaults.timeout:g}" not in " ".join(proc.stdout.split()):
        return Outcome(WRONG, "--help does not say the default timeout")
    if f"about {worst:.0f} s" not in " ".join(proc.stdout.split()):
        return Outcome(WRONG, "--help does not say how long a dead server costs")
    return Outcome(CLEAN)


# -- redirects, encodings, types -----------------------------------------------------------------


@case(CATEGORY, "a redirect loop")
def redirect_loop(tmp: Path) -> Outcome:
    return _served(tmp, [Fault("redirect-loop", path="/simple/tinyutil/")], names=["/simple/tinyutil/", "redirects"])


@case(CATEGORY, "a redirect to a file:// URL of a page on this machine")
def redirect_to_file(tmp: Path) -> Outcome:
    decoy = _index(tmp, TINY.replace("1.1.0", "9.9.0"), name="decoy")
    target = (decoy / "simple" / "tinyutil" / "index.html").as_uri()
    return _served(tmp, [Fault("redirect", path="/simple/tinyutil/", text=target)], names=["/simple/tinyutil/", "file://"])


@case(CATEGORY, "a project page linking file:// URLs")
def file_links(tmp: Path) -> Outcome:
    return _served(tmp, [Fault("file-links", path="/simple/*")], names=["/simple/tinyutil/", "file://"])


@case(CATEGORY, "an HTML page whose <base href> is a file:// URL")
def base_file(tmp: Path) -> Outcome:
    return _served(tmp, [Fault("base-file", path="/simple/*")], names=["/simple/tinyutil/", "file://"], html_only=True)


@case(CATEGORY, "Content-Encoding: gzip on a body that is not gzip")
def gzip_garbage(tmp: Path) -> Outcome:
    return _served(tmp, [Fault("gzip-garbage", path="/simple/*")], names=["/simple/tinyutil/", "Content-Encoding"])


@case(CATEGORY, "a JSON project page served as text/html")
def json_as_html(tmp: Path) -> Outcome:
    return _served(tmp, [Fault("content-type", path="/simple/tinyutil/", text="text/html")], names=["/simple/tinyutil/", "JSON"])


@case(CATEGORY, "a JSON project page served as text/plain")
def json_as_plain(tmp: Path) -> Outcome:
    faults = [Fault("content-type", path="/simple/tinyutil/", text="text/plain")]
    return _served(tmp, faults, names=["/simple/tinyutil/", "text/plain"])


def _yanked_object_on(tmp: Path, version: str) -> Path:
    """The tiny index with ``yanked`` an object on the files of tinyutil ``version``."""
    root = _index(tmp)
    page = root / "simple" / "tinyutil" / "index.json"
    doc = json.loads(page.read_text(encoding="utf-8"))
    for entry in doc["files"]:
        if entry["filename"].startswith(f"tinyutil-{version}"):
            entry["yanked"] = {"reason": "broken"}
    page.write_text(json.dumps(doc), encoding="utf-8")
    return root


@case(CATEGORY, "yanked given as an object in a JSON page")
def yanked_object(tmp: Path) -> Outcome:
    with IndexServer(_yanked_object_on(tmp, "1.1.0")) as server:
        return expect_clean_error(_resolve(tmp, server.index_url), names=["/simple/tinyutil/", "yanked"])


@case(CATEGORY, "yanked given as an object on a release the search never reads")
def yanked_object_unread(tmp: Path) -> Outcome:
    # A JSON page's entries are checked when their release is read (issue 15: a malformed
    # release the search never needs must not fail the run).
    with IndexServer(_yanked_object_on(tmp, "1.0.0")) as server:
        return _versions(_resolve(tmp, server.index_url, "--format", "json"), {"tinyutil": ("1.1.0", None)})


# -- bombs --------------------------------------------------------------------------------------


@case(CATEGORY, "a JSON project page nested 100,000 deep")
def page_nesting_bomb(tmp: Path) -> Outcome:
    return _served(tmp, [Fault("nest", value=100_000, path="/simple/tinyutil/")], names=["/simple/tinyutil/"])


@case(CATEGORY, "a served *-variants.json nested 100,000 deep (its hash on the page matches)")
def variants_nesting_bomb(tmp: Path) -> Outcome:
    root = _index(tmp, VARIANTS_A)
    _replace_file(root, "numpy", "numpy-2.3.0-variants.json", b"[" * 100_000 + b"]" * 100_000)
    with IndexServer(root) as server:
        proc = varsolve("resolve", "--scenario", str(tmp / "index.toml"), "--index-url", server.index_url, *FAST, cwd=tmp)
    # Invalid variant metadata makes the release's variant wheels unusable, not the run: the
    # resolver explains (exit 1) which file and why.
    if proc is None or "Traceback (most recent call last)" in proc.stdout + proc.stderr or proc.returncode not in (1, 2):
        return expect_clean_error(proc)
    said = proc.stdout + proc.stderr
    if "numpy-2.3.0-variants.json" not in said or "nested too deeply" not in said:
        return Outcome(WRONG, f"the answer does not name the file and the problem: {said[-500:]}")
    return Outcome(CLEAN, said.strip().splitlines()[-1])


def _replace_file(root: Path, project: str, filename: str, content: bytes) -> None:
    """Give ``filename`` another content, and its pages the new sha256 and size."""
    path = root / "files" / filename
    old, new = hashlib.sha256(path.read_bytes()).hexdigest(), hashlib.sha256(content).hexdigest()
    path.write_bytes(content)
    html = root / "simple" / project / "index.html"
    html.write_text(html.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    page = root / "simple" / project / "index.json"
    doc = json.loads(page.read_text(encoding="utf-8"))
    for item in doc["files"]:
        if item["filename"] == filename:
            item["hashes"] = {"sha256": new}
            item["size"] = len(content)
    page.write_text(json.dumps(doc), encoding="utf-8")


@case(CATEGORY, "a 300 MB .metadata file (streamed by the server, refused past the limit)")
def huge_metadata(tmp: Path) -> Outcome:
    return _served(tmp, [Fault("huge", value=300_000_000, path="*.metadata")], names=[".metadata", "larger than 16 MiB"])


@case(CATEGORY, "a 300 MB project page")
def huge_page(tmp: Path) -> Outcome:
    faults = [Fault("huge", value=300_000_000, path="/simple/tinyutil/")]
    return _served(tmp, faults, names=["/simple/tinyutil/", "larger than 64 MiB"])


@case(CATEGORY, "an sdist larger than the size its index announces")
def huge_sdist(tmp: Path) -> Outcome:
    root = _index(tmp, metadata_files=False)
    with IndexServer(root, faults=[Fault("huge", value=300_000_000, path="*.tar.gz")]) as server:
        proc = _resolve(tmp, server.index_url, "--no-binary", ":all:")
        return expect_clean_error(proc, names=[".tar.gz", "the index announced"])


# -- URLs ---------------------------------------------------------------------------------------


@case(CATEGORY, "--index-url that is not a URL")
def index_url_not_a_url(tmp: Path) -> Outcome:
    for url in ("pypi.org/simple", "http://[::1/simple/", "http://host:99999/simple/", "https:///simple/", "http://a b/"):
        outcome = expect_clean_error(_resolve(tmp, url), names=[url])
        if outcome.kind != CLEAN:
            return Outcome(outcome.kind, f"{url}: {outcome.detail}")
    return outcome


@case(CATEGORY, "--extra-index-url that is not a URL")
def extra_index_url_not_a_url(tmp: Path) -> Outcome:
    root = _index(tmp)
    with IndexServer(root) as server:
        return expect_clean_error(_resolve(tmp, server.index_url, "--extra-index-url", "http://[::1"), names=["http://[::1"])


# -- dependency confusion -----------------------------------------------------------------------


@case(CATEGORY, "a higher version of an internal package on --extra-index-url")
def confusion_extra_index(tmp: Path) -> Outcome:
    internal, public = _index(tmp, INTERNAL, "internal"), _index(tmp, PUBLIC, "public")
    with IndexServer(internal) as a, IndexServer(public) as b:
        proc = varsolve(
            "resolve", "internal-lib", "--index-url", a.index_url, "--extra-index-url", b.index_url, *FAST,
            "--format", "json", cwd=tmp,
        )
    return _versions(proc, {"internal-lib": ("1.0.0", None)})


@case(CATEGORY, "a higher version of an internal package in a --find-links folder")
def confusion_find_links(tmp: Path) -> Outcome:
    internal, public = _index(tmp, INTERNAL, "internal"), _index(tmp, PUBLIC, "public")
    with IndexServer(internal) as a:
        proc = varsolve(
            "resolve", "internal-lib", "--index-url", a.index_url, "--find-links", str(public / "files"), *FAST,
            "--format", "json", cwd=tmp,
        )
    return _versions(proc, {"internal-lib": ("1.0.0", None)})


@case(CATEGORY, "another index adds a better variant to a release of the first (unsafe-best-match)")
def confusion_variant(tmp: Path) -> Outcome:
    first, other = _index(tmp, VARIANTS_A, "a"), _index(tmp, VARIANTS_B, "b")
    with IndexServer(first) as a, IndexServer(other) as b:
        proc = varsolve(
            "resolve", "--scenario", str(tmp / "a.toml"), "--index-url", a.index_url, "--extra-index-url", b.index_url,
            "--index-strategy", "unsafe-best-match", *FAST, "--format", "json", cwd=tmp,
        )
    return _versions(proc, {"numpy": ("2.3.0", "openblas")})


# -- a wheel that is not what the index says ----------------------------------------------------


def _padded(wheel: Path) -> bytes:
    """``wheel`` with 256 KiB of incompressible data first: its METADATA and central directory
    stay in the last 64 KiB, which is all a Range read fetches."""
    out = io.BytesIO()
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(out, "w") as target:
        target.writestr(zipfile.ZipInfo("tinyutil/padding.bin"), os.urandom(256 * 1024))
        for info in source.infolist():
            target.writestr(info, source.read(info))
    return out.getvalue()


@case(CATEGORY, "a wheel whose sha256 is not the index's, read by Range (refused at install)")
def range_read_hash_mismatch(tmp: Path) -> Outcome:
    root = _index(tmp, metadata_files=False)
    wheel = root / "files" / "tinyutil-1.1.0-py3-none-any.whl"
    wheel.write_bytes(_padded(wheel))  # the page keeps the original's sha256 and size
    lock = tmp / "pylock.toml"
    with IndexServer(root) as server:
        proc = varsolve("lock", "tinyutil", "--index-url", server.index_url, *FAST, "-o", str(lock), cwd=tmp)
        if proc is None or proc.returncode != 0:
            # Refusing at lock time is as good: the hash was checked before the file was used.
            return expect_clean_error(proc, names=["tinyutil-1.1.0-py3-none-any.whl"])
        venv = tmp / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        proc = varsolve("install", str(lock), "--python", str(venv / "bin" / "python"), "-q", cwd=tmp)
    outcome = expect_clean_error(proc, names=["tinyutil-1.1.0-py3-none-any.whl"])
    installed = list((venv / "lib").glob("python*/site-packages/tinyutil*"))
    if outcome.kind == CLEAN and installed:
        return Outcome(WRONG, f"installed {installed}")
    return outcome
