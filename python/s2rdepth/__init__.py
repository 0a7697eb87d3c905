"""s2rdepth: synthetic-to-real monocular depth estimation.

Implements S2R-DepthNet (Chen et al., CVPR 2021; domain generalisation) and DA-Monodepth
(Lu, Yu, Oh; domain adaptation) on top of fused C++/CUDA operators (:mod:`s2rdepth.ops`).
"""
from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["__version__", "export", "predict"]

#: Top-level names imported on first use (PEP 562), so ``import s2rdepth`` stays light (no torch).
_LAZY = {"predict": ("s2rdepth.deploy.prediction", "predict"),
         "export": ("s2rdepth.deploy.exporter", "export")}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 's2rdepth' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
