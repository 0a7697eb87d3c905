"""Depth Prediction (DP) module of S2R-DepthNet: the GASDA/T2Net U-Net with inception centre.

Layout (``base_channels`` = c, 64 in the paper):

* encoder: reflect pad 3 → 7x7 conv → BN → PReLU → 2x2 avg-pool (c, H/2); three blocks
  [3x3 conv + BN + PReLU] x 2 → avg-pool: 2c (H/4), 4c (H/8), 8c (H/16 bottleneck);
* centre at H/16: ``inception_blocks`` inception blocks (parallel reflect-padded dilated 3x3
  convs, concat → BN → PReLU → 3x3 conv → BN → + input → PReLU), then an up block
  (3x3 conv → BN → PReLU → 3x3 transposed conv stride 2 → BN → PReLU) 8c → 4c at H/8;
* decoder: three up blocks; the encoder skips are scaled by 0.1, 0.05, 0.01 and each coarser
  prediction is nearest-upsampled and concatenated into the next stage;
* four tanh heads at H/8, H/4, H/2 (3x3) and H (7x7), returned coarse → fine.

One PReLU (a single scalar, :attr:`DepthPredictionNet.prelu`) is shared by every activation, as
in the reference code. Outputs are in the network depth range [-1, 1]
(see :func:`s2rdepth.models.depth_net_to_metres`).
"""
from __future__ import annotations

from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F

from ._validate import check_image
from .blocks import ConvHead, init_weights, scale_channels

__all__ = ["DepthPredictionNet"]


class ConvNorm(nn.Module):
    """Padding → k x k conv (no bias) → BatchNorm; the activation is applied by the caller."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, padding: int,
                 pad_mode: str = "zeros") -> None:
        super().__init__()
        self.padding = padding
        self.pad_mode = pad_mode
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, 1,
                              padding=padding if pad_mode == "zeros" else 0, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad_mode != "zeros" and self.padding > 0:
            p = self.padding
            x = F.pad(x, (p, p, p, p), mode=self.pad_mode)
        return self.norm(self.conv(x))


class DPEncoderBlock(nn.Module):
    """[3x3 conv (zero pad) → BN → PReLU] x 2 at constant resolution."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = ConvNorm(in_channels, out_channels, 3, 1)
        self.conv2 = ConvNorm(out_channels, out_channels, 3, 1)

    def forward(self, x: torch.Tensor, prelu: torch.Tensor) -> torch.Tensor:
        x = F.prelu(self.conv1(x), prelu)
        return F.prelu(self.conv2(x), prelu)


class InceptionBlock(nn.Module):
    """Parallel dilated 3x3 convs (reflect padding = dilation) → concat → BN → PReLU → 3x3 conv
    (reflect) → BN → + input → PReLU. Channels are preserved."""

    def __init__(self, channels: int, dilations: tuple[int, ...] = (1, 3, 5)) -> None:
        super().__init__()
        self.dilations = list(dilations)
        self.branches = nn.ModuleList(
            nn.Conv2d(channels, channels, 3, 1, dilation=d, bias=False) for d in dilations)
        self.cat_norm = nn.BatchNorm2d(channels * len(dilations))
        self.fuse = ConvNorm(channels * len(dilations), channels, 3, 1, pad_mode="reflect")

    def forward(self, x: torch.Tensor, prelu: torch.Tensor) -> torch.Tensor:
        outs: List[torch.Tensor] = []
        for i, branch in enumerate(self.branches):
            d = self.dilations[i]
            outs.append(branch(F.pad(x, (d, d, d, d), mode="reflect")))
        y = F.prelu(self.cat_norm(torch.cat(outs, 1)), prelu)
        return F.prelu(self.fuse(y) + x, prelu)


class DPUpBlock(nn.Module):
    """3x3 conv (reflect) → BN → PReLU → 3x3 transposed conv, stride 2 (bias) → BN → PReLU."""

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = ConvNorm(in_channels, mid_channels, 3, 1, pad_mode="reflect")
        self.deconv = nn.ConvTranspose2d(mid_channels, out_channels, 3, stride=2, padding=1,
                                         output_padding=1, bias=True)
        self.deconv_norm = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, prelu: torch.Tensor) -> torch.Tensor:
        x = F.prelu(self.conv(x), prelu)
        return F.prelu(self.deconv_norm(self.deconv(x)), prelu)


