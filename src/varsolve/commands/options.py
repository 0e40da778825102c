"""Command-line options shared by several commands, and what they turn into: the only place
below :mod:`varsolve.cli` that knows argparse.

* the problem: requirements, ``--scenario``, the target, resolver policies
  (:func:`add_problem_arguments`, :func:`apply_policy_arguments`);
* package sources: ``--index-url``, ``--find-links``, cache and network settings
  (:func:`add_source_arguments`, :func:`source_settings_from_args`);
* variant providers: ``--detect``, ``--allow-provider``, ``--plugin-timeout``
  (:func:`add_provider_arguments`, :func:`provider_policy_from_args`).

The ``*_from_args`` functions read options with ``getattr`` defaults, so a command that has
only some of them gets the defaults for the rest.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..sources.settings import INDEX_STRATEGIES, INDEX_URL_VARIABLES, SourceSettings, index_url_from_environment
from ..target import ProviderPolicy

if TYPE_CHECKING:
    from ..problem import Problem, ResolverOptions
    from ..requirements_file import RequirementsFile


# -- the problem --------------------------------------------------------------------------------


def add_problem_arguments(p: argparse.ArgumentParser) -> None:
    """Requirements, ``--scenario``, the target, provider options and resolver policies."""
    p.add_argument("requirements", nargs="*", metavar="REQ", help="requirements (replace the scenario's root)")
    p.add_argument(
        "-r", "--requirement", action="append", default=[], metavar="FILE",
        help="read requirements from FILE: a pip requirements file (with -r, -c, --index-url, --find-links, "
        "--only-binary, --pre lines) or a pyproject.toml",
    )
    p.add_argument(
        "-c", "--constraint", action="append", default=[], metavar="FILE",
        help="limit the versions of required packages to FILE's constraints (does not add packages)",
    )
    p.add_argument("--extra", action="append", default=[], metavar="NAME", help="an extra of -r pyproject.toml (repeatable)")
    p.add_argument(
        "--group", action="append", default=[], metavar="NAME",
        help="a dependency group (PEP 735) of -r pyproject.toml (repeatable)",
    )
    p.add_argument("--scenario", metavar="FILE", help="a scenario file (packages, target, options)")
    p.add_argument("--strict", action="store_true", default=None,
                   help="a scenario's missing packages and dependency cycles are input errors")
    p.add_argument(
        "--python", metavar="X.Y[.Z]", type=_python_version,
        help="target Python version (X.Y means X.Y.0; default: the scenario's, else this interpreter's)",
    )
    p.add_argument(
        "--python-platform", metavar="NAME", type=_platform_name,
        help="target platform, by uv's names: linux, macos, windows, x86_64-manylinux_2_28, "
        "aarch64-unknown-linux-gnu, x86_64-unknown-linux-musl, aarch64-apple-darwin, x86_64-pc-windows-msvc, ... "
        "(default: the scenario's, else this machine's; docs/index.md)",
    )
    p.add_argument("--variants", metavar="FILE", help="static provider file: what the target supports")
    p.add_argument("--unify", action="append", default=[], metavar="FEATURE", help="a feature that must take one value")
    p.add_argument("--enable", action="append", default=[], metavar="NAMESPACE", help="switch on an optional provider")
    add_provider_arguments(p)
    # Where packse, uv and pip differ; default: the scenario's value, else packse (docs/scenario-format.md).
    p.add_argument(
        "--policy", choices=["packse", "uv", "pip"],
        help="pre-release, yanked and Requires-Python policies as one installer has them: packse (the packse "
        "scenarios' expectations; default), uv (uv 0.13.9) or pip (pip 26.3); the three flags below override it",
    )
    p.add_argument("--prerelease-policy", choices=["packse", "pip", "uv"], help="when pre-releases may be used")
    p.add_argument("--yanked-policy", choices=["packse", "pip", "never"], help="when yanked releases may be used")
    p.add_argument("--requires-python-policy", choices=["packse", "pip"], help="packse: check only lower bounds")
    add_format_arguments(p)


class _FormatControl(argparse.Action):
    """``--no-build``, ``--only-binary``, ``--no-binary`` in the order given (pip's rules: a later
    one wins, ``:all:`` and ``:none:`` reset), kept as ``(option, value)`` in ``format_control``."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object, option_string: str | None = None
    ) -> None:
        entries = list(getattr(namespace, "format_control", None) or [])
        if self.dest == "no_build":
            entries.append(("only_binary", ":all:"))
            namespace.no_build = True
        else:
            entries += [(self.dest, value.strip()) for value in str(values).split(",") if value.strip()]
        namespace.format_control = entries


