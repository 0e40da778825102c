"""What ``varsolve install`` may write and remove (docs/reliability.md, "Installs").

Everything here only reads. It answers three questions before the journal (:mod:`.journal`)
writes anything:

* **Is this archive a wheel we may unpack?** :func:`check_archive`: a zip whose entry names and
  RECORD paths are relative, without ``..``, backslashes or NUL bytes, listed once, and whose
  metadata files are not zip bombs.
* **Where would each of its files go?** :func:`wheel_layout` runs the ``installer`` library's
  own installation logic against a destination that writes nothing and only records paths
  (so the answer is exactly what the real install does: ``.data`` schemes, entry-point
  scripts, ``RECORD`` and ``INSTALLER``), each checked to stay inside its scheme directory.
* **Who owns a file, and may it be replaced or removed?** :class:`Environment`: the scheme
  directories, the interpreter's own files (never written, never removed) and the files each
  installed distribution's RECORD lists that resolve inside the environment.

A path is compared by its *parent's* real path plus its own name, so that a symlinked directory
(``lib64 -> lib``) is seen through, and a symlink that is itself listed stays a symlink (it is
moved, never its target).
"""

from __future__ import annotations

import csv
import os
import re
import stat
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Union

from packaging.utils import canonicalize_name

from ..errors import InputError

if TYPE_CHECKING:
    from installer.records import RecordEntry
    from installer.utils import Scheme

# A metadata file larger than this is refused before it is read (METADATA with a long
# description is a few MiB; 32 MiB of it is an attack, not a README).
MAX_METADATA_BYTES = 32 * 1024 * 1024
METADATA_FILES = ("METADATA", "WHEEL", "RECORD", "entry_points.txt", "variant.json")
# An entry that inflates past BOMB_SIZE at more than BOMB_RATIO times its compressed size.
BOMB_SIZE = 64 * 1024 * 1024
BOMB_RATIO = 200
MAX_ENTRIES = 500_000
MAX_TOTAL_BYTES = 64 * 1024 * 1024 * 1024

STATE_DIR = ".varsolve-install"  # the journal's directory in the environment's prefix
# Files of the interpreter a wheel's scripts must never replace (python, python3, python3.12,
# pythonw.exe, python3.13t) and the venv's activation scripts.
_INTERPRETER_NAME = re.compile(r"^python(\d+(\.\d+)?)?[wt]?(\.exe)?$", re.IGNORECASE)
_ACTIVATE_NAME = re.compile(r"^(activate(\..*)?|Activate\.ps1|deactivate\.bat)$")
_DRIVE = re.compile(r"^[A-Za-z]:")


def first_line(exc: BaseException) -> str:
    issues = getattr(exc, "issues", None)
    if isinstance(issues, list) and issues:
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        return re.sub(r"^In .*?\.whl, ", "", str(issues[0])) + more  # installer names its (temporary) path
    strings = [a for a in exc.args if isinstance(a, str)]  # KeyError quotes its message; installer's
    text = (strings[-1] if strings else str(exc)).strip()  # errors carry (source, message)
    return text.splitlines()[0] if text else type(exc).__name__


def entry_name_problem(name: str) -> str | None:
    """Why an archive entry or RECORD path must not be unpacked, or None."""
    if "\x00" in name:
        return "contains a NUL byte"
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/") or _DRIVE.match(name):
        return "is an absolute path"
    if ".." in name.split("/"):
        return "climbs out with '..'"
    return None


