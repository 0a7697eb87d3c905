"""Writing synthetic frames in real dataset layouts (one function per domain).

``virtual`` — Virtual KITTI 1.3.1 (REFERENCE.md §5)::

    <out>/rgb/<world>/<variation>/<frame:05d>.png        RGB8
    <out>/depthgt/<world>/<variation>/<frame:05d>.png    uint16 centimetres (camera z), 65535 = sky
                                                         (depths >= 655.35 m are stored as 65534)
    <out>/scenegt/<world>/<variation>/<frame:05d>.png    RGB colour per class / vehicle instance
    <out>/scenegt/<world>_<variation>_scenegt_rgb_encoding.txt   "Category(:id) r g b" lines

``real`` — KITTI raw (REFERENCE.md §4, §5)::

    <out>/<date>/calib_cam_to_cam.txt, calib_velo_to_cam.txt, calib_imu_to_velo.txt
    <out>/<date>/<date>_drive_<dddd>_sync/image_02/data/<frame:010d>.png            RGB8
    <out>/<date>/<date>_drive_<dddd>_sync/velodyne_points/data/<frame:010d>.bin     float32 N x 4
    <out>/<date>/<date>_drive_<dddd>_sync/proj_depth/groundtruth/image_02/<frame:010d>.png
                                      uint16, metres = value / 256, 0 = invalid (sky, >= 256 m);
                                      *dense* (every pixel with a surface), unlike KITTI's
    <out>/splits/{train,val,test}_files.txt     "<date>/<drive>_sync <frame> l"

Reading it back: :class:`s2rdepth.data.KittiRawDataset` with ``gt="velodyne"`` (projects the
simulated scans like real KITTI), ``gt="groundtruth"`` (the dense PNGs, flagged sparse), or
``gt="template", gt_dense=True, gt_template="{root}/{drive}/proj_depth/groundtruth/image_0{cam}/{frame:010d}.png"``.
Note the one-pixel offset of the reference projection (``round(u) - 1``): Velodyne ground truth
at ``(r, c)`` corresponds to the dense depth at ``(r + 1, c + 1)``.

``painting`` — a plain folder: ``<out>/<index:06d>.jpg`` (JPEG quality 95).

Every domain also writes ``<out>/synth_meta.json`` (generator arguments, label set, camera) and
``virtual`` writes ``<out>/splits/{train,val,test}_files.txt`` with lines
``<world>/<variation> <frame:05d>``.

Frame ``i`` of a run lives in sequence ``i // frames_per_sequence`` (vKITTI world/variation
or KITTI drive) as frame ``i % frames_per_sequence``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import labels as L
from .appearance import GBuffer

__all__ = ["SYNTH_DATE", "VKITTI_WORLDS", "VKITTI_VARIATIONS", "vkitti_sequence", "kitti_drive",
           "depth_to_vkitti_cm", "depth_to_kitti_png", "scenegt_image", "vkitti_encoding_text",
           "save_png", "save_uint16_png", "MAX_INSTANCES"]

#: The ``<date>`` folder of the synthetic KITTI-raw tree (a date that no real KITTI drive has).
SYNTH_DATE = "2000_01_01"
VKITTI_WORLDS: tuple[str, ...] = ("0001", "0002", "0006", "0018", "0020")
VKITTI_VARIATIONS: tuple[str, ...] = (
    "clone", "15-deg-left", "15-deg-right", "30-deg-left", "30-deg-right",
    "fog", "morning", "overcast", "rain", "sunset",
)
#: Vehicle instances per kind listed in every encoding file (instance ids are per frame).
MAX_INSTANCES = 256


def vkitti_sequence(index: int, frames_per_sequence: int) -> tuple[str, str, int]:
    """``(world, variation, frame)`` of frame ``index`` (sequences cycle through the 5 worlds, then
    the 10 variations: at most 50 sequences)."""
    k, frame = divmod(int(index), int(frames_per_sequence))
    if k >= len(VKITTI_WORLDS) * len(VKITTI_VARIATIONS):
        raise ValueError(f"frame {index} needs sequence {k}, but the vKITTI layout has only 50 "
                         f"(5 worlds x 10 variations); raise frames_per_sequence")
    return VKITTI_WORLDS[k % 5], VKITTI_VARIATIONS[k // 5], frame


def kitti_drive(index: int, frames_per_sequence: int) -> tuple[str, int]:
    """``("<date>/<date>_drive_<dddd>_sync", frame)`` of frame ``index``."""
    k, frame = divmod(int(index), int(frames_per_sequence))
    if k >= 9999:
        raise ValueError(f"frame {index} needs drive {k + 1} > 9999; raise frames_per_sequence")
    return f"{SYNTH_DATE}/{SYNTH_DATE}_drive_{k + 1:04d}_sync", frame


def depth_to_vkitti_cm(depth: np.ndarray) -> np.ndarray:
    """Metres (inf = sky) → vKITTI uint16 centimetres: ``round(100 d)`` clipped to [1, 65534], sky 65535."""
    d = np.asarray(depth, dtype=np.float64)
    sky = ~np.isfinite(d)
    cm = np.clip(np.round(np.where(sky, 0.0, d) * 100.0), 1, 65534)
    return np.where(sky, 65535, cm).astype(np.uint16)


def depth_to_kitti_png(depth: np.ndarray) -> np.ndarray:
    """Metres (inf = sky) → KITTI uint16 ``round(256 d)``; 0 where invalid (sky or beyond 255.99 m)."""
    d = np.asarray(depth, dtype=np.float64)
    v = np.round(np.where(np.isfinite(d), d, 0.0) * 256.0)
    return np.where((v >= 1) & (v <= 65535), v, 0).astype(np.uint16)


def _category_lut() -> np.ndarray:
    lut = np.zeros((L.NUM_MATERIALS, 3), dtype=np.uint8)
    for m, name in enumerate(L.MATERIAL_VKITTI_CLASS):
        if name not in ("Car",):
            lut[m] = L.VKITTI1_COLORS[name]
    return lut


_CATEGORY_LUT = _category_lut()
_INSTANCE_LUT = {kind: np.array([L.vkitti_instance_color(kind, k) for k in range(MAX_INSTANCES)], dtype=np.uint8)
                 for kind in ("Car", "Van")}


def scenegt_image(gb: GBuffer, scene) -> np.ndarray:
    """vKITTI 1.3.1 ``scenegt`` colour image (uint8 (H, W, 3)) of a geometry buffer.

    Classes use :data:`~s2rdepth.data.synth.labels.VKITTI1_COLORS`; each car/van gets its own
    ``Car:<k>`` / ``Van:<k>`` colour (:func:`~s2rdepth.data.synth.labels.vkitti_instance_color`).
    """
    h, w = gb.shape
    out = np.empty((h * w, 3), dtype=np.uint8)
    out[:] = L.VKITTI1_COLORS["Sky"]
    cols = _CATEGORY_LUT[gb.material]
    prims = scene.prims
    own = (gb.prim >= 0) & (gb.prim < len(prims))
    if own.any():
        inst = np.full(gb.prim.shape, -1, dtype=np.int64)
        van = np.zeros(gb.prim.shape, dtype=bool)
        inst[own] = prims.instance[gb.prim[own]]
        van[own] = prims.van[gb.prim[own]]
        veh = inst >= 0
        if np.any(inst >= MAX_INSTANCES):
            raise ValueError(f"more than {MAX_INSTANCES} vehicle instances in one frame")
        cols[veh & ~van] = _INSTANCE_LUT["Car"][inst[veh & ~van]]
        cols[veh & van] = _INSTANCE_LUT["Van"][inst[veh & van]]
    out[gb.flat] = cols
    return out.reshape(h, w, 3)


def vkitti_encoding_text() -> str:
    """The ``<world>_<variation>_scenegt_rgb_encoding.txt`` text (same for every sequence)."""
    lines = ["Category(:id) r g b"]
    for name in ("Terrain", "Sky", "Tree", "Vegetation", "Building", "Road", "GuardRail", "TrafficSign",
                 "TrafficLight", "Pole", "Misc", "Truck"):
        r, g, b = L.VKITTI1_COLORS[name]
        lines.append(f"{name} {r} {g} {b}")
    for kind in ("Car", "Van"):
        for k in range(MAX_INSTANCES):
            r, g, b = L.vkitti_instance_color(kind, k)
            lines.append(f"{kind}:{k} {r} {g} {b}")
    return "\n".join(lines) + "\n"


def save_png(path: str | os.PathLike[str], rgb: np.ndarray, compress_level: int = 1) -> None:
    """Write an RGB8 PNG (parent folders created). Level 1 zlib: fast, deterministic."""
    from PIL import Image

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(path, compress_level=compress_level)


def save_uint16_png(path: str | os.PathLike[str], a: np.ndarray, compress_level: int = 1) -> None:
    """Write a 16-bit greyscale PNG (parent folders created)."""
    from PIL import Image

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(a, dtype=np.uint16)).save(path, compress_level=compress_level)
