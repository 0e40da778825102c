"""The independent verifier: hand-built wrong resolutions each produce a violation."""

from __future__ import annotations

from dataclasses import replace

import pytest
from packaging.version import Version

from varsolve.api import solve
from varsolve.resolution import Explanation, Pin, Resolution, Step
from varsolve.verifier import verify

WORLD = """
[root]
requires = ["numpy", "scipy", "flashkit", "torch<2.9", "y"]

[environment.variants]
"blas :: lib" = ["mkl", "openblas"]

[resolver_options]
unify = ["blas :: lib"]

[packages.numpy.versions."2.3.0"]
wheel = false
sdist = false
requires = ["mkl-runtime; 'blas :: lib :: mkl' in variant_properties"]
namespaces = ["blas", "gpu"]
[packages.numpy.versions."2.3.0".variants]
mkl = ["blas :: lib :: mkl"]
openblas = ["blas :: lib :: openblas"]
cuda = ["gpu :: cuda :: 12"]

[packages.numpy.versions."1.0.0"]

[packages.scipy.versions."1.16.0"]
wheel = false
sdist = false
requires = ["numpy>=2"]
[packages.scipy.versions."1.16.0".variants]
openblas = ["blas :: lib :: openblas"]

[packages.mkl-runtime.versions."2025.2.0"]

[packages.flashkit.versions."0.11.0"]
wheel = false
sdist = false
[packages.flashkit.versions."0.11.0".variants]
torch28 = ["abi_dependency :: torch :: 2.8"]
torch29 = ["abi_dependency :: torch :: 2.9"]

[packages.torch.versions]
"2.8.0" = {}
"2.9.0" = {}

[packages.y.versions."1.0.0"]
[packages.y.versions."2.0.0"]
yanked = true

[packages.old.versions."1.0.0"]
requires_python = ">=3.13"

[packages.win.versions."1.0.0"]
sdist = false
wheel_tags = ["cp312-cp312-win_amd64"]

[packages.extra.versions."1.0.0"]
"""


@pytest.fixture
def world(load):
    return load(WORLD).problem


@pytest.fixture
def good(world) -> Resolution:
    resolution = solve(world, "backtrack")
    assert resolution.satisfiable and resolution.violations == ()
    return resolution


def pin(version: str, label: str | None, filename: str) -> Pin:
    return Pin(Version(version), label, filename)


def with_pins(resolution: Resolution, **pins: Pin | None) -> Resolution:
    packages = dict(resolution.packages)
    for name, p in pins.items():
        name = name.replace("_", "-")
        if p is None:
            packages.pop(name, None)
        else:
            packages[name] = p
    return replace(resolution, packages=packages, violations=())


def messages(problem, resolution) -> list[str]:
    return [v.message for v in verify(problem, resolution)]


def test_the_correct_resolution_has_no_violations(world, good):
    assert {n: (str(p.version), p.variant) for n, p in good.packages.items()} == {
        "numpy": ("2.3.0", "openblas"),
        "scipy": ("1.16.0", "openblas"),
        "flashkit": ("0.11.0", "torch28"),
        "torch": ("2.8.0", ""),
        "y": ("1.0.0", ""),
    }
    assert verify(world, good) == []


def test_the_status_quo_result_has_only_a_unify_violation(world):
    resolution = solve(world, "pep825")
    if resolution.satisfiable:
        assert resolution.violations and all(v.kind == "unify" for v in resolution.violations)
        assert not resolution.consistent


def test_missing_dependency(world, good):
    bad = with_pins(good, scipy=None)
    assert "the root requires scipy but scipy is not in the resolution" in messages(world, bad)
    # a dependency gated by a variant marker: numpy [mkl] needs mkl-runtime
    bad = with_pins(good, numpy=pin("2.3.0", "mkl", "numpy-2.3.0-py3-none-any-mkl.whl"))
    assert any("numpy requires mkl-runtime" in v and "not in the resolution" in v for v in messages(world, bad))


def test_wrong_version(world, good):
    bad = with_pins(good, numpy=pin("1.0.0", "", "numpy-1.0.0-py3-none-any.whl"))
    assert "scipy requires numpy>=2 but the resolution has numpy 1.0.0" in messages(world, bad)
    bad = with_pins(good, torch=pin("2.9.0", "", "torch-2.9.0-py3-none-any.whl"))
    assert any("requires torch<2.9" in v for v in messages(world, bad))


