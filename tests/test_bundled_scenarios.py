"""Every bundled scenario with every strategy, through the verifier; and the scenario loader's
input errors (issue 2 section 7): each names the file and the key, as one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SCENARIOS
from varsolve.errors import InputError
from varsolve.expectations import Outcome
from varsolve.resolution import Explanation, Pin, Resolution, Step, Violation
from varsolve.scenario_check import check_scenario, compare
from varsolve.sources.scenario import iter_scenario_files, load_scenario
from varsolve.strategies import COMPLETE, available

BUNDLED = iter_scenario_files([SCENARIOS])
REQUIRED = {
    "blas-unify", "variant-dependency-backtrack", "accelerator-unify", "versions-win-over-variants",
    "null-variant-fallback", "non-variant-after-null", "fat-wheel-marker", "cuda-driver-too-old",
    "x86-64-level-too-new", "abi-dependency", "blas-unify-unsatisfiable", "mpi-shared-by-three",
    "two-namespaces-order", "optional-provider-disabled", "optional-provider-enabled",
}


def test_the_issue_scenarios_are_all_shipped():
    names = {load_scenario(p).name for p in BUNDLED}
    assert REQUIRED <= names, REQUIRED - names
    assert len(BUNDLED) >= 14


@pytest.mark.parametrize("strategy", available())
@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_scenario(path: Path, strategy: str):
    scenario = load_scenario(path)
    complete = strategy in COMPLETE
    result = check_scenario(scenario, strategy, complete)
    assert result.status == "pass", "\n".join(result.problems)
    if scenario.universal:
        universal = result.universal
        assert universal is not None and universal.strategy == strategy and universal.satisfiable
        assert universal.forks and all(fork.resolution.satisfiable for fork in universal.forks)
        kinds = {v.kind for _, _, v in universal.violations}
        assert kinds <= (set() if complete else {"unify"}), universal.violations
        return
    resolution = result.resolution
    assert resolution is not None and resolution.strategy == strategy
    if complete:
        assert resolution.violations == (), resolution.violations
        assert resolution.consistent
    else:
        assert all(v.kind == "unify" for v in resolution.violations), resolution.violations
    if not resolution.satisfiable:
        assert resolution.explanation and resolution.explanation.text.strip()
    expected = scenario.expected.for_strategy(strategy, complete)
    if complete:
        # a complete strategy is always held to expectations, and every bundled scenario has them
        assert expected is not None and expected.satisfiable is not None


def test_every_bundled_scenario_expects_something_of_the_complete_strategies():
    for path in BUNDLED:
        scenario = load_scenario(path)
        outcome = scenario.expected.complete
        assert outcome.satisfiable is not None, path
        if scenario.universal:
            assert scenario.expected.environments, path  # what each environment installs
        elif outcome.satisfiable:
            assert outcome.packages and outcome.variants is not None, path
        else:
            assert outcome.explanation_contains, path


# -- check.compare: the rules scenario check applies ---------------------------------------------


def _resolution(packages: dict[str, tuple[str, str | None]], violations=(), satisfiable=True, explanation=None):
    from packaging.version import Version

    pins = {n: Pin(Version(v), label, f"{n}-{v}.whl") for n, (v, label) in packages.items()}
    steps = tuple(Step("no-candidate", line) for line in explanation.splitlines()) if explanation is not None else ()
    found = tuple(Violation("unify" if v.startswith("unify") else "requirement", v) for v in violations)
    return Resolution("x", satisfiable, pins, explanation=Explanation(steps) if steps else None, violations=found)


def test_compare_exact_packages_and_variants():
    outcome = Outcome(satisfiable=True, packages={"a": "1.0"}, variants={"a": "mkl"})
    assert compare(outcome, _resolution({"a": ("1.0.0", "mkl")}), True) == []
    assert compare(outcome, _resolution({"a": ("2.0", "mkl")}), True) == ["expected a 1.0, got 2.0"]
    assert compare(outcome, _resolution({"a": ("1.0", "openblas")}), True) == ["expected a variant 'mkl', got 'openblas'"]
    assert compare(outcome, _resolution({"a": ("1.0", "mkl"), "b": ("3", "")}), True) == ["unexpected b 3 in the resolution"]
    assert compare(outcome, _resolution({}), True) == ["expected a 1.0, not in the resolution", "expected a variant 'mkl', got None"]


def test_compare_sdist_is_written_as_empty_label():
    outcome = Outcome(satisfiable=True, variants={"a": ""})
    assert compare(outcome, _resolution({"a": ("1.0", None)}), True) == []
    assert compare(outcome, _resolution({"a": ("1.0", "")}), True) == []


def test_compare_violations_and_consistency():
    unify = ["unify x :: y: no common value"]
    other = ["a requires b"]
    assert compare(Outcome(satisfiable=True), _resolution({}, unify), True) == ["verifier: " + unify[0]]
    assert compare(Outcome(satisfiable=True), _resolution({}, unify), False) == []
    assert compare(Outcome(satisfiable=True, consistent=True), _resolution({}, unify), False) == ["expected consistent=true, got false"]
    assert compare(Outcome(satisfiable=True, consistent=False), _resolution({}, unify), True) == []
    assert compare(Outcome(satisfiable=True), _resolution({}, other), False) == ["verifier: " + other[0]]


def test_compare_satisfiability_and_explanation():
    unsat = _resolution({}, satisfiable=False, explanation="numpy has only mkl\nblas :: lib must take one value")
    assert compare(Outcome(satisfiable=False, explanation_contains=("blas :: lib", "numpy")), unsat, True) == []
    assert compare(Outcome(satisfiable=False, explanation_contains=("scipy",)), unsat, True)[0].startswith("explanation lacks 'scipy'")
    assert compare(Outcome(satisfiable=True), unsat, True) == ["expected satisfiable, got unsatisfiable (numpy has only mkl)"]
    assert compare(Outcome(satisfiable=False), _resolution({}), True) == ["expected unsatisfiable, got satisfiable"]


def test_a_failing_expectation_is_reported_not_raised(load):
    scenario = load(
        """
        [root]
        requires = ["a"]
        [packages.a.versions."1.0.0"]
        [expected]
        satisfiable = true
        [expected.packages]
        a = "2.0.0"
        """
    )
    result = check_scenario(scenario, "backtrack", True)
    assert result.status == "fail" and result.problems == ["expected a 2.0.0, got 1.0.0"]


# -- the scenario loader's input errors ----------------------------------------------------------

VALID = """
[root]
requires = ["a"]
[environment.variants]
"blas :: lib" = ["mkl"]
[packages.a.versions."1.0.0".variants]
mkl = ["blas :: lib :: mkl"]
"""


@pytest.mark.parametrize(
    "text, key, fragment",
    [
        ("[root\nrequires = []", None, "malformed TOML"),
        ('nme = "x"', "nme", "unknown key"),
        ("[root]\nrequire = []", "root.require", "unknown key"),
        ("[environment]\npyton = '3.12'", "environment.pyton", "unknown key"),
        ("[resolver_options]\nunifi = []", "resolver_options.unifi", "unknown key"),
        ('[packages.a]\nversion = {}', "packages.a.version", "unknown key"),
        ('[packages.a.versions."1.0"]\nrequire = []', 'packages.a.versions."1.0".require', "unknown key"),
        ("[expected]\nsatisfyable = true", "expected.satisfyable", "unknown key"),
        ("[expected.pep825]\nsatisfiable = true\npackage = {}", "expected.pep825.package", "unknown key"),
        ('[expected.sat]\nvariant = {}', "expected.sat.variant", "unknown key"),
        # bad properties and features
        ('[packages.a.versions."1.0".variants]\nmkl = ["blas :: lib :: MKL"]', 'packages.a.versions."1.0".variants.mkl', "invalid value 'MKL'"),
        ('[packages.a.versions."1.0".variants]\nmkl = ["blas :: lib"]', 'packages.a.versions."1.0".variants.mkl', "expected 'namespace :: feature :: value'"),
        ('[environment.variants]\n"blas :: Lib" = ["mkl"]', 'environment.variants."blas :: Lib"', "invalid feature 'Lib'"),
        ('[environment.variants]\n"blas :: lib" = ["MKL"]', 'environment.variants."blas :: lib"', "invalid value 'MKL'"),
        ('[environment.variants]\n"blas :: lib" = "mkl"', 'environment.variants."blas :: lib"', "must be a list of strings"),
        ('[resolver_options]\nunify = ["blas"]', "resolver_options.unify", "invalid variant feature 'blas'"),
        ('[packages.a.versions."1.0".variants]\nt = ["abi_dependency :: torch :: 2.x"]', 'packages.a.versions."1.0".variants.t', "invalid abi_dependency value '2.x'"),
        # bad labels
        ('[packages.a.versions."1.0".variants]\nMKL = ["blas :: lib :: mkl"]', 'packages.a.versions."1.0".variants.MKL', "invalid variant label 'MKL'"),
        ('[packages.a.versions."1.0".variants]\n"m-k" = []', 'packages.a.versions."1.0".variants.m-k', "invalid variant label 'm-k'"),
        ('[packages.a.versions."1.0".variants]\nnull = ["blas :: lib :: mkl"]', 'packages.a.versions."1.0".variants.null', "null variant has no properties"),
        # variant namespaces
        ('[packages.a.versions."1.0"]\nnamespaces = ["x"]\n[packages.a.versions."1.0".variants]\nm = ["blas :: lib :: mkl"]', 'packages.a.versions."1.0".namespaces', "namespace 'blas' is used but not listed"),
        ('[packages.a.versions."1.0"]\noptional = ["x"]\n[packages.a.versions."1.0".variants]\nm = ["blas :: lib :: mkl"]', 'packages.a.versions."1.0".optional', "namespace 'x' is not in namespaces"),
        ('[packages.a.versions."1.0"]\nnamespaces = ["blas"]', 'packages.a.versions."1.0".namespaces', "only allowed together with variants"),
        # invalid requirements
        ('[root]\nrequires = ["a >>= 1"]', "root.requires", "invalid requirement 'a >>= 1'"),
        ('[root]\nrequires = [3]', "root.requires", "must be a list of strings"),
        ('[packages.a.versions."1.0"]\nrequires = ["b; variant_label >= \'x\'"]', 'packages.a.versions."1.0".requires', "unsupported use of a variant marker"),
        ('[packages.a.versions."1.0".extras]\ngpu = ["b;;"]', 'packages.a.versions."1.0".extras.gpu', "invalid requirement"),
        # bad versions and specifiers
        ('[packages.a.versions."one"]', 'packages.a.versions."one"', "invalid version"),
        ('[packages.a.versions."1.0"]\nrequires_python = ">=three"', 'packages.a.versions."1.0".requires_python', "invalid specifier"),
        ('[packages.a.versions."1.0"]\nwheel_tags = ["py3-none"]', 'packages.a.versions."1.0".wheel_tags', "invalid tag 'py3-none'"),
        ('[packages.a.versions."1.0"]\nwheel = "yes"', 'packages.a.versions."1.0".wheel', "must be true or false"),
        ("[environment]\npython = 'three'", "environment.python", "invalid Python version 'three'"),
        ("[resolver_options]\npython = '3'", "resolver_options.python", "invalid Python version '3'"),
        ("[environment]\npython = 3.10", "environment.python", "must be a string"),
        ("[resolver_options]\npython_platform = 'plan9'", "resolver_options.python_platform", "unknown platform 'plan9'"),
        ("[expected]\nsatisfiable = 'yes'", "expected.satisfiable", "must be true or false"),
        ('[expected.packages]\na = 1', "expected.packages.a", "must be a string"),
    ],
)
def test_bad_scenario_input(write_scenario, text, key, fragment):
    path = write_scenario(text)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message  # names the file
    if key is not None:
        assert f": {key}: " in message, message  # and the key
    assert fragment in message, message
    assert "\n" not in message


def test_the_valid_base_loads(write_scenario):
    scenario = load_scenario(write_scenario(VALID))
    assert scenario.problem.requirements == ("a",)


def test_missing_scenario_file(tmp_path):
    with pytest.raises(InputError, match="cannot read scenario") as info:
        load_scenario(tmp_path / "nope.toml")
    assert str(tmp_path / "nope.toml") in str(info.value)
    with pytest.raises(InputError, match="no such file or directory"):
        iter_scenario_files([tmp_path / "nope"])


def test_packse_defaults(load):
    """Every version has an sdist and a py3-none-any wheel; requires_python defaults to >=3.12;
    the target is Python 3.12, never the host."""
    scenario = load('[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0"]\n')
    repo = scenario.problem.repository
    (release,) = repo.releases("a")
    assert sorted(f.filename for f in release.files) == ["a-1.0.0-py3-none-any.whl", "a-1.0.0.tar.gz"]
    assert str(repo.metadata(release, release.files[0]).requires_python) == ">=3.12"
    assert str(scenario.problem.target.python) == "3.12.0"
    assert scenario.expected.complete.satisfiable is True


def test_variant_files_and_metadata(load):
    scenario = load(
        """
        [root]
        requires = ["numpy"]
        [packages.numpy.versions."2.3.0"]
        wheel = false
        sdist = false
        wheel_tags = ["cp312-cp312-manylinux_2_28_x86_64", "cp312-cp312-win_amd64"]
        namespaces = ["x86_64", "blas"]
        optional = ["blas"]
        [packages.numpy.versions."2.3.0".variants]
        v3 = ["x86_64 :: level :: v3", "blas::lib::mkl", "blas :: lib :: openblas"]
        null = []
        """
    )
    repo = scenario.problem.repository
    (release,) = repo.releases("numpy")
    assert sorted(f.filename for f in release.files) == [
        "numpy-2.3.0-cp312-cp312-manylinux_2_28_x86_64-null.whl",
        "numpy-2.3.0-cp312-cp312-manylinux_2_28_x86_64-v3.whl",
        "numpy-2.3.0-cp312-cp312-win_amd64-null.whl",
        "numpy-2.3.0-cp312-cp312-win_amd64-v3.whl",
    ]
    metadata = repo.variant_metadata(release)
    assert metadata.namespaces == ("x86_64", "blas")
    assert metadata.variants == {"v3": {"blas": {"lib": ("mkl", "openblas")}, "x86_64": {"level": ("v3",)}}, "null": {}}
    assert metadata.providers["blas"].optional and not metadata.providers["x86_64"].optional
