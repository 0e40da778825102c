"""The ``varsolve`` command line: a thin layer over the Python API.

Exit codes (:data:`EXIT_CODES`): 0 success, 1 no solution (or a failed check, a drifted lock),
2 bad input or usage, 3 resolved but inconsistent (a unified feature takes two values: only a
strategy that ignores ``unify``, pep825, gets there). Errors are one line on stderr; a traceback
means a bug. Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from . import __version__

if TYPE_CHECKING:
    from types import ModuleType

    from .problem import Problem
    from .repository import Repository
    from .resolution import Resolution
    from .strategies import Strategy
    from .universal.result import UniversalResolution

EXIT_OK = 0
EXIT_NO_SOLUTION = 1  # also: a failed scenario check, a crashed compare run, a drifted lock
EXIT_BAD_INPUT = 2
EXIT_INCONSISTENT = 3
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_NO_SOLUTION: "no solution; a failed check (scenario check, compare, lock --check)",
    EXIT_BAD_INPUT: "bad input or usage (one line on stderr naming the file and key)",
    EXIT_INCONSISTENT: "resolved, but the environment is inconsistent: a unified feature takes two values "
    "(resolve and lock with --strategy pep825; the output is written, the violations are shown)",
}


class _OneLineHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        print(f"varsolve: {record.levelname.lower()}: {record.getMessage()}", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage errors: one line, exit 2
        print(f"varsolve: error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; a command module is imported only when ``argv`` invokes it (or when
    ``argv`` is None), so that ``varsolve resolve`` does not pay for every other command."""
    parser = _Parser(
        prog="varsolve",
        description="A resolver in which wheel-variant properties are solver variables.",
        epilog=_exit_codes_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"varsolve {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no warnings or progress on stderr")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more messages on stderr (-vv: debugging)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("resolve", help="resolve requirements against a source")
    from .commands.options import add_problem_arguments, add_source_arguments, add_universal_arguments

    add_problem_arguments(p)
    add_source_arguments(p)  # --index-url, --extra-index-url, --find-links, cache, timeouts
    add_universal_arguments(p, target_option=True)
    p.add_argument("--strategy", default="backtrack", help="pep825, backtrack or sat (default: backtrack)")
    p.add_argument(
        "--time-budget", type=float, metavar="SECONDS",
        help="sat only: stop optimising after SECONDS and return a valid resolution, marked not optimal",
    )
    p.add_argument(
        "--objective", choices=["default", "newest"], metavar="default|newest",
        help="sat only: what the optimum minimises (docs/strategies.md): default (versions, then variant rank, then "
        "packages; fewer, older packages can win) or newest (versions nearest the root first, as greedy resolvers take them)",
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument(
        "-o", "--output", metavar="FILE",
        help="also write the resolution as pinned requirements (name==version, --hash lines) to FILE",
    )

    s = sub.add_parser("scenario", help="work with scenario files")
    ssub = s.add_subparsers(dest="scenario_command", metavar="SUBCOMMAND", parser_class=_Parser)
    c = ssub.add_parser("check", help="run scenarios and check their expectations")
    c.add_argument("paths", nargs="+", metavar="PATH")
    c.add_argument("--strategy", action="append", default=[], help="strategy to run (repeatable; default: all)")
    c.add_argument("--format", choices=["text", "json"], default="text")
    c.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="print passing checks too")
    c.add_argument("--strict", action="store_true", default=None,
                   help="missing packages and dependency cycles are input errors")
    invoked = _invoked_command(argv)
    for module_name in COMMAND_MODULES:
        if argv is None or module_name == invoked:
            _command_module(module_name).add_parser(sub)
        else:
            sub.add_parser(module_name, help=COMMAND_HELP[module_name])
    _verbosity_everywhere(parser)
    return parser


def _exit_codes_epilog() -> str:
    import textwrap

    lines = ["exit codes:"]
    for code, meaning in EXIT_CODES.items():
        lines += textwrap.wrap(meaning, 88, initial_indent=f"  {code}  ", subsequent_indent="     ")
    return "\n".join(lines)


