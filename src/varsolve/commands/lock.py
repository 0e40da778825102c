"""``varsolve lock``: resolve for one or more targets and write pylock.toml (docs/lock.md).

``--universal``: one lock for every environment (docs/lock.md, "Universal locks").

Exit codes as ``resolve``: 0 written; 1 no solution for a target (nothing written); 2 bad
input; 3 written, but a target's resolution is inconsistent (a unified feature takes two
values, which only ``--strategy pep825`` produces; each violation is a warning, and ``varsolve
install`` refuses such a lock).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from .options import add_problem_arguments, add_source_arguments, add_universal_arguments

    p = subparsers.add_parser("lock", help="resolve and write a pylock.toml (PEP 751 + PEP 825 variants)")
    add_problem_arguments(p)
    add_source_arguments(p)  # the lock records --index-url, else the first --find-links
    add_universal_arguments(p, target_option=False)  # one lock for every environment (docs/lock.md)
    p.add_argument("--strategy", default="backtrack", help="pep825, backtrack or sat (default: backtrack)")
    p.add_argument(
        "--target", action="append", default=[], metavar="FILE",
        help="a target file (Python, platform, supported variant properties); repeatable; with --universal a "
        "variant target (only what it supports matters), resolved over the whole universe",
    )
    p.add_argument("-o", "--output", default="pylock.toml", metavar="FILE", help="lock file (default: pylock.toml)")
    p.add_argument("--check", metavar="LOCK", help="re-resolve LOCK's inputs and report drift (exit 1 on drift)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..lockfile.api import check_lock, lock
    from .options import apply_policy_arguments, check_universal_arguments, source_settings_from_args

    check_universal_arguments(args)
    if args.check:
        if (
            args.requirements or args.requirement or args.constraint or args.extra or args.group or args.scenario
            or args.target or args.universal
        ):
            raise InputError("--check re-resolves the lock's own inputs; give only the lock (and optionally a source)")
        # The lock's recorded source, unless one is given: not the environment's index.
        report = check_lock(Path(args.check), sources=source_settings_from_args(args, environment=False))
        sys.stdout.write(report.to_text())
        return 1 if report.drift else 0
    from ..cli import EXIT_INCONSISTENT, EXIT_OK
    from .options import apply_requirement_options, read_requirement_arguments

    inputs = read_requirement_arguments(args)  # before the sources: files may name indexes
    requirements = list(args.requirements) + list(inputs.requirements)
    # Several targets share one repository: constraints with markers need a single target (and
    # a universal lock serves many environments).
    single = not args.target and not args.universal
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
        adjust=lambda problem: apply_requirement_options(apply_policy_arguments(problem, args), inputs, single_target=single),
        universal=args.universal,
        # -r pyproject.toml's requires-python is the universe only of a universal lock.
        requires_python=(args.python_requires or inputs.requires_python) if args.universal else None,
        environments=tuple(args.environment),
        requires_python_key="--python-requires" if args.python_requires else "project.requires-python (-r)",
        environments_key="--environment",
    )
    for path in written.paths:
        print(f"wrote {path}")
    return EXIT_OK if written.consistent else EXIT_INCONSISTENT
