"""The index builder and its wheels: real, valid, installable, reproducible byte for byte."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from packaging.metadata import parse_email
from packaging.requirements import Requirement
from packaging.tags import parse_tag
from packaging.version import Version

from conftest import SCENARIOS, run_varsolve
from varsolve.index import wheels
from varsolve.index.builder import build_index
from varsolve.variants.filenames import parse_wheel

BUNDLED = sorted((SCENARIOS / "variants").glob("*.toml"))

EXTRAS_SCENARIO = """
name = "builder-features"
[root]
requires = ["app[fast]"]
[packages.app.versions."1.0.0"]
requires = ["lib>=1", "helper; variant_label == ''", "accel-runtime; 'accel :: device :: cuda' in variant_properties"]
extras = { fast = ["speedups"] }
requires_python = ">=3.10"
wheel_tags = ["py3-none-any", "cp312-cp312-manylinux_2_17_x86_64"]
[packages.app.versions."1.0.0".variants]
cuda = ["accel :: device :: cuda"]
null = []
[packages.app.versions."0.9.0"]
yanked = true
[packages.lib.versions."1.0.0"]
sdist = true
wheel = false
[packages.helper.versions."1.0.0"]
[packages.speedups.versions."1.0.0"]
[packages.accel-runtime.versions."1.0.0"]
"""


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_twice_gives_identical_trees(tmp_path: Path) -> None:
    for scenario in BUNDLED[:6]:
        first, second = tmp_path / "a" / scenario.stem, tmp_path / "b" / scenario.stem
        assert run_varsolve("-q", "index", "build", str(scenario), "-o", str(first)).returncode == 0
        assert run_varsolve("-q", "index", "build", str(scenario), "-o", str(second)).returncode == 0
        a, b = _tree(first), _tree(second)
        assert a and a.keys() == b.keys()
        assert [k for k in a if a[k] != b[k]] == []


def test_rebuild_in_place_replaces_the_index(tmp_path: Path) -> None:
    out = tmp_path / "index"
    build_index(BUNDLED[0], out)
    before = _tree(out)
    build_index(BUNDLED[1], out)
    after = _tree(out)
    assert before != after and "varsolve-index.json" in after
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]  # no staging left behind


def test_refuses_to_overwrite_a_foreign_directory(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    r = run_varsolve("index", "build", str(BUNDLED[0]), "-o", str(out))
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "refusing to overwrite" in r.stderr
    assert (out / "precious.txt").read_text() == "keep me" and len(list(out.iterdir())) == 1


def test_bad_scenario_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[packages.a.versions.'1.0'\n")
    out = tmp_path / "out"
    r = run_varsolve("index", "build", str(bad), "-o", str(out))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "bad.toml" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


def _check_wheel(path: Path) -> None:
    parsed = parse_wheel(path.name)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        infos = z.infolist()
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
        names = [i.filename for i in infos]
        dist_info = f"{names[-1].split('/')[0]}"
        assert dist_info == f"{path.name.split('-')[0]}-{parsed.version}.dist-info"
        assert names[-1] == f"{dist_info}/RECORD" and names[:-1] == sorted(names[:-1])
        rows = list(csv.reader(io.StringIO(z.read(f"{dist_info}/RECORD").decode())))
        assert {r[0] for r in rows} == set(names)
        for member, digest, size in rows:
            if member.endswith("RECORD"):
                assert digest == size == ""
                continue
            data = z.read(member)
            algo, _, b64 = digest.partition("=")
            assert algo == "sha256" and int(size) == len(data)
            assert base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)) == hashlib.sha256(data).digest()
        wheel_file = z.read(f"{dist_info}/WHEEL").decode()
        tags = {parse_tag(line[5:]).__iter__().__next__() for line in wheel_file.splitlines() if line.startswith("Tag: ")}
        assert tags == set(parsed.tags)
        fields, unparsed = parse_email(z.read(f"{dist_info}/METADATA"))
        assert not unparsed and fields["metadata_version"] == "2.4" and fields["version"] == str(parsed.version)
        if parsed.label is None:
            for text in fields.get("requires_dist", []):
                Requirement(text)  # variant-unaware tools must be able to parse every line
            assert f"{dist_info}/variant.json" not in names
        else:
            doc = json.loads(z.read(f"{dist_info}/variant.json"))
            assert list(doc["variants"]) == [parsed.label]


@pytest.mark.parametrize("scenario", BUNDLED, ids=lambda p: p.stem)
def test_every_bundled_scenario_builds_valid_wheels_and_variant_files(scenario: Path, tmp_path: Path) -> None:
    from variantlib.variant_dist_info import VariantDistInfo
    from variantlib.variants_json import VariantsJson

    contents = build_index(scenario, tmp_path / "index")
    files = tmp_path / "index" / "files"
    for path in sorted(files.glob("*.whl")):
        _check_wheel(path)
        label = parse_wheel(path.name).label
        assert (files / f"{path.name}.metadata").read_bytes() == zipfile.ZipFile(path).read(
            f"{path.name.split('-')[0]}-{parse_wheel(path.name).version}.dist-info/METADATA"
        )
        if label is not None:
            with zipfile.ZipFile(path) as z:
                member = next(n for n in z.namelist() if n.endswith(".dist-info/variant.json"))
                VariantDistInfo(z.read(member), label)  # variantlib 0.2.2 accepts the wheel's file
    for path in sorted(files.glob("*-variants.json")):
        VariantsJson(json.loads(path.read_bytes()))  # and the index-level file
    assert contents.projects


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.anchors.append(dict(attrs))


def test_pages_announce_hashes_requires_python_yanked_and_metadata(write_scenario, tmp_path: Path) -> None:
    out = tmp_path / "index"
    build_index(write_scenario(EXTRAS_SCENARIO), out)
    page = json.loads((out / "simple/app/index.json").read_text())
    assert page["meta"]["api-version"] == "1.1" and page["name"] == "app"
    assert page["versions"] == ["0.9.0", "1.0.0"]
    by_name = {f["filename"]: f for f in page["files"]}
    assert set(by_name) == {
        "app-0.9.0.tar.gz", "app-0.9.0-py3-none-any.whl",
        "app-1.0.0.tar.gz", "app-1.0.0-py3-none-any.whl", "app-1.0.0-cp312-cp312-manylinux_2_17_x86_64.whl",
        "app-1.0.0-py3-none-any-cuda.whl", "app-1.0.0-cp312-cp312-manylinux_2_17_x86_64-cuda.whl",
        "app-1.0.0-py3-none-any-null.whl", "app-1.0.0-cp312-cp312-manylinux_2_17_x86_64-null.whl",
        "app-1.0.0-variants.json",
    }
    for name, entry in by_name.items():
        data = (out / "simple/app" / entry["url"]).resolve().read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["hashes"]["sha256"] and entry["size"] == len(data)
        if name.endswith("-variants.json"):
            assert set(entry) == {"filename", "url", "hashes", "size"}  # PR #5100: no dist attributes
            continue
        meta = (out / "simple/app" / (entry["url"] + ".metadata")).resolve().read_bytes()
        assert entry["core-metadata"] == {"sha256": hashlib.sha256(meta).hexdigest()}
        assert entry["yanked"] is name.startswith("app-0.9.0")
        assert entry["requires-python"] == (">=3.10" if "1.0.0" in name else ">=3.12")
    parser = _Anchors()
    parser.feed((out / "simple/app/index.html").read_text())
    html_files = {a["href"].split("/")[-1].split("#")[0]: a for a in parser.anchors}
    assert set(html_files) == set(by_name)
    for name, a in html_files.items():
        assert a["href"].endswith("#sha256=" + by_name[name]["hashes"]["sha256"])
        if not name.endswith(".json"):
            assert a["data-requires-python"] == by_name[name]["requires-python"]
            assert a["data-core-metadata"] == "sha256=" + by_name[name]["core-metadata"]["sha256"]
            assert ("data-yanked" in a) is by_name[name]["yanked"]
    root = json.loads((out / "simple/index.json").read_text())
    assert [p["name"] for p in root["projects"]] == ["accel-runtime", "app", "helper", "lib", "speedups"]


def test_non_variant_metadata_has_variant_markers_evaluated(write_scenario, tmp_path: Path) -> None:
    out = tmp_path / "index"
    build_index(write_scenario(EXTRAS_SCENARIO), out)
    plain = parse_email((out / "files/app-1.0.0-py3-none-any.whl.metadata").read_bytes())[0]
    assert plain["requires_dist"] == ["lib>=1", "helper", 'speedups ; extra == "fast"']
    assert plain["provides_extra"] == ["fast"] and plain["requires_python"] == ">=3.10"
    variant = parse_email((out / "files/app-1.0.0-py3-none-any-cuda.whl.metadata").read_bytes())[0]
    assert variant["requires_dist"][1:] == [
        "helper; variant_label == ''", "accel-runtime; 'accel :: device :: cuda' in variant_properties",
        'speedups ; extra == "fast"',
    ]


def test_specialise_requirements_partially_evaluates_markers() -> None:
    from varsolve.variants.markers import VariantState

    reqs = [
        'a; variant_label == ""',
        'b; variant_label != "" and python_version >= "3"',
        'c; ("nvidia" in variant_namespaces or variant_label == "") and extra == "x"',
        'd>=1; python_version < "3" or "x :: y :: z" in variant_properties',
        "e; os_name == 'nt'",
    ]
    assert wheels.specialise_requirements(reqs) == [
        "a", 'c; extra == "x"', 'd>=1; python_version < "3"', "e; os_name == 'nt'",
    ]
    cuda = VariantState.for_wheel("cu", {"x": {"y": ("z",)}})
    assert wheels.specialise_requirements(reqs, cuda) == ['b; python_version >= "3"', "d>=1", "e; os_name == 'nt'"]


def test_built_wheel_installs_and_imports(tmp_path: Path) -> None:
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile

    dist = wheels.build_wheel(
        "Demo-Pkg", "1.2", "py3-none-any", label="fast", requires_dist=["x; variant_label == 'fast'"],
        variant_json={"$schema": "https://variants-schema.wheelnext.dev/v0.2.0.json",
                      "default-priorities": {"namespace": ["cpu"]}, "providers": {"cpu": {"builtin": "cpu"}},
                      "variants": {"fast": {"cpu": {"level": ["v3"]}}}},
    )
    path = dist.write(tmp_path / "dist")
    assert path.name == "demo_pkg-1.2-py3-none-any-fast.whl"
    site = tmp_path / "site"
    scheme = {k: str(site / k) for k in ("purelib", "platlib", "headers", "scripts", "data")}
    with WheelFile.open(path) as source:
        install(source, SchemeDictionaryDestination(scheme, sys.executable, "posix"), {})
    out = subprocess.run(
        [sys.executable, "-c", "import demo_pkg; print(demo_pkg.__version__, demo_pkg.__variant_label__)"],
        env={"PYTHONPATH": str(site / "purelib")}, capture_output=True, text=True, check=True,
    )
    assert out.stdout.split() == ["1.2", "fast"]
    assert (site / "purelib/demo_pkg-1.2.dist-info/variant.json").exists()


def test_sdist_is_reproducible_and_builds_with_its_own_backend(tmp_path: Path) -> None:
    dist = wheels.build_sdist("demo-pkg", "1.0", requires_dist=["x>=1"], requires_python=">=3.8")
    assert dist.sha256 == wheels.build_sdist("demo-pkg", "1.0", requires_dist=["x>=1"], requires_python=">=3.8").sha256
    with tarfile.open(fileobj=io.BytesIO(dist.data)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        assert {m.mtime for m in members} == {wheels.SOURCE_DATE_EPOCH} and {m.uid for m in members} == {0}
        assert tar.extractfile("demo_pkg-1.0/PKG-INFO").read() == dist.metadata
        tar.extractall(tmp_path / "src", filter="data")
    source = tmp_path / "src/demo_pkg-1.0"
    out = tmp_path / "wheels"
    out.mkdir()
    code = "import sys, varsolve_sdist_backend as b; print(b.build_wheel(sys.argv[1]))"
    built = subprocess.run([sys.executable, "-c", code, str(out)], cwd=source, capture_output=True, text=True, check=True)
    wheel = out / built.stdout.strip()
    assert wheel.name == "demo_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as z:
        assert z.read("demo_pkg-1.0.dist-info/METADATA") == dist.metadata
    _check_wheel(wheel)


# -- a release's metadata as published (scenario key variants_json) -----------------------------

ECOSYSTEM = SCENARIOS / "ecosystem"
ECOSYSTEM_FILES = sorted(ECOSYSTEM.glob("*.toml"))


def _published(scenario: Path) -> dict[tuple[str, str], Path]:
    """(name, version) -> the scenario's variants_json file, from the scenario file itself."""
    import tomllib

    data = tomllib.loads(scenario.read_text())
    return {
        (name, version): scenario.parent / info["variants_json"]
        for name, package in data.get("packages", {}).items()
        for version, info in package.get("versions", {}).items()
        if "variants_json" in info
    }


