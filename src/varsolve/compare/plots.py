"""PNG plots of a comparison (``varsolve compare --plot DIR``, and the notebooks).

Figures are built with matplotlib's object API (no pyplot state), so the same functions serve
the command line and a notebook. matplotlib is optional (the ``notebooks`` extra).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, TypeAlias

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


def setting_of(row: Row) -> str:
    """The generator setting a scenario came from: its file stem without ``-seedN``, as
    ``varsolve generate`` names files, so the seeds of one setting make one point."""
    return re.sub(r"-seed-?\d+$", "", Path(row.path).stem)


def scaling_figure(rows: Sequence[Row], axes: Sequence[tuple[str, str]] | None = None) -> Any:
    """Time and peak memory against index size, one line per strategy, one point per
    generator setting (median over its seeds). By default, one column per size measure that
    varies across the scenarios (a sweep over one knob barely moves the others)."""
    if axes is None:
        axes = [axis for axis in SCALING_AXES if _varies(rows, axis[0])] or list(SCALING_AXES[:1])
    return sweep_figure([(rows, key, label, setting_of) for key, label in axes])


def _varies(rows: Sequence[Row], key: str) -> bool:
    """Whether the settings (seeds pooled) differ by 30 % or more in this size measure."""
    settings: dict[str, list[float]] = {}
    for r in rows:
        if key in r.size:
            settings.setdefault(setting_of(r), []).append(float(r.size[key]))
    values = [statistics.median(v) for v in settings.values()]
    return bool(values) and max(values) > 0 and (max(values) - min(values)) / max(values) >= 0.3


# (rows, size key, axis label) or (rows, size key, axis label, group(row) -> key)
Sweep: TypeAlias = tuple[Sequence[Row], str, str] | tuple[Sequence[Row], str, str, Callable[[Row], Hashable]]


def sweep_figure(sweeps: Sequence[Sweep]) -> Any:
    """One column per sweep: solve time above, peak memory below, one line per strategy.

    Rows are grouped by ``group(row)`` when given (e.g. the knob value a scenario was generated
    with, so that seeds of one setting form one point), else by their size value; a point is
    the median over its group, its x the median size of the group. Timed-out runs have no
    time: they are left out, and the text under the plot counts them.
    """
    Figure = _figure_class()
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig = Figure(figsize=(max(6.0, 4.2 * len(sweeps)), 6.6), layout="constrained")
    grid = fig.subplots(2, len(sweeps), squeeze=False)
    timeouts: dict[str, int] = {}
    counted: set[int] = set()
    for column, sweep in enumerate(sweeps):
        rows, key, label = sweep[0], sweep[1], sweep[2]
        group = sweep[3] if len(sweep) > 3 else _size_of(key)
        for r in rows:
            if r.status == "timeout" and id(r) not in counted:
                counted.add(id(r))
                timeouts[r.strategy] = timeouts.get(r.strategy, 0) + 1
        measured = [r for r in rows if r.status in ("ok", "timeout") and key in r.size]
        for index, strategy in enumerate(_strategies(rows)):
            colour = f"C{index}"
            groups: dict[Hashable, list[Row]] = {}
            for r in measured:
                if r.strategy == strategy:
                    groups.setdefault(group(r), []).append(r)
            for line, (metric, ylabel) in enumerate((("seconds", "solve time (s)"), ("peak_kib", "peak memory (KiB)"))):
                points = []
                for members in groups.values():
                    values = [v for v in (_measure(r, metric) for r in members) if v is not None]
                    if values:
                        x = statistics.median(float(r.size[key]) for r in members)
                        points.append((x, statistics.median(values)))
                if points:
                    ax = grid[line][column]
                    trend = _binned_medians(points)
                    if len(trend) < len(points):  # several settings per bin: show them too
                        ax.plot([p[0] for p in points], [p[1] for p in points], "o", color=colour, markersize=2.5, alpha=0.35)
                    ax.plot([p[0] for p in trend], [p[1] for p in trend], "-o", color=colour, markersize=3, label=strategy)
                grid[line][0].set_ylabel(ylabel)
        grid[0][column].set_title(f"against {label}", fontsize=10)
        grid[1][column].set_xlabel(label)
    for ax in grid.flat:
        ax.grid(True, alpha=0.3)
    # Times span decades (a blow-up next to milliseconds): log scale; memory stays linear.
    for ax in grid[0]:
        if any(line.get_ydata().size and min(line.get_ydata()) > 0 for line in ax.get_lines()):
            ax.set_yscale("log")
            plain = FuncFormatter(lambda value, _: f"{value:g}")
            ax.yaxis.set_major_formatter(plain)
            low, high = ax.get_ylim()
            # Less than a decade shows no major tick: label the minor ones instead.
            ax.yaxis.set_minor_formatter(plain if high / low < 10 else NullFormatter())
    for ax in grid[1]:
        ax.set_ylim(bottom=0)
    if any(ax.get_lines() for ax in grid.flat):
        grid[0][0].legend(fontsize=8)
    if timeouts:
        text = ", ".join(f"{s}: {n}" for s, n in sorted(timeouts.items()))
        fig.supxlabel(f"timed-out runs count as the time limit (a lower bound): {text}", fontsize=8)
    return fig


def _size_of(key: str) -> Callable[[Row], Hashable]:
    """Group rows by their size value ``key`` (a sweep without its own grouping)."""
    return lambda row: row.size.get(key)


def _measure(row: Row, metric: str) -> float | None:
    if metric == "seconds" and row.status == "timeout":
        return row.timeout
    value: float | None = getattr(row, metric)  # "seconds" or "peak_kib"
    return value


def _binned_medians(points: list[tuple[float, float]], gap: float = 0.08) -> list[tuple[float, float]]:
    """The trend line: the median of each cluster of nearby x values. A sweep over one knob
    gives one cluster per knob value; other knobs only move x by a few percent."""
    clusters: list[list[tuple[float, float]]] = []
    for x, y in sorted(points):
        if clusters and x - clusters[-1][-1][0] <= gap * abs(clusters[-1][-1][0]):
            clusters[-1].append((x, y))
        else:
            clusters.append([(x, y)])
    return [(statistics.median(p[0] for p in c), statistics.median(p[1] for p in c)) for c in clusters]


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
    fig = Figure(figsize=(6.4, 1.0 + 0.55 * max(1, len(strategies))), layout="constrained")
    ax = fig.subplots()
    left = [0] * len(strategies)
    for name, colour in OUTCOMES:
        widths = [counts[s][name] for s in strategies]
        ax.barh(strategies, widths, left=left, color=colour, label=name)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("runs")
    fig.legend(fontsize=7, ncols=len(OUTCOMES), loc="outside lower center")
    return fig


def png_bytes(fig: Any, dpi: int = 90) -> bytes:
    """The figure as PNG (for a notebook: ``IPython.display.Image(png_bytes(fig))``)."""
    import io

    buffer = io.BytesIO()
    # No "Software" chunk: the same rows give the same bytes on any matplotlib build.
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


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
        try:
            tmp.write_bytes(png_bytes(fig))
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise InputError(f"cannot write: {exc.strerror}", where=str(path)) from None
        written.append(path)
    return written
