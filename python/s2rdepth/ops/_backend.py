"""Loading of the compiled extension and choice of backend per call.

The compiled library ``s2rdepth._C`` registers ``torch.ops.s2rdepth.*``. When it is missing (a
source tree used without building, or an unsupported platform) every op falls back to the
pure-PyTorch reference in :mod:`s2rdepth.ops.reference`, with one warning per op.
"""
from __future__ import annotations

import warnings
from types import ModuleType
from typing import Any

import torch

from .._version import __version__


class S2RDepthFallbackWarning(RuntimeWarning):
    """An op ran its pure-PyTorch reference because no compiled kernel fits the call."""


def _load() -> tuple[ModuleType | None, str | None]:
    try:
        from .. import _C  # noqa: F401  (import registers torch.ops.s2rdepth)
    except ImportError as exc:  # pragma: no cover - exercised only without a build
        return None, f"{type(exc).__name__}: {exc}"
    return _C, None


_C, _LOAD_ERROR = _load()
_WARNED: set[str] = set()


def compiled_available() -> bool:
    """Whether ``s2rdepth._C`` was imported (its ops are registered with torch)."""
    return _C is not None


def cuda_compiled() -> bool:
    """Whether the compiled library contains CUDA kernels."""
    return _C is not None and bool(_C.with_cuda)


def backend() -> str:
    """``"compiled-cuda"`` (CUDA kernels built and a GPU visible), ``"compiled-cpu"`` or ``"reference"``."""
    if _C is None:
        return "reference"
    if cuda_compiled() and torch.cuda.is_available():
        return "compiled-cuda"
    return "compiled-cpu"


def use_compiled(op: str, *tensors: torch.Tensor, dtypes: tuple[torch.dtype, ...] | None = None) -> bool:
    """Whether ``op`` can run compiled for these tensors; otherwise warn once and use the reference."""
    device = tensors[0].device
    reason = None
    if _C is None:
        reason = f"s2rdepth._C is not available ({_LOAD_ERROR})"
    elif device.type == "cuda" and not cuda_compiled():
        reason = "s2rdepth._C was built without CUDA kernels"
    elif device.type not in ("cpu", "cuda"):
        reason = f"no compiled kernel for device type {device.type!r}"
    elif dtypes is not None and tensors[0].dtype not in dtypes:
        reason = f"no compiled kernel for dtype {tensors[0].dtype} on {device.type}"
    if reason is None:
        return True
    key = f"{op}:{reason}"
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(f"s2rdepth.ops.{op}: using the pure-PyTorch reference: {reason}",
                      S2RDepthFallbackWarning, stacklevel=3)
    return False


def build_info() -> dict[str, Any]:
    """What ``s2rdepth info`` prints: versions, backend, compiled CUDA architectures."""
    return {
        "s2rdepth": __version__,
        "backend": backend(),
        "compiled_extension": _C.__file__ if _C is not None else f"missing ({_LOAD_ERROR})",
        "compiled_cuda_kernels": cuda_compiled(),
        "compiled_cuda_archs": (_C.cuda_archs or "-") if _C is not None else "-",
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda or "-",
        "cuda_available": torch.cuda.is_available(),
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        if torch.cuda.is_available() else [],
        "cpu_threads": torch.get_num_threads(),
    }