def add_universal_arguments(p: argparse.ArgumentParser, *, target_option: bool) -> None:
    """``--universal`` and what shapes its universe (``resolve`` and ``lock``)."""
    p.add_argument(
        "--universal", action="store_true",
        help="resolve for every environment requires-python allows, forking on markers as uv lock does "
        "(one result, a marker on every package that is not installed everywhere)",
    )
    p.add_argument(
        "--python-requires", "--requires-python", dest="python_requires", metavar="SPEC",
        help="with --universal: the Pythons to serve (default: -r pyproject.toml's requires-python, "
        "a scenario's root requires_python, else >= the target's X.Y)",
    )
    p.add_argument(
        "--environment", action="append", default=[], metavar="MARKER",
        help="with --universal: an environment the result must serve (a PEP 508 marker, e.g. "
        "\"sys_platform == 'linux'\"); repeatable; default: every environment",
    )
    if target_option:
        p.add_argument(
            "--target", action="append", default=[], metavar="FILE",
            help="with --universal: a variant target (a target file's supported variant properties: a CUDA "
            "machine, a CPU-only one); repeatable; each is resolved over the whole universe",
        )


def check_universal_arguments(args: argparse.Namespace) -> None:
    """``--python-requires`` and ``--environment`` only mean something with ``--universal``."""
    from ..errors import InputError

    if not args.universal and getattr(args, "scenario", None) is not None:
        from ..sources.scenario import load_scenario

        # A scenario that asks for universal resolution gets it without the flag.
        args.universal = load_scenario(args.scenario, strict=getattr(args, "strict", None), packages=False).universal
    if args.universal:
        if getattr(args, "python_platform", None):
            raise InputError("--python-platform: a universal resolution serves every platform; drop one of them")
        return
    for flag, value in (("--python-requires", args.python_requires), ("--environment", args.environment)):
        if value:
            raise InputError(f"{flag}: only with --universal")


def add_format_arguments(p: argparse.ArgumentParser) -> None:
    """Which distributions may be used: ``--no-build``, ``--only-binary``, ``--no-binary`` (as pip's)."""
    g = p.add_argument_group("wheels and sdists (as pip's options)")
    g.add_argument(
        "--no-build", nargs=0, action=_FormatControl, default=False,
        help="never use sdists, hence never build one (= --only-binary :all:)",
    )
    g.add_argument(
        "--only-binary", action=_FormatControl, metavar="PKG|:all:|:none:",
        help="use only wheels of these packages (comma-separated, repeatable); sdists of the others are "
        "built when their metadata is dynamic",
    )
    g.add_argument(
        "--no-binary", action=_FormatControl, metavar="PKG|:all:|:none:",
        help="use no wheels of these packages (comma-separated, repeatable): only their sdists",
    )


def apply_format_arguments(options: ResolverOptions, args: argparse.Namespace) -> ResolverOptions:
    """``options`` with the ``--no-build`` / ``--only-binary`` / ``--no-binary`` given, applied in
    order on top of its ``no_build`` and ``no_binary`` (pip's ``FormatControl`` rules)."""
    from packaging.utils import canonicalize_name

    entries = getattr(args, "format_control", None) or []
    if not entries:
        return options
    no_build, no_binary = set(options.no_build), set(options.no_binary)
    for option, value in entries:
        target, other = (no_build, no_binary) if option == "only_binary" else (no_binary, no_build)
        if value == ":all:":
            target.clear()
            other.clear()
            target.add(":all:")
        elif value == ":none:":
            target.clear()
        else:
            name = canonicalize_name(value)
            other.discard(name)
            target.add(name)
    return replace(options, no_build=frozenset(no_build), no_binary=frozenset(no_binary))


