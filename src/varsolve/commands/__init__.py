"""CLI commands beyond resolve and scenario check; each module has add_parser(subparsers)."""
