"""Installs: hostile wheels, RECORDs that point out of the venv, and installs interrupted by
SIGINT or SIGKILL (docs/reliability.md, "Installs: the journal and the path rules").

Everything is made at test time: wheels written with zipfile, locks written by ``varsolve lock``
from a find-links folder of them (a hostile wheel replaces a good one after locking, with the
lock's hash and size updated, as a compromised index would serve it), real venvs
(``venv --without-pip``), the CLI in a subprocess.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hostile.corpus import (
    DATA_LOSS,
    HANG,
    TRACEBACK,
    WRONG,
    Outcome,
    case,
    expect_clean_error,
    expect_success,
    tree_snapshot,
    varsolve,
)

WHEELS, INSTALLS = "wheels and sdists", "installs and interrupts"
POSIX = os.name != "nt"


# -- wheels ------------------------------------------------------------------------------------------


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wheel_bytes(
    name: str,
    version: str,
    files: Mapping[str, bytes],
    *,
    entry_points: str | None = None,
    record: bytes | None = None,
    metadata: bytes | None = None,
    raw: Sequence[tuple[str, bytes]] = (),
) -> bytes:
    """A wheel: ``files`` plus METADATA (or ``metadata``), WHEEL (purelib) and a correct RECORD
    (``record`` replaces it); ``raw`` entries are written as given and listed in RECORD too."""
    dist = f"{name}-{version}.dist-info"
    entries = list(files.items()) + list(raw)
    entries.append((f"{dist}/METADATA", metadata or f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()))
    entries.append((f"{dist}/WHEEL", b"Wheel-Version: 1.0\nGenerator: hostile\nRoot-Is-Purelib: true\nTag: py3-none-any\n"))
    if entry_points is not None:
        entries.append((f"{dist}/entry_points.txt", entry_points.encode()))
    if record is None:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        for path, data in entries:
            writer.writerow([path, _digest(data), len(data)])
        writer.writerow([f"{dist}/RECORD", "", ""])
        record = text.getvalue().encode()
    entries.append((f"{dist}/RECORD", record))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in entries:
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def wheel_name(name: str, version: str) -> str:
    return f"{name}-{version}-py3-none-any.whl"


def package_files(name: str, version: str, count: int = 3) -> dict[str, bytes]:
    """A package with ``count`` modules, one module only this version has, a subpackage and a
    ``.data/scripts`` script: old and new versions differ in files and directories."""
    tag = version.replace(".", "_")
    files = {f"{name}/__init__.py": f"VERSION = {version!r}\n".encode()}
    for k in range(count):
        files[f"{name}/m{k}.py"] = f"# {name} {version} module {k}\n".encode() * 8
    files[f"{name}/only_{tag}.py"] = b"ONLY = True\n"
    files[f"{name}/sub_{tag}/__init__.py"] = b""
    files[f"{name}-{version}.data/scripts/{name}-tool"] = f"#!python\nprint('{name} {version}')\n".encode()
    return files


def good_wheel(name: str, version: str, count: int = 3) -> bytes:
    return wheel_bytes(name, version, package_files(name, version, count), entry_points=f"[console_scripts]\n{name}-cli = {name}:main\n")


# -- a venv and locks ----------------------------------------------------------------------------------


@dataclass
class World:
    tmp: Path
    wheels: Path
    venv: Path

    @property
    def python(self) -> Path:
        return self.venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

    @property
    def site(self) -> Path:
        return next((self.venv / "lib").glob("python*/site-packages")) if POSIX else self.venv / "Lib" / "site-packages"

    def add(self, name: str, version: str, data: bytes) -> Path:
        path = self.wheels / wheel_name(name, version)
        path.write_bytes(data)
        return path

    def lock(self, *requirements: str, name: str = "lock") -> Path:
        out = self.tmp / name / "pylock.toml"
        out.parent.mkdir(exist_ok=True)
        proc = varsolve("lock", *requirements, "--find-links", str(self.wheels), "-o", str(out), cwd=self.tmp, timeout=60)
        assert proc is not None and proc.returncode == 0, proc and proc.stderr
        return out

    def install(self, lock: Path, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess[str] | None:
        return varsolve("install", str(lock), "--python", str(self.python), *extra, cwd=self.tmp, timeout=timeout)


def world(tmp: Path) -> World:
    from lock_helpers import make_venv

    wheels = tmp / "wheels"
    wheels.mkdir()
    w = World(tmp, wheels, tmp / "venv")
    make_venv(w.venv)
    return w


def swap_wheel(lock: Path, filename: str, data: bytes) -> None:
    """Replace a locked wheel's bytes, and its sha256 and size in the lock (a compromised index
    serving what a lock made from it says)."""
    import tomli_w

    doc = tomllib.loads(lock.read_text(encoding="utf-8"))
    for package in doc["packages"]:
        for w in package.get("wheels", []):
            if w["name"] == filename:
                (lock.parent / w["path"]).write_bytes(data)
                w["hashes"] = {"sha256": hashlib.sha256(data).hexdigest()}
                w["size"] = len(data)
                lock.write_text(tomli_w.dumps(doc), encoding="utf-8")
                return
    raise AssertionError(f"{filename} is not in {lock}")


def _links(venv: Path) -> dict[str, str]:
    """The venv's symlinks (the interpreter) and their targets: tree_snapshot skips symlinks."""
    return {str(p.relative_to(venv)): os.readlink(p) for p in sorted(venv.rglob("*")) if p.is_symlink()}


