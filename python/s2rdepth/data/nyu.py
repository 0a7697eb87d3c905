"""NYU Depth v2 labelled set (``nyu_depth_v2_labeled.mat``, MATLAB v7.3 = HDF5) via h5py.

MATLAB stores arrays column-major, so HDF5 sees the dimensions reversed: the 480x640x3x1449
``images`` array reads as ``(1449, 3, 640, 480)`` and ``depths`` (480x640x1449, metres) as
``(1449, 640, 480)``. Each frame is transposed back to ``(480, 640, 3)`` / ``(480, 640)``.
For the folder form (RGB + 16-bit millimetre PNGs) see :class:`s2rdepth.data.folders.NyuFolderDataset`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from .base import DepthDataset, Sample, depth_tensors, image_tensor
from .io import DataFileError, MissingFileError

__all__ = ["NyuV2MatDataset"]


class NyuV2MatDataset(DepthDataset):
    """Frames of the labelled NYU Depth v2 ``.mat`` (needs ``h5py``: ``pip install s2rdepth[data]``).

    Sample: ``image`` uint8 (3, 480, 640); ``depth`` float32 (1, 480, 640) metres (0 = missing;
    clipped at ``max_depth`` when given), ``valid``, ``depth_sparse`` False; ``name``
    ``"nyu_<index:05d>"`` (0-based index into the file).

    Args:
        mat_path: the ``.mat`` file (HDF5 / MATLAB v7.3; older v5 files are not supported).
        indices: 0-based frame indices to expose (e.g. the 654 Eigen test frames; the Eigen split's
            ``testNdxs`` are 1-based: subtract 1). Default: all frames.
        depth_key: ``"depths"`` (in-painted, default) or ``"rawDepths"``.
    The HDF5 handle is opened lazily in each process (readers pickle into workers).
    """

    dataset_name = "nyu_mat"

    def __init__(self, mat_path: str | os.PathLike[str], indices: Optional[Sequence[int]] = None,
                 depth_key: str = "depths", max_depth: Optional[float] = None,
                 transform: Optional[Callable[[Sample], Sample]] = None, on_error: str = "raise",
                 check_files: bool = True) -> None:
        super().__init__(transform, on_error, check_files)
        try:
            import h5py
        except ImportError as exc:  # pragma: no cover - h5py is in the [data] extra
            raise ImportError("NyuV2MatDataset needs h5py: pip install 's2rdepth[data]'") from exc
        self.path = Path(mat_path)
        self.depth_key, self.max_depth = depth_key, max_depth
        if not self.path.is_file():
            raise MissingFileError(self.path, "missing NYU .mat file")
        if not h5py.is_hdf5(self.path):
            raise DataFileError(self.path, "not an HDF5 (MATLAB v7.3) .mat file")
        try:
            with h5py.File(self.path, "r") as f:
                img_shape, depth_shape = f["images"].shape, f[depth_key].shape
        except (KeyError, OSError) as exc:
            raise DataFileError(self.path, f"NYU .mat lacks 'images' / {depth_key!r} ({exc})") from exc
        if len(img_shape) != 4 or img_shape[1] != 3 or len(depth_shape) != 3 or depth_shape[0] != img_shape[0] \
                or tuple(depth_shape[1:]) != tuple(img_shape[2:]):
            raise DataFileError(self.path, f"unexpected NYU array shapes images {img_shape}, {depth_key} {depth_shape}")
        n = img_shape[0]
        idx = list(range(n)) if indices is None else [int(i) for i in indices]
        bad = [i for i in idx if not 0 <= i < n]
        if bad:
            raise IndexError(f"NYU indices out of range [0, {n}): {bad[:5]} in {self.path}")
        self._items = idx
        self._h5 = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_h5"] = None  # h5py handles do not pickle; each worker reopens
        return state

    def _file(self):
        if self._h5 is None:
            import h5py

            self._h5 = h5py.File(self.path, "r")
        return self._h5

    def load(self, index: int) -> Sample:
        i = self._items[index]
        try:
            f = self._file()
            img = np.asarray(f["images"][i])  # (3, W, H)
            depth = np.asarray(f[self.depth_key][i], dtype=np.float32)  # (W, H)
        except (OSError, KeyError, ValueError) as exc:
            raise DataFileError(self.path, f"cannot read NYU frame {i} ({exc})") from exc
        rgb = np.ascontiguousarray(img.transpose(2, 1, 0)).astype(np.uint8)  # (H, W, 3)
        depth = np.ascontiguousarray(depth.T)
        if self.max_depth is not None:
            depth = depth.clip(max=self.max_depth)
        s: Sample = {"image": image_tensor(rgb), "name": f"nyu_{i:05d}", "depth_sparse": False}
        s["depth"], s["valid"] = depth_tensors(depth)
        return s
