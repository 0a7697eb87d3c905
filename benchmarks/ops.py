"""Fused operators against the eager PyTorch composition of the same maths (and, for the depth
metrics, a per-image NumPy loop in the monodepth2 style). Prints one JSON object.

    python -m benchmarks.ops [--device cpu|cuda] [--quick] [--json OUT]

Shapes (issue 2): AdaIN [8, 256, 48, 160] forward+backward; structure loss [8, 1, 192, 640]
forward+backward; metrics on 200 images of 375 x 1242 with 5 % valid ground truth. ``ratio`` is
reference time / fused time (> 1: the fused op is faster). On CUDA the achieved memory bandwidth
is also reported, relative to a device-to-device copy measured in the same run.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

import s2rdepth.ops as ops
from s2rdepth.ops import reference as R

from ._timing import emit, machine, measure


def _eager_adain(x, w, b, eps=1e-5):
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w[:, :, None, None] + b[:, :, None, None]


def _copy_bandwidth(device: torch.device) -> float:
    """Bytes/s of a large device-to-device copy: the practical bandwidth ceiling."""
    src = torch.empty(256 * 2**20 // 4, device=device)
    dst = torch.empty_like(src)
    t = measure(lambda: dst.copy_(src), device, warmup=3, repeat=20)
    return 2 * src.numel() * 4 / t


def bench_adain(device: torch.device, quick: bool) -> dict:
    shape = (8, 256, 48, 160) if not quick else (2, 64, 48, 160)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(*shape, generator=g).to(device).requires_grad_()
    w = torch.rand(shape[0], shape[1], generator=g).to(device).requires_grad_()
    b = torch.randn(shape[0], shape[1], generator=g).to(device).requires_grad_()
    dy = torch.randn(*shape, generator=g).to(device)

    def run(fn):
        def step():
            y = fn(x, w, b)
            torch.autograd.grad(y, (x, w, b), dy)
        return step

    t_fused = measure(run(ops.adain), device)
    t_eager = measure(run(_eager_adain), device)
    t_aten = measure(run(lambda x, w, b: torch.nn.functional.instance_norm(x) * w[:, :, None, None]
                         + b[:, :, None, None]), device)
    out = {"shape": list(shape), "fused_ms": 1e3 * t_fused, "eager_ms": 1e3 * t_eager,
           "ratio": t_eager / t_fused, "aten_instance_norm_ms": 1e3 * t_aten,
           "ratio_vs_aten_instance_norm": t_aten / t_fused}
    if device.type == "cuda":
        # forward reads x, writes y; backward reads dy and x, writes dx: 5 tensors of x's size
        moved = 5 * x.numel() * x.element_size()
        out["achieved_GBps"] = moved / t_fused / 1e9
        out["fraction_of_copy_bandwidth"] = moved / t_fused / _copy_bandwidth(device)
    return out


def bench_structure_loss(device: torch.device, quick: bool) -> dict:
    shape = (8, 1, 192, 640) if not quick else (2, 1, 192, 640)
    g = torch.Generator().manual_seed(1)
    s = torch.rand(*shape, generator=g).to(device).requires_grad_()
    d = (torch.rand(*shape, generator=g) * 2 - 1).to(device)

    def run(fn):
        def step():
            torch.autograd.grad(fn(s, d), s)
        return step

    t_fused = measure(run(ops.structure_loss), device)
    t_eager = measure(run(R.structure_loss), device)
    return {"shape": list(shape), "fused_ms": 1e3 * t_fused, "eager_ms": 1e3 * t_eager,
            "ratio": t_eager / t_fused}


def _numpy_metrics_loop(pred: np.ndarray, gt: np.ndarray) -> list:
    """monodepth2-style evaluation: a Python loop over images, NumPy inside."""
    rows = []
    for p, g in zip(pred, gt):
        h, w = g.shape
        mask = (g > 1e-3) & (g < 80)
        crop = np.array([0.40810811 * h, 0.99189189 * h, 0.03594771 * w, 0.96405229 * w]).astype(np.int32)
        crop_mask = np.zeros(mask.shape)
        crop_mask[crop[0]:crop[1], crop[2]:crop[3]] = 1
        mask = np.logical_and(mask, crop_mask)
        pv, gv = p[mask], g[mask]
        pv = pv * (np.median(gv) / np.median(pv))
        pv = np.clip(pv, 1e-3, 80)
        thresh = np.maximum(gv / pv, pv / gv)
        rows.append([np.mean(np.abs(gv - pv) / gv), np.mean((gv - pv) ** 2 / gv), np.sqrt(np.mean((gv - pv) ** 2)),
                     np.sqrt(np.mean((np.log(gv) - np.log(pv)) ** 2)), (thresh < 1.25).mean(),
                     (thresh < 1.25 ** 2).mean(), (thresh < 1.25 ** 3).mean()])
    return rows


def bench_metrics(device: torch.device, quick: bool) -> dict:
    n = 200 if not quick else 20
    rng = np.random.default_rng(2)
    gt = np.where(rng.random((n, 375, 1242)) < 0.05, rng.uniform(2, 80, (n, 375, 1242)), 0).astype(np.float32)
    pred = (gt + rng.normal(0, 1, gt.shape)).clip(0.5, 90).astype(np.float32)
    pred_t, gt_t = torch.from_numpy(pred).to(device), torch.from_numpy(gt).to(device)
    t_fused = measure(lambda: ops.depth_metrics(pred_t, gt_t), device, warmup=1, repeat=5)
    t_numpy = measure(lambda: _numpy_metrics_loop(pred, gt), torch.device("cpu"), warmup=1, repeat=3)
    # sanity: both agree on abs_rel
    ours = ops.depth_metrics(pred_t, gt_t)["abs_rel"].numpy()
    theirs = np.array([r[0] for r in _numpy_metrics_loop(pred[:3], gt[:3])])
    assert np.allclose(ours[:3], theirs, rtol=1e-4), (ours[:3], theirs)
    out = {"images": n, "size": [375, 1242], "valid_fraction": 0.05, "fused_ms": 1e3 * t_fused,
           "numpy_loop_ms": 1e3 * t_numpy, "ratio": t_numpy / t_fused, "images_per_s": n / t_fused}
    if device.type == "cuda":
        moved = 2 * gt_t.numel() * gt_t.element_size()
        out["achieved_GBps"] = moved / t_fused / 1e9
        out["fraction_of_copy_bandwidth"] = moved / t_fused / _copy_bandwidth(device)
    return out


def run(device: str = "cpu", quick: bool = False) -> dict:
    dev = torch.device(device)
    return {
        "benchmark": "ops",
        "device": str(dev),
        "backend": ops.backend(),
        "machine": machine(),
        "quick": quick,
        "adain_fwd_bwd": bench_adain(dev, quick),
        "structure_loss_fwd_bwd": bench_structure_loss(dev, quick),
        "depth_metrics": bench_metrics(dev, quick),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--quick", action="store_true", help="smaller shapes (a smoke run)")
    p.add_argument("--json", help="also write the JSON here")
    args = p.parse_args(argv)
    result = run(args.device, args.quick)
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
