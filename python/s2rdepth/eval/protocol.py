"""The evaluation protocols of the papers: which pixels count, how predictions are scaled, and
how a prediction is brought to the ground truth's size.

=============  ========================================================================
dataset        defaults (REFERENCE.md §3; every field can be overridden)
=============  ========================================================================
``kitti``      Garg crop, caps 80 m (``--caps 80 50`` for both rows of the papers),
               min depth 1e-3 m, median scaling, monodepth2 order
``nyu``        no crop, cap 8 m, min depth 1e-3 m, median scaling; ``log10`` reported
``cityscapes`` no crop, cap 80 m (S2R Table 4: "the same setting as vKITTI → KITTI"; the
               Garg crop is defined for KITTI's camera and is not applied by default)
``folder``     no crop, cap 80 m
=============  ========================================================================

Per image: valid pixels are ``min_depth < gt < cap`` (inside the crop); the prediction is
resized bilinearly (``align_corners=False``, in float64) to the ground-truth size; with median
scaling ``ratio = median(gt) / median(pred)`` over the valid pixels (NumPy's median). The
``monodepth2`` order scales then clamps the prediction to ``[min_depth, cap]``; the ``s2r``
order (official S2R-DepthNet code) clamps first, then scales. Metrics are averaged over the
images with at least one valid pixel; images without one are *skipped and counted*, never
silently dropped. All arithmetic is done by :func:`s2rdepth.ops.depth_metrics`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import torch
import torch.nn.functional as F

__all__ = [
    "DATASETS", "EvalProtocol", "KITTI_COLUMNS", "NYU_COLUMNS", "ORDERS", "default_protocol",
    "resize_to", "resize_batch",
]

#: Datasets the command line knows.
DATASETS: tuple[str, ...] = ("kitti", "nyu", "cityscapes", "folder")
#: Median-scaling orders (see the module docstring).
ORDERS: tuple[str, ...] = ("monodepth2", "s2r")
#: Columns of the KITTI tables (papers' order).
KITTI_COLUMNS: tuple[str, ...] = ("abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3")
#: Columns of the NYU tables: the KITTI columns plus ``log10`` (S2R Table 3).
NYU_COLUMNS: tuple[str, ...] = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "a1", "a2", "a3")
#: How predictions are brought to the ground truth's size (recorded in every result).
RESIZE = "bilinear"


@dataclass(frozen=True)
class EvalProtocol:
    """One evaluation protocol (all depths in metres).

    Args:
        dataset: ``"kitti"``, ``"nyu"``, ``"cityscapes"`` or ``"folder"`` (table title, columns).
        caps: maximum ground-truth depths, one result per cap (e.g. ``(80.0, 50.0)``).
        min_depth: minimum valid ground-truth depth and lower clamp of predictions.
        crop: ``"garg"`` or ``None``.
        median_scaling: per-image median scaling of the prediction.
        order: ``"monodepth2"`` (scale, then clamp) or ``"s2r"`` (clamp, then scale).
        columns: metrics shown in tables (JSON always holds all of them).
    """

    dataset: str = "kitti"
    caps: tuple[float, ...] = (80.0,)
    min_depth: float = 1e-3
    crop: Optional[str] = "garg"
    median_scaling: bool = True
    order: str = "monodepth2"
    columns: tuple[str, ...] = field(default=KITTI_COLUMNS)

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {self.dataset!r}")
        caps = tuple(float(c) for c in self.caps)
        if not caps:
            raise ValueError("at least one depth cap is needed")
        if len(set(caps)) != len(caps):
            raise ValueError(f"duplicate depth caps: {list(caps)}")
        object.__setattr__(self, "caps", caps)
        if not self.min_depth >= 0:
            raise ValueError(f"min_depth must be >= 0, got {self.min_depth}")
        for c in caps:
            if not c > self.min_depth:
                raise ValueError(f"depth cap {c} m must exceed min_depth {self.min_depth} m")
        if self.crop not in ("garg", None):
            raise ValueError(f"crop must be 'garg' or None, got {self.crop!r}")
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {self.order!r}")
        object.__setattr__(self, "columns", tuple(self.columns))

    def replace(self, **changes: Any) -> "EvalProtocol":
        """A copy with some fields changed (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description, including the fixed parts of the protocol."""
        return {
            "dataset": self.dataset,
            "caps": list(self.caps),
            "min_depth": self.min_depth,
            "valid": "min_depth < gt < cap",
            "crop": self.crop,
            "median_scaling": self.median_scaling,
            "order": self.order,
            "order_meaning": ("scale by median(gt)/median(pred), then clamp to [min_depth, cap]"
                              if self.order == "monodepth2" else
                              "clamp to [min_depth, cap], then scale by median(gt)/median(pred)"),
            "resize": f"{RESIZE} (align_corners=False, float64) of the prediction to the ground-truth size",
            "mean": "over images with at least one valid pixel; the others are skipped and counted",
            "columns": list(self.columns),
        }

    def describe(self) -> str:
        """One line, e.g. ``garg crop, caps 80 m, min 0.001 m, median scaling (monodepth2 order)``."""
        caps = ", ".join(f"{c:g}" for c in self.caps)
        crop = "Garg crop" if self.crop == "garg" else "no crop"
        med = f"median scaling ({self.order} order)" if self.median_scaling else \
            f"no median scaling ({self.order} order)"
        return f"{crop}, cap{'s' if len(self.caps) > 1 else ''} {caps} m, min depth {self.min_depth:g} m, {med}"


_DEFAULTS: dict[str, dict[str, Any]] = {
    "kitti": dict(caps=(80.0,), crop="garg", columns=KITTI_COLUMNS),
    "nyu": dict(caps=(8.0,), crop=None, columns=NYU_COLUMNS),
    "cityscapes": dict(caps=(80.0,), crop=None, columns=KITTI_COLUMNS),
    "folder": dict(caps=(80.0,), crop=None, columns=KITTI_COLUMNS),
}


def default_protocol(dataset: str, *, caps: Optional[Sequence[float]] = None,
                     min_depth: Optional[float] = None, crop: Optional[str] = "default",
                     median_scaling: Optional[bool] = None, order: Optional[str] = None) -> EvalProtocol:
    """The papers' protocol for ``dataset`` with optional overrides (``crop="none"`` or ``None``
    disables the crop; ``"default"`` keeps the dataset's)."""
    if dataset not in _DEFAULTS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    kw = dict(_DEFAULTS[dataset])
    if caps is not None:
        kw["caps"] = tuple(caps)
    if crop != "default":
        kw["crop"] = None if crop in (None, "none") else crop
    if min_depth is not None:
        kw["min_depth"] = float(min_depth)
    if median_scaling is not None:
        kw["median_scaling"] = bool(median_scaling)
    if order is not None:
        kw["order"] = order
    return EvalProtocol(dataset=dataset, **kw)


def resize_to(pred: torch.Tensor, size_hw: Sequence[int]) -> torch.Tensor:
    """Resize one map ``(h, w)`` to ``size_hw`` bilinearly (``align_corners=False``, no
    antialiasing), keeping its dtype; the identity when the size already matches."""
    h, w = int(size_hw[0]), int(size_hw[1])
    if pred.dim() != 2:
        raise ValueError(f"expected a 2-D map, got shape {tuple(pred.shape)}")
    if tuple(pred.shape) == (h, w):
        return pred
    return F.interpolate(pred[None, None], size=(h, w), mode=RESIZE, align_corners=False)[0, 0]


def resize_batch(pred: torch.Tensor, size_hw: Sequence[int]) -> torch.Tensor:
    """:func:`resize_to` for a stack ``(N, h, w)`` → ``(N, H, W)``."""
    h, w = int(size_hw[0]), int(size_hw[1])
    if pred.dim() != 3:
        raise ValueError(f"expected an N x H x W stack, got shape {tuple(pred.shape)}")
    if tuple(pred.shape[1:]) == (h, w):
        return pred
    return F.interpolate(pred[:, None], size=(h, w), mode=RESIZE, align_corners=False)[:, 0]
