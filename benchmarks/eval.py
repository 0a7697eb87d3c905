"""Evaluation throughput (images/s) on KITTI-sized frames (375 x 1242, Eigen test split size 697).
Prints one JSON object.

    python -m benchmarks.eval [--frames 697] [--scenario predictions|checkpoint|both]
                              [--device cpu|cuda] [--workers N] [--batch-size B] [--json OUT]

* ``predictions`` — the file-based path of ``s2rdepth evaluate --predictions``: a 697 x 192 x 640
  float32 ``.npy`` (memory-mapped) scored against a ``prepare-kitti-gt`` archive (``.npz``) of
  697 sparse 375 x 1242 maps (about 5 % valid, like Velodyne), caps 80 and 50 m. Reports the
  evaluation loop (:func:`s2rdepth.eval.evaluate`: read, resize to 375 x 1242 in float64, Garg
  crop, median scaling, metrics for both caps) and the whole command (including loading the
  archive) wall times.
* ``checkpoint`` — ``--checkpoint`` with a tiny S2R-DepthNet (``create_model("s2r", "tiny")``)
  at 192 x 640 on in-memory frames (input resize with Pillow bicubic, batched forward, resize
  to the ground truth, metrics): images/s of the evaluation loop, no disk I/O.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._timing import emit, machine

H, W = 375, 1242


def _sparse_gt(i: int) -> np.ndarray:
    """A Velodyne-like sparse map: ~5 % valid pixels in the lower 60 %, depth falling with the row."""
    rng = np.random.default_rng(i)
    gt = np.zeros((H, W), np.float32)
    rows = np.arange(int(0.4 * H), H)
    depth = (80.0 * (int(0.4 * H) + 5) / (rows + 5.0)).astype(np.float32)
    mask = rng.random((len(rows), W)) < 0.083
    gt[rows[0]:] = np.where(mask, depth[:, None] * rng.uniform(0.9, 1.1, (len(rows), W)), 0)
    return gt


class SyntheticKitti:
    """In-memory :class:`s2rdepth.eval.EvalSet`-compatible frames (images + sparse ground truth)."""

    dataset = "kitti"

    def __init__(self, n: int) -> None:
        self.names = [f"synthetic/frame_{i:04d}_sync {i:010d} l" for i in range(n)]

    def __len__(self) -> int:
        return len(self.names)

    def load(self, index: int, image: bool = False, gt: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.names[index]}
        if image:
            x = np.linspace(0, 255, W, dtype=np.float32)[None, :, None]
            y = np.linspace(0, 255, H, dtype=np.float32)[:, None, None]
            out["image"] = ((x * 0.6 + y * 0.4 + index) % 256).astype(np.uint8).repeat(3, axis=2)
        if gt:
            out["gt"] = _sparse_gt(index)
        return out

    def check_files(self, image: bool) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"name": "kitti", "synthetic": True, "frames": len(self)}


def bench_predictions(n: int, workers: int, batch_size: int, device: str, tmp: Path) -> dict:
    from s2rdepth.cli import main
    from s2rdepth.eval import KittiEvalSet, PredictionFiles, default_protocol, evaluate

    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    preds = np.lib.format.open_memmap(tmp / "preds.npy", mode="w+", dtype=np.float32, shape=(n, 192, 640))
    for i in range(n):
        preds[i] = rng.uniform(2, 80, (192, 640)).astype(np.float32)
    preds.flush()
    del preds
    maps = [_sparse_gt(i) for i in range(n)]
    shapes = np.array([m.shape for m in maps], dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(shapes[:, 0] * shapes[:, 1])
    lines = [f"2011_09_26/2011_09_26_drive_{i // 100:04d}_sync {i:010d} l" for i in range(n)]
    np.savez_compressed(tmp / "gt.npz", depth=np.concatenate([m.ravel() for m in maps]), shapes=shapes,
                        offsets=offsets, lines=np.array(lines), source=np.array("velodyne"),
                        faithful=np.array(True), vel_depth=np.array(True), format_version=np.array(1))
    del maps
    setup_s = time.perf_counter() - t0

    proto = default_protocol("kitti", caps=[80, 50])
    t0 = time.perf_counter()
    evalset = KittiEvalSet(None, gt="npz", gt_file=tmp / "gt.npz")
    load_s = time.perf_counter() - t0
    res = evaluate(evalset, PredictionFiles(tmp / "preds.npy"), proto, batch_size=batch_size, workers=workers,
                   metric_device=device)
    t0 = time.perf_counter()
    code = main(["evaluate", "--predictions", str(tmp / "preds.npy"), "--dataset", "kitti", "--gt-file",
                 str(tmp / "gt.npz"), "--caps", "80", "50", "--workers", str(workers), "--batch-size",
                 str(batch_size), "--device", device, "--json", str(tmp / "r.json"), "--quiet"])
    cli_s = time.perf_counter() - t0
    assert code == 0
    return {"frames": n, "prediction_hw": [192, 640], "gt_hw": [H, W], "caps": [80, 50],
            "workers": workers, "batch_size": batch_size, "setup_s": round(setup_s, 2),
            "gt_archive_load_s": round(load_s, 2), "loop_s": round(res.seconds, 2),
            "loop_images_per_s": round(res.images_per_s, 1), "command_s": round(cli_s, 2),
            "command_images_per_s": round(n / cli_s, 1),
            "abs_rel_80": res.means(80.0)["abs_rel"]}


def bench_checkpoint(n: int, workers: int, batch_size: int, device: str) -> dict:
    from s2rdepth.eval import ModelRunner, default_protocol, evaluate
    from s2rdepth.models import create_model

    torch.manual_seed(0)
    model = create_model("s2r", "tiny")
    runner = ModelRunner(model, (192, 640), device=device)
    proto = default_protocol("kitti", caps=[80, 50])
    evaluate(SyntheticKitti(min(n, batch_size)), runner, proto, batch_size=batch_size)  # warm-up
    res = evaluate(SyntheticKitti(n), runner, proto, batch_size=batch_size, workers=workers)
    return {"frames": n, "model": "s2r tiny (801,418 parameters)", "network_hw": [192, 640], "gt_hw": [H, W],
            "caps": [80, 50], "workers": workers, "batch_size": batch_size, "loop_s": round(res.seconds, 2),
            "loop_images_per_s": round(res.images_per_s, 2)}


def run(frames: int = 697, scenario: str = "both", device: str = "cpu", workers: int = 2,
        batch_size: int = 8, threads: int | None = None) -> dict:
    if threads:
        torch.set_num_threads(threads)
    out: dict[str, Any] = {"benchmark": "eval", "device": device, "machine": machine()}
    from s2rdepth.ops import backend

    out["backend"] = backend()
    if scenario in ("predictions", "both"):
        with tempfile.TemporaryDirectory(prefix="s2rdepth_bench_eval_") as tmp:
            out["predictions"] = bench_predictions(frames, workers, batch_size, device, Path(tmp))
    if scenario in ("checkpoint", "both"):
        out["checkpoint"] = bench_checkpoint(frames, workers, batch_size, device)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=697)
    p.add_argument("--scenario", choices=("predictions", "checkpoint", "both"), default="both")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    p.add_argument("--json", help="also write the JSON here")
    args = p.parse_args(argv)
    result = run(args.frames, args.scenario, args.device, args.workers, args.batch_size, args.threads)
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
