"""``s2rdepth train CONFIG [key=value ...] [--out DIR] [--resume] [--max-steps N]``.

Trains a configuration (see ``configs/`` and :mod:`s2rdepth.train.config`). Under ``torchrun
--nproc_per_node=N -m s2rdepth train CONFIG`` every process runs this command and joins the
process group (NCCL on GPUs, gloo on CPUs). Configuration problems (unknown key, wrong type,
missing or empty data root, missing previous-stage checkpoint) exit with status 2 before any
training step, naming the key or path.
"""
from __future__ import annotations

import argparse
import os
import sys

from . import CommandError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train S2R-DepthNet (stages 1-3, fine-tuning) or DA-Monodepth",
                       description="Train a YAML configuration; key=value arguments override its "
                                   "entries (e.g. train.batch_size=8 data.source.root=/data/vkitti).",
                       epilog="Give the key=value overrides before the options. Several GPUs or machines: "
                              "torchrun --nproc_per_node=N -m s2rdepth train CONFIG ... (train.batch_size "
                              "is per process). Outputs: OUT/config.yaml, train.log, tensorboard/, "
                              "checkpoints/, model.safetensors.")
    p.add_argument("config", help="YAML configuration (e.g. configs/s2r/vkitti_stage2.yaml, or a run's "
                                  "OUT/config.yaml to repeat it)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="configuration overrides (YAML values)")
    p.add_argument("--out", help="run folder (overrides the config's 'out')")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in the run folder")
    p.add_argument("--max-steps", type=int, metavar="N", help="stop after N steps in total")
    p.add_argument("--quiet", action="store_true", help="no progress bar or console messages (the log file "
                                                        "is still written)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..train import ConfigError, TrainingError, load_config, train

    overrides = list(args.overrides)
    if args.out:
        overrides.append(f"out={args.out}")
    try:
        cfg = load_config(args.config, overrides)
        if not cfg.out:
            raise ConfigError("config key 'out': no output folder; pass --out DIR")
        result = train(cfg, resume=args.resume, max_steps=args.max_steps, console=not args.quiet)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    except TrainingError as exc:
        print(f"s2rdepth train: error: {exc}", file=sys.stderr)
        return 1
    if not args.quiet and int(os.environ.get("RANK", "0")) == 0:
        print(f"model: {result.model}\ncheckpoint: {result.checkpoint}\nsteps: {result.step} "
              f"({result.steps_per_second:.3g} steps/s)")
    return 0