def _unchanged(w: World, before: tuple[dict[str, bytes], dict[str, str]]) -> str | None:
    now = (tree_snapshot(w.venv), _links(w.venv))
    if now == before:
        return None
    changed = sorted(set(now[0].items()) ^ set(before[0].items()) | set(now[1].items()) ^ set(before[1].items()))
    return f"the venv changed: {[c[0] for c in changed][:5]}"


def refused_before_writing(w: World, lock: Path, *names: str) -> Outcome:
    """``varsolve install`` must end with one line naming the file, and leave the venv as it was
    (a venv that has an older release of the package installed)."""
    before = (tree_snapshot(w.venv), _links(w.venv))
    outcome = expect_clean_error(w.install(lock), names=names)
    damage = _unchanged(w, before)
    return Outcome(DATA_LOSS, damage) if damage else outcome


def _hostile(tmp: Path, data: bytes, *names: str, version: str = "2.0") -> Outcome:
    """``evil 1.0`` installed; the lock of ``evil 2.0`` serves ``data``."""
    w = world(tmp)
    w.add("evil", "1.0", good_wheel("evil", "1.0"))
    w.add("evil", "2.0", good_wheel("evil", "2.0"))
    old = w.lock("evil==1.0", name="old")
    assert (proc := w.install(old)) is not None and proc.returncode == 0, proc and proc.stderr
    new = w.lock(f"evil=={version}", name="new")
    swap_wheel(new, wheel_name("evil", version), data)
    return refused_before_writing(w, new, wheel_name("evil", version), *names)


# -- corrupt and malicious wheels ----------------------------------------------------------------------


@case(WHEELS, "a .whl that is not a zip")
def not_a_zip(tmp: Path) -> Outcome:
    return _hostile(tmp, b"this is not a zip file\n" * 10, "not a valid wheel")


@case(WHEELS, "a zip bomb as METADATA (40 MiB of zeros)")
def metadata_bomb(tmp: Path) -> Outcome:
    bomb = b"Metadata-Version: 2.1\nName: evil\nVersion: 2.0\n\n" + b"\0" * (40 << 20)
    return _hostile(tmp, wheel_bytes("evil", "2.0", {"evil/__init__.py": b""}, metadata=bomb), "METADATA", "zip bomb")


@case(WHEELS, "a zip bomb as a module (100 MiB of zeros)")
def module_bomb(tmp: Path) -> Outcome:
    data = wheel_bytes("evil", "2.0", {"evil/__init__.py": b"", "evil/zeros.py": b"\0" * (100 << 20)})
    return _hostile(tmp, data, "zip bomb")


@case(WHEELS, "RECORD hash mismatch")
def record_mismatch(tmp: Path) -> Outcome:
    files = package_files("evil", "2.0")
    good = wheel_bytes("evil", "2.0", files)
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        record = archive.read("evil-2.0.dist-info/RECORD")
    files["evil/m0.py"] = b"import os; os.system('echo owned')\n"
    return _hostile(tmp, wheel_bytes("evil", "2.0", files, record=record), "didn't match RECORD")


