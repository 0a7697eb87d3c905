"""Scoring a model or saved predictions on an evaluation set under an :class:`EvalProtocol`.

:func:`evaluate` loads frames (ground truth, and images for a model) in ``DataLoader`` workers,
predicts in batches on the model's device, resizes every prediction to its ground truth
(bilinear, ``align_corners=False``, float64), groups same-sized frames and computes the metrics
of every cap with :func:`s2rdepth.ops.depth_metrics` (compiled CPU/CUDA kernels). The
:class:`EvalResult` keeps per-image metrics, the means over images with a valid pixel, the
skipped frames (no valid pixel) by name, the protocol and the sources, and renders the table
and the JSON document of ``s2rdepth evaluate``.
"""
from __future__ import annotations

import datetime as _dt
import math
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .._version import __version__
from .inference import ImageResizer, ModelRunner
from .predictions import PredictionFiles
from .protocol import EvalProtocol, resize_to
from .sets import EvalSet

__all__ = ["EvalResult", "RESULT_FORMAT", "evaluate", "format_metrics_table"]

#: ``format`` field of result JSON documents.
RESULT_FORMAT = "s2rdepth.eval"
RESULT_FORMAT_VERSION = 1
#: Every per-image quantity of :func:`s2rdepth.ops.depth_metrics`, in its order.
ALL_METRICS: tuple[str, ...] = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "a1", "a2", "a3")


def _cap_key(cap: float) -> str:
    return f"{cap:g}"


@dataclass
class EvalResult:
    """Outcome of :func:`evaluate`.

    Attributes:
        protocol: the protocol used.
        names: frame names in evaluation order.
        metrics: cap (metres) → quantity → float64 per-image vector (``ALL_METRICS`` plus
            ``scale`` and ``valid`` = valid pixel count; NaN metrics where ``valid == 0``).
        dataset, source: descriptions of the evaluation set and of the predictions.
        seconds: wall time of the evaluation loop.
        label: a short name of the run (tables).
    """

    protocol: EvalProtocol
    names: list[str]
    metrics: dict[float, dict[str, np.ndarray]]
    dataset: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    label: Optional[str] = None

    def means(self, cap: float) -> dict[str, Union[float, int]]:
        """Means over the images with a valid pixel, plus ``images`` and ``skipped`` counts."""
        from ..ops import mean_metrics

        m = self.metrics[cap]
        return mean_metrics({k: torch.from_numpy(v) for k, v in m.items()})

    def skipped(self, cap: float) -> list[str]:
        """Names of the frames without any valid pixel under ``cap`` (left out of the means)."""
        valid = self.metrics[cap]["valid"]
        return [n for n, v in zip(self.names, valid) if v == 0]

    @property
    def images_per_s(self) -> float:
        return len(self.names) / self.seconds if self.seconds > 0 else math.nan

    def to_dict(self, per_image: bool = True) -> dict[str, Any]:
        """The JSON document of ``s2rdepth evaluate --json`` (NaN written as ``null``)."""
        results = {}
        for cap in self.protocol.caps:
            means = self.means(cap)
            entry: dict[str, Any] = {
                "cap": cap,
                "means": {k: _num(means[k]) for k in ALL_METRICS},
                "scale_median": _num(float(np.nanmedian(self.metrics[cap]["scale"]))
                                     if means["images"] else math.nan),
                "images": int(means["images"]),
                "skipped": int(means["skipped"]),
                "skipped_names": self.skipped(cap),
            }
            if per_image:
                m = self.metrics[cap]
                entry["per_image"] = [
                    {"index": i, "name": n, "valid_pixels": int(m["valid"][i]), "scale": _num(m["scale"][i]),
                     **{k: _num(m[k][i]) for k in ALL_METRICS}}
                    for i, n in enumerate(self.names)]
            results[_cap_key(cap)] = entry
        return {
            "format": RESULT_FORMAT,
            "format_version": RESULT_FORMAT_VERSION,
            "s2rdepth_version": __version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "label": self.label,
            "dataset": self.dataset,
            "source": self.source,
            "protocol": self.protocol.to_dict(),
            "metric_backend": _backend(),
            "frames": len(self.names),
            "timing": {"seconds": round(self.seconds, 4), "images_per_s": _num(self.images_per_s)},
            "results": results,
        }

    def table(self) -> str:
        """The papers' table (markdown) with one row per cap."""
        rows = []
        for cap in self.protocol.caps:
            means = self.means(cap)
            rows.append((cap, means))
        return format_metrics_table(rows, self.protocol.columns)


def _backend() -> str:
    from ..ops import backend

    return backend()


def _num(v: Any) -> Optional[float]:
    v = float(v)
    return None if not math.isfinite(v) else v


