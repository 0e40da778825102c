"""Differential testing against the real installers: small plain scenarios (no variants), built
into an index, resolved by uv 0.13.9 (``uv pip compile``) and pip 26.3 (``pip install --dry-run
--report``) and by varsolve under the matching policy preset (``--policy uv`` / ``--policy pip``).

``plain_scenarios()`` is a hypothesis strategy that draws a scenario as the dict of a scenario
TOML file (``random_scenarios.to_toml`` writes it): 1-4 packages with 1-5 releases each, drawn
from a pool of final, pre-, post-, dev and local versions; yanked releases; Requires-Python
bounds (lower, upper, exclusions, wildcards) against a target Python of 3.11-3.13; dependencies
on later packages (acyclic) with 0-2 specifier clauses, some naming pre-releases; extras; now and
then a dependency on a package that does not exist. Wheels only (``py3-none-any``); the
installers run with ``--only-binary :all:`` and varsolve with ``no_build`` = ``:all:``.

``Installers`` serves every scenario's index from one loopback server, each under its own path
(so that uv's cache, shared for speed, never answers for another scenario), and runs uv and pip
side by side. ``compare()`` gives each tool's outcome and varsolve's under the tool's preset.

Used by tests/test_differential.py (a fixed number of examples in CI) and
benchmarks/differential.py (many more, with counts).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from index_helpers import clean_env, uv
from random_scenarios import to_toml

# Releases are drawn from this pool: each is a distinct version (no 1.0 next to 1.0.0).
VERSIONS = [
    "0.9.0", "1.0.0", "1.0.0+cpu", "1.0.0.post1", "1.1.0.dev1", "1.1.0a1", "1.1.0b2", "1.1.0rc1", "1.1.0",
    "2.0.0a1", "2.0.0", "2.0.0+cpu",
]
# Versions named in specifiers: the pool without locals (only == and != may name a local).
SPEC_VERSIONS = ["0.9.0", "1.0.0", "1.0.0.post1", "1.1.0a1", "1.1.0b2", "1.1.0", "1.1.0rc1", "2.0.0a1", "2.0.0"]
OPERATORS = [">=", "<", "==", "!=", ">", "<=", "~="]
WILDCARDS = ["==1.*", "==1.1.*", "!=2.*", "==2.*"]
REQUIRES_PYTHON = [
    "", "", "", "", "", "", ">=3.11", ">=3.12", ">=3.13", "<3.12", "<=3.11", ">=3.10,<3.12", "!=3.12.*", "==3.11.*", ">3.12",
    "~=3.11.0",
]
PYTHONS = ["3.11", "3.12", "3.13"]
NAMES = ["a", "b", "c", "d"]
MISSING = "zz"  # a package no scenario defines
PLATFORM = "x86_64-manylinux_2_39"  # the scenarios' default target platform (uv's name)
PIP_PLATFORM = "manylinux_2_39_x86_64"
TOOL_TIMEOUT = 60  # seconds per installer run
PRESETS = {"uv": "uv", "pip": "pip"}  # tool -> the varsolve policy preset that should agree with it

Outcome = dict[str, str] | None  # name -> version; None: no solution


def _chance(draw: st.DrawFn, one_in: int) -> bool:
    """True about once in ``one_in`` draws; shrinks to False (the plain case)."""
    return draw(st.integers(1, one_in)) == one_in


@st.composite
def specifier(draw: st.DrawFn) -> str:
    """0-2 clauses; shrinks to no specifier at all."""
    clauses = []
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 1, 2]))):
        if _chance(draw, 6):
            clauses.append(draw(st.sampled_from(WILDCARDS)))
            continue
        op = draw(st.sampled_from(OPERATORS))
        version = draw(st.sampled_from(SPEC_VERSIONS))
        if op in ("==", "!=") and _chance(draw, 5):
            version = draw(st.sampled_from(["1.0.0+cpu", "2.0.0+cpu"]))
        clauses.append(op + version)
    return ",".join(clauses)


@st.composite
def requirement(draw: st.DrawFn, names: list[str], extras: dict[str, set[str]]) -> str:
    name = draw(st.sampled_from(names))
    asked = ""
    if extras.get(name) and _chance(draw, 2):
        asked = "[" + draw(st.sampled_from(sorted(extras[name]))) + "]"
    elif _chance(draw, 12):
        asked = "[nope]"  # an extra no release provides: both tools warn and go on
    return f"{name}{asked}{draw(specifier())}"


@st.composite
def plain_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 4))
    names = NAMES[:count]
    # Extras are decided first, so that requirements can ask for them.
    extra_names = {name: ({"x"} if _chance(draw, 3) else set()) for name in names}
    packages: dict[str, Any] = {}
    for i, name in enumerate(names):
        later = names[i + 1 :]
        versions: dict[str, Any] = {}
        for version in draw(st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=5, unique=True)):
            info: dict[str, Any] = {"sdist": False, "requires_python": draw(st.sampled_from(REQUIRES_PYTHON))}
            requires = []
            if later:
                for _ in range(draw(st.integers(0, 2))):
                    requires.append(draw(requirement(later, extra_names)))
            if _chance(draw, 15):
                requires.append(MISSING)
            if requires:
                info["requires"] = list(dict.fromkeys(requires))
            if extra_names[name] and not _chance(draw, 4):
                if later:
                    info["extras"] = {"x": [draw(requirement(later, extra_names))]}
                else:
                    info["extras"] = {"x": [MISSING] if _chance(draw, 3) else []}
            if _chance(draw, 6):
                info["yanked"] = True
            versions[version] = info
        packages[name] = {"versions": versions}
    root = list(dict.fromkeys(draw(requirement(names, extra_names)) for _ in range(draw(st.integers(1, 3)))))
    return {
        "name": "differential",
        "root": {"requires": root},
        "environment": {"python": draw(st.sampled_from(PYTHONS))},
        "packages": packages,
    }


# -- running the tools -----------------------------------------------------------------------------


class ToolError(Exception):
    """An installer failed other than by finding no solution (a crash, a timeout, bad output)."""


class Unsupported(Exception):
    """A scenario the comparison does not translate for the installers (another platform,
    ``no_build``/``no_binary`` of its own, variants): packse's, for benchmarks/differential.py."""


