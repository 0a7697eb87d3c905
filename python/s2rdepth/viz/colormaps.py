"""Colour maps as 256-entry uint8 lookup tables, without matplotlib.

* ``magma``, ``inferno``, ``plasma``, ``viridis`` — the perceptually uniform maps of van der
  Walt & Smith (matplotlib), evaluated from published degree-6 polynomial fits (Matt Zucker,
  "viridis/inferno/magma/plasma approximations", shadertoy WlfXRN, CC0); the fits stay within
  about 1/255 of the original tables.
* ``turbo`` — Google's improved rainbow map (Mikhailov 2019), from its published degree-5
  polynomial approximation (Ruofei Du, Apache-2.0).
* ``gray`` — linear grey ramp (structure and attention maps, as in the S2R-DepthNet figures).

:func:`colorize` maps values in [0, 1] through a table; NaN (invalid) pixels get a fixed colour.
Depth helpers map metres to [0, 1] linearly or in inverse depth (near = 1, bright).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

__all__ = ["COLORMAPS", "colorize", "colormap", "depth_to_unit", "unit_to_depth"]

# Polynomial coefficients c0..c6 (value = sum_k c_k t^k) per channel (R, G, B).
_POLY6: dict[str, tuple[tuple[float, float, float], ...]] = {
    "viridis": (
        (0.2777273272234177, 0.005407344544966578, 0.3340998053353061),
        (0.1050930431085774, 1.404613529898575, 1.384590162594685),
        (-0.3308618287255563, 0.214847559468213, 0.09509516302823659),
        (-4.634230498983486, -5.799100973351585, -19.33244095627987),
        (6.228269936347081, 14.17993336680509, 56.69055260068105),
        (4.776384997670288, -13.74514537774601, -65.35303263337234),
        (-5.435455855934631, 4.645852612178535, 26.3124352495832),
    ),
    "plasma": (
        (0.05873234392399702, 0.02333670892565664, 0.5433401826748754),
        (2.176514634195958, 0.2383834171260182, 0.7539604599784036),
        (-2.689460476458034, -7.455851135738909, 3.110799939717086),
        (6.130348345893603, 42.3461881477227, -28.51885465332158),
        (-11.10743619062271, -82.66631109428045, 60.13984767418263),
        (10.02306557647065, 71.41361770095349, -54.07218655560067),
        (-3.658713842777788, -22.93153465461149, 18.19190778539828),
    ),
    "magma": (
        (-0.002136485053939582, -0.000749655052795221, -0.005386127855323933),
        (0.2516605407371642, 0.6775232436837668, 2.494026599312351),
        (8.353717279216625, -3.577719514958484, 0.3144679030132573),
        (-27.66873308576866, 14.26473078096533, -13.64921318813922),
        (52.17613981234068, -27.94360607168351, 12.94416944238394),
        (-50.76852536473588, 29.04658282127291, 4.23415299384598),
        (18.65570506591883, -11.48977351997711, -5.601961508734096),
    ),
    "inferno": (
        (0.0002189403691192265, 0.001651004631001012, -0.01948089843709184),
        (0.1065134194856116, 0.5639564367884091, 3.932712388889277),
        (11.60249308247187, -3.972853965665698, -15.9423941062914),
        (-41.70399613139459, 17.43639888205313, 44.35414519872813),
        (77.162935699427, -33.40235894210092, -81.80730925738993),
        (-71.31942824499214, 32.62606426397723, 73.20951985803202),
        (25.13112622477341, -12.24266895238567, -23.07032500287172),
    ),
    # Turbo: degree-5 fit, coefficients of 1, t, ..., t^5 per channel
    "turbo": (
        (0.13572138, 0.09140261, 0.10667330),
        (4.61539260, 2.19418839, 12.64194608),
        (-42.66032258, 4.84296658, -60.58204836),
        (132.13108234, -14.18503333, 110.36276771),
        (-152.94239396, 4.27729857, -89.90310912),
        (59.28637943, 2.82956604, 27.34824973),
    ),
}

#: Names accepted by :func:`colormap`.
COLORMAPS: tuple[str, ...] = ("magma", "inferno", "plasma", "viridis", "turbo", "gray")


@lru_cache(maxsize=None)
def colormap(name: str, size: int = 256) -> np.ndarray:
    """The ``(size, 3)`` uint8 table of ``name`` (``"<name>_r"`` reverses it)."""
    reverse = name.endswith("_r")
    base = name[:-2] if reverse else name
    if base not in COLORMAPS:
        raise ValueError(f"unknown colour map {name!r}; expected one of {', '.join(COLORMAPS)} (or *_r)")
    t = np.linspace(0.0, 1.0, size)
    if base == "gray":
        rgb = np.repeat(t[:, None], 3, axis=1)
    else:
        coeffs = np.asarray(_POLY6[base], dtype=np.float64)  # (degree + 1, 3)
        rgb = np.zeros((size, 3))
        for c in coeffs[::-1]:  # Horner
            rgb = rgb * t[:, None] + c
    lut = np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)
    if reverse:
        lut = lut[::-1]
    lut.setflags(write=False)
    return lut


def colorize(values: np.ndarray, cmap: str = "magma", invalid: Sequence[int] = (0, 0, 0),
             lut_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """Values in [0, 1] (``(H, W)``, NaN = invalid) → uint8 ``(H, W, 3)``.

    ``lut_range`` uses only part of the table (e.g. ``(0.1, 1.0)`` keeps the darkest tenth of
    ``magma`` for nothing, so far depths stay visible on a black background).
    """
    lut = colormap(cmap)
    v = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(v)
    lo, hi = lut_range
    t = lo + (hi - lo) * np.clip(np.where(bad, 0.0, v), 0.0, 1.0)
    idx = np.round(t * (len(lut) - 1)).astype(np.intp)
    out = lut[idx]
    if bad.any():
        out[bad] = np.asarray(invalid, dtype=np.uint8)
    return out


def depth_to_unit(depth_m: np.ndarray, vmin: float, vmax: float, scale: str = "inverse") -> np.ndarray:
    """Depth in metres → [0, 1] with **near = 1** (bright in ``magma``), clipped to ``[vmin, vmax]``.

    ``scale="inverse"`` is linear in 1/depth (like the disparity maps of monodepth-style figures,
    resolving the near field); ``"linear"`` is linear in metres. Non-positive / non-finite
    depths → NaN.
    """
    if not 0 < vmin < vmax:
        raise ValueError(f"need 0 < vmin < vmax, got {vmin}, {vmax}")
    d = np.asarray(depth_m, dtype=np.float64)
    ok = np.isfinite(d) & (d > 0)
    d = np.clip(np.where(ok, d, vmax), vmin, vmax)
    if scale == "inverse":
        t = (1.0 / d - 1.0 / vmax) / (1.0 / vmin - 1.0 / vmax)
    elif scale == "linear":
        t = (vmax - d) / (vmax - vmin)
    else:
        raise ValueError(f"scale must be 'inverse' or 'linear', got {scale!r}")
    return np.where(ok, t, np.nan)


def unit_to_depth(t: np.ndarray, vmin: float, vmax: float, scale: str = "inverse") -> np.ndarray:
    """Inverse of :func:`depth_to_unit` (for colour-bar ticks)."""
    t = np.asarray(t, dtype=np.float64)
    if scale == "inverse":
        return 1.0 / (1.0 / vmax + t * (1.0 / vmin - 1.0 / vmax))
    if scale == "linear":
        return vmax - t * (vmax - vmin)
    raise ValueError(f"scale must be 'inverse' or 'linear', got {scale!r}")
