"""Saved predictions of any method, read in evaluation-set order.

Accepted layouts (depth in metres; any H x W, resized to each ground truth by the protocol):

* ``preds.npy`` — one array ``N x H x W`` (or ``N x 1 x H x W``), frame ``i`` of the split at
  position ``i``. Opened memory-mapped: a 697-frame stack is never loaded at once.
* ``preds.npz`` — key ``depth`` (same shape) and, optionally, ``names`` (the evaluation names,
  e.g. KITTI split lines): when present they must equal the evaluation set's names.
* a folder of ``<index:06d>.npy`` (2-D float metres) and/or 16-bit ``<index:06d>.png`` (metres =
  value / ``png_scale``, default 256 as for KITTI depth PNGs), indices ``0 .. N-1``; optionally a
  ``names.txt`` (one name per line) checked against the evaluation set.

Anything that does not line up is an error, never a silent change of the protocol: a count that
differs from the split's, a missing, extra or duplicated index, names that differ, a
non-finite value, an 8-bit PNG.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

__all__ = ["PredictionError", "PredictionFiles"]

_INDEX_FILE = re.compile(r"^(\d{6})\.(npy|png)$", re.IGNORECASE)


class PredictionError(ValueError):
    """Saved predictions do not match the evaluation set (count, names, files, values)."""


class PredictionFiles:
    """Saved depth predictions (see the module docstring for the layouts).

    Args:
        path: ``.npy`` / ``.npz`` file or folder.
        png_scale: stored PNG units per metre (``value / png_scale`` = metres).
    """

    #: what :meth:`load` returns (the evaluation converts nothing)
    kind = "depth"

    def __init__(self, path: Union[str, os.PathLike], png_scale: float = 256.0) -> None:
        self.path = Path(path)
        self.png_scale = float(png_scale)
        if not self.png_scale > 0:
            raise ValueError(f"png_scale must be > 0, got {png_scale}")
        self.names: Optional[list[str]] = None
        self._array: Any = None  # opened lazily per process (memory maps do not pickle cheaply)
        if self.path.is_dir():
            self.layout = "folder"
            self._files = self._scan_folder()
            self.count = len(self._files)
            names = self.path / "names.txt"
            if names.is_file():
                self.names = [ln.strip() for ln in names.read_text(encoding="utf-8").splitlines() if ln.strip()]
        elif self.path.is_file() and self.path.suffix.lower() in (".npy", ".npz"):
            self.layout = self.path.suffix.lower()[1:]
            arr = self._open()
            if arr.ndim == 4 and arr.shape[1] == 1:
                pass
            elif arr.ndim != 3:
                raise PredictionError(f"{self.path}: expected an N x H x W array of depths in metres, "
                                      f"got shape {tuple(arr.shape)}")
            self.count = int(arr.shape[0])
            self.shape = tuple(int(s) for s in arr.shape)
            self._array = None
        elif not self.path.exists():
            raise FileNotFoundError(f"predictions not found: {self.path}")
        else:
            raise PredictionError(f"{self.path}: predictions must be a .npy / .npz file or a folder")

    # ------------------------------------------------------------------------------------------
    def _open(self) -> Any:
        if self._array is None:
            try:
                if self.layout == "npy":
                    self._array = np.load(self.path, mmap_mode="r", allow_pickle=False)
                else:
                    with np.load(self.path, allow_pickle=False) as z:
                        key = next((k for k in ("depth", "pred", "predictions") if k in z.files), None)
                        if key is None:
                            raise PredictionError(f"{self.path}: .npz needs a 'depth' array, has {z.files}")
                        self._array = z[key]
                        if "names" in z.files:
                            self.names = [str(s) for s in z["names"]]
            except (ValueError, OSError) as exc:
                if isinstance(exc, PredictionError):
                    raise
                raise PredictionError(f"{self.path}: cannot read predictions ({exc})") from None
        return self._array

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_array"] = None
        return state

    def _scan_folder(self) -> list[Path]:
        found: dict[int, Path] = {}
        for entry in sorted(os.listdir(self.path)):
            p = self.path / entry
            ext = p.suffix.lower()
            if ext not in (".npy", ".png") or not p.is_file():
                continue
            m = _INDEX_FILE.match(entry)
            if m is None:
                raise PredictionError(f"{p}: unexpected prediction file name (expected <index:06d>.npy "
                                      "or <index:06d>.png, index = position in the split)")
            i = int(m.group(1))
            if i in found:
                raise PredictionError(f"two predictions for index {i}: {found[i].name} and {entry}")
            found[i] = p
        if not found:
            raise PredictionError(f"{self.path}: no <index:06d>.npy / .png predictions")
        n = max(found) + 1
        missing = [i for i in range(n) if i not in found]
        if missing:
            raise PredictionError(f"{self.path}: prediction {missing[0]:06d} is missing "
                                  f"({len(missing)} indices below {n} missing)")
        return [found[i] for i in range(n)]

    # ------------------------------------------------------------------------------------------
    def check(self, names: Sequence[str]) -> None:
        """Raise :class:`PredictionError` unless these predictions line up with ``names``."""
        if self.layout == "npz":
            self._open()
        if self.count != len(names):
            raise PredictionError(f"{self.path} holds {self.count} predictions but the evaluation set has "
                                  f"{len(names)} frames")
        if self.names is not None:
            if len(self.names) != len(names):
                raise PredictionError(f"{self.path}: {len(self.names)} prediction names for {len(names)} frames")
            for i, (a, b) in enumerate(zip(self.names, names)):
                if a.strip() != b.strip():
                    raise PredictionError(f"prediction {i} is named {a!r} but frame {i} of the evaluation "
                                          f"set is {b!r}")

    def load(self, index: int) -> np.ndarray:
        """Prediction ``index`` as float ``(H, W)`` metres (float32 or float64 as stored)."""
        if self.layout == "folder":
            p = self._files[index]
            if p.suffix.lower() == ".npy":
                try:
                    a = np.load(p, allow_pickle=False)
                except (ValueError, OSError) as exc:
                    raise PredictionError(f"{p}: cannot read ({exc})") from None
                a = np.asarray(a)
                if a.ndim == 3 and 1 in (a.shape[0], a.shape[-1]):
                    a = a.reshape(a.shape[1:] if a.shape[0] == 1 else a.shape[:2])
                if a.ndim != 2:
                    raise PredictionError(f"{p}: expected a 2-D depth map, got shape {a.shape}")
                where = str(p)
            else:
                a = self._read_png(p)
                where = str(p)
        else:
            arr = self._open()
            a = np.asarray(arr[index])
            if a.ndim == 3:
                a = a[0]
            where = f"{self.path}[{index}]"
        if not np.issubdtype(a.dtype, np.floating):
            a = a.astype(np.float64)
        bad = int(a.size - np.count_nonzero(np.isfinite(a)))
        if bad:
            raise PredictionError(f"{where}: {bad} non-finite predicted depths")
        a = np.ascontiguousarray(a)
        return a if a.flags.writeable else a.copy()  # memory-mapped rows are read-only

    def _read_png(self, p: Path) -> np.ndarray:
        from PIL import Image

        try:
            with Image.open(p) as im:
                im.load()
                mode = im.mode
                a = np.asarray(im)
        except OSError as exc:
            raise PredictionError(f"{p}: cannot read PNG ({exc})") from None
        if mode not in ("I;16", "I;16B", "I;16L", "I") or a.ndim != 2:
            raise PredictionError(f"{p}: expected a single-channel 16-bit PNG (metres x {self.png_scale:g}), "
                                  f"got mode {mode!r}")
        return a.astype(np.float64) / self.png_scale

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {"predictions": str(self.path), "layout": self.layout, "count": self.count,
                             "names_checked": self.names is not None}
        if self.layout == "folder":
            d["png_scale"] = self.png_scale
        return d
