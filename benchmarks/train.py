"""Training throughput per method: optimiser steps/s and images/s with the fused operators and,
in the same run, with the pure-PyTorch reference operators (the ratio is the ops' share).

    python -m benchmarks.train [--methods s2r_stage1,s2r_ste,...] [--preset tiny] [--size 64x224]
        [--batch 4] [--steps 30] [--threads N] [--device cpu|cuda] [--quick] [--json OUT]

Each method is the demo's run of that name (:data:`s2rdepth.demo.RUNS`: its shipped config with
the demo's overrides) on frames rendered by the built-in generator, trained by the real engine
(`s2rdepth.train.train`) for ``--steps`` steps; the rate excludes the first step (allocation,
lazy initialisation). ``reference`` patches the op wrappers so that AdaIN / instance norm, the
gradient reversal and the structure loss run as eager PyTorch compositions.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import torch

from ._timing import emit, machine

_PATCHED = ("s2rdepth.ops.adain", "s2rdepth.ops.grad_reverse", "s2rdepth.ops.structure_loss")


@contextlib.contextmanager
def reference_ops() -> Iterator[None]:
    """Route the training ops through their pure-PyTorch references for the duration."""
    import importlib

    modules = [importlib.import_module(m) for m in _PATCHED]
    saved = [m.use_compiled for m in modules]
    try:
        for m in modules:
            m.use_compiled = lambda *a, **k: False
        yield
    finally:
        for m, f in zip(modules, saved):
            m.use_compiled = f


def _steps_per_s(run, profile, data, runs_dir: Path, out: Path, threads: int, device: str, steps: int,
                 preset: str = "tiny") -> float:
    from s2rdepth.demo.plan import run_overrides
    from s2rdepth.train import load_config, train

    ov = run_overrides(run, profile, data, runs_dir, seed=0, threads=threads)
    ov += [f"model.preset={preset}", f"train.device={device}", f"train.max_steps={steps}", f"out={out}"]
    return train(load_config(run.config, ov), console=False).steps_per_second


def main(argv: list[str] | None = None) -> int:
    from s2rdepth.data.synth import generate
    from s2rdepth.demo import PROFILES, RUNS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", default=",".join(r.id for r in RUNS), help="comma-separated demo run ids")
    p.add_argument("--preset", default="tiny", choices=("tiny", "lite", "paper"))
    p.add_argument("--size", default="64x224", help="network input HxW (multiples of 32)")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=30, help="steps per measurement (the first is not timed)")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--device", default="cpu")
    p.add_argument("--quick", action="store_true", help="8 steps, S2R stage 2 and DA-Monodepth only")
    p.add_argument("--json", help="also write the JSON here")
    args = p.parse_args(argv)
    h, w = (int(v) for v in args.size.lower().split("x"))
    steps = 8 if args.quick else args.steps
    wanted = ["s2r_ste", "da_full"] if args.quick else [m for m in args.methods.split(",") if m]
    by_id = {r.id: r for r in RUNS}
    unknown = [m for m in wanted if m not in by_id]
    if unknown:
        p.error(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(by_id)}")
    torch.set_num_threads(args.threads)
    profile = dataclasses.replace(PROFILES["quick"], network_size=(h, w), batch_size=args.batch,
                                  steps={r.id: steps for r in RUNS})
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = {"virtual": root / "virtual", "painting": root / "painting", "target": root / "target"}
        n = max(8, 2 * args.batch)
        generate(data["virtual"], "virtual", n, size=(h, w), seed=1, workers=0)
        generate(data["painting"], "painting", n, size=(h, w), seed=2, workers=0)
        generate(data["target"], "real", n, size=(h, w), seed=3, workers=0, n_azimuth=64)
        runs_dir = root / "runs"
        # the earlier stages every measured run loads (stage 1 → stage 2 → stage 3), two steps
        # each, in stage order, so that the measured runs can start
        needed: set[str] = set()
        for rid in wanted:
            run = by_id[rid]
            while run.after is not None:
                needed.add(run.after[0])
                run = by_id[run.after[0]]
        for rid in [r.id for r in RUNS if r.id in needed]:
            _steps_per_s(by_id[rid], dataclasses.replace(profile, steps={**profile.steps, rid: 2}), data,
                         runs_dir, runs_dir / rid, args.threads, args.device, 2, args.preset)
        for rid in wanted:
            run = by_id[rid]
            fused = _steps_per_s(run, profile, data, runs_dir, root / "bench" / rid, args.threads, args.device,
                                 steps, args.preset)
            with reference_ops():
                ref = _steps_per_s(run, profile, data, runs_dir, root / "bench_ref" / rid, args.threads,
                                   args.device, steps, args.preset)
            rows.append({"method": rid, "label": run.label, "steps_per_s": round(fused, 3),
                         "images_per_s": round(fused * args.batch, 2), "reference_steps_per_s": round(ref, 3),
                         "ratio": round(fused / ref, 3) if ref > 0 else None})
            print(f"{rid}: {fused:.2f} steps/s fused, {ref:.2f} reference", file=sys.stderr, flush=True)
    md = ["| method | steps/s | images/s | reference ops steps/s | ratio |", "|---|---:|---:|---:|---:|"]
    md += [f"| {r['method']} | {r['steps_per_s']:.2f} | {r['images_per_s']:.1f} | {r['reference_steps_per_s']:.2f} "
           f"| {r['ratio']:.2f}x |" for r in rows]
    emit({"benchmark": "train", "machine": machine(), "preset": args.preset, "size": [h, w], "batch": args.batch,
          "steps": steps, "threads": args.threads, "device": args.device, "results": rows,
          "markdown": "\n".join(md)}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
