"""Property tests on random scenarios (tests/random_scenarios.py).

For every strategy: the result goes through the verifier (complete strategies: no violation at
all; the status quo: only ``unify`` violations), an unsatisfiable result carries an explanation,
and the status quo never beats ``backtrack`` on consistency. An exhaustive search over every file
(judged by the verifier) tells whether a valid, consistent resolution exists; the complete
strategies must find one exactly when it does.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, example, given, note, settings

from conftest import examples
from random_scenarios import load, scenario_data, search_all, to_toml
from varsolve.api import solve
from varsolve.strategies import COMPLETE, available

STRATEGIES = available()

SETTINGS = settings(
    max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def check(data) -> None:
    note(to_toml(data))
    problem = load(data).problem
    results = {}
    for strategy in STRATEGIES:
        resolution = solve(problem, strategy)
        results[strategy] = resolution
        note(f"{strategy}: {resolution.to_text()}")
        if strategy in COMPLETE:
            assert resolution.violations == (), (strategy, resolution.violations)
        else:
            assert all(v.kind == "unify" for v in resolution.violations), (strategy, resolution.violations)
        if not resolution.satisfiable:
            assert resolution.explanation and resolution.explanation.text.strip(), strategy

    quo, backtrack = results["pep825"], results["backtrack"]
    # the status quo installs, of each version it chose, the single best file in PEP 825 order
    for name, pin in quo.packages.items():
        assert pin.variant == best_file_label(problem, name, pin.version), (name, pin)
    # the status quo never beats backtrack on consistency
    if quo.satisfiable and quo.consistent:
        assert backtrack.satisfiable and backtrack.consistent
    if not backtrack.satisfiable:
        assert not quo.satisfiable or not quo.consistent

    reference = search_all(problem)
    note(f"exhaustive search: {reference.to_text() if reference else 'nothing'}")
    for strategy in STRATEGIES:
        if strategy in COMPLETE:
            assert results[strategy].satisfiable == (reference is not None), strategy


def best_file_label(problem, name, version):
    """PEP 825's choice among one release's files, computed from the primitives: the first
    compatible label in filter-and-order order whose wheel has a supported tag, else a
    non-variant wheel (""), else the sdist (None)."""
    from varsolve.errors import InvalidVariantMetadata
    from varsolve.providers import supported_for_release
    from varsolve.variants.ordering import order_labels

    repo, target = problem.repository, problem.target
    (release,) = [r for r in repo.releases(name) if r.version == version]
    tags = set(target.tags())
    wheels = [f for f in release.files if f.wheel is not None and f.wheel.tags & tags]
    labels = sorted({f.wheel.label for f in wheels if f.wheel.label is not None})
    if labels:
        try:
            metadata = repo.variant_metadata(release)
        except InvalidVariantMetadata:
            metadata = None
        if metadata is not None:
            ordered = order_labels(metadata, supported_for_release(metadata, target), labels)
            if ordered:
                return ordered[0]
    if any(f.wheel.label is None for f in wheels):
        return ""
    return None


# Regressions and the cases the properties are about, run first on every profile.
ABI_DEPENDENCY_WALK = {  # found by this test: the verifier did not walk into p1 (tests/test_verifier.py)
    "name": "random",
    "root": {"requires": ["p0"]},
    "packages": {
        "p0": {"versions": {"1.0.0": {"wheel": False, "sdist": False, "variants": {"l0": ["abi_dependency :: p1 :: 1"]}}}},
        "p1": {"versions": {"1.0.0": {"requires": ["p2>=2"]}}},
        "p2": {"versions": {"1.0.0": {}, "2.0.0": {}}},
    },
}
MIXED_BLAS = {  # the status quo takes p0's first-choice mkl, p1 only has openblas: inconsistent
    "name": "random",
    "root": {"requires": ["p0", "p1"]},
    "environment": {"variants": {"blas :: lib": ["mkl", "openblas"]}},
    "resolver_options": {"unify": ["blas :: lib"]},
    "packages": {
        "p0": {
            "versions": {"1.0.0": {"wheel": False, "variants": {"l0": ["blas :: lib :: mkl"], "l1": ["blas :: lib :: openblas"]}}}
        },
        "p1": {"versions": {"1.0.0": {"wheel": False, "sdist": False, "variants": {"l1": ["blas :: lib :: openblas"]}}}},
    },
}
NO_COMMON_VALUE = {  # no value of the unified feature fits both: unsatisfiable, with an explanation
    "name": "random",
    "root": {"requires": ["p0", "p1"]},
    "environment": {"variants": {"blas :: lib": ["mkl", "openblas"]}},
    "resolver_options": {"unify": ["blas :: lib"]},
    "packages": {
        "p0": {"versions": {"1.0.0": {"wheel": False, "sdist": False, "variants": {"l0": ["blas :: lib :: mkl"]}}}},
        "p1": {"versions": {"1.0.0": {"wheel": False, "sdist": False, "variants": {"l1": ["blas :: lib :: openblas"]}}}},
    },
}


@SETTINGS
@given(scenario_data())
@example(ABI_DEPENDENCY_WALK)
@example(MIXED_BLAS)
@example(NO_COMMON_VALUE)
def test_random_scenarios(data):
    check(data)


def test_generator_round_trips_through_the_loader():
    """The strategy's TOML loads, and the examples cover the interesting features."""
    from hypothesis import find

    example = find(
        scenario_data(),
        lambda d: any(
            "variants" in info and "abi_dependency" in str(info) and "requires" in info
            for pkg in d["packages"].values()
            for info in pkg["versions"].values()
        )
        and "unify" in d.get("resolver_options", {}),
        # the first match is enough: shrinking it (the default) took minutes and proves nothing more
        settings=settings(max_examples=2000, database=None, phases=[Phase.generate]),
    )
    scenario = load(example)
    assert scenario.problem.options.unify
    assert any(scenario.problem.repository.variant_metadata(r) for n in ("p0", "p1", "p2") for r in scenario.problem.repository.releases(n))
