"""varsolve.marker_algebra: sets of marker environments, checked against packaging's evaluation."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conftest import examples
from varsolve.errors import InputError
from varsolve.marker_algebra import EMPTY_TEXT, MarkerSet, representative_environments

P = MarkerSet.parse
U = MarkerSet.universe()
E = MarkerSet.empty()


def env(python: str = "3.12.0", **values: str) -> dict[str, str]:
    out = {
        "python_full_version": python, "python_version": ".".join(python.split(".")[:2]), "implementation_name": "cpython",
        "implementation_version": python, "platform_python_implementation": "CPython", "os_name": "posix",
        "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "platform_release": "6.1",
        "platform_version": "#1 SMP",
    }
    out.update(values)
    return out


# -- parsing and python_version ------------------------------------------------------------------


@pytest.mark.parametrize(
    "marker, text",
    [
        ("python_version < '3.11'", "python_full_version < '3.11'"),
        ("python_version <= '3.10'", "python_full_version < '3.11'"),
        ("python_version > '3.10'", "python_full_version >= '3.11'"),
        ("python_version >= '3.11'", "python_full_version >= '3.11'"),
        ("python_version == '3.10'", "python_full_version == '3.10.*'"),
        ("python_version != '3.10'", "python_full_version != '3.10.*'"),
        ("python_version == '3.10.*'", "python_full_version == '3.10.*'"),
        ("python_version > '3.10.1'", "python_full_version >= '3.11'"),
        ("python_version == '3.10.1'", EMPTY_TEXT),
        ("python_version < '3'", "python_full_version < '3'"),
        ("python_version ~= '3.10'", "python_full_version >= '3.10' and python_full_version < '4'"),
        ("'3.10' < python_version", "python_full_version >= '3.11'"),
        ("python_version in '3.10 3.11'", "python_full_version == '3.1.*' or python_full_version >= '3.10' and python_full_version < '3.12'"),
        ("python_version >= '3.8' and python_version < '3.10' or python_version >= '3.11'",
         "python_full_version >= '3.8' and python_full_version < '3.10' or python_full_version >= '3.11'"),
        ("python_full_version == '3.10.0'", "python_full_version == '3.10'"),
        ("python_full_version != '3.10.2'", "python_full_version != '3.10.2'"),
        ("python_full_version ~= '3.10.2'", "python_full_version >= '3.10.2' and python_full_version < '3.11'"),
        ("python_full_version > '3.10' and python_full_version <= '3.12'", "python_full_version > '3.10' and python_full_version <= '3.12'"),
        ("python_full_version >= '0'", ""),
        ("python_full_version < '3.10' or python_full_version >= '3.10'", ""),
        ("implementation_version >= '7.3'", "implementation_version >= '7.3'"),
    ],
)
def test_python_translation_and_str(marker, text):
    s = P(marker)
    assert str(s) == text
    assert P(text) == s


@pytest.mark.parametrize(
    "marker, text",
    [
        ("'linux' == sys_platform", "sys_platform == 'linux'"),
        ("sys_platform == 'linux' or sys_platform == 'darwin'", "sys_platform == 'darwin' or sys_platform == 'linux'"),
        ("sys_platform != 'linux' and sys_platform != 'darwin'", "sys_platform != 'darwin' and sys_platform != 'linux'"),
        ("sys_platform == 'linux' or python_version >= '3.11'", "python_full_version >= '3.11' or sys_platform == 'linux'"),
        ("(sys_platform == 'linux' or sys_platform == 'win32') and python_version < '3.11'",
         "python_full_version < '3.11' and (sys_platform == 'linux' or sys_platform == 'win32')"),
        ("python_implementation == 'PyPy'", "platform_python_implementation == 'PyPy'"),
        ("os.name == 'nt'", "os_name == 'nt'"),
        ("sys_platform <= 'linux'", "sys_platform == 'linux'"),  # packaging: <= and >= are == on strings
        ("sys_platform < 'z'", EMPTY_TEXT),  # and < / > are never true
        ("'arm' in platform_machine and os_name == 'nt'", "os_name == 'nt' and 'arm' in platform_machine"),
        ("'arm' not in platform_machine", "'arm' not in platform_machine"),
        ("platform_machine in 'x86_64 AMD64'", "platform_machine in 'x86_64 AMD64'"),
        ("platform_release >= '5.0'", "platform_release >= '5.0'"),
        ("platform_release == 'x-y'", "platform_release == 'x-y'"),
        ("'cuda' in extras", "'cuda' in extras"),
        ("sys_platform == \"it's\"", "sys_platform == \"it's\""),
        ("", ""),
    ],
)
def test_strings_and_opaque_atoms(marker, text):
    s = P(marker)
    assert str(s) == text
    assert P(text) == s


def test_reversed_and_aliases_are_the_same_set():
    assert P("'linux' == sys_platform") == P("sys_platform == 'linux'")
    assert P("python_implementation == 'PyPy'") == P("platform_python_implementation == 'PyPy'")
    assert P("'3.10' < python_version") == P("python_version > '3.10'")
    assert P("'arm' in platform_machine") != P("platform_machine in 'arm'")


def test_extra_and_fixed_are_folded():
    assert P("extra == 'cuda' and sys_platform == 'linux'").is_empty()  # no extra
    assert P("extra == 'cuda' and sys_platform == 'linux'", {"extra": "cuda"}) == P("sys_platform == 'linux'")
    assert P("extra != 'cuda'").is_universe()
    assert P("sys_platform == 'linux' and python_version >= '3.10'", {"sys_platform": "win32"}).is_empty()
    assert P("sys.platform == 'linux' or os_name == 'nt'", {"sys_platform": "linux"}).is_universe()


@pytest.mark.parametrize("text", ["sys_platform = 'linux'", "python_version >", "foo == 'x'", "(os_name == 'nt'", "sys_platform == 'linux' and"])
def test_syntax_errors_name_the_marker(text):
    with pytest.raises(InputError, match="invalid marker") as info:
        P(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize("text", ["sys_platform ~= 'linux'", "'a' == 'b'", "'x' ~= python_version", "extras == 'a'"])
def test_atoms_packaging_cannot_evaluate_are_input_errors(text):
    with pytest.raises(InputError):
        P(text)


def test_parse_is_cached():
    assert P("sys_platform == 'linux'") == P("sys_platform == 'linux'")
    assert P("sys_platform == 'linux'")._root is P("sys_platform == 'linux'")._root


# -- operators --------------------------------------------------------------------------------------


def test_operators():
    linux, old = P("sys_platform == 'linux'"), P("python_version < '3.11'")
    assert str(linux & old) == "python_full_version < '3.11' and sys_platform == 'linux'"
    assert str(linux | old) == "python_full_version < '3.11' or sys_platform == 'linux'"
    assert str(~linux) == "sys_platform != 'linux'"
    assert str(~(linux & old)) == "python_full_version >= '3.11' or sys_platform != 'linux'"
    assert (linux & ~linux).is_empty() and (linux | ~linux).is_universe()
    assert ~U == E and ~E == U and U & linux == linux and E | linux == linux
    assert (linux & old) | (linux & ~old) == linux  # canonical: equal however built
    assert hash((linux & old) | (linux & ~old)) == hash(linux)
    assert len({linux, P("'linux' == sys_platform"), (linux | old) & linux}) == 1
    assert ~(linux & old) == ~linux | ~old
    assert linux.__and__("x") is NotImplemented  # type: ignore[arg-type]


def test_emptiness():
    assert P("sys_platform == 'linux' and sys_platform == 'darwin'").is_empty()
    assert (P("python_full_version < '3.9'") & MarkerSet.python_range(">=3.10")).is_empty()
    assert not (P("python_full_version < '3.10'") & MarkerSet.python_range(">=3.9")).is_empty()
    assert P("python_version > '3.10' and python_version < '3.11'").is_empty()  # no X.Y in between
    assert not P("python_full_version > '3.10' and python_full_version < '3.10.1'").is_empty()
    # uv's one equivalence: platform_system Darwin/Linux/Windows is sys_platform darwin/linux/win32.
    assert P("sys_platform == 'linux' and platform_system == 'Windows'").is_empty()
    assert P("platform_system == 'Darwin'") == P("sys_platform == 'darwin'")
    assert str(P("platform_system != 'Windows'")) == "sys_platform != 'win32'"
    # Otherwise variables are independent: the algebra does not know that win32 means nt.
    assert not P("sys_platform == 'linux' and os_name == 'nt'").is_empty()
    assert not P("sys_platform == 'linux' and platform_system == 'Java'").is_empty()
    assert str(E) == EMPTY_TEXT and not Marker(EMPTY_TEXT).evaluate(env("3.12.0"))
    assert str(U) == ""


def test_implies_and_disjoint():
    py310 = MarkerSet.python_range(">=3.10")
    assert MarkerSet.python_range(">=3.11").implies(py310)
    assert not py310.implies(MarkerSet.python_range(">=3.11"))
    assert P("python_version == '3.10' and os_name == 'nt'").implies(P("python_version >= '3.9'"))
    assert E.implies(E) and E.implies(P("os_name == 'nt'")) and P("os_name == 'nt'").implies(U)
    assert P("sys_platform == 'linux'").disjoint(P("sys_platform == 'win32'"))
    assert not P("sys_platform == 'linux'").disjoint(P("sys_platform != 'win32'"))
    assert P("python_version < '3.10'").disjoint(py310)
    assert E.disjoint(U)


def test_python_bounds_and_variables():
    s = MarkerSet.python_range(">=3.10,<3.13") | P("python_version == '3.8' and os_name == 'nt'")
    assert s.python_lower_bound() == Version("3.8")
    assert s.python_cut_points() == (Version("3.8"), Version("3.9"), Version("3.10"), Version("3.13"))
    assert MarkerSet.python_range(SpecifierSet(">3.9.1")).python_lower_bound() == Version("3.9.1")
    assert P("python_version < '3.12'").python_lower_bound() is None
    assert P("os_name == 'nt'").python_lower_bound() is None and E.python_lower_bound() is None
    assert P("os_name == 'nt'").python_cut_points() == ()
    assert s.variables() == {"python_full_version", "os_name"}
    assert P("'arm' in platform_machine or python_version in '3.1'").variables() == {"platform_machine", "python_full_version"}
    assert MarkerSet.python_range("") == U and MarkerSet.python_range("==3.11.*") == P("python_version == '3.11'")
    with pytest.raises(InputError):
        MarkerSet.python_range(">=three")


def test_evaluate():
    s = P("python_version >= '3.10' and sys_platform == 'linux' or 'arm' in platform_machine")
    assert s.evaluate(env("3.10.0"))
    assert not s.evaluate(env("3.9.7"))
    assert s.evaluate(env("3.9.7", platform_machine="armv7l"))
    assert not s.evaluate(env("3.12.0", sys_platform="darwin"))
    with pytest.raises(KeyError):
        s.evaluate({"sys_platform": "linux"})


def test_str_quotes_odd_literals():
    for value in ["it's", 'say "hi"', "both ' and \"", "back\\slash", "tab\there"]:
        escaped = "".join(f"\\x{ord(c):02x}" if c in "'\\\t" else c for c in value)  # packaging reads escapes
        s = P(f"sys_platform == '{escaped}'")
        assert s.evaluate(env(sys_platform=value)), value
        assert Marker(str(s)).evaluate(env(sys_platform=value)) and P(str(s)) == s


def test_platform_release_version_comparisons():
    # A release that is not a version fails every version comparison: >= and < are two variables.
    at_least, below = P("platform_release >= '5.0'"), P("platform_release < '5.0'")
    assert at_least != ~below and not at_least.disjoint(below)
    assert not at_least.evaluate(env(platform_release="5.15.0-91-generic"))
    assert not below.evaluate(env(platform_release="5.15.0-91-generic"))
    # PEP 508 has no `not`: the printed negation flips the operator, exact for releases that are versions.
    s = ~at_least
    assert str(s) == "platform_release < '5.0'"
    assert s.evaluate(env(platform_release="4.19")) and not s.evaluate(env(platform_release="5.15.0"))
    assert s.evaluate(env(platform_release="5.15.0-91-generic"))


def test_pickle():
    s = P("python_version < '3.11' and 'arm' in platform_machine or sys_platform == 'win32'") | ~P("platform_release >= '5'")
    assert pickle.loads(pickle.dumps(s)) == s
    assert pickle.loads(pickle.dumps(E)).is_empty() and pickle.loads(pickle.dumps(U)).is_universe()
    # another process: other string hashes, no atoms parsed yet
    code = (
        "import pickle, sys; from varsolve.marker_algebra import MarkerSet as M; s = pickle.loads(sys.stdin.buffer.read()); "
        "e = dict(platform_machine='x86_64', python_full_version='3.12.0', sys_platform='linux'); "
        "t = M.parse(sys.argv[1]) | ~M.parse(\"platform_release >= '5'\"); "
        "print(s == t, hash(s) == hash(t), s.evaluate(dict(e, platform_release='6')), s.evaluate(dict(e, platform_release='6-generic')))"
    )
    text = "python_version < '3.11' and 'arm' in platform_machine or sys_platform == 'win32'"
    out = subprocess.run([sys.executable, "-c", code, text], input=pickle.dumps(s), capture_output=True, check=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout.decode()
    assert out.split() == ["True", "True", "False", "True"]


# -- representative environments ---------------------------------------------------------------------


def signature(sets, e):
    return tuple(s.evaluate(e) for s in sets)


def test_representatives_defaults_and_consistency():
    assert representative_environments([]) == [env("3.12.0", platform_release="", platform_version="")]
    assert representative_environments([], within=E) == []
    windows = P("platform_system == 'Windows'")
    envs = representative_environments([windows])
    assert [(e["sys_platform"], e["platform_system"], e["os_name"]) for e in envs] == [("win32", "Windows", "nt"), ("linux", "Linux", "posix")]
    envs = representative_environments([P("sys_platform == 'darwin'"), P("sys_platform == 'cygwin'")])
    assert [(e["sys_platform"], e["platform_system"], e["os_name"]) for e in envs] == [
        ("darwin", "Darwin", "posix"), ("cygwin", "Linux", "posix"), ("linux", "Linux", "posix")]
    envs = representative_environments([P("sys_platform != 'linux' and sys_platform != 'win32' and sys_platform != 'darwin'")])
    assert [e["sys_platform"] for e in envs] == ["other", "linux"]
    pypy = representative_environments([P("implementation_name == 'pypy'")])[0]
    assert (pypy["platform_python_implementation"], pypy["implementation_version"]) == ("PyPy", "3.12.0")


def test_representatives_python_values():
    sets = [P("python_version < '3.11'"), P("python_full_version >= '3.12.2'")]
    envs = representative_environments(sets, within=MarkerSet.python_range(">=3.9"))
    assert [(e["python_full_version"], e["python_version"]) for e in envs] == [("3.9.0", "3.9"), ("3.12.2", "3.12"), ("3.11.0", "3.11")]
    assert envs[1]["implementation_version"] == "3.12.2"
    envs = representative_environments([P("python_full_version > '3.10'")], base={"python_full_version": "3.9.1"})
    assert [e["python_full_version"] for e in envs] == ["3.10.1", "3.9.1"]
    envs = representative_environments([P("python_version < '3.11'")], base=env("3.13.0"))
    assert [e["python_full_version"] for e in envs] == ["3.10.0", "3.11.0"]  # a bounded range: its lower bound
    envs = representative_environments([P("python_version >= '3.11'")], base=env("3.9.1"))
    assert [e["python_full_version"] for e in envs] == ["3.11.0", "3.9.1"]  # unbounded below: the base fits


def test_representatives_opaque_atoms():
    sets = [P("platform_machine == 'aarch64'"), P("'arm' in platform_machine")]
    envs = representative_environments(sets)
    # aarch64 and 'arm' in it cannot both hold: that cell is left out
    assert [e["platform_machine"] for e in envs] == ["aarch64", "arm", "x86_64"]


def test_representatives_cap():
    exclusive = [P(f"platform_version == 'v{i}'") for i in range(12)]
    assert len(representative_environments(exclusive)) == 13  # the sets exclude each other: 12 + none
    independent = [P(f"'{i}' in platform_version") for i in range(13)]
    with pytest.raises(InputError, match="cells"):
        representative_environments(independent)


# -- properties -------------------------------------------------------------------------------------

ATOMS = [
    "python_version < '3.11'", "python_version <= '3.10'", "python_version > '3.10'", "python_version >= '3.12'",
    "python_version == '3.11'", "python_version != '3.9'", "python_version == '3.10.*'", "python_version ~= '3.10'",
    "python_version in '3.9 3.11'", "python_version not in '3.10'", "'3.10' < python_version", "python_version > '3.10.1'",
    "python_version < '3'", "python_version === '3.11'",
    "python_full_version >= '3.10.5'", "python_full_version < '3.11.2'", "python_full_version == '3.12.*'",
    "python_full_version != '3.10.0'", "python_full_version ~= '3.11.1'", "python_full_version == '3.9'",
    "python_full_version > '3.11'", "python_full_version <= '3.12.1'", "python_full_version === '3.11.0'",
    "'3.11.1' >= python_full_version", "implementation_version >= '3.11'", "implementation_version < '7.3'",
    "sys_platform == 'linux'", "sys_platform != 'darwin'", "'win32' == sys_platform", "sys_platform == 'cygwin'",
    "platform_system == 'Windows'", "platform_system != 'Linux'", "os_name == 'nt'", "os.name == 'posix'",
    "platform_machine == 'x86_64'", "platform_machine != 'aarch64'", "'arm' in platform_machine",
    "'64' not in platform_machine", "platform_machine in 'x86_64 AMD64'", "implementation_name == 'pypy'",
    "platform_python_implementation != 'CPython'", "python_implementation == 'PyPy'", "sys_platform <= 'linux'",
    "sys_platform > 'a'", "platform_release == 'x'", "platform_version == '#1 SMP'", "extra == 'cuda'", "extra != 'cuda'",
]
# Their negations print approximately (see test_platform_release_version_comparisons): not in the str round trip.
RELEASE_ATOMS = ["platform_release >= '5.0'", "platform_release != '6.1'", "'4.19' == platform_release"]
PYTHONS = ["2.7.18", "3.0.0", "3.1.0", "3.8.10", "3.9.0", "3.9.7", "3.10.0", "3.10.1", "3.10.5", "3.10.6", "3.11.0",
           "3.11.1", "3.11.2", "3.12.0", "3.12.1", "3.12.2", "3.13.0", "4.0.0"]


def markers(atoms: list[str] = ATOMS + RELEASE_ATOMS) -> st.SearchStrategy[str]:
    def combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.tuples(children, st.sampled_from([" and ", " or "]), children).map(lambda t: f"({t[0]}{t[1]}{t[2]})")

    return st.recursive(st.sampled_from(atoms), combine, max_leaves=6)


@st.composite
def environments(draw: st.DrawFn) -> dict[str, str]:
    python = draw(st.sampled_from(PYTHONS))
    return env(
        python,
        implementation_version=draw(st.sampled_from([python, "7.3.13", "3.11.0"])),
        implementation_name=draw(st.sampled_from(["cpython", "pypy"])),
        platform_python_implementation=draw(st.sampled_from(["CPython", "PyPy"])),
        # Real interpreters pair these (and the algebra reads Darwin/Linux/Windows as the platform).
        **draw(st.sampled_from([
            {"sys_platform": "linux", "platform_system": "Linux"}, {"sys_platform": "darwin", "platform_system": "Darwin"},
            {"sys_platform": "win32", "platform_system": "Windows"}, {"sys_platform": "cygwin", "platform_system": "Java"},
        ])),
        os_name=draw(st.sampled_from(["posix", "nt"])),
        platform_machine=draw(st.sampled_from(["x86_64", "aarch64", "arm64", "AMD64", "armv7l", "i686"])),
        platform_release=draw(st.sampled_from(["5.15.0", "6.1", "4.19", "x"])),
        platform_version=draw(st.sampled_from(["#1 SMP", ""])),
    )


ENVS = st.lists(environments(), min_size=1, max_size=12)
PROPERTY = settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def holds(text: str, e: dict[str, str]) -> bool:
    return Marker(text).evaluate(e) if text else True


@PROPERTY
@given(markers(), ENVS)
def test_parse_evaluates_like_packaging(m, envs):
    s = P(m)
    for e in envs:
        assert s.evaluate(e) == Marker(m).evaluate(e), (m, e)


@PROPERTY
@given(markers(), markers(), ENVS)
def test_operators_evaluate_like_booleans(m1, m2, envs):
    a, b = P(m1), P(m2)
    both, either, not_a = a & b, a | b, ~a
    for e in envs:
        x, y = a.evaluate(e), b.evaluate(e)
        assert both.evaluate(e) == (x and y)
        assert either.evaluate(e) == (x or y)
        assert not_a.evaluate(e) == (not x)
        if a.implies(b):
            assert not x or y
        if a.disjoint(b):
            assert not (x and y)
    assert a.implies(b) == (a & ~b).is_empty() == ((a | b) == b)
    assert a.disjoint(b) == both.is_empty() == a.implies(~b)
    assert (a & b) | (a & ~b) == a and hash((a & b) | (a & ~b)) == hash(a)
    assert ~(a | b) == ~a & ~b and ~~a == a


@PROPERTY
@given(markers(ATOMS), markers(ATOMS), ENVS)
def test_str_round_trips(m1, m2, envs):
    for s in (P(m1), P(m1) | P(m2), P(m1) & ~P(m2)):
        text = str(s)
        assert P(text) == s, (text, s)
        for e in envs:
            assert holds(text, e) == s.evaluate(e), (text, e)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(markers(), min_size=1, max_size=3), markers(), st.lists(environments(), min_size=1, max_size=20))
def test_representatives_cover_the_cells(ms, w, samples):
    sets, within = [P(m) for m in ms], P(w)
    envs = representative_environments(sets, within)
    keys = {"python_version", "python_full_version", "implementation_name", "implementation_version", "platform_python_implementation",
            "os_name", "sys_platform", "platform_system", "platform_machine", "platform_release", "platform_version"}
    seen = [signature(sets, e) for e in envs]
    assert len(set(seen)) == len(seen)  # two environments are in different cells
    for e in envs:
        assert keys <= e.keys() and within.evaluate(e)
        assert e["python_version"] == ".".join(e["python_full_version"].split(".")[:2])
    assert envs == representative_environments(sets, within)  # deterministic
    for e in samples:  # every realisable cell has its environment
        if within.evaluate(e):
            assert signature(sets, e) in seen, (e, [str(s) for s in sets], str(within))
