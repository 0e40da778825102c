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


@dataclass(frozen=True)
class SourceSettings:
    """Package sources and how to reach them.

    ``index_urls`` are simple indexes (PEP 503/691) in order of preference, ``find_links``
    folders of wheels, sdists and ``*-variants.json``; the first source that lists a filename
    wins.
    """

    index_urls: tuple[str, ...] = ()
    find_links: tuple[str | Path, ...] = ()
    cache_dir: str | Path | None = None  # None: default_cache_dir()
    no_cache: bool = False  # neither read nor write the cache
    refresh: bool = False  # revalidate every cached page and metadata (immutable files excepted)
    refresh_packages: frozenset[str] = frozenset()  # the same for these projects only
    offline: bool = False  # no network: only the cache; what it lacks is an error
    timeout: float = 30.0  # seconds per request
    retries: int = 3  # on connection errors, timeouts, 429 and 5xx
    backoff: float = 0.25  # seconds before the first retry, doubled for each further one
    workers: int = 8  # prefetch threads; 0: fetch only what the resolver asks for, when it asks
    prefetch: int = 2  # newest versions whose metadata is fetched as soon as a page arrives
    # Sdists whose metadata is dynamic: build it (PEP 517, in an isolated environment whose
    # build requirements come from these same sources); False: such an sdist is rejected
    # (BuildError) rather than built. build_timeout bounds the backend's hooks, in seconds.
    builds: bool = True
    build_timeout: float = 120.0
    # Progress; None: none shown. Not part of equality: it says who watches, not what is read.
    reporter: Reporter | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Lists are welcome as input; stored as tuples so that settings stay hashable.
        object.__setattr__(self, "index_urls", tuple(self.index_urls))
        object.__setattr__(self, "find_links", tuple(self.find_links))
        object.__setattr__(self, "refresh_packages", frozenset(canonicalize_name(n) for n in self.refresh_packages))

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
