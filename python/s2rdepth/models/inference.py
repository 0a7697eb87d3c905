"""Inference wrappers: any-size RGB image → depth in metres at the input resolution.

:class:`S2RPredictor` and :class:`DAMonodepthPredictor` take N x 3 x H x W images, either
``uint8`` in [0, 255] or floating point in [0, 1] (any H, W), resize them (bilinear,
``align_corners=False``) to the network size, run the model and resize the prediction back. They
hold a copy of the model switched to standard ops (:func:`~s2rdepth.models.to_standard_ops`) and
in eval mode, so ``torch.jit.script``, ``torch.jit.trace`` and ``torch.export.export`` produce
graphs of standard ATen ops only — no ``s2rdepth`` op, no dependency on ``s2rdepth._C``.

* S2R-DepthNet: ``[0, 1] → [-1, 1]``, depth = ``(y + 1) / 2 * max_depth`` metres.
* DA-Monodepth: the finest sigmoid disparity is resized to the input size, then
  ``disp_to_depth(min_depth, max_depth)`` (0.1 m, 100 m) gives metres (times ``scale``).
"""
from __future__ import annotations

import copy
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from .blocks import to_standard_ops
from .da_monodepth import DAMonodepth, disp_to_depth
from .s2r import S2RDepthNet, depth_net_to_metres

__all__ = ["DAMonodepthPredictor", "S2RPredictor", "make_predictor"]


def image_to_unit_float(image: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W uint8 (→ / 255) or floating point (assumed in [0, 1]) → float32 in [0, 1]."""
    if image.dim() != 4 or image.shape[1] != 3:
        raise ValueError(f"expected an N x 3 x H x W RGB image, got shape {list(image.shape)}")
    if image.dtype == torch.uint8:
        return image.to(torch.float32) / 255.0
    if not image.is_floating_point():
        raise TypeError(f"expected a uint8 image in [0, 255] or a floating-point image in [0, 1], "
                        f"got dtype {image.dtype}")
    return image.to(torch.float32)


def _inference_copy(net: nn.Module) -> nn.Module:
    to_standard_ops(net).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def _check_size(size: tuple[int, int], multiple: int, minimum: int, name: str) -> tuple[int, int]:
    h, w = int(size[0]), int(size[1])
    if h % multiple or w % multiple or h < minimum or w < minimum:
        raise ValueError(f"{name}: network_size must be divisible by {multiple} and at least "
                         f"{minimum}, got {h} x {w}")
    return h, w


class S2RPredictor(nn.Module):
    """S2R-DepthNet inference: image (uint8 or [0, 1]) → depth in metres, N x 1 x H x W.

    Args:
        model: a trained :class:`S2RDepthNet` (copied unless ``copy_model=False``).
        network_size: (height, width) the network runs at (192 x 640 for KITTI; 192 x 256 NYU).
        max_depth: metres for network value +1 (default: ``model.max_depth``).
    """

    def __init__(self, model: S2RDepthNet, network_size: tuple[int, int] = (192, 640),
                 max_depth: Optional[float] = None, copy_model: bool = True) -> None:
        super().__init__()
        if not isinstance(model, S2RDepthNet):
            raise TypeError(f"S2RPredictor needs an S2RDepthNet, got {type(model).__name__}")
        self.net_h, self.net_w = _check_size(network_size, 16, model.min_size, "S2RPredictor")
        self.max_depth = float(max_depth if max_depth is not None else model.max_depth)
        net = copy.deepcopy(model) if copy_model else model
        self.model = _inference_copy(net)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[2], image.shape[3]
        x = image_to_unit_float(image)
        x = F.interpolate(x, size=(self.net_h, self.net_w), mode="bilinear", align_corners=False)
        out = self.model(x * 2.0 - 1.0)
        depth = depth_net_to_metres(out.depth, self.max_depth)
        return F.interpolate(depth, size=(h, w), mode="bilinear", align_corners=False)


class DAMonodepthPredictor(nn.Module):
    """DA-Monodepth inference: image (uint8 or [0, 1]) → depth in metres, N x 1 x H x W.

    Only the encoder and the depth decoder are kept (the semantic decoder and the domain
    classifier are dropped from the copy).

    Args:
        model: a trained :class:`DAMonodepth` (copied unless ``copy_model=False``; with
            ``copy_model=False`` the model itself loses its auxiliary heads).
        network_size: (height, width) the network runs at (192 x 640 in the paper).
        min_depth, max_depth: disparity → depth range (default: the model's, 0.1 and 100 m).
        scale: factor applied to the depth (1 for a model trained with metric disparity targets).
    """

    def __init__(self, model: DAMonodepth, network_size: tuple[int, int] = (192, 640),
                 min_depth: Optional[float] = None, max_depth: Optional[float] = None,
                 scale: float = 1.0, copy_model: bool = True) -> None:
        super().__init__()
        if not isinstance(model, DAMonodepth):
            raise TypeError(f"DAMonodepthPredictor needs a DAMonodepth, got {type(model).__name__}")
        self.net_h, self.net_w = _check_size(network_size, 32, 64, "DAMonodepthPredictor")
        self.min_depth = float(min_depth if min_depth is not None else model.min_depth)
        self.max_depth = float(max_depth if max_depth is not None else model.max_depth)
        self.scale = float(scale)
        net = copy.deepcopy(model) if copy_model else model
        net.semantic_decoder = None
        net.domain_classifier = None
        self.model = _inference_copy(net)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[2], image.shape[3]
        x = image_to_unit_float(image)
        x = F.interpolate(x, size=(self.net_h, self.net_w), mode="bilinear", align_corners=False)
        disp = self.model.decode_depth(self.model.encode(x))[-1]
        disp = F.interpolate(disp, size=(h, w), mode="bilinear", align_corners=False)
        depth = disp_to_depth(disp, self.min_depth, self.max_depth)[1]
        return depth * self.scale


def make_predictor(model: Union[S2RDepthNet, DAMonodepth], network_size: tuple[int, int] = (192, 640),
                   **kwargs) -> nn.Module:
    """The inference wrapper matching ``model``'s type."""
    if isinstance(model, S2RDepthNet):
        return S2RPredictor(model, network_size, **kwargs)
    if isinstance(model, DAMonodepth):
        return DAMonodepthPredictor(model, network_size, **kwargs)
    raise TypeError(f"no inference wrapper for {type(model).__name__}")
