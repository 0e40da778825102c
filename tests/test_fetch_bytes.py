"""What reading metadata over the network costs in bytes and requests (issue 15: the boto3 set
must download no more than uv), against the project's loopback index server: the first range of
a project's next wheel is what the previous wheel's layout says it needs (boto3: 10 KiB, not
16), a large wheel costs a small tail and its METADATA exactly (not a 40th of the wheel)."""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from pathlib import Path

from index_helpers import repository
from varsolve.index.server import IndexServer
from varsolve.sources import lazyzip


def metadata(version: str, padding: int = 2000) -> bytes:
    rng = random.Random(version)
    text = "".join(rng.choice("abcdefghij ") for _ in range(padding))
    return f"Metadata-Version: 2.1\nName: lib\nVersion: {version}\nRequires-Dist: six>=1\n\n{text}\n".encode()


def wheel(version: str, files: int, blob: int = 0, record_lines: int = 0, padding: int = 2000) -> bytes:
    """Laid out as bdist_wheel writes one: the package, then ``*.dist-info`` (RECORD last)."""
    rng = random.Random(version)
    buf = io.BytesIO()
    dist_info = f"lib-{version}.dist-info"
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i in range(files):
            z.writestr(f"lib/module_{i:05d}.py", rng.randbytes(300))
        if blob:
            z.writestr("lib/blob.bin", rng.randbytes(blob), compress_type=zipfile.ZIP_STORED)
        z.writestr(f"{dist_info}/METADATA", metadata(version, padding))
        z.writestr(f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        record = "".join(f"lib/module_{i:05d}.py,sha256={rng.randbytes(32).hex()},300\n" for i in range(max(files, record_lines)))
        z.writestr(f"{dist_info}/RECORD", record.encode())
    return buf.getvalue()


def write_index(root: Path, wheels: dict[str, bytes]) -> None:
    """An HTML index of ``lib`` (no PEP 658 files: METADATA is read from the wheels) and ``six``."""
    (root / "files").mkdir(parents=True)
    links = []
    for version, data in wheels.items():
        name = f"lib-{version}-py3-none-any.whl"
        (root / "files" / name).write_bytes(data)
        links.append(f'<a href="../../files/{name}#sha256={hashlib.sha256(data).hexdigest()}">{name}</a>')
    for project, body in (("lib", "\n".join(links)), ("six", "")):
        (root / "simple" / project).mkdir(parents=True)
        (root / "simple" / project / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n")


def read_all(root: Path, versions: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Read each version's METADATA in order, no prefetch; (requests per wheel, client counters)."""
    with IndexServer(root, html_only=True) as server:
        with repository(server.index_url, workers=0) as repo:
            releases = {str(r.version): r for r in repo.releases("lib")}
            for version in versions:
                release = releases[version]
                assert repo.metadata(release, release.files[0]).requires_dist == ("six>=1",)
            counters = dict(repo.counters)
        per_wheel = {v: server.stats.by_path.get(f"/files/lib-{v}-py3-none-any.whl", 0) for v in versions}
    return per_wheel, counters


def test_the_next_wheel_of_a_project_asks_for_what_the_last_one_needed(tmp_path: Path) -> None:
    # Like boto3: 60 modules, METADATA ~10 KiB from the end; the first wheel costs the 16 KiB
    # tail, the next ones one request each of about what lies from METADATA to the end.
    versions = [f"1.{n}.0" for n in range(10, 0, -1)]
    wheels = {v: wheel(v, files=60, blob=100_000, padding=4000) for v in versions}
    write_index(tmp_path, wheels)
    need = max(len(data) - zipfile.ZipFile(io.BytesIO(data)).getinfo(f"lib-{v}.dist-info/METADATA").header_offset
               for v, data in wheels.items())
    assert need + lazyzip._margin(need) < lazyzip.TAIL * 0.7
    per_wheel, counters = read_all(tmp_path, versions)
    assert set(per_wheel.values()) == {1}, per_wheel  # one request each: the layout's margin holds
    metadata_bytes = counters["bytes"] - sum(  # the two pages
        len((tmp_path / "simple" / p / "index.html").read_bytes()) for p in ("lib",)
    )
    assert metadata_bytes < lazyzip.TAIL + (len(versions) - 1) * (need + lazyzip._margin(need)) + 1000
    assert metadata_bytes < len(versions) * lazyzip.TAIL * 0.75


def test_a_large_wheel_costs_its_last_entries_and_its_metadata(tmp_path: Path) -> None:
    # Like botocore: thousands of files, a RECORD of 200 kB after METADATA; the size the index
    # announces no longer makes the first range a 40th of the wheel (awscli: 505 KiB).
    versions = ["2.0", "1.0"]
    wheels = {v: wheel(v, files=3000, blob=2_000_000) for v in versions}
    write_index(tmp_path, wheels)
    per_wheel, counters = read_all(tmp_path, versions)
    assert per_wheel == {"2.0": 2, "1.0": 2}  # the tail (then only the last entries), METADATA
    member = 30 + 40 + len(metadata("2.0"))  # at most: local header, name, data (deflated: less)
    assert counters["bytes"] < lazyzip.TAIL + member + 2 * (1500 + member) + 1000


def test_a_layout_that_no_longer_fits_costs_a_request_not_a_failure(tmp_path: Path) -> None:
    # The newer wheel is small, the older one's METADATA much larger: the second wheel's first
    # range misses part of it, and a second request reads the rest.
    versions = ["2.0", "1.0"]
    wheels = {"2.0": wheel("2.0", files=20, blob=50_000, padding=1000), "1.0": wheel("1.0", files=20, blob=50_000, padding=20_000)}
    write_index(tmp_path, wheels)
    per_wheel, _ = read_all(tmp_path, versions)
    assert per_wheel["1.0"] == 2


def test_tail_for_a_layout() -> None:
    assert lazyzip.tail_for(None) == lazyzip.TAIL
    small = lazyzip.Layout(members=10_400, entries=700, member_bytes=2_800)  # a boto3 wheel
    assert lazyzip.tail_for(small) == 10_400 + lazyzip._margin(10_400) < lazyzip.TAIL
    large = lazyzip.Layout(members=224_000, entries=700, member_bytes=2_400)  # a botocore wheel
    assert lazyzip.tail_for(large) == 700 + lazyzip._margin(700)
    huge = lazyzip.Layout(members=5_000_000, entries=4_000_000, member_bytes=1_000)
    assert lazyzip.tail_for(huge) == lazyzip.MAX_TAIL


def test_a_stalled_prefetch_does_not_hold_the_caller_for_the_request_timeout(tmp_path: Path) -> None:
    # A prefetch thread's request gets no answer at all (a stalled connection): the caller that
    # waits for that metadata asks again itself once the request has been silent for
    # HEDGE_AFTER seconds, instead of waiting for the 30 s timeout; no thread is added.
    import threading
    import time

    from varsolve.index.server import Fault
    from varsolve.sources import workers
    from varsolve.target import Target

    wheels = {"2.0": wheel("2.0", files=20, blob=50_000), "1.0": wheel("1.0", files=20, blob=50_000)}
    write_index(tmp_path, wheels)
    stall = Fault("stall", times=1, path="/files/lib-2.0-*")
    with IndexServer(tmp_path, html_only=True, faults=[stall]) as server:
        with repository(server.index_url, timeout=30.0, retries=0) as repo:
            repo.hint_target(Target.make("3.12", "linux"))
            repo.prefetch(["lib"])  # the page, then the newest release's metadata, in a worker
            deadline = time.monotonic() + 10
            while stall.hits == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert stall.hits == 1  # the worker's request is stalled
            release = next(r for r in repo.releases("lib") if str(r.version) == "2.0")
            fetchers = {t.name for t in threading.enumerate() if t.name.startswith("varsolve-fetch")}
            start = time.monotonic()
            assert repo.metadata(release, release.files[0]).requires_dist == ("six>=1",)
            waited = time.monotonic() - start
            assert repo.counters["hedged"] == 1
            assert {t.name for t in threading.enumerate() if t.name.startswith("varsolve-fetch")} == fetchers
        assert workers.HEDGE_AFTER <= waited < workers.HEDGE_AFTER + 3, waited
        assert server.stats.by_path["/files/lib-2.0-py3-none-any.whl"] == 2  # the stalled one, the caller's


def test_the_stalled_request_is_not_retried_once_the_waiter_has_the_result(tmp_path: Path) -> None:
    # Its worker would otherwise spend every retry's timeout on it (and ask the index again).
    import time

    from varsolve.index.server import Fault
    from varsolve.target import Target

    wheels = {"2.0": wheel("2.0", files=20, blob=50_000), "1.0": wheel("1.0", files=20, blob=50_000)}
    write_index(tmp_path, wheels)
    stall = Fault("stall", times=1, path="/files/lib-2.0-*")
    path = "/files/lib-2.0-py3-none-any.whl"
    with IndexServer(tmp_path, html_only=True, faults=[stall]) as server:
        with repository(server.index_url, timeout=2.0, retries=2, backoff=0.01) as repo:
            repo.hint_target(Target.make("3.12", "linux"))
            repo.prefetch(["lib"])
            deadline = time.monotonic() + 10
            while stall.hits == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            release = next(r for r in repo.releases("lib") if str(r.version) == "2.0")
            assert repo.metadata(release, release.files[0]).requires_dist == ("six>=1",)
            assert server.stats.by_path[path] == 2
            time.sleep(2.5)  # the stalled attempt has timed out by now
            assert server.stats.by_path[path] == 2 and repo.counters["retries"] == 0


def test_a_slow_download_that_keeps_arriving_is_not_asked_for_twice() -> None:
    # Silent for less than HEDGE_AFTER at every look: the waiter keeps waiting for the runner.
    import threading

    from varsolve.sources.workers import TaskTable

    calls: list[int] = []
    release = threading.Event()

    def fetch() -> str:
        calls.append(1)
        release.wait(5)
        return "done"

    table = TaskTable(1, stalled=lambda thread: 0.1, hedge_after=0.3)
    table.prefetch("k", fetch)
    while not calls:
        pass
    threading.Timer(0.8, release.set).start()
    assert table.result("k", fetch) == "done" and calls == [1]
    table.close()


def test_a_stalled_runner_is_hedged_once_and_the_first_result_wins() -> None:
    import threading

    from varsolve.sources.workers import TaskTable

    calls: list[str] = []
    stuck = threading.Event()

    def fetch() -> str:
        first = not calls
        calls.append(threading.current_thread().name)
        if first:
            stuck.wait(5)  # the worker's attempt never answers in time
            return "late"
        return "hedged"

    table = TaskTable(1, stalled=lambda thread: 10.0, hedge_after=0.3)
    table.prefetch("k", fetch)
    while not calls:
        pass
    assert table.result("k", fetch) == "hedged"
    assert table.result("k", fetch) == "hedged" and len(calls) == 2  # memoised, not hedged again
    stuck.set()
    table.close()


def test_what_is_only_asked_for_in_the_foreground_is_never_run_twice() -> None:
    # An sdist's build is asked for by callers only: a second caller waits, however silent.
    import threading

    from varsolve.sources.workers import TaskTable

    calls: list[int] = []
    release = threading.Event()

    def build() -> str:
        calls.append(1)
        release.wait(5)
        return "built"

    table = TaskTable(1, stalled=lambda thread: 10.0, hedge_after=0.1)
    first = threading.Thread(target=table.result, args=("b", build))
    first.start()
    while not calls:
        pass
    threading.Timer(0.6, release.set).start()
    assert table.result("b", build) == "built" and calls == [1]
    first.join()
    table.close()


def test_the_counters_say_what_was_prefetched_in_vain_and_what_the_ranges_cost(tmp_path: Path) -> None:
    import time

    from varsolve.target import Target

    wheels = {"2.0": wheel("2.0", files=60, blob=100_000), "1.0": wheel("1.0", files=60, blob=100_000)}
    write_index(tmp_path, wheels)
    with IndexServer(tmp_path, html_only=True) as server:
        with repository(server.index_url) as repo:
            repo.hint_target(Target.make("3.12", "linux"))
            repo.prefetch(["lib"])  # the page, then 2.0's metadata
            deadline = time.monotonic() + 10
            while repo.counters["metadata_prefetched_unused"] == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert repo.counters["metadata_prefetched_unused"] == 1
            release = max(repo.releases("lib"), key=lambda r: r.version)
            repo.metadata(release, release.files[0])
            while repo.counters["pages_prefetched_unused"] == 0 and time.monotonic() < deadline:
                time.sleep(0.01)  # six's page, prefetched as lib's metadata arrived
            counters = dict(repo.counters)
    # six's page, prefetched since lib's metadata names it, was never asked for.
    assert counters["metadata_prefetched_unused"] == 0 and counters["pages_prefetched_unused"] == 1
    page = sum(len((tmp_path / "simple" / p / "index.html").read_bytes()) for p in ("lib", "six"))
    assert counters["range_requests"] == 1 and counters["range_bytes"] == counters["bytes"] - page


def test_a_stalled_request_of_the_callers_own_is_tried_again_after_a_second(tmp_path: Path) -> None:
    # No prefetch: the caller makes every request itself. Once the index has answered enough
    # requests quickly, a first attempt whose answer does not start within 10 times the median
    # (at least a second) is taken for stalled and tried again, not waited for 30 s.
    import time

    from varsolve.index.server import Fault
    from varsolve.sources import http

    versions = [f"1.{n}.0" for n in range(20, 0, -1)]
    write_index(tmp_path, {v: wheel(v, files=5, blob=20_000) for v in versions})
    stall = Fault("stall", times=1, path="/files/lib-1.1.0-*")
    with IndexServer(tmp_path, html_only=True, faults=[stall]) as server:
        with repository(server.index_url, workers=0, timeout=30.0, retries=2, backoff=0.01) as repo:
            releases = {str(r.version): r for r in repo.releases("lib")}
            for version in versions[:-1]:
                repo.metadata(releases[version], releases[version].files[0])
            assert repo.counters["requests"] >= http._FirstBytes.MIN_SAMPLES
            start = time.monotonic()
            assert repo.metadata(releases["1.1.0"], releases["1.1.0"].files[0]).requires_dist == ("six>=1",)
            waited = time.monotonic() - start
            assert repo.counters["retries"] == 1 and stall.hits == 1
    assert http._FirstBytes.MIN_STALL <= waited < http._FirstBytes.MIN_STALL + 2, waited


def test_too_few_answers_or_no_retry_left_wait_the_whole_timeout() -> None:
    from varsolve.sources.http import _FirstBytes

    first = _FirstBytes(timeout=10.0)
    for _ in range(_FirstBytes.MIN_SAMPLES - 1):
        first.add(0.01)
    assert first.limit() is None  # not enough known of this index yet
    first.add(0.01)
    assert first.limit() == _FirstBytes.MIN_STALL
    for _ in range(_FirstBytes.SAMPLES):
        first.add(1.5)  # a slow index: 10 times its median is more than the timeout
    assert first.limit() is None
