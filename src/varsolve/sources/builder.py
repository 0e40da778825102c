"""The one way to open package sources: :func:`open_repository`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .settings import SourceSettings

if TYPE_CHECKING:
    from ..repository import Repository
    from .linksources import LinkSource


def open_repository(settings: SourceSettings) -> Repository | None:
    """The repository of ``settings`` (index URLs first, then find-links folders), ``None``
    when they name no source. Close it when done; it is a context manager.

    Nothing is fetched yet: an index URL that is wrong shows on the first question.
    """
    if not settings.names_a_source:
        return None
    # Imported here: a command that only reads a scenario never loads the HTTP machinery.
    from .cache import HTTP_DIR, DiskCache, default_cache_dir
    from .findlinks import FindLinksSource
    from .http import HttpClient
    from .linksources import IndexSource
    from .simple import SimpleRepository

    client = None
    if settings.index_urls:
        cache = None if settings.no_cache else DiskCache(settings.cache_dir or default_cache_dir(), background=True)
        client = HttpClient(
            cache=cache, timeout=settings.timeout, retries=max(0, settings.retries), backoff=settings.backoff,
            # One connection per fetching thread (and the resolver's) to each of two origins:
            # an index's pages and its files are often served by two hosts (pypi.org,
            # files.pythonhosted.org), and a pool of one origin's worth closed one host's idle
            # connections to open the other's (43 TLS connections in a cold jupyter run instead
            # of about 20; each new connect can stall for seconds on a lossy network).
            max_connections=2 * (settings.workers + 2), reporter=settings.reporter,
            refresh=settings.refresh, refresh_packages=settings.refresh_packages, offline=settings.offline,
            limits=settings.limits, tune_process=settings.tune_process,
        )
        if cache is None or not (cache.root / HTTP_DIR).is_dir():  # a cold run: every page from the index
            client.warm_up(settings.index_urls)
    sources: list[LinkSource] = [IndexSource(url, client) for url in settings.index_urls]
    sources += [FindLinksSource(Path(path)) for path in settings.find_links]
    return SimpleRepository(sources, client, settings)
