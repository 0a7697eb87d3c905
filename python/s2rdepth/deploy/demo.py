"""Untrained models with non-degenerate outputs, for deployment tests, demos and benchmarks.

A freshly initialised S2R-DepthNet predicts an almost constant depth (its GASDA-style N(0, 0.02)
initialisation and skip scaling make the network output ≈ 0 ± 1e-5), so parity checks on it
would compare constants. :func:`make_demo_model` re-initialises convolutions with He-normal
weights and BatchNorm affines with some spread, then estimates the BatchNorm running statistics
on random images, so depth, structure and attention maps vary over the image and across inputs.
The weights mean nothing: use trained checkpoints for real predictions.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..models.presets import create_model

__all__ = ["make_demo_model"]


def make_demo_model(arch: str = "s2r", preset: str = "tiny", seed: int = 0,
                    calibration_size: tuple[int, int] = (64, 128), **overrides) -> nn.Module:
    """``create_model(arch, preset, **overrides)`` with random weights giving varied outputs
    (eval mode). ``calibration_size`` (H, W): image size of the three BatchNorm-statistics
    batches (must suit the model: multiples of 16 (S2R) / 32 (DA), at least the minimum size)."""
    gen = torch.Generator().manual_seed(seed)
    model = create_model(arch, preset, **overrides)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                fan_in = m.weight[0].numel() if isinstance(m, nn.Conv2d) else \
                    m.weight.shape[0] * m.weight[0, 0].numel()
                m.weight.normal_(0.0, (2.0 / fan_in) ** 0.5, generator=gen)
                if m.bias is not None:
                    m.bias.normal_(0.0, 0.1, generator=gen)
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None  # cumulative average over the calibration batches
                m.weight.normal_(1.0, 0.2, generator=gen)
                m.bias.normal_(0.0, 0.2, generator=gen)
        model.train()
        h, w = calibration_size
        for _ in range(3):
            x = torch.rand(4, 3, h, w, generator=gen)
            model(x * 2.0 - 1.0 if arch == "s2r" else x)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = 0.1
    return model.eval()