@dataclass
class Comparison:
    """One scenario: each tool's outcome, varsolve's under that tool's preset, and the verdict.

    ``verdicts[tool]``: ``"same"``; ``"order"`` when both found a solution, each valid under the
    preset (the verifier accepts the tool's too), and neither is at least as preferred as the
    other in every package they share (each chose better for some package: which package was
    decided first made the difference; a search-order difference, not a policy one); else
    ``"differ"``, with the reasons in ``why[tool]``: a disagreement.
    """

    toml: str
    tools: dict[str, Outcome]
    varsolve: dict[str, Outcome]  # tool -> varsolve's outcome under PRESETS[tool]
    verdicts: dict[str, str]
    why: dict[str, str]

    def disagreements(self) -> list[str]:
        return [tool for tool, verdict in self.verdicts.items() if verdict == "differ"]

    def describe(self) -> str:
        lines = [
            f"{tool}: {_show(self.tools[tool])} / varsolve --policy {PRESETS[tool]}: {_show(self.varsolve[tool])}"
            f" -> {self.verdicts[tool]}{': ' + self.why[tool] if self.why.get(tool) else ''}"
            for tool in self.tools
        ]
        return "\n".join(lines) + "\n--- scenario ---\n" + self.toml


def _show(outcome: Outcome) -> str:
    return "no solution" if outcome is None else " ".join(f"{n}=={v}" for n, v in sorted(outcome.items()))


def _normalise(name: str, version: str) -> tuple[str, str]:
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    return canonicalize_name(name), str(Version(version))


