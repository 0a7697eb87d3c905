"""Small composable building blocks shared by the architectures of :mod:`s2rdepth.models`.

Every instance normalisation goes through :func:`s2rdepth.ops.adain` and every gradient reversal
through :func:`s2rdepth.ops.grad_reverse`, wrapped in the modules :class:`InstanceNorm2d`,
:class:`AdaptiveInstanceNorm2d` and :class:`GradientReversal`. Those modules have a
``standard_ops`` switch: when it is on (see :func:`to_standard_ops`), or when the module is being
compiled by TorchScript, they run the pure-PyTorch reference math of
:mod:`s2rdepth.ops.reference` instead, so exported graphs never contain ``torch.ops.s2rdepth.*``
and never need the compiled library ``s2rdepth._C``.
"""
from __future__ import annotations

import math
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import ops
from ..ops import reference

__all__ = [
    "ACTIVATIONS", "AdaINResidualBlock", "AdaptiveInstanceNorm2d", "BasicResidualBlock",
    "ConvBlock", "ConvHead", "FusedOpModule", "GradientReversal", "InstanceNorm2d", "LayerNorm2d", "ResidualBlock",
    "SobelEdges", "UpProjection", "count_parameters", "init_weights", "make_activation",
    "scale_channels", "to_fused_ops", "to_standard_ops",
]


# ---------------------------------------------------------------------------------------------
# channel scaling and parameter helpers
# ---------------------------------------------------------------------------------------------
def scale_channels(channels: int, width: float, minimum: int = 4) -> int:
    """``round(channels * width)``, at least ``minimum`` (and never more than ``channels`` for
    ``width <= 1``). ``width = 1`` returns ``channels`` unchanged (the paper configuration)."""
    if width == 1.0:
        return int(channels)
    if not (width > 0 and math.isfinite(width)):
        raise ValueError(f"width must be a finite number > 0, got {width!r}")
    return max(min(minimum, channels), int(round(channels * width)))


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of distinct parameters (shared parameters counted once)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def init_weights(module: nn.Module, kind: str = "normal", gain: float = 0.02) -> nn.Module:
    """Initialise the conv/linear/norm layers of ``module`` in place and return it.

    ``kind``: ``"normal"`` (weights N(0, gain), the GASDA/pix2pix scheme; BN weights N(1, gain)),
    ``"kaiming"`` (He normal, fan-in; MUNIT generators), ``"drn"`` (N(0, sqrt(2 / (k*k*out)));
    DRN), ``"default"`` (leave PyTorch's defaults). Biases become 0; BN biases 0.
    """
    if kind == "default":
        return module
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            if kind == "normal":
                nn.init.normal_(m.weight, 0.0, gain)
            elif kind == "kaiming":
                nn.init.kaiming_normal_(m.weight, a=0.0, mode="fan_in")
            elif kind == "drn":
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0.0, 0.01)
                else:
                    k = m.kernel_size[0] * m.kernel_size[1]
                    n = k * (m.out_channels if isinstance(m, nn.Conv2d) else m.weight.shape[1])
                    nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / n))
            else:
                raise ValueError(f"init_weights: unknown kind {kind!r}")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            if kind == "normal":
                nn.init.normal_(m.weight, 1.0, gain)
            else:
                nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return module


#: Activation names accepted by :func:`make_activation`.
ACTIVATIONS = ("relu", "lrelu", "elu", "prelu", "tanh", "sigmoid", "none")


def make_activation(name: str) -> nn.Module:
    """``relu``, ``lrelu`` (LeakyReLU 0.2), ``elu``, ``prelu``, ``tanh``, ``sigmoid`` or ``none``."""
    if name == "relu":
        return nn.ReLU()
    if name == "lrelu":
        return nn.LeakyReLU(0.2)
    if name == "elu":
        return nn.ELU()
    if name == "prelu":
        return nn.PReLU()
    if name == "tanh":
        return nn.Tanh()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")


# ---------------------------------------------------------------------------------------------
# fused-op modules and the standard-op switch
# ---------------------------------------------------------------------------------------------
class FusedOpModule(nn.Module):
    """Base of the modules that call a fused :mod:`s2rdepth.ops` operator.

    ``standard_ops = True`` makes them use the reference math (standard PyTorch ops only).
    TorchScript always compiles the standard path.
    """

    def __init__(self) -> None:
        super().__init__()
        self.standard_ops = False


def to_standard_ops(model: nn.Module) -> nn.Module:
    """Switch every fused-op module inside ``model`` to the standard-op reference math (in place).

    Use before ``torch.export``/ONNX/TensorRT export so the artifact has no ``s2rdepth`` ops and
    does not need ``s2rdepth._C``. Outputs agree with the fused path to float rounding. Returns
    ``model``.
    """
    for m in model.modules():
        if isinstance(m, FusedOpModule):
            m.standard_ops = True
    return model


