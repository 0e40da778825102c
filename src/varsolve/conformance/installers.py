"""Installer adapters: how to ask uv, pip or any command for a scenario's resolution.

An adapter turns a :class:`Job` (the loopback index, the target, the requirements, a scratch
folder) into an :class:`Invocation`, and the finished process into an :class:`Outcome` (what it
chose, or that it found no solution and its reason), or raises :class:`InstallerFailure` with one
line when the installer cannot be run, runs out of time or says something that cannot be read.

* ``uv``: ``uv pip compile --preview-features wheel-variants`` with ``--python-version`` and
  ``--python-platform`` (uv 0.13.9 reads variant support from the index's ``*-variants.json``,
  see :mod:`.target_index`); pins from its output, the file of each from its ``-v`` log
  (``Selecting: name==version [...] (filename)``): uv's pylock export refuses variant wheels.
* ``pip``: ``pip install --dry-run --report`` with ``--python-version``, one ``--platform`` per
  tag platform of the target, ``--only-binary :all:``; pip has no variant support.
* a command template (``--installer 'CMD {index_url} ...'``, :data:`PLACEHOLDERS`): exit status
  0 and a pip installation report, varsolve's ``resolve --format json`` or a pylock.toml listing
  one file per package, on stdout or in ``{report}``; exit status 1 means "no solution".

Each runs in a clean environment (no ``PIP_*``/``UV_*`` settings of this machine, no config
files, no cache) and in its own process group, killed whole at the deadline.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import string
import subprocess
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import InputError
from ..target import Target

__all__ = [
    "PLACEHOLDERS",
    "ChosenFile",
    "CommandInstaller",
    "Completed",
    "Installer",
    "InstallerFailure",
    "Invocation",
    "Job",
    "Outcome",
    "PipInstaller",
    "Rejection",
    "UvInstaller",
    "clean_environment",
    "get_installer",
    "run_invocation",
]

PLACEHOLDERS: dict[str, str] = {
    "index_url": "the loopback index (http://127.0.0.1:PORT/simple/)",
    "requirements": "a requirements file with the scenario's root requirements",
    "python": "the target Python version (3.12.0)",
    "platform": "the target platform, in uv's --python-platform names (x86_64-manylinux_2_39)",
    "platform_tag": "the target's most specific tag platform (manylinux_2_39_x86_64)",
    "variants": "a static provider file (docs/providers.md) with the target's variant properties",
    "report": "a path where the command may write its report instead of printing it",
    "workdir": "a scratch folder for this run",
    "scenario": "the scenario's name",
}


class InstallerFailure(Exception):
    """The installer could not be run, timed out, or said something that cannot be read."""


@dataclass(frozen=True)
class Job:
    """One installer run: a scenario's requirements against its loopback index."""

    scenario: str
    index_url: str
    target: Target
    requirements: tuple[str, ...]
    workdir: Path

    @property
    def requirements_file(self) -> Path:
        return self.workdir / "requirements.in"

    @property
    def report_file(self) -> Path:
        return self.workdir / "report.json"

    @property
    def variants_file(self) -> Path:
        return self.workdir / "variants.toml"

    def write_inputs(self) -> None:
        from ..providers.static_file import dump_static

        self.requirements_file.write_text("".join(f"{r}\n" for r in self.requirements), encoding="utf-8")
        self.variants_file.write_text(dump_static(self.target.variants), encoding="utf-8")


@dataclass(frozen=True)
class Invocation:
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class ChosenFile:
    """One distribution the installer chose."""

    name: NormalizedName
    version: Version
    filename: str


@dataclass(frozen=True)
class Rejection:
    """A release the installer refused to read (uv: "has invalid metadata")."""

    name: NormalizedName
    version: str
    reason: str
    marker: str | None = None  # the variant marker it stumbled on, if that was the reason
    # The file it had selected for that release, if it says; or the release's *-variants.json
    # when that is what it could not read (then the whole version is unusable to it).
    filename: str | None = None
    instead: str | None = None  # the version of the package it selected afterwards (its log)


