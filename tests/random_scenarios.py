"""Random scenario problems for property tests, and an exhaustive reference search.

``scenario_data()`` is a hypothesis strategy that draws a scenario as the dict of a scenario TOML
file: 2-4 packages with 1-3 versions each; per version variant wheels (labels with 0-2 features,
some multi-valued, sometimes ``null``), a non-variant wheel and/or an sdist; dependencies on later
packages (so the graph is acyclic) gated by ordinary specifiers and by the four variant markers;
now and then ``abi_dependency``, an optional provider, a yanked or Python-incompatible release or
a wheel for another platform; a target that supports a random ordered subset of the values; and
0-2 unified features. ``to_toml()`` writes it; ``load()`` loads it through the real scenario
loader, so a failing example can be saved as a regression scenario file as is.

``search_all(problem)`` is a deliberately naive, exhaustive search over every file of every
package, with the independent verifier as the judge: a reference answer for "is there a valid,
consistent resolution at all?" on these small problems.

Usage from another test file (``tests/`` is on ``sys.path`` under pytest)::

    from random_scenarios import scenario_data, load
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from packaging.utils import canonicalize_name

VERSIONS = ["1.0.0", "2.0.0", "2.1.0"]
# (namespace, feature) -> every value that exists; targets support an ordered subset
FEATURES: dict[tuple[str, str], list[str]] = {
    ("blas", "lib"): ["mkl", "openblas", "accel"],
    ("gpu", "cuda"): ["12", "11"],
    ("gpu", "arch"): ["a", "b", "c"],
    ("cpu", "level"): ["v4", "v3", "v2"],
}
LABELS = ["l0", "l1", "l2", "l3", "fat", "cpu0"]
SPECIFIERS = ["", "", ">=2", "<2", "==1.0.0", "!=2.0.0", ">=2.1", "==2.*"]
# BLAS is drawn more often, so that packages share features and unification has work to do
WEIGHTED_FEATURES = [("blas", "lib")] * 3 + sorted(FEATURES)
OTHER_PLATFORM_TAG = "cp312-cp312-win_amd64"  # the default target is x86_64 Linux


def _chance(draw, one_in: int) -> bool:
    """True about once in ``one_in`` draws; shrinks to False (the plain case)."""
    return draw(st.integers(1, one_in)) == one_in


@st.composite
def _properties(draw, allow_abi_on: list[str]) -> list[str]:
    count = 0 if _chance(draw, 6) else (2 if _chance(draw, 4) else 1)
    features = draw(st.lists(st.sampled_from(WEIGHTED_FEATURES), min_size=count, max_size=count, unique=True))
    props = []
    for ns, f in features:
        values = draw(st.lists(st.sampled_from(FEATURES[(ns, f)]), min_size=1, max_size=2, unique=True))
        props += [f"{ns} :: {f} :: {v}" for v in values]
    if allow_abi_on and _chance(draw, 8):
        dist = draw(st.sampled_from(allow_abi_on))
        values = draw(st.lists(st.sampled_from(["1", "2", "2.1"]), min_size=1, max_size=2, unique=True))
        props += [f"abi_dependency :: {dist} :: {v}" for v in values]
    return props


@st.composite
def _marker(draw, labels: list[str]) -> str:
    ns, f = draw(st.sampled_from(sorted(FEATURES)))
    v = draw(st.sampled_from(FEATURES[(ns, f)]))
    label = draw(st.sampled_from(labels + ["null"]))
    return draw(
        st.sampled_from(
            [
                "",
                "",
                f" ; '{ns} :: {f} :: {v}' in variant_properties",
                f" ; '{ns}::{f}::{v}' not in variant_properties",
                f" ; '{ns} :: {f}' in variant_features",
                f" ; '{ns}' in variant_namespaces",
                f" ; variant_label == '{label}'",
                " ; variant_label != 'null'",
                " ; variant_label == ''",
                f" ; python_version >= '3.12' and '{ns}' not in variant_namespaces",
            ]
        )
    )


@st.composite
def scenario_data(draw, max_packages: int = 4) -> dict[str, Any]:
    n = draw(st.integers(2, max_packages))
    names = [f"p{i}" for i in range(n)]
    supported: dict[str, list[str]] = {}
    for ns, f in draw(st.permutations(sorted(FEATURES))):
        if _chance(draw, 5):
            continue  # the target does not know this feature
        values = draw(st.permutations(FEATURES[(ns, f)]))
        # mostly at least one supported value; an empty list makes the feature unsupported
        count = 0 if _chance(draw, 7) else draw(st.integers(1, len(values)))
        supported[f"{ns} :: {f}"] = values[:count]
    optional_namespaces: set[str] = set()
    packages: dict[str, Any] = {}
    for i, name in enumerate(names):
        later = names[i + 1 :]
        versions: dict[str, Any] = {}
        for version in draw(st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=3, unique=True)):
            info: dict[str, Any] = {}
            labels: dict[str, list[str]] = {}
            count = 0 if _chance(draw, 4) else draw(st.integers(1, 3))
            for label in draw(st.lists(st.sampled_from(LABELS), min_size=count, max_size=count, unique=True)):
                labels[label] = draw(_properties(later))
            if _chance(draw, 4):
                labels["null"] = []
            # a non-variant wheel mostly only where there are no variants (the fallback would
            # hide the variant choice), an sdist now and then
            if _chance(draw, 4) if labels else not _chance(draw, 5):
                pass
            else:
                info["wheel"] = False
            if not _chance(draw, 6):
                info["sdist"] = False
            if labels:
                info["variants"] = labels
                used = sorted({p.split("::")[0].strip() for ps in labels.values() for p in ps} - {"abi_dependency"})
                if len(used) > 1 and draw(st.booleans()):
                    info["namespaces"] = draw(st.permutations(used))
                if used and _chance(draw, 8):
                    ns = draw(st.sampled_from(used))
                    info.setdefault("namespaces", used)
                    info["optional"] = [ns]
                    optional_namespaces.add(ns)
            requires = []
            for dep in draw(st.lists(st.sampled_from(later), max_size=2, unique=True)) if later else []:
                spec = draw(st.sampled_from(SPECIFIERS))
                requires.append(f"{dep}{spec}{draw(_marker(list(labels) or ['l0']))}")
            if requires:
                info["requires"] = requires
            if _chance(draw, 10):
                info["requires_python"] = ">=3.13"
            if _chance(draw, 10):
                info["wheel_tags"] = [OTHER_PLATFORM_TAG]
            if _chance(draw, 10):
                info["yanked"] = True
            versions[version] = info
        packages[name] = {"versions": versions}
    root = ["p0" + (draw(st.sampled_from(SPECIFIERS)) if _chance(draw, 4) else "")]
    if not _chance(draw, 3):
        root.append("p1" + (draw(st.sampled_from(SPECIFIERS)) if _chance(draw, 4) else ""))
    options: dict[str, Any] = {}
    used_features = sorted(
        {" :: ".join(p.split(" :: ")[:2]) for pkg in packages.values() for info in pkg["versions"].values()
         for props in info.get("variants", {}).values() for p in props if not p.startswith("abi_dependency")}
    )
    if used_features and not _chance(draw, 4):
        options["unify"] = draw(st.lists(st.sampled_from(used_features), min_size=1, max_size=2, unique=True))
    elif _chance(draw, 6):
        options["unify"] = [draw(st.sampled_from([f"{ns} :: {f}" for ns, f in sorted(FEATURES)]))]
    if optional_namespaces and draw(st.booleans()):
        options["enable"] = sorted(optional_namespaces)
    data: dict[str, Any] = {"name": "random", "root": {"requires": root}}
    if supported:
        data["environment"] = {"variants": supported}
    if options:
        data["resolver_options"] = options
    data["packages"] = packages
    return data


# -- TOML writing (no TOML writer among the dependencies; this subset is all we need) ------------


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string of ASCII text is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(value)


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def to_toml(data: dict[str, Any]) -> str:
    lines: list[str] = []

    def table(path: list[str], body: dict[str, Any]) -> None:
        scalars = {k: v for k, v in body.items() if not isinstance(v, dict)}
        tables = {k: v for k, v in body.items() if isinstance(v, dict)}
        if path and (scalars or not tables):
            lines.append("[" + ".".join(_key(p) for p in path) + "]")
        for k, v in scalars.items():
            lines.append(f"{_key(k)} = {_value(v)}")
        if path and (scalars or not tables):
            lines.append("")
        for k, v in tables.items():
            table(path + [k], v)

    table([], data)
    return "\n".join(lines).rstrip() + "\n"


def load(data: dict[str, Any]):
    """Load ``data`` through the real scenario loader (via a temporary file)."""
    from varsolve.sources.scenario import load_scenario

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.toml"
        path.write_text(to_toml(data), encoding="utf-8")
        return load_scenario(path)


# -- the exhaustive reference search -------------------------------------------------------------


def search_all(problem, limit: int = 200_000):
    """A resolution that the verifier accepts with no violation at all, or None if none exists.

    Depth-first over the files of every required package, pruning only with checks the verifier
    makes too (a version outside a known specifier, a unified feature left without a common
    value); the verifier judges every complete assignment. Raises RuntimeError past ``limit``
    nodes so that a test never hangs on an unexpectedly large problem.
    """
    from varsolve.errors import InvalidVariantMetadata
    from varsolve.providers import supported_for_release
    from varsolve.resolution import Pin, Resolution
    from varsolve.variants.markers import NON_VARIANT, VariantState, parse_requirement
    from varsolve.variants.ordering import is_compatible, supported_subset
    from varsolve.verifier import verify

    repo, target, options = problem.repository, problem.target, problem.options
    env = target.marker_environment()
    tags = set(target.tags())
    unify = list(options.unify)

    def file_options(name: str):
        """Every (release, file, variant state, supported props, declared props) of ``name``
        that could be valid on its own; the verifier re-checks all of this at the leaves."""
        out = []
        for release in sorted(repo.releases(name), key=lambda r: r.version):
            try:
                metadata = repo.variant_metadata(release)
            except InvalidVariantMetadata:
                metadata = None
            for file in release.files:
                if file.wheel is not None and not (file.wheel.tags & tags):
                    continue
                label = file.wheel.label if file.wheel is not None else None
                if label is None:
                    out.append((release, file, NON_VARIANT, {}, {}))
                    continue
                if metadata is None or label not in metadata.variants:
                    continue
                supported = supported_for_release(metadata, target)
                declared = metadata.variants[label]
                if not is_compatible(declared, supported):
                    continue
                sub = supported_subset(declared, supported)
                visible = {ns: f for ns, f in sub.items() if ns != "abi_dependency"}
                out.append((release, file, VariantState.for_wheel(label, visible), sub, declared))
        return out

    cache: dict[str, list] = {}
    counter = [0]

    def requirements(pins: dict[str, tuple]) -> list[tuple[str, Any]]:
        reqs = [(None, parse_requirement(t)) for t in problem.requirements if parse_requirement(t).evaluate(env)]
        for name, (release, file, state, sub, declared) in pins.items():
            for text in repo.metadata(release, file).requires_dist:
                req = parse_requirement(text)
                if req.evaluate(env, state, ""):
                    reqs.append((name, req))
            for feature in declared.get("abi_dependency", {}):
                reqs.append((name, parse_requirement(canonicalize_name(feature.replace("_", "-")))))
        return reqs

    def unify_ok(pins: dict[str, tuple]) -> bool:
        for feature in unify:
            common = None
            for release, file, state, sub, declared in pins.values():
                if feature.feature not in declared.get(feature.namespace, {}):
                    continue
                values = set(sub.get(feature.namespace, {}).get(feature.feature, ()))
                common = values if common is None else common & values
            if common is not None and not common:
                return False
        return True

    def dfs(pins: dict[str, tuple]):
        counter[0] += 1
        if counter[0] > limit:
            raise RuntimeError("search_all: problem too large")
        reqs = requirements(pins)
        for _, req in reqs:
            if req.name in pins and not req.specifier.contains(pins[req.name][0].version, prereleases=True):
                return None
        if not unify_ok(pins):
            return None
        missing = sorted({req.name for _, req in reqs} - set(pins))
        if not missing:
            packages = {
                name: Pin(release.version, (file.wheel.label or "") if file.wheel else None, file.filename)
                for name, (release, file, *_rest) in pins.items()
            }
            resolution = Resolution("search_all", True, packages)
            return resolution if verify(problem, resolution) == [] else None
        name = missing[0]
        if name not in cache:
            cache[name] = file_options(name)
        specs = [req.specifier for _, req in reqs if req.name == name]
        for option in cache[name]:
            if all(s.contains(option[0].version, prereleases=True) for s in specs):
                found = dfs({**pins, name: option})
                if found is not None:
                    return found
        return None

    return dfs({})