def test_nonexistent_version_or_file(world, good):
    assert "numpy 9.9 does not exist" in messages(world, with_pins(good, numpy=pin("9.9", "", "numpy-9.9-py3-none-any.whl")))
    bad = with_pins(good, numpy=pin("2.3.0", "", "numpy-2.3.0-py3-none-any.whl"))
    assert "numpy 2.3.0: no file numpy-2.3.0-py3-none-any.whl" in messages(world, bad)


def test_variant_label_must_match_the_file(world, good):
    bad = with_pins(good, numpy=pin("2.3.0", "mkl", "numpy-2.3.0-py3-none-any-openblas.whl"))
    assert any("variant 'mkl' does not match" in v for v in messages(world, bad))
    bad = with_pins(good, y=pin("1.0.0", "", "y-1.0.0.tar.gz"))
    assert any("is an sdist but the variant is ''" in v for v in messages(world, bad))


def test_unsupported_variant(world, good):
    bad = with_pins(good, numpy=pin("2.3.0", "cuda", "numpy-2.3.0-py3-none-any-cuda.whl"))
    assert any("variant 'cuda' needs properties the target does not support" in v for v in messages(world, bad))


def test_unify_violation(world, good):
    bad = with_pins(
        good,
        numpy=pin("2.3.0", "mkl", "numpy-2.3.0-py3-none-any-mkl.whl"),
        mkl_runtime=pin("2025.2.0", "", "mkl_runtime-2025.2.0-py3-none-any.whl"),
    )
    violations = verify(world, bad)
    assert [(v.kind, v.feature, v.packages, v.message) for v in violations] == [
        (
            "unify",
            "blas :: lib",
            ("numpy", "scipy"),
            "unify blas :: lib: no common value (numpy [mkl] has {mkl}; scipy [openblas] has {openblas})",
        )
    ]
    bad = bad.with_violations(violations)
    assert not bad.consistent
    # without unify the same resolution is fine
    no_unify = replace(world, options=replace(world.options, unify=()))
    assert verify(no_unify, bad) == []


def test_unify_reported_value_must_be_common(world, good):
    bad = replace(good, unified={"blas :: lib": "mkl"}, violations=())
    assert any(v.startswith("unify blas :: lib: the reported value mkl") for v in messages(world, bad))
    assert verify(world, replace(good, unified={"blas :: lib": "openblas"}, violations=())) == []


def test_yanked_release_without_a_pin(world, good):
    bad = with_pins(good, y=pin("2.0.0", "", "y-2.0.0-py3-none-any.whl"))
    assert any(v.startswith("y 2.0.0 is yanked") for v in messages(world, bad))
    pinned = replace(world, requirements=tuple("y==2.0.0" if r == "y" else r for r in world.requirements))
    assert verify(pinned, bad) == []


def test_yanked_release_wildcard_is_not_a_pin(world, good):
    """PEP 592: only ``==`` without a wildcard (or ``===``) pins a yanked release."""
    bad = with_pins(good, y=pin("2.0.0", "", "y-2.0.0-py3-none-any.whl"))
    wildcard = replace(world, requirements=tuple("y==2.*" if r == "y" else r for r in world.requirements))
    assert any(v.startswith("y 2.0.0 is yanked") for v in messages(wildcard, bad))


def test_yanked_never_policy(world, good):
    bad = with_pins(good, y=pin("2.0.0", "", "y-2.0.0-py3-none-any.whl"))
    never = replace(world, options=replace(world.options, yanked="never"),
                    requirements=tuple("y==2.0.0" if r == "y" else r for r in world.requirements))
    assert any(v.startswith("y 2.0.0 is yanked") for v in messages(never, bad))


def test_wrong_tags(world, good):
    problem = replace(world, requirements=world.requirements + ("win",))
    bad = with_pins(good, win=pin("1.0.0", "", "win-1.0.0-cp312-cp312-win_amd64.whl"))
    assert "win: win-1.0.0-cp312-cp312-win_amd64.whl has no tag the target supports" in messages(problem, bad)
    assert not solve(problem, "backtrack").satisfiable