def format_metrics_table(rows: list[tuple[float, dict[str, Any]]], columns: tuple[str, ...],
                         digits: int = 3) -> str:
    """Markdown table ``| cap (m) | images | skipped | <columns> |`` of ``(cap, means)`` rows."""
    head = ["cap (m)", "images", "skipped", *columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" for _ in head) + "|"]
    for cap, means in rows:
        cells = [f"{cap:g}", str(int(means["images"])), str(int(means["skipped"]))]
        for c in columns:
            v = means.get(c)
            cells.append("–" if v is None or not math.isfinite(float(v)) else f"{float(v):.{digits}f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
class _Frames(Dataset):
    """Per-frame loading done in workers: ground truth, the resized image or the saved prediction."""

    def __init__(self, evalset: EvalSet, files: Optional[PredictionFiles], resizer: Optional[ImageResizer]) -> None:
        self.evalset, self.files, self.resizer = evalset, files, resizer

    def __len__(self) -> int:
        return len(self.evalset)

    def __getitem__(self, i: int) -> dict[str, Any]:
        s = self.evalset.load(i, image=self.resizer is not None, gt=True)
        item: dict[str, Any] = {"index": i, "gt": torch.from_numpy(s["gt"])}
        if self.resizer is not None:
            item["image"] = self.resizer(s["image"])
        if self.files is not None:
            item["pred"] = torch.from_numpy(self.files.load(i))
        return item


def _as_list(batch: list) -> list:
    return batch


def evaluate(evalset: EvalSet, predictions: Union[ModelRunner, PredictionFiles], protocol: EvalProtocol, *,
             batch_size: int = 8, workers: int = 0, metric_device: Union[str, torch.device, None] = None,
             label: Optional[str] = None, progress: Union[bool, Callable[[int, int], None]] = False,
             source_info: Optional[dict[str, Any]] = None) -> EvalResult:
    """Score ``predictions`` (a :class:`ModelRunner` or :class:`PredictionFiles`) on ``evalset``.

    Args:
        batch_size: frames per batch (model forward and metric calls).
        workers: ``DataLoader`` worker processes for file decoding and input resizing.
        metric_device: where resizing and metrics run (default: the model's device; CPU for
            saved predictions unless CUDA is available).
        label: run name stored in the result.
        progress: ``True`` prints progress to stderr; a callable gets ``(done, total)``.
        source_info: extra description of the predictions (checkpoint path, hash...).

    Raises:
        PredictionError: saved predictions that do not line up with the evaluation set.
        FileNotFoundError / ValueError: missing or unreadable data (naming the file).
    """
    n = len(evalset)
    if n == 0:
        raise ValueError("empty evaluation set")
    runner = predictions if isinstance(predictions, ModelRunner) else None
    files = predictions if isinstance(predictions, PredictionFiles) else None
    if runner is None and files is None:
        raise TypeError(f"predictions must be a ModelRunner or PredictionFiles, got {type(predictions).__name__}")
    if files is not None:
        files.check(evalset.names)
    evalset.check_files(image=runner is not None)
    if metric_device is None:
        metric_device = runner.device if runner is not None else ("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(metric_device)

    loader = DataLoader(_Frames(evalset, files, runner.resizer if runner is not None else None),
                        batch_size=max(1, int(batch_size)), shuffle=False, num_workers=max(0, int(workers)),
                        collate_fn=_as_list, pin_memory=dev.type == "cuda",
                        persistent_workers=False)
    caps = protocol.caps
    keys = ALL_METRICS + ("scale", "valid")
    table = {cap: {k: np.full(n, math.nan) for k in keys} for cap in caps}
    report = _progress_fn(progress)
    done = 0
    start = time.perf_counter()
    for batch in loader:
        if runner is not None:
            raw = runner.predict(torch.stack([b["image"] for b in batch]))
            preds = [raw[k] for k in range(len(batch))]
        else:
            preds = [b["pred"] for b in batch]
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        full: list[torch.Tensor] = []
        for k, (p, b) in enumerate(zip(preds, batch)):
            g = b["gt"]
            r = resize_to(p.to(dev, torch.float64), g.shape)
            if runner is not None:
                r = runner.to_metres(r)
                if not bool(torch.isfinite(r).all()):
                    raise ValueError(f"the model predicted non-finite depth for frame {evalset.names[b['index']]!r}")
            full.append(r)
            groups[tuple(g.shape)].append(k)
        for _, members in groups.items():
            pred = torch.stack([full[k] for k in members])
            gt = torch.stack([batch[k]["gt"] for k in members]).to(dev, non_blocking=True).to(pred.dtype)
            idx = np.array([batch[k]["index"] for k in members])
            for cap in caps:
                m = _metrics(pred, gt, protocol, cap)
                for key in keys:
                    table[cap][key][idx] = m[key].numpy()
        done += len(batch)
        report(done, n)
    seconds = time.perf_counter() - start
    source = dict(source_info or {})
    source.update(runner.describe() if runner is not None else files.describe())  # type: ignore[union-attr]
    return EvalResult(protocol=protocol, names=list(evalset.names), metrics=table, dataset=evalset.describe(),
                      source=source, seconds=seconds, label=label)


def _metrics(pred: torch.Tensor, gt: torch.Tensor, protocol: EvalProtocol, cap: float) -> dict[str, torch.Tensor]:
    from ..ops import depth_metrics

    return depth_metrics(pred, gt, min_depth=protocol.min_depth, max_depth=cap, crop=protocol.crop,
                         median_scaling=protocol.median_scaling, order=protocol.order)


def _progress_fn(progress: Union[bool, Callable[[int, int], None]]) -> Callable[[int, int], None]:
    if callable(progress):
        return progress
    if not progress:
        return lambda done, total: None
    state = {"last": -1}

    def report(done: int, total: int) -> None:
        tenth = done * 10 // total
        if tenth != state["last"] or done == total:
            state["last"] = tenth
            print(f"  {done}/{total} frames", file=sys.stderr, flush=True)
    return report
