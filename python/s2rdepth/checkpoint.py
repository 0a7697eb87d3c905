"""Checkpoints: safetensors tensors + JSON metadata in one file, written atomically.

A checkpoint is a single ``.safetensors`` file. Its tensors are the weights (and, for training
state, whatever else the caller stores); its safetensors header carries one metadata entry,
``"s2rdepth"``, holding a JSON document:

.. code-block:: json

    {"format": "s2rdepth.model", "format_version": 1, "arch": "s2r",
     "config": {...constructor keyword arguments...}, "s2rdepth_version": "0.1.0",
     "torch_version": "2.13.0", "extra": {...caller's data...}}

Files are written to a temporary file in the same folder, flushed and fsynced, then renamed over
the destination (``os.replace``), so a crash never leaves a half-written checkpoint and never
destroys the previous one. Loading never unpickles anything: safetensors holds raw tensors only,
and legacy ``.pth`` files go through ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
import torch.nn as nn
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from ._version import __version__

__all__ = ["FORMAT_VERSION", "META_KEY", "CheckpointError", "atomic_write", "file_sha256",
           "load_model", "load_tensors", "model_config", "read_metadata", "save_model", "save_tensors"]

FORMAT_VERSION = 1
META_KEY = "s2rdepth"


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, not an s2rdepth checkpoint or does not fit."""


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, fsync it, and rename it to ``path``.

    The destination either keeps its old content or gets the complete new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    return path


def _unshared(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Contiguous CPU tensors with no two sharing storage (safetensors refuses aliases)."""
    out: dict[str, torch.Tensor] = {}
    seen: set[tuple[int, int]] = set()
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"save_tensors: {name!r} is a {type(t).__name__}, not a tensor")
        t = t.detach().to("cpu").contiguous()
        key = (t.untyped_storage().data_ptr(), t.storage_offset()) if t.numel() else (id(t), 0)
        if key in seen or t.untyped_storage().nbytes() != t.numel() * t.element_size():
            t = t.clone()
        seen.add((t.untyped_storage().data_ptr(), t.storage_offset()))
        out[name] = t
    return out


def save_tensors(path: str | os.PathLike[str], tensors: Mapping[str, torch.Tensor],
                 metadata: Mapping[str, Any]) -> Path:
    """Atomically write ``tensors`` and the JSON-serialisable ``metadata`` to ``path``."""
    header = {META_KEY: json.dumps(dict(metadata), sort_keys=True)}
    data = _unshared(tensors)
    return atomic_write(path, lambda tmp: save_file(data, str(tmp), metadata=header))


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON metadata of a checkpoint, without reading its tensors."""
    path = _existing(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(META_KEY)
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors checkpoint ({exc})") from None
    if raw is None:
        raise CheckpointError(f"{path}: safetensors file without s2rdepth metadata")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: corrupt s2rdepth metadata ({exc})") from None


def load_tensors(path: str | os.PathLike[str], device: str | torch.device = "cpu"
                 ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(tensors, metadata)`` of a checkpoint written by :func:`save_tensors`."""
    meta = read_metadata(path)
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path}: corrupt checkpoint tensors ({exc})") from None
    return tensors, meta


def _existing(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return path


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file (recorded in exported artifacts as the source checkpoint's hash)."""
    h = hashlib.sha256()
    with open(_existing(path), "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_config(model: nn.Module) -> dict[str, Any]:
    """Constructor keyword arguments that rebuild ``model``: its ``config`` dataclass, if any."""
    cfg = getattr(model, "config", None)
    if dataclasses.is_dataclass(cfg):
        return dataclasses.asdict(cfg)
    return {}


def _arch_of(model: nn.Module) -> str:
    from .models.presets import ARCHITECTURES

    for name, cls in ARCHITECTURES.items():
        if type(model) is cls:
            return name
    raise CheckpointError(f"save_model: {type(model).__name__} is not a registered architecture "
                          f"({', '.join(ARCHITECTURES)}); pass arch= and config= explicitly")


def save_model(path: str | os.PathLike[str], model: nn.Module, *, arch: str | None = None,
               config: Mapping[str, Any] | None = None, extra: Mapping[str, Any] | None = None) -> Path:
    """Atomically save ``model``'s weights with what :func:`load_model` needs to rebuild it.

    Args:
        arch: architecture name (``"s2r"``, ``"da_monodepth"``, ``"structure_translator"``);
            inferred from the model's class when omitted.
        config: constructor keyword arguments; taken from ``model.config`` when omitted.
        extra: any JSON-serialisable data (training step, metrics, source paths...).
    """
    meta = {
        "format": "s2rdepth.model",
        "format_version": FORMAT_VERSION,
        "arch": arch or _arch_of(model),
        "config": dict(config) if config is not None else model_config(model),
        "s2rdepth_version": __version__,
        "torch_version": torch.__version__,
        "extra": dict(extra or {}),
    }
    return save_tensors(path, model.state_dict(), meta)


def _tuples(value: Any) -> Any:
    """JSON turns tuples into lists; configs only use tuples."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu",
               eval_mode: bool = True) -> nn.Module:
    """Rebuild and load a model saved by :func:`save_model` (strict key and shape check)."""
    from .models._checkpoint import check_state_dict
    from .models.presets import ARCHITECTURES

    tensors, meta = load_tensors(path, device="cpu")
    if meta.get("format") != "s2rdepth.model":
        raise CheckpointError(f"{path}: holds {meta.get('format')!r}, not a model checkpoint "
                              "(training checkpoints hold the model under 'model.'; see s2rdepth.train)")
    arch = meta.get("arch")
    if arch not in ARCHITECTURES:
        raise CheckpointError(f"{path}: unknown architecture {arch!r} (known: {', '.join(ARCHITECTURES)})")
    try:
        model = ARCHITECTURES[arch](**_tuples(meta.get("config") or {}))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot rebuild {arch} from its stored config: {exc}") from None
    check_state_dict({k: v.shape for k, v in model.state_dict().items()}, tensors, str(path))
    model.load_state_dict(tensors, strict=True)
    model.to(device)
    return model.eval() if eval_mode else model