@dataclass(frozen=True)
class Outcome:
    """What the installer answered: its choice, or no solution and why (its own words)."""

    status: Literal["ok", "no-solution"]
    pins: tuple[ChosenFile, ...] = ()
    message: str = ""
    rejected: tuple[Rejection, ...] = ()
    unsupported_variants: tuple[NormalizedName, ...] = ()  # "has only unsupported wheel variants"


@dataclass
class Installer:
    """Base of the adapters. ``name`` names it in reports and errors; the flags say what it
    can express (they attribute the differences, see :mod:`.verdict`)."""

    name: str
    variant_aware: bool = True
    enables_optional: bool = True
    # pip's policies for yanked releases, pre-releases and Requires-Python (else packse's,
    # which are uv's), applied to the problem the verifier and varsolve's strategies see.
    pip_policies: bool = False
    _version: str | None = field(default=None, init=False, repr=False, compare=False)
    _version_known: bool = field(default=False, init=False, repr=False, compare=False)

    def version(self) -> str | None:
        """The installer's version (asked once), None when it cannot be run."""
        if not self._version_known:
            self._version, self._version_known = self.query_version(), True
        return self._version

    def query_version(self) -> str | None:
        return None

    def label(self) -> str:
        version = self.version()
        return f"{self.name} {version}" if version else self.name

    def invocation(self, job: Job) -> Invocation:
        raise NotImplementedError

    def parse(self, job: Job, completed: Completed) -> Outcome:
        raise NotImplementedError


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without pip's and uv's settings (a machine may set
    ``PIP_FIND_LINKS`` or ``UV_INDEX_URL``), without their config files, loopback unproxied."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("PIP_", "UV_"))}
    no_proxy = ",".join(p for p in (env.get("NO_PROXY", ""), "127.0.0.1,localhost") if p)
    env.update(
        PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONUNBUFFERED="1",
        UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never", UV_NO_PROGRESS="1", NO_COLOR="1", NO_PROXY=no_proxy,
        no_proxy=no_proxy,
    )
    env.update(extra or {})
    return env


