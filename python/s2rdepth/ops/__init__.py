"""Fused operators of s2rdepth (compiled C++/CUDA, with pure-PyTorch references).

================================  =========================================================
:func:`adain`                     instance norm + per-channel or per-sample affine (AdaIN)
:func:`grad_reverse`              gradient reversal layer; :func:`dann_coefficient` schedule
:func:`structure_loss`            S2R-DepthNet's depth-gradient-weighted structure regulariser
:func:`depth_metrics`             batched KITTI/NYU depth metrics; :func:`mean_metrics`
:func:`backend`                   ``"compiled-cuda"``, ``"compiled-cpu"`` or ``"reference"``
================================  =========================================================

The compiled ops are also reachable as ``torch.ops.s2rdepth.*`` (TorchScript, torch.compile).
"""
from . import reference
from ._backend import S2RDepthFallbackWarning, backend, build_info, compiled_available, cuda_compiled
from .adain import adain
from .grad_reverse import dann_coefficient, grad_reverse
from .metrics import depth_metrics, mean_metrics
from .reference import METRIC_NAMES
from .structure_loss import structure_loss

if compiled_available():
    from . import _fake  # noqa: F401  (fake kernels for torch.compile / torch.export)

__all__ = [
    "METRIC_NAMES", "S2RDepthFallbackWarning", "adain", "backend", "build_info",
    "compiled_available", "cuda_compiled", "dann_coefficient", "depth_metrics", "grad_reverse",
    "mean_metrics", "reference", "structure_loss",
]