def to_fused_ops(model: nn.Module) -> nn.Module:
    """Undo :func:`to_standard_ops` (in place); returns ``model``."""
    for m in model.modules():
        if isinstance(m, FusedOpModule):
            m.standard_ops = False
    return model


class InstanceNorm2d(FusedOpModule):
    """Instance normalisation without affine and without running statistics (the
    ``nn.InstanceNorm2d(C)`` default), through :func:`s2rdepth.ops.adain`. Parameter-free."""

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.jit.is_scripting() or self.standard_ops:
            return reference.adain(x, None, None, self.eps)
        return self._fused(x)

    @torch.jit.unused
    def _fused(self, x: torch.Tensor) -> torch.Tensor:
        return ops.adain(x, None, None, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}"


class AdaptiveInstanceNorm2d(FusedOpModule):
    """AdaIN: instance normalisation followed by a per-sample affine given at call time.

    ``forward(x, weight, bias)`` with ``weight``/``bias`` of shape [N, C] (or [C]), typically
    predicted from a style code by an MLP. Parameter-free.
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps

    def forward(self, x: torch.Tensor, weight: Optional[torch.Tensor],
                bias: Optional[torch.Tensor]) -> torch.Tensor:
        if torch.jit.is_scripting() or self.standard_ops:
            return reference.adain(x, weight, bias, self.eps)
        return self._fused(x, weight, bias)

    @torch.jit.unused
    def _fused(self, x: torch.Tensor, weight: Optional[torch.Tensor],
               bias: Optional[torch.Tensor]) -> torch.Tensor:
        return ops.adain(x, weight, bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}"


class GradientReversal(FusedOpModule):
    """Gradient reversal layer (:func:`s2rdepth.ops.grad_reverse`): identity forward, gradient
    times ``-coeff`` backward. In TorchScript it is a plain identity (inference graphs)."""

    def forward(self, x: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
        if torch.jit.is_scripting():
            return x
        if self.standard_ops:
            return self._reference(x, coeff)
        return self._fused(x, coeff)

    @torch.jit.unused
    def _reference(self, x: torch.Tensor, coeff: float) -> torch.Tensor:
        return reference.grad_reverse(x, coeff)

    @torch.jit.unused
    def _fused(self, x: torch.Tensor, coeff: float) -> torch.Tensor:
        return ops.grad_reverse(x, coeff)


class LayerNorm2d(nn.Module):
    """Layer normalisation over C, H, W of each sample with a per-channel affine (MUNIT's decoder
    norm). ``gamma`` starts uniform in [0, 1) as in MUNIT, ``beta`` at 0. Uses the biased
    variance with ``eps`` inside the square root."""

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.gamma = nn.Parameter(torch.empty(num_features).uniform_())
        self.beta = nn.Parameter(torch.zeros(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(x, x.shape[1:], None, None, self.eps)
        return y * self.gamma.view(1, -1, 1, 1) + self.beta.view(1, -1, 1, 1)


# ---------------------------------------------------------------------------------------------
# convolution blocks
# ---------------------------------------------------------------------------------------------
def _make_norm(kind: str, channels: int) -> nn.Module:
    if kind == "in":
        return InstanceNorm2d(channels)
    if kind == "bn":
        return nn.BatchNorm2d(channels)
    if kind == "ln":
        return LayerNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; expected 'in', 'bn', 'ln' or 'none'")


class ConvBlock(nn.Module):
    """Padding → conv (with bias) → norm → activation (MUNIT's ``Conv2dBlock``).

    The only parameters live in ``conv`` (and in a ``bn``/``ln`` norm), so the state-dict keys are
    ``conv.weight``/``conv.bias`` (+ ``norm.*``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, norm: str = "none", activation: str = "relu",
                 pad_mode: str = "reflect", bias: bool = True) -> None:
        super().__init__()
        self.padding = padding
        self.pad_mode = pad_mode
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, bias=bias)
        self.norm = _make_norm(norm, out_channels)
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.padding > 0:
            if self.pad_mode == "zeros":
                x = F.pad(x, (self.padding, self.padding, self.padding, self.padding))
            else:
                x = F.pad(x, (self.padding, self.padding, self.padding, self.padding),
                          mode=self.pad_mode)
        return self.act(self.norm(self.conv(x)))


class ResidualBlock(nn.Module):
    """``x + IN(conv2(pad(act(IN(conv1(pad(x)))))))`` with 3x3 convs (bias) and reflect padding.

    Parameters: ``conv1``, ``conv2``; the instance norms are parameter-free (MUNIT content
    encoder / STE encoder residual block).
    """

    def __init__(self, channels: int, activation: str = "lrelu") -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, bias=True)
        self.norm1 = InstanceNorm2d(channels)
        self.act = make_activation(activation)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, bias=True)
        self.norm2 = InstanceNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.norm1(self.conv1(F.pad(x, (1, 1, 1, 1), mode="reflect"))))
        y = self.norm2(self.conv2(F.pad(y, (1, 1, 1, 1), mode="reflect")))
        return x + y


