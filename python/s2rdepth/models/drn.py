"""Dilated Residual Network, type D (Yu, Koltun, Funkhouser, CVPR 2017): the DSA encoder trunk.

DRN-D-22: blocks per level (1, 1, 2, 2, 2, 2, 1, 1), channels (16, 32, 64, 128, 256, 512, 512,
512), BatchNorm everywhere, output stride 8.

* ``layer0``: 7x7 conv 3 → c0 (stride 1) + BN + ReLU;
* ``layer1``: 3x3 conv c0 (stride 1); ``layer2``: 3x3 conv c1, stride 2 (H/2);
* ``layer3``/``layer4``: basic residual blocks, stride 2 (H/4, H/8);
* ``layer5``: residual blocks, dilation 2; ``layer6``: dilation 4 (H/8);
* ``layer7``: 3x3 conv, dilation 2; ``layer8``: 3x3 conv, dilation 1 (H/8).

The state-dict keys follow DRN's own layout (``layer0.0.weight``, ``layer3.0.conv1.weight``,
``layer3.0.downsample.0.weight``, …), so ImageNet weights such as ``drn_d_22-4bd2f8ea.pth`` load
directly with :meth:`DRN.load_imagenet` (their ``fc.*`` classifier keys are ignored).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import List, Union

import torch
import torch.nn as nn

from ._checkpoint import check_state_dict, load_state_dict_file, strip_prefix
from .blocks import BasicResidualBlock, init_weights, scale_channels

__all__ = ["DRN", "drn_d_22"]


def _conv_layers(in_channels: int, out_channels: int, count: int, stride: int = 1,
                 dilation: int = 1) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i in range(count):
        mods += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3,
                           stride if i == 0 else 1, padding=dilation, dilation=dilation, bias=False),
                 nn.BatchNorm2d(out_channels), nn.ReLU()]
    return nn.Sequential(*mods)


def _residual_layer(in_channels: int, out_channels: int, count: int, stride: int = 1,
                    dilation: int = 1) -> nn.Sequential:
    blocks = [BasicResidualBlock(in_channels, out_channels, stride, (dilation, dilation))]
    blocks += [BasicResidualBlock(out_channels, out_channels, 1, (dilation, dilation))
               for _ in range(1, count)]
    return nn.Sequential(*blocks)


class DRN(nn.Module):
    """DRN type D trunk without the classifier; ``forward`` returns all nine level outputs.

    Args:
        blocks: number of convs/residual blocks of levels 1..8 ((1, 1, 2, 2, 2, 2, 1, 1) for
            DRN-D-22).
        channels: channels of levels 1..8 before ``width`` scaling.
        width: channel multiplier (1.0 = DRN-D-22 as published).
    """

    def __init__(self, blocks: tuple[int, ...] = (1, 1, 2, 2, 2, 2, 1, 1),
                 channels: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 512, 512),
                 width: float = 1.0) -> None:
        super().__init__()
        if len(blocks) != 8 or len(channels) != 8 or min(blocks) < 1:
            raise ValueError("DRN: blocks and channels need 8 entries, blocks >= 1")
        ch = [scale_channels(c, width) for c in channels]
        self.channels = ch
        self.out_channels = ch[7]
        self.layer0 = nn.Sequential(nn.Conv2d(3, ch[0], 7, 1, padding=3, bias=False),
                                    nn.BatchNorm2d(ch[0]), nn.ReLU())
        self.layer1 = _conv_layers(ch[0], ch[0], blocks[0], stride=1)
        self.layer2 = _conv_layers(ch[0], ch[1], blocks[1], stride=2)
        self.layer3 = _residual_layer(ch[1], ch[2], blocks[2], stride=2)
        self.layer4 = _residual_layer(ch[2], ch[3], blocks[3], stride=2)
        self.layer5 = _residual_layer(ch[3], ch[4], blocks[4], dilation=2)
        self.layer6 = _residual_layer(ch[4], ch[5], blocks[5], dilation=4)
        self.layer7 = _conv_layers(ch[5], ch[6], blocks[6], dilation=2)
        self.layer8 = _conv_layers(ch[6], ch[7], blocks[7], dilation=1)
        init_weights(self, "drn")

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Returns the outputs of ``layer0`` … ``layer8`` (strides 1, 1, 2, 4, 8, 8, 8, 8, 8)."""
        feats: List[torch.Tensor] = []
        x = self.layer0(x)
        feats.append(x)
        x = self.layer1(x)
        feats.append(x)
        x = self.layer2(x)
        feats.append(x)
        x = self.layer3(x)
        feats.append(x)
        x = self.layer4(x)
        feats.append(x)
        x = self.layer5(x)
        feats.append(x)
        x = self.layer6(x)
        feats.append(x)
        x = self.layer7(x)
        feats.append(x)
        x = self.layer8(x)
        feats.append(x)
        return feats

    def load_imagenet(self, source: Union[str, os.PathLike[str], Mapping[str, torch.Tensor]]) -> "DRN":
        """Load ImageNet weights in DRN's key layout (e.g. ``drn_d_22-4bd2f8ea.pth``) from a
        user-given file or state dict. ``fc.*`` keys are ignored, ``module.`` is stripped; any
        other missing, unexpected or mis-shaped key raises
        :class:`~s2rdepth.models.CheckpointMismatchError`. Returns ``self``."""
        state, name = load_state_dict_file(source, "DRN ImageNet weights")
        state = {k: v for k, v in strip_prefix(state).items() if not k.startswith("fc.")}
        expected = {k: tuple(v.shape) for k, v in self.state_dict().items()}
        check_state_dict(expected, state, name,
                         "DRN ImageNet weights need width=1.0 and DRN-D-22's layout")
        self.load_state_dict(state)
        return self


def drn_d_22(width: float = 1.0) -> DRN:
    """DRN-D-22 trunk (15,880,752 parameters at ``width=1``)."""
    return DRN((1, 1, 2, 2, 2, 2, 1, 1), (16, 32, 64, 128, 256, 512, 512, 512), width)
