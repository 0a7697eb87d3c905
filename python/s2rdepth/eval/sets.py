"""Evaluation sets: an ordered list of named frames with ground truth (and images when a model
has to predict them).

An :class:`EvalSet` is deliberately thinner than a training reader: scoring saved predictions
needs no image at all, so :class:`KittiEvalSet` reads only Velodyne scans (or benchmark PNGs,
or the ``.npz`` archive of ``s2rdepth prepare-kitti-gt``) unless images are asked for. Every
other dataset is served by its reader from :mod:`s2rdepth.data` through :class:`ReaderEvalSet`.

Ground truth is float32 ``(H, W)`` metres, ``0`` = no measurement; it is never capped or
clipped here (the protocol decides which pixels count). Missing or unreadable files raise
errors naming the file: an evaluation never silently leaves a frame out.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np

__all__ = ["EvalSet", "KittiEvalSet", "ReaderEvalSet", "open_eval_set", "read_name_list"]

PathLike = Union[str, os.PathLike]


class EvalSet:
    """Base class: ``names`` (stable frame identifiers, in evaluation order) and :meth:`load`.

    Subclasses must stay picklable (they are sent to ``DataLoader`` workers): hold paths and
    small arrays, open heavy resources lazily.
    """

    #: dataset name (``kitti``, ``nyu``, ``cityscapes``, ``folder``)
    dataset: str = "dataset"

    def __init__(self) -> None:
        self.names: list[str] = []

    def __len__(self) -> int:
        return len(self.names)

    def load(self, index: int, image: bool = False, gt: bool = True) -> dict[str, Any]:
        """Frame ``index``: ``{"name", "gt": float32 (H, W) metres, "image": uint8 (H, W, 3)}``
        (``gt`` / ``image`` only when asked for)."""
        raise NotImplementedError

    def check_files(self, image: bool) -> None:
        """Raise naming the first missing file (called once before an evaluation starts)."""

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (dataset, root, split, ground-truth source, frames)."""
        return {"name": self.dataset, "frames": len(self)}