def _verbosity_everywhere(parser: argparse.ArgumentParser) -> None:
    """``-q`` and ``-v`` after any subcommand too (``varsolve resolve -q``): added to every
    subparser that lacks them, with suppressed defaults so that a flag given before the
    subcommand shows through."""
    # argparse has no public way to list subparsers or options.
    for action in parser._actions:  # noqa: SLF001
        if not isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            continue
        for sub in dict.fromkeys(action.choices.values()):
            known = sub._option_string_actions  # noqa: SLF001
            for flags, dest, kind, help_text in (
                (("-q", "--quiet"), "quiet", "store_true", "no warnings or progress on stderr"),
                (("-v", "--verbose"), "verbose", "count", "more messages on stderr"),
            ):
                existing = [known[f] for f in flags if f in known]
                if not existing:
                    sub.add_argument(*flags, dest=dest, action=kind, default=argparse.SUPPRESS, help=help_text)
                for found in existing:
                    if found.dest == dest:  # the command's own -v: let the global one through
                        found.default = argparse.SUPPRESS
            _verbosity_everywhere(sub)


def _invoked_command(argv: Sequence[str] | None) -> str | None:
    for arg in argv or ():
        if not arg.startswith("-"):
            return arg
    return None


# Further commands live in varsolve/commands/<name>.py, each with ``add_parser(subparsers)``
# that registers its parser and sets ``handler=<callable(args) -> int>`` as a default.
COMMAND_MODULES: list[str] = ["compare", "generate", "lock", "install", "detect", "index", "conformance"]
# One-line help of each, for `varsolve --help` without importing the modules (a test keeps
# these equal to the modules' own).
COMMAND_HELP: dict[str, str] = {
    "compare": "run scenarios with every strategy and compare outcomes, time and memory",
    "generate": "write generated scenario families (layered, adversarial, ecosystem) for studies",
    "lock": "resolve and write a pylock.toml (PEP 751 + PEP 825 variants)",
    "install": "install a pylock.toml, selecting variant wheels (PEP 825)",
    "detect": "describe this machine as a static provider file (for resolve --variants)",
    "index": "build and serve real package indexes from scenarios",
    "conformance": "run an installer (uv, pip or a command) on scenarios and check what it chooses",
}


def _command_module(name: str) -> ModuleType:
    import importlib

    return importlib.import_module(f"varsolve.commands.{name}")


def exit_code(resolution: Resolution) -> int:
    """0; :data:`EXIT_NO_SOLUTION` without a resolution or when the verifier rejects it;
    :data:`EXIT_INCONSISTENT` when its only fault is a unified feature taking two values."""
    if not resolution.satisfiable or not resolution.valid:
        return EXIT_NO_SOLUTION  # no solution, or one the verifier rejects: a failed check
    return EXIT_OK if resolution.consistent else EXIT_INCONSISTENT


def _strategy(args: argparse.Namespace) -> Strategy:
    """The strategy the flags ask for, configured."""
    from .errors import InputError
    from .strategies import get_strategy

    objective = getattr(args, "objective", None)
    if args.time_budget is None and objective is None:
        return get_strategy(args.strategy)
    option = "--time-budget" if args.time_budget is not None else "--objective"
    if args.strategy != "sat":
        raise InputError(f"{option}: only --strategy sat optimises (the others return their first resolution)")
    if args.time_budget is not None and not 0 < args.time_budget < float("inf"):
        raise InputError(f"--time-budget: must be a positive number of seconds, not {args.time_budget:g}")
    from .strategies.sat import SatStrategy

    return SatStrategy(time_budget=args.time_budget, objective=objective or "default")