class AdaINResidualBlock(nn.Module):
    """Residual block whose two instance norms take a per-sample affine (AdaIN).

    ``forward(x, adain_params)`` with ``adain_params`` N x (4 C): per norm ``[shift (C), scale (C)]``
    for norm 1 then norm 2 (see :attr:`num_adain_params`).
    """

    def __init__(self, channels: int, activation: str = "relu") -> None:
        super().__init__()
        self.channels = channels
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, bias=True)
        self.norm1 = AdaptiveInstanceNorm2d(channels)
        self.act = make_activation(activation)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, bias=True)
        self.norm2 = AdaptiveInstanceNorm2d(channels)

    @property
    def num_adain_params(self) -> int:
        return 4 * self.channels

    def forward(self, x: torch.Tensor, adain_params: torch.Tensor) -> torch.Tensor:
        c = self.channels
        shift1, scale1 = adain_params[:, 0:c], adain_params[:, c:2 * c]
        shift2, scale2 = adain_params[:, 2 * c:3 * c], adain_params[:, 3 * c:4 * c]
        y = self.conv1(F.pad(x, (1, 1, 1, 1), mode="reflect"))
        y = self.act(self.norm1(y, scale1, shift1))
        y = self.conv2(F.pad(y, (1, 1, 1, 1), mode="reflect"))
        y = self.norm2(y, scale2, shift2)
        return x + y


class BasicResidualBlock(nn.Module):
    """ResNet basic block (two 3x3 convs without bias, BN, ReLU after the sum), optionally dilated.

    Key layout of torchvision's ``BasicBlock`` and DRN's: ``conv1``, ``bn1``, ``conv2``, ``bn2``,
    ``downsample.0`` (1x1 conv), ``downsample.1`` (BN). ``dilation`` is (dilation of conv1,
    dilation of conv2); padding equals the dilation.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 dilation: tuple[int, int] = (1, 1)) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=dilation[0],
                               dilation=dilation[0], bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, padding=dilation[1],
                               dilation=dilation[1], bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample: Optional[nn.Module] = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        if self.downsample is not None:
            identity = self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + identity)


class UpProjection(nn.Module):
    """Up-projection (Laina et al.): bilinear resize (``align_corners=True``) to a given size,
    then ``ReLU(main + projection)`` with main = 5x5 conv → BN → ReLU → 3x3 conv → BN and
    projection = 5x5 conv → BN. Convs have no bias and zero padding.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.main_conv1 = nn.Conv2d(in_channels, out_channels, 5, 1, padding=2, bias=False)
        self.main_bn1 = nn.BatchNorm2d(out_channels)
        self.main_conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, padding=1, bias=False)
        self.main_bn2 = nn.BatchNorm2d(out_channels)
        self.proj_conv = nn.Conv2d(in_channels, out_channels, 5, 1, padding=2, bias=False)
        self.proj_bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, size: List[int]) -> torch.Tensor:
        x = F.interpolate(x, size=(size[0], size[1]), mode="bilinear", align_corners=True)
        main = F.relu(self.main_bn1(self.main_conv1(x)))
        main = self.main_bn2(self.main_conv2(main))
        proj = self.proj_bn(self.proj_conv(x))
        return F.relu(main + proj)


class ConvHead(nn.Module):
    """Reflect padding → k x k conv → activation: a prediction head (``conv`` holds the weights)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 activation: str = "sigmoid", bias: bool = True) -> None:
        super().__init__()
        self.pad = kernel_size // 2
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, 1, bias=bias)
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.pad
        if p > 0:
            x = F.pad(x, (p, p, p, p), mode="reflect")
        return self.act(self.conv(x))


class SobelEdges(nn.Module):
    """Sobel edge magnitude of an RGB image, the structural input of the "Edge + Baseline"
    ablation of S2R-DepthNet (Table 5).

    Input N x 3 x H x W in [-1, 1]; the image is mapped to [0, 1], converted to luminance
    (ITU-R BT.601 weights 0.299, 0.587, 0.114), filtered with the 3x3 Sobel kernels (replicate
    padding) and the gradient magnitude is divided by its maximum possible value 4*sqrt(2).
    Output N x 1 x H x W in [0, 1]. No parameters (the kernels are non-persistent buffers).
    """

    def __init__(self) -> None:
        super().__init__()
        gx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
        kernels = torch.stack([gx, gx.t()]).unsqueeze(1)  # 2 x 1 x 3 x 3
        self.register_buffer("kernels", kernels, persistent=False)
        self.register_buffer("luma", torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1),
                             persistent=False)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = (image + 1.0) * 0.5
        gray = (x * self.luma.to(x.dtype)).sum(dim=1, keepdim=True)
        g = F.conv2d(F.pad(gray, (1, 1, 1, 1), mode="replicate"), self.kernels.to(x.dtype))
        mag = torch.sqrt(g[:, 0:1].square() + g[:, 1:2].square() + 1e-12)
        return mag / (4.0 * math.sqrt(2.0))
