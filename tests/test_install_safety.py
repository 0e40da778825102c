"""``varsolve install`` is all or nothing (src/varsolve/lockfile/journal.py, safety.py).

The hostile corpus (tests/hostile/cases_installs.py) kills real installs at measured delays;
here every crash point is tried deterministically, in-process: the n-th rename of an upgrade
fails as a SIGKILL would (no in-process rollback, the next run recovers) or as a SIGINT does
(KeyboardInterrupt, rolled back at once), for every n.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from hostile.cases_installs import Upgrade, World, good_wheel, venv_state, wheel_bytes, world
from varsolve.errors import InputError
from varsolve.lockfile import journal
from varsolve.lockfile.safety import Environment, check_archive, entry_name_problem

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX venv layout and signals")

PACKAGES = ["pkg0", "pkg1"]  # two: files of one distribution and of another in one transaction


class Crash(BaseException):
    """The process dies here (not an Exception: nothing may catch it as an error)."""


@pytest.fixture
def small_upgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Upgrade:
    import hostile.cases_installs as cases

    monkeypatch.setattr(cases, "PACKAGES", PACKAGES)
    w = world(tmp_path)
    for name in PACKAGES:
        for version in ("1.0", "2.0"):
            w.add(name, version, good_wheel(name, version, 2))
    old = w.lock(*(f"{p}==1.0" for p in PACKAGES), name="old")
    new = w.lock(*(f"{p}==2.0" for p in PACKAGES), name="new")
    assert (proc := w.install(old)) is not None and proc.returncode == 0, proc and proc.stderr
    pristine = tmp_path / "pristine"
    shutil.copytree(w.venv, pristine, symlinks=True)
    return Upgrade(w, old, new, pristine)


def _installer(u: Upgrade):  # type: ignore[no-untyped-def]
    from varsolve.lockfile.document import load
    from varsolve.lockfile.install import install, plan
    from varsolve.lockfile.interpreter import probe

    doc = load(u.new)
    interp = probe(str(u.world.python))
    the_plan = plan(doc, interp)
    return lambda: install(doc, interp, the_plan)


def _count_renames(u: Upgrade, monkeypatch: pytest.MonkeyPatch) -> int:
    run = _installer(u)
    calls = []
    real = os.replace

    def counting(a, b):  # type: ignore[no-untyped-def]
        calls.append((a, b))
        return real(a, b)

    with monkeypatch.context() as m:
        m.setattr(journal.os, "replace", counting)
        run()
    assert venv_state(u.world) == "2.0"
    return len(calls)


def _crash_at(n: int, exc: type[BaseException], m: pytest.MonkeyPatch, *, kill: bool) -> None:
    """os.replace raises ``exc`` instead of its n-th rename (counted from 0); with ``kill`` the
    process does not recover in-process (as after a SIGKILL)."""
    real = os.replace
    count = [0]

    def failing(a, b):  # type: ignore[no-untyped-def]
        count[0] += 1
        if count[0] == n + 1:
            raise exc()
        return real(a, b)

    m.setattr(journal.os, "replace", failing)
    if kill:
        m.setattr(journal, "_recover", lambda prefix: None)


def test_a_crash_at_every_rename_is_rolled_back_or_forward_by_the_next_run(
    small_upgrade: Upgrade, monkeypatch: pytest.MonkeyPatch
) -> None:
    u = small_upgrade
    renames = _count_renames(u, monkeypatch)
    assert renames > 20  # the journal twice, every old file aside, every new file into place
    run = _installer(u)  # the probe and the plan do not depend on what is installed
    for n in range(renames):
        u.reset()
        with monkeypatch.context() as m:
            _crash_at(n, Crash, m, kill=True)
            with pytest.raises(Crash):
                run()
        # The next run: recovery under the lock, as `varsolve install` and `--recover` do. The
        # last rename puts the commit record in place: a crash before it is rolled back.
        with journal.environment_lock(u.world.venv):
            done = journal.recover(u.world.venv)
        assert done is not None and ("rolled back" in done or "removed what" in done), (n, done)
        assert venv_state(u.world) == "1.0", (n, done, venv_state(u.world))


def test_a_file_that_becomes_a_directory_is_rolled_back_at_every_crash_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1.0 ships ``shape/data`` as a file, 2.0 as a directory (``shape/data/x.txt``): the
    switch-over moves the file aside before it creates the directory, rollback the reverse."""
    import hostile.cases_installs as cases

    monkeypatch.setattr(cases, "PACKAGES", ["shape"])
    w = world(tmp_path)
    w.add("shape", "1.0", wheel_bytes("shape", "1.0", {"shape/__init__.py": b"", "shape/data": b"file\n"}))
    w.add("shape", "2.0", wheel_bytes("shape", "2.0", {"shape/__init__.py": b"", "shape/data/x.txt": b"dir\n"}))
    old, new = w.lock("shape==1.0", name="old"), w.lock("shape==2.0", name="new")
    assert (proc := w.install(old)) is not None and proc.returncode == 0, proc and proc.stderr
    pristine = tmp_path / "pristine"
    shutil.copytree(w.venv, pristine, symlinks=True)
    u = Upgrade(w, old, new, pristine)
    renames = _count_renames(u, monkeypatch)
    assert (w.site / "shape" / "data" / "x.txt").is_file()
    run = _installer(u)
    for n in range(renames):
        u.reset()
        with monkeypatch.context() as m:
            _crash_at(n, Crash, m, kill=True)
            with pytest.raises(Crash):
                run()
        with journal.environment_lock(w.venv):
            journal.recover(w.venv)
        assert venv_state(w) == "1.0" and (w.site / "shape" / "data").is_file(), n