def cmd_resolve(args: argparse.Namespace) -> int:
    from .commands.options import apply_requirement_options, check_universal_arguments, read_requirement_arguments
    from .errors import InputError

    check_universal_arguments(args)
    if args.target and not args.universal:
        raise InputError("--target: only with --universal (resolve one target with --python, --python-platform, --variants)")
    inputs = read_requirement_arguments(args)  # before the sources: files may name indexes
    for text in args.requirements:
        from .variants.markers import parse_requirement

        parse_requirement(text)
    requirements = list(args.requirements) + list(inputs.requirements)
    from .commands.options import apply_policy_arguments, source_settings_from_args
    from .sources import INDEX_URL_VARIABLES, open_repository

    repository = open_repository(source_settings_from_args(args))
    # The solver's modules after the repository: a cold run's HTTP client warms up meanwhile.
    from .api import build_problem, solve

    if args.scenario is None and repository is None:
        raise InputError(
            "no package source: give --index-url URL, --find-links DIR or --scenario FILE"
            f" (or set {', '.join(INDEX_URL_VARIABLES)})"
        )
    try:
        if args.scenario is None and not requirements:
            raise InputError("nothing to resolve: give requirements (or -r FILE)")
        # With a scenario and a repository: root, target and options from the scenario (its
        # [packages] not even parsed), the packages from the repository.
        given = None
        if args.scenario is not None and repository is not None:
            from .sources.scenario import load_scenario  # (only then: ~3 ms of imports)

            given = load_scenario(args.scenario, strict=getattr(args, "strict", None), packages=False).problem
        problem = build_problem(
            requirements or (list(given.requirements) if given is not None else None),
            scenario=args.scenario if given is None else None,
            repository=repository,
            target=given.target if given is not None else None,
            options=given.options if given is not None else None,
            python=args.python,
            variants_file=args.variants,
            unify=args.unify or None,
            enable=args.enable or None,
            strict=getattr(args, "strict", None),
        )
        problem = apply_policy_arguments(problem, args)
        problem = apply_requirement_options(problem, inputs)  # --only-binary, --pre, constraints
        if args.universal:
            return _resolve_universal(args, problem, inputs.requires_python, repository)
        resolution = solve(problem, _strategy(args))
        if repository is not None:
            resolution = resolution.with_stats(http=dict(repository.counters))
        if args.output and resolution.satisfiable:  # while the source is open: it knows the hashes
            _write_pinned(args, problem, resolution)
    finally:
        if repository is not None:
            repository.close()
    if args.format == "json":  # the resolution's JSON, and the target it was resolved for
        import json

        out = json.dumps({**resolution.to_dict(), "target": problem.target.describe()}, indent=2) + "\n"
    else:
        out = resolution.to_text()
        from .objective import objective_note

        note = objective_note(resolution.stats)
        if note is not None and not getattr(args, "quiet", False):
            print(f"varsolve: {note}", file=sys.stderr)
    sys.stdout.write(out)
    return exit_code(resolution)


def _resolve_universal(
    args: argparse.Namespace, problem: Problem, project_requires_python: str | None, repository: Repository | None
) -> int:
    """``resolve --universal``: one result for every environment (varsolve.universal)."""
    from .errors import InputError
    from .universal.driver import resolve_universal

    if args.output:
        raise InputError("-o: pinned requirements name one version per package; write a universal result with lock --universal")
    requires_python, environments = args.python_requires or project_requires_python, tuple(args.environment)
    python_key = "--python-requires" if args.python_requires else "project.requires-python (-r)"
    environments_key = "--environment"
    if args.scenario is not None:
        from .sources.scenario import load_scenario

        scenario = load_scenario(args.scenario, strict=getattr(args, "strict", None), packages=repository is None)
        if not requires_python and scenario.requires_python:
            requires_python, python_key = scenario.requires_python, f"{args.scenario}: root.requires_python"
        if not environments and scenario.environments:
            environments = scenario.environments
            environments_key = f"{args.scenario}: resolver_options.required_environments"
    targets = []
    if args.target:
        from .lockfile.targets import check_unique_names, load_target_file

        loaded = [load_target_file(path) for path in args.target]
        check_unique_names(loaded)
        targets = [(t.name, t.target) for t in loaded]
    result = resolve_universal(
        problem, _strategy(args), requires_python=requires_python, environments=environments, targets=targets,
        requires_python_key=python_key, environments_key=environments_key,
    )
    if repository is not None:
        from dataclasses import replace

        result = replace(result, stats={**result.stats, "http": dict(repository.counters)})
    for line in gap_summary(result):
        logging.getLogger("varsolve").warning("%s", line)
    if args.format == "json":
        sys.stdout.write(result.to_json())
    else:
        sys.stdout.write(result.to_text() + "\n")
    if not result.satisfiable or not result.valid:
        return EXIT_NO_SOLUTION
    return EXIT_OK if not result.violations else EXIT_INCONSISTENT


