"""PNG plots of a comparison (``varsolve compare --plot DIR``, and the notebooks).

Figures are built with matplotlib's object API (no pyplot state), so the same functions serve
the command line and a notebook. matplotlib is optional (the ``notebooks`` extra).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError
from .tasks import Row

# x axes of the scaling plots: (size key, axis label)
SCALING_AXES = (
    ("packages", "packages in the index"),
    ("versions_per_package", "versions per package"),
    ("variants_per_release", "variant wheels per release"),
)
OUTCOMES = (
    ("consistent solution", "#2a9d8f"),
    ("inconsistent solution", "#e9c46a"),
    ("no solution", "#e76f51"),
    ("timeout or error", "#6c757d"),
)


def require_matplotlib() -> None:
    _figure_class()


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise InputError("plots need matplotlib: pip install 'varsolve[notebooks]'") from None
    return Figure


def _strategies(rows: Sequence[Row]) -> list[str]:
    return list(dict.fromkeys(r.strategy for r in rows))


def scaling_figure(rows: Sequence[Row], axes: Sequence[tuple[str, str]] = SCALING_AXES) -> Any:
    """Time and peak memory against index size, one line per strategy (median per x value)."""
    Figure = _figure_class()
    fig = Figure(figsize=(4.2 * len(axes), 6.4), layout="constrained")
    grid = fig.subplots(2, len(axes), squeeze=False)
    measured = [r for r in rows if r.status == "ok" and r.seconds is not None]
    for column, (key, label) in enumerate(axes):
        for strategy in _strategies(rows):
            mine = [r for r in measured if r.strategy == strategy and key in r.size]
            for line, (metric, scale) in enumerate((("seconds", 1.0), ("peak_kib", 1 / 1024))):
                points: dict[float, list[float]] = {}
                for r in mine:
                    value = getattr(r, metric)
                    if value is not None:
                        points.setdefault(float(r.size[key]), []).append(value * scale)
                if not points:
                    continue
                xs = sorted(points)
                grid[line][column].plot(
                    xs, [statistics.median(points[x]) for x in xs], marker="o", markersize=3, label=strategy
                )
        grid[0][column].set_title(f"against {label}", fontsize=10)
        grid[1][column].set_xlabel(label)
    grid[0][0].set_ylabel("solve time (s)")
    grid[1][0].set_ylabel("peak memory (MiB)")
    for ax in grid.flat:
        ax.grid(True, alpha=0.3)
        if any(line.get_ydata().size and min(line.get_ydata()) > 0 for line in ax.get_lines()):
            ax.set_yscale("log")
    if any(ax.get_lines() for ax in grid.flat):
        grid[0][0].legend(fontsize=8)
    return fig


def outcome_counts(rows: Sequence[Row]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        bucket = counts.setdefault(r.strategy, {name: 0 for name, _ in OUTCOMES})
        if r.status != "ok":
            bucket["timeout or error"] += 1
        elif not r.satisfiable:
            bucket["no solution"] += 1
        elif r.consistent is False:
            bucket["inconsistent solution"] += 1
        else:
            bucket["consistent solution"] += 1
    return counts


def outcomes_figure(rows: Sequence[Row]) -> Any:
    """How each strategy fared: consistent / inconsistent / no solution, stacked per strategy."""
    Figure = _figure_class()
    counts = outcome_counts(rows)
    strategies = list(counts)
    fig = Figure(figsize=(6.4, 0.6 + 0.55 * max(1, len(strategies))), layout="constrained")
    ax = fig.subplots()
    left = [0] * len(strategies)
    for name, colour in OUTCOMES:
        widths = [counts[s][name] for s in strategies]
        ax.barh(strategies, widths, left=left, color=colour, label=name)
        left = [a + b for a, b in zip(left, widths)]
    ax.invert_yaxis()
    ax.set_xlabel("runs")
    ax.legend(fontsize=7, ncols=2, loc="lower right")
    return fig


def write_plots(rows: Sequence[Row], directory: str | Path) -> list[Path]:
    """Write scaling.png and outcomes.png into ``directory``; returns the paths."""
    directory = Path(directory)
    figures = {"outcomes.png": outcomes_figure(rows), "scaling.png": scaling_figure(rows)}
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the plot directory: {exc.strerror}", where=str(directory)) from None
    written = []
    for name, fig in figures.items():
        path = directory / name
        tmp = path.with_name(f".{name}.tmp")
        # No "Software" chunk: the same rows give the same bytes on any matplotlib build.
        fig.savefig(tmp, format="png", dpi=90, metadata={"Software": None})
        tmp.replace(path)
        written.append(path)
    return written
