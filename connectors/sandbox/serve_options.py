"""The options of ``sandbox serve``, apart from the simulators so a CLI can offer them cheaply."""

from __future__ import annotations

import argparse

from connectors.sandbox.sizes import Size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=7, help="organisation seed (default 7)")
    parser.add_argument("--size", choices=[s.value for s in Size], default=Size.SMALL.value)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--scenario", help="fault scenario file (.toml or .json)")
    parser.add_argument(
        "--fixed-clock",
        action="store_true",
        help="date the organisation from the seed (repeatable responses) instead of "
        "ending its history now",
    )