def gap_summary(result: UniversalResolution) -> list[str]:
    """One line per package with no installable file somewhere, not one per environment."""
    where: dict[str, list[str]] = {}
    for _, environment, gap in result.gaps:
        where.setdefault(gap.message, []).append(environment)
    return [
        f"{message} in {len(envs)} environment{'s' if len(envs) > 1 else ''} checked (e.g. {envs[0]});"
        " installing there needs a build or fails, as with uv lock"
        for message, envs in sorted(where.items())
    ]


def _write_pinned(args: argparse.Namespace, problem: Problem, resolution: Resolution) -> None:
    """``resolve -o FILE``: pinned requirements with a header saying how they were made."""
    import shlex

    from .atomic_write import write_text_atomically
    from .requirements_file import format_pinned, pinned_requirements, redact_url_credentials

    command = redact_url_credentials(shlex.join(["varsolve", *getattr(args, "command_line", ["resolve"])]))
    header = [f"This file was written by varsolve {__version__} (strategy {resolution.strategy}) with:", f"   {command}"]
    header += [f"unified: {feature} = {value}" for feature, value in sorted(resolution.unified.items())]
    header += [f"violation: {violation}" for violation in resolution.violations]
    write_text_atomically(args.output, format_pinned(pinned_requirements(resolution, problem.repository), header=header))


def cmd_scenario_check(args: argparse.Namespace) -> int:
    import json

    from .scenario_check import run_checks
    from .strategies import available

    strategies: list[str] = list(args.strategy or available())
    for name in strategies:
        from .strategies import get_strategy

        get_strategy(name)
    results = run_checks(args.paths, strategies, strict=args.strict)
    passed = sum(r.status == "pass" for r in results)
    failed = sum(r.status == "fail" for r in results)
    skipped = sum(r.status == "skip" for r in results)
    summary = f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
    if args.format == "json":
        report = {"results": [r.to_json_dict() for r in results], "passed": passed, "failed": failed, "skipped": skipped}
        print(json.dumps(report, indent=2))
    else:
        for r in results:
            if r.status == "fail":
                print(f"FAIL {r.path} [{r.strategy}]")
                for problem in r.problems:
                    print(f"     {problem}")
            elif getattr(args, "verbose", 0):
                print(f"{r.status.upper()} {r.path} [{r.strategy}]")
        print(summary)
    return 0 if failed == 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    process = argv is None  # the console script or python -m: the whole process is this command
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    args.command_line = argv  # for headers of written files
    args.whole_process = process
    logger = logging.getLogger("varsolve")
    # Restored on return, so that main() called in-process (tests, notebooks) leaves logging as it found it.
    saved = (logger.handlers[:], logger.level, logger.propagate)
    verbose = int(getattr(args, "verbose", 0) or 0)
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    quiet = bool(getattr(args, "quiet", False) or getattr(args, "compare_quiet", False))
    # -q silences the handler, not the logger: a command may still listen to warnings (lock).
    logger.handlers[:] = [_OneLineHandler(logging.ERROR if quiet else level)]
    logger.setLevel(level)
    logger.propagate = False
    try:
        code = _run(parser, args)
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    if process:
        _end_process(code)
    return code


def _end_process(code: int) -> None:
    """The command is over (its files written, atomically) and the process about to end.

    Prefetch threads may still be fetching what the search never asked for: tearing the
    interpreter down around such a daemon thread can crash it (seen about once in 30 warm index
    runs), and waiting for it costs a third of a second of a cold run. So with other threads
    alive the process ends here, its output flushed, without the interpreter's teardown (as
    ``os._exit`` is meant for). Otherwise what the command built is never collected again, so the
    exit's collections need not look at it (about 10 ms of a small resolve's 100).
    """
    if threading.active_count() > 1 and sys.getprofile() is None and sys.gettrace() is None:
        # (A profiler or coverage tool writes its report in the teardown: then it happens.)
        import os

        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe: nothing more can be said there
                pass
        os._exit(code)
    import gc

    gc.freeze()


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .errors import VarsolveError

    try:
        if args.command == "resolve":
            return cmd_resolve(args)
        if args.command == "scenario" and args.scenario_command == "check":
            return cmd_scenario_check(args)
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is not None:
            return handler(args)
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