def check_archive(path: Path, filename: str, where: str) -> None:
    """Refuse an archive that is not a zip, has a hostile entry name or RECORD path, lists an
    entry twice, or would inflate into a bomb -- before anything reads its contents."""

    def refuse(reason: str) -> InputError:
        return InputError(f"{filename}: not a valid wheel: {reason}", where=where)

    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ENTRIES:
                raise refuse(f"{len(infos)} entries (at most {MAX_ENTRIES})")
            seen: set[str] = set()
            total = 0
            dist_infos = set()
            for info in infos:
                problem = entry_name_problem(info.filename)
                if problem:
                    raise refuse(f"entry {info.filename!r} {problem}")
                if info.filename in seen:
                    raise refuse(f"entry {info.filename!r} is listed twice")
                seen.add(info.filename)
                top = info.filename.split("/", 1)[0]
                if top.endswith(".dist-info"):
                    dist_infos.add(top)
                total += info.file_size
                if info.file_size > BOMB_SIZE and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
                    raise refuse(
                        f"entry {info.filename!r} inflates {info.compress_size} bytes into {info.file_size} (a zip bomb)"
                    )
                mode = info.external_attr >> 16
                if mode and stat.S_ISLNK(mode):
                    raise refuse(f"entry {info.filename!r} is a symbolic link")
            if total > MAX_TOTAL_BYTES:
                raise refuse(f"{total} bytes once unpacked (at most {MAX_TOTAL_BYTES})")
            if len(dist_infos) != 1:
                raise refuse(f"{len(dist_infos)} .dist-info directories (a wheel has exactly one)")
            (dist_info,) = dist_infos
            for name in METADATA_FILES:
                try:
                    info = archive.getinfo(f"{dist_info}/{name}")
                except KeyError:
                    continue
                if info.file_size > MAX_METADATA_BYTES:
                    raise refuse(
                        f"{dist_info}/{name} is {info.file_size} bytes once unpacked (at most {MAX_METADATA_BYTES}; a zip bomb?)"
                    )
            try:
                record = archive.read(f"{dist_info}/RECORD").decode("utf-8")
            except KeyError:
                raise refuse(f"{dist_info}/RECORD is missing") from None
            for row in csv.reader(record.splitlines()):
                if row:
                    problem = entry_name_problem(row[0])
                    if problem:
                        raise refuse(f"RECORD path {row[0]!r} {problem}")
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, UnicodeDecodeError, csv.Error, NotImplementedError, EOFError) as exc:
        raise refuse(first_line(exc)) from None
    except OSError as exc:
        raise refuse(exc.strerror or first_line(exc)) from None


# -- where a wheel's files go -----------------------------------------------------------------------


def real_key(path: Path | str) -> Path:
    """``path`` compared as the filesystem sees it: its parent's real path and its own name."""
    p = Path(os.path.abspath(path))
    return Path(os.path.realpath(p.parent)) / p.name


def _inside(path: Path | str, root: Path | str) -> bool:
    p, r = str(path), str(root)
    return p == r or p.startswith(r if r.endswith(os.sep) else r + os.sep)


@dataclass(frozen=True)
class PlannedFile:
    entry: str  # what the wheel calls it: an archive entry, "entry point NAME", or a dist-info file
    final: Path  # where it is installed (absolute, not resolved)


def wheel_layout(
    wheel: Path, filename: str, scheme_dict: Mapping[str, str], interpreter: str, script_kind: str, where: str
) -> list[PlannedFile]:
    """Every file installing ``wheel`` would write, as the ``installer`` library computes it;
    nothing is written. A path outside its scheme directory is refused."""
    from installer import install
    from installer.destinations import WheelDestination
    from installer.records import RecordEntry
    from installer.scripts import Script
    from installer.sources import WheelFile

    planned: list[PlannedFile] = []

    def add(scheme: str, path: str, entry: str) -> RecordEntry:
        root = Path(os.path.abspath(scheme_dict[scheme]))
        final = Path(os.path.abspath(root / path))
        if not _inside(final, root) or final == root:
            raise InputError(f"{filename}: refusing {entry!r}: it would be written outside {scheme} ({root})", where=where)
        planned.append(PlannedFile(entry, final))
        return RecordEntry(path, None, None)

    class Collector(WheelDestination):
        def write_script(self, name: str, module: str, attr: str, section: Any) -> RecordEntry:
            script, _ = Script(name, module, attr, section).generate(interpreter, script_kind)  # type: ignore[arg-type]
            return add("scripts", script, f"entry point {name}")

        def write_file(
            self, scheme: Scheme, path: Union[str, os.PathLike[str]], stream: BinaryIO, is_executable: bool  # noqa: UP007
        ) -> RecordEntry:
            return add(scheme, os.fspath(path), os.fspath(path))

        def finalize_installation(
            self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
        ) -> None:
            add(scheme, record_file_path, record_file_path)

    import warnings

    try:
        with WheelFile.open(wheel) as source, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # installer warns about __pycache__ entries it skips
            install(source, Collector(), additional_metadata={"INSTALLER": b"varsolve\n"})
    except InputError:
        raise
    except Exception as exc:  # installer raises ValueError subclasses, KeyError, zipfile errors
        raise InputError(f"{filename}: not a valid wheel: {first_line(exc)}", where=where) from None
    return planned


