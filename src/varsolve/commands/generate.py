"""``varsolve generate FAMILY --out DIR [KNOB=VALUE ...] [--seed N]``: scenario families for studies.

Families live in :data:`varsolve.generate.FAMILIES`; each is a function (or a module with one
named ``generate``) ``generate(*, seed, **knobs) -> str`` returning scenario TOML. Its keyword
parameters are its knobs: their defaults and types come from the signature, so a family needs
no CLI code of its own. ``KNOB=1,2,4`` sweeps a knob; several swept knobs give their product.
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Family = Callable[..., str]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "generate",
        help="write generated scenario families (layered, adversarial, ecosystem) for studies",
        description=(
            "Write scenarios of a generated family into DIR. Knobs are KNOB=VALUE (see --list); "
            "KNOB=V1,V2,... sweeps a knob, and several swept knobs give every combination."
        ),
    )
    p.add_argument("family", nargs="?", metavar="FAMILY", help="family name (see --list)")
    p.add_argument("knobs", nargs="*", metavar="KNOB=VALUE", help="family parameters")
    p.add_argument("--out", metavar="DIR", help="directory to write the scenarios into")
    p.add_argument("--seed", default="0", metavar="N", help="random seed, or N1,N2,... / START..END (default 0)")
    p.add_argument("--list", action="store_true", help="list the families and their knobs")
    p.add_argument(
        "--marker-split", metavar="P",
        help="the knob marker_split=P (layered, ecosystem): probability that a dependency is written as "
        "two or three requirements under disjoint python_version/sys_platform markers; P1,P2,... sweeps",
    )
    p.add_argument(
        "--universal", action="store_true",
        help="the knob universal=true (layered, ecosystem): resolver_options.universal, root requires_python >=3.10",
    )
    p.set_defaults(handler=run)
    _allow_knobs_after_options(p)


def _allow_knobs_after_options(parser: argparse.ArgumentParser) -> None:
    """``generate ecosystem --out DIR leaves=5`` puts positionals on both sides of an option,
    which plain argparse rejects; its intermixed parsing accepts it but is not reachable through
    a subparser, so this parser switches to it (argparse has no public hook for that)."""
    base = type(parser)

    class _Intermixed(base):  # type: ignore[misc, valid-type]
        _inside = False

        def parse_known_args(
            self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
        ) -> tuple[argparse.Namespace, list[str]]:
            result: tuple[argparse.Namespace, list[str]]
            if self._inside:  # parse_known_intermixed_args calls back into this method
                result = super().parse_known_args(args, namespace)
                return result
            self._inside = True
            try:
                result = self.parse_known_intermixed_args(args, namespace)
                return result
            finally:
                self._inside = False

    parser.__class__ = _Intermixed


def families() -> dict[str, Family]:
    """The registry: varsolve.generate.FAMILIES, plus the ecosystem family defined here."""
    from ..errors import InputError

    found: dict[str, Any] = {}
    try:
        from ..generate import FAMILIES
    except ImportError:
        FAMILIES = {}
    found.update(FAMILIES)
    if "ecosystem" not in found:
        from ..generate import ecosystem

        found["ecosystem"] = ecosystem
    out: dict[str, Family] = {}
    for name, entry in found.items():
        function = getattr(entry, "generate", entry)
        if not callable(function):
            raise InputError(f"family {name!r} has no generate function", where="varsolve.generate.FAMILIES")
        out[name] = function
    return dict(sorted(out.items()))


def knobs_of(function: Family) -> dict[str, Any]:
    """Keyword parameters with their defaults (``inspect.Parameter.empty`` when required)."""
    return {
        name: param.default
        for name, param in inspect.signature(function).parameters.items()
        if param.kind in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD) and name != "seed"
    }


def describe(function: Family) -> str:
    parts = []
    for name, default in knobs_of(function).items():
        parts.append(name if default is inspect.Parameter.empty else f"{name}={_format(default)}")
    return " ".join(parts)


def _format(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def parse_value(text: str, default: Any, where: str) -> Any:
    """A knob value with the type of its default (int, float, bool, str)."""
    from ..errors import InputError

    try:
        if isinstance(default, bool):
            lowered = text.lower()
            if lowered in ("true", "yes", "1", "on"):
                return True
            if lowered in ("false", "no", "0", "off"):
                return False
            raise ValueError
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        kind = "true or false" if isinstance(default, bool) else type(default).__name__
        raise InputError(f"expected {kind}, got {text!r}", where=where) from None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def parse_seeds(text: str) -> list[int]:
    from ..errors import InputError

    try:
        if ".." in text:
            start, end = text.split("..", 1)
            seeds = list(range(int(start), int(end) + 1))
        else:
            seeds = [int(s) for s in text.split(",")]
    except ValueError:
        raise InputError(f"expected N, N1,N2,... or START..END, got {text!r}", where="--seed") from None
    if not seeds:
        raise InputError(f"empty range {text!r}", where="--seed")
    return list(dict.fromkeys(seeds))


def plan(family: str, function: Family, knob_args: list[str], seeds: list[int]) -> list[tuple[str, dict[str, Any]]]:
    """(file name, keyword arguments) for every combination, in a fixed order."""
    from ..errors import InputError

    known = knobs_of(function)
    swept: dict[str, list[Any]] = {}
    for arg in knob_args:
        name, sep, value = arg.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise InputError(f"expected KNOB=VALUE, got {arg!r}", where=family)
        if name not in known:
            raise InputError(f"unknown knob {name!r} (knobs: {describe(function) or 'none'})", where=family)
        if name in swept:
            raise InputError(f"knob {name!r} given twice", where=family)
        default = known[name]
        swept[name] = [parse_value(v.strip(), default, f"{family}: {name}") for v in value.split(",")]
    names = list(swept)
    out = []
    for values in itertools.product(*(swept[n] for n in names)):
        for seed in seeds:
            kwargs = dict(zip(names, values, strict=True))
            stem = "-".join([family, *(f"{n.replace('_', '')}{_format(v)}" for n, v in kwargs.items()), f"seed{seed}"])
            out.append((f"{stem}.toml", {**kwargs, "seed": seed}))
    return out


def run(args: argparse.Namespace) -> int:
    from ..atomic_write import write_texts_atomically
    from ..compare.tasks import scenario_from_text
    from ..errors import InputError, VarsolveError

    registry = families()
    if args.list:
        width = max(map(len, registry))
        for name, function in registry.items():
            print(f"{name.ljust(width)}  {describe(function)}")
        return 0
    if not args.family:
        raise InputError("give a FAMILY (one of: " + ", ".join(registry) + ") or --list")
    if args.family not in registry:
        raise InputError(f"unknown family {args.family!r} (choose from {', '.join(registry)})")
    if not args.out:
        raise InputError("--out DIR is required")
    function = registry[args.family]
    knob_args = list(args.knobs)
    # Spellings of two knobs as options (varsolve.generate.universal); a family without them
    # rejects them as it rejects any unknown knob.
    if getattr(args, "marker_split", None) is not None:
        knob_args.append(f"marker_split={args.marker_split}")
    if getattr(args, "universal", False):
        knob_args.append("universal=true")
    jobs = plan(args.family, function, knob_args, parse_seeds(args.seed))
    texts = []
    for filename, kwargs in jobs:
        try:
            text = function(**kwargs)
        except VarsolveError:
            raise
        except (TypeError, ValueError) as exc:
            raise InputError(f"{exc}", where=args.family) from None
        # A generator must write what the loader reads; check before anything is written.
        scenario_from_text(text, f"{args.family} ({filename})")
        texts.append((filename, text))
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create directory: {exc.strerror}", where=str(out)) from None
    write_texts_atomically({out / filename: text for filename, text in texts})
    for filename, _ in texts:
        print(out / filename)
    if not getattr(args, "quiet", False):
        print(f"wrote {len(texts)} scenario{'s' if len(texts) != 1 else ''} to {out}", file=sys.stderr)
    return 0
