"""``varsolve install pylock.toml``: install a lock into an interpreter's environment."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("install", help="install a pylock.toml, selecting variant wheels (PEP 825)")
    p.add_argument("lock", metavar="PYLOCK", help="the lock file")
    p.add_argument("--python", metavar="PATH", help="interpreter whose environment to install into (default: the active venv)")
    p.add_argument(
        "--variants", metavar="FILE",
        help="what this machine supports: a static provider file or a --target file of varsolve lock",
    )
    p.add_argument("--dry-run", action="store_true", help="select and verify, but install nothing")
    from .options import add_provider_arguments

    add_provider_arguments(p)  # --detect, --allow-provider: this machine is the target of an install
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..lockfile.api import install_lock
    from .options import provider_policy_from_args

    policy = provider_policy_from_args(args)
    for line in install_lock(
        Path(args.lock), python=args.python, variants_file=args.variants, dry_run=args.dry_run, provider_policy=policy
    ):
        print(line)
    return 0
