"""``s2rdepth visualize``: panels for a list of image files (library side).

Ground truth for an image can come from a depth file (16-bit PNG with a scale, ``.npy`` /
float TIFF in metres) or from a KITTI Velodyne scan: a ``.bin`` path, or ``kitti`` to derive
``velodyne_points/data/<frame>.bin`` and the calibration of the ``<date>`` folder from an image
stored in the KITTI raw layout (``<date>/<drive>_sync/image_0{2,3}/data/<frame>.png``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch

from .panel import depth_panel

__all__ = ["kitti_velodyne_for_image", "load_ground_truth", "render_figures"]

PathLike = Union[str, os.PathLike]


def kitti_velodyne_for_image(image_path: PathLike) -> tuple[Path, Path, int]:
    """``(velodyne .bin, <date> calibration folder, camera 2|3)`` of a KITTI raw image path."""
    p = Path(image_path).resolve()
    try:
        cam_dir, drive_dir = p.parents[1], p.parents[2]
    except IndexError:
        raise ValueError(f"{image_path} is not in the KITTI raw layout (<date>/<drive>_sync/image_02/data/)") from None
    if p.parent.name != "data" or cam_dir.name not in ("image_02", "image_03"):
        raise ValueError(f"{image_path} is not in the KITTI raw layout (<date>/<drive>_sync/image_0{{2,3}}/data/)")
    cam = int(cam_dir.name[-1])
    return drive_dir / "velodyne_points" / "data" / f"{p.stem}.bin", drive_dir.parent, cam


def load_ground_truth(spec: Optional[str], image_path: PathLike, image_hw: Sequence[int],
                      depth_scale: float = 1.0 / 256.0) -> Optional[np.ndarray]:
    """Ground-truth depth (float32 metres, 0 = none) at the image size, or ``None``.

    ``spec``: ``None`` (no ground truth), ``"kitti"`` (Velodyne scan found from the image's
    KITTI raw path), a ``.bin`` Velodyne scan (calibration: the KITTI ``<date>`` folder three
    levels up), or a depth file (PNG → value x ``depth_scale``; ``.npy``/TIFF metres).
    """
    from ..data.io import read_depth_file
    from ..data.kitti import load_velodyne_points, project_velodyne, velo_to_image_matrix

    if spec is None:
        return None
    if spec == "kitti" or str(spec).lower().endswith(".bin"):
        if spec == "kitti":
            scan, calib_dir, cam = kitti_velodyne_for_image(image_path)
        else:
            scan = Path(spec)
            _, calib_dir, cam = kitti_velodyne_for_image(image_path) if _in_kitti_layout(image_path) \
                else (None, scan.resolve().parents[3], 2)
        p, hw = velo_to_image_matrix(calib_dir, cam)
        gt = project_velodyne(load_velodyne_points(scan), p, hw, vel_depth=True, faithful=True)
    else:
        path = Path(spec)
        scale = depth_scale if path.suffix.lower() == ".png" else 1.0
        gt = read_depth_file(path, scale)
    gt = np.asarray(gt, dtype=np.float32)
    if gt.shape != tuple(image_hw):
        raise ValueError(f"ground truth for {image_path} is {gt.shape[0]}x{gt.shape[1]}, the image "
                         f"{image_hw[0]}x{image_hw[1]}")
    return gt


def _in_kitti_layout(image_path: PathLike) -> bool:
    try:
        kitti_velodyne_for_image(image_path)
        return True
    except ValueError:
        return False


def _out_stems(paths: Sequence[Path]) -> list[str]:
    """File stems for the outputs; images sharing a stem get their parent folders prefixed."""
    stems = [p.stem for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    out = []
    for p in paths:
        parts = [x for x in p.resolve().parts[-5:-1] if x not in ("data",)]
        out.append("_".join(parts[-2:] + [p.stem]))
    if len(set(out)) != len(out):
        out = [f"{i:03d}_{p.stem}" for i, p in enumerate(paths)]
    return out


def render_figures(runner: Any, images: Sequence[PathLike], out_dir: PathLike, *,
                   gt: Optional[Sequence[Optional[str]]] = None, gt_scale: float = 1.0 / 256.0,
                   batch_size: int = 4, **panel_kwargs: Any) -> list[dict[str, Any]]:
    """Predict every image with ``runner`` (:class:`s2rdepth.eval.ModelRunner`) and write
    ``<stem>_panel.png`` (and ``<stem>_error.png`` with ground truth) under ``out_dir``.

    ``gt`` gives, per image, a ground-truth spec for :func:`load_ground_truth` (or ``None``);
    ``gt_scale`` = metres per unit of PNG ground truth.
    Extra keyword arguments go to :func:`~s2rdepth.viz.panel.depth_panel`. Returns one record
    per image (paths written, panel size, metrics).
    """
    from ..data.io import read_rgb

    paths = [Path(p) for p in images]
    if not paths:
        raise ValueError("no images given")
    specs = list(gt) if gt is not None else [None] * len(paths)
    if len(specs) != len(paths):
        raise ValueError(f"{len(specs)} ground-truth entries for {len(paths)} images")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stems = _out_stems(paths)
    fusion = getattr(runner.model, "fusion", None)
    records = []
    for start in range(0, len(paths), max(1, batch_size)):
        chunk = list(range(start, min(len(paths), start + max(1, batch_size))))
        rgbs = [read_rgb(paths[i]) for i in chunk]
        batch = torch.stack([runner.resizer(rgb) for rgb in rgbs])
        outs = runner.outputs(batch)
        for k, i in enumerate(chunk):
            maps: dict[str, Any] = {name: v[k].numpy() for name, v in outs.items()}
            if fusion is not None:
                maps["fusion"] = fusion
            g = load_ground_truth(specs[i], paths[i], rgbs[k].shape[:2], gt_scale)
            panel, err, info = depth_panel(rgbs[k], maps, g, **panel_kwargs)
            rec: dict[str, Any] = {"image": str(paths[i]), **info}
            ppath = out / f"{stems[i]}_panel.png"
            panel.save(ppath)
            rec["panel"] = str(ppath)
            if err is not None:
                epath = out / f"{stems[i]}_error.png"
                err.save(epath)
                rec["error_map"] = str(epath)
            records.append(rec)
    return records
