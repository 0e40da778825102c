"""Where each package of a fork is installed (:func:`varsolve.universal.result.package_markers`)
is a least fixed point over the fork's edges; it is computed by a work list (a parent's edges
read again only when where it is reached grew). Checked here against the round-by-round fixed
point it replaced, on random graphs with markers, extras and cycles."""

from __future__ import annotations

import random

from packaging.version import Version

from varsolve.marker_algebra import MarkerSet
from varsolve.resolution import Edge, Pin, Resolution
from varsolve.universal.region import parse_marker
from varsolve.universal.result import package_markers

MARKERS = [
    None, "sys_platform == 'linux'", "sys_platform == 'win32'", "python_full_version >= '3.11'",
    "python_full_version < '3.12' and sys_platform != 'darwin'", "extra == 'fast'", "extra == 'gui' and os_name == 'nt'",
    "platform_machine == 'x86_64' or extra == 'fast'",
]
EXTRAS: list[tuple[str, ...]] = [(), (), ("fast",), ("gui",), ("fast", "gui")]


def _rounds(region: MarkerSet, resolution: Resolution) -> dict[str, MarkerSet]:
    """The fixed point as computed before: every edge in every round until no round changes."""
    reach: dict[tuple[str, str], MarkerSet] = {}
    changed = True
    while changed:
        changed = False
        for edge in resolution.graph:
            if edge.parent is None:
                contexts = [("", region)]
            else:
                contexts = [(extra, where) for (name, extra), where in reach.items() if name == edge.parent]
            part = MarkerSet.empty()
            for extra, where in contexts:
                part = part | (where if edge.marker is None else where & parse_marker(edge.marker, extra))
            if part.is_empty():
                continue
            for extra in ("", *edge.extras):
                old = reach.get((edge.child, extra))
                if old is None or not part.implies(old):
                    reach[(edge.child, extra)] = part if old is None else old | part
                    changed = True
    return {name: reach.get((name, ""), MarkerSet.empty()) for name in resolution.packages}


def test_the_work_list_reaches_the_fixed_point_of_every_round() -> None:
    rng = random.Random(14)
    region = MarkerSet.parse("python_full_version >= '3.10'")
    for _ in range(150):
        names = [f"p{i}" for i in range(rng.randint(2, 9))]
        edges = set()
        for _ in range(rng.randint(1, 3 * len(names))):
            parent = rng.choice([None, *names])
            child = rng.choice(names)
            marker = rng.choice(MARKERS)
            extras = rng.choice(EXTRAS)
            requirement = f"{child}[{','.join(extras)}]" + (f" ; {marker}" if marker else "")
            edges.add(Edge(parent, child, requirement, "", extras, marker))
        graph = tuple(sorted(edges, key=lambda e: (e.parent or "", e.child, e.requirement)))
        resolution = Resolution("backtrack", True, {n: Pin(Version("1"), "", f"{n}-1-py3-none-any.whl") for n in names}, graph)
        got = package_markers(region, resolution)
        assert got == _rounds(region, resolution), graph
        # And in another order of the same edges.
        shuffled = list(graph)
        rng.shuffle(shuffled)
        assert package_markers(region, Resolution("backtrack", True, resolution.packages, tuple(shuffled))) == got
