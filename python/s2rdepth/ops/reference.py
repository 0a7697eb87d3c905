"""Pure-PyTorch reference implementations of the fused operators.

These are the specification the compiled kernels are tested against, and the fallback when
``s2rdepth._C`` is unavailable. They are written for clarity, not speed, and use only standard
ops, so they also serve exporters (ONNX, TorchScript without the extension).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

#: Column order of the metrics produced by :func:`depth_metrics` (and ``torch.ops.s2rdepth.depth_metrics``).
METRIC_NAMES: tuple[str, ...] = (
    "abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "a1", "a2", "a3", "scale", "valid")

#: Garg/Eigen crop as fractions of the ground-truth height and width (rows, then columns).
GARG_CROP = (0.40810811, 0.99189189, 0.03594771, 0.96405229)


def _acc_dtype(dtype: torch.dtype) -> torch.dtype:
    """Accumulation dtype: float64 stays, everything else computes in float32 (plain Python, so
    traced and exported graphs see no dtype-promotion node)."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def _affine_view(t: torch.Tensor | None, n: int, c: int) -> torch.Tensor | None:
    if t is None:
        return None
    return t.reshape(1, c, 1, 1) if t.dim() == 1 else t.reshape(n, c, 1, 1)


def adain(x: torch.Tensor, weight: torch.Tensor | None = None, bias: torch.Tensor | None = None,
          eps: float = 1e-5) -> torch.Tensor:
    """Instance norm over H, W of N x C x H x W (biased variance) and an optional affine.

    ``weight``/``bias`` are [C] (per channel) or [N, C] (per sample and channel: AdaIN).
    Statistics are accumulated in float32 at least.
    """
    n, c = x.shape[:2]
    acc = _acc_dtype(x.dtype)
    xf = x.to(acc)
    mean = xf.mean(dim=(2, 3), keepdim=True)
    var = (xf - mean).square().mean(dim=(2, 3), keepdim=True)
    y = (xf - mean) * torch.rsqrt(var + eps)
    w, b = _affine_view(weight, n, c), _affine_view(bias, n, c)
    if w is not None:
        y = y * w.to(acc)
    if b is not None:
        y = y + b.to(acc)
    return y.to(x.dtype)


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, coeff: float) -> torch.Tensor:  # type: ignore[override]
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        return grad * (-ctx.coeff), None


def grad_reverse(x: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
    """Identity in the forward pass (a view, no copy); gradient multiplied by ``-coeff``."""
    return _GradReverse.apply(x, coeff)


def structure_weight(depth: torch.Tensor, beta: float = 1e-3, mode: str = "reference") -> torch.Tensor:
    """Edge weight ``w = exp(-beta * g)`` (N x 1 x H x W) of the structure regulariser.

    ``dx D(y, x) = D(y, x) - D(y, x+1)`` and ``dy D(y, x) = D(y, x) - D(y+1, x)`` with replicate
    padding (last column/row difference 0). ``g = mean_c(|dx| + |dy|)`` in ``"reference"`` mode (the
    official code), ``mean_c(|dx + dy|)`` in ``"paper"`` mode (Eq. 1).
    """
    acc = _acc_dtype(depth.dtype)
    d = depth.to(acc)
    dx = d - F.pad(d, (0, 1, 0, 0), mode="replicate")[:, :, :, 1:]
    dy = d - F.pad(d, (0, 0, 0, 1), mode="replicate")[:, :, 1:, :]
    if mode == "reference":
        g = (dx.abs() + dy.abs()).mean(dim=1, keepdim=True)
    elif mode == "paper":
        g = (dx + dy).abs().mean(dim=1, keepdim=True)
    else:
        raise ValueError(f"structure_loss: mode must be 'reference' or 'paper', got {mode!r}")
    return torch.exp(-beta * g)


def structure_loss(structure: torch.Tensor, depth: torch.Tensor, beta: float = 1e-3,
                   mode: str = "reference") -> torch.Tensor:
    """``mean(|M_s| * w)`` with ``w`` from :func:`structure_weight`; depth is a target (detached)."""
    w = structure_weight(depth.detach(), beta, mode)
    acc = _acc_dtype(structure.dtype)
    return (structure.to(acc).abs() * w).mean().to(structure.dtype)


def numpy_median(values: torch.Tensor) -> torch.Tensor:
    """Median with NumPy semantics (mean of the two middle values for an even count; NaN if any
    value is NaN)."""
    if torch.isnan(values).any():
        return torch.tensor(math.nan, dtype=values.dtype)
    s, _ = torch.sort(values)
    k = s.numel()
    if k % 2:
        return s[k // 2]
    return 0.5 * (s[k // 2 - 1] + s[k // 2])


def garg_crop_bounds(height: int, width: int) -> tuple[int, int, int, int]:
    """Rows [r0, r1) and columns [c0, c1) of the Garg crop, bounds truncated to int."""
    r0, r1, c0, c1 = GARG_CROP
    return int(r0 * height), int(r1 * height), int(c0 * width), int(c1 * width)


def depth_metrics(pred: torch.Tensor, gt: torch.Tensor, min_depth: float = 1e-3,
                  max_depth: float = 80.0, garg_crop: bool = True, median_scaling: bool = True,
                  order: str = "monodepth2") -> torch.Tensor:
    """Per-image metrics (float64 N x 10, columns :data:`METRIC_NAMES`) of depth in metres."""
    if order not in ("monodepth2", "s2r"):
        raise ValueError(f"depth_metrics: order must be 'monodepth2' or 's2r', got {order!r}")
    n, h, w = gt.shape
    out = torch.full((n, len(METRIC_NAMES)), math.nan, dtype=torch.float64)
    out[:, -1] = 0
    mask = (gt > min_depth) & (gt < max_depth)
    if garg_crop:
        r0, r1, c0, c1 = garg_crop_bounds(h, w)
        crop = torch.zeros(h, w, dtype=torch.bool, device=gt.device)
        crop[r0:r1, c0:c1] = True
        mask &= crop
    for i in range(n):
        g = gt[i][mask[i]].double().cpu()
        p = pred[i][mask[i]].double().cpu()
        if g.numel() == 0:
            continue
        if order == "s2r":
            p = p.clamp(min_depth, max_depth)
        ratio = numpy_median(g) / numpy_median(p) if median_scaling else torch.tensor(1.0, dtype=torch.float64)
        p = p * ratio
        if order == "monodepth2":
            p = p.clamp(min_depth, max_depth)
        thresh = torch.maximum(g / p, p / g)
        out[i] = torch.stack([
            ((g - p).abs() / g).mean(),
            ((g - p) ** 2 / g).mean(),
            ((g - p) ** 2).mean().sqrt(),
            ((g.log() - p.log()) ** 2).mean().sqrt(),
            (g.log10() - p.log10()).abs().mean(),
            (thresh < 1.25).double().mean(),
            (thresh < 1.25 ** 2).double().mean(),
            (thresh < 1.25 ** 3).double().mean(),
            ratio,
            torch.tensor(float(g.numel()), dtype=torch.float64),
        ])
    return out
