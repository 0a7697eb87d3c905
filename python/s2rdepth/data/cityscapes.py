"""Cityscapes reader: RGB, depth from disparity + camera json, labelIds → 19 train ids.

Layout::

    <root>/leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    <root>/disparity/<split>/<city>/<city>_<seq>_<frame>_disparity.png     uint16
    <root>/camera/<split>/<city>/<city>_<seq>_<frame>_camera.json          {"extrinsic": {"baseline"}, "intrinsic": {"fx"}}
    <root>/gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png   uint8 label ids

Depth: disparity ``d = (p - 1) / 256`` for ``p > 0`` (``p == 0`` invalid); depth metres
``= baseline · fx / d`` where ``d > 0`` (so ``p == 1`` is invalid as well). Camera files are read
once at construction.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from .base import DepthDataset, Sample, check_same_size, depth_tensors, image_tensor, label_tensor
from .io import DataFileError, MissingFileError, read_json, read_label_png, read_png_uint16, read_rgb
from .labels import cityscapes_label_lut

__all__ = ["CityscapesDataset", "cityscapes_disparity_to_depth"]

_SUFFIX = "_leftImg8bit.png"


def cityscapes_disparity_to_depth(raw: np.ndarray, baseline_m: float, fx_px: float,
                                  max_depth: Optional[float] = None) -> np.ndarray:
    """uint16 disparity PNG values → float32 depth metres (0 = invalid); clipped to ``max_depth`` if given."""
    disp = (raw.astype(np.float32) - 1.0) / 256.0
    ok = (raw > 0) & (disp > 0)
    depth = np.zeros(raw.shape, dtype=np.float32)
    depth[ok] = np.float32(baseline_m * fx_px) / disp[ok]
    if max_depth is not None:
        np.minimum(depth, np.float32(max_depth), out=depth)
    return depth


class CityscapesDataset(DepthDataset):
    """Cityscapes (``leftImg8bit`` + ``disparity`` + ``camera`` + ``gtFine``).

    Sample: ``image`` uint8 (3, 1024, 2048); ``depth`` float32 (1, H, W) metres (0 = invalid,
    clipped at ``max_depth`` when given), ``valid``, ``depth_sparse`` False (semi-dense
    stereo; resampled like dense depth with its validity mask); ``label`` int64 (H, W) train ids
    0..18 / 255; ``name`` ``"<split>/<city>/<city>_<seq>_<frame>"``.

    Args:
        root: dataset root.
        split: ``"train"``, ``"val"``, ``"test"``, ``"train_extra"`` ...
        cities: subset of city folders (default all).
        load_depth, load_labels: read disparity+camera / gtFine labels.
        label_type: ``"gtFine"`` or ``"gtCoarse"``.
        max_depth: optional clip in metres (e.g. 80 to match vKITTI).
    """

    dataset_name = "cityscapes"

    def __init__(self, root: str | os.PathLike[str], split: str = "train", cities: Optional[Sequence[str]] = None,
                 load_depth: bool = True, load_labels: bool = True, label_type: str = "gtFine",
                 max_depth: Optional[float] = None,
                 transform: Optional[Callable[[Sample], Sample]] = None, on_error: str = "raise",
                 check_files: bool = True) -> None:
        super().__init__(transform, on_error, check_files)
        self.root, self.split = Path(root), split
        self.load_depth, self.load_labels, self.label_type, self.max_depth = load_depth, load_labels, label_type, max_depth
        img_root = self.root / "leftImg8bit" / split
        if not img_root.is_dir():
            raise MissingFileError(img_root, "missing Cityscapes leftImg8bit split folder")
        for city in sorted(p.name for p in img_root.iterdir() if p.is_dir()):
            if cities is not None and city not in cities:
                continue
            for f in sorted(os.listdir(img_root / city)):
                if f.endswith(_SUFFIX):
                    self._items.append((city, f[: -len(_SUFFIX)]))
        if not self._items:
            raise MissingFileError(img_root, "no Cityscapes images found under")
        self._finalize_index()
        self._lut = cityscapes_label_lut()
        # camera parameters, read once: baseline (m) * fx (px) per item
        self._bf = np.zeros(len(self._items), dtype=np.float64)
        if load_depth:
            keep, bf = [], []
            for item in self._items:
                cam_p = self._paths(item)[2]
                try:
                    bf.append(self._read_camera(cam_p))
                    keep.append(item)
                except DataFileError as exc:
                    if self.on_error == "raise":
                        raise
                    self._record_skip(exc.path, exc.reason)
            self._items, self._bf = keep, np.array(bf, dtype=np.float64)

    @staticmethod
    def _read_camera(path: Path) -> float:
        cam = read_json(path)
        try:
            baseline = float(cam["extrinsic"]["baseline"])
            fx = float(cam["intrinsic"]["fx"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DataFileError(path, f"camera file lacks extrinsic.baseline / intrinsic.fx ({exc})") from None
        return baseline * fx

    def _paths(self, item) -> tuple[Path, Path, Path, Path]:
        city, prefix = item
        sub = Path(self.split) / city
        return (self.root / "leftImg8bit" / sub / f"{prefix}{_SUFFIX}",
                self.root / "disparity" / sub / f"{prefix}_disparity.png",
                self.root / "camera" / sub / f"{prefix}_camera.json",
                self.root / self.label_type / sub / f"{prefix}_{self.label_type}_labelIds.png")

    def item_files(self, item) -> list:
        img, disp, cam, lab = self._paths(item)
        return [img] + ([disp, cam] if self.load_depth else []) + ([lab] if self.load_labels else [])

    def load(self, index: int) -> Sample:
        item = self._items[index]
        img_p, disp_p, _, lab_p = self._paths(item)
        rgb = read_rgb(img_p)
        hw = rgb.shape[:2]
        s: Sample = {"image": image_tensor(rgb), "depth_sparse": False,
                     "name": f"{self.split}/{item[0]}/{item[1]}"}
        if self.load_depth:
            raw = read_png_uint16(disp_p)
            check_same_size(disp_p, hw, raw.shape, "disparity map")
            bf = float(self._bf[index])
            s["depth"], s["valid"] = depth_tensors(cityscapes_disparity_to_depth(raw, bf, 1.0, self.max_depth))
        if self.load_labels:
            ids = read_label_png(lab_p)
            check_same_size(lab_p, hw, ids.shape, "label image")
            ids = np.where((ids >= 0) & (ids < 256), ids, 255)
            s["label"] = label_tensor(self._lut[ids])
        return s
