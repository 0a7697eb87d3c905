"""The deployable graph: image (uint8 or [0, 1]) → depth in metres (+ optional maps).

:class:`DepthGraph` wraps a trained :class:`~s2rdepth.models.S2RDepthNet` or
:class:`~s2rdepth.models.DAMonodepth` with the preprocessing and the metres conversion, so an
exported artifact is self-contained:

* input ``image``: N x 3 x H x W, ``uint8`` in [0, 255] or floating point in [0, 1];
* S2R-DepthNet: ``[0, 1] → [-1, 1]``, network, ``depth = (y + 1) / 2 * max_depth`` metres;
  optional outputs ``structure`` (``M_s``) and ``attention`` (``M_a``), both in [0, 1];
* DA-Monodepth: encoder + depth decoder, ``depth = 1 / (1/max + (1/min - 1/max) * disp) * scale``
  metres (the semantic decoder and the domain classifier with its gradient reversal are dropped).

Two modes:

* ``resize=False`` (exported artifacts): the input must be exactly ``height`` x ``width``;
  any other size raises a ``RuntimeError`` that names both sizes. Callers resize
  (:func:`s2rdepth.predict` does, see :func:`resize_bilinear`).
* ``resize=True`` (eager :func:`s2rdepth.predict`): any input size; the image is resized
  (bilinear, ``align_corners=False``) to the network size and every output back to the input
  size, exactly as :class:`~s2rdepth.models.S2RPredictor` does.

For export (``export_ops=True``), the fused :mod:`s2rdepth.ops` modules are replaced in the
copy by standard-op equivalents (:func:`replace_fused_modules`): instance norms become
``torch.nn.functional.instance_norm`` (ONNX ``InstanceNormalization`` with constant scale 1 and
bias 0; the AdaIN affine, when present, follows as ``Mul``/``Add``), gradient reversal layers
become identities. The artifact therefore needs neither ``s2rdepth`` nor ``s2rdepth._C``.
"""
from __future__ import annotations

import copy
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.blocks import AdaptiveInstanceNorm2d, GradientReversal, InstanceNorm2d
from ..models.da_monodepth import DAMonodepth
from ..models.s2r import S2RDepthNet

__all__ = ["DAGraph", "DepthGraph", "OUTPUT_NAMES", "S2RGraph", "S2RMapsGraph", "available_outputs",
           "build_graph", "replace_fused_modules", "resize_bilinear"]

#: Every output a graph can produce, in graph output order.
OUTPUT_NAMES: tuple[str, ...] = ("depth", "structure", "attention")


class ExportInstanceNorm2d(nn.Module):
    """Instance norm without affine via ``F.instance_norm`` (ONNX InstanceNormalization)."""

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(x, eps=self.eps)


class ExportAdaptiveInstanceNorm2d(nn.Module):
    """AdaIN as ``F.instance_norm`` followed by ``* weight + bias`` (ONNX Mul/Add)."""

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps

    def forward(self, x: torch.Tensor, weight: Optional[torch.Tensor],
                bias: Optional[torch.Tensor]) -> torch.Tensor:
        y = F.instance_norm(x, eps=self.eps)
        n, c = x.shape[0], x.shape[1]
        if weight is not None:
            y = y * (weight.reshape(1, c, 1, 1) if weight.dim() == 1 else weight.reshape(n, c, 1, 1))
        if bias is not None:
            y = y + (bias.reshape(1, c, 1, 1) if bias.dim() == 1 else bias.reshape(n, c, 1, 1))
        return y


