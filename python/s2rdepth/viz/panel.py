"""Figure panels in the style of S2R-DepthNet Figures 1 and 3 (plain RGB PNGs via Pillow).

A panel is a grid of *tiles* (a title above, a map, and a vertical colour bar beside it):

* S2R-DepthNet: input, structure map ``M_s``, attention map ``M_a``, depth-specific structure
  ``M_s · M_a`` (grey, 0..1), predicted depth (``magma``, near = bright, colour bar in metres);
* DA-Monodepth: input, disparity, depth, semantic segmentation (Cityscapes colours);
* with ground truth: the ground truth on the same colour scale (sparse Velodyne points are
  max-pooled onto the tile grid, so no point is lost by downscaling) and an **error map**:
  ``|s·pred − gt|`` in metres at every valid ground-truth pixel (``s`` = the protocol's median
  ratio), over a darkened copy of the input, the evaluation crop outlined; its title holds the
  image's abs_rel / rmse / a1 under the protocol (computed with :func:`s2rdepth.ops.depth_metrics`).

Layout (all in pixels, see :func:`panel_size`): every tile is ``tile_width`` wide and keeps the
input's aspect ratio; a cell is ``TITLE_H + tile_h`` high and ``tile_width + BAR_W`` wide; cells
sit ``MARGIN`` apart with a ``MARGIN`` border, ``columns`` per row.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .colormaps import colorize, colormap, depth_to_unit

__all__ = ["BAR_W", "ColorBar", "MARGIN", "TITLE_H", "Tile", "compose", "depth_panel", "error_map",
           "panel_size", "semantic_colors"]

MARGIN = 6
TITLE_H = 20
BAR_W = 66
_BAR_THICK = 12
_BG = (255, 255, 255)
_FG = (20, 20, 20)
#: part of ``magma`` used for depth (the darkest 8 % left out so far points stay visible on black)
DEPTH_LUT_RANGE = (0.08, 1.0)


@dataclass
class ColorBar:
    """A vertical colour bar: ``cmap`` over ``[vmin, vmax]`` (top = 1 = near for depth).

    ``scale``: ``"inverse"`` / ``"linear"`` (depth in metres, ticks in metres) or ``"value"``
    (plain values, bottom = vmin, top = vmax). ``label`` is drawn at the bottom (e.g. ``"m"``).
    """

    cmap: str
    vmin: float
    vmax: float
    scale: str = "value"
    label: str = ""
    lut_range: tuple[float, float] = (0.0, 1.0)


@dataclass
class Tile:
    """One cell: a title, an RGB map ``(H, W, 3)`` uint8 at tile size, an optional colour bar."""

    title: str
    rgb: np.ndarray
    bar: Optional[ColorBar] = None


def _font(size: int = 12) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: bitmap font only
        return ImageFont.load_default()


def panel_size(n_tiles: int, tile_hw: Sequence[int], columns: int = 2) -> tuple[int, int]:
    """``(width, height)`` in pixels of a panel of ``n_tiles`` tiles of ``tile_hw`` each."""
    cols = max(1, min(int(columns), int(n_tiles)))
    rows = math.ceil(n_tiles / cols)
    th, tw = int(tile_hw[0]), int(tile_hw[1])
    return (MARGIN + cols * (tw + BAR_W + MARGIN), MARGIN + rows * (TITLE_H + th + MARGIN))


def tile_shape(image_hw: Sequence[int], tile_width: Optional[int] = None) -> tuple[int, int]:
    """Tile ``(height, width)`` for an input of ``image_hw``: ``tile_width`` (default
    ``min(W, 640)``) wide, the input's aspect ratio."""
    h, w = int(image_hw[0]), int(image_hw[1])
    tw = min(w, 640) if tile_width is None else int(tile_width)
    if tw < 8:
        raise ValueError(f"tile width must be at least 8 pixels, got {tw}")
    return max(1, round(tw * h / w)), tw


def _nice_ticks(lo: float, hi: float) -> list[float]:
    """Round numbers in [lo, hi] (1-2-5 steps)."""
    out = []
    for e in range(-3, 5):
        for m in (1, 2, 3, 5):
            v = m * 10.0 ** e
            if lo <= v <= hi:
                out.append(v)
    return out


