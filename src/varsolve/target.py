"""The target environment: Python version, platform, compatibility tags, marker environment and
what the target supports of each variant namespace.

A target is explicit (``Target.make``: a Python version and a platform name) or the running
interpreter (:meth:`Target.of_running_interpreter`: its version, platform and the tags pip
would accept here), which is the default when no scenario names one. Either way no variant
property comes from the host unless asked (``detect``): the supported properties are the
user's static file or the scenario's.

Platform names are uv's ``--python-platform`` names (docs/index.md, "Target platforms"), with
uv's meaning: ``x86_64-unknown-linux-gnu`` is glibc 2.28, ``aarch64-apple-darwin`` macOS 13.0,
``x86_64-unknown-linux-musl`` musl 1.2. The tag platforms of each are generated the way
packaging orders them (``packaging.tags``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, TypedDict

from packaging.version import InvalidVersion, Version

from .errors import InputError

if TYPE_CHECKING:
    from packaging.tags import Tag

# namespace -> feature -> values, most preferred first
SupportedMap = dict[str, dict[str, tuple[str, ...]]]


class TargetDescription(TypedDict):
    """:meth:`Target.describe`: the target as JSON."""

    python: str
    platform: str
    variants: dict[str, dict[str, list[str]]]
    enabled: list[str]


@dataclass(frozen=True)
class Platform:
    """An OS/architecture pair with its tag platforms (most specific first) and marker values."""

    name: str
    tag_platforms: tuple[str, ...]
    sys_platform: str
    platform_system: str
    platform_machine: str
    os_name: str
    # The host's (host_platform()); empty for a named platform, as in uv.
    platform_release: str = ""
    platform_version: str = ""


# -- named platforms ------------------------------------------------------------------------------
#
# What uv 0.13 means by each --python-platform name (crates/uv-configuration/src/target_triple.rs):
# ARCH-unknown-linux-gnu is manylinux_2_28 (riscv64: 2_39, loongarch64: 2_36; riscv64's name
# is riscv64-unknown-linux), ARCH-manylinux2014 is manylinux_2_17, ARCH-unknown-linux-musl is
# musllinux_1_2, ARCH-apple-darwin is macOS 13.0 (uv reads MACOSX_DEPLOYMENT_TARGET; varsolve
# reads nothing from the host for a named platform: ARCH-macosx_X_Y names another version).
# The marker values are those a real interpreter reports (and uv 0.13 assumes): platform_machine
# is AMD64, x86 or ARM64 on Windows, arm64 or x86_64 on macOS, the architecture on Linux;
# platform_release and platform_version are empty.

ALIASES = {"linux": "x86_64-unknown-linux-gnu", "macos": "aarch64-apple-darwin", "windows": "x86_64-pc-windows-msvc"}
LINUX_ARCHS = ("x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64", "loongarch64")
GNU_GLIBC_MINOR = {"riscv64": 39, "loongarch64": 36}  # ARCH-unknown-linux-gnu: else 28
MUSL_DEFAULT = (1, 2)
MACOS_DEFAULT = (13, 0)
MACOS_ARCHS = {"aarch64": "arm64", "x86_64": "x86_64"}  # name -> tag and platform_machine
WINDOWS = {"x86_64": ("win_amd64", "AMD64"), "i686": ("win32", "x86"), "aarch64": ("win_arm64", "ARM64")}
# PEP 600's legacy aliases, yielded right after the manylinux_2_N they stand for (packaging's order).
LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
_LEGACY_NAMES = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
PLATFORM_FORMS = (
    "linux, macos, windows, ARCH-unknown-linux-gnu, ARCH-unknown-linux-musl, ARCH-manylinux_2_N, "
    "ARCH-manylinux2014, ARCH-musllinux_1_N, ARCH-apple-darwin, ARCH-macosx_X_Y, ARCH-pc-windows-msvc"
)

_ARCH = "|".join(LINUX_ARCHS)
_MANYLINUX_RE = re.compile(rf"^({_ARCH})-manylinux_2_(\d+)$")
_LEGACY_RE = re.compile(rf"^({_ARCH})-(manylinux2014|manylinux2010|manylinux1)$")
_GNU_RE = re.compile(rf"^({_ARCH})-unknown-linux(-gnu)?$")
_MUSL_RE = re.compile(rf"^({_ARCH})-(?:unknown-linux-musl|musllinux_1_(\d+))$")
_DARWIN_RE = re.compile(r"^(aarch64|x86_64)-(?:apple-darwin|macosx_(\d+)_(\d+))$")
_WINDOWS_RE = re.compile(r"^(x86_64|i686|aarch64)-pc-windows-msvc$")


def manylinux_platforms(arch: str, glibc_minor: int) -> tuple[str, ...]:
    """``manylinux_2_{glibc_minor}_{arch}`` down to the oldest manylinux of ``arch`` (2_5 on
    x86_64 and i686, else 2_17), each legacy alias right after the version it stands for, then
    ``linux_{arch}``: the order of packaging's ``_manylinux.platform_tags`` on such a host."""
    oldest = 5 if arch in ("x86_64", "i686") else 17
    tags: list[str] = []
    for minor in range(glibc_minor, oldest - 1, -1):
        tags.append(f"manylinux_2_{minor}_{arch}")
        if minor in LEGACY_MANYLINUX:
            tags.append(f"{LEGACY_MANYLINUX[minor]}_{arch}")
    return (*tags, f"linux_{arch}")