@case(WHEELS, "an entry ../../../../outside.txt")
def dotdot_entry(tmp: Path) -> Outcome:
    # From site-packages (venv/lib/pythonX.Y/site-packages), four levels up is outside the venv.
    data = wheel_bytes("evil", "2.0", {"evil/__init__.py": b""}, raw=[("../../../../outside.txt", b"owned\n")])
    outcome = _hostile(tmp, data, "'..'")
    return Outcome(DATA_LOSS, "outside.txt written") if (tmp / "outside.txt").exists() else outcome


@case(WHEELS, "an entry with an absolute path")
def absolute_entry(tmp: Path) -> Outcome:
    target = tmp / "absolute.txt"
    data = wheel_bytes("evil", "2.0", {"evil/__init__.py": b""}, raw=[(str(target), b"owned\n")])
    outcome = _hostile(tmp, data, "absolute path")
    return Outcome(DATA_LOSS, f"{target} written") if target.exists() else outcome


@case(WHEELS, "a .data/purelib entry that climbs out with ..")
def data_dotdot_entry(tmp: Path) -> Outcome:
    data = wheel_bytes("evil", "2.0", {"evil/__init__.py": b""}, raw=[("evil-2.0.data/purelib/../../../../x.txt", b"owned\n")])
    return _hostile(tmp, data, "'..'")


@case(WHEELS, "RECORD lists a path that climbs out with ..")
def record_dotdot(tmp: Path) -> Outcome:
    files = {"evil/__init__.py": b""}
    good = wheel_bytes("evil", "2.0", files)
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        record = archive.read("evil-2.0.dist-info/RECORD") + b"../../../../outside.txt,,\n"
    return _hostile(tmp, wheel_bytes("evil", "2.0", files, record=record), "RECORD path")


@case(WHEELS, "an entry listed twice")
def duplicate_entry(tmp: Path) -> Outcome:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile: "Duplicate name"
        data = wheel_bytes("evil", "2.0", {"evil/__init__.py": b""}, raw=[("evil/__init__.py", b"import os\n")])
    return _hostile(tmp, data, "listed twice")


@case(WHEELS, "a .data/scripts/python that would replace the interpreter")
def script_named_python(tmp: Path) -> Outcome:
    data = wheel_bytes("evil", "2.0", {"evil/__init__.py": b""}, raw=[("evil-2.0.data/scripts/python", b"#!/bin/sh\necho owned\n")])
    return _hostile(tmp, data, "interpreter")


@case(WHEELS, "a .data/data/bin/python3.X (the interpreter, through the data scheme)")
def data_named_python(tmp: Path) -> Outcome:
    name = f"python{sys.version_info.major}.{sys.version_info.minor}"
    data = wheel_bytes("evil", "2.0", {"evil/__init__.py": b""}, raw=[(f"evil-2.0.data/data/bin/{name}", b"#!/bin/sh\necho owned\n")])
    return _hostile(tmp, data, "interpreter")


@case(WHEELS, "a console script named python")
def entry_point_python(tmp: Path) -> Outcome:
    return _hostile(tmp, wheel_bytes("evil", "2.0", {"evil/__init__.py": b""}, entry_points="[console_scripts]\npython = evil:main\n"), "python")


@case(WHEELS, "a .data/data/pyvenv.cfg")
def data_pyvenv(tmp: Path) -> Outcome:
    data = wheel_bytes("evil", "2.0", {"evil/__init__.py": b""}, raw=[("evil-2.0.data/data/pyvenv.cfg", b"home = /tmp\n")])
    return _hostile(tmp, data, "pyvenv.cfg")


@case(WHEELS, "a wheel that would write into varsolve's install journal")
def data_journal(tmp: Path) -> Outcome:
    data = wheel_bytes("evil", "2.0", {"evil/__init__.py": b""}, raw=[("evil-2.0.data/data/.varsolve-install/journal.json", b"{}")])
    return _hostile(tmp, data, "journal")


@case(WHEELS, "a wheel that overwrites another installed distribution's module")
def clobbers_other(tmp: Path) -> Outcome:
    w = world(tmp)
    w.add("other", "1.0", good_wheel("other", "1.0"))
    w.add("evil", "1.0", wheel_bytes("evil", "1.0", {"evil/__init__.py": b""}))
    old = w.lock("other==1.0", name="old")
    assert (proc := w.install(old)) is not None and proc.returncode == 0, proc and proc.stderr
    new = w.lock("evil==1.0", "other==1.0", name="new")
    swap_wheel(new, wheel_name("evil", "1.0"), wheel_bytes("evil", "1.0", {"evil/__init__.py": b"", "other/__init__.py": b"owned = 1\n"}))
    return refused_before_writing(w, new, wheel_name("evil", "1.0"), "which other owns")