def test_a_crash_after_the_commit_point_is_finished_by_the_next_run(small_upgrade: Upgrade, monkeypatch: pytest.MonkeyPatch) -> None:
    u = small_upgrade
    run = _installer(u)
    with monkeypatch.context() as m:
        m.setattr(journal, "_finish", lambda tx: (_ for _ in ()).throw(Crash()))
        m.setattr(journal, "_recover", lambda prefix: None)
        with pytest.raises(Crash):
            run()
    assert (u.world.venv / ".varsolve-install" / "journal.json").exists()
    with journal.environment_lock(u.world.venv):
        done = journal.recover(u.world.venv)
    assert done is not None and done.startswith("finished an interrupted install"), done
    assert venv_state(u.world) == "2.0"


def test_an_interrupt_at_every_rename_rolls_back_at_once(small_upgrade: Upgrade, monkeypatch: pytest.MonkeyPatch) -> None:
    u = small_upgrade
    renames = _count_renames(u, monkeypatch)
    run = _installer(u)
    for n in range(renames):
        u.reset()
        with monkeypatch.context() as m:
            _crash_at(n, KeyboardInterrupt, m, kill=False)
            with pytest.raises(KeyboardInterrupt):
                run()
        assert venv_state(u.world) == "1.0", n  # no journal left, nothing to recover


def test_an_os_error_while_switching_rolls_back_with_one_line(small_upgrade: Upgrade, monkeypatch: pytest.MonkeyPatch) -> None:
    u = small_upgrade
    run = _installer(u)

    def full(a, b):  # type: ignore[no-untyped-def]
        if "stage" in str(a):
            raise OSError(28, "No space left on device", str(b))
        return os.rename(a, b)

    with monkeypatch.context() as m:
        m.setattr(journal.os, "replace", full)
        with pytest.raises(InputError, match="No space left on device.*the environment is unchanged"):
            run()
    assert venv_state(u.world) == "1.0"


def test_signals_wait_for_the_cleanup() -> None:
    with pytest.raises(KeyboardInterrupt), journal.deferred_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # delivered now, acted on only at the block's end
        reached = True
    assert reached
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigterm_rolls_back_like_sigint() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), journal.terminate_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_second_install_waits_for_the_lock(small_upgrade: Upgrade) -> None:
    import threading

    u = small_upgrade
    lines: list[str] = []
    with journal.environment_lock(u.world.venv):
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("varsolve")), "install", str(u.new), "--python", str(u.world.python)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        assert process.stderr is not None
        reader = threading.Thread(target=lambda: lines.extend(process.stderr or ()), daemon=True)
        reader.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None and not any("waiting for" in line for line in lines):
            time.sleep(0.05)
        assert process.poll() is None and any("waiting for another varsolve install" in line for line in lines), lines
        assert venv_state(u.world) == "1.0"
    assert process.wait(60) == 0, lines
    reader.join(5)
    assert venv_state(u.world) == "2.0"


# -- the path rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("pkg/mod.py", None),
        ("pkg-1.0.data/scripts/tool", None),
        ("../x", "climbs out"),
        ("pkg/../../x", "climbs out"),
        ("/etc/passwd", "absolute"),
        ("C:/Windows/x", "absolute"),
        ("pkg\\..\\x", "backslash"),
        ("pkg/x\x00.py", "NUL"),
    ],
)
def test_entry_names(name: str, problem: str | None) -> None:
    got = entry_name_problem(name)
    assert (got is None) if problem is None else (got is not None and problem in got)


def _zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return path


def test_check_archive_refuses_symlinks_and_oversized_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = tmp_path / "good-1.0-py3-none-any.whl"
    good.write_bytes(wheel_bytes("good", "1.0", {"good/__init__.py": b""}))
    check_archive(good, good.name, "here")
    link = zipfile.ZipInfo("good/link")
    link.external_attr = (0o120777) << 16
    with zipfile.ZipFile(good) as archive:
        entries: list[tuple[zipfile.ZipInfo | str, bytes]] = [(i, archive.read(i)) for i in archive.infolist()]
    bad = _zip(tmp_path / "bad-1.0-py3-none-any.whl", [*entries, (link, b"/etc/passwd")])
    with pytest.raises(InputError, match="symbolic link"):
        check_archive(bad, bad.name, "here")
    import varsolve.lockfile.safety as safety

    monkeypatch.setattr(safety, "MAX_METADATA_BYTES", 10)
    with pytest.raises(InputError, match="METADATA is .* bytes once unpacked"):
        check_archive(good, good.name, "here")


def test_the_environment_protects_its_interpreter_and_journal(tmp_path: Path) -> None:
    w: World = world(tmp_path)
    from varsolve.lockfile.interpreter import probe

    interp = probe(str(w.python))
    env = Environment(interp.root, dict(interp.paths), interp.executable, {})
    scripts = w.python.parent
    for name in ("python", "python3", f"python3.{sys.version_info.minor}", "activate", "activate.fish"):
        assert env.protected(env.key(scripts / name)), name
    assert env.protected(env.key(w.venv / "pyvenv.cfg"))
    assert env.protected(env.key(w.venv / ".varsolve-install" / "x"))
    assert not env.protected(env.key(scripts / "tool"))
    assert env.inside(env.key(w.site / "pkg" / "x.py"))
    assert not env.inside(env.key(tmp_path / "outside.txt"))
    # Headers go to the venv's include/site, never the base interpreter's include directory.
    assert Path(interp.paths["headers"]).is_relative_to(w.venv)
