"""Fake (meta) kernels: output shapes and dtypes of the compiled ops without computing them.

torch.compile, torch.export and FakeTensor use these to trace graphs that call the ops. The
library points torch at this module (``set_python_module``), so it is imported on demand too.
"""
from __future__ import annotations

import torch
from torch.library import register_fake


def _stat_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float64 if dtype == torch.float64 else torch.float32


@register_fake("s2rdepth::adain_forward")
def _adain_forward(x, weight, bias, eps=1e-5):
    n, c = x.shape[:2]
    stats = x.new_empty((n, c), dtype=_stat_dtype(x.dtype))
    return torch.empty_like(x, memory_format=torch.contiguous_format), stats, torch.empty_like(stats)


@register_fake("s2rdepth::adain_backward")
def _adain_backward(grad_out, x, weight, mean, rstd, compute_grad_x=True):
    grad_x = torch.empty_like(x, memory_format=torch.contiguous_format) if compute_grad_x else x.new_empty((0,))
    return grad_x, torch.empty_like(mean), torch.empty_like(mean)


@register_fake("s2rdepth::grad_reverse_backward")
def _grad_reverse_backward(grad, coeff):
    return torch.empty_like(grad)


@register_fake("s2rdepth::structure_loss")
def _structure_loss(structure, depth, beta=1e-3, mode="reference"):
    return structure.new_empty(())


@register_fake("s2rdepth::structure_loss_backward")
def _structure_loss_backward(grad, structure, depth, beta, mode):
    return torch.empty_like(structure, memory_format=torch.contiguous_format)


@register_fake("s2rdepth::depth_metrics")
def _depth_metrics(pred, gt, min_depth=1e-3, max_depth=80.0, garg_crop=True, median_scaling=True,
                   order="monodepth2"):
    return pred.new_empty((pred.shape[0], 10), dtype=torch.float64)
