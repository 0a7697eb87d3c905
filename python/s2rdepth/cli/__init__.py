"""The ``s2rdepth`` command line: one thin module per subcommand.

Each module listed in :data:`COMMANDS` defines ``register(subparsers)``, which adds its parser
and sets ``func`` to a callable taking the parsed ``argparse.Namespace`` and returning an exit
code. Heavy imports stay inside those callables so ``s2rdepth --help`` starts fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from .._version import __version__

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS: list[str] = ["info", "demo", "prepare_kitti_gt", "synth", "train", "evaluate", "compare", "visualize",
                       "predict", "export"]


class CommandError(Exception):
    """A user-facing error: printed as ``s2rdepth <cmd>: error: <message>``, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s2rdepth",
        description="Synthetic-to-real monocular depth: S2R-DepthNet and DA-Monodepth.",
    )
    parser.add_argument("--version", action="version", version=f"s2rdepth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"s2rdepth {args.command}: error: {exc}", file=sys.stderr)
        return 2