@case(WHEELS, "a wheel that overwrites a file no distribution owns (bin/activate)")
def clobbers_unowned(tmp: Path) -> Outcome:
    data = wheel_bytes("evil", "2.0", {"evil/__init__.py": b""}, raw=[("evil-2.0.data/scripts/activate", b"echo owned\n")])
    return _hostile(tmp, data, "activation script")


@case(WHEELS, "two wheels of one lock that install the same file")
def two_wheels_one_file(tmp: Path) -> Outcome:
    w = world(tmp)
    w.add("aaa", "1.0", wheel_bytes("aaa", "1.0", {"shared/mod.py": b"A = 1\n"}))
    w.add("bbb", "1.0", wheel_bytes("bbb", "1.0", {"bbb.py": b""}))
    lock = w.lock("aaa==1.0", "bbb==1.0")
    swap_wheel(lock, wheel_name("bbb", "1.0"), wheel_bytes("bbb", "1.0", {"shared/mod.py": b"B = 1\n"}))
    return refused_before_writing(w, lock, "installs", "shared")


@case(WHEELS, "a wheel that writes through a symlink out of the venv")
def through_symlink(tmp: Path) -> Outcome:
    if not POSIX:
        return expect_success(subprocess.CompletedProcess([], 0, "", ""))
    outside = tmp / "outside-dir"
    outside.mkdir()
    w = world(tmp)
    w.add("evil", "1.0", good_wheel("evil", "1.0"))
    (w.site / "linked").symlink_to(outside, target_is_directory=True)
    lock = w.lock("evil==1.0")
    swap_wheel(lock, wheel_name("evil", "1.0"), wheel_bytes("evil", "1.0", {"evil/__init__.py": b"", "linked/payload.py": b"owned\n"}))
    outcome = refused_before_writing(w, lock, wheel_name("evil", "1.0"), "outside the environment")
    return Outcome(DATA_LOSS, "written through the symlink") if any(outside.iterdir()) else outcome


@case(WHEELS, "a wheel with two .dist-info directories")
def two_dist_infos(tmp: Path) -> Outcome:
    data = wheel_bytes("evil", "2.0", {"evil/__init__.py": b""}, raw=[("other-1.0.dist-info/METADATA", b"Name: other\nVersion: 1.0\n")])
    return _hostile(tmp, data, ".dist-info")


@case(WHEELS, "WHEEL says Wheel-Version: 2.0")
def wheel_version_2(tmp: Path) -> Outcome:
    wheel = b"Wheel-Version: 2.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    data = _replace_entry(wheel_bytes("evil", "2.0", {"evil/__init__.py": b""}), "evil-2.0.dist-info/WHEEL", wheel)
    return _hostile(tmp, data, "Wheel-Version")


