"""Image inputs of :func:`s2rdepth.predict`: files, PIL images, NumPy arrays and tensors.

Every input becomes one 3 x H x W ``torch.Tensor``, either ``uint8`` (values 0…255) or
``float32`` (values in [0, 1]). Conversions (documented behaviour, not errors):

* **files** are decoded with Pillow; truncated or corrupt files raise :class:`ImageReadError`
  (an ``OSError`` naming the file; missing files raise :class:`ImageNotFoundError`, also a
  ``FileNotFoundError``);
* **grayscale** (``L``, ``1``, ``I;16``, H x W or H x W x 1 arrays, 1 x H x W tensors) → the grey
  value replicated to three channels;
* **alpha** (``RGBA``, ``LA``, ``PA``, H x W x 4, 4 x H x W) → alpha dropped (no compositing);
  palette and CMYK/YCbCr images → RGB;
* **16-bit** (``I;16`` PNGs, ``uint16`` arrays) → ``float32`` value / 65535 (no 8-bit rounding);
  32-bit integer images (``I``) must hold values in 0…65535 and are treated the same way;
  float images (``F``) must hold values in [0, 1];
* **NumPy** arrays are H x W x C (channels last; C = 1, 3 or 4) or H x W; ``uint8`` as is,
  ``uint16`` / 65535, floating point must be finite and in [0, 1] (a float array with values up to
  255 is an error: divide it by 255 first);
* **tensors** are C x H x W (channels first; C = 1, 3 or 4) or H x W; a 4-D N x C x H x W tensor
  is a batch of N images. ``uint8`` or floating point in [0, 1], as for arrays;
* zero-size images (H or W = 0) are an :class:`ImageInputError` (a ``ValueError``).

EXIF orientation is not applied (KITTI-style camera images carry none).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, List, Sequence, Tuple

import numpy as np
import torch

__all__ = ["ImageInputError", "ImageNotFoundError", "ImageReadError", "as_image_list", "load_image",
           "to_chw_tensor"]

#: Tolerance of the [0, 1] range check of float images.
_RANGE_TOL = 1e-3


class ImageInputError(ValueError):
    """An in-memory image (array, tensor, PIL image) has an unsupported shape, dtype or range."""


class ImageReadError(OSError):
    """An image file exists but cannot be decoded. ``err.path`` names it."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{reason}: {self.path}")

    def __reduce__(self):
        return (type(self), (self.path, self.reason))


class ImageNotFoundError(ImageReadError, FileNotFoundError):
    """An image file does not exist."""


