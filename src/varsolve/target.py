"""The target environment: Python version, platform, compatibility tags, marker environment and
what the target supports of each variant namespace.

The target is always explicit: varsolve never reads the host unless asked to (``detect``), so
the same input gives the same resolution on any machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypedDict

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.version import InvalidVersion, Version

from .errors import InputError

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


def _manylinux(arch: str, newest: int = 39) -> tuple[str, ...]:
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(newest, 16, -1)]
    if arch in ("x86_64", "i686"):
        tags += [f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}"]
    elif arch in ("aarch64", "ppc64le", "s390x", "armv7l"):
        tags += [f"manylinux2014_{arch}"]
    return tuple(tags) + (f"linux_{arch}",)


def _platforms() -> dict[str, Platform]:
    out: dict[str, Platform] = {}
    for arch in ("x86_64", "aarch64"):
        linux = Platform(f"{arch}-manylinux_2_39", _manylinux(arch), "linux", "Linux", arch, "posix")
        out[f"{arch}-unknown-linux-gnu"] = linux
        out[f"{arch}-manylinux_2_39"] = linux
        out[f"{arch}-manylinux_2_28"] = Platform(
            f"{arch}-manylinux_2_28", _manylinux(arch, 28), "linux", "Linux", arch, "posix"
        )
        out[f"{arch}-manylinux2014"] = Platform(
            f"{arch}-manylinux2014", _manylinux(arch, 17), "linux", "Linux", arch, "posix"
        )
    out["linux"] = out["x86_64-unknown-linux-gnu"]
    mac_arm = tuple(f"macosx_{v}_0_{a}" for v in range(15, 10, -1) for a in ("arm64", "universal2"))
    mac_x86 = tuple(
        f"macosx_{v}_0_{a}" for v in list(range(15, 10, -1)) for a in ("x86_64", "universal2")
    ) + tuple(f"macosx_10_{m}_{a}" for m in range(16, 8, -1) for a in ("x86_64", "intel", "universal2"))
    out["aarch64-apple-darwin"] = Platform("aarch64-apple-darwin", mac_arm, "darwin", "Darwin", "arm64", "posix")
    out["x86_64-apple-darwin"] = Platform("x86_64-apple-darwin", mac_x86, "darwin", "Darwin", "x86_64", "posix")
    out["macos"] = out["aarch64-apple-darwin"]
    out["x86_64-pc-windows-msvc"] = Platform(
        "x86_64-pc-windows-msvc", ("win_amd64",), "win32", "Windows", "AMD64", "nt"
    )
    out["windows"] = out["x86_64-pc-windows-msvc"]
    return out


PLATFORMS = _platforms()
DEFAULT_PLATFORM = "x86_64-manylinux_2_39"
DEFAULT_PYTHON = "3.12"


def parse_python(text: str, where: str = "python") -> Version:
    try:
        version = Version(str(text))
    except InvalidVersion:
        raise InputError(f"invalid Python version {text!r}", where=where) from None
    release = version.release + (0,) * (3 - len(version.release))
    return Version(".".join(map(str, release[:3])))


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
    platform: Platform = field(default_factory=lambda: PLATFORMS[DEFAULT_PLATFORM])
    # What a user's static provider file (or a scenario's [environment.variants]) says.
    variants: SupportedMap = field(default_factory=dict)
    # Optional providers the user switched on (PEP 850 ``optional = true``).
    enabled: frozenset[str] = frozenset()
    # Host detection and plugins; off unless the user asks (see ProviderPolicy).
    provider_policy: ProviderPolicy = field(default_factory=ProviderPolicy)

    @classmethod
    def make(
        cls,
        python: str | None = None,
        platform: str | None = None,
        variants: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
        enabled: Sequence[str] = (),
        where: str = "target",
    ) -> Target:
        plat_name = platform or DEFAULT_PLATFORM
        if plat_name not in PLATFORMS:
            raise InputError(
                f"unknown platform {plat_name!r} (known: {', '.join(sorted(PLATFORMS))})", where=where
            )
        return cls(
            python=parse_python(python or DEFAULT_PYTHON, where),
            platform=PLATFORMS[plat_name],
            variants={ns: {f: tuple(v) for f, v in feats.items()} for ns, feats in (variants or {}).items()},
            enabled=frozenset(enabled),
        )

    def with_python(self, python: str, where: str = "python") -> Target:
        """This target for another Python version; the platform, the supported properties, the
        enabled providers and the provider policy are kept."""
        return replace(self, python=parse_python(python, where))

    @property
    def python_version(self) -> str:
        return f"{self.python.major}.{self.python.minor}"

    def tags(self) -> tuple[Tag, ...]:
        return _tags(self.python.major, self.python.minor, self.platform.tag_platforms)

    def tag_rank(self) -> dict[Tag, int]:
        return _tag_rank(self.python.major, self.python.minor, self.platform.tag_platforms)

    def marker_environment(self) -> dict[str, str]:
        p = self.platform
        return {
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
            "platform_release": "",
            "platform_version": "",
        }

    def describe(self) -> TargetDescription:
        return {
            "python": str(self.python),
            "platform": self.platform.name,
            "variants": {ns: {f: list(v) for f, v in feats.items()} for ns, feats in self.variants.items()},
            "enabled": sorted(self.enabled),
        }


# (major, minor, tag platforms) -> tags, most specific first / their ranks
_TAG_CACHE: dict[tuple[int, int, tuple[str, ...]], tuple[Tag, ...]] = {}
_RANK_CACHE: dict[tuple[int, int, tuple[str, ...]], dict[Tag, int]] = {}


def _tags(major: int, minor: int, platforms: tuple[str, ...]) -> tuple[Tag, ...]:
    key = (major, minor, platforms)
    if key not in _TAG_CACHE:
        interp = f"cp{major}{minor}"
        tags = list(cpython_tags((major, minor), abis=[interp], platforms=list(platforms)))
        tags += list(compatible_tags((major, minor), interp, list(platforms)))
        _TAG_CACHE[key] = tuple(dict.fromkeys(tags))
    return _TAG_CACHE[key]


def _tag_rank(major: int, minor: int, platforms: tuple[str, ...]) -> dict[Tag, int]:
    key = (major, minor, platforms)
    if key not in _RANK_CACHE:
        _RANK_CACHE[key] = {tag: i for i, tag in enumerate(_tags(major, minor, platforms))}
    return _RANK_CACHE[key]