def _replace_entry(data: bytes, name: str, content: bytes) -> bytes:
    """The wheel with one entry's bytes replaced and RECORD rewritten to match."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = {i.filename: archive.read(i) for i in archive.infolist()}
    entries[name] = content
    record_name = next(k for k in entries if k.endswith(".dist-info/RECORD"))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    for path, body in entries.items():
        writer.writerow([path, "", ""] if path == record_name else [path, _digest(body), len(body)])
    entries[record_name] = text.getvalue().encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, body in entries.items():
            archive.writestr(path, body)
    return buffer.getvalue()


@case(WHEELS, "a wheel without WHEEL")
def no_wheel_file(tmp: Path) -> Outcome:
    data = wheel_bytes("evil", "2.0", {"evil/__init__.py": b""})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = [(i.filename, archive.read(i)) for i in archive.infolist() if not i.filename.endswith("/WHEEL")]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, body in entries:
            archive.writestr(path, body)
    return _hostile(tmp, buffer.getvalue(), "WHEEL")


@case(WHEELS, "the lock's sha256 does not match the file")
def lock_hash_mismatch(tmp: Path) -> Outcome:
    w = world(tmp)
    w.add("evil", "1.0", good_wheel("evil", "1.0"))
    w.add("evil", "2.0", good_wheel("evil", "2.0"))
    old = w.lock("evil==1.0", name="old")
    assert (proc := w.install(old)) is not None and proc.returncode == 0, proc and proc.stderr
    new = w.lock("evil==2.0", name="new")
    # The index's file changed after locking (same size): the lock's hash must catch it.
    path = w.wheels / wheel_name("evil", "2.0")
    data = bytearray(path.read_bytes())
    data[-30] ^= 0xFF
    path.write_bytes(bytes(data))
    return refused_before_writing(w, new, wheel_name("evil", "2.0"), "sha256 mismatch")


# -- uninstalling: RECORDs that point out of the venv --------------------------------------------------


def _record_points_at(
    tmp: Path, extra_rows: Sequence[str], outside_files: Sequence[Path], prepare: Callable[[World], None] = lambda w: None
) -> Outcome:
    """``evil 1.0`` installed, its RECORD edited to list ``extra_rows``; upgrading to 2.0 must
    succeed and leave every one of ``outside_files`` in place."""
    w = world(tmp)
    prepare(w)
    w.add("evil", "1.0", good_wheel("evil", "1.0"))
    w.add("evil", "2.0", good_wheel("evil", "2.0"))
    old, new = w.lock("evil==1.0", name="old"), w.lock("evil==2.0", name="new")
    assert (proc := w.install(old)) is not None and proc.returncode == 0, proc and proc.stderr
    record = w.site / "evil-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + "".join(f"{row},,\n" for row in extra_rows))
    before = {p: p.read_bytes() for p in outside_files}
    links = _links(w.venv)
    outcome = expect_success(w.install(new), contains=["installed evil 2.0"])
    gone = [str(p) for p, data in before.items() if not p.exists() or p.read_bytes() != data]
    if gone:
        return Outcome(DATA_LOSS, f"removed or changed: {gone}")
    if _links(w.venv) != links:
        return Outcome(DATA_LOSS, "the venv's interpreter links changed")
    return outcome


@case(INSTALLS, "an installed RECORD lists ../../../../outside.txt")
def uninstall_dotdot(tmp: Path) -> Outcome:
    outside = tmp / "outside.txt"
    outside.write_text("keep me\n")
    site_depth = 4  # venv/lib/pythonX.Y/site-packages -> tmp
    return _record_points_at(tmp, ["../" * site_depth + "outside.txt"], [outside])


@case(INSTALLS, "an installed RECORD lists an absolute path outside the venv")
def uninstall_absolute(tmp: Path) -> Outcome:
    outside = tmp / "absolute.txt"
    outside.write_text("keep me\n")
    return _record_points_at(tmp, [str(outside)], [outside])


@case(INSTALLS, "an installed RECORD lists a file behind a symlink out of the venv")
def uninstall_symlink(tmp: Path) -> Outcome:
    if not POSIX:
        return expect_success(subprocess.CompletedProcess([], 0, "", ""))
    outside = tmp / "outside-dir"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me\n")

    def link(w: World) -> None:
        (w.site / "linked").symlink_to(outside, target_is_directory=True)

    return _record_points_at(tmp, ["linked/precious.txt"], [outside / "precious.txt"], link)


@case(INSTALLS, "an installed RECORD lists the interpreter and pyvenv.cfg")
def uninstall_interpreter(tmp: Path) -> Outcome:
    name = f"python{sys.version_info.major}.{sys.version_info.minor}"
    outcome = _record_points_at(tmp, ["../../../bin/python", f"../../../bin/{name}", "../../../pyvenv.cfg"], [tmp / "venv" / "pyvenv.cfg"])
    if outcome.kind == "clean":
        check = subprocess.run([str(tmp / "venv" / "bin" / "python"), "-c", "import evil; print(evil.VERSION)"], capture_output=True, text=True, timeout=30)
        if check.stdout.strip() != "2.0":
            return Outcome(DATA_LOSS, f"the venv no longer works: {check.stderr[-300:]}")
    return outcome


@case(INSTALLS, "an installed RECORD lists another distribution's module")
def uninstall_shared(tmp: Path) -> Outcome:
    w = world(tmp)
    w.add("other", "1.0", good_wheel("other", "1.0"))
    w.add("evil", "1.0", good_wheel("evil", "1.0"))
    w.add("evil", "2.0", good_wheel("evil", "2.0"))
    old, new = w.lock("evil==1.0", "other==1.0", name="old"), w.lock("evil==2.0", "other==1.0", name="new")
    assert (proc := w.install(old)) is not None and proc.returncode == 0, proc and proc.stderr
    record = w.site / "evil-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + "other/__init__.py,,\n")
    outcome = expect_success(w.install(new), contains=["installed evil 2.0"])
    if not (w.site / "other" / "__init__.py").exists():
        return Outcome(DATA_LOSS, "other/__init__.py was removed with evil 1.0")
    return outcome


@case(INSTALLS, "an install journal of another venv (copied with the venv)")
def foreign_journal(tmp: Path) -> Outcome:
    w = world(tmp)
    w.add("evil", "1.0", good_wheel("evil", "1.0"))
    lock = w.lock("evil==1.0")
    state = w.venv / ".varsolve-install"
    state.mkdir()
    (state / "journal.json").write_text(
        '{"varsolve-install-journal": 1, "state": "switching", "prefix": "/elsewhere/venv", '
        '"aside": ["/elsewhere/venv/x"], "place": [], "created": [], "emptied": []}'
    )
    before = (tree_snapshot(w.venv), _links(w.venv))
    outcome = expect_clean_error(w.install(lock), names=["journal", "/elsewhere/venv"])
    damage = _unchanged(w, before)
    return Outcome(DATA_LOSS, damage) if damage else outcome


@case(INSTALLS, "install --recover with a lock, and install without one")
def recover_usage(tmp: Path) -> Outcome:
    w = world(tmp)
    proc = varsolve("install", "--python", str(w.python), cwd=tmp)
    first = expect_clean_error(proc, names=["PYLOCK"])
    if first.kind != "clean":
        return first
    nothing = varsolve("install", "--recover", "--python", str(w.python), cwd=tmp)
    return expect_success(nothing, contains=["nothing to recover"])


# -- interrupted upgrades --------------------------------------------------------------------------------

PACKAGES = [f"pkg{i}" for i in range(5)]
FILES_PER_PACKAGE = 40  # enough that staging and the switch-over take a measurable time
_OWN_SCRIPTS = ("python", "activate", "Activate.ps1")


@dataclass
class Upgrade:
    world: World
    old: Path
    new: Path
    pristine: Path  # the venv with every package at 1.0, copied back before each trial

    def reset(self) -> None:
        shutil.rmtree(self.world.venv)
        shutil.copytree(self.pristine, self.world.venv, symlinks=True)


def upgrade(tmp: Path) -> Upgrade:
    w = world(tmp)
    for name in PACKAGES:
        for version in ("1.0", "2.0"):
            w.add(name, version, good_wheel(name, version, FILES_PER_PACKAGE))
    old = w.lock(*(f"{p}==1.0" for p in PACKAGES), name="old")
    new = w.lock(*(f"{p}==2.0" for p in PACKAGES), name="new")
    proc = w.install(old)
    assert proc is not None and proc.returncode == 0, proc and proc.stderr
    pristine = tmp / "pristine"
    shutil.copytree(w.venv, pristine, symlinks=True)
    return Upgrade(w, old, new, pristine)


def venv_state(w: World, *, journal_ok: bool = False) -> str:
    """"1.0" or "2.0" when every package is at that version and the venv holds exactly the files
    their RECORDs list, with the hashes they list; otherwise what is wrong."""
    site, problems, versions, listed = w.site, [], {}, set()
    for dist_info in sorted(site.glob("*.dist-info")):
        name, version = dist_info.name[: -len(".dist-info")].rsplit("-", 1)
        versions[name] = version
        record = dist_info / "RECORD"
        if not record.is_file():
            problems.append(f"{dist_info.name} has no RECORD")
            continue
        for row in csv.reader(record.read_text().splitlines()):
            if not row:
                continue
            path = Path(os.path.normpath(site / row[0]))
            listed.add(path)
            if not path.is_file():
                problems.append(f"{row[0]} is missing")
            elif row[1] and _digest(path.read_bytes()) != row[1]:
                problems.append(f"{row[0]} does not match its RECORD hash")
    present = {p for p in site.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    scripts = w.python.parent
    present |= {p for p in scripts.iterdir() if p.is_file() and not p.is_symlink() and not p.name.startswith(_OWN_SCRIPTS)}
    problems += [f"{p.relative_to(w.venv)} is listed by no RECORD" for p in sorted(present - listed)]
    problems += [f"{d.relative_to(w.venv)} is an empty directory" for d in sorted(site.rglob("*")) if d.is_dir() and not any(d.iterdir())]
    if sorted(versions) != PACKAGES:
        problems.append(f"installed: {sorted(versions)}")
    if len(set(versions.values())) > 1:
        problems.append(f"mixed versions: {versions}")
    if (w.venv / ".varsolve-install").exists() and not journal_ok:
        problems.append(".varsolve-install is left")
    if problems:
        return f"damaged ({len(problems)} problems: {problems[:4]})"
    return next(iter(versions.values()))


def _command() -> list[str]:
    script = Path(sys.executable).with_name("varsolve")
    return [str(script)] if script.exists() else [sys.executable, "-m", "varsolve.cli"]


@dataclass
class Run:
    """One ``varsolve install -v`` of the new lock, its stderr lines with their times."""

    process: subprocess.Popen[str]
    started: float
    lines: list[tuple[float, str]]
    reader: threading.Thread

    @classmethod
    def start(cls, u: Upgrade) -> Run:
        # A killed install cannot remove its download directory: keep it inside the case's folder.
        scratch = u.world.tmp / "scratch"
        scratch.mkdir(exist_ok=True)
        env = {**os.environ, "VARSOLVE_CACHE_DIR": str(u.world.tmp / ".cache"), "TMPDIR": str(scratch)}
        env.pop("PYTHONWARNINGS", None)
        process = subprocess.Popen(
            [*_command(), "install", str(u.new), "--python", str(u.world.python), "-v"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env, cwd=u.world.tmp,
        )
        run = cls(process, time.monotonic(), [], threading.Thread(target=lambda: None))
        run.reader = threading.Thread(target=run._read, daemon=True)
        run.reader.start()
        return run

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append((time.monotonic() - self.started, line.rstrip("\n")))

    def wait_for(self, text: str, timeout: float = 30) -> float | None:
        """The time the first stderr line containing ``text`` came; None if it never did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, line in list(self.lines):
                if text in line:
                    return t
            if self.process.poll() is not None and not self.reader.is_alive():
                return None
            time.sleep(0.002)
        return None

    def finish(self, timeout: float = 30) -> int | None:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None
        self.reader.join(5)
        return code

    def phase(self) -> str:
        """The last phase the install announced before it ended."""
        seen = [line for _, line in self.lines if "info:" in line]
        return seen[-1].split("info: ", 1)[1].split(" ", 1)[0].rstrip(":;") if seen else "before staging"

    def stderr(self) -> str:
        return "\n".join(line for _, line in self.lines)


