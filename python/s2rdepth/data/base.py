"""The common base of every reader: indexing contract, sample dict, error policy.

Sample dict returned by every reader (before a transform; keys absent when a dataset has no such
data, but always the same keys for one reader configuration so batches collate):

=================  ================================  ==================================================
key                type                              content
=================  ================================  ==================================================
``image``          uint8 tensor ``(3, H, W)``        RGB, 0..255 (transforms turn it into floats)
``depth``          float32 tensor ``(1, H, W)``      metres; ``0`` = invalid/unknown; capped at the
                                                     reader's ``max_depth`` when it has one
``valid``          bool tensor ``(1, H, W)``         ``depth > 0``
``label``          int64 tensor ``(H, W)``           shared label ids (:mod:`s2rdepth.data.labels`,
                                                     Cityscapes train ids 0..18), 255 = ignore
``depth_sparse``   bool                              True where depth is a sparse scan (KITTI
                                                     Velodyne / benchmark PNGs): transforms then
                                                     resample depth with nearest neighbour
``name``           str                               stable identifier (relative path or split line)
``index``          int                               the index actually returned (differs from the
                                                     requested one when files were skipped)
``skipped``        int                               files skipped to produce this sample (0 unless
                                                     ``on_error="skip"``); sum it over batches to
                                                     count skips across DataLoader workers
=================  ================================  ==================================================

Every reader lists its files once, in ``__init__`` (and parses per-sequence metadata such as
calibration or colour tables there); ``__getitem__`` only decodes the files of one sample.
Readers hold only paths and small NumPy arrays, so they pickle into ``DataLoader`` workers
(``num_workers > 0``); samples are plain tensors / str / int / bool, so the default collate and
``pin_memory=True`` work unchanged once a transform has given every sample one size.

Error policy (``on_error``): ``"raise"`` (default): a missing or undecodable file raises
:class:`~s2rdepth.data.io.DataFileError` / :class:`~s2rdepth.data.io.MissingFileError` naming the
file. ``"skip"``: the sample is replaced by the next loadable one (cyclically), the file is recorded
in :attr:`DepthDataset.skipped` (``{path: reason}``, per process), a warning is issued once per
file, and the sample's ``skipped`` field counts it. A zero image is never substituted.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Optional

import numpy as np
import torch
from torch.utils.data import Dataset

from .io import DataFileError, MissingFileError

__all__ = ["DepthDataset", "Sample", "OnError"]

Sample = dict[str, Any]
OnError = str  # "raise" | "skip"


class DepthDataset(Dataset):
    """Base class of the readers (see the module docstring for the sample layout).

    Subclasses fill ``self._items`` (any picklable per-sample record) in ``__init__`` and implement
    :meth:`load` (decode one record into a sample dict without ``index``/``skipped``) and
    :meth:`item_files` (the files a record needs, for the existence check).

    Args:
        transform: callable ``sample -> sample`` applied after loading (e.g.
            :class:`s2rdepth.data.transforms.S2RTransform`).
        on_error: ``"raise"`` or ``"skip"`` (see module docstring).
        check_files: check at construction that every file of every record exists; missing ones
            raise (``on_error="raise"``) or drop the record and count it (``"skip"``).
    """

    #: short dataset name
    dataset_name: str = "dataset"
    #: True when the depth is a sparse scan (transforms resample it with nearest neighbour)
    sparse_depth: bool = False

    def __init__(self, transform: Optional[Callable[[Sample], Sample]] = None, on_error: str = "raise",
                 check_files: bool = True) -> None:
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        self.transform = transform
        self.on_error = on_error
        self.check_files = check_files
        self._items: list[Any] = []
        #: files skipped in this process: ``{path: reason}``
        self.skipped: dict[str, str] = {}
        self._bad: set[int] = set()

    # ------------------------------------------------------------------ subclass interface
    def load(self, index: int) -> Sample:
        """Decode record ``index`` into a sample (no transform). Raise :class:`DataFileError` on bad files."""
        raise NotImplementedError

    def item_files(self, item: Any) -> list:
        """Paths that record ``item`` needs (checked for existence when ``check_files``)."""
        return []

    # ------------------------------------------------------------------ common machinery
    def _finalize_index(self) -> None:
        """Call at the end of a subclass ``__init__``: existence check and empty-dataset error."""
        if self.check_files:
            kept = []
            for item in self._items:
                missing = next((p for p in self.item_files(item) if not p.is_file()), None)
                if missing is None:
                    kept.append(item)
                elif self.on_error == "raise":
                    raise MissingFileError(missing, f"missing file in {self.dataset_name}")
                else:
                    self._record_skip(str(missing), "missing file")
            self._items = kept

    @property
    def num_skipped(self) -> int:
        """How many files this process has skipped (construction and loading)."""
        return len(self.skipped)

    def _record_skip(self, path: str, reason: str) -> None:
        if path not in self.skipped:
            self.skipped[path] = reason
            warnings.warn(f"{self.dataset_name}: skipping {path} ({reason})", RuntimeWarning, stacklevel=3)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Sample:
        n = len(self._items)
        if n == 0:
            raise IndexError(f"{self.dataset_name} is empty")
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"index {index} out of range for {self.dataset_name} of length {n}")
        skipped = 0
        for attempt in range(n):
            j = (index + attempt) % n
            if j in self._bad:
                skipped += 1
                continue
            try:
                sample = self.load(j)
            except DataFileError as exc:
                if self.on_error == "raise":
                    raise
                self._bad.add(j)
                self._record_skip(exc.path, exc.reason)
                skipped += 1
                continue
            sample["index"] = j
            sample["skipped"] = skipped
            if self.transform is not None:
                sample = self.transform(sample)
            return sample
        raise DataFileError(self.dataset_name, "every file of the dataset failed to load")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={len(self)}, on_error={self.on_error!r})"


# ---------------------------------------------------------------------------------- helpers
def image_tensor(rgb: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` → uint8 tensor ``(3, H, W)``."""
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))


def depth_tensors(depth_m: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """float ``(H, W)`` metres → (float32 ``(1, H, W)``, bool ``(1, H, W)`` valid = depth > 0)."""
    d = np.ascontiguousarray(depth_m, dtype=np.float32)
    d = np.where(np.isfinite(d) & (d > 0), d, np.float32(0)).astype(np.float32)
    t = torch.from_numpy(d).unsqueeze(0)
    return t, t > 0


def label_tensor(label: np.ndarray) -> torch.Tensor:
    """integer ``(H, W)`` → int64 tensor ``(H, W)``."""
    return torch.from_numpy(np.ascontiguousarray(label, dtype=np.int64))


def check_same_size(path, expected_hw: tuple[int, int], got_hw: tuple[int, int], what: str) -> None:
    """Raise :class:`DataFileError` naming ``path`` when a paired file's size differs from the image's."""
    if tuple(expected_hw) != tuple(got_hw):
        raise DataFileError(path, f"{what} is {got_hw[0]}x{got_hw[1]} but the image is {expected_hw[0]}x{expected_hw[1]}")
