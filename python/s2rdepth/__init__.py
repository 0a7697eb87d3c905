"""s2rdepth: synthetic-to-real monocular depth estimation.

Implements S2R-DepthNet (Chen et al., CVPR 2021; domain generalisation) and DA-Monodepth
(Lu, Yu, Oh; domain adaptation) on top of fused C++/CUDA operators (:mod:`s2rdepth.ops`).
"""
from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