def musllinux_platforms(arch: str, musl_minor: int) -> tuple[str, ...]:
    """``musllinux_1_{musl_minor}_{arch}`` down to ``musllinux_1_0``, then ``linux_{arch}``
    (packaging's ``_musllinux.platform_tags``)."""
    return (*(f"musllinux_1_{minor}_{arch}" for minor in range(musl_minor, -1, -1)), f"linux_{arch}")


def _linux(name: str, arch: str, tags: tuple[str, ...]) -> Platform:
    return Platform(name, tags, "linux", "Linux", arch, "posix")


def _unknown(name: str, why: str = "") -> InputError:
    return InputError(f"unknown platform {name!r}{why} (known: {PLATFORM_FORMS})")


@cache
def platform_named(name: str) -> Platform:
    """The platform a uv ``--python-platform`` name (or varsolve's ``ARCH-macosx_X_Y`` and
    ``ARCH-musllinux_1_N``) stands for; :class:`InputError` for any other name. The platform
    keeps the name it was given, except that ``linux``, ``macos`` and ``windows`` become the
    triple they alias."""
    name = ALIASES.get(name, name)
    if m := _MANYLINUX_RE.match(name):
        arch, minor = m[1], int(m[2])
        oldest = 5 if arch in ("x86_64", "i686") else 17
        if minor < oldest:
            raise _unknown(name, f": manylinux for {arch} starts at manylinux_2_{oldest}")
        return _linux(name, arch, manylinux_platforms(arch, minor))
    if m := _LEGACY_RE.match(name):
        arch, minor = m[1], _LEGACY_NAMES[m[2]]
        if minor < (5 if arch in ("x86_64", "i686") else 17):
            raise _unknown(name, f": there is no {m[2]} for {arch}")
        return _linux(name, arch, manylinux_platforms(arch, minor))
    if m := _GNU_RE.match(name):
        arch = m[1]
        return _linux(name, arch, manylinux_platforms(arch, GNU_GLIBC_MINOR.get(arch, 28)))
    if m := _MUSL_RE.match(name):
        arch, minor = m[1], int(m[2]) if m[2] is not None else MUSL_DEFAULT[1]
        return _linux(name, arch, musllinux_platforms(arch, minor))
    if m := _DARWIN_RE.match(name):
        from packaging.tags import mac_platforms

        arch = MACOS_ARCHS[m[1]]
        version = (int(m[2]), int(m[3])) if m[2] is not None else MACOS_DEFAULT
        if version < ((11, 0) if arch == "arm64" else (10, 0)):
            raise _unknown(name, f": no macOS {version[0]}.{version[1]} on {m[1]}")
        tags = tuple(dict.fromkeys(mac_platforms(version, arch)))
        return Platform(name, tags, "darwin", "Darwin", arch, "posix")
    if m := _WINDOWS_RE.match(name):
        tag, machine = WINDOWS[m[1]]
        return Platform(name, (tag,), "win32", "Windows", machine, "nt")
    raise _unknown(name)


def uv_platform_names() -> tuple[str, ...]:
    """The ``--python-platform`` names ``uv pip compile --help`` lists for Linux, macOS and
    Windows (Android, iOS and Pyodide are not supported); every one is accepted."""
    names = ["windows", "linux", "macos"]
    names += [f"{a}-pc-windows-msvc" for a in ("x86_64", "aarch64", "i686")]
    names += ["x86_64-unknown-linux-gnu", "aarch64-apple-darwin", "x86_64-apple-darwin", "aarch64-unknown-linux-gnu"]
    names += ["aarch64-unknown-linux-musl", "x86_64-unknown-linux-musl", "riscv64-unknown-linux"]
    for arch in ("x86_64", "aarch64"):
        names += [f"{arch}-manylinux2014", f"{arch}-manylinux_2_17"]
        names += [f"{arch}-manylinux_2_{minor}" for minor in range(28, 41) if minor not in (29, 30)]
    return tuple(names)


