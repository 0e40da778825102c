"""Caches: entries replaced by garbage, by symlinks to files outside the cache (a secret, a FIFO,
/dev/zero), by folders; folders of the cache symlinked elsewhere; entries crafted to look valid
but nested as a bomb; several runs sharing one cache directory at once. The cache is only ever a
way to be fast: the answer must stay right, nothing outside it may change, nothing may hang."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

from hostile.corpus import CLEAN, DATA_LOSS, WRONG, Outcome, case, expect_success, tree_snapshot, varsolve
from varsolve.index.server import IndexServer

CATEGORY = "caches"

TINY = """
name = "hostile-cache"
[root]
requires = ["tinyutil"]
[packages.tinyutil.versions."1.1.0"]
requires_python = ""
requires = ["helper"]
[packages.tinyutil.versions."1.0.0"]
requires_python = ""
[packages.helper.versions."2.0.0"]
requires_python = ""
"""


def _index(tmp: Path) -> Path:
    from varsolve.index.builder import build_index

    scenario = tmp / "index.toml"
    scenario.write_text(TINY, encoding="utf-8")
    build_index(scenario, tmp / "index")
    return tmp / "index"


def _resolve(tmp: Path, index_url: str, timeout: float = 20) -> subprocess.CompletedProcess[str] | None:
    """Through the cache in ``tmp/.cache`` (corpus.varsolve sets VARSOLVE_CACHE_DIR)."""
    return varsolve(
        "resolve", "tinyutil", "--index-url", index_url, "--timeout", "2", "--retries", "0", "-q", "--format", "json",
        cwd=tmp, timeout=timeout,
    )


def _packages(proc: subprocess.CompletedProcess[str] | None) -> dict[str, str] | None:
    if proc is None or proc.returncode != 0:
        return None
    return {name: p["version"] for name, p in json.loads(proc.stdout)["packages"].items()}


EXPECTED = {"tinyutil": "1.1.0", "helper": "2.0.0"}


def _entries(cache: Path) -> Iterator[Path]:
    for kind in ("http", "derived", "pages"):
        yield from sorted(p for p in (cache / kind).rglob("*") if p.is_file() and not p.is_symlink())


def _damaged_then_again(tmp: Path, damage: Callable[[Path], None], *, outside: Path | None = None) -> Outcome:
    """A run fills the cache, ``damage`` spoils it (and makes ``outside``: files that must not
    change), a second run must give the same answer without a traceback, hang or write outside."""
    root = _index(tmp)
    with IndexServer(root) as server:
        first = _resolve(tmp, server.index_url)
        outcome = expect_success(first)
        if outcome.kind != CLEAN:
            return Outcome(outcome.kind, "the first run: " + outcome.detail)
        cache = tmp / ".cache"
        if not any(_entries(cache)):
            return Outcome(WRONG, "the first run left no cache entries")
        damage(cache)
        before = tree_snapshot(outside) if outside is not None else {}
        second = _resolve(tmp, server.index_url, timeout=15)
    outcome = expect_success(second)
    if outcome.kind != CLEAN:
        return outcome
    if _packages(second) != EXPECTED:
        return Outcome(WRONG, f"resolved {_packages(second)} from a damaged cache, expected {EXPECTED}")
    if outside is not None and tree_snapshot(outside) != before:
        return Outcome(DATA_LOSS, f"files outside the cache changed: {outside}")
    return outcome


@case(CATEGORY, "every entry replaced by garbage")
def garbage(tmp: Path) -> Outcome:
    def damage(cache: Path) -> None:
        for i, entry in enumerate(_entries(cache)):
            entry.write_bytes(os.urandom(64 + i))

    return _damaged_then_again(tmp, damage)


@case(CATEGORY, "every entry truncated to its head")
def truncated(tmp: Path) -> Outcome:
    def damage(cache: Path) -> None:
        for entry in _entries(cache):
            data = entry.read_bytes()
            entry.write_bytes(data[: data.index(b"\n", data.index(b"\n") + 1) + 1])

    return _damaged_then_again(tmp, damage)


@case(CATEGORY, "JSON nested 100,000 deep: in entries' heads, and as parsed metadata with a valid checksum")
def nesting_bomb(tmp: Path) -> Outcome:
    bomb = b"[" * 100_000 + b"]" * 100_000

    def damage(cache: Path) -> None:
        entries = list(_entries(cache))
        for i, entry in enumerate(entries):
            magic, _, rest = entry.read_bytes().partition(b"\n")
            head_line, _, content = rest.partition(b"\n")
            head = json.loads(head_line)
            if head["key"].startswith(("parsed ", "parsed-page ")):  # parsed metadata or page: a valid entry of a bomb
                head["sha256"] = hashlib.sha256(bomb).hexdigest()
                entry.write_bytes(magic + b"\n" + json.dumps(head).encode() + b"\n" + bomb)
            elif i % 2:  # a head line that is itself the bomb
                entry.write_bytes(magic + b"\n" + bomb + b"\n" + content)

    return _damaged_then_again(tmp, damage)


@case(CATEGORY, "every entry a symlink to a file outside the cache")
def symlink_outside(tmp: Path) -> Outcome:
    outside = tmp / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("do not read or overwrite\n", encoding="utf-8")

    def damage(cache: Path) -> None:
        for entry in _entries(cache):
            entry.unlink()
            entry.symlink_to(secret)

    return _damaged_then_again(tmp, damage, outside=outside)


@case(CATEGORY, "every entry a symlink to a valid entry outside the cache")
def symlink_valid_outside(tmp: Path) -> Outcome:
    outside = tmp / "outside"

    def damage(cache: Path) -> None:
        outside.mkdir()
        for i, entry in enumerate(_entries(cache)):
            copy = outside / f"entry-{i}"
            copy.write_bytes(entry.read_bytes())
            entry.unlink()
            entry.symlink_to(copy)

    return _damaged_then_again(tmp, damage, outside=outside)


@case(CATEGORY, "entries that are symlinks to a FIFO and to /dev/zero")
def symlink_fifo_and_zero(tmp: Path) -> Outcome:
    fifo = tmp / "fifo"
    os.mkfifo(fifo)

    def damage(cache: Path) -> None:
        for i, entry in enumerate(_entries(cache)):
            entry.unlink()
            entry.symlink_to(fifo if i % 2 else Path("/dev/zero"))

    return _damaged_then_again(tmp, damage)


@case(CATEGORY, "every entry replaced by a folder")
def folders(tmp: Path) -> Outcome:
    def damage(cache: Path) -> None:
        for entry in _entries(cache):
            entry.unlink()
            entry.mkdir()
            (entry / "x").write_text("x", encoding="utf-8")

    return _damaged_then_again(tmp, damage)


@case(CATEGORY, "the cache's folders symlinked to a folder outside it")
def folder_symlinks(tmp: Path) -> Outcome:
    outside = tmp / "outside"

    def damage(cache: Path) -> None:
        outside.mkdir()
        (outside / "keep.txt").write_text("keep\n", encoding="utf-8")
        for kind in ("http", "derived", "pages"):
            for folder in sorted((cache / kind).iterdir()):
                for entry in folder.iterdir():
                    entry.unlink()
                folder.rmdir()
                folder.symlink_to(outside, target_is_directory=True)

    return _damaged_then_again(tmp, damage, outside=outside)


@case(CATEGORY, "--cache-dir is a regular file")
def cache_dir_is_a_file(tmp: Path) -> Outcome:
    root = _index(tmp)
    not_a_dir = tmp / "cache-file"
    not_a_dir.write_text("not a folder\n", encoding="utf-8")
    with IndexServer(root) as server:
        proc = varsolve(
            "resolve", "tinyutil", "--index-url", server.index_url, "--cache-dir", str(not_a_dir), "--timeout", "2",
            "--retries", "0", "-q", "--format", "json", cwd=tmp,
        )
    outcome = expect_success(proc)
    if outcome.kind == CLEAN and _packages(proc) != EXPECTED:
        return Outcome(WRONG, f"resolved {_packages(proc)}")
    if not_a_dir.read_text(encoding="utf-8") != "not a folder\n":
        return Outcome(DATA_LOSS, "the file named by --cache-dir was overwritten")
    return outcome


@case(CATEGORY, "six runs at once on one empty cache directory")
def concurrent_runs(tmp: Path) -> Outcome:
    from concurrent.futures import ThreadPoolExecutor

    root = _index(tmp)
    with IndexServer(root) as server, ThreadPoolExecutor(6) as pool:
        runs = list(pool.map(lambda _: _resolve(tmp, server.index_url, timeout=60), range(6)))
        again = _resolve(tmp, server.index_url)
    for proc in [*runs, again]:
        outcome = expect_success(proc)
        if outcome.kind != CLEAN:
            return outcome
        if _packages(proc) != EXPECTED:
            return Outcome(WRONG, f"resolved {_packages(proc)}")
    leftovers = list((tmp / ".cache").rglob(".tmp-*"))
    if leftovers:
        return Outcome(DATA_LOSS, f"temporary files left behind: {leftovers[:3]}")
    return Outcome(CLEAN)
