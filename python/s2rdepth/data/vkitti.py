"""Virtual KITTI 1.3.1 and Virtual KITTI 2 readers (RGB, depth in metres with the 80 m cap, labels).

Depth files are uint16 centimetres; 65535 marks the sky (vKITTI 1.3.1) / the far limit 655.35 m
(vKITTI 2). With ``max_depth=80`` (default, the S2R reference) the value is clipped to 8000 cm and
divided by 100: the sky becomes 80 m and stays *valid*. ``max_depth=None`` keeps raw metres
(65535 → 655.35 m). A stored 0 is treated as invalid.

Labels are decoded from the colour-encoded ``scenegt`` / ``classSegmentation`` images through the
per-sequence colour tables and mapped to the shared label set (:mod:`s2rdepth.data.labels`).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from .base import DepthDataset, Sample, check_same_size, depth_tensors, image_tensor, label_tensor
from .io import MissingFileError, read_color_label, read_png_uint16, read_rgb
from .labels import (
    IGNORE_INDEX, VKITTI1_CLASSES, VKITTI2_CLASSES, VKITTI2_DEFAULT_COLORS, VKITTI_TO_TRAIN_ID,
    ColorLabelMap, read_vkitti1_encoding, read_vkitti2_colors,
)

__all__ = ["VKitti1Dataset", "VKitti2Dataset", "vkitti_depth_cm_to_m", "VKITTI_WORLDS", "VKITTI_VARIATIONS"]

#: vKITTI 1.3.1 worlds (vKITTI 2 scenes are ``Scene`` + the last two digits).
VKITTI_WORLDS: tuple[str, ...] = ("0001", "0002", "0006", "0018", "0020")
#: the ten rendering variations.
VKITTI_VARIATIONS: tuple[str, ...] = (
    "clone", "15-deg-left", "15-deg-right", "30-deg-left", "30-deg-right",
    "fog", "morning", "overcast", "rain", "sunset",
)


def vkitti_depth_cm_to_m(raw_cm: np.ndarray, max_depth: Optional[float] = 80.0) -> np.ndarray:
    """uint16 centimetres → float32 metres: ``min(v, max_depth·100) / 100`` (no cap when None); 0 stays 0."""
    d = raw_cm.astype(np.float32)
    if max_depth is not None:
        d = np.minimum(d, np.float32(max_depth * 100.0))
    return d / np.float32(100.0)


def _label_map(label_set: str, color_to_name: dict, native_classes: Sequence[str]) -> ColorLabelMap:
    if label_set == "cityscapes19":
        return ColorLabelMap(color_to_name, VKITTI_TO_TRAIN_ID, IGNORE_INDEX)
    if label_set == "native":
        return ColorLabelMap(color_to_name, {n: i for i, n in enumerate(native_classes)}, IGNORE_INDEX)
    raise ValueError(f"label_set must be 'cityscapes19' or 'native', got {label_set!r}")


def _find_modality_root(root: Path, names: Sequence[str]) -> Optional[Path]:
    """First existing ``root/<name>`` or ``root/<anything>_<name>`` (e.g. ``vkitti_1.3.1_rgb``)."""
    for n in names:
        if (root / n).is_dir():
            return root / n
    if root.is_dir():
        for n in names:
            hits = sorted(p for p in root.iterdir() if p.is_dir() and p.name.lower().endswith("_" + n.lower()))
            if hits:
                return hits[0]
    return None


def _filter(found: list[str], wanted: Optional[Sequence[str]], what: str, root: Path) -> list[str]:
    if wanted is None:
        return found
    missing = [w for w in wanted if w not in found]
    if missing:
        raise MissingFileError(root / missing[0], f"missing vKITTI {what} {missing[0]!r}")
    return [f for f in found if f in wanted]


class _VKittiDataset(DepthDataset):
    """Loading shared by both vKITTI versions: RGB, depth PNG in centimetres (capped, metres out),
    colour-coded class labels mapped through ``self.label_maps[sequence]``. Subclasses index the
    files and give ``_paths(item) -> (rgb, depth or None, labels or None)`` and ``_name(item)``."""

    def _paths(self, item) -> tuple[Path, Optional[Path], Optional[Path]]:
        raise NotImplementedError

    def _name(self, item) -> str:
        raise NotImplementedError

    def item_files(self, item) -> list:
        return [p for p in self._paths(item) if p is not None]

    def load(self, index: int) -> Sample:
        item = self._items[index]
        rgb_p, depth_p, label_p = self._paths(item)
        rgb = read_rgb(rgb_p)
        hw = rgb.shape[:2]
        s: Sample = {"image": image_tensor(rgb), "depth_sparse": False, "name": self._name(item)}
        if depth_p is not None:
            raw = read_png_uint16(depth_p)
            check_same_size(depth_p, hw, raw.shape, "depth map")
            s["depth"], s["valid"] = depth_tensors(vkitti_depth_cm_to_m(raw, self.max_depth))
        if label_p is not None:
            col = read_color_label(label_p)
            check_same_size(label_p, hw, col.shape[:2], "label image")
            s["label"] = label_tensor(self.label_maps[item[0]](col))
        return s


class VKitti1Dataset(_VKittiDataset):
    """Virtual KITTI 1.3.1.

    Layout (modality folders named ``rgb``/``depthgt``/``scenegt`` or ``vkitti_1.3.1_rgb`` etc.)::

        <root>/rgb/<world>/<variation>/<frame:05d>.png
        <root>/depthgt/<world>/<variation>/<frame:05d>.png        uint16 cm, 65535 = sky
        <root>/scenegt/<world>/<variation>/<frame:05d>.png        RGB colour per class / instance
        <root>/scenegt/<world>_<variation>_scenegt_rgb_encoding.txt   "Category(:id) r g b" lines

    (the encoding file is also looked up in ``scenegt/<world>/`` and ``scenegt/<world>/<variation>/``).

    Sample: ``image`` uint8 (3, H, W); ``depth`` float32 (1, H, W) metres in (0, max_depth],
    ``valid``; ``label`` int64 (H, W) shared ids (``load_labels``); ``depth_sparse`` False;
    ``name`` ``"<world>/<variation>/<frame>"``; ``index``; ``skipped``.

    Args:
        root: dataset root.
        worlds, variations: subsets (default: every folder found).
        load_depth, load_labels: read ``depthgt`` / ``scenegt``.
        label_set: ``"cityscapes19"`` (shared ids) or ``"native"`` (:data:`VKITTI1_CLASSES` index).
        max_depth: cap in metres (80, reference) or None.
        transform, on_error, check_files: see :class:`~s2rdepth.data.base.DepthDataset`.
    """

    dataset_name = "vkitti1"

    def __init__(self, root: str | os.PathLike[str], worlds: Optional[Sequence[str]] = None,
                 variations: Optional[Sequence[str]] = None, load_depth: bool = True,
                 load_labels: bool = True, label_set: str = "cityscapes19",
                 max_depth: Optional[float] = 80.0,
                 transform: Optional[Callable[[Sample], Sample]] = None, on_error: str = "raise",
                 check_files: bool = True) -> None:
        super().__init__(transform, on_error, check_files)
        self.root = Path(root)
        self.load_depth, self.load_labels, self.max_depth = load_depth, load_labels, max_depth
        rgb_root = _find_modality_root(self.root, ["rgb"])
        if rgb_root is None:
            raise MissingFileError(self.root / "rgb", "missing vKITTI 1.3.1 rgb folder")
        self.rgb_root = rgb_root
        self.depth_root = _find_modality_root(self.root, ["depthgt"]) if load_depth else None
        self.scene_root = _find_modality_root(self.root, ["scenegt"]) if load_labels else None
        if load_depth and self.depth_root is None:
            raise MissingFileError(self.root / "depthgt", "missing vKITTI 1.3.1 depthgt folder")
        if load_labels and self.scene_root is None:
            raise MissingFileError(self.root / "scenegt", "missing vKITTI 1.3.1 scenegt folder")

        self.label_maps: list[ColorLabelMap] = []
        self.sequences: list[tuple[str, str]] = []
        found_worlds = sorted(p.name for p in rgb_root.iterdir() if p.is_dir())
        for world in _filter(found_worlds, worlds, "world", rgb_root):
            wdir = rgb_root / world
            found_vars = sorted(p.name for p in wdir.iterdir() if p.is_dir())
            for var in _filter(found_vars, variations, "variation", wdir):
                frames = sorted(f for f in os.listdir(wdir / var) if f.lower().endswith(".png"))
                if not frames:
                    continue
                seq = len(self.sequences)
                self.sequences.append((world, var))
                if load_labels:
                    enc = self._encoding_file(world, var)
                    self.label_maps.append(_label_map(label_set, read_vkitti1_encoding(enc), VKITTI1_CLASSES))
                for f in frames:
                    self._items.append((seq, f))
        if not self._items:
            raise MissingFileError(rgb_root, "no vKITTI 1.3.1 frames found under")
        self._finalize_index()

    def _encoding_file(self, world: str, var: str) -> Path:
        assert self.scene_root is not None
        name = f"{world}_{var}_scenegt_rgb_encoding.txt"
        cands = [self.scene_root / name, self.scene_root / world / name, self.scene_root / world / var / name,
                 self.root / name]
        for c in cands:
            if c.is_file():
                return c
        raise MissingFileError(cands[0], "missing vKITTI 1.3.1 scenegt encoding file")

    def _paths(self, item) -> tuple[Path, Optional[Path], Optional[Path]]:
        seq, f = item
        world, var = self.sequences[seq]
        rel = Path(world) / var / f
        return (self.rgb_root / rel,
                self.depth_root / rel if self.depth_root is not None else None,
                self.scene_root / rel if self.scene_root is not None else None)

    def _name(self, item) -> str:
        world, var = self.sequences[item[0]]
        return f"{world}/{var}/{Path(item[1]).stem}"


_VK2_FRAME = re.compile(r"^rgb_(\d+)\.(jpg|jpeg|png)$", re.IGNORECASE)


class VKitti2Dataset(_VKittiDataset):
    """Virtual KITTI 2.

    Layout (one tree, or the official per-modality trees ``vkitti_2.0.3_rgb/``,
    ``vkitti_2.0.3_depth/``, ``vkitti_2.0.3_classSegmentation/`` under ``root``)::

        <root>/Scene01/<variation>/frames/rgb/Camera_0/rgb_00000.jpg
        <root>/Scene01/<variation>/frames/depth/Camera_0/depth_00000.png              uint16 cm
        <root>/Scene01/<variation>/frames/classSegmentation/Camera_0/classgt_00000.png  RGB colours
        <root>/Scene01/<variation>/colors.txt   (or Scene01/colors.txt)   "Category r g b" lines

    A scene without ``colors.txt`` uses :data:`~s2rdepth.data.labels.VKITTI2_DEFAULT_COLORS` (the
    table is identical in every official scene).

    Sample keys as :class:`VKitti1Dataset`; ``name`` is ``"Scene01/<variation>/Camera_0/<frame>"``.
    ``label_set="native"`` gives the 15 vKITTI 2 classes (``colors.txt`` order, 0..14).
    """

    dataset_name = "vkitti2"

    def __init__(self, root: str | os.PathLike[str], scenes: Optional[Sequence[str]] = None,
                 variations: Optional[Sequence[str]] = None, cameras: Sequence[str] = ("Camera_0",),
                 load_depth: bool = True, load_labels: bool = True, label_set: str = "cityscapes19",
                 max_depth: Optional[float] = 80.0,
                 transform: Optional[Callable[[Sample], Sample]] = None, on_error: str = "raise",
                 check_files: bool = True) -> None:
        super().__init__(transform, on_error, check_files)
        self.root = Path(root)
        self.load_depth, self.load_labels, self.max_depth = load_depth, load_labels, max_depth
        rgb_root = _find_modality_root(self.root, ["rgb"]) if not any(self.root.glob("Scene*")) else self.root
        if rgb_root is None:
            raise MissingFileError(self.root, "no vKITTI 2 Scene folders under")
        self.rgb_root = rgb_root
        self.depth_root = (self.root if rgb_root == self.root else _find_modality_root(self.root, ["depth"])) if load_depth else None
        self.cls_root = (self.root if rgb_root == self.root else _find_modality_root(self.root, ["classSegmentation"])) if load_labels else None
        if load_depth and self.depth_root is None:
            raise MissingFileError(self.root / "vkitti_2.0.3_depth", "missing vKITTI 2 depth tree")
        if load_labels and self.cls_root is None:
            raise MissingFileError(self.root / "vkitti_2.0.3_classSegmentation", "missing vKITTI 2 classSegmentation tree")

        self.sequences: list[tuple[str, str, str]] = []
        self.label_maps: list[ColorLabelMap] = []
        found_scenes = sorted(p.name for p in rgb_root.iterdir() if p.is_dir() and p.name.startswith("Scene"))
        for scene in _filter(found_scenes, scenes, "scene", rgb_root):
            sdir = rgb_root / scene
            found_vars = sorted(p.name for p in sdir.iterdir() if p.is_dir())
            for var in _filter(found_vars, variations, "variation", sdir):
                lmap = None
                if load_labels:
                    lmap = _label_map(label_set, self._colors(scene, var), VKITTI2_CLASSES)
                for cam in cameras:
                    cdir = sdir / var / "frames" / "rgb" / cam
                    if not cdir.is_dir():
                        continue
                    frames = sorted(f for f in os.listdir(cdir) if _VK2_FRAME.match(f))
                    if not frames:
                        continue
                    seq = len(self.sequences)
                    self.sequences.append((scene, var, cam))
                    if lmap is not None:
                        self.label_maps.append(lmap)
                    for f in frames:
                        self._items.append((seq, f))
        if not self._items:
            raise MissingFileError(rgb_root, "no vKITTI 2 frames found under")
        self._finalize_index()

    def _colors(self, scene: str, var: str) -> dict:
        assert self.cls_root is not None
        for c in (self.cls_root / scene / var / "colors.txt", self.cls_root / scene / "colors.txt",
                  self.rgb_root / scene / var / "colors.txt", self.rgb_root / scene / "colors.txt"):
            if c.is_file():
                return read_vkitti2_colors(c)
        return {rgb: name for name, rgb in VKITTI2_DEFAULT_COLORS.items()}

    def _paths(self, item) -> tuple[Path, Optional[Path], Optional[Path]]:
        seq, f = item
        scene, var, cam = self.sequences[seq]
        num = _VK2_FRAME.match(f).group(1)  # type: ignore[union-attr]
        rgb = self.rgb_root / scene / var / "frames" / "rgb" / cam / f
        depth = (self.depth_root / scene / var / "frames" / "depth" / cam / f"depth_{num}.png"
                 if self.depth_root is not None else None)
        cls = (self.cls_root / scene / var / "frames" / "classSegmentation" / cam / f"classgt_{num}.png"
               if self.cls_root is not None else None)
        return rgb, depth, cls

    def _name(self, item) -> str:
        scene, var, cam = self.sequences[item[0]]
        return f"{scene}/{var}/{cam}/{Path(item[1]).stem}"
