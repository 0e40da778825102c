"""What the check of a universal resolution shares between forks
(:class:`varsolve.universal.verify.ProjectionMemo`): the file a pin installs under each tag
ranking, each release looked up by version, each project's releases with one version first.
Each must give exactly what a projection sharing nothing gives; each test fails when its memo is
keyed by less than it reads."""

from __future__ import annotations

from dataclasses import replace

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from varsolve.compare.tasks import scenario_from_text
from varsolve.marker_algebra import MarkerSet
from varsolve.repository import CoreMetadata, DistFile, Release, RepositoryBase
from varsolve.resolution import Pin, Resolution
from varsolve.universal.result import Fork
from varsolve.universal.verify import ProjectionMemo, _Projector
from varsolve.variants.filenames import parse_wheel
from varsolve.variants.metadata import VariantMetadata

NATIVE = canonicalize_name("native")
PROBLEM = scenario_from_text('name = "memo"\n[root]\nrequires = ["native"]\n', "memo.toml").problem


def _wheel(filename: str) -> DistFile:
    return DistFile(filename, parse_wheel(filename))


def _release(version: str, *platforms: str) -> Release:
    return Release(NATIVE, Version(version), tuple(_wheel(f"native-{version}-cp311-cp311-{p}.whl") for p in platforms))


class _Repo(RepositoryBase):
    def __init__(self, releases: list[Release]) -> None:
        self.listed = releases

    def releases(self, name: NormalizedName) -> list[Release]:
        return list(self.listed) if name == NATIVE else []

    def metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        return CoreMetadata(())

    def variant_metadata(self, release: Release) -> VariantMetadata | None:
        return None


LINUX, WINDOWS = "manylinux_2_17_x86_64", "win_amd64"
BOTH = _Repo([_release("2.0.0", LINUX, WINDOWS), _release("1.0.0", LINUX)])
LINUX_ONLY = _Repo([_release("2.0.0", LINUX), _release("1.0.0", LINUX)])


def _projector(repo: _Repo, shared: ProjectionMemo) -> _Projector:
    problem = replace(PROBLEM, repository=repo)
    resolution = Resolution("backtrack", True, {NATIVE: Pin(Version("2.0.0"), "", "native-2.0.0-cp311-cp311-manylinux_2_17_x86_64.whl")})
    return _Projector(Fork(MarkerSet.universe(), None, resolution, problem), repo, shared)


def _installed(projector: _Projector, platform: str, version: str = "2.0.0") -> str | None:
    problem = replace(projector.fork.problem, region=None)
    rank = PROBLEM.target.with_python("3.11").with_platform(platform).tag_rank()
    pin = Pin(Version(version), "", f"native-{version}-cp311-cp311-{LINUX}.whl")
    found = projector._installed(problem, NATIVE, pin, rank)
    return None if found is None else found.filename


def test_each_tag_ranking_gets_the_file_it_installs() -> None:
    for order in (("x86_64-unknown-linux-gnu", "x86_64-pc-windows-msvc"), ("x86_64-pc-windows-msvc", "x86_64-unknown-linux-gnu")):
        shared = ProjectionMemo()
        got = {platform: _installed(_projector(BOTH, shared), platform) for platform in order}
        assert got == {
            "x86_64-unknown-linux-gnu": f"native-2.0.0-cp311-cp311-{LINUX}.whl",
            "x86_64-pc-windows-msvc": f"native-2.0.0-cp311-cp311-{WINDOWS}.whl",
        }


def test_each_pin_and_each_repository_gets_its_own_file() -> None:
    shared = ProjectionMemo()
    windows = "x86_64-pc-windows-msvc"
    assert _installed(_projector(BOTH, shared), windows) == f"native-2.0.0-cp311-cp311-{WINDOWS}.whl"
    # Another fork of another repository (no Windows wheel): nothing installs there.
    assert _installed(_projector(LINUX_ONLY, shared), windows) is None
    # Another pin: 1.0.0 has no Windows wheel either.
    assert _installed(_projector(BOTH, shared), windows, "1.0.0") is None
    assert _installed(_projector(BOTH, shared), windows) == f"native-2.0.0-cp311-cp311-{WINDOWS}.whl"


def test_releases_and_orders_are_each_version_s_and_repository_s_own() -> None:
    shared = ProjectionMemo()
    assert shared.release(BOTH, NATIVE, Version("1.0.0")) is BOTH.listed[1]
    assert shared.release(BOTH, NATIVE, Version("2.0.0")) is BOTH.listed[0]
    assert shared.release(LINUX_ONLY, NATIVE, Version("2.0.0")) is LINUX_ONLY.listed[0]
    assert shared.release(BOTH, NATIVE, Version("3.0.0")) is None
    assert [str(r.version) for r in shared.order(BOTH, NATIVE, Version("1.0.0"))] == ["1.0.0", "2.0.0"]
    assert [str(r.version) for r in shared.order(BOTH, NATIVE, None)] == ["2.0.0", "1.0.0"]
    assert [str(r.version) for r in shared.order(BOTH, NATIVE, Version("2.0.0"))] == ["2.0.0", "1.0.0"]
    assert shared.order(LINUX_ONLY, NATIVE, Version("1.0.0"))[0] is LINUX_ONLY.listed[1]
