"""The method interface: everything a paper's recipe knows, and nothing the engine knows.

A :class:`Method` is an ``nn.Module`` holding the network being trained (``self.model``, a
registered architecture, exported at the end with :func:`s2rdepth.checkpoint.save_model`) and any
helpers. Its ``forward(batch, phase)`` is :meth:`Method.step`, so the engine can wrap the whole
method in ``DistributedDataParallel`` and every sub-network call inside a step is synchronised.

The engine calls, for each training step and each ``phase`` of :attr:`Method.phases` (one
optimiser per phase; ``("model",)`` for most methods, ``("dis", "gen")`` for the GAN of S2R
stage 1)::

    losses = method(batch, phase)        # dict of 0-dim tensors; losses["loss"] is minimised

``batch`` maps each data role (``"source"``, ``"target"``) to a collated sample dict already on
the device. Before a step the engine sets :attr:`Method.progress` (0 → 1 over the whole run) and
:attr:`Method.capture_images` (fill :attr:`Method.images` with small [0, 1] image tensors for
TensorBoard).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

import torch
import torch.nn as nn

from ..config import ConfigError, TrainConfig

__all__ = ["Method", "read_checkpoint_state", "load_submodule"]


class Method(nn.Module):
    """Base class of the training recipes (see the module docstring)."""

    #: registry name (``method.name`` in the config)
    name: str = ""
    #: optimiser phases, in the order the engine runs them every step
    phases: tuple[str, ...] = ("model",)

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.progress = 0.0
        self.capture_images = False
        self.images: dict[str, torch.Tensor] = {}
        self.model: nn.Module

    # ------------------------------------------------------------------ what the engine asks
    def roles(self) -> dict[str, set[str]]:
        """Data roles this method reads each step → what it needs from them
        (subset of {"depth", "labels"}; empty = images only)."""
        return {"source": {"depth"}}

    def make_transform(self, role: str, augment: bool, generator: torch.Generator) -> Callable:
        """The sample transform of ``role`` (all randomness drawn from ``generator``)."""
        raise NotImplementedError

    def phase_parameters(self, phase: str) -> list[nn.Parameter]:
        """Trainable parameters that the optimiser of ``phase`` updates."""
        return [p for p in self.model.parameters() if p.requires_grad]

    def step(self, batch: Mapping[str, Mapping[str, Any]], phase: str = "model") -> dict[str, torch.Tensor]:
        """One phase of one training step → losses; ``"loss"`` is the objective."""
        raise NotImplementedError

    def forward(self, batch: Mapping[str, Mapping[str, Any]], phase: str = "model") -> dict[str, torch.Tensor]:
        return self.step(batch, phase)

    def export_extra(self) -> dict[str, Any]:
        """JSON metadata stored with the exported model."""
        return {}

    def summary(self) -> str:
        """One line for the log: trainable / total parameters."""
        total = sum(p.numel() for p in self.model.parameters())
        train = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        return f"{type(self.model).__name__}: {train:,} trainable of {total:,} parameters"

    # ------------------------------------------------------------------ helpers for subclasses
    @staticmethod
    def to_unit(x: torch.Tensor, lo: float = -1.0, hi: float = 1.0) -> torch.Tensor:
        """Map ``[lo, hi]`` to ``[0, 1]`` (clamped), detached, float32, on the CPU."""
        return ((x.detach().float() - lo) / (hi - lo)).clamp(0, 1).cpu()


def read_checkpoint_state(path: Optional[str], key: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Weights of a checkpoint named by config key ``key``: an s2rdepth model checkpoint, an
    s2rdepth training checkpoint (its ``model.*`` tensors), or a plain ``torch.save`` state dict
    (``.pth``/``.pt``, read with ``weights_only=True``). Missing/unreadable → :class:`ConfigError`."""
    from ...checkpoint import CheckpointError, load_tensors
    from ...models._checkpoint import load_state_dict_file, strip_prefix

    if not path:
        raise ConfigError(f"config key {key!r}: no checkpoint path given")
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config key {key!r}: checkpoint not found: {p}")
    try:
        if p.suffix in (".pth", ".pt", ".tar"):
            state, _ = load_state_dict_file(p, "checkpoint")
            return strip_prefix(state), {"format": "torch"}
        tensors, meta = load_tensors(p)
    except (CheckpointError, ValueError, OSError) as exc:
        raise ConfigError(f"config key {key!r}: cannot read checkpoint {p}: {exc}") from None
    if meta.get("format") == "s2rdepth.train":
        tensors = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    elif meta.get("format") != "s2rdepth.model":
        raise ConfigError(f"config key {key!r}: {p} is a {meta.get('format')!r} file, not an s2rdepth "
                          "model or training checkpoint")
    return tensors, meta


def submodule_state(state: Mapping[str, torch.Tensor], name: str) -> dict[str, torch.Tensor]:
    """The entries of ``state`` under ``name.`` with that prefix removed."""
    pre = name + "."
    return {k[len(pre):]: v for k, v in state.items() if k.startswith(pre)}


def load_submodule(module: nn.Module, state: Mapping[str, torch.Tensor], name: str, source: str,
                   key: str) -> None:
    """Load ``state[name.*]`` into ``module`` with a strict key/shape check (→ :class:`ConfigError`)."""
    from ...models._checkpoint import CheckpointMismatchError, check_state_dict

    sub = submodule_state(state, name)
    if not sub:
        raise ConfigError(f"config key {key!r}: {source} holds no {name!r} weights")
    try:
        check_state_dict({k: tuple(v.shape) for k, v in module.state_dict().items()}, sub,
                         f"{source} [{name}]", "is the checkpoint from a model of the same preset/width?")
    except CheckpointMismatchError as exc:
        raise ConfigError(f"config key {key!r}: {exc}") from None
    module.load_state_dict(sub, strict=True)


def modules_with_weights(state: Mapping[str, torch.Tensor], names: Iterable[str]) -> list[str]:
    """Those of ``names`` that have at least one entry in ``state``."""
    return [n for n in names if any(k.startswith(n + ".") for k in state)]