def test_wrong_python(world, good):
    problem = replace(world, requirements=world.requirements + ("old",))
    bad = with_pins(good, old=pin("1.0.0", "", "old-1.0.0-py3-none-any.whl"))
    assert "old 1.0.0 requires Python >=3.13, target is 3.12.0" in messages(problem, bad)


def test_extraneous_package(world, good):
    bad = with_pins(good, extra=pin("1.0.0", "", "extra-1.0.0-py3-none-any.whl"))
    assert messages(world, bad) == ["extra is in the resolution but nothing requires it"]
    # mkl-runtime is not needed by numpy's OpenBLAS variant
    bad = with_pins(good, mkl_runtime=pin("2025.2.0", "", "mkl_runtime-2025.2.0-py3-none-any.whl"))
    assert messages(world, bad) == ["mkl-runtime is in the resolution but nothing requires it"]


def test_abi_dependency_mismatch(world, good):
    bad = with_pins(good, flashkit=pin("0.11.0", "torch29", "flashkit-0.11.0-py3-none-any-torch29.whl"))
    assert "flashkit [torch29] is built for torch 2.9 but the resolution has torch 2.8.0" in messages(world, bad)
    problem = replace(world, requirements=tuple(r for r in world.requirements if not r.startswith("torch")))
    missing = with_pins(good, torch=None)
    assert "flashkit [torch28] is built for torch 2.8 but the resolution has no torch" in messages(problem, missing)


def test_binary_and_build_policy(world, good):
    no_binary = replace(world, options=replace(world.options, no_binary=frozenset({"y"})))
    assert "y: binary wheels are not allowed" in messages(no_binary, good)
    sdist = with_pins(good, y=pin("1.0.0", None, "y-1.0.0.tar.gz"))
    assert verify(world, sdist) == []
    no_build = replace(world, options=replace(world.options, no_build=frozenset({":all:"})))
    assert "y: building from source is not allowed" in messages(no_build, sdist)


def test_variant_wheels_disabled(world, good):
    off = replace(world, options=replace(world.options, variants=False))
    assert any("variant wheels are disabled" in v for v in messages(off, good))


def test_unnormalised_name(world, good):
    packages = dict(good.packages)
    packages["Numpy"] = packages.pop("numpy")
    assert any("Numpy: package name is not normalised" in v for v in messages(world, replace(good, packages=packages)))


def test_unsatisfiable_results_need_an_explanation(world):
    assert messages(world, Resolution("x", satisfiable=False)) == [
        "unsatisfiable result without an explanation"
    ]
    because = Explanation((Step("no-candidate", "because"),))
    assert verify(world, Resolution("x", satisfiable=False, explanation=because)) == []


def test_extras_are_followed(load):
    problem = load(
        """
        [root]
        requires = ["a[gpu]"]
        [packages.a.versions."1.0.0".extras]
        gpu = ["cupy"]
        [packages.cupy.versions."1.0.0"]
        """
    ).problem
    good = solve(problem, "backtrack")
    assert set(good.packages) == {"a", "cupy"} and good.violations == ()
    missing = with_pins(good, cupy=None)
    assert any("a requires cupy" in v for v in messages(problem, missing))


def test_dependencies_of_an_abi_dependency_are_followed(load):
    """Regression (found by test_random_scenarios): the verifier did not walk into a package
    that is required only through ``abi_dependency``, so its own dependencies were reported as
    extraneous and their requirements went unchecked."""
    problem = load(
        """
        [root]
        requires = ["p0"]
        [packages.p0.versions."1.0.0"]
        wheel = false
        sdist = false
        [packages.p0.versions."1.0.0".variants]
        l0 = ["abi_dependency :: p1 :: 1"]
        [packages.p1.versions."1.0.0"]
        requires = ["p2>=2"]
        [packages.p2.versions."1.0.0"]
        [packages.p2.versions."2.0.0"]
        """
    ).problem
    good = solve(problem, "backtrack")
    assert {n: str(p.version) for n, p in good.packages.items()} == {"p0": "1.0.0", "p1": "1.0.0", "p2": "2.0.0"}
    assert good.violations == ()
    wrong = with_pins(good, p2=pin("1.0.0", "", "p2-1.0.0-py3-none-any.whl"))
    assert messages(problem, wrong) == ["p1 requires p2>=2 but the resolution has p2 1.0.0"]
