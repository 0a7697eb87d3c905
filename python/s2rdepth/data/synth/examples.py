"""Render the example images of the README: ``python -m s2rdepth.data.synth.examples``.

Writes two small contact sheets (3 scenes each: one urban, one residential, one rural scene of
stream ``--seed``, rendered at 192 x 640 and shown at 96 x 320):

* ``<out>/synth_virtual_real.png`` — columns ``virtual`` | ``real`` of the same scenes;
* ``<out>/synth_painting_depth_labels.png`` — columns ``painting`` | depth (inverse depth,
  colour-mapped, sky black) | labels (Cityscapes colours).

Images are reduced to an adaptive 256-colour palette to stay small (< 300 KB together).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import numpy as np

from ..labels import CITYSCAPES_TRAIN_COLORS
from .render import parse_size, render_scene
from .scene import SCENE_KINDS, sample_scene

__all__ = ["pick_scenes", "colorize_depth", "colorize_labels", "write_examples", "main"]

_ANCHORS = np.array([(0.0, 0.0, 0.02), (0.25, 0.05, 0.45), (0.7, 0.15, 0.45), (0.98, 0.5, 0.25), (0.99, 0.95, 0.6)])


def pick_scenes(seed: int = 0, kinds: Sequence[str] = SCENE_KINDS) -> list[int]:
    """The first scene index of each kind (urban, residential, rural) in stream ``seed``."""
    out = []
    for kind in kinds:
        i = 0
        while sample_scene(seed, i).kind != kind or i in out:
            i += 1
        out.append(i)
    return out


def colorize_depth(depth: np.ndarray, max_inv: float = 0.5) -> np.ndarray:
    """Inverse depth (1/m, clipped to ``max_inv``) through a dark-purple-orange-yellow map; sky black."""
    inv = np.where(np.isfinite(depth), 1.0 / np.maximum(depth, 1e-3), 0.0)
    x = np.clip(inv / max_inv, 0, 1) ** 0.5 * (len(_ANCHORS) - 1)
    i = np.minimum(x.astype(np.int64), len(_ANCHORS) - 2)
    f = (x - i)[..., None]
    rgb = _ANCHORS[i] * (1 - f) + _ANCHORS[i + 1] * f
    rgb[~np.isfinite(depth)] = 0
    return np.round(rgb * 255).astype(np.uint8)


def colorize_labels(labels: np.ndarray) -> np.ndarray:
    """Shared label ids → Cityscapes colours (255 = black)."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[:len(CITYSCAPES_TRAIN_COLORS)] = CITYSCAPES_TRAIN_COLORS
    return lut[labels]


def _sheet(rows: list[list[np.ndarray]], gap: int = 4) -> np.ndarray:
    h, w = rows[0][0].shape[:2]
    n_r, n_c = len(rows), len(rows[0])
    out = np.full((n_r * h + (n_r - 1) * gap, n_c * w + (n_c - 1) * gap, 3), 255, dtype=np.uint8)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = cell
    return out


def write_examples(out_dir: str | Path = "docs/images", seed: int = 0, render_size=(192, 640),
                   show_size=(96, 320)) -> list[Path]:
    """Render and write the two contact sheets; returns their paths."""
    from PIL import Image

    rh, rw = parse_size(render_size)
    sh, sw = parse_size(show_size)
    fy, fx = rh // sh, rw // sw

    def small(img: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(img).resize((sw, sh), Image.Resampling.BOX))

    rows_a, rows_b = [], []
    for idx in pick_scenes(seed):
        v = render_scene(idx, seed, (rh, rw), "virtual")
        r = render_scene(idx, seed, (rh, rw), "real")
        p = render_scene(idx, seed, (rh, rw), "painting")
        rows_a.append([small(v.image), small(r.image)])
        rows_b.append([small(p.image), colorize_depth(v.depth[::fy, ::fx][:sh, :sw]),
                       colorize_labels(v.labels[::fy, ::fx][:sh, :sw])])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, rows in (("synth_virtual_real.png", rows_a), ("synth_painting_depth_labels.png", rows_b)):
        im = Image.fromarray(_sheet(rows)).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        path = out / name
        im.save(path, optimize=True)
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m s2rdepth.data.synth.examples", description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="docs/images", help="output folder (default docs/images)")
    ap.add_argument("--seed", type=int, default=0, help="scene stream seed (default 0)")
    args = ap.parse_args(argv)
    for p in write_examples(args.out, args.seed):
        print(f"{p} ({p.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