def _fmt_tick(v: float) -> str:
    return f"{v:.0f}" if v >= 10 else (f"{v:.1f}".rstrip("0").rstrip(".") if v >= 1 else f"{v:.2g}")


def _render_bar(bar: ColorBar, height: int) -> "Image.Image":  # noqa: F821
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (BAR_W, height), _BG)
    draw = ImageDraw.Draw(img)
    font = _font(11)
    label_h = 14 if bar.label else 0
    top, bottom = 6, max(8, height - 6 - label_h)
    span = bottom - top
    t = np.linspace(1.0, 0.0, span)[:, None]  # top row = 1
    lo, hi = bar.lut_range
    lut = colormap(bar.cmap)
    idx = np.round((lo + (hi - lo) * t) * (len(lut) - 1)).astype(np.intp)
    strip = np.repeat(lut[idx[:, 0]][:, None, :], _BAR_THICK, axis=1)
    img.paste(Image.fromarray(np.ascontiguousarray(strip)), (4, top))
    draw.rectangle([4, top, 4 + _BAR_THICK - 1, bottom - 1], outline=_FG)
    # ticks: positions t in [0, 1] and their labels
    if bar.scale in ("inverse", "linear"):
        values = [bar.vmin, bar.vmax] + _nice_ticks(bar.vmin, bar.vmax)
        ts = [float(depth_to_unit(np.array([v]), bar.vmin, bar.vmax, bar.scale)[0]) for v in values]
    else:
        values = [bar.vmin, bar.vmax, (bar.vmin + bar.vmax) / 2]
        ts = [(v - bar.vmin) / (bar.vmax - bar.vmin) if bar.vmax > bar.vmin else 0.0 for v in values]
    placed: list[float] = []
    for v, tv in zip(values, ts):  # endpoints first, then round values that do not crowd them
        y = top + (1.0 - tv) * (span - 1)
        if any(abs(y - p) < 16 for p in placed):
            continue
        placed.append(y)
        x0 = 4 + _BAR_THICK
        draw.line([(x0, y), (x0 + 3, y)], fill=_FG)
        draw.text((x0 + 6, y), _fmt_tick(v), fill=_FG, font=font, anchor="lm")
    if bar.label:
        draw.text((4, height - 3), bar.label, fill=_FG, font=font, anchor="ld")
    return img