# -- the environment ----------------------------------------------------------------------------------


@dataclass
class Environment:
    """The directories an install may touch, the files it must not, and who owns what."""

    prefix: Path
    scheme_dict: dict[str, str]  # purelib, platlib, headers, scripts, data (absolute)
    executable: str
    installed: dict[str, dict[str, str]]  # name -> version, dist-info path
    roots: tuple[Path, ...] = ()
    _owners: dict[Path, list[str]] | None = field(default=None, repr=False)
    _real: dict[str, str] = field(default_factory=dict, repr=False)  # directory -> its real path

    def __post_init__(self) -> None:
        self.roots = tuple(dict.fromkeys(Path(os.path.realpath(p)) for p in self.scheme_dict.values()))
        self._scripts = os.path.realpath(self.scheme_dict["scripts"])
        self._executable = real_key(self.executable)
        real_prefix = Path(os.path.realpath(self.prefix))
        self._pyvenv = real_prefix / "pyvenv.cfg"
        self._state = real_prefix / STATE_DIR

    @property
    def state_dir(self) -> Path:
        return self.prefix / STATE_DIR

    def key(self, path: Path | str) -> Path:
        """:func:`real_key`, with the real paths of directories remembered (they do not change
        while an install is checked)."""
        parent, name = os.path.split(os.path.abspath(path))
        real = self._real.get(parent)
        if real is None:
            real = self._real[parent] = os.path.realpath(parent)
        return Path(os.path.join(real, name))

    def inside(self, key: Path) -> bool:
        """Whether a key lies inside one of the scheme directories."""
        return any(_inside(key, root) and key != root for root in self.roots)

    def protected(self, key: Path) -> str | None:
        """Why this file is the environment's own and must be neither written nor removed."""
        if str(key.parent) == self._scripts and (_INTERPRETER_NAME.match(key.name) or _ACTIVATE_NAME.match(key.name)):
            return "the environment's interpreter or activation script"
        if key == self._executable:
            return "the environment's interpreter"
        if key == self._pyvenv:
            return "the environment's pyvenv.cfg"
        if _inside(key, self._state):
            return "varsolve's install journal"
        return None

    def record_files(self, dist_info: Path) -> tuple[list[Path], list[str]]:
        """The files a distribution owns: (keys inside the environment, RECORD paths outside it,
        which are never touched). Every file in its dist-info directory belongs to it too."""
        record = dist_info / "RECORD"
        try:
            text = record.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else first_line(exc)
            raise InputError(f"cannot read the RECORD of the installed distribution: {reason}", where=str(record)) from None
        base = dist_info.parent
        inside: dict[Path, None] = {}
        outside: list[str] = []
        try:
            rows = list(csv.reader(text.splitlines()))
        except csv.Error as exc:
            raise InputError(f"malformed RECORD: {exc}", where=str(record)) from None
        for row in rows:
            if not row or not row[0] or "\x00" in row[0]:
                continue
            key = self.key(base / row[0])
            if self.inside(key):
                inside[key] = None
                if key.suffix == ".py":  # its bytecode, which no RECORD lists
                    cache = key.parent / "__pycache__"
                    if cache.is_dir():
                        for pyc in cache.glob(f"{key.stem}.*.pyc"):
                            inside[self.key(pyc)] = None
            else:
                outside.append(row[0])
        if dist_info.is_dir():
            for p in dist_info.rglob("*"):
                if not p.is_dir():
                    inside[self.key(p)] = None
        return list(inside), outside

    def owners(self) -> dict[Path, list[str]]:
        """key -> the installed distributions whose RECORDs list it (read once)."""
        if self._owners is None:
            owners: dict[Path, list[str]] = {}
            for name, info in sorted(self.installed.items()):
                try:
                    files, _ = self.record_files(Path(info["path"]))
                except InputError:
                    continue
                for key in files:
                    owners.setdefault(key, []).append(canonicalize_name(name))
            self._owners = owners
        return self._owners

    def removable_dir(self, directory: Path) -> bool:
        """A directory inside the environment that holds no scheme directory (may be removed
        when the files it held are)."""
        return self.inside(directory) and not any(_inside(root, directory) for root in self.roots)


def is_file_like(path: Path) -> bool:
    """Exists and is not a directory (a dangling symlink counts)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISDIR(mode)

