"""The ``varsolve`` command line: a thin layer over the Python API.

Exit codes: 0 success, 1 no solution (or a failed check), 2 bad input or usage. Errors are one
line on stderr; a traceback means a bug. Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from . import __version__


class _OneLineHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        print(f"varsolve: {record.levelname.lower()}: {record.getMessage()}", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: one line, exit 2
        print(f"varsolve: error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; a command module is imported only when ``argv`` invokes it (or when
    ``argv`` is None), so that ``varsolve resolve`` does not pay for every other command."""
    parser = _Parser(prog="varsolve", description="A resolver in which wheel-variant properties are solver variables.")
    parser.add_argument("--version", action="version", version=f"varsolve {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no warnings or progress on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("resolve", help="resolve requirements against a source")
    from .commands.options import add_problem_arguments, add_source_arguments

    add_problem_arguments(p)
    add_source_arguments(p)  # --index-url, --extra-index-url, --find-links, cache, timeouts
    p.add_argument("--strategy", default="backtrack", help="pep825, backtrack or sat (default: backtrack)")
    p.add_argument("--format", choices=["text", "json"], default="text")

    s = sub.add_parser("scenario", help="work with scenario files")
    ssub = s.add_subparsers(dest="scenario_command", metavar="SUBCOMMAND", parser_class=_Parser)
    c = ssub.add_parser("check", help="run scenarios and check their expectations")
    c.add_argument("paths", nargs="+", metavar="PATH")
    c.add_argument("--strategy", action="append", default=[], help="strategy to run (repeatable; default: all)")
    c.add_argument("--format", choices=["text", "json"], default="text")
    c.add_argument("-v", "--verbose", action="store_true", help="print passing checks too")
    c.add_argument("--strict", action="store_true", default=None,
                   help="missing packages and dependency cycles are input errors")
    invoked = _invoked_command(argv)
    for module_name in COMMAND_MODULES:
        if argv is None or module_name == invoked:
            _command_module(module_name).add_parser(sub)
        else:
            sub.add_parser(module_name, help=COMMAND_HELP[module_name])
    return parser


def _invoked_command(argv: Sequence[str] | None) -> str | None:
    for arg in argv or ():
        if not arg.startswith("-"):
            return arg
    return None


# Further commands live in varsolve/commands/<name>.py, each with ``add_parser(subparsers)``
# that registers its parser and sets ``handler=<callable(args) -> int>`` as a default.
COMMAND_MODULES: list[str] = ["compare", "generate", "lock", "install", "detect", "index"]
# One-line help of each, for `varsolve --help` without importing the modules (a test keeps
# these equal to the modules' own).
COMMAND_HELP: dict[str, str] = {
    "compare": "run scenarios with every strategy and compare outcomes, time and memory",
    "generate": "write generated scenario families (layered, adversarial, ecosystem) for studies",
    "lock": "resolve and write a pylock.toml (PEP 751 + PEP 825 variants)",
    "install": "install a pylock.toml, selecting variant wheels (PEP 825)",
    "detect": "describe this machine as a static provider file (for resolve --variants)",
    "index": "build and serve real package indexes from scenarios",
}


def _command_module(name: str):
    import importlib

    return importlib.import_module(f"varsolve.commands.{name}")


def _read_requirement_files(paths: Sequence[str]) -> list[str]:
    from pathlib import Path

    from .errors import InputError

    out: list[str] = []
    for path in paths:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError(f"cannot read requirements: {exc.strerror}", where=path) from None
        for number, line in enumerate(lines, 1):
            line = line.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("-"):
                raise InputError(f"line {number}: options are not supported in requirement files", where=path)
            out.append(line)
    return out


def cmd_resolve(args: argparse.Namespace) -> int:
    from .api import build_problem, solve
    from .errors import InputError
    from .sources.scenario import load_scenario  # noqa: F401  (fail early on bad scenarios)

    requirements = list(args.requirements) + _read_requirement_files(args.requirement)
    for text in requirements:
        from .variants.markers import parse_requirement

        parse_requirement(text)
    from .commands.options import apply_policy_arguments, source_settings_from_args
    from .sources import INDEX_URL_VARIABLES, open_repository

    repository = open_repository(source_settings_from_args(args))
    if args.scenario is None and repository is None:
        raise InputError(
            "no package source: give --index-url URL, --find-links DIR or --scenario FILE"
            f" (or set {', '.join(INDEX_URL_VARIABLES)})"
        )
    try:
        if args.scenario is None and not requirements:
            raise InputError("nothing to resolve: give requirements (or -r FILE)")
        # With a scenario and a repository: root, target and options from the scenario, the
        # packages from the repository.
        problem = build_problem(
            requirements or None,
            scenario=args.scenario,
            repository=repository,
            python=args.python,
            variants_file=args.variants,
            unify=args.unify or None,
            enable=args.enable or None,
            strict=getattr(args, "strict", None),
        )
        problem = apply_policy_arguments(problem, args)
        if repository is not None:
            repository.hint_target(problem.target)
            repository.prefetch(problem.root_names())
        resolution = solve(problem, args.strategy)
        if repository is not None:
            resolution = resolution.with_stats(http=dict(repository.counters))
    finally:
        if repository is not None:
            repository.close()
    out = resolution.to_json() if args.format == "json" else resolution.to_text()
    sys.stdout.write(out)
    return 0 if resolution.satisfiable else 1


def cmd_scenario_check(args: argparse.Namespace) -> int:
    import json

    from .check import run_checks
    from .strategies import available

    strategies = args.strategy or available()
    for name in strategies:
        from .strategies import get_strategy

        get_strategy(name)
    results = run_checks(args.paths, strategies, strict=args.strict)
    passed = sum(r.status == "pass" for r in results)
    failed = sum(r.status == "fail" for r in results)
    skipped = sum(r.status == "skip" for r in results)
    summary = f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
    if args.format == "json":
        print(json.dumps({"results": [r.to_json_dict() for r in results], "passed": passed, "failed": failed, "skipped": skipped}, indent=2))
    else:
        for r in results:
            if r.status == "fail":
                print(f"FAIL {r.path} [{r.strategy}]")
                for problem in r.problems:
                    print(f"     {problem}")
            elif args.verbose:
                print(f"{r.status.upper()} {r.path} [{r.strategy}]")
        print(summary)
    return 0 if failed == 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logger = logging.getLogger("varsolve")
    # Restored on return, so that main() called in-process (tests, notebooks) leaves logging as it found it.
    saved = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers[:] = [_OneLineHandler()]
    logger.setLevel(logging.ERROR if args.quiet else logging.WARNING)
    logger.propagate = False
    try:
        return _run(parser, args)
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .errors import VarsolveError

    try:
        if args.command == "resolve":
            return cmd_resolve(args)
        if args.command == "scenario" and args.scenario_command == "check":
            return cmd_scenario_check(args)
        if getattr(args, "handler", None) is not None:
            return args.handler(args)
        parser.print_help(sys.stderr)
        return 2
    except VarsolveError as exc:
        print(f"varsolve: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("varsolve: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
