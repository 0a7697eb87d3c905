"""KITTI raw reader: split-file driven images with ground truth from Velodyne, benchmark PNGs or an archive.

Layout (REFERENCE.md §5)::

    <root>/<date>/calib_cam_to_cam.txt, calib_velo_to_cam.txt
    <root>/<date>/<drive>_sync/image_02/data/<frame:010d>.png   (or .jpg; image_03 for 'r')
    <root>/<date>/<drive>_sync/velodyne_points/data/<frame:010d>.bin
    <gt_root>/<drive>_sync/proj_depth/groundtruth/image_02/<frame:010d>.png   (uint16, m = v/256)
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence, Union

import numpy as np

from .base import DepthDataset, Sample, check_same_size, depth_tensors, image_tensor
from .io import DataFileError, MissingFileError, read_depth_file, read_rgb
from .kitti import (
    SplitEntry, kitti_groundtruth_path, kitti_image_path, kitti_velodyne_path, load_velodyne_points,
    parse_split_line, project_velodyne, read_split_file, velo_to_image_matrix,
)

__all__ = ["KittiRawDataset"]

SplitArg = Union[str, os.PathLike, Iterable[Union[str, SplitEntry]], None]


class KittiRawDataset(DepthDataset):
    """KITTI raw frames listed by a split file, with optional ground truth.

    Sample: ``image`` uint8 (3, 375-ish, 1242-ish); with ground truth ``depth`` float32 (1, H, W)
    metres (0 = no measurement; no cap), ``valid``, ``depth_sparse`` True (velodyne /
    groundtruth / npz; False for a dense ``gt_template``); ``name`` = normalised split line
    ``"<date>/<drive>_sync <frame:010d> <l|r>"``; ``cam`` int (2 or 3); ``index``; ``skipped``.

    Args:
        root: KITTI raw root (holds ``<date>`` folders).
        split: split file path, an iterable of split lines / :class:`SplitEntry`, or None for every
            frame of ``image_02`` (and ``image_03`` when ``"r"`` in ``sides``) found under ``root``.
        gt: ``"velodyne"`` (project scans with :func:`~s2rdepth.data.kitti.project_velodyne`;
            calibration parsed once per date and camera at construction), ``"groundtruth"``
            (``proj_depth/groundtruth`` PNGs), ``"npz"`` (archive from ``s2rdepth
            prepare-kitti-gt``, ``gt_file``), ``"template"`` (``gt_template``) or None.
        vel_depth, faithful: passed to the projection (reference defaults).
        gt_roots: folders searched for ``<drive>/proj_depth/groundtruth`` (default ``root/<date>``);
            the official archive splits them into ``train/`` and ``val/``: pass both.
        gt_template: format string for other depth files, fields ``root``, ``date``, ``drive``
            (``<date>/<drive>_sync``), ``drive_name``, ``cam``, ``frame`` (int), e.g.
            ``"{root}/{drive}/depth_dense/image_0{cam}/{frame:010d}.png"``; decoded with
            ``gt_scale`` metres per unit (default 1/256). ``gt_dense`` marks it as dense.
        sides: sides kept when ``split`` is None.
        image_ext: image extensions tried, in order.
    """

    dataset_name = "kitti_raw"
    sparse_depth = True

    def __init__(self, root: str | os.PathLike[str], split: SplitArg = None, gt: Optional[str] = "velodyne",
                 vel_depth: bool = True, faithful: bool = True, gt_file: str | os.PathLike[str] | None = None,
                 gt_roots: Optional[Sequence[str | os.PathLike[str]]] = None,
                 gt_template: Optional[str] = None, gt_scale: float = 1.0 / 256.0, gt_dense: bool = False,
                 sides: Sequence[str] = ("l",), image_ext: Sequence[str] = (".png", ".jpg"),
                 transform: Optional[Callable[[Sample], Sample]] = None, on_error: str = "raise",
                 check_files: bool = True) -> None:
        super().__init__(transform, on_error, check_files)
        if gt not in (None, "velodyne", "groundtruth", "npz", "template"):
            raise ValueError(f"gt must be None, 'velodyne', 'groundtruth', 'npz' or 'template', got {gt!r}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise MissingFileError(self.root, "missing KITTI raw root")
        self.gt, self.vel_depth, self.faithful = gt, vel_depth, faithful
        self.gt_roots = [Path(g) for g in gt_roots] if gt_roots else None
        self.gt_template, self.gt_scale = gt_template, gt_scale
        self.image_ext = tuple(image_ext)
        self.sparse_depth = not (gt == "template" and gt_dense)
        if gt == "template" and not gt_template:
            raise ValueError("gt='template' needs gt_template")

        entries = self._entries(split, sides)
        # records: (entry, image path, ground-truth path or None), paths resolved once here
        self._items = [(e, kitti_image_path(self.root, e, self.image_ext), self._gt_path(e)) for e in entries]
        # per-(date, cam) projection matrices, parsed once
        self._proj: dict[tuple[str, int], tuple[np.ndarray, tuple[int, int]]] = {}
        if gt == "velodyne":
            broken: set[tuple[str, int]] = set()
            for e in entries:
                key = (e.date, e.cam)
                if key in self._proj or key in broken:
                    continue
                try:
                    self._proj[key] = velo_to_image_matrix(self.root / e.date, e.cam)
                except DataFileError as exc:  # missing / malformed calibration of one date
                    if on_error == "raise":
                        raise
                    broken.add(key)
                    self._record_skip(exc.path, exc.reason)
            if broken:
                self._items = [it for it in self._items if (it[0].date, it[0].cam) not in broken]
        # precomputed archive: keep the flat arrays (shared copy-on-write by forked workers)
        self._npz_index: dict[str, int] = {}
        if gt == "npz":
            if gt_file is None:
                raise ValueError("gt='npz' needs gt_file")
            self._load_npz(Path(gt_file))
        if not self._items:
            raise ValueError(f"no KITTI frames selected under {self.root}")
        self._finalize_index()

    # ------------------------------------------------------------------ indexing
    def _entries(self, split: SplitArg, sides: Sequence[str]) -> list[SplitEntry]:
        if split is None:
            out = []
            for date in sorted(p for p in self.root.iterdir() if p.is_dir()):
                for drive in sorted(p for p in date.iterdir() if p.is_dir() and p.name.endswith("_sync")):
                    for side in sides:
                        d = drive / f"image_0{2 if side == 'l' else 3}" / "data"
                        if not d.is_dir():
                            continue
                        for f in sorted(os.listdir(d)):
                            stem, ext = os.path.splitext(f)
                            if ext.lower() in self.image_ext and stem.isdigit():
                                out.append(SplitEntry(f"{date.name}/{drive.name}", int(stem), side))
            return out
        if isinstance(split, (str, os.PathLike)):
            return read_split_file(split)
        return [e if isinstance(e, SplitEntry) else parse_split_line(e) for e in split]

    def _load_npz(self, path: Path) -> None:
        if not path.is_file():
            raise MissingFileError(path, "missing ground-truth archive")
        try:
            with np.load(path, allow_pickle=False) as z:
                self._npz_depth = z["depth"]
                self._npz_shapes = z["shapes"]
                self._npz_offsets = z["offsets"]
                lines = [str(s) for s in z["lines"]]
        except (KeyError, ValueError, OSError) as exc:
            raise DataFileError(path, f"not a ground-truth archive ({exc})") from exc
        self._npz_index = {ln: i for i, ln in enumerate(lines)}
        for e, _, _ in self._items:
            if e.line() not in self._npz_index:
                raise DataFileError(path, f"archive has no frame {e.line()!r}")

    def _gt_path(self, e: SplitEntry) -> Optional[Path]:
        if self.gt == "velodyne":
            return kitti_velodyne_path(self.root, e)
        if self.gt == "groundtruth":
            if self.gt_roots:
                cands = [kitti_groundtruth_path(self.root, e, g) for g in self.gt_roots]
                return next((c for c in cands if c.is_file()), cands[0])
            return kitti_groundtruth_path(self.root, e)
        if self.gt == "template":
            assert self.gt_template is not None
            return Path(self.gt_template.format(root=self.root, date=e.date, drive=e.drive,
                                                drive_name=e.drive.split("/")[-1], cam=e.cam, frame=e.frame))
        return None

    def item_files(self, item) -> list:
        return [p for p in item[1:] if p is not None]

    @property
    def entries(self) -> list[SplitEntry]:
        """The split entries, in dataset order."""
        return [it[0] for it in self._items]

    # ------------------------------------------------------------------ loading
    def load(self, index: int) -> Sample:
        e, img_p, gt_p = self._items[index]
        rgb = read_rgb(img_p)
        s: Sample = {"image": image_tensor(rgb), "name": e.line(), "cam": e.cam}
        if self.gt is None:
            return s
        if self.gt == "velodyne":
            assert gt_p is not None
            velo = load_velodyne_points(gt_p)
            p, hw = self._proj[(e.date, e.cam)]
            depth = project_velodyne(velo, p, hw, self.vel_depth, self.faithful)
        elif self.gt == "npz":
            i = self._npz_index[e.line()]
            h, w = (int(x) for x in self._npz_shapes[i])
            depth = self._npz_depth[self._npz_offsets[i]:self._npz_offsets[i + 1]].reshape(h, w)
            gt_p = img_p
        else:
            assert gt_p is not None
            depth = read_depth_file(gt_p, self.gt_scale)
        check_same_size(gt_p, rgb.shape[:2], depth.shape, "ground-truth depth")
        s["depth"], s["valid"] = depth_tensors(depth)
        s["depth_sparse"] = self.sparse_depth
        return s