class DepthPredictionNet(nn.Module):
    """The DP module: structure map (or image) → four depth maps in [-1, 1], coarse → fine.

    Args:
        in_channels: 1 for a structure map (S2R-DepthNet), 2 for the concatenation ablation,
            3 for the RGB baseline.
        width: channel multiplier (1.0 = paper, 64 base channels).
        inception_blocks: inception blocks in the centre (3 in the paper).
        dilations: dilations of the inception branches ((1, 3, 5) in the paper). Reflect padding
            needs ``H / 16 > max(dilations)``, hence a minimum input size of
            ``16 * (max(dilations) + 1)`` (96 in the paper configuration).
        skip_weights: scales of the H/8, H/4, H/2 encoder skips (0.1, 0.05, 0.01).

    ``forward(x)`` takes N x in_channels x H x W (H, W divisible by 16) and returns a list of four
    N x 1 tensors at H/8, H/4, H/2 and H in [-1, 1] (tanh); the last is the prediction.
    """

    def __init__(self, in_channels: int = 1, width: float = 1.0, inception_blocks: int = 3,
                 dilations: tuple[int, ...] = (1, 3, 5),
                 skip_weights: tuple[float, float, float] = (0.1, 0.05, 0.01)) -> None:
        super().__init__()
        if inception_blocks < 0:
            raise ValueError(f"inception_blocks must be >= 0, got {inception_blocks}")
        if not dilations or min(dilations) < 1:
            raise ValueError(f"dilations must be a non-empty tuple of ints >= 1, got {dilations}")
        c = scale_channels(64, width)
        self.in_channels = in_channels
        self.base_channels = c
        self.min_size = 16 * (max(dilations) + 1)
        self.skip_weights = [float(w) for w in skip_weights]
        self.prelu = nn.PReLU()  # ONE scalar shared by every activation (reference quirk)
        self.stem = ConvNorm(in_channels, c, 7, 3, pad_mode="reflect")
        self.down1 = DPEncoderBlock(c, 2 * c)
        self.down2 = DPEncoderBlock(2 * c, 4 * c)
        self.down3 = DPEncoderBlock(4 * c, 8 * c)
        self.center = nn.ModuleList(InceptionBlock(8 * c, tuple(dilations))
                                    for _ in range(inception_blocks))
        self.center_up = DPUpBlock(8 * c, 8 * c, 4 * c)
        self.up3 = DPUpBlock(8 * c, 8 * c, 2 * c)           # H/8 -> H/4
        self.up2 = DPUpBlock(4 * c + 1, 4 * c, c)            # H/4 -> H/2
        self.up1 = DPUpBlock(2 * c + 1, 2 * c, c // 2)       # H/2 -> H
        self.heads = nn.ModuleList([
            ConvHead(8 * c, 1, 3, "tanh", bias=False),        # H/8
            ConvHead(4 * c + 1, 1, 3, "tanh", bias=False),    # H/4
            ConvHead(2 * c + 1, 1, 3, "tanh", bias=False),    # H/2
            ConvHead(c // 2 + 1, 1, 7, "tanh", bias=False),   # H
        ])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise (GASDA scheme: convs N(0, 0.02), BN weights N(1, 0.02), PReLU 0.25).
        Stage 3 of S2R-DepthNet trains a freshly initialised DP."""
        init_weights(self, "normal", 0.02)
        with torch.no_grad():
            self.prelu.weight.fill_(0.25)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        check_image(x, "DepthPredictionNet", self.in_channels, 16, self.min_size,
                    "[-1, 1] (structure map in [0, 1])")
        a = self.prelu.weight
        w3, w2, w1 = self.skip_weights[0], self.skip_weights[1], self.skip_weights[2]
        e1 = F.avg_pool2d(F.prelu(self.stem(x), a), 2)          # c,  H/2
        e2 = F.avg_pool2d(self.down1(e1, a), 2)                  # 2c, H/4
        e3 = F.avg_pool2d(self.down2(e2, a), 2)                  # 4c, H/8
        b = F.avg_pool2d(self.down3(e3, a), 2)                   # 8c, H/16
        for block in self.center:
            b = block(b, a)
        u = self.center_up(b, a)                                 # 4c, H/8
        f4 = torch.cat([u, e3 * w3], 1)
        out4 = self.heads[0](f4)                                      # H/8
        d4 = self.up3(f4, a)                                     # 2c, H/4
        f3 = torch.cat([d4, e2 * w2, F.interpolate(out4, scale_factor=2.0, mode="nearest")], 1)
        out3 = self.heads[1](f3)                                      # H/4
        d3 = self.up2(f3, a)                                     # c, H/2
        f2 = torch.cat([d3, e1 * w1, F.interpolate(out3, scale_factor=2.0, mode="nearest")], 1)
        out2 = self.heads[2](f2)                                      # H/2
        d2 = self.up1(f2, a)                                     # c/2, H
        out1 = self.heads[3](torch.cat([d2, F.interpolate(out2, scale_factor=2.0, mode="nearest")], 1))
        return [out4, out3, out2, out1]
