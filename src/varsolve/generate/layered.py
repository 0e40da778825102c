"""The "layered" scenario family: a synthetic index for scaling studies of the strategies.

``packages`` packages, each with ``versions`` releases (``1.0.0`` ... ``N.0.0``) and
``variants`` variant builds per release. Each package's builds differ in one feature: one of
the first ``unified`` features of :data:`FEATURES` (unified across the environment), or, for
the other packages, ``x86_64 :: level`` (not unified). Dependencies point from a package to
packages later in the order (an acyclic graph, ``density`` dependencies per release on
average), with lower bounds, sometimes an upper bound, and sometimes a variant marker (a
per-variant dependency). Newer releases drop some values of their feature, so that preferring
the newest release and the target's preferred value pulls packages apart.

A resolution always exists by construction: every ``1.0.0`` release builds every value and
depends only on ``>=1.0.0``, so the oldest release of everything with one common value is one.

``generate(*, seed, **knobs) -> str`` returns scenario TOML; the same knobs and seed give the
same bytes.
"""

from __future__ import annotations

import random
from typing import Any

from ..errors import InputError
from .toml import dumps
from .universal import UniversalKnobs

# (namespace, feature, values in the target's order of preference)
FEATURES: list[tuple[str, str, list[str]]] = [
    ("blas_lapack", "library", ["mkl", "openblas", "blis", "accelerate", "reference", "armpl", "nvpl", "aocl"]),
    ("mpi", "implementation", ["openmpi", "mpich", "intelmpi", "mvapich", "msmpi", "cray", "hpe", "fujitsu"]),
    ("nvidia", "cuda_version_lower_bound", ["12.8", "12.6", "12.4", "12.2", "12.0", "11.8", "11.6", "11.4"]),
    ("openmp", "runtime", ["libgomp", "libomp", "libiomp", "vcomp", "libgomp4", "libomp5", "iomp6", "gomp7"]),
]
LEVELS = ("x86_64", "level", ["v4", "v3", "v2", "v1", "v0", "v5", "v6", "v7"])


def generate(
    *,
    seed: int = 0,
    packages: int = 150,
    versions: int = 8,
    variants: int = 3,
    unified: int = 1,
    density: float = 2.0,
    roots: int = 5,
    unified_share: float = 0.6,
    upper_bounds: float = 0.1,
    variant_dependencies: float = 0.1,
    marker_split: float = 0.0,
    python_bumps: float = 0.0,
    universal: bool = False,
) -> str:
    """Scenario TOML for one layered index.

    packages, versions, variants: index size (variants: builds per release, at most 8);
    unified: how many features are unified (0-4); density: mean dependencies per release;
    roots: packages the root requires; unified_share: fraction of packages whose builds differ
    in a unified feature; upper_bounds: probability that a dependency also has an upper bound;
    variant_dependencies: probability that a dependency holds for one variant only;
    marker_split, python_bumps, universal: marker-split dependencies, raised Requires-Python and
    a universal scenario (:mod:`varsolve.generate.universal`; all off by default).
    """
    _count("packages", packages, 1)
    _count("versions", versions, 1)
    _count("variants", variants, 1, 8)
    _count("unified", unified, 0, len(FEATURES))
    _count("roots", roots, 1)
    for knob, value in (("unified_share", unified_share), ("upper_bounds", upper_bounds),
                        ("variant_dependencies", variant_dependencies)):
        _fraction(knob, value)
    if not isinstance(density, (int, float)) or isinstance(density, bool) or density < 0:
        raise InputError(f"density: must be a non-negative number, got {density!r}", where="layered")
    knobs = UniversalKnobs("layered", seed, marker_split, python_bumps, universal)
    rng = random.Random(seed)
    names = [f"pkg{i:03d}" for i in range(packages)]
    features = [FEATURES[k] for k in range(unified)]
    env: dict[str, list[str]] = {}
    for ns, f, values in [*features, LEVELS]:
        env[f"{ns} :: {f}"] = values[:variants]
    index: dict[str, dict[str, Any]] = {}
    window = 20  # dependencies reach at most this far down the order: local, layered structure
    for i, name in enumerate(names):
        ns, f, values = rng.choice(features) if features and rng.random() < unified_share else LEVELS
        values = values[:variants]
        later = names[i + 1 : i + 1 + window]
        releases: dict[str, dict[str, Any]] = {}
        for j in range(versions):
            version = f"{j + 1}.0.0"
            # newer releases build fewer values (never none); 1.0.0 builds them all
            kept = values if j == 0 else [v for v in values if rng.random() < 0.7] or [rng.choice(values)]
            info: dict[str, Any] = {"wheel": False, "sdist": False}
            requires_python = knobs.requires_python(name, j == 0)
            if requires_python is not None:
                info["requires_python"] = requires_python
            requires = []
            count = min(len(later), _poisson(rng, density))
            for dep in sorted(rng.sample(later, count)):
                if j == 0:
                    requires.append(dep)
                    continue
                top = max(1, (j + 1) // 2 + 1)
                low = rng.randint(1, top)
                spec = f">={low}.0.0"
                upper = None
                if rng.random() < upper_bounds and low < versions:
                    upper = rng.randint(low + 1, versions)
                    spec += f",<{upper}.0.0"
                marker = ""
                if rng.random() < variant_dependencies:
                    marker = f"'{ns} :: {f} :: {rng.choice(kept)}' in variant_properties"
                lows = [f"{k}.0.0" for k in range(1, top + 1) if upper is None or k < upper]
                split = knobs.split(dep, lows, None if upper is None else f"{upper}.0.0", marker)
                if split is not None:
                    requires += split
                else:
                    requires.append(f"{dep}{spec}{'; ' + marker if marker else ''}")
            if requires:
                info["requires"] = requires
            info["variants"] = {_label(v): [f"{ns} :: {f} :: {v}"] for v in kept}
            releases[version] = info
        index[name] = {"versions": releases}
    data = {
        "name": f"layered-{packages}x{versions}x{variants}-u{unified}-seed{seed}{knobs.name_suffix()}",
        "description": (
            f"Generated by varsolve.generate.layered (seed {seed}): {packages} packages, {versions} "
            f"releases each, {variants} builds per release, {unified} unified feature(s), "
            f"{density} dependencies per release. A consistent resolution exists by construction."
            + knobs.description()
        ),
        "root": {"requires": names[: min(roots, packages)]},
        "environment": {"variants": env},
        "resolver_options": {"unify": [f"{ns} :: {f}" for ns, f, _ in features]},
        "packages": index,
        "expected": {"satisfiable": True},
    }
    return dumps(knobs.apply(data))


def _label(value: str) -> str:
    return "v" + value.replace(".", "") if value[0].isdigit() else value


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; the standard library has no Poisson sampler."""
    if mean <= 0:
        return 0
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _count(knob: str, value: object, low: int, high: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise InputError(f"{knob}: must be an integer {bound}, got {value!r}", where="layered")


def _fraction(knob: str, value: object) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise InputError(f"{knob}: must be a number from 0 to 1, got {value!r}", where="layered")