def _pil_to_array(img: Any, where: str) -> np.ndarray:
    """PIL image → H x W x 3 ``uint8`` or ``float32`` [0, 1] array (see the module docstring)."""
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        a = np.asarray(img).astype(np.float32) / 65535.0
    elif mode == "I":
        a = np.asarray(img)
        if a.size and (a.min() < 0 or a.max() > 65535):
            raise ImageInputError(f"{where}: 32-bit integer image with values outside 0..65535")
        a = a.astype(np.float32) / 65535.0
    elif mode == "F":
        a = np.asarray(img).astype(np.float32)
        _check_float_range(a, where)
    elif mode == "RGB":
        a = np.asarray(img, dtype=np.uint8)
    elif mode == "L":
        a = np.asarray(img, dtype=np.uint8)
    else:  # 1, P, PA, LA, RGBA, RGBX, CMYK, YCbCr, LAB, HSV ...: Pillow's RGB conversion
        a = np.asarray(img.convert("RGB"), dtype=np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    return np.ascontiguousarray(a)


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as H x W x 3: ``uint8`` (8-bit files) or ``float32`` in [0, 1] (16-bit).

    Raises :class:`ImageNotFoundError` for a missing file and :class:`ImageReadError` for an
    unreadable, truncated or corrupt one (Pillow's ``LOAD_TRUNCATED_IMAGES`` is forced off).
    """
    from PIL import Image, ImageFile

    path = Path(path)
    if not path.is_file():
        raise ImageNotFoundError(path, "image file not found")
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(path) as img:
            img.load()
            if img.size[0] == 0 or img.size[1] == 0:
                raise ImageReadError(path, "zero-size image")
            return _pil_to_array(img, str(path))
    except (ImageReadError, ImageInputError):
        raise
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, zlib errors, ...
        raise ImageReadError(path, f"cannot decode image ({type(exc).__name__}: {exc})") from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _check_float_range(a: np.ndarray | torch.Tensor, where: str) -> None:
    if isinstance(a, torch.Tensor):
        if a.numel() == 0:
            return
        finite = bool(torch.isfinite(a).all())
        lo, hi = (float(a.min()), float(a.max())) if finite else (0.0, 0.0)
    else:
        if a.size == 0:
            return
        finite = bool(np.isfinite(a).all())
        lo, hi = (float(a.min()), float(a.max())) if finite else (0.0, 0.0)
    if not finite:
        raise ImageInputError(f"{where}: floating-point image holds NaN or infinite values")
    if lo < -_RANGE_TOL or hi > 1.0 + _RANGE_TOL:
        hint = " (looks like 0..255 values: pass uint8 or divide by 255)" if hi > 1.5 else ""
        raise ImageInputError(f"{where}: floating-point image must be in [0, 1], got values in "
                              f"[{lo:.4g}, {hi:.4g}]{hint}")


def _array_to_chw(a: np.ndarray, where: str) -> torch.Tensor:
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ImageInputError(f"{where}: expected an H x W x C array with C = 1, 3 or 4 (channels "
                              f"last) or an H x W array, got shape {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ImageInputError(f"{where}: zero-size image (shape {a.shape})")
    if a.shape[2] == 4:
        a = a[:, :, :3]
    if a.dtype == np.uint8:
        t = torch.from_numpy(np.array(a, copy=True))  # own, writable memory
    elif a.dtype == np.uint16:
        t = torch.from_numpy(a.astype(np.float32) / 65535.0)
    elif np.issubdtype(a.dtype, np.floating):
        a32 = a.astype(np.float32)
        _check_float_range(a32, where)
        t = torch.from_numpy(np.clip(a32, 0.0, 1.0))
    else:
        raise ImageInputError(f"{where}: unsupported array dtype {a.dtype} (expected uint8, uint16 "
                              "or floating point in [0, 1])")
    t = t.permute(2, 0, 1)
    if t.shape[0] == 1:
        t = t.expand(3, -1, -1)
    return t.contiguous()


def _tensor_to_chw(t: torch.Tensor, where: str) -> torch.Tensor:
    t = t.detach()
    if t.dim() == 2:
        t = t.unsqueeze(0)
    if t.dim() != 3 or t.shape[0] not in (1, 3, 4):
        raise ImageInputError(f"{where}: expected a C x H x W tensor with C = 1, 3 or 4 (channels "
                              f"first), an H x W tensor or an N x C x H x W batch, got shape "
                              f"{list(t.shape)}")
    if t.shape[1] == 0 or t.shape[2] == 0:
        raise ImageInputError(f"{where}: zero-size image (shape {list(t.shape)})")
    if t.shape[0] == 4:
        t = t[:3]
    if t.dtype == torch.uint8:
        pass
    elif t.is_floating_point():
        t = t.to(torch.float32)
        _check_float_range(t, where)
        t = t.clamp(0.0, 1.0)
    else:
        raise ImageInputError(f"{where}: unsupported tensor dtype {t.dtype} (expected uint8 or "
                              "floating point in [0, 1])")
    if t.shape[0] == 1:
        t = t.expand(3, -1, -1)
    return t.contiguous()


def to_chw_tensor(image: Any, where: str = "image") -> torch.Tensor:
    """One image (path, PIL image, array, 2-D/3-D tensor) → 3 x H x W uint8 or float32 tensor."""
    if isinstance(image, (str, os.PathLike)):
        return _array_to_chw(load_image(image), str(image))
    if isinstance(image, torch.Tensor):
        return _tensor_to_chw(image, where)
    if isinstance(image, np.ndarray):
        return _array_to_chw(image, where)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        Image = None
    if Image is not None and isinstance(image, Image.Image):
        if image.size[0] == 0 or image.size[1] == 0:
            raise ImageInputError(f"{where}: zero-size image ({image.size[0]} x {image.size[1]})")
        return _array_to_chw(_pil_to_array(image, where), where)
    raise ImageInputError(f"{where}: unsupported image type {type(image).__name__} (expected a path, "
                          "a PIL image, a NumPy array or a torch tensor)")


def as_image_list(images: Any) -> Tuple[List[Any], List[str], bool]:
    """Normalise ``predict``'s ``images`` argument.

    Returns ``(items, names, single)``: the individual images (not yet decoded), a display name
    for each (file path or ``images[i]``), and whether a single image was given (so ``predict``
    returns one result instead of a list). A 4-D tensor or array is a batch (not single).
    """
    if isinstance(images, (str, os.PathLike)):
        return [images], [str(images)], True
    if isinstance(images, torch.Tensor):
        if images.dim() == 4:
            return list(images.unbind(0)), [f"images[{i}]" for i in range(images.shape[0])], False
        return [images], ["image"], True
    if isinstance(images, np.ndarray):
        if images.ndim == 4:
            return list(images), [f"images[{i}]" for i in range(images.shape[0])], False
        return [images], ["image"], True
    if isinstance(images, (list, tuple)):
        items = list(images)
        names = [str(x) if isinstance(x, (str, os.PathLike)) else f"images[{i}]" for i, x in enumerate(items)]
        return items, names, False
    return [images], ["image"], True


def group_by_size(tensors: Sequence[torch.Tensor]) -> dict[tuple[int, int, bool], list[int]]:
    """Indices of ``tensors`` grouped by (H, W, is_uint8), in first-seen order."""
    groups: dict[tuple[int, int, bool], list[int]] = {}
    for i, t in enumerate(tensors):
        groups.setdefault((int(t.shape[1]), int(t.shape[2]), t.dtype == torch.uint8), []).append(i)
    return groups