@pytest.mark.parametrize("scenario", ECOSYSTEM_FILES, ids=lambda p: p.stem)
def test_published_metadata_is_served_as_published(scenario: Path, tmp_path: Path) -> None:
    """The release's *-variants.json is the scenario's file byte for byte (whatever its schema,
    whether varsolve can read it at all); each variant wheel's variant.json is that document
    narrowed to its label; the pages announce the file's hash and size."""
    out = tmp_path / "index"
    build_index(scenario, out)
    published = _published(scenario)
    assert published  # every ecosystem scenario has at least one
    for (name, version), source in published.items():
        raw = source.read_bytes()
        filename = f"{name.replace('-', '_')}-{version}-variants.json"
        assert (out / "files" / filename).read_bytes() == raw, filename
        page = json.loads((out / "simple" / name / "index.json").read_text())
        entry = next(f for f in page["files"] if f["filename"] == filename)
        assert entry["hashes"]["sha256"] == hashlib.sha256(raw).hexdigest() and entry["size"] == len(raw)
        doc = json.loads(raw)
        wheels_of_release = sorted((out / "files").glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        labelled = [w for w in wheels_of_release if parse_wheel(w.name).label is not None]
        assert {parse_wheel(w.name).label for w in labelled} == set(doc["variants"])
        for wheel in labelled:
            _check_wheel(wheel)
            label = parse_wheel(wheel.name).label
            with zipfile.ZipFile(wheel) as z:
                member = next(n for n in z.namelist() if n.endswith(".dist-info/variant.json"))
                own = json.loads(z.read(member))
            assert own == {**doc, "variants": {label: doc["variants"][label]}}
            assert list(own) == list(doc)  # the document's own key order


def test_an_unreadable_published_file_builds_and_reaches_the_installer_as_it_is(tmp_path: Path) -> None:
    """messy-invalid-metadata: numpy 2.3.5's file has a schema from the future, scipy 1.16.3's a
    value written as a string. `varsolve index build` used to refuse the scenario; now the index
    serves both files as published, and varsolve reading that index over HTTP, or the wheels in a
    folder (their variant.json only), makes the same choice as from the scenario: numpy 2.3.4,
    scipy 1.16.3's non-variant wheel."""
    from index_helpers import repository
    from varsolve.api import build_problem, solve
    from varsolve.index.server import IndexServer
    from varsolve.sources.findlinks import FindLinksRepository
    from varsolve.strategies import available

    scenario = ECOSYSTEM / "messy-invalid-metadata-cpu-v3.toml"
    out = tmp_path / "index"
    r = run_varsolve("-q", "index", "build", str(scenario), "-o", str(out))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert (out / "files/numpy-2.3.5-variants.json").read_bytes() == (ECOSYSTEM / "metadata/numpy-2.3.5-invalid-variants.json").read_bytes()
    with zipfile.ZipFile(out / "files/numpy-2.3.5-cp312-cp312-manylinux_2_28_x86_64-openblas.whl") as z:
        doc = json.loads(z.read("numpy-2.3.5.dist-info/variant.json"))
    assert doc["$schema"].endswith("/peps/825/v0.3.0.json") and list(doc["variants"]) == ["openblas"]

    expected = {"numpy": ("2.3.4", "openblas"), "scipy": ("1.16.3", "")}
    folder = tmp_path / "wheels"  # no *-variants.json: PEP 825, one wheel's variant.json per label
    folder.mkdir()
    for wheel in (out / "files").glob("*.whl"):
        (folder / wheel.name).write_bytes(wheel.read_bytes())
    with IndexServer(out) as server:
        for strategy in available():
            for repo in (repository(server.index_url), FindLinksRepository(folder)):
                with repo:
                    resolution = solve(build_problem(scenario=scenario, repository=repo), strategy)
                pins = {name: (str(pin.version), pin.variant) for name, pin in resolution.packages.items()}
                assert pins == expected, (strategy, type(repo).__name__)
                statuses = {(e["package"], e["version"]): e["status"] for e in resolution.stats["variant_metadata"]}
                assert statuses[("scipy", "1.16.3")] == "invalid", statuses


def test_releases_not_given_as_published_are_derived_as_before(tmp_path: Path) -> None:
    """Only variants_json releases change: numpy 2.3.3 of the same scenario (metadata in the
    scenario's own keys) still gets varsolve's variantlib-0.2.2 document and wheels."""
    from variantlib.variants_json import VariantsJson

    out = tmp_path / "index"
    build_index(ECOSYSTEM / "messy-invalid-metadata-cpu-v3.toml", out)
    derived = json.loads((out / "files/numpy-2.3.3-variants.json").read_bytes())
    assert derived["$schema"] == "https://variants-schema.wheelnext.dev/v0.2.0.json"
    VariantsJson(derived)
    assert set(derived["variants"]) == {"accelerate", "openblas", "x8664v4_mkl"}


def test_published_variants_json_reads_the_scenario_file(write_scenario, tmp_path: Path) -> None:
    from varsolve.index.builder import published_variants_json

    raw = b'{"$schema": "https://example.invalid/v9.9.9.json",\r\n "variants": {"x": {"a": {"b": "c"}}}}'
    (tmp_path / "odd.json").write_bytes(raw)
    path = write_scenario('[packages.P_q.versions."1.0"]\nvariants_json = "odd.json"\n[packages.r.versions."2"]\n')
    assert published_variants_json(path) == {("p-q", Version("1.0")): raw}  # bytes as they are, CRLF and all
    assert published_variants_json(tmp_path / "no-such.toml") == {}
    out = tmp_path / "index"
    build_index(path, out)
    assert (out / "files/p_q-1.0-variants.json").read_bytes() == raw
    with zipfile.ZipFile(out / "files/p_q-1.0-py3-none-any-x.whl") as z:
        assert json.loads(z.read("p_q-1.0.dist-info/variant.json")) == json.loads(raw)
