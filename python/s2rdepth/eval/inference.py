"""Running a checkpoint for evaluation and figures: loading, input resizing, batched prediction.

* :func:`load_checkpoint` — an s2rdepth ``.safetensors`` model checkpoint, or a folder with the
  four official S2R-DepthNet ``.pth`` files.
* :class:`ImageResizer` — uint8 image → the network size with the paper's filter (S2R:
  bicubic, DA-Monodepth: Lanczos, as in :mod:`s2rdepth.data.transforms`); picklable, so
  ``DataLoader`` workers do it.
* :class:`ModelRunner` — batched forward on the model's device; returns what is resized to the
  ground truth: depth in metres for S2R-DepthNet (the reference resizes depth) and the sigmoid
  disparity for DA-Monodepth (monodepth2 resizes the disparity, then inverts it:
  :meth:`ModelRunner.to_metres`). :meth:`ModelRunner.outputs` also returns the intermediate maps
  the figures show (``M_s``, ``M_a``, semantics).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn

__all__ = ["DEFAULT_NETWORK_SIZE", "IMAGE_FILTERS", "ImageResizer", "ModelRunner", "load_checkpoint",
           "parse_size"]

#: Network input size (H, W) per dataset when neither ``--size`` nor the checkpoint gives one.
DEFAULT_NETWORK_SIZE: dict[str, tuple[int, int]] = {
    "kitti": (192, 640), "cityscapes": (192, 640), "folder": (192, 640), "nyu": (192, 256)}
#: Input resize filters (``auto``: the paper's: S2R bicubic, DA-Monodepth Lanczos).
IMAGE_FILTERS: tuple[str, ...] = ("auto", "bilinear", "bicubic", "lanczos", "nearest")


def parse_size(text: Union[str, Sequence[int]]) -> tuple[int, int]:
    """``"192x640"`` / ``(192, 640)`` → ``(192, 640)`` (height, width)."""
    if isinstance(text, str):
        parts = text.lower().replace(",", "x").split("x")
        try:
            h, w = (int(p) for p in parts)
        except ValueError:
            raise ValueError(f"size must look like HxW (e.g. 192x640), got {text!r}") from None
    else:
        h, w = (int(v) for v in text)
    if h < 1 or w < 1:
        raise ValueError(f"size must be positive, got {h}x{w}")
    return h, w


def load_checkpoint(path: Union[str, os.PathLike], device: Union[str, torch.device] = "cpu",
                    max_depth: Optional[float] = None) -> tuple[nn.Module, dict[str, Any]]:
    """Load a model for inference: ``(model in eval mode, description)``.

    ``path`` is an s2rdepth model checkpoint (``.safetensors`` with JSON metadata, see
    :mod:`s2rdepth.checkpoint`) or a folder holding the four official S2R-DepthNet files
    (:data:`s2rdepth.models.OFFICIAL_FILENAMES`; ``max_depth`` 80 outdoor / 8 indoor). The
    description holds ``checkpoint``, ``arch``, ``config``, ``sha256`` (files) and, when the
    checkpoint's ``extra`` metadata has it, ``network_size``.
    """
    from ..checkpoint import file_sha256, load_model, read_metadata
    from ..models import OFFICIAL_FILENAMES, load_official_s2r

    path = Path(path)
    if path.is_dir():
        files = {k: path / v for k, v in OFFICIAL_FILENAMES.items()}
        missing = [str(p) for p in files.values() if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"{path} is a folder but not an official S2R-DepthNet checkpoint: "
                                    f"missing {', '.join(missing)}")
        model = load_official_s2r(**{k: str(v) for k, v in files.items()},
                                  max_depth=80.0 if max_depth is None else float(max_depth))
        info: dict[str, Any] = {"checkpoint": str(path), "format": "official-s2r", "arch": "s2r",
                                "config": {"max_depth": model.max_depth},
                                "sha256": {k: file_sha256(p) for k, p in files.items()}}
        return model.to(device).eval(), info
    meta = read_metadata(path)
    model = load_model(path, device=device, eval_mode=True)
    info = {"checkpoint": str(path), "format": "s2rdepth.model", "arch": meta.get("arch"),
            "config": meta.get("config"), "sha256": file_sha256(path),
            "s2rdepth_version": meta.get("s2rdepth_version")}
    extra = meta.get("extra") or {}
    for key in ("network_size", "input_size", "size"):
        if key in extra:
            info["network_size"] = list(parse_size(extra[key]))
            break
    return model, info


def _pil_filter(name: str) -> Any:
    from PIL import Image

    return {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC,
            "lanczos": Image.Resampling.LANCZOS, "nearest": Image.Resampling.NEAREST}[name]


class ImageResizer:
    """uint8 ``(H, W, 3)`` → uint8 tensor ``(3, h, w)`` at the network size (Pillow filter)."""

    def __init__(self, size: Sequence[int], image_filter: str = "bicubic") -> None:
        self.size = parse_size(size)
        if image_filter not in IMAGE_FILTERS or image_filter == "auto":
            raise ValueError(f"image filter must be one of bilinear, bicubic, lanczos, nearest, got {image_filter!r}")
        self.image_filter = image_filter

    def __call__(self, rgb: np.ndarray) -> torch.Tensor:
        from PIL import Image

        h, w = self.size
        if rgb.shape[:2] != (h, w):
            rgb = np.asarray(Image.fromarray(rgb).resize((w, h), _pil_filter(self.image_filter)))
        return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))


class ModelRunner:
    """Batched inference of an :class:`~s2rdepth.models.S2RDepthNet` or
    :class:`~s2rdepth.models.DAMonodepth` at a fixed network size.

    Args:
        model: the model (moved to ``device``, eval mode).
        network_size: ``(H, W)`` the network runs at.
        device: ``None`` = CUDA when available, else CPU.
        image_filter: input resize filter; ``"auto"`` = the paper's.
    """

    def __init__(self, model: nn.Module, network_size: Sequence[int], device: Union[str, torch.device, None] = None,
                 image_filter: str = "auto") -> None:
        from ..models import DAMonodepth, S2RDepthNet

        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        if isinstance(model, S2RDepthNet):
            self.arch, self.kind, default_filter = "s2r", "depth", "bicubic"
        elif isinstance(model, DAMonodepth):
            self.arch, self.kind, default_filter = "da_monodepth", "disp", "lanczos"
        else:
            raise TypeError(f"no depth inference for {type(model).__name__} (expected S2RDepthNet or DAMonodepth)")
        if image_filter not in IMAGE_FILTERS:
            raise ValueError(f"image filter must be one of {', '.join(IMAGE_FILTERS)}, got {image_filter!r}")
        self.image_filter = default_filter if image_filter == "auto" else image_filter
        self.network_size = parse_size(network_size)
        multiple = 16 if self.arch == "s2r" else 32
        h, w = self.network_size
        if h % multiple or w % multiple:
            raise ValueError(f"{self.arch} needs a network size divisible by {multiple}, got {h}x{w}")
        self.resizer = ImageResizer(self.network_size, self.image_filter)

    def _input(self, images: torch.Tensor) -> torch.Tensor:
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected N x 3 x H x W uint8 images, got {images.dtype} {tuple(images.shape)}")
        if tuple(images.shape[2:]) != self.network_size:
            raise ValueError(f"images are {tuple(images.shape[2:])}, not the network size {self.network_size}")
        x = images.to(self.device, non_blocking=True).float() / 255.0
        return x * 2.0 - 1.0 if self.arch == "s2r" else x

    @torch.inference_mode()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """N x 3 x h x w uint8 (network size) → N x h x w: depth metres (S2R) or disparity (DA)."""
        x = self._input(images)
        if self.arch == "s2r":
            out = self.model(x)
            y = self.model.to_metres(out.depth)
        else:
            y = self.model.decode_depth(self.model.encode(x))[-1]
        return y[:, 0].float()

    def to_metres(self, pred: torch.Tensor) -> torch.Tensor:
        """What :meth:`predict` returned (possibly resized) → metres."""
        if self.kind == "depth":
            return pred
        from ..models import disp_to_depth

        return disp_to_depth(pred, self.model.min_depth, self.model.max_depth)[1]

    @torch.inference_mode()
    def outputs(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Everything a figure shows, at the network size, on the CPU (float32):

        S2R-DepthNet: ``depth`` (N x h x w metres), ``structure`` (M_s), ``attention`` (M_a) and
        ``fused`` (the DP input, M_s·M_a or M_s+M_a, one channel) when the variant has them.
        DA-Monodepth: ``depth``, ``disp`` and ``semantic`` (N x h x w class ids) with the semantic
        decoder.
        """
        x = self._input(images)
        out: dict[str, torch.Tensor] = {}
        if self.arch == "s2r":
            o = self.model(x)
            out["depth"] = self.model.to_metres(o.depth)[:, 0]
            if o.structure is not None:
                out["structure"] = o.structure[:, 0]
            if o.attention is not None:
                out["attention"] = o.attention[:, 0]
            if o.structure is not None and o.attention is not None and self.model.fusion in ("mul", "add"):
                fused = o.structure * o.attention if self.model.fusion == "mul" else o.structure + o.attention
                out["fused"] = fused[:, 0]
        else:
            o = self.model(x)
            out["disp"] = o.disp[:, 0]
            out["depth"] = self.to_metres(o.disp)[:, 0]
            if o.semantic is not None:
                out["semantic"] = o.semantic.argmax(1)
        return {k: v.detach().float().cpu() if k != "semantic" else v.cpu() for k, v in out.items()}

    def describe(self) -> dict[str, Any]:
        return {"arch": self.arch, "network_size": list(self.network_size), "image_filter": self.image_filter,
                "resized_quantity": "depth (metres)" if self.kind == "depth" else
                "disparity (sigmoid), converted to depth by disp_to_depth after resizing",
                "device": str(self.device)}
