"""ResNet-18 feature encoder (He et al., 2016) in torchvision's key layout, for DA-Monodepth.

``conv1`` (7x7, stride 2) → ``bn1`` → ReLU → 3x3 max-pool stride 2 → ``layer1`` … ``layer4``
(two basic blocks each, strides 1, 2, 2, 2). Features are returned at 1/2 (after the ReLU),
1/4 (``layer1``), 1/8, 1/16, 1/32 with channels [64, 64, 128, 256, 512] (x ``width``).
11,176,512 parameters without the classifier. :meth:`ResNetEncoder.load_imagenet` reads a
torchvision ``resnet18`` state-dict file (``fc.*`` ignored); nothing is downloaded.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import List, Union

import torch
import torch.nn as nn

from ._checkpoint import check_state_dict, load_state_dict_file, strip_prefix
from ._validate import check_image
from .blocks import BasicResidualBlock, scale_channels

__all__ = ["IMAGENET_MEAN_STD", "ResNetEncoder"]

#: monodepth2's input normalisation of [0, 1] images: ``(x - 0.45) / 0.225``.
IMAGENET_MEAN_STD = (0.45, 0.225)


class ResNetEncoder(nn.Module):
    """ResNet feature pyramid: image N x 3 x H x W in [0, 1] → five feature maps.

    Args:
        layers: basic blocks per stage ((2, 2, 2, 2) = ResNet-18).
        width: channel multiplier (1.0 = ResNet-18; ImageNet weights need 1.0).
        normalize_input: apply ``(x - 0.45) / 0.225`` first (monodepth2 convention), so the
            input is a [0, 1] image.

    ``forward`` needs H and W divisible by 32 and at least 64 (the decoder's reflect padding
    needs a bottleneck of at least 2 x 2).
    """

    def __init__(self, layers: tuple[int, int, int, int] = (2, 2, 2, 2), width: float = 1.0,
                 normalize_input: bool = True) -> None:
        super().__init__()
        c = scale_channels(64, width)
        self.normalize_input = normalize_input
        self.input_mean = float(IMAGENET_MEAN_STD[0])
        self.input_std = float(IMAGENET_MEAN_STD[1])
        self.num_ch_enc = [c, c, 2 * c, 4 * c, 8 * c]
        self.conv1 = nn.Conv2d(3, c, 7, 2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, padding=1)
        self.layer1 = self._stage(c, c, layers[0], 1)
        self.layer2 = self._stage(c, 2 * c, layers[1], 2)
        self.layer3 = self._stage(2 * c, 4 * c, layers[2], 2)
        self.layer4 = self._stage(4 * c, 8 * c, layers[3], 2)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @staticmethod
    def _stage(cin: int, cout: int, blocks: int, stride: int) -> nn.Sequential:
        mods = [BasicResidualBlock(cin, cout, stride)]
        mods += [BasicResidualBlock(cout, cout) for _ in range(1, blocks)]
        return nn.Sequential(*mods)

    def forward(self, image: torch.Tensor) -> List[torch.Tensor]:
        """Features at 1/2, 1/4, 1/8, 1/16, 1/32 of the input size."""
        check_image(image, "ResNetEncoder", 3, 32, 64, "[0, 1]")
        x = image
        if self.normalize_input:
            x = (x - self.input_mean) / self.input_std
        f0 = self.relu(self.bn1(self.conv1(x)))
        f1 = self.layer1(self.maxpool(f0))
        f2 = self.layer2(f1)
        f3 = self.layer3(f2)
        f4 = self.layer4(f3)
        return [f0, f1, f2, f3, f4]

    def load_imagenet(self, source: Union[str, os.PathLike[str], Mapping[str, torch.Tensor]]
                      ) -> "ResNetEncoder":
        """Load torchvision-layout ImageNet ResNet-18 weights from a user-given ``.pth`` file (or
        state dict). ``fc.*`` keys are ignored and ``module.`` is stripped; other missing,
        unexpected or mis-shaped keys raise :class:`~s2rdepth.models.CheckpointMismatchError`.
        Read with ``weights_only=True``. Returns ``self``."""
        state, name = load_state_dict_file(source, "ResNet ImageNet weights")
        state = {k: v for k, v in strip_prefix(state).items() if not k.startswith("fc.")}
        expected = {k: tuple(v.shape) for k, v in self.state_dict().items()}
        check_state_dict(expected, state, name, "expected a torchvision resnet18 state dict "
                         "(and a width=1.0 encoder)")
        self.load_state_dict(state)
        return self

