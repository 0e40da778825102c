"""``varsolve conformance``: what a real installer chooses for each scenario, verified and
compared with varsolve's strategies (docs/conformance.md)."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "conformance",
        help="run an installer (uv, pip or a command) on scenarios and check what it chooses",
        description=(
            "For each scenario: build its index with the target written the way the installer reads it, "
            "serve it on 127.0.0.1, run the installer, verify its choice with varsolve's verifier and "
            "compare it with every strategy; say why it differs. Exit 1 when an installer run failed "
            "(could not run, timed out, unreadable output: an error row and one line on stderr each)."
        ),
        epilog=(
            "placeholders of a command template: {index_url} {requirements} {python} {platform} "
            "{platform_tag} {variants} {report} {workdir} {scenario}; the command exits 0 with a pip "
            "installation report, varsolve's JSON or a pylock.toml on stdout or in {report}, 1 for no solution"
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or directories of *.toml")
    p.add_argument(
        "--installer", required=True, metavar="uv|pip|CMD",
        help="uv (uv pip compile, wheel variants on), pip (pip install --dry-run --report), or a command template",
    )
    p.add_argument("--format", choices=["table", "md", "json"], default="table")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument(
        "--timeout", type=float, default=60.0, metavar="SECONDS",
        help="time one installer run may take; then its process group is killed (default: 60)",
    )
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="scenarios run at once (default: 1)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..atomic_write import write_text_atomically
    from ..conformance import run_conformance
    from ..reporter import TerminalReporter

    quiet = bool(getattr(args, "quiet", False))

    def error_line(line: str) -> None:
        print(f"varsolve: error: {line}", file=sys.stderr, flush=True)

    report = run_conformance(
        args.paths, args.installer, timeout=args.timeout, jobs=args.jobs,
        reporter=TerminalReporter.for_stderr(quiet), on_error=error_line,
    )
    text = report.render(args.format)
    if args.output:
        write_text_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    return 1 if report.errors else 0
