"""Where packages come from, as chosen by the user.

Every command that reads packages (``resolve``, ``lock``, ...) describes its sources as a
:class:`SourceSettings` and opens them with :func:`varsolve.sources.open_repository`; the
command line builds the settings in :mod:`varsolve.commands.options`.

No index is built in: an index URL is given, or comes from the variables pip and uv users
already set (:data:`INDEX_URL_VARIABLES`, first one set wins, see
:func:`index_url_from_environment`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from ..reporter import Reporter

INDEX_URL_VARIABLES = ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL")
# uv's names and meanings (uv's third, unsafe-first-match, is not offered).
INDEX_STRATEGIES = ("first-index", "unsafe-best-match")
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


@dataclass(frozen=True)
class NetworkLimits:
    """The most varsolve reads over the network for one response, by what it is: far above any
    real file, so that only a broken or hostile server meets them (docs/index.md, "Limits").
    A body past its limit is refused with a one-line error naming the URL; bodies are read as
    streams, so a refused one never sits in memory whole. A file whose size the index announces
    may not be larger than that."""

    page: int = 64 * MiB  # a project page (pypi.org's largest are a few MB)
    metadata: int = 16 * MiB  # a .metadata file (PEP 658)
    variants_json: int = 16 * MiB  # a *-variants.json file (PEP 825)
    wheel_range: int = 64 * MiB  # one Range answer from a wheel (its central directory, a member)
    download: int = 2 * GiB  # a whole distribution (an sdist to read or build, a wheel sent whole)
    # A request has --timeout seconds, plus one second for every min_rate bytes it received:
    # a large file that keeps arriving is not cut off, a server dripping bytes is.
    min_rate: int = 64 * KiB


@dataclass(frozen=True)
class SourceSettings:
    """Package sources and how to reach them.

    ``index_urls`` are simple indexes (PEP 503/691) in order of preference, ``find_links``
    folders of wheels, sdists and ``*-variants.json``, asked after the indexes; how several
    sources combine is ``index_strategy``'s business.
    """

    index_urls: tuple[str, ...] = ()
    find_links: tuple[str | Path, ...] = ()
    cache_dir: str | Path | None = None  # None: default_cache_dir()
    no_cache: bool = False  # neither read nor write the cache
    refresh: bool = False  # revalidate every cached page and metadata (immutable files excepted)
    refresh_packages: frozenset[str] = frozenset()  # the same for these projects only
    offline: bool = False  # no network: only the cache; what it lacks is an error
    # Seconds one request may take, start to last byte (more for a large file that keeps
    # arriving: NetworkLimits.min_rate); a server that never answers costs (retries + 1) x timeout.
    timeout: float = 10.0
    retries: int = 2  # on connection errors, timeouts, 429 and 5xx
    backoff: float = 0.25  # seconds before the first retry, doubled for each further one
    workers: int = 8  # prefetch threads; 0: fetch only what the resolver asks for, when it asks
    prefetch: int = 1  # newest versions whose metadata is fetched as soon as a page arrives
    # Sdists whose metadata is dynamic: build it (PEP 517, in an isolated environment whose
    # build requirements come from these same sources); False: such an sdist is rejected
    # (BuildError) rather than built. build_timeout bounds the backend's hooks, in seconds.
    builds: bool = True
    build_timeout: float = 120.0
    # Several sources: "first-index" (the default, as uv's) takes a project from the first
    # source that lists it, and only from that one; "unsafe-best-match" takes every version
    # from every source, a version listed by several from the first of them (as uv's).
    index_strategy: str = "first-index"
    limits: NetworkLimits = field(default_factory=NetworkLimits)
    # The process is this command alone (the command line sets it): the source may tune what
    # belongs to the whole process (sources.http.bound_malloc); a library never does.
    tune_process: bool = False
    # Progress; None: none shown. Not part of equality: it says who watches, not what is read.
    reporter: Reporter | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Lists are welcome as input; stored as tuples so that settings stay hashable.
        object.__setattr__(self, "index_urls", tuple(self.index_urls))
        object.__setattr__(self, "find_links", tuple(self.find_links))
        object.__setattr__(self, "refresh_packages", frozenset(canonicalize_name(n) for n in self.refresh_packages))
        if self.index_strategy not in INDEX_STRATEGIES:
            from ..errors import InputError

            raise InputError(f"unknown index strategy {self.index_strategy!r} (choose from {', '.join(INDEX_STRATEGIES)})")

    @property
    def names_a_source(self) -> bool:
        return bool(self.index_urls or self.find_links)


def index_url_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """The index URL of pip's or uv's environment variables (:data:`INDEX_URL_VARIABLES`)."""
    env = os.environ if environ is None else environ
    for variable in INDEX_URL_VARIABLES:
        value = env.get(variable, "").strip()
        if value:
            return value
    return None
