"""Building the metadata of an sdist, the PEP 517 way, as pip and uv do.

Only for an sdist whose ``PKG-INFO`` is not final (PEP 643) and only when the search needs it
(:meth:`varsolve.sources.simple.SimpleRepository.metadata`, in the caller's thread):

1. the sdist is unpacked (``tarfile``'s ``data`` filter: no member outside the folder) into a
   temporary folder;
2. its ``[build-system]`` is read and checked by the ``build`` library
   (:class:`build.ProjectBuilder`), which calls the backend's hooks through
   ``pyproject_hooks``;
3. the build requirements are resolved by varsolve itself, from the same sources, for the
   running interpreter (the one that runs the backend), from wheels only, and every resolution
   goes through the verifier; the wheels are installed with ``installer`` into a fresh virtual
   environment without pip (:mod:`venv`);
4. ``get_requires_for_build_wheel``, then ``prepare_metadata_for_build_wheel`` (``build``
   falls back to ``build_wheel`` and reads the wheel's ``METADATA``);
5. the ``METADATA`` must parse and name the sdist's project and version.

Every hook runs in its own process group with the run's remaining ``build_timeout``; on expiry
the whole group is killed. Whatever goes wrong becomes one :class:`~varsolve.errors.BuildError`
(the sdist's filename and a one-line reason, the backend's last line of output when it has
one); nothing is cached unless the build succeeded (the caller caches by the sdist's hash).
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import BuildError, SourceError, VarsolveError
from ..repository import DistFile, Release, Repository
from .settings import SourceSettings

if TYPE_CHECKING:
    import build
    from packaging.tags import Tag

    from ..target import Target

T = TypeVar("T")

log = logging.getLogger("varsolve")

# Environment variables a backend must not inherit from varsolve's own process.
_DROPPED_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONEXECUTABLE", "VIRTUAL_ENV")


class BuildSource(Repository, Protocol):
    """A repository that can also hand out whole files (the build requirements' wheels)."""

    def download(self, release: Release, file: DistFile) -> bytes:
        """The file's bytes, hash-checked."""


class _Failed(Exception):
    """A step failed; ``reason`` is the one line the user sees."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _TimedOut(Exception):
    """The build's time ran out while a hook was running (its process group was killed)."""


def host_target() -> Target:
    """The running interpreter as a target: the build environment's Python and platform."""
    import platform

    from packaging.tags import platform_tags

    from ..target import Platform, Target, parse_python

    of_running_interpreter = getattr(Target, "of_running_interpreter", None)
    if of_running_interpreter is not None:
        target: Target = of_running_interpreter()
        return target
    host = Platform(
        name="host",
        tag_platforms=tuple(dict.fromkeys(platform_tags())),
        sys_platform=sys.platform,
        platform_system=platform.system(),
        platform_machine=platform.machine(),
        os_name=os.name,
    )
    return Target(python=parse_python(".".join(map(str, sys.version_info[:3]))), platform=host)


def interpreter_target(environment: Mapping[str, str], tags: Sequence[Tag]) -> Target:
    """Another interpreter as a target (``varsolve install --python``): its marker environment
    and its tags' platforms, most specific first."""
    from ..target import Platform, Target, parse_python

    platforms = tuple(dict.fromkeys(tag.platform for tag in tags if tag.platform != "any"))
    version = environment.get("python_full_version", "")
    try:
        python = parse_python(version)
    except VarsolveError:  # a local build ("3.12.1+"): its X.Y is what tags and markers use
        python = parse_python(environment.get("python_version", "3.12"))
    platform = Platform(
        name=platforms[0] if platforms else "any",
        tag_platforms=platforms,
        sys_platform=environment.get("sys_platform", ""),
        platform_system=environment.get("platform_system", ""),
        platform_machine=environment.get("platform_machine", ""),
        os_name=environment.get("os_name", ""),
    )
    return Target(python=python, platform=platform)


class SdistBuilder:
    """Builds sdists for one repository, one at a time: their metadata (the running interpreter
    runs the backend) or a wheel (``python``: the interpreter the wheel is for, whose
    ``target`` the build requirements are resolved for)."""

    def __init__(
        self, source: BuildSource, settings: SourceSettings, *, python: str | None = None, target: Target | None = None
    ) -> None:
        self.source = source
        self.timeout = settings.build_timeout
        self.python = python
        self._lock = threading.RLock()
        self._target = target

    def close(self) -> None:
        return None

    def metadata(self, release: Release, filename: str, data: bytes) -> bytes:
        """The ``METADATA`` that building ``data`` (the sdist ``filename`` of ``release``) gives;
        :class:`~varsolve.errors.BuildError` when it cannot be had."""
        log.warning("building metadata of %s (runs its build backend)", filename)

        def action(builder: build.ProjectBuilder, tmp: Path) -> bytes:
            metadata_dir = Path(builder.metadata_path(tmp / "metadata"))
            try:
                raw = (metadata_dir / "METADATA").read_bytes()
            except OSError as exc:
                raise _Failed(f"the backend gave no METADATA ({exc.strerror})") from None
            check_metadata(raw, release)
            return raw

        return self._run(release, filename, data, action)

    def wheel(self, release: Release, filename: str, data: bytes, out_dir: Path) -> Path:
        """A wheel built from ``data`` (``build_wheel``) into ``out_dir``, whose ``METADATA``
        names ``release``."""
        log.warning("building a wheel of %s (runs its build backend)", filename)

        def action(builder: build.ProjectBuilder, tmp: Path) -> Path:
            import zipfile

            from .distmeta import wheel_metadata

            path = Path(builder.build("wheel", tmp / "wheel"))
            try:
                with zipfile.ZipFile(path) as archive:
                    raw = wheel_metadata(archive, release.name, path.name)
            except (zipfile.BadZipFile, OSError, SourceError) as exc:
                raise _Failed(f"the backend gave an invalid wheel {path.name} ({_one_line(str(exc))})") from None
            check_metadata(raw, release)
            out_dir.mkdir(parents=True, exist_ok=True)
            return Path(shutil.move(str(path), str(out_dir / path.name)))

        return self._run(release, filename, data, action)

    # -- the steps --------------------------------------------------------------------------------
    def _run(self, release: Release, filename: str, data: bytes, action: Callable[[build.ProjectBuilder, Path], T]) -> T:
        with self._lock, tempfile.TemporaryDirectory(prefix="varsolve-build-") as tmp:
            started = time.monotonic()
            # The backend's warnings (pyproject_hooks re-raises them here) go to -v, not stderr.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    result = self._build(filename, data, Path(tmp), action)
                except _Failed as exc:
                    raise BuildError(filename, exc.reason) from None
                finally:
                    for warning in caught:
                        log.info("%s: %s: %s", filename, warning.category.__name__, _one_line(str(warning.message)))
            log.info("built %s in %.1f s", filename, time.monotonic() - started)
            return result

    def _build(self, filename: str, data: bytes, tmp: Path, action: Callable[[build.ProjectBuilder, Path], T]) -> T:
        import build

        source_dir = unpack(data, filename, tmp / "src")
        env = _Environment(tmp / "env", self.python)
        runner = _Runner(self.timeout, tmp / "backend.log")
        try:
            builder = build.ProjectBuilder.from_isolated_env(env, source_dir, runner=runner)
            requires = sorted(builder.build_system_requires)
        except build.BuildException as exc:
            raise _Failed(_one_line(str(exc).replace(str(source_dir) + os.sep, ""))) from None
        self._install(env, requires)
        try:
            extra = sorted(builder.get_requires_for_build("wheel") - set(requires))
            if extra:
                self._install(env, requires + extra)
            return action(builder, tmp)
        except build.BuildBackendException as exc:
            raise _Failed(runner.explain(exc)) from None
        except build.BuildException as exc:
            raise _Failed(f"{runner.hook}: {_one_line(str(exc))}") from None
        finally:
            log.info("%s: the build backend said:\n%s", filename, runner.output())

    def _install(self, env: _Environment, requirements: Sequence[str]) -> None:
        """Resolve ``requirements`` and install them into ``env`` (a fresh one when an installed
        version would change)."""
        if not requirements:
            return
        pins = self._resolve(requirements)
        if any(env.installed.get(release.name, release.version) != release.version for release, _ in pins):
            env.recreate()
        for release, file in pins:
            if release.name in env.installed:
                continue
            path = env.path.parent / "wheels" / file.filename
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(self.source.download(release, file))
            env.install(path, release)

    def _resolve(self, requirements: Sequence[str]) -> list[tuple[Release, DistFile]]:
        """The wheels of the build requirements, resolved by varsolve from the same sources
        for the running interpreter (and verified)."""
        from ..pipeline import solve
        from ..problem import Problem, ResolverOptions

        if self._target is None:
            self._target = host_target()
        listed = ", ".join(requirements)
        # Wheels only: no build of a build requirement, hence no build cycles.
        problem = Problem(self.source, self._target, tuple(requirements), ResolverOptions(no_build=frozenset({":all:"})))
        try:
            resolution = solve(problem, "backtrack")
        except SourceError:
            raise  # the sources failed (network, index): an error of the run, not of this sdist
        except VarsolveError as exc:
            raise _Failed(f"its build requirements ({listed}) are invalid: {_one_line(str(exc))}") from None
        if not resolution.satisfiable:
            why = "; ".join(step.text for step in resolution.explanation.steps) if resolution.explanation else ""
            raise _Failed(f"its build requirements ({listed}) cannot be installed: {_one_line(why) or 'no resolution'}")
        if resolution.violations:
            raise _Failed(f"its build requirements ({listed}) resolve inconsistently: {resolution.violations[0]}")
        pins: list[tuple[Release, DistFile]] = []
        for name, pin in sorted(resolution.packages.items()):
            release = next(r for r in self.source.releases(canonicalize_name(name)) if r.version == pin.version)
            file = next(f for f in release.files if f.filename == pin.filename)
            pins.append((release, file))
        log.info("build requirements %s: %s", listed, ", ".join(f.filename for _, f in pins))
        return pins


# -- the sdist ----------------------------------------------------------------------------------


def unpack(data: bytes, filename: str, dest: Path) -> Path:
    """Unpack the sdist ``data`` into ``dest``; the project folder (the one top-level folder,
    which must hold a ``pyproject.toml`` or ``setup.py``)."""
    import tarfile
    import zipfile

    dest.mkdir(parents=True)
    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    parts = Path(name).parts
                    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                        raise _Failed(f"not a valid sdist (member {name!r} points outside it)")
                archive.extractall(dest)
        else:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
                tar.extractall(dest, filter="data")
    except _Failed:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise _Failed(f"not a valid sdist ({_one_line(str(exc)) or type(exc).__name__})") from None
    entries = list(dest.iterdir())
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else dest
    if not (root / "pyproject.toml").is_file() and not (root / "setup.py").is_file():
        raise _Failed("not a valid sdist (no pyproject.toml or setup.py in it)")
    return root


def check_metadata(raw: bytes, release: Release) -> None:
    """The built ``METADATA`` parses and names ``release``'s project and version."""
    from packaging.metadata import parse_email

    from .distmeta import parse_core_metadata

    try:
        parse_core_metadata(raw, "METADATA")
        fields, _ = parse_email(raw)
    except (SourceError, ValueError, UnicodeDecodeError) as exc:
        raise _Failed(f"the backend gave malformed metadata ({_one_line(str(exc))})") from None
    name, version = fields.get("name", ""), fields.get("version", "")
    try:
        same = canonicalize_name(name) == release.name and Version(version) == release.version
    except InvalidVersion:
        same = False
    if not same:
        raise _Failed(f"the backend gave the metadata of {_one_line(name)[:80]!r} {_one_line(version)[:40]!r}")


# -- the environment ----------------------------------------------------------------------------


class _Environment:
    """A virtual environment without pip (:class:`build.env.IsolatedEnv`) of the running
    interpreter or of ``base_python``, filled with ``installer``."""

    def __init__(self, path: Path, base_python: str | None = None) -> None:
        self.path = path
        self.base_python = base_python
        self.installed: dict[str, Version] = {}
        self._paths: dict[str, str] | None = None
        self.recreate()

    def recreate(self) -> None:
        import venv

        try:
            if self.base_python is None:
                venv.EnvBuilder(clear=True, with_pip=False, symlinks=os.name != "nt").create(self.path)
            else:
                command = [self.base_python, "-I", "-m", "venv", "--clear", "--without-pip", str(self.path)]
                subprocess.run(command, check=True, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError) as exc:
            raise _Failed(f"cannot create a build environment ({_one_line(str(exc))})") from None
        self.installed = {}

    def paths(self) -> dict[str, str]:
        """The environment's install scheme, as its own Python says."""
        if self._paths is None:
            import json

            probe = "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"
            try:
                proc = subprocess.run(
                    [self.python_executable, "-I", "-c", probe], check=True, capture_output=True, timeout=60,
                    stdin=subprocess.DEVNULL,
                )
                self._paths = dict(json.loads(proc.stdout))
            except (OSError, subprocess.SubprocessError, ValueError) as exc:
                raise _Failed(f"cannot read the build environment's paths ({_one_line(str(exc))})") from None
        return self._paths

    @property
    def bin(self) -> Path:
        return self.path / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python_executable(self) -> str:
        return str(self.bin / ("python.exe" if os.name == "nt" else "python"))

    def make_extra_environ(self) -> dict[str, str]:
        return {"PATH": os.pathsep.join([str(self.bin), os.environ.get("PATH", "")]), "VIRTUAL_ENV": str(self.path)}

    def install(self, wheel: Path, release: Release) -> None:
        from installer import install
        from installer.destinations import SchemeDictionaryDestination
        from installer.sources import WheelFile

        paths = self.paths()
        scheme = {key: paths[key] for key in ("purelib", "platlib", "scripts", "data")}
        scheme["headers"] = os.path.join(paths["include"], release.name)
        destination = SchemeDictionaryDestination(
            scheme, interpreter=self.python_executable, script_kind="win-amd64" if os.name == "nt" else "posix",
            bytecode_optimization_levels=(),
        )
        try:
            with WheelFile.open(wheel) as source:
                install(source, destination, additional_metadata={"INSTALLER": b"varsolve\n"})
        except Exception as exc:  # installer raises many kinds for a bad wheel
            raise _Failed(f"cannot install the build requirement {wheel.name} ({_one_line(str(exc))})") from None
        self.installed[release.name] = release.version


# -- running the hooks --------------------------------------------------------------------------


class _Runner:
    """``pyproject_hooks``' subprocess runner: each hook in its own process group, all of them
    within one ``timeout``; output (stdout and stderr) to ``log_path``."""

    def __init__(self, timeout: float, log_path: Path) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.log_path = log_path
        self.hook = "the build backend"

    def __call__(
        self, cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        # pyproject_hooks runs [python, _in_process.py, HOOK, CONTROL_DIR]
        self.hook = cmd[2] if len(cmd) > 2 else "the build backend"
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _TimedOut
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_VARIABLES}
        env.update(extra_environ or {})
        env["PYTHONNOUSERSITE"] = "1"
        with open(self.log_path, "ab") as out:
            try:
                proc = subprocess.Popen(
                    list(cmd), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=os.name != "nt",
                )
            except OSError as exc:
                raise _Failed(f"cannot start the build environment's Python ({exc.strerror})") from None
            try:
                returncode = proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                _kill(proc)
                raise _TimedOut from None
            finally:
                _kill(proc)  # whatever the hook left running in its group
        if returncode != 0:
            raise subprocess.CalledProcessError(returncode, list(cmd))

    def output(self) -> str:
        try:
            return self.log_path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return ""

    def last_line(self) -> str:
        for line in reversed(self.output().splitlines()):
            text = _one_line(line)
            if text:
                return text
        return ""

    def explain(self, exc: Exception) -> str:
        """One line for a :class:`build.BuildBackendException`."""
        import pyproject_hooks

        cause = getattr(exc, "exception", None)
        if isinstance(cause, _TimedOut):
            return f"{self.hook} did not finish within {self.timeout:g} s (--build-timeout); its processes were killed"
        if isinstance(cause, _Failed):
            return cause.reason
        if isinstance(cause, pyproject_hooks.BackendUnavailable):
            lines = [_one_line(line) for line in (cause.traceback or "").splitlines()]
            detail = next((line for line in reversed(lines) if line), "")
            return f"its build backend cannot be imported ({detail or _one_line(str(exc))})"
        if isinstance(cause, subprocess.CalledProcessError):
            last = self.last_line()
            return f"{self.hook} exited with {cause.returncode}" + (f": {last}" if last else "")
        return f"{self.hook}: {_one_line(str(cause or exc))}"


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """End ``proc`` and everything in its process group."""
    if os.name != "nt":
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass  # the group is gone already
    elif proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[^\x20-\x7e\u00a0-\uffff]")


def _one_line(text: str, limit: int = 300) -> str:
    """``text`` as one printable line of at most ``limit`` characters."""
    line = " ".join(_CONTROL.sub(" ", text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
