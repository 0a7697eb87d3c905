"""Depth losses: S2R-DepthNet's multi-scale L1 and DA-Monodepth's SSIM + L1 + smoothness."""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F

__all__ = ["da_depth_loss", "edge_aware_smoothness", "masked_mean", "multiscale_l1", "ssim_loss"]

#: SSIM stabilisers (monodepth2): (0.01 · L)², (0.03 · L)² for a dynamic range L = 1.
SSIM_C1 = 0.01 ** 2
SSIM_C2 = 0.03 ** 2


def masked_mean(values: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean of ``values`` over the pixels where ``mask`` is true (all pixels when ``mask`` is None).

    ``mask`` broadcasts against ``values``. With no valid pixel the result is ``0 · sum(values)``
    (zero, but still connected to the graph, so DDP sees every parameter used).
    """
    if mask is None:
        return values.mean()
    m = mask.to(values.dtype).expand_as(values)
    count = m.sum()
    return (values * m).sum() / count.clamp_min(1.0)


def _resize(x: torch.Tensor, size: Sequence[int], align_corners: bool) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=align_corners)


def multiscale_l1(predictions: Sequence[torch.Tensor], target: torch.Tensor,
                  mask: Optional[torch.Tensor] = None, weights: Optional[Sequence[float]] = None,
                  mode: str = "resize_target") -> tuple[torch.Tensor, list[torch.Tensor]]:
    """S2R-DepthNet depth loss: ``Σ_s w_s · mean |pred_s - target_s|`` over the DP scales.

    Args:
        predictions: depth maps N x 1 x h_s x w_s in the network range [-1, 1] (any order; the
            DP returns H/8, H/4, H/2, H).
        target: N x 1 x H x W ground truth in the same range.
        mask: optional N x 1 x H x W bool, True where the target is valid (sparse depth).
        weights: per-scale weights (default 1 each: the reference code's plain sum).
        mode: ``"resize_target"`` (reference code): the target (and mask) is resized bilinearly
            with ``align_corners=True`` to each prediction's size; a resized mask pixel counts only
            where every contributing input pixel was valid. ``"upsample_prediction"``: each
            prediction is upsampled bilinearly to the target's size (better for sparse targets,
            whose coarse resized masks would be almost empty).

    Returns:
        ``(total, per_scale)``: 0-dim float32 tensors.
    """
    if mode not in ("resize_target", "upsample_prediction"):
        raise ValueError(f"multiscale_l1: mode must be 'resize_target' or 'upsample_prediction', got {mode!r}")
    if weights is None:
        weights = [1.0] * len(predictions)
    if len(weights) != len(predictions):
        raise ValueError(f"multiscale_l1: {len(predictions)} predictions but {len(weights)} weights")
    target = target.float()
    per_scale: list[torch.Tensor] = []
    total = torch.zeros((), device=target.device)
    for pred, w in zip(predictions, weights):
        pred = pred.float()
        if mode == "resize_target":
            t = _resize(target, pred.shape[-2:], align_corners=True)
            m = None
            if mask is not None:
                m = _resize(mask.float(), pred.shape[-2:], align_corners=True) > 1.0 - 1e-3
            loss = masked_mean((pred - t).abs(), m)
        else:
            p = _resize(pred, target.shape[-2:], align_corners=False)
            loss = masked_mean((p - target).abs(), mask)
        per_scale.append(loss)
        total = total + float(w) * loss
    return total, per_scale


def ssim_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """monodepth2 SSIM dissimilarity per pixel: ``clamp((1 - SSIM(x, y)) / 2, 0, 1)``.

    Local statistics come from 3x3 average pooling of the reflect-padded inputs; constants
    ``C1 = 0.01²``, ``C2 = 0.03²``. Inputs N x C x H x W (values of order 1, e.g. disparity in
    [0, 1]); output N x C x H x W in [0, 1].
    """
    x = F.pad(x.float(), (1, 1, 1, 1), mode="reflect")
    y = F.pad(y.float(), (1, 1, 1, 1), mode="reflect")
    mu_x = F.avg_pool2d(x, 3, 1)
    mu_y = F.avg_pool2d(y, 3, 1)
    sigma_x = F.avg_pool2d(x * x, 3, 1) - mu_x ** 2
    sigma_y = F.avg_pool2d(y * y, 3, 1) - mu_y ** 2
    sigma_xy = F.avg_pool2d(x * y, 3, 1) - mu_x * mu_y
    num = (2 * mu_x * mu_y + SSIM_C1) * (2 * sigma_xy + SSIM_C2)
    den = (mu_x ** 2 + mu_y ** 2 + SSIM_C1) * (sigma_x + sigma_y + SSIM_C2)
    return torch.clamp((1 - num / den) / 2, 0, 1)


def edge_aware_smoothness(disp: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """monodepth2 edge-aware smoothness of mean-normalised disparity (DA-Monodepth Eq. 3).

    ``d* = d / mean_hw(d)``; ``mean(|∂x d*| e^{-mean_c |∂x I|}) + mean(|∂y d*| e^{-mean_c |∂y I|})``.
    ``disp`` N x 1 x h x w; ``image`` N x 3 x h x w (same size; any range, [0, 1] in DA-Monodepth).
    """
    disp = disp.float()
    image = image.float()
    d = disp / (disp.mean(dim=(2, 3), keepdim=True) + 1e-7)
    gdx = (d[:, :, :, :-1] - d[:, :, :, 1:]).abs()
    gdy = (d[:, :, :-1, :] - d[:, :, 1:, :]).abs()
    gix = (image[:, :, :, :-1] - image[:, :, :, 1:]).abs().mean(1, keepdim=True)
    giy = (image[:, :, :-1, :] - image[:, :, 1:, :]).abs().mean(1, keepdim=True)
    return (gdx * torch.exp(-gix)).mean() + (gdy * torch.exp(-giy)).mean()


def da_depth_loss(disp_scales: Sequence[torch.Tensor], target_disp: torch.Tensor, image: torch.Tensor,
                  mask: Optional[torch.Tensor] = None, l1_weight: float = 0.15,
                  smooth_weight: float = 1e-3) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """DA-Monodepth depth loss (Eq. 4), averaged over the decoder scales (monodepth2).

    For every scale ``s`` (0 = full resolution; the decoder returns H/8, H/4, H/2, H, i.e.
    s = 3, 2, 1, 0): the predicted disparity is upsampled bilinearly to the input size and
    compared with the target by ``(1 - λ1) · SSIM + λ1 · |pred - target|`` (mean over valid
    pixels), plus ``λ2 / 2^s`` times :func:`edge_aware_smoothness` of the disparity at its own
    size against the image resized to that size.

    Args:
        disp_scales: sigmoid disparities N x 1 x h_s x w_s (coarse → fine).
        target_disp: N x 1 x H x W target disparity in the same sigmoid space
            (:func:`s2rdepth.data.transforms.depth_to_disp`).
        image: N x 3 x H x W input image in [0, 1] (for the smoothness edge weights).
        mask: N x 1 x H x W bool valid-target mask (None = all valid).
        l1_weight: λ1 (monodepth2: 0.15; SSIM gets 1 - λ1 = 0.85).
        smooth_weight: λ2 (monodepth2: 1e-3).

    Returns:
        ``(total, parts)`` with parts ``ssim``, ``l1``, ``smooth`` (scale means, unweighted).
    """
    target_disp = target_disp.float()
    size = target_disp.shape[-2:]
    n = len(disp_scales)
    total = torch.zeros((), device=target_disp.device)
    parts = {k: torch.zeros((), device=target_disp.device) for k in ("ssim", "l1", "smooth")}
    for i, disp in enumerate(disp_scales):
        s = n - 1 - i
        up = _resize(disp.float(), size, align_corners=False)
        ssim = masked_mean(ssim_loss(up, target_disp), mask)
        l1 = masked_mean((up - target_disp).abs(), mask)
        img_s = image if tuple(image.shape[-2:]) == tuple(disp.shape[-2:]) else \
            F.interpolate(image.float(), size=disp.shape[-2:], mode="area")
        smooth = edge_aware_smoothness(disp, img_s)
        total = total + (1 - l1_weight) * ssim + l1_weight * l1 + smooth_weight / (2 ** s) * smooth
        parts["ssim"] = parts["ssim"] + ssim / n
        parts["l1"] = parts["l1"] + l1 / n
        parts["smooth"] = parts["smooth"] + smooth / n
    return total / n, parts
