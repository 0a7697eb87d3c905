"""Progress bar, plain-text log and TensorBoard for the training engine (rank 0 only).

* ``OUT/train.log``: one timestamped line per message and per logged step (appended to on
  ``--resume``).
* a tqdm progress bar per epoch (steps/s and ETA from tqdm, current losses as postfix); without
  tqdm, or with ``log.progress: false``, logged steps are printed instead.
* ``OUT/tensorboard/``: scalars (``loss/*``, ``lr/*``, ``perf/*``) and image grids
  (``images/*``). TensorBoard is optional: when the package is missing a warning says how to
  install it and training goes on without it.
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any, Mapping

import torch

__all__ = ["Monitor", "image_grid"]


def image_grid(images: torch.Tensor, pad: int = 2) -> torch.Tensor:
    """N x C x H x W in [0, 1] (C = 1 or 3) → 3 x H x (N·W + pads): the samples side by side."""
    x = images.detach().float().cpu().clamp(0, 1)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    elif x.shape[1] != 3:
        x = x[:, :1].expand(-1, 3, -1, -1)
    n, _, h, w = x.shape
    grid = torch.ones(3, h, n * w + (n - 1) * pad)
    for i in range(n):
        grid[:, :, i * (w + pad): i * (w + pad) + w] = x[i]
    return grid


def _fmt(v: float) -> str:
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    return f"{v:.4g}" if 1e-3 <= abs(v) < 1e4 else f"{v:.3e}"


class Monitor:
    """Logging sink of the engine. Every method is a no-op on ranks other than 0.

    Args:
        out: run folder (``train.log`` and ``tensorboard/`` go there).
        enabled: this process logs (rank 0).
        tensorboard: write TensorBoard events.
        progress: show tqdm bars.
        console: echo messages to stderr.
    """

    def __init__(self, out: Path, enabled: bool, tensorboard: bool, progress: bool, console: bool = True) -> None:
        self.enabled = enabled
        self.console = console and enabled
        self.file = open(out / "train.log", "a", encoding="utf-8") if enabled else None
        self.tb = None
        self.bar = None
        self._tqdm = None
        if enabled and progress and console:
            try:
                from tqdm.auto import tqdm

                self._tqdm = tqdm
            except ImportError:
                self.warning("tqdm is not installed (pip install tqdm): no progress bar; logged steps are printed")
        if enabled and tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(out / "tensorboard"))
            except ImportError:
                self.warning("TensorBoard logging is off: the 'tensorboard' package is not installed "
                             "(pip install tensorboard, or set log.tensorboard=false to silence this)")

    # ------------------------------------------------------------------ text
    def _write(self, text: str, echo: bool) -> None:
        if not self.enabled:
            return
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        if self.file is not None:
            self.file.write(f"{stamp} {text}\n")
            self.file.flush()
        if echo and self.console:
            if self.bar is not None and self._tqdm is not None:
                self._tqdm.write(text, file=sys.stderr)
            else:
                print(text, file=sys.stderr, flush=True)

    def info(self, text: str) -> None:
        self._write(text, True)

    def warning(self, text: str) -> None:
        self._write(f"WARNING: {text}", True)

    # ------------------------------------------------------------------ progress
    def start_epoch(self, epoch: int, done: int, total: int) -> None:
        if self._tqdm is None or not self.enabled:
            return
        self.bar = self._tqdm(total=total, initial=done, desc=f"epoch {epoch}", unit="step",
                              dynamic_ncols=True, leave=False, file=sys.stderr, disable=None)
        if self.bar.disable:  # stderr is not a terminal: print the logged steps instead
            self.bar = None

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def end_epoch(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def log_step(self, step: int, total: int, epoch: int, values: Mapping[str, float],
                 lrs: Mapping[str, float], steps_per_s: float, eta_s: float) -> None:
        """One logged step: text line (file; console without a bar), bar postfix, scalars."""
        if not self.enabled:
            return
        losses = " ".join(f"{k}={_fmt(v)}" for k, v in values.items())
        lr = " ".join(f"lr_{k}={v:.3g}" for k, v in lrs.items())
        eta = time.strftime("%H:%M:%S", time.gmtime(max(0.0, eta_s))) if math.isfinite(eta_s) else "?"
        line = f"step {step}/{total} epoch {epoch} {losses} {lr} {steps_per_s:.3g} steps/s ETA {eta}"
        self._write(line, self.bar is None)
        if self.bar is not None:  # the objectives first, then the other terms
            keys = sorted(values, key=lambda k: (not k.split("/")[-1] == "loss", k))[:4]
            self.bar.set_postfix({k: _fmt(values[k]) for k in keys}, refresh=False)
        if self.tb is not None:
            for k, v in values.items():
                self.tb.add_scalar(f"loss/{k}", v, step)
            for k, v in lrs.items():
                self.tb.add_scalar(f"lr/{k}", v, step)
            self.tb.add_scalar("perf/steps_per_s", steps_per_s, step)

    def scalar(self, tag: str, value: float, step: int) -> None:
        if self.tb is not None:
            self.tb.add_scalar(tag, value, step)

    def log_images(self, step: int, images: Mapping[str, torch.Tensor]) -> None:
        if self.tb is None:
            return
        for name, x in images.items():
            if isinstance(x, torch.Tensor) and x.dim() == 4 and x.shape[0] > 0:
                self.tb.add_image(f"images/{name}", image_grid(x), step)

    def close(self) -> None:
        self.end_epoch()
        if self.tb is not None:
            self.tb.flush()
            self.tb.close()
            self.tb = None
        if self.file is not None:
            self.file.close()
            self.file = None

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass

    @staticmethod
    def describe(values: Mapping[str, Any]) -> str:
        return " ".join(f"{k}={_fmt(float(v))}" for k, v in values.items())