def compose(tiles: Sequence[Tile], columns: int = 2) -> "Image.Image":  # noqa: F821
    """Arrange same-sized tiles into a panel (:func:`panel_size`) and return the Pillow image."""
    from PIL import Image, ImageDraw

    if not tiles:
        raise ValueError("a panel needs at least one tile")
    th, tw = tiles[0].rgb.shape[:2]
    for t in tiles:
        if t.rgb.shape != (th, tw, 3) or t.rgb.dtype != np.uint8:
            raise ValueError(f"tile {t.title!r} is {t.rgb.dtype} {t.rgb.shape}, expected uint8 {(th, tw, 3)}")
    width, height = panel_size(len(tiles), (th, tw), columns)
    cols = max(1, min(int(columns), len(tiles)))
    panel = Image.new("RGB", (width, height), _BG)
    draw = ImageDraw.Draw(panel)
    font = _font(13)
    for k, t in enumerate(tiles):
        r, c = divmod(k, cols)
        x = MARGIN + c * (tw + BAR_W + MARGIN)
        y = MARGIN + r * (TITLE_H + th + MARGIN)
        draw.text((x + 2, y + TITLE_H // 2), t.title, fill=_FG, font=font, anchor="lm")
        panel.paste(Image.fromarray(np.ascontiguousarray(t.rgb)), (x, y + TITLE_H))
        if t.bar is not None:
            panel.paste(_render_bar(t.bar, th), (x + tw, y + TITLE_H))
    return panel


# ------------------------------------------------------------------------------------------
# maps → tiles
# ------------------------------------------------------------------------------------------
def _resize_map(a: np.ndarray, hw: Sequence[int]) -> np.ndarray:
    """Dense float map → tile size, bilinear (align_corners=False, antialiased when shrinking)."""
    t = torch.as_tensor(np.asarray(a, dtype=np.float32))[None, None]
    if tuple(t.shape[2:]) == tuple(hw):
        return t[0, 0].numpy()
    shrink = t.shape[2] > hw[0] or t.shape[3] > hw[1]
    return F.interpolate(t, size=tuple(hw), mode="bilinear", align_corners=False, antialias=shrink)[0, 0].numpy()


def _resize_rgb(rgb: np.ndarray, hw: Sequence[int]) -> np.ndarray:
    from PIL import Image

    if rgb.shape[:2] == tuple(hw):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((int(hw[1]), int(hw[0])), Image.Resampling.LANCZOS))


def _pool_sparse(values: np.ndarray, valid: np.ndarray, hw: Sequence[int], keep: str = "min",
                 dilate: int = 3) -> np.ndarray:
    """Sparse map → tile grid without losing points: per tile pixel the min (``keep="min"``,
    nearest depth) or max of the valid inputs falling in it, then a ``dilate`` x ``dilate``
    dilation so that single points are visible. Empty pixels are NaN."""
    v = torch.as_tensor(np.asarray(values, dtype=np.float64))
    m = torch.as_tensor(np.asarray(valid, dtype=bool))
    sign = -1.0 if keep == "min" else 1.0
    x = torch.where(m, sign * v, torch.tensor(-math.inf, dtype=torch.float64))[None, None]
    if tuple(x.shape[2:]) != tuple(hw):
        x = F.adaptive_max_pool2d(x, tuple(int(s) for s in hw))
    if dilate > 1:
        x = F.max_pool2d(x, dilate, stride=1, padding=dilate // 2)
    out = x[0, 0].numpy() * sign
    out[~np.isfinite(out)] = np.nan
    return out


def _dilation(src_hw: Sequence[int], dst_hw: Sequence[int]) -> int:
    """Point dilation for sparse maps: none when pooling already shrinks by 1.5x or more."""
    return 1 if src_hw[1] >= 1.5 * dst_hw[1] else 3


def semantic_colors(num_classes: int) -> np.ndarray:
    """``(num_classes, 3)`` uint8 display colours: Cityscapes' for the first 19 classes, then
    evenly spaced hues."""
    from ..data.labels import CITYSCAPES_TRAIN_COLORS

    cols = [tuple(c) for c in CITYSCAPES_TRAIN_COLORS[:num_classes]]
    for k in range(len(cols), num_classes):
        h = (k * 0.618033988749895) % 1.0
        rgb = np.clip(np.abs((h * 6.0 + np.array([0.0, 4.0, 2.0])) % 6.0 - 3.0) - 1.0, 0.0, 1.0)
        cols.append(tuple(int(round(60 + 180 * c)) for c in rgb))
    return np.asarray(cols, dtype=np.uint8).reshape(-1, 3)


def _depth_range(*maps: Optional[np.ndarray]) -> tuple[float, float]:
    """Colour range in metres: the widest 2nd-98th percentile span of the given maps (valid
    pixels only), at least a factor 1.5 wide."""
    lo, hi = math.inf, -math.inf
    for depth in maps:
        if depth is None:
            continue
        d = np.asarray(depth, dtype=np.float64)
        d = d[np.isfinite(d) & (d > 0)]
        if d.size:
            a, b = np.percentile(d, [2.0, 98.0])
            lo, hi = min(lo, float(a)), max(hi, float(b))
    if not math.isfinite(lo):
        return 1.0, 80.0
    lo = max(lo, 1e-2)
    return lo, max(hi, lo * 1.5)


def _gray_tile(title: str, a: np.ndarray, hw: Sequence[int]) -> Tile:
    t = np.clip(_resize_map(a, hw), 0.0, 1.0)
    return Tile(title, colorize(t, "gray"), ColorBar("gray", 0.0, 1.0, "value"))


def error_map(pred_m: np.ndarray, gt_m: np.ndarray, *, min_depth: float = 1e-3, cap: float = 80.0,
              crop: Optional[str] = None, median_scaling: bool = True, order: str = "monodepth2"
              ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """``(|s·pred − gt| in metres (NaN where invalid), valid mask, metrics)`` at the ground-truth
    size, following the protocol (``pred_m`` already resized to the ground truth).

    ``metrics`` holds the image's ``abs_rel``, ``rmse``, ``a1``, ``scale`` and ``valid`` from
    :func:`s2rdepth.ops.depth_metrics`; the error uses the same scale and clamp order.
    """
    from ..ops import depth_metrics

    p = torch.as_tensor(np.asarray(pred_m, dtype=np.float64))
    g = torch.as_tensor(np.asarray(gt_m, dtype=np.float64))
    m = depth_metrics(p, g, min_depth=min_depth, max_depth=cap, crop=crop, median_scaling=median_scaling,
                      order=order)
    metrics = {k: float(m[k][0]) for k in ("abs_rel", "rmse", "a1", "scale", "valid")}
    valid = (g > min_depth) & (g < cap)
    s = metrics["scale"] if math.isfinite(metrics["scale"]) else 1.0
    q = p.clamp(min_depth, cap) * s if order == "s2r" else (p * s).clamp(min_depth, cap)
    err = torch.where(valid, (q - g).abs(), torch.tensor(math.nan, dtype=torch.float64))
    return err.numpy(), valid.numpy(), metrics


def depth_panel(image: np.ndarray, outputs: dict[str, Any], gt: Optional[np.ndarray] = None, *,
                min_depth: float = 1e-3, cap: float = 80.0, crop: Optional[str] = None,
                median_scaling: bool = True, order: str = "monodepth2", cmap: str = "magma",
                color_scale: str = "inverse", depth_range: Optional[tuple[float, float]] = None,
                error_cmap: str = "plasma", columns: int = 2, tile_width: Optional[int] = None
                ) -> tuple["Image.Image", Optional["Image.Image"], dict[str, Any]]:  # noqa: F821
    """Build the panel (and, with ground truth, the stand-alone error map) of one image.

    Args:
        image: the input, uint8 ``(H, W, 3)``.
        outputs: maps of :meth:`s2rdepth.eval.ModelRunner.outputs` for this image (any size):
            ``depth`` (metres, required), ``structure``, ``attention``, ``fused``, ``disp``,
            ``semantic`` (class ids); and optionally ``fusion`` (``"mul"``/``"add"``).
        gt: ground-truth depth in metres at the input size (0 = none), or ``None``.
        min_depth, cap, crop, median_scaling, order: the evaluation protocol of the error map.
        cmap, color_scale, depth_range: depth colouring (``color_scale``: ``"inverse"`` or
            ``"linear"``; range default: 2nd-98th percentile of the ground truth when given, else of
            the prediction, in metres).
        error_cmap: colour map of the error (``plasma``: dark blue = small error stays visible
            on the darkened input).
        columns, tile_width: layout (:func:`panel_size`).

    Returns:
        ``(panel, error image or None, info)``; ``info`` has the depth range, tile size and, with
        ground truth, the image's metrics.
    """
    from PIL import Image

    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be uint8 H x W x 3, got {image.dtype} {image.shape}")
    if "depth" not in outputs:
        raise ValueError("outputs need a 'depth' map in metres")
    h, w = image.shape[:2]
    hw = tile_shape((h, w), tile_width)
    depth = np.asarray(outputs["depth"], dtype=np.float32)
    # colour range: the ground truth's when given (the reference for reading colours), else the
    # prediction's; the predicted depth is shown as predicted (not median-scaled)
    vmin, vmax = depth_range if depth_range is not None else (
        _depth_range(gt) if gt is not None and np.any(np.asarray(gt) > 0) else _depth_range(depth))
    bar = ColorBar(cmap, vmin, vmax, color_scale, "depth (m)", DEPTH_LUT_RANGE)
    tiles = [Tile("input", _resize_rgb(image, hw))]
    if "structure" in outputs:
        tiles.append(_gray_tile("structure map M_s", outputs["structure"], hw))
    if "attention" in outputs:
        tiles.append(_gray_tile("attention map M_a", outputs["attention"], hw))
    if "fused" in outputs:
        sym = "+" if outputs.get("fusion") == "add" else "·"
        tiles.append(_gray_tile(f"depth-specific structure M_s {sym} M_a", outputs["fused"], hw))
    if "disp" in outputs:
        d = _resize_map(outputs["disp"], hw)
        lo, hi = float(np.nanmin(d)), float(np.nanmax(d))
        hi = hi if hi > lo else lo + 1e-6
        tiles.append(Tile("disparity (sigmoid)", colorize((d - lo) / (hi - lo), cmap, lut_range=DEPTH_LUT_RANGE),
                          ColorBar(cmap, lo, hi, "value", "disp", DEPTH_LUT_RANGE)))
    tiles.append(Tile("predicted depth", colorize(depth_to_unit(_resize_map(depth, hw), vmin, vmax, color_scale),
                                                   cmap, lut_range=DEPTH_LUT_RANGE), bar))
    if "semantic" in outputs:
        sem = torch.as_tensor(np.asarray(outputs["semantic"], dtype=np.int64))[None, None].float()
        sem = F.interpolate(sem, size=hw, mode="nearest")[0, 0].long().numpy()
        pal = semantic_colors(int(sem.max()) + 1)
        tiles.append(Tile("semantic segmentation", pal[sem]))
    info: dict[str, Any] = {"depth_range_m": [vmin, vmax], "tile_hw": list(hw)}
    error_img = None
    if gt is not None:
        gt = np.asarray(gt, dtype=np.float32)
        if gt.shape != (h, w):
            raise ValueError(f"ground truth is {gt.shape}, the image {(h, w)}")
        gvalid = gt > 0
        gtile = _pool_sparse(gt, gvalid, hw, keep="min", dilate=_dilation((h, w), hw))
        tiles.append(Tile("ground truth", colorize(depth_to_unit(gtile, vmin, vmax, color_scale), cmap,
                                                   lut_range=DEPTH_LUT_RANGE), bar))
        # the protocol's bilinear resize (no antialiasing), as in s2rdepth.eval
        pred_full = F.interpolate(torch.as_tensor(depth, dtype=torch.float64)[None, None], size=(h, w),
                                  mode="bilinear", align_corners=False)[0, 0].numpy()
        err, valid, metrics = error_map(pred_full, gt, min_depth=min_depth, cap=cap, crop=crop,
                                        median_scaling=median_scaling, order=order)
        info["metrics"] = metrics
        finite = err[np.isfinite(err)]
        emax = float(np.percentile(finite, 95)) if finite.size else 1.0
        emax = max(emax, 1e-3)
        title = (f"|error| (x{metrics['scale']:.2f}): abs_rel {metrics['abs_rel']:.3f}, "
                 f"rmse {metrics['rmse']:.2f} m, a1 {metrics['a1']:.3f}" if metrics["valid"] > 0
                 else "|error|: no valid ground-truth pixel")
        ebar = ColorBar(error_cmap, 0.0, emax, "value", "|error| (m)")
        etile = _error_tile(image, err, valid, hw, emax, error_cmap, crop)
        tiles.append(Tile(title, etile, ebar))
        full_hw = (h, w)
        error_img = compose([Tile(title, _error_tile(image, err, valid, full_hw, emax, error_cmap, crop), ebar)], 1)
    panel = compose(tiles, columns)
    info["tiles"] = [t.title for t in tiles]
    info["size"] = list(panel.size)
    return panel, error_img, info


def _error_tile(image: np.ndarray, err: np.ndarray, valid: np.ndarray, hw: Sequence[int], emax: float,
                cmap: str, crop: Optional[str]) -> np.ndarray:
    """Error points (max per tile pixel, dilated) over the darkened grey input; crop outlined."""
    gray = _resize_rgb(image, hw).astype(np.float32).mean(axis=2, keepdims=True)
    base = np.repeat(gray * 0.3, 3, axis=2).astype(np.uint8)
    e = _pool_sparse(np.nan_to_num(err, nan=0.0), valid, hw, keep="max", dilate=_dilation(image.shape[:2], hw))
    col = colorize(np.clip(e / emax, 0.0, 1.0), cmap)
    ok = np.isfinite(e)
    base[ok] = col[ok]
    if crop == "garg":
        from ..ops.reference import garg_crop_bounds

        h, w = image.shape[:2]
        r0, r1, c0, c1 = garg_crop_bounds(h, w)
        sy, sx = hw[0] / h, hw[1] / w
        y0, y1 = int(r0 * sy), min(hw[0] - 1, int(math.ceil(r1 * sy)) - 1)
        x0, x1 = int(c0 * sx), min(hw[1] - 1, int(math.ceil(c1 * sx)) - 1)
        line = np.array([255, 255, 255], dtype=np.uint8)
        base[y0, x0:x1 + 1] = line
        base[y1, x0:x1 + 1] = line
        base[y0:y1 + 1, x0] = line
        base[y0:y1 + 1, x1] = line
    return base