def _listing(w: World) -> tuple[frozenset[str], ...]:
    """What the first write of an install changes, whatever the implementation: the names in
    the venv's root, site-packages and scripts directory."""
    out = []
    for directory in (w.venv, w.site, w.python.parent):
        try:
            out.append(frozenset(os.listdir(directory)))
        except OSError:
            out.append(frozenset())
    return tuple(out)


def _first_write(run: Run, w: World, baseline: tuple[frozenset[str], ...], timeout: float = 60) -> float | None:
    """When the install first changed the venv (polled); None if it ended without doing so."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _listing(w) != baseline:
            return time.monotonic() - run.started
        if run.process.poll() is not None:
            return None
        time.sleep(0.001)
    return None


def timeline(u: Upgrade) -> tuple[float, float]:
    """One uninterrupted upgrade, measured: when it first wrote to the venv, and its end."""
    baseline = _listing(u.world)
    run = Run.start(u)
    first = _first_write(run, u.world, baseline)
    code = run.finish(60)
    end = time.monotonic() - run.started
    assert code == 0 and first is not None, run.stderr()
    u.reset()
    return first, end


def delays(first: float, end: float, count: int = 8) -> list[tuple[bool, float]]:
    """``count`` kill points: a quarter before the first write (counted from the start), the rest
    counted from the first write the trial sees (so that a loaded machine still hits staging,
    the switch-over and the cleanup), spread up to the end of the measured run."""
    before = max(1, count // 4)
    points = [(False, first * (k + 1) / (before + 1)) for k in range(before)]
    after = count - before
    points += [(True, (end - first) * k / max(after - 1, 1)) for k in range(after)]
    return points


def _interrupt(u: Upgrade, sig: int, after_first_write: bool, delay: float) -> tuple[Run, int | None]:
    u.reset()
    baseline = _listing(u.world)
    run = Run.start(u)
    if after_first_write:
        if _first_write(run, u.world, baseline) is None:
            return run, run.finish()
        time.sleep(delay)
    else:
        # Not before varsolve runs: Ctrl-C while Python itself starts (the console script's own
        # imports) is Python's traceback, not varsolve's.
        if run.wait_for("info: installing") is None:
            return run, run.finish()
        time.sleep(max(0.0, delay - (time.monotonic() - run.started)))
    if run.process.poll() is None:
        run.process.send_signal(sig)
    return run, run.finish()


def _interrupted_upgrades(tmp: Path, sig: int, recover: bool) -> Outcome:
    if not POSIX:
        return expect_success(subprocess.CompletedProcess([], 0, "", ""))
    u = upgrade(tmp)
    points = delays(*timeline(u))
    report = []
    for after_first_write, delay in points:
        run, code = _interrupt(u, sig, after_first_write, delay)
        when = f"{'first write+' if after_first_write else ''}{delay:.3f}s"
        if code is None:
            return Outcome(HANG, f"{when}: no exit after the signal")
        if sig == signal.SIGINT and "Traceback (most recent call last)" in run.stderr():
            return Outcome(TRACEBACK, f"{when}: {run.stderr()[-1500:]}")
        state = venv_state(u.world)
        # -SIGINT: the signal came while the interpreter was shutting down, after varsolve had
        # finished (Python restores the default handler then); the install is complete.
        finished_as_it_exited = code == -signal.SIGINT and state == "2.0"
        if sig == signal.SIGINT and code not in (0, 130) and not finished_as_it_exited:
            return Outcome(WRONG, f"{when}: exit {code} after SIGINT (130: interrupted, 0: it had finished)")
        note = ""
        if recover:
            pending = (u.world.venv / ".varsolve-install").exists()
            killed = venv_state(u.world, journal_ok=True).split(" ", 1)[0] + (" with a journal" if pending else "")
            proc = varsolve("install", "--recover", "--python", str(u.world.python), cwd=tmp, timeout=60)
            if proc is None or proc.returncode != 0:
                return Outcome(WRONG, f"{when}: --recover failed: {proc and proc.stderr}")
            note = f" (right after the kill: {killed}; --recover: {proc.stdout.strip().split(' ', 1)[0] or '-'})"
            state = venv_state(u.world)
        if state not in ("1.0", "2.0"):
            return Outcome(DATA_LOSS, f"{when} (killed while {run.phase()}, exit {code}): {state}; so far: {report}")
        report.append(f"{when} {run.phase()} -> {state}{note}")
    return Outcome("clean", "; ".join(report))


@case(INSTALLS, "SIGINT at 8 points of a 5-package upgrade: entirely old or new right after")
def sigint_upgrade(tmp: Path) -> Outcome:
    return _interrupted_upgrades(tmp, signal.SIGINT, recover=False)


@case(INSTALLS, "SIGKILL at 8 points of a 5-package upgrade: entirely old or new after install --recover")
def sigkill_upgrade(tmp: Path) -> Outcome:
    return _interrupted_upgrades(tmp, signal.SIGKILL, recover=True)


@case(INSTALLS, "SIGKILL during the switch-over, then a plain varsolve install")
def sigkill_then_install(tmp: Path) -> Outcome:
    if not POSIX:
        return expect_success(subprocess.CompletedProcess([], 0, "", ""))
    u = upgrade(tmp)
    run = Run.start(u)
    if run.wait_for("switching over") is not None:  # -v says the journal is written
        run.process.send_signal(signal.SIGKILL)
    code = run.finish()
    if code is None:
        return Outcome(HANG, "no exit after SIGKILL")
    killed = venv_state(u.world)
    pending = (u.world.venv / ".varsolve-install").exists()
    proc = u.world.install(u.new)
    outcome = expect_success(proc, contains=["installed pkg0 2.0"])
    if outcome.kind != "clean":
        return outcome
    assert proc is not None
    said = [line for line in proc.stderr.splitlines() if "interrupted install" in line]
    if pending and not said:
        return Outcome(WRONG, f"the journal was left, and the next install did not say it recovered: {proc.stderr[-500:]}")
    state = venv_state(u.world)
    if state != "2.0":
        return Outcome(DATA_LOSS, f"after the kill ({killed}) and a new install: {state}")
    return Outcome("clean", f"killed {run.phase()}: {killed.split(' ', 1)[0]}; next install: {said}")
