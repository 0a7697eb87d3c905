"""Generic folder readers: image/depth pairs (SUNCG-style, DrivingStereo, nuScenes exports, NYU folders)
and image-only folders (Painter-by-Numbers, unlabelled target images).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional, Sequence

from .base import DepthDataset, Sample, check_same_size, depth_tensors, image_tensor
from .io import IMAGE_EXTENSIONS, MissingFileError, list_files, pillow_image_extensions, read_depth_file, read_rgb

__all__ = ["PairedFolderDataset", "ImageFolderDataset", "NyuFolderDataset"]

#: Depth file extensions read by :func:`~s2rdepth.data.io.read_depth_file`.
DEPTH_EXTENSIONS: tuple[str, ...] = (".png", ".npy", ".tif", ".tiff")


def _key(path: Path, root: Path, prefix: str, suffix: str, match: str) -> Optional[str]:
    stem = path.stem
    if prefix:
        if not stem.startswith(prefix):
            return None
        stem = stem[len(prefix):]
    if suffix:
        if not stem.endswith(suffix):
            return None
        stem = stem[: -len(suffix)]
    if match == "stem":
        return stem
    rel = path.parent.relative_to(root).as_posix()
    return stem if rel == "." else f"{rel}/{stem}"


class PairedFolderDataset(DepthDataset):
    """Image/depth pairs in two folder trees (or one tree, told apart by name prefix/suffix).

    A pair is an image and a depth file with the same *key*: the file stem with ``*_prefix`` /
    ``*_suffix`` removed, plus (``match="relpath"``, default) the folder relative to its root, or the
    stem alone (``match="stem"``; keys must then be unique). Examples:

    * SUNCG-style / generic: ``PairedFolderDataset("rgb", "depth", depth_scale=1/1000)``
    * DrivingStereo: ``PairedFolderDataset("train-left-image", "train-depth-map", depth_scale=1/256)``
    * NYU folders: :class:`NyuFolderDataset` (``rgb/rgb_00000.jpg`` + ``depth/sync_depth_00000.png``)

    Depth files: 16-bit PNG, float TIFF or ``.npy``; metres = stored value x ``depth_scale``;
    0 / non-finite = invalid. Sample: ``image`` uint8 (3, H, W), ``depth`` float32 (1, H, W) metres
    (clipped at ``max_depth`` when given), ``valid``, ``depth_sparse`` (= ``sparse``), ``name`` = key.

    Args:
        image_root, depth_root: the two trees (may be the same folder).
        depth_scale: metres per stored unit (1/1000 for millimetres, 1/256 for KITTI-style PNGs).
        recursive: search sub-folders.
        unpaired: ``"error"`` (default) raises naming the first image without depth; ``"drop"``
            drops such images and records them in :attr:`unpaired`.
        sparse: mark the depth as sparse (nearest-neighbour resampling in transforms).
    """

    dataset_name = "paired_folder"

    def __init__(self, image_root: str | os.PathLike[str], depth_root: str | os.PathLike[str],
                 depth_scale: float = 1.0, image_exts: Sequence[str] = IMAGE_EXTENSIONS,
                 depth_exts: Sequence[str] = DEPTH_EXTENSIONS, image_prefix: str = "", depth_prefix: str = "",
                 image_suffix: str = "", depth_suffix: str = "", match: str = "relpath", recursive: bool = True,
                 max_depth: Optional[float] = None, unpaired: str = "error", sparse: bool = False,
                 transform: Optional[Callable[[Sample], Sample]] = None, on_error: str = "raise",
                 check_files: bool = True) -> None:
        super().__init__(transform, on_error, check_files)
        if match not in ("relpath", "stem"):
            raise ValueError(f"match must be 'relpath' or 'stem', got {match!r}")
        if unpaired not in ("error", "drop"):
            raise ValueError(f"unpaired must be 'error' or 'drop', got {unpaired!r}")
        self.image_root, self.depth_root = Path(image_root), Path(depth_root)
        if (self.image_root.resolve() == self.depth_root.resolve() and image_prefix == depth_prefix
                and image_suffix == depth_suffix and set(map(str.lower, image_exts)) & set(map(str.lower, depth_exts))):
            raise ValueError("image and depth files share one folder and extensions: tell them apart with "
                             "image_prefix/depth_prefix or image_suffix/depth_suffix")
        self.depth_scale, self.max_depth, self.sparse_depth = depth_scale, max_depth, sparse
        depth_by_key: dict[str, Path] = {}
        for p in list_files(self.depth_root, depth_exts, recursive):
            k = _key(p, self.depth_root, depth_prefix, depth_suffix, match)
            if k is None:
                continue
            if k in depth_by_key:
                raise ValueError(f"two depth files share the key {k!r}: {depth_by_key[k]} and {p}")
            depth_by_key[k] = p
        #: images without a depth file (``unpaired="drop"``)
        self.unpaired: list[str] = []
        seen: dict[str, Path] = {}
        for p in list_files(self.image_root, image_exts, recursive):
            k = _key(p, self.image_root, image_prefix, image_suffix, match)
            if k is None:
                continue
            if k in seen:
                raise ValueError(f"two images share the key {k!r}: {seen[k]} and {p}")
            seen[k] = p
            d = depth_by_key.get(k)
            if d is None:
                if unpaired == "error":
                    raise MissingFileError(p, f"no depth file with key {k!r} under {self.depth_root} for image")
                self.unpaired.append(str(p))
                continue
            self._items.append((k, p, d))
        if not self._items:
            raise FileNotFoundError(f"no image/depth pairs found in {self.image_root} and {self.depth_root}")
        self._finalize_index()

    def item_files(self, item) -> list:
        return [item[1], item[2]]

    def load(self, index: int) -> Sample:
        key, img_p, depth_p = self._items[index]
        rgb = read_rgb(img_p)
        depth = read_depth_file(depth_p, self.depth_scale)
        check_same_size(depth_p, rgb.shape[:2], depth.shape, "depth map")
        if self.max_depth is not None:
            depth = depth.clip(max=self.max_depth)
        s: Sample = {"image": image_tensor(rgb), "name": key, "depth_sparse": self.sparse_depth}
        s["depth"], s["valid"] = depth_tensors(depth)
        return s


class NyuFolderDataset(PairedFolderDataset):
    """NYU Depth v2 as folders of RGB + 16-bit millimetre PNGs (depth m = v / 1000, 0 = missing).

    Accepts both ``<root>/rgb/rgb_00000.jpg`` + ``<root>/depth/sync_depth_00000.png`` and the
    one-folder "sync" layout (``<root>/<scene>/rgb_00000.jpg`` next to ``sync_depth_00000.png``).
    ``depth_prefix`` can be changed (e.g. ``"depth_"``). Sample keys as :class:`PairedFolderDataset`.
    """

    dataset_name = "nyu_folder"

    def __init__(self, root: str | os.PathLike[str], image_prefix: str = "rgb_", depth_prefix: str = "sync_depth_",
                 max_depth: Optional[float] = None, recursive: bool = True,
                 transform: Optional[Callable[[Sample], Sample]] = None, on_error: str = "raise",
                 check_files: bool = True) -> None:
        root = Path(root)
        split = (root / "rgb").is_dir() and (root / "depth").is_dir()
        super().__init__(root / "rgb" if split else root, root / "depth" if split else root,
                         depth_scale=1.0 / 1000.0, image_exts=(".jpg", ".jpeg", ".png"), depth_exts=(".png",),
                         image_prefix=image_prefix, depth_prefix=depth_prefix, match="relpath",
                         recursive=recursive, max_depth=max_depth, transform=transform,
                         on_error=on_error, check_files=check_files)


class ImageFolderDataset(DepthDataset):
    """Every Pillow-readable image under ``root`` (sorted by path; recursive by default).

    For unlabelled target-domain images (DA-Monodepth) and style images (Painter-by-Numbers for
    S2R stage 1). Sample: ``image`` uint8 (3, H, W) RGB (grey / palette / RGBA converted),
    ``name`` = relative path without extension, ``index``, ``skipped``.

    Args:
        root: folder.
        exts: extensions to include (default: every extension Pillow can open here).
        recursive: search sub-folders.
    """

    dataset_name = "image_folder"

    def __init__(self, root: str | os.PathLike[str], exts: Optional[Sequence[str]] = None, recursive: bool = True,
                 transform: Optional[Callable[[Sample], Sample]] = None, on_error: str = "raise",
                 check_files: bool = False) -> None:
        super().__init__(transform, on_error, check_files)
        self.root = Path(root)
        self._items = list_files(self.root, exts or pillow_image_extensions(), recursive)
        if not self._items:
            raise FileNotFoundError(f"no images found under {self.root}")
        self._finalize_index()

    def item_files(self, item) -> list:
        return [item]

    def load(self, index: int) -> Sample:
        p: Path = self._items[index]
        rgb = read_rgb(p)
        return {"image": image_tensor(rgb), "name": p.relative_to(self.root).with_suffix("").as_posix()}
