"""The install journal: ``varsolve install`` changes an environment all or nothing.

Everything lives in ``<prefix>/.varsolve-install/`` (the environment's ``sys.prefix``, so on the
same filesystem as the files it replaces; :func:`check_same_filesystem`):

* ``stage/`` -- every new file, unpacked by the ``installer`` library with the environment's
  own paths below it (``stage/<absolute path of the file>``): RECORDs, shebangs and scripts are
  already final.
* ``trash/<n>`` -- the n-th file of the replaced distributions, moved aside.
* ``journal.json`` -- what the switch-over does: ``aside`` (old files, in the order they are
  moved to ``trash/<n>``), ``place`` (``[staged, final]`` pairs), ``created`` (directories the
  new files need, parents first), ``emptied`` (directories the old files may leave empty), and
  ``state``: ``switching`` or ``committed``. It is written to a temporary file, fsync'ed, and
  renamed into place (then the directory is fsync'ed), before the first rename and again at the
  commit point.

The switch-over moves every old file aside, creates the directories, renames every staged file
into place (``os.replace``: each file is either old or new, never half-written), fsyncs the
directories it changed, and then commits: ``state = committed``, removes directories left empty,
the trash, the stage and the journal.

Recovery (:func:`recover`, run under the environment lock by the next ``varsolve install`` on
that environment or by ``varsolve install --recover``) is deterministic and idempotent:

* no ``journal.json`` -- the install was killed while staging; the environment was never
  changed: the state directory is removed;
* ``switching`` -- **rolled back**: a placed file (its staged copy is gone) is removed, every
  file in the trash goes back where it was, the created directories are removed: the
  environment is as before the install;
* ``committed`` -- **rolled forward**: every file was already in place; the cleanup finishes.

A SIGINT (or SIGTERM) before the commit point rolls back in the process itself; after it the
signal waits until the cleanup is done. A SIGKILL leaves the journal to the next run.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from ..errors import InputError
from .safety import STATE_DIR, is_file_like

log = logging.getLogger("varsolve")

JOURNAL = "journal.json"
FORMAT = 1
SWITCHING, COMMITTED = "switching", "committed"


def state_dir(prefix: Path) -> Path:
    return prefix / STATE_DIR


def pending(prefix: Path) -> bool:
    """Whether an interrupted install left something to recover."""
    return state_dir(prefix).exists()


@dataclass
class Transaction:
    prefix: Path
    aside: list[Path] = field(default_factory=list)  # old files, moved to trash/<n>
    place: list[tuple[Path, Path]] = field(default_factory=list)  # (staged, final)
    created: list[Path] = field(default_factory=list)  # directories to create, parents first
    emptied: list[Path] = field(default_factory=list)  # may be left empty, deepest first
    changes: list[str] = field(default_factory=list)  # for humans reading the journal

    @property
    def state(self) -> Path:
        return state_dir(self.prefix)

    @property
    def stage(self) -> Path:
        return self.state / "stage"

    @property
    def trash(self) -> Path:
        return self.state / "trash"

    def staged(self, final: Path) -> Path:
        """Where the ``installer`` library's ``destdir`` puts ``final`` inside the stage."""
        return self.stage / final.relative_to(final.anchor)

    def to_json(self, state: str) -> dict[str, Any]:
        return {
            "varsolve-install-journal": FORMAT,
            "state": state,
            "prefix": str(self.prefix),
            "changes": self.changes,
            "aside": [str(p) for p in self.aside],
            "place": [[str(a), str(b)] for a, b in self.place],
            "created": [str(p) for p in self.created],
            "emptied": [str(p) for p in self.emptied],
        }

    @classmethod
    def from_json(cls, prefix: Path, data: Any, where: str) -> tuple[Transaction, str]:
        try:
            if data.get("varsolve-install-journal") != FORMAT or data["state"] not in (SWITCHING, COMMITTED):
                raise ValueError("unknown format or state")
            recorded = Path(data["prefix"])
            tx = cls(
                prefix,
                [Path(p) for p in data["aside"]],
                [(Path(a), Path(b)) for a, b in data["place"]],
                [Path(p) for p in data["created"]],
                [Path(p) for p in data["emptied"]],
                [str(c) for c in data.get("changes", [])],
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"unreadable install journal ({exc}); nothing was recovered (check the environment, then remove "
                f"{state_dir(prefix)})", where=where,
            ) from None
        if os.path.realpath(recorded) != os.path.realpath(prefix):
            raise InputError(
                f"the install journal belongs to {recorded} (was the environment moved?); nothing was recovered "
                f"(check the environment, then remove {state_dir(prefix)})", where=where,
            )
        return tx, str(data["state"])


