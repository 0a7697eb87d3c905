"""Training checkpoints: model + optimiser/scheduler/scaler/RNG/data-stream state in one file.

A training checkpoint is an :mod:`s2rdepth.checkpoint` safetensors file (written atomically:
temporary file, fsync, rename) with

* tensors ``model.<name>``: the trained network's ``state_dict()``;
* tensors ``state.<path>``: every tensor found in the nested training state (Adam moments, RNG
  states, ...);
* JSON metadata ``{"format": "s2rdepth.train", "step", "epoch", "arch", "model_config",
  "config", "state": <the nested state with tensors replaced by references>, ...}``.

Files are ``OUT/checkpoints/step_<step:08d>.safetensors``; after a new one is complete the
oldest beyond ``keep_last`` are deleted, so an interrupted write (crash, SIGKILL, full disk)
never damages the newest complete checkpoint. :func:`latest_checkpoint` picks the newest file
that reads back, skipping damaged ones.
"""
from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any, Mapping, Optional

import numpy as np
import torch

from ..checkpoint import CheckpointError, load_tensors, read_metadata, save_tensors

__all__ = ["TRAIN_FORMAT", "capture_rng", "checkpoint_path", "flatten_state", "latest_checkpoint",
           "list_checkpoints", "load_training_checkpoint", "prune_checkpoints", "restore_rng",
           "save_training_checkpoint", "unflatten_state"]

TRAIN_FORMAT = "s2rdepth.train"
TRAIN_FORMAT_VERSION = 1
_NAME = re.compile(r"^step_(\d{8,})\.safetensors$")


# ============================================================================ nested state <-> tensors
def flatten_state(obj: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Replace every tensor in a nested dict/list/tuple structure by ``{"__tensor__": key}``,
    storing it in ``tensors[key]``; dicts become ``{"__dict__": [[k, v], ...]}`` (keys may be
    ints, as in optimiser states). The result is JSON-serialisable."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach()
        return {"__tensor__": prefix}
    if isinstance(obj, np.ndarray):
        stored = obj.astype(np.int64) if obj.dtype.kind == "u" else obj  # safetensors: no uint32
        tensors[prefix] = torch.from_numpy(np.ascontiguousarray(stored))
        return {"__ndarray__": prefix, "dtype": str(obj.dtype)}
    if isinstance(obj, Mapping):
        return {"__dict__": [[k, flatten_state(v, f"{prefix}.{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [flatten_state(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [flatten_state(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot checkpoint {prefix}: unsupported {type(obj).__name__}")


def unflatten_state(obj: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    """Inverse of :func:`flatten_state`."""
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__ndarray__" in obj:
            return tensors[obj["__ndarray__"]].numpy().astype(obj["dtype"])
        if "__dict__" in obj:
            return {k: unflatten_state(v, tensors) for k, v in obj["__dict__"]}
        if "__tuple__" in obj:
            return tuple(unflatten_state(v, tensors) for v in obj["__tuple__"])
        raise ValueError(f"corrupt checkpoint state entry: {sorted(obj)}")
    if isinstance(obj, list):
        return [unflatten_state(v, tensors) for v in obj]
    return obj


# ============================================================================ RNG
def capture_rng() -> dict[str, Any]:
    """This process's Python, NumPy, torch CPU and CUDA RNG states."""
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: Mapping[str, Any]) -> None:
    """Restore what :func:`capture_rng` captured (CUDA only when present on both sides)."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    np_state = state["numpy"]
    np.random.set_state((np_state[0], np.asarray(np_state[1], dtype=np.uint32), int(np_state[2]),
                         int(np_state[3]), float(np_state[4])))
    torch.set_rng_state(state["torch"].to(torch.uint8).cpu())
    if "cuda" in state and torch.cuda.is_available():
        cuda = [t.to(torch.uint8).cpu() for t in state["cuda"]]
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)


# ============================================================================ files
def checkpoint_path(folder: str | os.PathLike[str], step: int) -> Path:
    """``folder/step_<step:08d>.safetensors``."""
    return Path(folder) / f"step_{step:08d}.safetensors"


def list_checkpoints(folder: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """``(step, path)`` of the checkpoint files in ``folder``, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        m = _NAME.match(p.name)
        if m and p.is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(folder: str | os.PathLike[str]) -> tuple[Optional[Path], list[str]]:
    """The newest checkpoint in ``folder`` whose header reads back as a training checkpoint, and
    the problems of any newer damaged files (to be reported)."""
    problems: list[str] = []
    for _, path in reversed(list_checkpoints(folder)):
        try:
            meta = read_metadata(path)
        except (CheckpointError, OSError) as exc:
            problems.append(f"{path}: {exc}")
            continue
        if meta.get("format") != TRAIN_FORMAT:
            problems.append(f"{path}: not a training checkpoint ({meta.get('format')!r})")
            continue
        return path, problems
    return None, problems


def prune_checkpoints(folder: str | os.PathLike[str], keep_last: int) -> list[Path]:
    """Delete all but the newest ``keep_last`` checkpoints and stale temporary files; returns
    the deleted paths."""
    folder = Path(folder)
    removed = []
    for _, p in list_checkpoints(folder)[:-keep_last] if keep_last > 0 else []:
        p.unlink(missing_ok=True)
        removed.append(p)
    for tmp in folder.glob(".step_*.tmp"):  # left by a write that was killed
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def save_training_checkpoint(path: str | os.PathLike[str], model: torch.nn.Module, state: Mapping[str, Any],
                             metadata: Mapping[str, Any]) -> Path:
    """Atomically write ``model``'s weights (``model.*``) and the nested ``state`` (tensors under
    ``state.*``, structure in the JSON metadata) plus ``metadata``."""
    from .._version import __version__

    tensors: dict[str, torch.Tensor] = {f"model.{k}": v for k, v in model.state_dict().items()}
    flat = flatten_state(dict(state), "state", tensors)
    meta = {"format": TRAIN_FORMAT, "format_version": TRAIN_FORMAT_VERSION,
            "s2rdepth_version": __version__, "torch_version": torch.__version__,
            **dict(metadata), "state": flat}
    return save_tensors(path, tensors, meta)


def load_training_checkpoint(path: str | os.PathLike[str]
                             ) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    """``(model_state_dict, state, metadata)`` of a training checkpoint (on the CPU)."""
    tensors, meta = load_tensors(path)
    if meta.get("format") != TRAIN_FORMAT:
        raise CheckpointError(f"{path}: holds {meta.get('format')!r}, not a training checkpoint")
    model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    state = unflatten_state(meta.pop("state"), tensors)
    return model_state, state, meta
