"""File reading helpers shared by the readers: every failure names the file.

* :class:`DataFileError` (an ``OSError``) for a file that exists but cannot be decoded (truncated
  PNG, wrong bit depth, bad JSON, ...); :class:`MissingFileError` (also a ``FileNotFoundError``)
  for a file that is absent. Both carry ``.path``.
* Truncated images are never decoded partially: Pillow's ``LOAD_TRUNCATED_IMAGES`` switch is forced
  off while loading, so a cut file raises instead of yielding a partly black image.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

__all__ = [
    "DataFileError",
    "MissingFileError",
    "IMAGE_EXTENSIONS",
    "pillow_image_extensions",
    "read_rgb",
    "read_png_uint16",
    "write_png_uint16",
    "read_label_png",
    "read_color_label",
    "read_json",
    "read_depth_file",
    "list_files",
]

#: Extensions tried for RGB images when a layout allows several (lower case, with the dot).
IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm")


class DataFileError(OSError):
    """A dataset file exists but cannot be read or decoded. ``str(err)`` and ``err.path`` name it.

    ``DataFileError(message)`` with one argument is accepted too (that is how ``DataLoader``
    re-creates a worker's exception in the main process, keeping its type).
    """

    def __init__(self, path: str | os.PathLike[str], reason: str = "") -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{reason}: {self.path}" if reason else self.path)

    def __reduce__(self):  # picklable across DataLoader workers
        return (type(self), (self.path, self.reason))


class MissingFileError(DataFileError, FileNotFoundError):
    """A dataset file that the index or layout requires is absent."""


def _check_exists(path: Path, what: str) -> None:
    if not path.is_file():
        raise MissingFileError(path, f"missing {what}")


def _open_pillow(path: str | os.PathLike[str], what: str):
    """Open and fully decode an image with Pillow; raise errors naming ``path``."""
    from PIL import Image, ImageFile

    path = Path(path)
    _check_exists(path, what)
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        img = Image.open(path)
        img.load()
        return img
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, zlib errors ...
        raise DataFileError(path, f"cannot decode {what} ({type(exc).__name__}: {exc})") from exc
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def pillow_image_extensions() -> tuple[str, ...]:
    """Every extension Pillow can open here (lower case, sorted), e.g. ``('.bmp', '.jpg', ...)``."""
    from PIL import Image

    Image.init()
    skip = {".eps", ".ps", ".epsf", ".epsi", ".pdf"}  # need external tools (ghostscript) to decode
    return tuple(sorted(ext.lower() for ext, fmt in Image.registered_extensions().items()
                        if fmt in Image.OPEN and ext.lower() not in skip))


def read_rgb(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image as uint8 ``(H, W, 3)`` RGB in [0, 255] (palette, grey, RGBA and 16-bit converted)."""
    img = _open_pillow(path, "image")
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") else max(float(a.max()), 1.0)
        a = np.clip(np.round(a / top * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(a[..., None], 3, axis=2)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.uint8).copy()


def read_png_uint16(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a single-channel 16-bit PNG as uint16 ``(H, W)``; 8-bit or colour files are an error."""
    img = _open_pillow(path, "16-bit depth image")
    if img.mode not in ("I;16", "I;16B", "I;16L", "I"):
        raise DataFileError(path, f"expected a single-channel 16-bit image, got mode {img.mode!r}")
    a = np.asarray(img)
    if a.dtype != np.uint16:
        if a.min(initial=0) < 0 or a.max(initial=0) > 65535:
            raise DataFileError(path, "16-bit image holds values outside [0, 65535]")
        a = a.astype(np.uint16)
    return a


def write_png_uint16(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write a uint16 ``(H, W)`` array as a 16-bit greyscale PNG (creating parent folders)."""
    from PIL import Image

    a = np.ascontiguousarray(array, dtype=np.uint16)
    if a.ndim != 2:
        raise ValueError(f"write_png_uint16 expects a 2-D array, got shape {a.shape}")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a).save(path)


def read_label_png(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an id-encoded label PNG (``L``/``P``/16-bit) as int64 ``(H, W)`` raw ids."""
    img = _open_pillow(path, "label image")
    if img.mode == "RGB" or img.mode == "RGBA":
        raise DataFileError(path, f"expected a single-channel label image, got mode {img.mode!r}")
    return np.asarray(img).astype(np.int64)


def read_color_label(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a colour-encoded label image as uint8 ``(H, W, 3)`` (palette images converted to RGB)."""
    img = _open_pillow(path, "colour label image")
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.uint8)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file; errors name the file."""
    path = Path(path)
    _check_exists(path, "JSON file")
    try:
        with open(path, "r", encoding="utf-8") as fh:
            return json.load(fh)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataFileError(path, f"cannot parse JSON ({exc})") from exc


def read_depth_file(path: str | os.PathLike[str], scale: float) -> np.ndarray:
    """Read a depth map as float32 ``(H, W)`` metres = stored value x ``scale``; 0 / non-finite → 0.

    Supported: 16-bit PNG (e.g. ``scale=1/1000`` for millimetres, ``1/256`` for KITTI,
    ``1/100`` for centimetres), 32-bit float TIFF / ``F``-mode images, ``.npy`` arrays (2-D, or
    ``(1, H, W)`` / ``(H, W, 1)``), and 8-bit PNG (values 0..255, rarely useful).
    """
    path = Path(path)
    _check_exists(path, "depth file")
    if path.suffix.lower() == ".npy":
        try:
            a = np.load(path, allow_pickle=False)
        except Exception as exc:
            raise DataFileError(path, f"cannot read depth array ({type(exc).__name__}: {exc})") from exc
        a = np.squeeze(np.asarray(a))
        if a.ndim != 2:
            raise DataFileError(path, f"depth array must be 2-D, got shape {a.shape}")
        a = a.astype(np.float32)
    else:
        img = _open_pillow(path, "depth image")
        if img.mode in ("RGB", "RGBA", "P"):
            raise DataFileError(path, f"expected a single-channel depth image, got mode {img.mode!r}")
        a = np.asarray(img).astype(np.float32)
    d = a * np.float32(scale)
    d[~np.isfinite(d)] = 0.0
    d[d < 0] = 0.0
    return d.astype(np.float32, copy=False)


def list_files(root: str | os.PathLike[str], exts: Iterable[str], recursive: bool = True) -> list[Path]:
    """Files under ``root`` whose lower-cased suffix is in ``exts``, sorted by path; hidden entries skipped."""
    root = Path(root)
    if not root.is_dir():
        raise MissingFileError(root, "missing dataset folder")
    wanted = {e.lower() if e.startswith(".") else "." + e.lower() for e in exts}
    out: list[Path] = []
    if recursive:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for f in filenames:
                if not f.startswith(".") and os.path.splitext(f)[1].lower() in wanted:
                    out.append(Path(dirpath) / f)
    else:
        for p in root.iterdir():
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in wanted:
                out.append(p)
    out.sort(key=lambda p: p.as_posix())
    return out


def ensure_files(paths: Sequence[Path], what: str) -> None:
    """Raise :class:`MissingFileError` for the first path of ``paths`` that does not exist."""
    for p in paths:
        if not p.is_file():
            raise MissingFileError(p, f"missing {what}")