class ExportIdentityGRL(nn.Module):
    """Gradient reversal at inference: the identity."""

    def forward(self, x: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
        return x


def replace_fused_modules(module: nn.Module) -> nn.Module:
    """Replace (in place) every fused-op module inside ``module`` by its standard-op export twin.

    :class:`~s2rdepth.models.blocks.InstanceNorm2d` → ``F.instance_norm``;
    :class:`~s2rdepth.models.blocks.AdaptiveInstanceNorm2d` → ``F.instance_norm`` then
    ``Mul``/``Add``; :class:`~s2rdepth.models.blocks.GradientReversal` → identity. Returns ``module``.
    """
    for name, child in list(module.named_children()):
        if isinstance(child, InstanceNorm2d):
            setattr(module, name, ExportInstanceNorm2d(child.num_features, child.eps))
        elif isinstance(child, AdaptiveInstanceNorm2d):
            setattr(module, name, ExportAdaptiveInstanceNorm2d(child.num_features, child.eps))
        elif isinstance(child, GradientReversal):
            setattr(module, name, ExportIdentityGRL())
        else:
            replace_fused_modules(child)
    return module


def resize_bilinear(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Bilinear resize of N x C x H x W (``align_corners=False``); identity when the size matches."""
    if x.shape[2] == height and x.shape[3] == width:
        return x
    return F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)


def available_outputs(model: nn.Module) -> tuple[str, ...]:
    """Outputs a model can produce: ``depth`` always; ``structure``/``attention`` for S2R variants
    that compute them (``structure`` is the Sobel edge map for ``variant="edge"``)."""
    if isinstance(model, S2RDepthNet):
        names = ["depth"]
        if model.ste_decoder is not None or model.edges is not None:
            names.append("structure")
        if model.dsa is not None:
            names.append("attention")
        return tuple(names)
    if isinstance(model, DAMonodepth):
        return ("depth",)
    raise TypeError(f"expected an S2RDepthNet or a DAMonodepth, got {type(model).__name__}")


class DepthGraph(nn.Module):
    """Image → depth in metres, N x 1 x H x W (see the module docstring). Base of
    :class:`S2RGraph` and :class:`DAGraph`; build one with :func:`build_graph`.

    Args:
        net: the (already copied) network.
        height, width: network input size in pixels.
        resize: accept any input size (resize in, resize out) instead of exactly height x width.
    """

    def __init__(self, net: nn.Module, height: int, width: int, resize: bool) -> None:
        super().__init__()
        self.height = int(height)
        self.width = int(width)
        self.resize = bool(resize)
        net.eval()
        for p in net.parameters():
            p.requires_grad_(False)
        self.net = net
        self.min_depth = 0.0
        self.max_depth = 0.0
        self.scale = 1.0

    @property
    def depth_range(self) -> tuple[float, float]:
        """(min, max) depth the graph can output, metres."""
        return (self.min_depth * self.scale, self.max_depth * self.scale)

    def _prepare(self, image: torch.Tensor) -> torch.Tensor:
        """Checks; uint8 → [0, 1] float32; resize to the network size when ``resize``."""
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"s2rdepth graph: expected an N x 3 x H x W RGB image, got shape "
                             f"{list(image.shape)}")
        if not self.resize and (image.shape[2] != self.height or image.shape[3] != self.width):
            raise RuntimeError(f"s2rdepth graph: this artifact was exported for {self.height} x "
                               f"{self.width} images, got {image.shape[2]} x {image.shape[3]}; "
                               f"resize the image first (s2rdepth.predict does) or export "
                               f"again with --height {image.shape[2]} --width {image.shape[3]}")
        if image.dtype == torch.uint8:
            x = image.to(torch.float32) / 255.0
        elif image.is_floating_point():
            x = image.to(torch.float32)
        else:
            raise TypeError(f"s2rdepth graph: expected a uint8 image in [0, 255] or a floating-point "
                            f"image in [0, 1], got dtype {image.dtype}")
        if self.resize:
            x = resize_bilinear(x, self.height, self.width)
        return x

    def _run(self, image: torch.Tensor) -> Tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]:
        raise NotImplementedError

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self._run(image)[0]


class S2RGraph(DepthGraph):
    """S2R-DepthNet graph: ``depth = (y + 1) / 2 * max_depth`` metres (0 … max_depth)."""

    def __init__(self, net: S2RDepthNet, height: int, width: int, resize: bool,
                 max_depth: Optional[float] = None) -> None:
        super().__init__(net, height, width, resize)
        self.max_depth = float(max_depth if max_depth is not None else net.max_depth)

    def _run(self, image: torch.Tensor) -> Tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]:
        """(depth metres, structure or None, attention or None), at the input size."""
        h, w = image.shape[2], image.shape[3]
        x = self._prepare(image)
        out = self.net(x * 2.0 - 1.0)
        depth = (out.depth + 1.0) * (0.5 * self.max_depth)
        structure = out.structure
        attention = out.attention
        if self.resize:
            depth = resize_bilinear(depth, h, w)
            if structure is not None:
                structure = resize_bilinear(structure, h, w)
            if attention is not None:
                attention = resize_bilinear(attention, h, w)
        return depth, structure, attention


class S2RMapsGraph(S2RGraph):
    """:class:`S2RGraph` returning ``(depth, structure, attention)``; needs an S2R variant with
    both maps (``ste_dsa_mul``, ``ste_dsa_add``, ``ste_dsa_concat``)."""

    def forward(self, image: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # type: ignore[override]
        depth, structure, attention = self._run(image)
        if structure is None or attention is None:
            raise RuntimeError("s2rdepth graph: this model variant has no structure/attention maps")
        return depth, structure, attention


class DAGraph(DepthGraph):
    """DA-Monodepth graph (encoder + depth decoder): finest sigmoid disparity → metres
    ``scale / (1/max + (1/min - 1/max) * disp)``; with ``resize`` the disparity is resized to the
    input size before the conversion, as :class:`~s2rdepth.models.DAMonodepthPredictor` does."""

    def __init__(self, net: DAMonodepth, height: int, width: int, resize: bool,
                 min_depth: Optional[float] = None, max_depth: Optional[float] = None,
                 scale: float = 1.0) -> None:
        net.semantic_decoder = None
        net.domain_classifier = None
        super().__init__(net, height, width, resize)
        self.min_depth = float(min_depth if min_depth is not None else net.min_depth)
        self.max_depth = float(max_depth if max_depth is not None else net.max_depth)
        self.scale = float(scale)

    def _run(self, image: torch.Tensor) -> Tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]:
        h, w = image.shape[2], image.shape[3]
        x = self._prepare(image)
        disp = self.net.decode_depth(self.net.encode(x))[-1]
        if self.resize:
            disp = resize_bilinear(disp, h, w)
        min_disp = 1.0 / self.max_depth
        max_disp = 1.0 / self.min_depth
        depth = self.scale / (min_disp + (max_disp - min_disp) * disp)
        return depth, None, None


def build_graph(model: nn.Module, height: int, width: int, *, outputs: Sequence[str] = ("depth",),
                resize: bool = False, export_ops: bool = True, min_depth: Optional[float] = None,
                max_depth: Optional[float] = None, scale: float = 1.0) -> DepthGraph:
    """The deployable graph of ``model`` (deep-copied) at network size ``height`` x ``width``.

    Args:
        model: a trained S2RDepthNet or DAMonodepth.
        height, width: network input size in pixels (S2R: divisible by 16 and at least the
            model's ``min_size``; DA-Monodepth: divisible by 32 and at least 64).
        outputs: ``("depth",)`` (a graph returning one tensor) or :data:`OUTPUT_NAMES` (a tuple
            ``(depth, structure, attention)``; S2R variants with both maps only).
        resize: accept any input size (see the module docstring).
        export_ops: replace the fused ops by standard ops (:func:`replace_fused_modules`).
        min_depth, max_depth, scale: depth range in metres (default: the model's); S2R uses only
            ``max_depth``; ``scale`` multiplies the DA-Monodepth depth.
    """
    outputs = tuple(outputs)
    if outputs not in (("depth",), OUTPUT_NAMES):
        raise ValueError(f"outputs must be ('depth',) or {OUTPUT_NAMES}, got {outputs}")
    if isinstance(model, S2RDepthNet):
        multiple, minimum = 16, int(model.min_size)
    elif isinstance(model, DAMonodepth):
        multiple, minimum = 32, 64
    else:
        raise TypeError(f"expected an S2RDepthNet or a DAMonodepth, got {type(model).__name__}")
    height, width = int(height), int(width)
    if height % multiple or width % multiple or height < minimum or width < minimum:
        raise ValueError(f"network size must be divisible by {multiple} and at least {minimum} "
                         f"for this model, got {height} x {width}")
    missing = [n for n in outputs if n not in available_outputs(model)]
    if missing:
        raise ValueError(f"{type(model).__name__} (variant {getattr(model, 'variant', '-')!r}) cannot "
                         f"output {', '.join(missing)}; export depth only")
    net = copy.deepcopy(model)
    if export_ops:
        replace_fused_modules(net)
    if isinstance(net, S2RDepthNet):
        cls = S2RMapsGraph if outputs == OUTPUT_NAMES else S2RGraph
        return cls(net, height, width, resize, max_depth).eval()
    return DAGraph(net, height, width, resize, min_depth, max_depth, scale).eval()