class Installers:
    """uv and pip against indexes served from one loopback server; ``close()`` when done."""

    def __init__(self) -> None:
        from varsolve.index.server import IndexServer

        self._tmp = tempfile.TemporaryDirectory(prefix="varsolve-differential-")
        self.root = Path(self._tmp.name)
        (self.root / "simple").mkdir(parents=True, exist_ok=True)  # what IndexServer asks of a root
        self.uv = uv()
        self.uv_cache = self.root / "uv-cache"
        self._count = 0
        self._lock = threading.Lock()
        self.server = IndexServer(self.root).start()

    def close(self) -> None:
        self.server.close()
        self._tmp.cleanup()

    def versions(self) -> dict[str, str]:
        out = {}
        if self.uv:
            out["uv"] = subprocess.run([self.uv, "--version"], capture_output=True, text=True, timeout=30).stdout.split()[1]
        out["pip"] = subprocess.run(
            [sys.executable, "-m", "pip", "--version"], capture_output=True, text=True, timeout=60, env=clean_env()
        ).stdout.split()[1]
        return out

    def publish(self, toml: str) -> tuple[Path, str]:
        """Write ``toml`` and its index under a fresh path; returns the scenario file and index URL."""
        from varsolve.index.builder import build_index

        with self._lock:
            self._count += 1
            slot = f"s{self._count}"
        folder = self.root / slot
        folder.mkdir()
        scenario = folder / "scenario.toml"
        scenario.write_text(toml, encoding="utf-8")
        build_index(scenario, folder / "index")
        return scenario, f"{self.server.url}{slot}/index/simple/"

    def run(self, requirements: list[str], python: str, index_url: str, prereleases: bool = False) -> dict[str, Outcome]:
        """uv and pip side by side on one index (``prereleases``: allow them everywhere, uv's
        ``--prerelease allow`` and pip's ``--pre``)."""
        procs: dict[str, tuple[subprocess.Popen[str], str | None]] = {}
        env = clean_env()
        if self.uv:
            command = [
                self.uv, "pip", "compile", "-", "--index-url", index_url, "--python-version", python,
                "--python-platform", PLATFORM, "--python", sys.executable, "--cache-dir", str(self.uv_cache),
                "--only-binary", ":all:", "--no-header", "--no-annotate", "--quiet",
                *(["--prerelease", "allow"] if prereleases else []),
            ]
            stdin = "\n".join(requirements) + "\n"
            procs["uv"] = (subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True, env=env, cwd=self.root), stdin)
        command = [
            sys.executable, "-m", "pip", "install", "--isolated", "--dry-run", "--ignore-installed", "--quiet",
            "--report", "-", "--python-version", python, "--platform", PIP_PLATFORM, "--implementation", "cp",
            "--only-binary", ":all:", "--no-cache-dir", "--index-url", index_url, *(["--pre"] if prereleases else []),
            *requirements,
        ]
        procs["pip"] = (subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, env=env, cwd=self.root), None)
        results: dict[str, tuple[int, str, str]] = {}
        try:
            for tool, (proc, stdin) in procs.items():
                try:
                    out, err = proc.communicate(stdin, timeout=TOOL_TIMEOUT)
                except subprocess.TimeoutExpired:
                    raise ToolError(f"{tool} did not finish within {TOOL_TIMEOUT} s") from None
                results[tool] = (proc.returncode, out, err)
        finally:
            for proc, _ in procs.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        outcomes: dict[str, Outcome] = {}
        if "uv" in results:
            outcomes["uv"] = _uv_outcome(*results["uv"])
        outcomes["pip"] = _pip_outcome(*results["pip"])
        return outcomes


_UV_LINE = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)$")
_PIP_NO_SOLUTION = ("ResolutionImpossible", "No matching distribution found", "Could not find a version")


def _uv_outcome(code: int, out: str, err: str) -> Outcome:
    if code == 0:
        pins = {}
        for line in out.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            match = _UV_LINE.match(line)
            if match is None:
                raise ToolError(f"uv: unexpected output line {line!r}")
            name, version = _normalise(*match.groups())
            pins[name] = version
        return pins
    if code == 1 and "No solution found" in err:
        return None
    raise ToolError(f"uv exited with {code}: {err.strip()[-2000:]}")


def _pip_outcome(code: int, out: str, err: str) -> Outcome:
    if code == 0:
        try:
            report = json.loads(out)
        except ValueError:
            raise ToolError(f"pip: no installation report on stdout: {out[:500]!r} {err[-500:]!r}") from None
        return dict(_normalise(item["metadata"]["name"], item["metadata"]["version"]) for item in report["install"])
    if code == 1 and any(text in err for text in _PIP_NO_SOLUTION):
        return None
    raise ToolError(f"pip exited with {code}: {err.strip()[-2000:]}")


def varsolve_outcome(scenario: Path, preset: str, strategy: str = "backtrack") -> Outcome:
    """varsolve's answer under ``preset``, wheels only; the verifier must find nothing wrong."""
    from varsolve.api import solve
    from varsolve.sources.scenario import load_scenario

    problem = load_scenario(scenario).problem
    options = replace(problem.options.policy_preset(preset), no_build=frozenset({":all:"}))
    resolution = solve(replace(problem, options=options), strategy)
    if resolution.violations:
        raise AssertionError(f"varsolve {strategy} --policy {preset}: verifier: {resolution.violations}")
    if not resolution.satisfiable:
        return None
    return {name: str(pin.version) for name, pin in resolution.packages.items()}


