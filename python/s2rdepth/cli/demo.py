"""``s2rdepth demo [--quick] [--out DIR] [--seeds 0,1,2]``: synthetic-to-real depth end to end.

Renders the built-in synthetic domains, trains the papers' ablation rows at the ``tiny`` preset,
evaluates them on the real-styled test split with the KITTI protocol, prints the table beside
the published rows, writes ``results.json`` / ``results.md`` / figures, exports the best model
and predicts a test image through the export. See :mod:`s2rdepth.demo`.
"""
from __future__ import annotations

import argparse

from ._types import int_at_least


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds must be comma-separated integers, got {text!r}") from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"seeds must be distinct non-negative integers, got {text!r}")
    return seeds


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="train on synthetic scenes, test on real-styled ones, print the papers' table (CPU, minutes)",
        description="Generate virtual / painting / real-styled domains, train S2R-DepthNet stages 1-3, its DP-only "
                    "baseline, DA-Monodepth and its depth-only baseline at the tiny preset, evaluate them with the "
                    "KITTI protocol on the real-styled test split, and export the best model.",
        epilog="Outputs: OUT/results.json, results.md, figures/, export/, prediction/, runs/seed<S>/<run>/config.yaml "
               "(s2rdepth train THAT_FILE --out NEW repeats a row), eval/seed<S>/<run>.json.")
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--quick", action="store_true", help="fewer frames and steps (a few minutes on 2 cores); "
                                                        "= --profile quick")
    p.add_argument("--profile", choices=("full", "quick", "long"), default=None,
                   help="full (default, ~8 min on 2 cores), quick, or long (4.4x the steps, ~30 min per seed)")
    p.add_argument("--seeds", type=_seeds, default=[0], metavar="S[,S...]",
                   help="training seeds, e.g. 0,1,2 for mean ± std (default: 0)")
    p.add_argument("--data-seed", type=int_at_least(0, "data seed"), default=0, help="scene generator seed (default 0)")
    p.add_argument("--jobs", type=int_at_least(1, "jobs"), default=None,
                   help="trainings at once (default: 2 with 2+ CPU cores)")
    p.add_argument("--threads", type=int_at_least(1, "threads"), default=None,
                   help="torch threads per training (default: cores / jobs)")
    p.add_argument("--quiet", action="store_true", help="no progress bars; print only the final table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..demo import TrainingFailed, run_demo
    from . import CommandError

    try:
        if args.quick and args.profile not in (None, "quick"):
            raise ValueError(f"--quick contradicts --profile {args.profile}")
        result = run_demo(args.out, quick=args.quick, profile=args.profile, seeds=args.seeds,
                          data_seed=args.data_seed, jobs=args.jobs,
                          threads=args.threads, show=not args.quiet)
    except TrainingFailed as exc:
        print(f"s2rdepth demo: error: {exc}", flush=True)
        return 1
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if args.quiet:
        print(result["table_markdown"])
    return 0