# -- signals ------------------------------------------------------------------------------------------


class deferred_interrupts:  # noqa: N801  (used like a function: with deferred_interrupts(): ...)
    """SIGINT and SIGTERM are noted, not acted on, inside the block; a noted one raises
    KeyboardInterrupt at its end (``reraise``) or is dropped (an exception is already on its way)."""

    def __init__(self, *, reraise: bool = True) -> None:
        self.reraise = reraise
        self.received: list[int] = []
        self.saved: dict[int, Any] = {}

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)

    def __enter__(self) -> deferred_interrupts:
        if threading.current_thread() is threading.main_thread():
            for signum in _signals():
                self.saved[signum] = signal.signal(signum, self._note)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        for signum, handler in self.saved.items():
            signal.signal(signum, handler)
        if self.received and self.reraise and kind is None:
            raise KeyboardInterrupt


def _signals() -> list[signal.Signals]:
    return [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt inside the block, so that it rolls back like a SIGINT."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    saved = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, saved)


# -- the lock -------------------------------------------------------------------------------------------


@contextmanager
def environment_lock(prefix: Path, timeout: float = 300.0) -> Iterator[None]:
    """One varsolve install (or recovery) at a time per environment: an advisory ``flock`` on
    the prefix directory itself (no file is left behind). Waits at most ``timeout`` seconds."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks on directories
        yield
        return
    try:
        fd = os.open(prefix, os.O_RDONLY)
    except OSError as exc:
        raise InputError(f"cannot open the environment: {exc.strerror}", where=str(prefix)) from None
    try:
        deadline = time.monotonic() + timeout
        waiting = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    log.warning("waiting for another varsolve install in %s", prefix)
                    waiting = True
                if time.monotonic() > deadline:
                    message = f"another varsolve install holds the environment (waited {timeout:g} s)"
                    raise InputError(message, where=str(prefix)) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


# -- the switch-over ------------------------------------------------------------------------------------


def check_same_filesystem(prefix: Path, paths: list[Path]) -> None:
    """Every directory the switch-over renames into or out of is on the prefix's filesystem
    (``os.replace`` cannot cross filesystems); nothing is written when one is not."""
    device = os.stat(prefix).st_dev
    seen: set[Path] = set()
    for path in paths:
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if parent in seen:
            continue
        seen.add(parent)
        if os.stat(parent).st_dev != device:
            raise InputError(
                f"cannot install crash-safely: {parent} is on another filesystem than the environment's prefix",
                where=str(prefix),
            )


def run(tx: Transaction, stage: Callable[[], None]) -> None:
    """Stage (``stage()`` unpacks into ``tx.stage``), switch over, commit. Any exception or
    interrupt before the commit point leaves the environment as it was (and is re-raised)."""
    _recover(tx.prefix)  # normally nothing: the caller recovered under the same lock
    try:
        tx.stage.mkdir(parents=True)
        tx.trash.mkdir()
        log.info("staging %d files in %s", len(tx.place), tx.stage)
        stage()
        missing = [str(final) for staged, final in tx.place if not is_file_like(staged)]
        if missing:
            raise InputError(f"staging left no file for {missing[0]}", where=str(tx.prefix))
        _write(tx, SWITCHING)
        log.info("switching over: %d old files aside, %d new files into place", len(tx.aside), len(tx.place))
        for n, path in enumerate(tx.aside):
            os.replace(path, tx.trash / str(n))
        for directory in tx.created:
            directory.mkdir(exist_ok=True)
        for staged, final in tx.place:
            os.replace(staged, final)
        _fsync_dirs({final.parent for _, final in tx.place} | {p.parent for p in tx.aside} | {tx.trash})
        _write(tx, COMMITTED)  # the commit point: from here on, recovery rolls forward
    except BaseException:
        with deferred_interrupts(reraise=False):
            _recover(tx.prefix)
        raise
    log.info("committed; removing the old files")
    with deferred_interrupts():
        _finish(tx)


def recover(prefix: Path) -> str | None:
    """Roll back or finish what an interrupted install left (call it under
    :func:`environment_lock`); returns what was done, None when there was nothing."""
    with deferred_interrupts():
        return _recover(prefix)


def _recover(prefix: Path) -> str | None:
    state = state_dir(prefix)
    if not state.exists():
        return None
    journal = state / JOURNAL
    if not journal.exists():
        shutil.rmtree(state, ignore_errors=True)
        return f"removed what an interrupted install had staged in {prefix} (it had not changed the environment)"
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            f"unreadable install journal ({exc}); nothing was recovered (check the environment, then remove {state})",
            where=str(journal),
        ) from None
    tx, kind = Transaction.from_json(prefix, data, str(journal))
    what = "; ".join(tx.changes) or "no packages"
    if kind == COMMITTED:
        _finish(tx)
        return f"finished an interrupted install in {prefix} ({what}): every file had been switched"
    done = sum(1 for n in range(len(tx.aside)) if os.path.lexists(tx.trash / str(n)))
    done += sum(1 for staged, _ in tx.place if not os.path.lexists(staged))
    _rollback(tx)
    return (
        f"rolled back an interrupted install in {prefix} ({what}): {done} of "
        f"{len(tx.aside) + len(tx.place)} file moves undone; the environment is as before it"
    )


def _rollback(tx: Transaction) -> None:
    for staged, final in reversed(tx.place):
        if not os.path.lexists(staged) and is_file_like(final):
            os.unlink(final)
    # The directories before the old files: an old file may have stood where one was created.
    for directory in reversed(tx.created):
        _rmdir(directory)
    for n in reversed(range(len(tx.aside))):
        moved = tx.trash / str(n)
        if os.path.lexists(moved):
            original = tx.aside[n]
            original.parent.mkdir(parents=True, exist_ok=True)
            os.replace(moved, original)
    _fsync_dirs({p.parent for p in tx.aside})
    _remove_state(tx)


def _finish(tx: Transaction) -> None:
    for directory in tx.emptied:
        _rmdir(directory)
    _remove_state(tx)


def _remove_state(tx: Transaction) -> None:
    """The stage and the trash first, the journal last: until it is gone, recovery can redo this."""
    shutil.rmtree(tx.stage, ignore_errors=True)
    shutil.rmtree(tx.trash, ignore_errors=True)
    (tx.state / JOURNAL).unlink(missing_ok=True)
    shutil.rmtree(tx.state, ignore_errors=True)


def _rmdir(directory: Path) -> None:
    try:
        directory.rmdir()
    except OSError:
        pass  # not empty, or already gone


def _write(tx: Transaction, state: str) -> None:
    """journal.json, atomically and durably."""
    tmp = tx.state / (JOURNAL + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(tx.to_json(state), fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, tx.state / JOURNAL)
    _fsync_dirs({tx.state})


def _fsync_dirs(directories: set[Path]) -> None:
    """Make renames in these directories durable (where the OS lets a directory be fsync'ed)."""
    for directory in sorted(directories):
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