def judge(scenario: Path, preset: str, theirs: Outcome, mine: Outcome) -> tuple[str, str]:
    """The verdict on one tool's outcome against varsolve's (:class:`Comparison`) and why."""
    from packaging.version import Version

    from varsolve.candidates import CandidateFinder
    from varsolve.resolution import Pin, Resolution
    from varsolve.sources.scenario import load_scenario
    from varsolve.variants.filenames import wheel_filename
    from varsolve.verifier import verify

    if theirs == mine:
        return "same", ""
    if theirs is None or mine is None:
        return "differ", "one found a solution, the other none"
    problem = load_scenario(scenario).problem
    problem = replace(problem, options=replace(problem.options.policy_preset(preset), no_build=frozenset({":all:"})))
    pins = {name: Pin(Version(v), "", wheel_filename(name, v, "py3-none-any")) for name, v in theirs.items()}
    violations = verify(problem, Resolution("tool", satisfiable=True, packages=pins))
    if violations:
        return "differ", "the tool's answer breaks the preset: " + "; ".join(v.message for v in violations)
    finder = CandidateFinder(problem)

    def rank(name: str, version: str) -> int:
        order = [str(c.version) for c in finder.candidates(name)]
        return order.index(version) if version in order else len(order)

    shared = [name for name in theirs if name in mine and theirs[name] != mine[name]]
    if preset == "pip":
        # pip decides a package knowing only the requirements on it met so far: a final release
        # pinned before a requirement that opts in to pre-releases arrives stays (pip's order
        # dependence, tests/fixtures/differential/pip-requirement-order.toml). Not a policy difference.
        opted_in = _opted_in(problem, pins)
        shared = [
            n for n in shared
            if not (n in opted_in and not Version(theirs[n]).is_prerelease and Version(mine[n]).is_prerelease)
        ]
        if not shared:
            return "order", ""
    theirs_better = [n for n in shared if rank(n, theirs[n]) < rank(n, mine[n])]
    mine_better = [n for n in shared if rank(n, mine[n]) < rank(n, theirs[n])]
    if theirs_better and mine_better:
        return "order", ""
    if theirs_better:
        return "differ", f"the tool's choice is preferred for {', '.join(theirs_better)} and no worse elsewhere"
    return "differ", f"varsolve's choice is preferred for {', '.join(mine_better) or 'no package'} and no worse elsewhere"


def _opted_in(problem: Any, pins: dict[str, Any]) -> set[str]:
    """The packages of a resolution (``pins``) on which some requirement in it names a
    pre-release the way pip reads it (not with ``!=``, not a wildcard)."""
    from varsolve.variants.markers import NON_VARIANT, parse_requirement

    env = problem.target.marker_environment()
    repo = problem.repository
    out: set[str] = set()
    extras: dict[str, set[str]] = {}
    queue = [text for text in problem.requirements if parse_requirement(text).evaluate(env)]
    seen: set[str] = set()
    while queue:
        req = parse_requirement(queue.pop())
        if req.name not in pins:
            continue
        if any(c.operator != "!=" and not c.version.endswith(".*") and _prerelease(c.version) for c in req.specifier):
            out.add(req.name)
        asked = extras.setdefault(req.name, set())
        if req.name in seen and req.extras <= asked:
            continue
        seen.add(req.name)
        asked |= req.extras
        release = next(r for r in repo.releases(req.name) if r.version == pins[req.name].version)
        file = next(f for f in release.files if f.filename == pins[req.name].filename)
        for dep in repo.metadata(release, file).requires_dist:
            if any(parse_requirement(dep).evaluate(env, NON_VARIANT, e) for e in ("", *sorted(asked))):
                queue.append(dep)
    return out


def _prerelease(text: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text).is_prerelease
    except InvalidVersion:
        return False


def compare(installers: Installers, scenario_text: dict[str, Any] | str, strategy: str = "backtrack") -> Comparison:
    """Run both installers and varsolve (``strategy``) on a scenario (TOML text, or a dict for
    ``to_toml``)."""
    from varsolve.index.wheels import specialise_requirements
    from varsolve.sources.scenario import load_scenario
    from varsolve.target import DEFAULT_PLATFORM

    toml = scenario_text if isinstance(scenario_text, str) else to_toml(scenario_text)
    scenario, index_url = installers.publish(toml)
    loaded = load_scenario(scenario)
    problem = loaded.problem
    if loaded.universal or problem.target.platform.name != DEFAULT_PLATFORM:
        raise Unsupported("universal or another platform")
    if problem.options.no_build or problem.options.no_binary or problem.target.variants:
        raise Unsupported("no_build, no_binary or variants of its own")
    py = problem.target.python
    python = f"{py.major}.{py.minor}" if py.micro == 0 else str(py)
    tools = installers.run(
        specialise_requirements(problem.requirements), python, index_url, prereleases=problem.options.prereleases
    )
    mine = {tool: varsolve_outcome(scenario, PRESETS[tool], strategy) for tool in tools}
    verdicts: dict[str, str] = {}
    why: dict[str, str] = {}
    for tool in tools:
        verdicts[tool], why[tool] = judge(scenario, PRESETS[tool], tools[tool], mine[tool])
    return Comparison(toml, tools, mine, verdicts, why)