def host_platform() -> Platform:
    """This machine's platform: the tag platforms pip accepts here (``packaging.tags.
    platform_tags()``) and the marker values of this interpreter, named as
    :func:`platform_named` would name it (``x86_64-manylinux_2_36``, ``aarch64-macosx_14_0``,
    ``x86_64-pc-windows-msvc``) where it can be named so."""
    import os
    import platform

    from packaging.tags import platform_tags

    tags = tuple(dict.fromkeys(platform_tags()))
    return Platform(
        _host_name(tags), tags, sys.platform, platform.system(), platform.machine(), os.name,
        platform.release(), platform.version(),
    )


_WINDOWS_TAG_ARCH = {tag: arch for arch, (tag, _) in WINDOWS.items()}
_HOST_MANYLINUX_RE = re.compile(r"^(manylinux_2|musllinux_1)_(\d+)_(\w+)$")
_HOST_MACOS_RE = re.compile(r"^macosx_(\d+)_(\d+)_(arm64|x86_64)$")


def _host_name(tags: tuple[str, ...]) -> str:
    """The name :func:`platform_named` knows for the host's tag platforms, else the first tag."""
    for tag in tags:
        if m := _HOST_MANYLINUX_RE.match(tag):
            return f"{m[3]}-{m[1]}_{m[2]}"
        if m := _HOST_MACOS_RE.match(tag):
            return f"{'aarch64' if m[3] == 'arm64' else 'x86_64'}-macosx_{m[1]}_{m[2]}"
        if tag in _WINDOWS_TAG_ARCH:
            return f"{_WINDOWS_TAG_ARCH[tag]}-pc-windows-msvc"
    return tags[0] if tags else "unknown"


# -- Python versions ------------------------------------------------------------------------------

PYTHON_FORMS = "X.Y or X.Y.Z, e.g. 3.12 or 3.12.4"
_PYTHON_RE = re.compile(r"^\d+\.\d+(\.\d+((a|b|rc)\d+)?)?$")


def parse_python(text: str, where: str = "python") -> Version:
    """A target Python version: ``X.Y`` (meaning ``X.Y.0``, as uv's ``--python-version``) or
    ``X.Y.Z`` (a pre-release ``X.Y.ZrcN`` too); ``3``, ``3.`` or ``3.11.7.1`` are errors."""
    text = str(text)
    if not _PYTHON_RE.match(text):
        raise InputError(f"invalid Python version {text!r}: give {PYTHON_FORMS}", where=where)
    try:
        version = Version(text)
    except InvalidVersion:  # pragma: no cover - the pattern admits only valid versions
        raise InputError(f"invalid Python version {text!r}: give {PYTHON_FORMS}", where=where) from None
    if len(version.release) == 2:
        return Version(f"{text}.0")
    return version


def _running_python() -> Version:
    """This interpreter's full version (``3.11.7``, ``3.14.0rc1``)."""
    info = sys.version_info
    pre = {"alpha": "a", "beta": "b", "candidate": "rc"}.get(info.releaselevel)
    return Version(f"{info.major}.{info.minor}.{info.micro}" + (f"{pre}{info.serial}" if pre else ""))


DEFAULT_PLATFORM = "x86_64-manylinux_2_39"
DEFAULT_PYTHON = "3.12"


