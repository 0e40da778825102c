"""``varsolve install pylock.toml``: install a lock into an interpreter's environment."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("install", help="install a pylock.toml, selecting variant wheels (PEP 825)")
    p.add_argument("lock", metavar="PYLOCK", nargs="?", help="the lock file")
    p.add_argument("--python", metavar="PATH", help="interpreter whose environment to install into (default: the active venv)")
    p.add_argument(
        "--variants", metavar="FILE",
        help="what this machine supports: a static provider file or a --target file of varsolve lock",
    )
    p.add_argument("--dry-run", action="store_true", help="select and verify, but install nothing")
    p.add_argument(
        "--recover", action="store_true",
        help="only roll back (or finish) an interrupted install of the environment, from its journal; no PYLOCK",
    )
    from .options import add_provider_arguments

    add_provider_arguments(p)  # --detect, --allow-provider: this machine is the target of an install
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import logging

    from ..errors import InputError
    from ..lockfile import journal
    from ..lockfile.api import install_lock
    from ..lockfile.interpreter import environment_prefix
    from .options import provider_policy_from_args

    log = logging.getLogger("varsolve")
    log.info("installing %s", args.lock if args.lock is not None else "nothing (recovery only)")
    if args.recover and args.lock is not None:
        raise InputError("--recover takes no PYLOCK (it only repairs the environment; install the lock afterwards)")
    if args.lock is None and not args.recover:
        raise InputError("install: a PYLOCK file is required (or --recover)")
    # An interrupted install is rolled back (or finished) before anything else reads the environment.
    prefix = environment_prefix(args.python)
    if journal.pending(prefix):
        if args.dry_run:
            log.warning("an interrupted install of %s is pending; the next varsolve install (or --recover) repairs it", prefix)
        else:
            with journal.environment_lock(prefix):
                done = journal.recover(prefix)
            if done and args.recover:
                print(done)
                return 0
            if done:
                log.warning("%s", done)
    if args.recover:
        print(f"nothing to recover in {prefix}")
        return 0
    policy = provider_policy_from_args(args)
    for line in install_lock(
        Path(args.lock), python=args.python, variants_file=args.variants, dry_run=args.dry_run, provider_policy=policy
    ):
        print(line)
    return 0