def _python_version(text: str) -> str:
    """``--python``: X.Y or X.Y.Z, checked while parsing (an error is one line naming the option)."""
    from ..errors import InputError
    from ..target import parse_python

    try:
        parse_python(text, where="")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _platform_name(text: str) -> str:
    """``--python-platform``: a name :func:`varsolve.target.platform_named` knows."""
    from ..errors import InputError
    from ..target import platform_named

    try:
        platform_named(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def apply_target_arguments(problem: Problem, args: argparse.Namespace) -> Problem:
    """``problem`` on the ``--python-platform`` given (``--python`` is applied while the
    problem is built); then, unless ``-q``, the target on stderr when no scenario or target file
    chose it: ``varsolve: resolving for CPython 3.11.7 on x86_64-manylinux_2_36 (this
    interpreter)``."""
    import sys

    from ..errors import InputError

    platform = getattr(args, "python_platform", None)
    target_files = getattr(args, "target", None)
    if platform is not None:
        if target_files:
            raise InputError("--target files describe each target; --python-platform applies only without --target")
        problem = replace(problem, target=problem.target.with_platform(platform, where="--python-platform"))
    universal = getattr(args, "universal", False)
    if getattr(args, "scenario", None) is None and not target_files and not universal and not getattr(args, "quiet", False):
        python = getattr(args, "python", None)
        parts = (("this interpreter's Python", python), ("this machine's platform", platform))
        host = [part for part, given in parts if given is None]
        origin = " (this interpreter)" if len(host) == 2 else "".join(f" ({part})" for part in host)
        verb = "locking" if getattr(args, "command", None) == "lock" else "resolving"
        target = problem.target
        print(f"varsolve: {verb} for CPython {target.python} on {target.platform.name}{origin}", file=sys.stderr)
    return problem


def apply_policy_arguments(problem: Problem, args: argparse.Namespace) -> Problem:
    """``problem`` with the target options (:func:`apply_target_arguments`), the provider
    policy and the policy flags of :func:`add_problem_arguments` that were given."""
    problem = apply_target_arguments(problem, args)
    problem = replace(problem, target=replace(problem.target, provider_policy=provider_policy_from_args(args)))
    preset = getattr(args, "policy", None)
    if preset is not None:
        problem = replace(problem, options=problem.options.policy_preset(preset))
    given = {
        field: value
        for field, value in (
            ("prerelease_policy", getattr(args, "prerelease_policy", None)),
            ("yanked", getattr(args, "yanked_policy", None)),
            ("requires_python_policy", getattr(args, "requires_python_policy", None)),
        )
        if value is not None
    }
    options = apply_format_arguments(replace(problem.options, **given), args)
    return problem if options == problem.options else replace(problem, options=options)


def read_requirement_arguments(args: argparse.Namespace) -> RequirementsFile:
    """The ``-r``, ``-c``, ``--extra`` and ``--group`` inputs, read and merged; the options
    found in the files are applied to ``args`` as if given on the command line (the command
    line's ``--index-url`` wins; further indexes and find-links are added after its own)."""
    from ..requirements_file import read_inputs

    inputs = read_inputs(
        _as_list(getattr(args, "requirement", None)),
        _as_list(getattr(args, "constraint", None)),
        extras=_as_list(getattr(args, "extra", None)),
        groups=_as_list(getattr(args, "group", None)),
    )
    if inputs.index_url is not None and getattr(args, "index_url", None) is None:
        args.index_url = inputs.index_url
    if inputs.extra_index_urls:
        given = _as_list(getattr(args, "extra_index_url", None))
        args.extra_index_url = given + [u for u in inputs.extra_index_urls if u not in given]
    if inputs.find_links:
        given = _as_list(getattr(args, "find_links", None))
        args.find_links = given + [f for f in inputs.find_links if f not in given]
    return inputs


def apply_requirement_options(problem: Problem, inputs: RequirementsFile, *, single_target: bool = True) -> Problem:
    """``problem`` with what the requirement files ask for besides requirements:
    ``--only-binary`` (no sdists for those names), ``--pre`` and the constraints (see
    :func:`varsolve.constraints.constrain`)."""
    from ..constraints import constrain

    options = problem.options
    if inputs.only_binary:
        options = replace(options, no_build=options.no_build | inputs.only_binary)
    if inputs.pre:
        options = replace(options, prereleases=True)
    if options is not problem.options:
        problem = replace(problem, options=options)
    return constrain(problem, inputs.constraints, single_target=single_target)


# -- package sources ----------------------------------------------------------------------------


def add_source_arguments(p: argparse.ArgumentParser) -> None:
    """``--index-url``, ``--extra-index-url``, ``--find-links``, the cache and the network."""
    defaults = SourceSettings()
    g = p.add_argument_group("package sources")
    g.add_argument(
        "--index-url", metavar="URL",
        help=f"a simple index (PEP 503/691), e.g. https://pypi.org/simple/; default: ${' / $'.join(INDEX_URL_VARIABLES)}",
    )
    g.add_argument(
        "--extra-index-url", action="append", default=[], metavar="URL",
        help="a further index, asked after --index-url (repeatable; see --index-strategy)",
    )
    g.add_argument(
        "--find-links", action="append", default=[], metavar="DIR",
        help="a folder of wheels, sdists and *-variants.json, asked after the indexes (repeatable)",
    )
    g.add_argument(
        "--cache-dir", metavar="DIR",
        help="HTTP and metadata cache (default: $VARSOLVE_CACHE_DIR, else $XDG_CACHE_HOME/varsolve, i.e. ~/.cache/varsolve)",
    )
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    g.add_argument(
        "--refresh", action="store_true",
        help="revalidate every cached page and metadata with the index (files whose hash the index gives are kept)",
    )
    g.add_argument(
        "--refresh-package", action="append", default=[], metavar="PKG",
        help="revalidate the cached pages and metadata of PKG only (repeatable)",
    )
    g.add_argument(
        "--offline", action="store_true",
        help="no network access: use only the cache, stale or not; what it lacks is an error",
    )
    worst = (defaults.retries + 1) * defaults.timeout + sum(defaults.backoff * 2**i for i in range(defaults.retries))
    g.add_argument(
        "--timeout", type=float, default=defaults.timeout, metavar="SECONDS",
        help=f"the time one request may take, from its start to its last byte (default: {defaults.timeout:g}); every "
        f"byte received adds time, so a large file arriving at {defaults.limits.min_rate // 1024} KiB/s or faster is "
        "never cut off",
    )
    g.add_argument(
        "--retries", type=int, default=defaults.retries, metavar="N",
        help=f"retries on connection errors, timeouts, 429 and 5xx (default: {defaults.retries}; with the defaults a "
        f"server that never answers is given up after about {worst:.0f} s)",
    )
    g.add_argument(
        "--index-strategy", choices=INDEX_STRATEGIES, default=defaults.index_strategy,
        help="first-index (default, as uv): a package comes only from the first source that lists it, so another "
        "index cannot slip in a higher version; unsafe-best-match: every version of every source counts (pip's "
        "behaviour), a version that several list comes from the first of them",
    )
    g.add_argument(
        "--build-timeout", type=float, default=defaults.build_timeout, metavar="SECONDS",
        help="time an sdist's build backend may take to give its metadata; the sdist is rejected after "
        f"(default: {defaults.build_timeout:g})",
    )


def source_settings_from_args(args: argparse.Namespace, *, environment: bool = True) -> SourceSettings:
    """The sources the options of :func:`add_source_arguments` name, with a progress line on
    stderr unless ``-q``.

    The index is ``--index-url``, else (``environment``, and no ``--scenario``, whose
    packages are then the source) the first of :data:`INDEX_URL_VARIABLES` that is set;
    then every ``--extra-index-url``.
    """
    from ..reporter import TerminalReporter

    defaults = SourceSettings()
    urls: list[str] = []
    primary = getattr(args, "index_url", None)
    if primary is None and environment and getattr(args, "scenario", None) is None:
        primary = index_url_from_environment()
    if primary and primary.strip():
        urls.append(primary.strip())
    urls += [u.strip() for u in _as_list(getattr(args, "extra_index_url", None)) if u.strip()]
    return SourceSettings(
        index_urls=tuple(urls),
        find_links=tuple(_as_list(getattr(args, "find_links", None))),
        cache_dir=getattr(args, "cache_dir", None),
        no_cache=bool(getattr(args, "no_cache", False)),
        refresh=bool(getattr(args, "refresh", False)),
        refresh_packages=frozenset(_as_list(getattr(args, "refresh_package", None))),
        offline=bool(getattr(args, "offline", False)),
        timeout=_network_timeout(args, defaults.timeout),
        retries=_retries(args, defaults.retries),
        index_strategy=getattr(args, "index_strategy", defaults.index_strategy),
        builds=not getattr(args, "no_build", False),
        build_timeout=_build_timeout(args, defaults.build_timeout),
        reporter=TerminalReporter.for_stderr(quiet=bool(getattr(args, "quiet", False))),
        tune_process=bool(getattr(args, "whole_process", False)),
    )


def _network_timeout(args: argparse.Namespace, default: float) -> float:
    from ..errors import InputError

    value = getattr(args, "timeout", default)
    if not value > 0 or value == float("inf"):
        raise InputError("--timeout: must be a positive number of seconds")
    return float(value)


def _build_timeout(args: argparse.Namespace, default: float) -> float:
    from ..errors import InputError

    value = getattr(args, "build_timeout", default)
    if not 0 < value < float("inf"):  # nan and inf too: a timeout is a finite number
        raise InputError(f"--build-timeout: must be a positive number of seconds, not {value:g}")
    return float(value)


def _retries(args: argparse.Namespace, default: int) -> int:
    from ..errors import InputError

    value = getattr(args, "retries", default)
    if value < 0:
        raise InputError(f"--retries: must be 0 or more, not {value}")
    return int(value)


# -- variant providers --------------------------------------------------------------------------


def add_provider_arguments(parser: argparse.ArgumentParser) -> None:
    """``--detect``, ``--allow-provider``, ``--plugin-timeout`` (see docs/providers.md)."""
    group = parser.add_argument_group("variant providers (see docs/providers.md)")
    group.add_argument(
        "--detect", action="store_true",
        help="the target is this machine: run varsolve's own x86_64, aarch64 and nvidia detectors",
    )
    group.add_argument(
        "--allow-provider", action="append", default=[], metavar="NAME",
        help="let the provider plugin distribution NAME be installed and run (repeatable)",
    )
    group.add_argument(
        "--allow-project-providers", action="store_true",
        help="also allow the plugins that allow-providers in [tool.varsolve] of ./pyproject.toml names "
        "(a project's file cannot switch plugins on by itself: a cloned repository is not trusted)",
    )
    group.add_argument(
        "--plugin-timeout", type=float, default=ProviderPolicy.timeout, metavar="SECONDS",
        help=f"time a plugin's get_supported_configs() may take (default: {ProviderPolicy.timeout:g})",
    )


def provider_policy_from_args(args: argparse.Namespace, pyproject: str | Path = "pyproject.toml") -> ProviderPolicy:
    """The policy the command line asks for, with the allow-list of ``[tool.varsolve]`` in
    ``pyproject`` when ``--allow-project-providers`` says so (one line on stderr then names
    the file and what it allowed). Plugins install from the same places the packages come from,
    when the command has source options."""
    import logging

    from ..errors import InputError
    from ..providers.policy import allow_list_from_pyproject, normalize_names

    timeout = getattr(args, "plugin_timeout", ProviderPolicy.timeout)
    if not 0 < timeout < float("inf"):  # nan and inf too: a timeout is a finite number
        raise InputError(f"--plugin-timeout: must be a positive number of seconds, not {timeout:g}")
    allow = normalize_names(getattr(args, "allow_provider", []) or [], "--allow-provider")
    if getattr(args, "allow_project_providers", False):
        project = allow_list_from_pyproject(pyproject)
        if project - allow:
            logging.getLogger("varsolve").warning(
                "provider plugins allowed by %s ([tool.varsolve] allow-providers, with --allow-project-providers): %s",
                Path(pyproject).resolve(), ", ".join(sorted(project - allow)),
            )
        allow |= project
    index_urls = _as_list(getattr(args, "index_url", None))
    return ProviderPolicy(
        detect=bool(getattr(args, "detect", False)),
        allow=allow,
        find_links=tuple(_as_list(getattr(args, "find_links", None))),
        index_url=index_urls[0] if index_urls else None,
        extra_index_urls=tuple(index_urls[1:] + _as_list(getattr(args, "extra_index_url", None))),
        timeout=timeout,
    )


def _as_list(value: object) -> list[str]:
    """An option's value, whether the option takes one value or is repeatable."""
    if value is None:
        return []
    if isinstance(value, (str, Path)):
        return [str(value)]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    raise TypeError(f"not an option value: {value!r}")
