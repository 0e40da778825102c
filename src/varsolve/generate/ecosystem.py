"""The "ecosystem-shaped" scenario family: a few hub packages carrying variants, many leaves.

Shaped like the scientific/ML corner of PyPI: ``numpy`` ships MKL and OpenBLAS builds, ``scipy``
mostly OpenBLAS, ``torch`` CUDA 12.6 / 12.8 builds and a CPU (``null``) build; leaf packages
depend on the hubs (with lower bounds, and sometimes an upper bound on a newer release), on each
other (a DAG), and a share of them are compiled extensions carrying BLAS or CUDA variants of
their own. The target supports both BLAS libraries (MKL preferred) and, with ``gpu``, both CUDA
lower bounds (12.8 preferred); BLAS and the CUDA bound are unified.

A consistent resolution always exists by construction (every leaf's oldest release has lower
bounds only, every BLAS build comes in OpenBLAS too, every CUDA build has a CPU build), so
``[expected] satisfiable = true`` is a real expectation for the complete strategies, and the
status quo's inconsistent environments are what a study counts.

``generate(*, seed, **knobs) -> str`` returns scenario TOML (docs/scenario-format.md); the same
knobs and seed give the same bytes.
"""

from __future__ import annotations

import random
from typing import Any

from ..errors import InputError
from .toml import dumps
from .universal import UniversalKnobs

BLAS = "blas_lapack :: library"
CUDA = "nvidia :: cuda_version_lower_bound"


def generate(
    *,
    seed: int = 0,
    leaves: int = 20,
    versions: int = 4,
    root_share: float = 0.3,
    blas_share: float = 0.4,
    cuda_share: float = 0.2,
    density: float = 1.0,
    upper_bounds: float = 0.2,
    gpu: bool = True,
    unify: bool = True,
    marker_split: float = 0.0,
    python_bumps: float = 0.0,
    universal: bool = False,
) -> str:
    """Scenario TOML for one ecosystem-shaped index.

    leaves: leaf packages; versions: releases per package (hubs and leaves); root_share:
    fraction of the leaves the root requires (at least one); blas_share / cuda_share: fraction
    of leaves with BLAS / CUDA variants;
    density: mean number of leaf-on-leaf dependencies; upper_bounds: probability that a newer
    leaf release caps a hub; gpu: the target has an NVIDIA driver; unify: unify BLAS and CUDA;
    marker_split, python_bumps, universal: marker-split dependencies, raised Requires-Python and
    a universal scenario (:mod:`varsolve.generate.universal`; all off by default).
    """
    _check_count("leaves", leaves, 1)
    _check_count("versions", versions, 1)
    shares = (("root_share", root_share), ("blas_share", blas_share), ("cuda_share", cuda_share), ("upper_bounds", upper_bounds))
    for knob, value in shares:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
            raise InputError(f"{knob}: must be a number from 0 to 1, got {value!r}", where="ecosystem")
    if not isinstance(density, (int, float)) or isinstance(density, bool) or density < 0:
        raise InputError(f"density: must be a non-negative number, got {density!r}", where="ecosystem")
    for knob, value in (("gpu", gpu), ("unify", unify)):
        if not isinstance(value, bool):
            raise InputError(f"{knob}: must be true or false, got {value!r}", where="ecosystem")
    knobs = UniversalKnobs("ecosystem", seed, marker_split, python_bumps, universal)
    roots = max(1, round(leaves * root_share))
    return _Ecosystem(
        random.Random(seed), seed, leaves, versions, roots, blas_share, cuda_share, density, upper_bounds, gpu, unify,
        knobs,
    ).toml()


