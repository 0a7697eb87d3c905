"""The demo's comparison figure: every model's depth on the same test images, side by side."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["comparison_figure"]


def comparison_figure(models: Mapping[str, object], images: Sequence[Path], out: Path) -> Path:
    """One column per image: input, Velodyne ground truth, then each model's depth (median-scaled
    to the ground truth, as the protocol scores it, and coloured on the ground truth's range),
    titled with the image's abs_rel. ``models``: label → :class:`s2rdepth.eval.ModelRunner`.
    """
    from ..data.io import read_rgb
    from ..viz.colormaps import colorize, depth_to_unit
    from ..viz.figures import load_ground_truth
    from ..viz.panel import (DEPTH_LUT_RANGE, ColorBar, Tile, _depth_range, _dilation, _pool_sparse,
                             _resize_map, _resize_rgb, compose, error_map, tile_shape)

    columns: list[list[Tile]] = []  # one column per image: input, ground truth, each model
    for path in images:
        rgb = read_rgb(path)
        h, w = rgb.shape[:2]
        hw = tile_shape((h, w), min(w, 320))
        gt = load_ground_truth("kitti", path, (h, w))
        vmin, vmax = _depth_range(gt)
        bar = ColorBar("magma", vmin, vmax, "inverse", "m", DEPTH_LUT_RANGE)

        def tile(title: str, depth: np.ndarray) -> Tile:
            return Tile(title, colorize(depth_to_unit(depth, vmin, vmax, "inverse"), "magma",
                                        lut_range=DEPTH_LUT_RANGE), bar)

        col = [Tile(f"input {path.stem}", _resize_rgb(rgb, hw)),
               tile("Velodyne ground truth", _pool_sparse(gt, gt > 0, hw, keep="min", dilate=_dilation((h, w), hw)))]
        for label, runner in models.items():
            x = runner.resizer(rgb)[None]
            pred = runner.to_metres(runner.predict(x))[0].double()
            full = F.interpolate(pred[None, None], size=(h, w), mode="bilinear", align_corners=False)[0, 0].numpy()
            _, _, m = error_map(full, gt, crop="garg")
            scale = m["scale"] if math.isfinite(m["scale"]) else 1.0
            col.append(tile(f"{label}: abs_rel {m['abs_rel']:.3f}", _resize_map(full * scale, hw)))
        columns.append(col)
    tiles = [col[r] for r in range(len(columns[0])) for col in columns]
    out = Path(out)
    compose(tiles, columns=len(columns)).save(out)
    return out
