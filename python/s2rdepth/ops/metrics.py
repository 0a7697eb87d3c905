"""Batched depth metrics of the KITTI / NYU evaluation protocols."""
from __future__ import annotations

import math
from typing import Mapping

import torch

from . import _checks, reference
from ._backend import use_compiled
from .reference import METRIC_NAMES

_OP = "depth_metrics"
ORDERS = ("monodepth2", "s2r")
CROPS = ("garg", None)


def depth_metrics(pred: torch.Tensor, gt: torch.Tensor, *, min_depth: float = 1e-3,
                  max_depth: float = 80.0, crop: str | None = "garg", median_scaling: bool = True,
                  order: str = "monodepth2") -> dict[str, torch.Tensor]:
    """Per-image depth metrics.

    Args:
        pred: predicted depth in metres, N x H x W (or H x W for one image), already resized to
            the ground truth's size.
        gt: ground-truth depth in metres, same shape; pixels outside ``(min_depth, max_depth)``
            are invalid (0 marks missing ground truth).
        crop: ``"garg"`` (Garg/Eigen crop of KITTI) or ``None``.
        median_scaling: scale each prediction by ``median(gt) / median(pred)`` over its valid
            pixels (NumPy median: the mean of the two middle values for an even count).
        order: ``"monodepth2"`` scales then clamps the prediction to [min_depth, max_depth];
            ``"s2r"`` (official S2R-DepthNet evaluation) clamps first, then scales.

    Returns:
        A dict of float64 CPU N-vectors: ``abs_rel, sq_rel, rmse, rmse_log, log10, a1, a2, a3``,
        ``scale`` (the median ratio applied, 1 without median scaling) and ``valid`` (number of
        valid pixels). An image without any valid pixel has NaN metrics and ``valid == 0``.
    """
    _checks.tensor(_OP, "pred", pred)
    _checks.tensor(_OP, "gt", gt)
    if pred.dim() == 2:
        pred = pred.unsqueeze(0)
    if gt.dim() == 2:
        gt = gt.unsqueeze(0)
    if pred.dim() != 3 or gt.dim() != 3:
        raise ValueError(f"{_OP}: pred and gt must be N x H x W (or H x W), got {tuple(pred.shape)} "
                         f"and {tuple(gt.shape)}")
    if pred.shape != gt.shape:
        raise ValueError(f"{_OP}: pred {tuple(pred.shape)} and gt {tuple(gt.shape)} differ in shape; "
                         "resize the prediction to the ground truth first")
    _checks.same_device(_OP, pred=pred, gt=gt)
    min_depth = _checks.number(_OP, "min_depth", min_depth, nonnegative=True)
    max_depth = _checks.number(_OP, "max_depth", max_depth, positive=True)
    if not min_depth < max_depth:
        raise ValueError(f"{_OP}: min_depth ({min_depth}) must be below max_depth ({max_depth})")
    if crop not in CROPS:
        raise ValueError(f"{_OP}: crop must be 'garg' or None, got {crop!r}")
    order = _checks.choice(_OP, "order", order, ORDERS)
    pred, gt = pred.detach(), gt.detach()
    if pred.dtype != gt.dtype:
        dtype = torch.promote_types(pred.dtype, gt.dtype)
        pred, gt = pred.to(dtype), gt.to(dtype)
    args = (min_depth, max_depth, crop == "garg", bool(median_scaling), order)
    if use_compiled(_OP, gt, dtypes=(torch.float32, torch.float64)):
        table = torch.ops.s2rdepth.depth_metrics(pred.contiguous(), gt.contiguous(), *args).cpu()
    else:
        table = reference.depth_metrics(pred, gt, *args)
    return {name: table[:, j] for j, name in enumerate(METRIC_NAMES)}


def mean_metrics(metrics: Mapping[str, torch.Tensor]) -> dict[str, float | int]:
    """Mean of each metric over the images with at least one valid pixel.

    Returns the means (as floats, NaN when no image is valid) plus ``images`` (images averaged)
    and ``skipped`` (images with no valid pixel, left out of the means).
    """
    if "valid" not in metrics:
        raise ValueError("mean_metrics: expected the dict returned by depth_metrics (no 'valid' entry)")
    valid = torch.as_tensor(metrics["valid"]) > 0
    out: dict[str, float | int] = {}
    for name, values in metrics.items():
        if name == "valid":
            continue
        v = torch.as_tensor(values, dtype=torch.float64)[valid]
        out[name] = float(v.mean()) if v.numel() else math.nan
    out["images"] = int(valid.sum())
    out["skipped"] = int((~valid).sum())
    return out
