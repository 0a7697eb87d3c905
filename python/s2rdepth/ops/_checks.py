"""Argument validation shared by the op wrappers: clear Python errors instead of kernel crashes."""
from __future__ import annotations

import numbers

import torch


def tensor(op: str, name: str, t: object, *, dim: int | None = None, floating: bool = True) -> torch.Tensor:
    """Check that ``t`` is a non-empty tensor of rank ``dim`` with a floating dtype."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{op}: {name} must be a torch.Tensor, got {type(t).__name__}")
    if floating and not t.is_floating_point():
        raise TypeError(f"{op}: {name} must have a floating dtype, got {t.dtype}")
    if dim is not None and t.dim() != dim:
        raise ValueError(f"{op}: {name} must be {dim}-D, got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError(f"{op}: {name} is empty (shape {tuple(t.shape)})")
    return t


def same_device(op: str, **tensors: torch.Tensor | None) -> None:
    devices = {name: t.device for name, t in tensors.items() if t is not None}
    if len(set(devices.values())) > 1:
        listed = ", ".join(f"{k} on {v}" for k, v in devices.items())
        raise ValueError(f"{op}: all tensors must be on one device, got {listed}")


def number(op: str, name: str, v: object, *, positive: bool = False, nonnegative: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{op}: {name} must be a real number, got {type(v).__name__}")
    v = float(v)
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"{op}: {name} must be finite, got {v}")
    if positive and v <= 0:
        raise ValueError(f"{op}: {name} must be > 0, got {v}")
    if nonnegative and v < 0:
        raise ValueError(f"{op}: {name} must be >= 0, got {v}")
    return v


def choice(op: str, name: str, v: object, allowed: tuple[str, ...]) -> str:
    if v not in allowed:
        raise ValueError(f"{op}: {name} must be one of {', '.join(map(repr, allowed))}, got {v!r}")
    return str(v)
