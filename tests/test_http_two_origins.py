"""An index's pages and its files are often served by two hosts (pypi.org and
files.pythonhosted.org): the HTTP pool keeps a connection per fetching thread to each, instead
of closing one host's idle connections to open the other's (a cold jupyter run opened 43 TLS
connections for 211 requests, and a new connection can stall for seconds on a lossy network)."""

from __future__ import annotations

import threading
from pathlib import Path

from index_helpers import build_index_from_text, repository
from varsolve.index.server import Fault, IndexServer

TEXT = '[root]\nrequires = ["lib"]\n[packages.lib.versions."1.0.0"]\nrequires_python = ""\nsdist = false\n'


def test_two_origins_share_the_pool_without_reconnecting(tmp_path: Path) -> None:
    index = build_index_from_text(tmp_path / "index", TEXT)
    slow = [Fault("delay", value=20, path="/simple/*")]  # every thread's request in flight at once
    with IndexServer(index, faults=slow) as pages, IndexServer(index, faults=slow) as files:  # two ports: two origins
        with repository(pages.index_url) as repo:
            client = repo.client  # the repository's HttpClient
            assert client is not None
            workers = 8  # SourceSettings' default: 8 fetching threads and the resolver's
            barrier = threading.Barrier(workers + 1)

            def fetch() -> None:
                barrier.wait()
                for _ in range(5):
                    for server in (pages, files):
                        client.get(f"{server.index_url}lib/", what="project page")

            threads = [threading.Thread(target=fetch) for _ in range(workers + 1)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        # Each thread's connection to each origin, opened once (a pool of one origin's worth:
        # about one new connection per request).
        assert pages.stats.requests >= 45 and files.stats.requests >= 45
        assert pages.stats.connections <= workers + 1 and files.stats.connections <= workers + 1, (
            pages.stats.connections, files.stats.connections,
        )
