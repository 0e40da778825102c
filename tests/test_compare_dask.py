"""``varsolve compare --executor dask://HOST:PORT`` against a real Dask cluster on loopback.

The cluster is a ``distributed.LocalCluster`` listening on 127.0.0.1 over TCP (one in-process
worker thread, to stay light on a 2-core machine); the harness connects to it by address
exactly as it would to a remote scheduler. The results must equal the local executor's, except
for the measurements.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install 'varsolve[dask]')"
)

from varsolve.cli import main  # noqa: E402
from varsolve.compare import run_compare  # noqa: E402
from varsolve.compare.tasks import Row  # noqa: E402
from varsolve.reporter import Reporter  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
STRATEGIES = ["pep825", "backtrack"]


def without_measurements(data: dict) -> dict:
    data = json.loads(json.dumps(data))
    for row in data["rows"]:
        for key in Row.MEASUREMENTS:
            row.pop(key)
    for entry in data["summary"]["per_strategy"]:
        for key in [k for k in entry if k.startswith(("seconds", "peak_kib"))]:
            entry.pop(key)
    return data


@pytest.fixture(scope="module")
def scheduler():
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        yield "dask://" + address.removeprefix("tcp://")
    finally:
        cluster.close()


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """The bundled scenarios plus two generated ones, in one directory."""
    from varsolve.generate.ecosystem import generate

    directory = tmp_path / "study"
    directory.mkdir()
    for source in sorted((REPO / "scenarios" / "variants").glob("*.toml"))[:6]:
        (directory / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    for seed in (1, 2):
        (directory / f"zz-ecosystem-{seed}.toml").write_text(generate(seed=seed, leaves=15, versions=3), encoding="utf-8")
    return directory


def test_dask_results_equal_local_results(scheduler: str, study: Path) -> None:
    class Seen(Reporter):
        def __init__(self) -> None:
            self.labels: list[str] = []

        def task_done(self, label: str) -> None:
            self.labels.append(label)

    seen = Seen()
    on_dask = run_compare([study], STRATEGIES, executor=scheduler, reporter=seen)
    local = run_compare([study], STRATEGIES, jobs=2)
    assert on_dask.executor == "dask" and local.executor == "local"
    assert len(on_dask.rows) == len(local.rows) == 16 and len(seen.labels) == 16
    assert all(r.status == "ok" for r in on_dask.rows)
    assert all(r.peak_kib is not None and r.seconds is not None for r in on_dask.rows)
    assert without_measurements(on_dask.to_json_dict()) == without_measurements(local.to_json_dict())
    # Something worth comparing happened: the status quo mixed BLAS/CUDA builds somewhere.
    assert on_dask.summary["status_quo"][0]["inconsistent"] >= 1


def test_dask_executor_from_the_command_line(scheduler: str, study: Path, tmp_path: Path) -> None:
    dask_json, local_json = tmp_path / "dask.json", tmp_path / "local.json"
    common = [str(study), "--strategy", "pep825", "--strategy", "backtrack", "--format", "json"]
    assert main(["compare", *common, "--executor", scheduler, "-o", str(dask_json)]) == 0
    assert main(["compare", *common, "-o", str(local_json)]) == 0
    assert without_measurements(json.loads(dask_json.read_text())) == without_measurements(
        json.loads(local_json.read_text())
    )


def test_unreachable_scheduler_is_a_one_line_error(study: Path, capsys) -> None:
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["compare", str(study), "--strategy", "backtrack", "--executor", f"dask://127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"varsolve: error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}")
    assert len(err.splitlines()) == 1


def test_rss_memory_is_refused_on_dask(scheduler: str, study: Path, capsys) -> None:
    assert main(["compare", str(study), "--executor", scheduler, "--memory", "rss"]) == 2
    assert "--memory rss needs a fresh process per task" in capsys.readouterr().err