def read_name_list(path: PathLike) -> list[str]:
    """Non-empty, non-comment lines of a text file (a split of names), stripped."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"split file not found: {path}")
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            s = line.strip()
            if s and not s.startswith("#"):
                out.append(s)
    if not out:
        raise ValueError(f"split file {path} lists no frames")
    return out


# ------------------------------------------------------------------------------------------
# KITTI
# ------------------------------------------------------------------------------------------
class KittiEvalSet(EvalSet):
    """KITTI raw frames of a split file with ground truth from Velodyne scans (Eigen protocol),
    ``proj_depth/groundtruth`` PNGs (Eigen benchmark) or a ``prepare-kitti-gt`` archive.

    Names are normalised split lines ``"<date>/<drive>_sync <frame:010d> <l|r>"``.

    Args:
        root: KITTI raw root (``<date>/calib_*.txt``, drives). May be ``None`` for ``gt="npz"``
            when no image is needed.
        split: split file, an iterable of split lines, or ``None``: every ``image_02`` frame under
            ``root`` (for ``gt="npz"`` without ``root``: the archive's frames, in its order).
        gt: ``"velodyne"`` (default), ``"groundtruth"`` or ``"npz"``.
        gt_file: the archive for ``gt="npz"``.
        gt_roots: folders searched for ``<drive>/proj_depth/groundtruth`` (default ``root/<date>``).
        vel_depth, faithful: Velodyne projection conventions (reference defaults; see
            :func:`s2rdepth.data.kitti.project_velodyne`).
    """

    dataset = "kitti"

    def __init__(self, root: Optional[PathLike], split: Union[PathLike, Iterable[str], None] = None,
                 gt: str = "velodyne", gt_file: Optional[PathLike] = None,
                 gt_roots: Optional[Sequence[PathLike]] = None, vel_depth: bool = True,
                 faithful: bool = True, image_ext: Sequence[str] = (".png", ".jpg")) -> None:
        from ..data.kitti import load_eigen_gt, parse_split_line, read_split_file

        super().__init__()
        if gt not in ("velodyne", "groundtruth", "npz"):
            raise ValueError(f"KITTI ground truth must be 'velodyne', 'groundtruth' or 'npz', got {gt!r}")
        self.root = Path(root) if root is not None else None
        if self.root is not None and not self.root.is_dir():
            raise FileNotFoundError(f"KITTI raw root not found: {self.root}")
        if self.root is None and gt != "npz":
            raise ValueError(f"gt={gt!r} needs the KITTI raw root")
        self.gt, self.vel_depth, self.faithful = gt, bool(vel_depth), bool(faithful)
        self.gt_roots = [Path(g) for g in gt_roots] if gt_roots else None
        self.image_ext = tuple(image_ext)
        self.split = str(split) if isinstance(split, (str, os.PathLike)) else None
        self.gt_file = str(gt_file) if gt_file is not None else None

        archive: Optional[tuple[list[np.ndarray], list[str]]] = None
        if gt == "npz":
            if gt_file is None:
                raise ValueError("gt='npz' needs gt_file (written by s2rdepth prepare-kitti-gt)")
            archive = load_eigen_gt(gt_file)
        if split is None:
            if self.root is not None:
                entries = self._scan(self.root)
            else:
                assert archive is not None
                entries = [parse_split_line(s) for s in archive[1]]
        elif isinstance(split, (str, os.PathLike)):
            entries = read_split_file(split)
        else:
            entries = [parse_split_line(s) for s in split]
        if not entries:
            raise ValueError(f"no KITTI frames selected (root {self.root}, split {self.split})")
        self.entries = entries
        self.names = [e.line() for e in entries]
        if len(set(self.names)) != len(self.names):
            dup = next(n for n in self.names if self.names.count(n) > 1)
            raise ValueError(f"split lists frame {dup!r} more than once")
        self._maps: Optional[list[np.ndarray]] = None
        if archive is not None:
            maps, lines = archive
            index = {ln: i for i, ln in enumerate(lines)}
            missing = [n for n in self.names if n not in index]
            if missing:
                raise ValueError(f"ground-truth archive {gt_file} has no frame {missing[0]!r} "
                                 f"({len(missing)} of {len(self.names)} split frames missing)")
            self._maps = [maps[index[n]] for n in self.names]
        # projection matrices per (date, camera), parsed once (errors name the calibration file)
        self._proj: dict[tuple[str, int], tuple[np.ndarray, tuple[int, int]]] = {}
        if gt == "velodyne":
            from ..data.kitti import velo_to_image_matrix

            assert self.root is not None
            for e in entries:
                if (e.date, e.cam) not in self._proj:
                    self._proj[(e.date, e.cam)] = velo_to_image_matrix(self.root / e.date, e.cam)

    def _scan(self, root: Path) -> list:
        from ..data.kitti import SplitEntry

        out = []
        for date in sorted(p for p in root.iterdir() if p.is_dir()):
            for drive in sorted(p for p in date.iterdir() if p.is_dir() and p.name.endswith("_sync")):
                d = drive / "image_02" / "data"
                if not d.is_dir():
                    continue
                for f in sorted(os.listdir(d)):
                    stem, ext = os.path.splitext(f)
                    if ext.lower() in self.image_ext and stem.isdigit():
                        out.append(SplitEntry(f"{date.name}/{drive.name}", int(stem), "l"))
        return out

    # paths ----------------------------------------------------------------------------------
    def image_path(self, index: int) -> Path:
        from ..data.kitti import kitti_image_path

        if self.root is None:
            raise ValueError("images need the KITTI raw root (--data)")
        return kitti_image_path(self.root, self.entries[index], self.image_ext)

    def gt_path(self, index: int) -> Optional[Path]:
        from ..data.kitti import kitti_groundtruth_path, kitti_velodyne_path

        e = self.entries[index]
        if self.gt == "velodyne":
            assert self.root is not None
            return kitti_velodyne_path(self.root, e)
        if self.gt == "groundtruth":
            assert self.root is not None
            if self.gt_roots:
                cands = [kitti_groundtruth_path(self.root, e, g) for g in self.gt_roots]
                return next((c for c in cands if c.is_file()), cands[0])
            return kitti_groundtruth_path(self.root, e)
        return None

    def check_files(self, image: bool) -> None:
        missing = []
        for i in range(len(self)):
            paths = [self.gt_path(i)] + ([self.image_path(i)] if image else [])
            missing += [p for p in paths if p is not None and not p.is_file()]
        if missing:
            raise FileNotFoundError(f"missing KITTI file {missing[0]} ({len(missing)} missing in all)")

    def load(self, index: int, image: bool = False, gt: bool = True) -> dict[str, Any]:
        from ..data.io import read_rgb
        from ..data.kitti import load_velodyne_points, project_velodyne, read_kitti_depth_png

        e = self.entries[index]
        out: dict[str, Any] = {"name": self.names[index]}
        if image:
            out["image"] = read_rgb(self.image_path(index))
        if gt:
            if self.gt == "velodyne":
                p, hw = self._proj[(e.date, e.cam)]
                path = self.gt_path(index)
                assert path is not None
                d = project_velodyne(load_velodyne_points(path), p, hw, vel_depth=self.vel_depth,
                                     faithful=self.faithful)
            elif self.gt == "groundtruth":
                path = self.gt_path(index)
                assert path is not None
                d = read_kitti_depth_png(path)
            else:
                assert self._maps is not None
                d = self._maps[index]
            out["gt"] = np.ascontiguousarray(d, dtype=np.float32)
            if image and out["image"].shape[:2] != out["gt"].shape:
                raise ValueError(f"frame {self.names[index]!r}: image {out['image'].shape[:2]} and "
                                 f"ground truth {out['gt'].shape} differ in size")
        return out

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": "kitti", "root": str(self.root) if self.root else None,
                             "split": self.split, "frames": len(self), "gt": self.gt}
        if self.gt == "velodyne":
            d["gt_convention"] = {"vel_depth": self.vel_depth, "faithful": self.faithful}
        if self.gt == "npz":
            d["gt_file"] = self.gt_file
        return d


# ------------------------------------------------------------------------------------------
# any s2rdepth.data reader
# ------------------------------------------------------------------------------------------
def _reader_names(reader: Any) -> list[str]:
    """Frame names of a :mod:`s2rdepth.data` reader without decoding any file."""
    from ..data.cityscapes import CityscapesDataset
    from ..data.folders import PairedFolderDataset
    from ..data.nyu import NyuV2MatDataset

    items = reader._items  # the readers list their records once, in __init__
    if isinstance(reader, PairedFolderDataset):
        return [str(it[0]) for it in items]
    if isinstance(reader, CityscapesDataset):
        return [f"{reader.split}/{city}/{prefix}" for city, prefix in items]
    if isinstance(reader, NyuV2MatDataset):
        return [f"nyu_{int(i):05d}" for i in items]
    raise TypeError(f"no evaluation support for {type(reader).__name__}")


class ReaderEvalSet(EvalSet):
    """Frames of a :mod:`s2rdepth.data` reader (NYU, Cityscapes, paired folders).

    Args:
        reader: the reader (built with ``on_error="raise"``: no frame is skipped silently, and
            without ``max_depth`` clipping, so the protocol sees the stored depth).
        dataset: protocol name (``"nyu"``, ``"cityscapes"``, ``"folder"``).
        select: names to evaluate, in this order (e.g. from a split file); default all.
        info: extra description fields (root, split...).
    """

    def __init__(self, reader: Any, dataset: str, select: Optional[Sequence[str]] = None,
                 info: Optional[dict[str, Any]] = None) -> None:
        super().__init__()
        if getattr(reader, "on_error", "raise") != "raise":
            raise ValueError("evaluation readers must use on_error='raise' (no silent skipping)")
        if getattr(reader, "max_depth", None) is not None:
            raise ValueError("evaluation readers must not clip depth (max_depth=None); the protocol caps it")
        self.reader, self.dataset, self.info = reader, dataset, dict(info or {})
        all_names = _reader_names(reader)
        if select is None:
            self._rows = list(range(len(all_names)))
        else:
            where = {n: i for i, n in enumerate(all_names)}
            missing = [n for n in select if n not in where]
            if missing:
                raise ValueError(f"split names {missing[:3]} not found in the {dataset} data "
                                 f"({len(missing)} of {len(select)} missing)")
            if len(set(select)) != len(select):
                raise ValueError("split lists a frame more than once")
            self._rows = [where[n] for n in select]
        self.names = [all_names[r] for r in self._rows]
        if not self.names:
            raise ValueError(f"no {dataset} frames to evaluate")

    def load(self, index: int, image: bool = False, gt: bool = True) -> dict[str, Any]:
        s = self.reader[self._rows[index]]
        out: dict[str, Any] = {"name": self.names[index]}
        if image:
            out["image"] = s["image"].permute(1, 2, 0).numpy()
        if gt:
            if "depth" not in s:
                raise ValueError(f"frame {self.names[index]!r} has no ground-truth depth")
            out["gt"] = np.ascontiguousarray(s["depth"][0].numpy(), dtype=np.float32)
        return out

    def describe(self) -> dict[str, Any]:
        return {"name": self.dataset, **self.info, "frames": len(self), "reader": type(self.reader).__name__}


# ------------------------------------------------------------------------------------------
# factory used by the command line
# ------------------------------------------------------------------------------------------
_IMAGE_DIRS = ("rgb", "image", "images", "img")
_DEPTH_DIRS = ("depth", "depths", "gt", "groundtruth")


def _folder_pair(root: Path) -> tuple[Path, Path]:
    img = next((root / d for d in _IMAGE_DIRS if (root / d).is_dir()), None)
    dep = next((root / d for d in _DEPTH_DIRS if (root / d).is_dir()), None)
    if img is None or dep is None:
        raise FileNotFoundError(f"folder dataset {root} needs an image folder ({'/'.join(_IMAGE_DIRS)}) "
                                f"and a depth folder ({'/'.join(_DEPTH_DIRS)})")
    return img, dep


def open_eval_set(dataset: str, data: Optional[PathLike], split: Optional[str] = None, *,
                  gt: Optional[str] = None, gt_file: Optional[PathLike] = None,
                  gt_roots: Optional[Sequence[PathLike]] = None, depth_scale: Optional[float] = None,
                  vel_depth: bool = True, faithful: bool = True) -> EvalSet:
    """Build the evaluation set of the command line's ``--dataset/--data/--split`` options.

    * ``kitti``: ``data`` = KITTI raw root; ``split`` = split file; ``gt`` = ``velodyne``
      (default), ``groundtruth`` or ``npz`` (``gt_file``).
    * ``nyu``: ``data`` = ``nyu_depth_v2_labeled.mat`` or a folder (``rgb/`` + ``depth/``, or
      the "sync" layout); ``split`` = file of names (``nyu_00000`` for the .mat, or 0-based
      integer indices) to evaluate, in order.
    * ``cityscapes``: ``data`` = root; ``split`` = a split folder name (default ``val``) or a
      file of names ``<split>/<city>/<frame prefix>``.
    * ``folder``: ``data`` holds ``rgb|image|images|img/`` and ``depth|depths|gt|groundtruth/``
      trees paired by relative path and stem; ``depth_scale`` = metres per stored unit (needed
      for PNG depth; ``.npy`` / float TIFF default to 1); ``split`` = file of names.
    """
    if dataset == "kitti":
        return KittiEvalSet(data, split, gt=gt or ("npz" if gt_file else "velodyne"), gt_file=gt_file,
                            gt_roots=gt_roots, vel_depth=vel_depth, faithful=faithful)
    if gt is not None or gt_file is not None:
        raise ValueError("ground-truth source options (gt, gt_file) apply to KITTI only")
    if data is None:
        raise ValueError(f"--data is needed for {dataset}")
    root = Path(data)
    select: Optional[list[str]] = None
    if dataset == "nyu":
        if root.is_file():
            from ..data.nyu import NyuV2MatDataset

            reader = NyuV2MatDataset(root)
            if split is not None:
                select = [f"nyu_{int(s):05d}" if s.isdigit() else s for s in read_name_list(split)]
        else:
            from ..data.folders import NyuFolderDataset

            reader = NyuFolderDataset(root)
            select = read_name_list(split) if split is not None else None
        return ReaderEvalSet(reader, "nyu", select, {"root": str(root), "split": split})
    if dataset == "cityscapes":
        from ..data.cityscapes import CityscapesDataset

        if split is not None and Path(split).is_file():
            select = read_name_list(split)
            folder = select[0].split("/")[0]
        else:
            folder = split or "val"
        reader = CityscapesDataset(root, split=folder, load_labels=False)
        return ReaderEvalSet(reader, "cityscapes", select, {"root": str(root), "split": split or folder})
    if dataset == "folder":
        from ..data.folders import PairedFolderDataset

        img, dep = _folder_pair(root)
        if depth_scale is None:
            pngs = any(p.suffix.lower() == ".png" for p in dep.rglob("*"))
            if pngs:
                raise ValueError("PNG depth needs --depth-scale (metres per stored unit: 1/256 for "
                                 "KITTI-style PNGs, 0.001 for millimetres)")
            depth_scale = 1.0
        reader = PairedFolderDataset(img, dep, depth_scale=depth_scale)
        select = read_name_list(split) if split is not None else None
        return ReaderEvalSet(reader, "folder", select, {"root": str(root), "split": split,
                                                         "depth_scale": depth_scale})
    raise ValueError(f"unknown dataset {dataset!r}")
