"""``varsolve index build|serve``: turn a scenario into a real package index and serve it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("index", help="build and serve real package indexes from scenarios")
    sub = p.add_subparsers(dest="index_command", metavar="SUBCOMMAND", parser_class=type(p))
    p.set_defaults(handler=_usage(p))

    b = sub.add_parser("build", help="build a static simple index (PEP 503/691) of a scenario's packages")
    b.add_argument("scenario", metavar="SCENARIO", help="a scenario file")
    b.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory (replaced if it is an index)")
    b.add_argument("--no-metadata-files", action="store_true", help="omit PEP 658 .metadata files (like a plain index)")
    b.add_argument("--html-only", action="store_true", help="omit the PEP 691 JSON pages")
    b.set_defaults(handler=cmd_build)

    s = sub.add_parser("serve", help="serve a built index over HTTP (content negotiation, Range, ETag)")
    s.add_argument("directory", metavar="DIR", help="a directory built by 'varsolve index build'")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    s.add_argument(
        "--fault", action="append", default=[], metavar="SPEC",
        help="inject a fault, KIND[=VALUE][:TIMES][@PATH-GLOB] (see docs/index.md); repeatable",
    )
    s.add_argument("--html-only", action="store_true", help="never answer with JSON (like a plain static server)")
    s.add_argument("-v", "--verbose", action="store_true", help="log every request on stderr")
    s.set_defaults(handler=cmd_serve)


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return handler


def cmd_build(args: argparse.Namespace) -> int:
    from ..index.builder import build_index

    contents = build_index(
        args.scenario, args.output, metadata_files=not args.no_metadata_files, json_pages=not args.html_only
    )
    if not args.quiet:
        dists = sum(1 for path in contents.files if path.startswith("files/") and not path.endswith((".metadata", ".json")))
        print(f"varsolve: built {args.output}: {len(contents.projects)} projects, {dists} distributions", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ..index.server import IndexServer, parse_fault

    faults = [parse_fault(spec) for spec in args.fault]
    server = IndexServer(
        args.directory, host=args.host, port=args.port, faults=faults, html_only=args.html_only, verbose=args.verbose
    )
    print(f"varsolve: serving {args.directory} at {server.url}simple/ (Ctrl-C stops)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0
