"""Model sources on disk for :func:`s2rdepth.predict` and :func:`s2rdepth.export`.

* an s2rdepth model checkpoint (``.safetensors``; :func:`s2rdepth.checkpoint.save_model`), whose
  ``extra`` metadata may give the network size (``network_size``, ``input_size`` or ``size``:
  ``[H, W]`` or ``"HxW"``; ``s2rdepth train`` writes ``network_size``);
* a folder holding the four official S2R-DepthNet files
  (:data:`s2rdepth.models.OFFICIAL_FILENAMES`), loaded with
  :func:`s2rdepth.models.load_official_s2r` (``max_depth`` 80 m unless given; 8 for the indoor
  models).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Tuple

import torch.nn as nn

__all__ = ["ModelSource", "is_official_folder", "load_model_source", "parse_size"]


def parse_size(value: Any) -> Tuple[int, int]:
    """``"192x640"`` or ``[192, 640]`` → ``(192, 640)`` (height, width in pixels)."""
    if isinstance(value, str):
        parts = value.lower().replace(",", "x").split("x")
    else:
        parts = list(value)
    try:
        h, w = (int(p) for p in parts)
    except (TypeError, ValueError):
        raise ValueError(f"size must look like HxW (e.g. 192x640) or [H, W], got {value!r}") from None
    if h < 1 or w < 1:
        raise ValueError(f"size must be positive, got {h}x{w}")
    return h, w


@dataclass
class ModelSource:
    """A loaded model with where it came from."""

    model: nn.Module
    name: str                                   # file or folder name
    sha256: Optional[str]                       # checkpoint file hash (official: hash of the 4 hashes)
    network_size: Optional[Tuple[int, int]]     # from the checkpoint metadata, when recorded
    depth_kwargs: dict = field(default_factory=dict)


def is_official_folder(path: Path) -> bool:
    """Whether ``path`` is a folder with the four official S2R-DepthNet files."""
    from ..models import OFFICIAL_FILENAMES

    return path.is_dir() and all((path / f).is_file() for f in OFFICIAL_FILENAMES.values())


def load_model_source(path: str | os.PathLike[str], max_depth: Optional[float] = None) -> ModelSource:
    """Load a checkpoint file or an official S2R-DepthNet folder on the CPU (eval mode)."""
    from ..checkpoint import file_sha256, load_model, read_metadata

    path = Path(path)
    if path.is_dir():
        from ..models import OFFICIAL_FILENAMES, load_official_s2r

        if not is_official_folder(path):
            names = ", ".join(OFFICIAL_FILENAMES.values())
            raise FileNotFoundError(f"{path} is a folder but not an official S2R-DepthNet checkpoint "
                                    f"(expected {names})")
        files = {k: path / v for k, v in OFFICIAL_FILENAMES.items()}
        model = load_official_s2r(**{k: str(v) for k, v in files.items()},
                                  max_depth=80.0 if max_depth is None else float(max_depth))
        digest = hashlib.sha256("".join(file_sha256(files[k]) for k in sorted(files)).encode()).hexdigest()
        return ModelSource(model.eval(), path.name, digest, None)
    meta = read_metadata(path)
    extra = meta.get("extra") or {}
    size = None
    for key in ("network_size", "input_size", "size"):
        if key in extra:
            size = parse_size(extra[key])
            break
    model = load_model(path, device="cpu")
    kwargs = {"max_depth": float(max_depth)} if max_depth is not None else {}
    return ModelSource(model, path.name, file_sha256(path), size, kwargs)
