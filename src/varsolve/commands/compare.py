"""``varsolve compare``: every scenario with every strategy (and target), side by side."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "compare",
        help="run scenarios with every strategy and compare outcomes, time and memory",
        description=(
            "Run every scenario with every strategy (and every --target) in parallel and report, per "
            "run: satisfiable, consistent, the objective vector, whether the expectation holds, "
            "seconds, peak memory and the strategy's counters; then a summary. Exit 1 when a run "
            "crashed or broke its expectation."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or directories of *.toml")
    p.add_argument("--strategy", action="append", default=[], help="strategy to run (repeatable; default: all available)")
    p.add_argument(
        "--target", action="append", default=[], metavar="FILE",
        help="a target file overriding the scenarios' environment (repeatable; see docs/compare.md)",
    )
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="parallel worker processes (default: 1)")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--plot", metavar="DIR", help="also write outcomes.png and scaling.png into DIR (needs matplotlib)")
    p.add_argument(
        "--executor", default="local", metavar="local|dask://HOST:PORT",
        help="where tasks run: local processes (default) or an existing Dask cluster",
    )
    p.add_argument(
        "--memory", choices=["tracemalloc", "rss", "off"], default="tracemalloc",
        help="peak memory: Python heap of a second traced run (default), RSS growth in a fresh process per task, or off",
    )
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="give up on a run after SECONDS (local executor)")
    p.add_argument(
        "--objective", choices=["default", "newest"], default="default", metavar="default|newest",
        help="the objective sat optimises and every run is ranked by (docs/strategies.md; default: default)",
    )
    p.add_argument("-q", "--quiet", dest="compare_quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..atomic_write import write_text_atomically
    from ..compare import run_compare
    from ..reporter import TerminalReporter

    quiet = bool(getattr(args, "quiet", False) or args.compare_quiet)
    if args.timeout is not None and args.executor != "local" and not quiet:
        print("varsolve: warning: --timeout only applies to the local executor", file=sys.stderr)
    if args.plot:
        from ..compare.plots import require_matplotlib

        require_matplotlib()  # say so before the sweep, not after it
    report = run_compare(
        args.paths, args.strategy or None, args.target, jobs=args.jobs, executor=args.executor,
        memory=args.memory, timeout=args.timeout, reporter=TerminalReporter.for_stderr(quiet), objective=args.objective,
    )
    text = report.render(args.format)
    if args.output:
        write_text_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    if args.format == "csv" and not quiet:
        from ..compare.report import render_summary

        sys.stderr.write(render_summary(report.summary))
    if args.plot:
        from ..compare.plots import write_plots

        for path in write_plots(report.rows, args.plot):
            if not quiet:
                print(f"wrote {path}", file=sys.stderr)
    return 1 if report.failed else 0
