"""The packse 0.3.59 scenarios, fetched from the package registry into a cache.

The sdist is never committed: it is downloaded once into ``~/.cache/varsolve-tests/``, its
sha256 checked, and only ``scenarios/**/*.toml`` extracted. Used by tests/test_packse.py and
benchmarks/packse_suite.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

PACKSE_VERSION = "0.3.59"
SDIST = f"packse-{PACKSE_VERSION}.tar.gz"
SDIST_SHA256 = "718bcca5dd1e9321f5c2918d5975ffd772f0c3b150cf29b03979677a003d73d2"
SIMPLE_INDEX = "https://pypi.org/simple/packse/"
CACHE = Path(os.environ.get("VARSOLVE_TEST_CACHE", Path.home() / ".cache" / "varsolve-tests"))
SCENARIOS = CACHE / f"packse-{PACKSE_VERSION}" / "scenarios"


class PackseUnavailable(Exception):
    """The sdist could not be fetched or does not match its pinned hash."""


def packse_scenarios_dir(timeout: float = 30.0) -> Path:
    """The extracted ``scenarios`` folder, downloading the sdist first if it is not cached.

    Concurrent callers (pytest-xdist workers collecting at the same time) take turns on a lock
    file in the cache: one downloads, the others find the folder there."""
    if SCENARIOS.is_dir():
        return SCENARIOS
    CACHE.mkdir(parents=True, exist_ok=True)
    with _lock(CACHE / f"packse-{PACKSE_VERSION}.lock"):
        if SCENARIOS.is_dir():
            return SCENARIOS
        archive = CACHE / SDIST
        if not (archive.is_file() and _sha256(archive) == SDIST_SHA256):
            _download(archive, timeout)
        _extract(archive)
    return SCENARIOS


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (released when the process dies); none on Windows."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the writes below are atomic anyway
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def non_universal_scenarios(root: Path) -> list[Path]:
    """Scenario files that do not ask for universal resolution (varsolve resolves one target)."""
    files = []
    for path in sorted(root.rglob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if not data.get("resolver_options", {}).get("universal", False):
            files.append(path)
    return files


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _download(archive: Path, timeout: float) -> None:
    import httpx

    try:
        page = httpx.get(SIMPLE_INDEX, timeout=timeout, follow_redirects=True)
        page.raise_for_status()
        match = re.search(rf'href="([^"#]*/{re.escape(SDIST)})(#[^"]*)?"', page.text)
        if match is None:
            raise PackseUnavailable(f"{SIMPLE_INDEX} does not list {SDIST}")
        response = httpx.get(match.group(1), timeout=timeout, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise PackseUnavailable(f"cannot download {SDIST}: {exc!r}") from None
    digest = hashlib.sha256(response.content).hexdigest()
    if digest != SDIST_SHA256:
        raise PackseUnavailable(f"{SDIST}: sha256 {digest} does not match the pinned {SDIST_SHA256}")
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(f"{archive.name}.{os.getpid()}.part")
    tmp.write_bytes(response.content)
    tmp.replace(archive)


def _extract(archive: Path) -> None:
    prefix = f"packse-{PACKSE_VERSION}/scenarios/"
    staging = Path(tempfile.mkdtemp(prefix="packse-", dir=CACHE))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [
                m for m in tar.getmembers() if m.isfile() and m.name.startswith(prefix) and m.name.endswith(".toml")
            ]
            for member in members:
                if ".." in Path(member.name).parts:
                    raise PackseUnavailable(f"{SDIST}: unsafe member {member.name!r}")
            if hasattr(tarfile, "data_filter"):
                tar.extractall(staging, members=members, filter="data")
            else:  # Python < 3.11.4; the members were checked above
                tar.extractall(staging, members=members)
        target = SCENARIOS.parent
        try:
            (staging / f"packse-{PACKSE_VERSION}").rename(target)
        except OSError:
            if not SCENARIOS.is_dir():  # not merely a concurrent extraction that won the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
