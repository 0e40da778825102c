"""``varsolve lock``: resolve for one or more targets and write pylock.toml (docs/lock.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    from .options import add_problem_arguments, add_source_arguments

    p = subparsers.add_parser("lock", help="resolve and write a pylock.toml (PEP 751 + PEP 825 variants)")
    add_problem_arguments(p)
    add_source_arguments(p)  # the lock records --index-url, else the first --find-links
    p.add_argument("--strategy", default="backtrack", help="pep825, backtrack or sat (default: backtrack)")
    p.add_argument(
        "--target", action="append", default=[], metavar="FILE",
        help="a target file (Python, platform, supported variant properties); repeatable",
    )
    p.add_argument("-o", "--output", default="pylock.toml", metavar="FILE", help="lock file (default: pylock.toml)")
    p.add_argument("--check", metavar="LOCK", help="re-resolve LOCK's inputs and report drift (exit 1 on drift)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..lock.api import check_lock, lock
    from .options import apply_policy_arguments, source_settings_from_args

    if args.check:
        if args.requirements or args.requirement or args.scenario or args.target:
            raise InputError("--check re-resolves the lock's own inputs; give only the lock (and optionally a source)")
        # The lock's recorded source, unless one is given: not the environment's index.
        report = check_lock(Path(args.check), sources=source_settings_from_args(args, environment=False))
        sys.stdout.write(report.to_text())
        return 1 if report.drift else 0
    from ..cli import _read_requirement_files

    requirements = list(args.requirements) + _read_requirement_files(args.requirement)
    written = lock(
        requirements or None,
        scenario=args.scenario,
        sources=source_settings_from_args(args),
        target_files=args.target,
        python=args.python,
        variants_file=args.variants,
        unify=args.unify or None,
        enable=args.enable or None,
        strategy=args.strategy,
        output=Path(args.output),
        adjust=lambda problem: apply_policy_arguments(problem, args),
    )
    for path in written:
        print(f"wrote {path}")
    return 0