def _check_count(knob: str, value: object, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InputError(f"{knob}: must be an integer >= {minimum}, got {value!r}", where="ecosystem")


class _Ecosystem:
    def __init__(self, rng: random.Random, seed: int, leaves: int, versions: int, roots: int,
                 blas_share: float, cuda_share: float, density: float, upper_bounds: float,
                 gpu: bool, unify: bool, knobs: UniversalKnobs | None = None) -> None:
        self.rng = rng
        self.knobs = knobs if knobs is not None else UniversalKnobs("ecosystem", seed, 0.0, 0.0, False)
        self.seed = seed
        self.n_leaves = leaves
        self.n_versions = versions
        self.n_roots = min(roots, leaves)
        self.blas_share = blas_share
        self.cuda_share = cuda_share
        self.density = density
        self.upper_bounds = upper_bounds
        self.gpu = gpu
        self.unify = unify
        self.packages: dict[str, dict[str, Any]] = {}
        # Oldest first; the newest torch releases add CUDA 12.8 builds.
        self.numpy = [f"2.{i}.0" for i in range(versions)]
        self.scipy = [f"1.{10 + i}.0" for i in range(versions)]
        self.torch = [f"2.{4 + i}.0" for i in range(versions)]
        self.torch_cu128 = {v for i, v in enumerate(self.torch) if i >= versions // 2}

    def toml(self) -> str:
        leaves = [f"lib{i:03d}" for i in range(self.n_leaves)]
        kinds = {name: self._kind() for name in leaves}
        roots = sorted(self.rng.sample(leaves, self.n_roots))
        suffix = ("" if self.gpu else "-cpu") + ("" if self.unify else "-nounify")
        supported = {BLAS: ["mkl", "openblas"]}
        if self.gpu:
            supported[CUDA] = ["12.8", "12.6"]
        self._hubs()
        for index, name in enumerate(leaves):
            self._leaf(name, kinds[name], leaves[:index], kinds)
        return dumps(self.knobs.apply({
            "name": f"ecosystem-{self.n_leaves}x{self.n_versions}-seed{self.seed}{suffix}{self.knobs.name_suffix()}",
            "description": (
                f"Generated by varsolve.generate.ecosystem (seed {self.seed}): hubs numpy/scipy (BLAS "
                f"variants) and torch (CUDA variants), {self.n_leaves} leaves with {self.n_versions} "
                "releases each. A consistent resolution exists by construction."
                + self.knobs.description()
            ),
            "root": {"requires": roots},
            "environment": {"variants": supported},
            "resolver_options": {"unify": [BLAS, CUDA] if self.unify else []},
            "packages": self.packages,
            "expected": {"satisfiable": True},
        }))

    def _kind(self) -> str:
        x = self.rng.random()
        if x < self.blas_share:
            return "blas"
        if x < self.blas_share + self.cuda_share:
            return "cuda"
        return "pure"

    def _release(self, name: str, version: str, requires: list[str], variants: dict[str, list[str]] | None) -> None:
        release: dict[str, Any] = {}
        requires_python = self.knobs.requires_python(name, name not in self.packages)
        if requires_python is not None:
            release["requires_python"] = requires_python
        if variants is not None:
            release["wheel"] = False
        release["sdist"] = False
        if requires:
            release["requires"] = requires
        if variants is not None:
            release["variants"] = variants
        self.packages.setdefault(name, {"versions": {}})["versions"][version] = release

    def _hubs(self) -> None:
        mkl_marker = f"'{BLAS} :: mkl' in variant_properties"
        for version in ["2025.0.0", "2025.1.0"]:
            self._release("mkl-runtime", version, [], None)
        for version in ("12.6.3", "12.8.1"):
            self._release("nvidia-cuda-runtime", version, [], None)
        for version in self.numpy:
            blas = {"mkl": [f"{BLAS} :: mkl"], "openblas": [f"{BLAS} :: openblas"]}
            self._release("numpy", version, [f"mkl-runtime; {mkl_marker}"], blas)
        for i, version in enumerate(self.scipy):
            # Like the real index: MKL builds of scipy are the exception.
            blas = {"openblas": [f"{BLAS} :: openblas"]}
            if self.rng.random() < 0.3:
                blas = {"mkl": [f"{BLAS} :: mkl"], **blas}
            self._release("scipy", version, [f"numpy>={self.numpy[i // 2]}", f"mkl-runtime; {mkl_marker}"], blas)
        for version in self.torch:
            cuda: dict[str, list[str]] = {}
            if version in self.torch_cu128:
                cuda["cu128"] = [f"{CUDA} :: 12.8"]
            cuda["cu126"] = [f"{CUDA} :: 12.6"]
            cuda["null"] = []
            requires = ["numpy>=2.0.0"] + [
                f"nvidia-cuda-runtime=={v}.*; '{CUDA} :: {v}' in variant_properties" for v in ("12.6", "12.8")
            ]
            self._release("torch", version, requires, cuda)

    def _leaf(self, name: str, kind: str, earlier: list[str], kinds: dict[str, str]) -> None:
        rng = self.rng
        n_deps = min(len(earlier), int(rng.expovariate(1 / self.density)) if self.density > 0 else 0)
        deps = sorted(rng.sample(earlier, n_deps)) if n_deps else []
        hub = {"blas": "numpy", "cuda": "torch", "pure": "numpy"}[kind]
        hub_versions = self.torch if hub == "torch" else self.numpy
        uses_hub = kind != "pure" or rng.random() < 0.5
        uses_scipy = rng.random() < 0.3
        for j in range(self.n_versions):
            version = f"1.{j}.0"
            requires: list[str] = []
            if uses_hub:
                # Newer releases need newer hubs; the oldest release takes any.
                lower = hub_versions[rng.randint(0, j)] if j else hub_versions[0]
                spec = f">={lower}"
                newest_allowed = len(hub_versions) - 1
                upper = None
                if j and rng.random() < self.upper_bounds and hub_versions.index(lower) < newest_allowed:
                    upper = hub_versions[rng.randint(hub_versions.index(lower) + 1, newest_allowed)]
                    spec += f",<{upper}"
                lows = hub_versions[: j + 1] if upper is None else hub_versions[: min(j + 1, hub_versions.index(upper))]
                self._require(requires, hub, spec, lows if j else [], upper)
            if kind == "blas" and uses_scipy:
                if j:
                    self._require(requires, "scipy", f">={self.scipy[rng.randint(0, j)]}", self.scipy[: j + 1], None)
                else:
                    requires.append("scipy")
            for dep in deps:
                # The oldest release has unbounded dependencies: a solution always exists.
                if j:
                    self._require(requires, dep, f">=1.{rng.randint(0, j)}.0", [f"1.{k}.0" for k in range(j + 1)], None)
                else:
                    requires.append(dep)
            variants: dict[str, list[str]] | None = None
            if kind == "blas":
                variants = {"openblas": [f"{BLAS} :: openblas"]}
                if rng.random() < 0.6:
                    variants = {"mkl": [f"{BLAS} :: mkl"], **variants}
                    requires.append(f"mkl-runtime; '{BLAS} :: mkl' in variant_properties")
            elif kind == "cuda":
                variants = {}
                if rng.random() < 0.5:
                    variants["cu128"] = [f"{CUDA} :: 12.8"]
                variants["cu126"] = [f"{CUDA} :: 12.6"]
                variants["null"] = []
            self._release(name, version, requires, variants)

    def _require(self, requires: list[str], dep: str, spec: str, lows: list[str], upper: str | None) -> None:
        """``dep`` with ``spec``, or (marker_split) with a bound from ``lows`` per marker part."""
        split = self.knobs.split(dep, lows, upper)
        if split is None:
            requires.append(f"{dep}{spec}")
        else:
            requires += split