def run_invocation(invocation: Invocation, timeout: float, program: str) -> Completed:
    """Run in a new process group; at ``timeout`` the whole group is killed."""
    try:
        proc = subprocess.Popen(
            list(invocation.argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(invocation.env), cwd=invocation.cwd, start_new_session=True,
        )
    except OSError as exc:
        raise InstallerFailure(f"cannot run {program}: {exc.strerror or exc}") from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:  # a descendant left the group and holds the pipes
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
            proc.wait(timeout=5)
        raise InstallerFailure(f"timed out after {timeout:g} s (killed)") from None
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    return Completed(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group this run started, and only it
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.kill()


def _version_of(argv: Sequence[str], pattern: str) -> str | None:
    try:
        r = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, env=clean_environment(),
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(pattern, r.stdout)
    return match.group(1) if r.returncode == 0 and match else None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _exited(completed: Completed, prefix: str = "") -> str:
    """``exited with N: <its last error line>`` (the last line starting with ``prefix``, else
    the last line of stderr)."""
    lines = [line.strip() for line in completed.stderr.splitlines() if prefix and line.startswith(prefix)]
    last = lines[-1] if lines else _last_line(completed.stderr)
    return f"exited with {completed.returncode}" + (f": {last[:200]}" if last else " (nothing on stderr)")


def _python_version(target: Target) -> str:
    return str(target.python)


# -- uv --------------------------------------------------------------------------------------------

_UV_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*(?:;.*)?$")
_UV_SELECTING = re.compile(r"Selecting: ([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \[[^\]]*\] \(([^)\s]+)\)")
_UV_INVALID = re.compile(r"`([A-Za-z0-9][A-Za-z0-9._-]*)==([^`]+)` has invalid metadata: ([^\n]*)")
# uv 0.13.9 on a *-variants.json it cannot parse (0.0.3-era keys, a malformed value): the
# package's name, the file, its reason, continued on indented lines.
_UV_VARIANT_METADATA = re.compile(
    r"([A-Za-z0-9][A-Za-z0-9._-]*) has invalid metadata: "
    r"(Failed to parse variant metadata `([A-Za-z0-9_.]+)-([^-`]+)-variants\.json`:[^\n]*(?:\n[ \t]+[^\n]*)*)"
)
_UV_MARKER = re.compile(r"found `(variant_(?:label|properties|features|namespaces))`")
_UV_UNSUPPORTED = re.compile(
    r"(?:all versions of |)([A-Za-z0-9][A-Za-z0-9._-]*)(?:==\S+)? (?:has|have) only unsupported wheel variants"
)
_MACOS = re.compile(r"^(aarch64|x86_64)-macosx_(\d+)_(\d+)$")
_MUSL = re.compile(r"^(\w+)-musllinux_1_(\d+)$")


def uv_platform(target: Target) -> tuple[str, dict[str, str]]:
    """The target platform as uv's ``--python-platform`` and environment: varsolve's own forms
    are uv's names plus what uv reads from the environment."""
    name = target.platform.name
    if match := _MACOS.match(name):
        return f"{match.group(1)}-apple-darwin", {"MACOSX_DEPLOYMENT_TARGET": f"{match.group(2)}.{match.group(3)}"}
    if match := _MUSL.match(name):
        if match.group(2) != "2":
            raise InstallerFailure(f"uv has no --python-platform for {name} (its musl target is musllinux_1_2)")
        return f"{match.group(1)}-unknown-linux-musl", {}
    return name, {}


@dataclass
class UvInstaller(Installer):
    """``uv pip compile`` with wheel variants (preview in uv 0.13)."""

    name: str = "uv"
    enables_optional: bool = False  # uv 0.13.9 ignores optional providers, always
    executable: str = ""

    def __post_init__(self) -> None:
        if not self.executable:
            here = Path(sys.executable).with_name("uv")
            self.executable = str(here) if here.exists() else shutil.which("uv") or "uv"

    def query_version(self) -> str | None:
        return _version_of([self.executable, "--version"], r"^uv (\S+)")

    def invocation(self, job: Job) -> Invocation:
        platform, env = uv_platform(job.target)
        argv = (
            self.executable, "pip", "compile", str(job.requirements_file), "--index-url", job.index_url,
            "--python", sys.executable, "--python-version", _python_version(job.target), "--python-platform", platform,
            "--only-binary", ":all:", "--preview-features", "wheel-variants", "--no-cache", "--no-header",
            "--no-annotate", "--color", "never", "-v",
        )
        return Invocation(argv, clean_environment(env), job.workdir)

    def parse(self, job: Job, completed: Completed) -> Outcome:
        log = completed.stderr
        selecting = list(_UV_SELECTING.finditer(log))
        files = {(canonicalize_name(m.group(1)), m.group(2)): m.group(3) for m in selecting}

        def instead(name: NormalizedName, version: str, after: int) -> str | None:
            """The version of ``name`` uv selected after refusing ``version`` (an older one)."""
            return next((m.group(2) for m in selecting if m.start() > after and canonicalize_name(m.group(1)) == name
                         and m.group(2) != version), None)

        found: list[tuple[int, Rejection]] = []
        for m in _UV_INVALID.finditer(log):
            name = canonicalize_name(m.group(1))
            marker = _UV_MARKER.search(m.group(3))
            found.append((m.start(), Rejection(
                name, m.group(2), m.group(3).strip(), marker.group(1) if marker else None,
                files.get((name, m.group(2))), instead(name, m.group(2), m.start()),
            )))
        for m in _UV_VARIANT_METADATA.finditer(log):
            name = canonicalize_name(m.group(1))
            variants_file = f"{m.group(3)}-{m.group(4)}-variants.json"
            found.append((m.start(), Rejection(
                name, m.group(4), " ".join(m.group(2).split()), None, variants_file, instead(name, m.group(4), m.start()),
            )))
        rejected = tuple(dict.fromkeys(r for _, r in sorted(found, key=lambda item: item[0])))
        unsupported = tuple(dict.fromkeys(canonicalize_name(m.group(1)) for m in _UV_UNSUPPORTED.finditer(completed.stderr)))
        if completed.returncode != 0:
            if "No solution found" not in completed.stderr:
                raise InstallerFailure(_exited(completed, "error:"))
            causes = [line.strip().removeprefix("cause:").strip() for line in completed.stderr.splitlines()
                      if line.strip().startswith("cause:")]
            return Outcome("no-solution", message=causes[0] if causes else "no solution", rejected=rejected,
                           unsupported_variants=unsupported)
        pins: list[ChosenFile] = []
        for line in completed.stdout.splitlines():
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            match = _UV_PIN.match(text)
            if match is None:
                raise InstallerFailure(f"cannot read uv's output: {text!r} is not name==version")
            name, version = canonicalize_name(match.group(1)), match.group(2)
            filename = files.get((name, version))
            if filename is None:
                raise InstallerFailure(f"cannot read uv's output: its log names no file for {name}=={version}")
            pins.append(ChosenFile(name, _version(version, "uv"), filename))
        if not pins and job.requirements:
            raise InstallerFailure("cannot read uv's output: it pinned nothing")
        return Outcome("ok", tuple(pins), rejected=rejected, unsupported_variants=unsupported)


# -- pip -------------------------------------------------------------------------------------------

_PIP_NO_SOLUTION = ("No matching distribution found", "ResolutionImpossible", "Cannot install", "conflicting dependencies")


@dataclass
class PipInstaller(Installer):
    """``pip install --dry-run --report`` of the pip next to this interpreter."""

    name: str = "pip"
    variant_aware: bool = False
    enables_optional: bool = False
    pip_policies: bool = True
    python: str = ""

    def __post_init__(self) -> None:
        self.python = self.python or sys.executable

    def query_version(self) -> str | None:
        return _version_of([self.python, "-m", "pip", "--version"], r"^pip (\S+)")

    def invocation(self, job: Job) -> Invocation:
        platforms = [arg for tag in job.target.platform.tag_platforms for arg in ("--platform", tag)]
        argv = (
            self.python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--isolated", "--no-cache-dir",
            "--quiet", "--disable-pip-version-check", "--no-input", "--report", str(job.report_file),
            "--python-version", _python_version(job.target), "--implementation", "cp", *platforms,
            "--only-binary", ":all:", "--index-url", job.index_url, "-r", str(job.requirements_file),
        )
        return Invocation(argv, clean_environment(), job.workdir)

    def parse(self, job: Job, completed: Completed) -> Outcome:
        if completed.returncode != 0:
            errors = [line.removeprefix("ERROR:").strip() for line in completed.stderr.splitlines() if line.startswith("ERROR:")]
            if any(s in completed.stderr for s in _PIP_NO_SOLUTION):
                return Outcome("no-solution", message=errors[0] if errors else "no solution")
            raise InstallerFailure(_exited(completed, "ERROR:"))
        try:
            text = job.report_file.read_text(encoding="utf-8")
        except OSError:
            raise InstallerFailure(f"wrote no report to {job.report_file}") from None
        return Outcome("ok", _pins_from_document(text, "pip's report"))


# -- a command template ----------------------------------------------------------------------------


@dataclass
class CommandInstaller(Installer):
    """Any installer, as a command template with :data:`PLACEHOLDERS`."""

    template: str = ""
    words: tuple[str, ...] = ()

    @classmethod
    def parse_template(cls, template: str) -> CommandInstaller:
        try:
            words = tuple(shlex.split(template))
        except ValueError as exc:
            raise InputError(f"--installer: cannot split {template!r}: {exc}") from None
        if not words:
            raise InputError("--installer: empty command")
        for word in words:
            try:
                fields = [name for _, name, _, _ in string.Formatter().parse(word) if name is not None]
            except ValueError as exc:
                raise InputError(f"--installer: {word!r}: {exc} (write {{{{ and }}}} for braces)") from None
            for name in fields:
                if name not in PLACEHOLDERS:
                    raise InputError(f"--installer: unknown placeholder {{{name}}} (known: {', '.join(PLACEHOLDERS)})")
        return cls(name=Path(words[0]).name, template=template, words=words)

    def invocation(self, job: Job) -> Invocation:
        values = {
            "index_url": job.index_url, "requirements": str(job.requirements_file),
            "python": _python_version(job.target), "platform": job.target.platform.name,
            "platform_tag": job.target.platform.tag_platforms[0] if job.target.platform.tag_platforms else "",
            "variants": str(job.variants_file), "report": str(job.report_file), "workdir": str(job.workdir),
            "scenario": job.scenario,
        }
        return Invocation(tuple(word.format(**values) for word in self.words), clean_environment(), job.workdir)

    def parse(self, job: Job, completed: Completed) -> Outcome:
        if completed.returncode == 1:
            return Outcome("no-solution", message=_last_line(completed.stderr) or "exit status 1")
        try:  # the report file when the command wrote one, else stdout
            text = job.report_file.read_text(encoding="utf-8") if job.report_file.exists() else ""
        except OSError:
            text = ""
        text = text if text.strip() else completed.stdout
        if completed.returncode == 0:
            return _outcome_from_document(text, "its output")
        try:  # another status with a readable answer (varsolve: 3, resolved but inconsistent)
            return _outcome_from_document(text, "its output")
        except InstallerFailure:
            raise InstallerFailure(_exited(completed)) from None


def _outcome_from_document(text: str, what: str) -> Outcome:
    data = _load_document(text, what)
    if "satisfiable" in data and data.get("satisfiable") is False:
        return Outcome("no-solution", message=str(data.get("explanation") or "no solution").splitlines()[0])
    return Outcome("ok", _pins_from_data(data, what))


def _pins_from_document(text: str, what: str) -> tuple[ChosenFile, ...]:
    return _pins_from_data(_load_document(text, what), what)


def _load_document(text: str, what: str) -> dict[str, Any]:
    stripped = text.strip()
    data: object
    try:
        data = json.loads(stripped) if stripped.startswith("{") else tomllib.loads(stripped)
    except (ValueError, tomllib.TOMLDecodeError):
        data = None
    if not isinstance(data, dict) or not ({"install", "lock-version"} & set(data) or "satisfiable" in data):
        snippet = _last_line(text)[:60]
        raise InstallerFailure(
            f"cannot read {what}: not a pip installation report, varsolve JSON or pylock.toml"
            + (f" ({snippet!r})" if snippet else " (empty)")
        )
    return data


def _pins_from_data(data: dict[str, Any], what: str) -> tuple[ChosenFile, ...]:
    """Pins from a pip installation report, a ``varsolve resolve --format json`` result or a
    pylock.toml with one file per package."""
    pins: list[ChosenFile] = []
    try:
        if "install" in data:  # pip's installation report
            for item in data["install"]:
                url = item["download_info"]["url"]
                pins.append(_chosen(item["metadata"]["name"], item["metadata"]["version"], _basename(url), what))
        elif "lock-version" in data:  # PEP 751
            for package in data.get("packages", []):
                files = [w.get("name") or _basename(w.get("url") or w.get("path") or "") for w in package.get("wheels", [])]
                if "sdist" in package and not files:
                    sdist = package["sdist"]
                    files = [sdist.get("name") or _basename(sdist.get("url") or sdist.get("path") or "")]
                if len(files) != 1:
                    raise InstallerFailure(f"cannot read {what}: {package['name']} lists {len(files)} files, not one")
                pins.append(_chosen(package["name"], package["version"], files[0], what))
        else:  # varsolve resolve --format json
            for name, pin in data["packages"].items():
                pins.append(_chosen(name, pin["version"], pin["filename"], what))
    except (KeyError, TypeError, AttributeError) as exc:
        raise InstallerFailure(f"cannot read {what}: missing or malformed {exc}") from None
    return tuple(pins)


def _chosen(name: object, version: object, filename: str, what: str) -> ChosenFile:
    if not isinstance(name, str) or not isinstance(version, str) or not filename:
        raise InstallerFailure(f"cannot read {what}: a package without name, version or file")
    return ChosenFile(canonicalize_name(name), _version(version, what), filename)


def _version(text: str, what: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise InstallerFailure(f"cannot read {what}: {text!r} is not a version") from None


def _basename(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def get_installer(spec: str) -> Installer:
    """``uv``, ``pip``, or a command template."""
    if spec == "uv":
        return UvInstaller()
    if spec == "pip":
        return PipInstaller()
    return CommandInstaller.parse_template(spec)