@dataclass(frozen=True)
class ProviderPolicy:
    """Where answers for namespaces that no metadata or static file covers may come from.

    Everything is off by default, so the default target never reads the host and never runs
    third-party code (docs/providers.md).
    """

    # Run varsolve's own detectors (x86_64, aarch64, nvidia) on this machine.
    detect: bool = False
    # Normalized names of plugin distributions the user trusts to run.
    allow: frozenset[str] = frozenset()
    # Where an allowed plugin is installed from (the user's own index options).
    find_links: tuple[str, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    # Seconds a plugin's get_supported_configs() may take.
    timeout: float = 60.0


@dataclass(frozen=True)
class Target:
    python: Version = field(default_factory=lambda: parse_python(DEFAULT_PYTHON))
    platform: Platform = field(default_factory=lambda: platform_named(DEFAULT_PLATFORM))
    # What a user's static provider file (or a scenario's [environment.variants]) says.
    variants: SupportedMap = field(default_factory=dict)
    # Optional providers the user switched on (PEP 850 ``optional = true``).
    enabled: frozenset[str] = frozenset()
    # Host detection and plugins; off unless the user asks (see ProviderPolicy).
    provider_policy: ProviderPolicy = field(default_factory=ProviderPolicy)
    # The interpreter's own CPython ABIs, most specific first, when not just ``cpXY`` (a debug
    # or free-threaded build: of_running_interpreter); another Python version drops them.
    abis: tuple[str, ...] = ()
    # Marker values that replace those derived from the Python version and the platform: the
    # environments a universal resolution is checked in (PyPy, an OS no platform name covers).
    marker_overrides: tuple[tuple[str, str], ...] = ()

    @classmethod
    def make(
        cls,
        python: str | None = None,
        platform: str | None = None,
        variants: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
        enabled: Sequence[str] = (),
        where: str = "target",
    ) -> Target:
        try:
            named = platform_named(platform or DEFAULT_PLATFORM)
        except InputError as exc:
            raise InputError(str(exc), where=where) from None
        return cls(
            python=parse_python(python or DEFAULT_PYTHON, where),
            platform=named,
            variants={ns: {f: tuple(v) for f, v in feats.items()} for ns, feats in (variants or {}).items()},
            enabled=frozenset(enabled),
        )

    @classmethod
    def of_running_interpreter(cls) -> Target:
        """The interpreter varsolve runs under: its full version, this machine's platform and
        marker values, and exactly the tags pip would accept here (``packaging.tags.
        sys_tags()``, for CPython). No variant property: those come from the user (a static
        file, ``--detect``), never from the host unasked."""
        from packaging.tags import sys_tags

        python = _running_python()
        interpreter = f"cp{python.major}{python.minor}"
        abis = tuple(dict.fromkeys(
            t.abi for t in sys_tags() if t.interpreter == interpreter and t.abi not in ("abi3", "abi3t", "none")
        ))
        return cls(python=python, platform=host_platform(), abis=() if abis == (interpreter,) else abis)

    def with_python(self, python: str, where: str = "python") -> Target:
        """This target for another Python version; the platform, the supported properties, the
        enabled providers and the provider policy are kept (the interpreter's own ABIs are not)."""
        return replace(self, python=parse_python(python, where), abis=())

    def with_platform(self, platform: str, where: str = "python_platform") -> Target:
        """This target on another platform (:func:`platform_named`); everything else is kept."""
        try:
            return replace(self, platform=platform_named(platform))
        except InputError as exc:
            raise InputError(str(exc), where=where) from None

    @property
    def python_version(self) -> str:
        return f"{self.python.major}.{self.python.minor}"

    def tags(self) -> tuple[Tag, ...]:
        return _tags(self.python.major, self.python.minor, self.platform.tag_platforms, self.abis)

    def tag_rank(self) -> dict[Tag, int]:
        return _tag_rank(self.python.major, self.python.minor, self.platform.tag_platforms, self.abis)

    def marker_environment(self) -> dict[str, str]:
        p = self.platform
        env = {
            "python_version": self.python_version,
            "python_full_version": str(self.python),
            "implementation_name": "cpython",
            "implementation_version": str(self.python),
            "platform_python_implementation": "CPython",
            "python_implementation": "CPython",
            "os_name": p.os_name,
            "sys_platform": p.sys_platform,
            "platform_system": p.platform_system,
            "platform_machine": p.platform_machine,
            "platform_release": p.platform_release,
            "platform_version": p.platform_version,
        }
        env.update(self.marker_overrides)
        return env

    def describe(self) -> TargetDescription:
        return {
            "python": str(self.python),
            "platform": self.platform.name,
            "variants": {ns: {f: list(v) for f, v in feats.items()} for ns, feats in self.variants.items()},
            "enabled": sorted(self.enabled),
        }


# (major, minor, tag platforms, abis) -> tags, most specific first / their ranks
_TagKey = tuple[int, int, tuple[str, ...], tuple[str, ...]]
_TAG_CACHE: dict[_TagKey, tuple[Tag, ...]] = {}
_RANK_CACHE: dict[_TagKey, dict[Tag, int]] = {}


def _tags(major: int, minor: int, platforms: tuple[str, ...], abis: tuple[str, ...] = ()) -> tuple[Tag, ...]:
    key = (major, minor, platforms, abis)
    if key not in _TAG_CACHE:
        from packaging.tags import compatible_tags, cpython_tags

        interp = f"cp{major}{minor}"
        tags = list(cpython_tags((major, minor), abis=list(abis or (interp,)), platforms=list(platforms)))
        tags += list(compatible_tags((major, minor), interp, list(platforms)))
        _TAG_CACHE[key] = tuple(dict.fromkeys(tags))
    return _TAG_CACHE[key]


def _tag_rank(major: int, minor: int, platforms: tuple[str, ...], abis: tuple[str, ...] = ()) -> dict[Tag, int]:
    key = (major, minor, platforms, abis)
    if key not in _RANK_CACHE:
        _RANK_CACHE[key] = {tag: i for i, tag in enumerate(_tags(major, minor, platforms, abis))}
    return _RANK_CACHE[key]
