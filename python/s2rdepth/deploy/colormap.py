"""Minimal depth visualisation for ``s2rdepth predict`` (NumPy + Pillow only).

Inverse depth is colour-mapped, so near surfaces are bright and the sky is dark, as in the
usual monocular-depth figures. The ``magma`` table of :mod:`s2rdepth.viz.colormaps` is used when
that module imports; otherwise a small built-in sequential map (black → purple → red → orange →
pale yellow, linear between eight control colours, :data:`PALETTE`).

Output files:

* :func:`save_depth_png` — 16-bit PNG of ``round(depth_m * 256)`` (KITTI convention; 0 means
  invalid, the largest representable depth is 255.996 m);
* :func:`save_color_png` — 8-bit RGB PNG of :func:`colorize_depth`;
* :func:`save_map_png` — 8-bit grey PNG of a [0, 1] map (structure ``M_s``, attention ``M_a``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np

__all__ = ["PALETTE", "apply_colormap", "builtin_colormap", "colorize_depth", "save_color_png", "save_depth_png",
           "save_map_png"]

#: Control colours (RGB, 0…255) at evenly spaced positions 0 … 1.
PALETTE = np.array([
    [0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21],
    [250, 193, 39], [252, 255, 164],
], dtype=np.float32)


def apply_colormap(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (H x W; clipped, NaN → 0) → H x W x 3 ``uint8`` RGB: ``magma`` from
    :mod:`s2rdepth.viz.colormaps` when available, else :func:`builtin_colormap`."""
    try:
        from ..viz.colormaps import colorize
    except Exception:  # viz absent or broken: the built-in map is enough for previews
        return builtin_colormap(values)
    v = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0), 0, 1)
    return colorize(v, "magma")


def builtin_colormap(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (H x W; clipped, NaN → 0) → H x W x 3 ``uint8`` through :data:`PALETTE`."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    v = np.clip(v, 0.0, 1.0) * (len(PALETTE) - 1)
    lo = np.minimum(np.floor(v).astype(np.int64), len(PALETTE) - 2)
    t = (v - lo)[..., None]
    rgb = PALETTE[lo] * (1.0 - t) + PALETTE[lo + 1] * t
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def colorize_depth(depth_m: np.ndarray, min_depth_m: Optional[float] = None,
                   max_depth_m: Optional[float] = None) -> np.ndarray:
    """Depth in metres (H x W) → H x W x 3 ``uint8``: colour of the inverse depth.

    The inverse depth is normalised between ``1 / max_depth_m`` and ``1 / min_depth_m``; each
    bound left ``None`` comes from the image (5th / 95th percentile of the inverse depth of the
    valid, > 0, pixels). Invalid pixels (≤ 0 or not finite) are black.
    """
    d = np.asarray(depth_m, dtype=np.float32)
    if d.ndim != 2:
        raise ValueError(f"colorize_depth expects an H x W depth map, got shape {d.shape}")
    valid = np.isfinite(d) & (d > 0)
    inv = np.zeros_like(d)
    inv[valid] = 1.0 / d[valid]
    if valid.any():
        lo = 1.0 / max_depth_m if max_depth_m else float(np.percentile(inv[valid], 5))
        hi = 1.0 / min_depth_m if min_depth_m else float(np.percentile(inv[valid], 95))
    else:
        lo, hi = 0.0, 1.0
    scale = hi - lo if hi > lo else 1.0
    rgb = apply_colormap((inv - lo) / scale)
    rgb[~valid] = 0
    return rgb


def save_depth_png(path: str | os.PathLike[str], depth_m: np.ndarray) -> Path:
    """Write depth in metres as a 16-bit grey PNG of ``round(depth * 256)`` (clipped to 0…65535)."""
    from PIL import Image

    d = np.nan_to_num(np.asarray(depth_m, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    q = np.clip(np.round(d * 256.0), 0, 65535).astype(np.uint16)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(q).save(path)
    return path


def save_color_png(path: str | os.PathLike[str], depth_m: np.ndarray, **kwargs) -> Path:
    """Write :func:`colorize_depth` of ``depth_m`` as an 8-bit RGB PNG."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(colorize_depth(depth_m, **kwargs)).save(path)
    return path


def save_map_png(path: str | os.PathLike[str], values: np.ndarray) -> Path:
    """Write a [0, 1] map as an 8-bit grey PNG (``round(v * 255)``)."""
    from PIL import Image

    v = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float32)), 0.0, 1.0)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(v * 255.0).astype(np.uint8)).save(path)
    return path
