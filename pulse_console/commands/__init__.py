"""CLI command groups, each with `register(subparsers, common)`."""
