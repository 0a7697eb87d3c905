"""Fused instance normalisation with a per-channel or per-sample affine (AdaIN)."""
from __future__ import annotations

import torch

from . import _checks, reference
from ._backend import use_compiled

_OP = "adain"


def adain(x: torch.Tensor, weight: torch.Tensor | None = None, bias: torch.Tensor | None = None,
          eps: float = 1e-5) -> torch.Tensor:
    """Instance-normalise ``x`` over H, W and apply an optional affine.

    Args:
        x: N x C x H x W feature map, any floating dtype (float32/float64 compiled on CPU;
           float32/float16/bfloat16 on CUDA). Any memory layout: non-contiguous and
           channels-last inputs are made contiguous first.
        weight: scale, shape [C] (instance norm with affine) or [N, C] (AdaIN: one scale per
           sample and channel, e.g. predicted from a style code). ``None`` means 1.
        bias: shift, same shapes as ``weight``. ``None`` means 0.
        eps: added to the (biased) variance, > 0.

    Returns:
        ``(x - mean) / sqrt(var + eps) * weight + bias`` with the dtype and shape of ``x``.
        Differentiable with respect to ``x``, ``weight`` and ``bias``.
    """
    _checks.tensor(_OP, "x", x, dim=4)
    eps = _checks.number(_OP, "eps", eps, positive=True)
    n, c = x.shape[:2]
    affine = {}
    for name, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        _checks.tensor(_OP, name, t)
        if tuple(t.shape) not in ((c,), (n, c)):
            raise ValueError(f"{_OP}: {name} must have shape [C]=[{c}] or [N, C]=[{n}, {c}] "
                             f"for x of shape {tuple(x.shape)}, got {tuple(t.shape)}")
        affine[name] = t
    _checks.same_device(_OP, x=x, weight=weight, bias=bias)
    if weight is not None and weight.dtype != x.dtype:
        weight = weight.to(x.dtype)
    if bias is not None and bias.dtype != x.dtype:
        bias = bias.to(x.dtype)
    if not use_compiled(_OP, x):
        return reference.adain(x, weight, bias, eps)
    x = x.contiguous()
    weight = weight.contiguous() if weight is not None else None
    bias = bias.contiguous() if bias is not None else None
    return torch.ops.s2rdepth.adain(x, weight, bias, eps)
