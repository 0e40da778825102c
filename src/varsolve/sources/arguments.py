"""Command-line options that choose package sources (``--index-url``, ``--find-links`` ...),
shared by every command that resolves.

No index is built in: an index URL comes from ``--index-url`` or, when neither it nor
``--scenario`` is given, from the variables pip and uv users already set
(:data:`INDEX_URL_VARIABLES`, first one set wins).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .settings import (
    INDEX_URL_VARIABLES,
    SourceSettings,
    index_url_from_environment,
    open_repository,
)

if TYPE_CHECKING:
    from ..repository import Repository


def add_source_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("package sources")
    g.add_argument("--index-url", metavar="URL", help=f"a simple index (PEP 503/691), e.g. https://pypi.org/simple/; default: ${' / $'.join(INDEX_URL_VARIABLES)}")
    g.add_argument("--extra-index-url", action="append", default=[], metavar="URL", help="a further index (repeatable)")
    g.add_argument("--find-links", action="append", default=[], metavar="DIR", help="a folder of wheels, sdists and *-variants.json (repeatable)")
    g.add_argument("--cache-dir", metavar="DIR", help="HTTP and metadata cache (default: ~/.cache/varsolve)")
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    g.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per request (default: 30)")
    g.add_argument("--retries", type=int, default=3, metavar="N", help="retries on connection errors and 5xx (default: 3)")


def index_urls(args: argparse.Namespace) -> list[str]:
    """``--index-url`` (or the environment), then ``--extra-index-url``s."""
    urls = []
    primary = getattr(args, "index_url", None)
    if primary is None and getattr(args, "scenario", None) is None:
        primary = index_url_from_environment()
    if primary:
        urls.append(primary.strip())
    urls += [u.strip() for u in getattr(args, "extra_index_url", []) or [] if u.strip()]
    return urls


def repository_from_args(args: argparse.Namespace) -> Repository | None:
    """The repository the source flags ask for; ``None`` when they name none."""
    from ..reporter import TerminalReporter

    settings = SourceSettings(
        index_urls=tuple(index_urls(args)),
        find_links=tuple(getattr(args, "find_links", []) or []),
        cache_dir=getattr(args, "cache_dir", None),
        no_cache=getattr(args, "no_cache", False),
        timeout=getattr(args, "timeout", 30.0),
        retries=max(0, getattr(args, "retries", 3)),
        reporter=TerminalReporter.for_stderr(quiet=bool(getattr(args, "quiet", False))),
    )
    return open_repository(settings)
