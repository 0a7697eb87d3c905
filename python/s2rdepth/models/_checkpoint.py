"""Safe reading of weight files and key/shape checking with readable errors."""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Union

import torch

__all__ = ["CheckpointMismatchError", "UnsafeCheckpointError", "check_state_dict",
           "load_state_dict_file", "strip_prefix"]

PathOrStateDict = Union[str, "os.PathLike[str]", Mapping[str, torch.Tensor]]


class UnsafeCheckpointError(ValueError):
    """A weight file holds more than tensors and containers (e.g. pickled classes or code) and
    was refused by ``torch.load(weights_only=True)``."""


class CheckpointMismatchError(ValueError):
    """The keys or shapes of a state dict do not match the model.

    Attributes ``missing``, ``unexpected`` and ``mismatched`` (``(key, expected, got)``) list
    the differences; ``source`` names the file.
    """

    def __init__(self, source: str, missing: list[str], unexpected: list[str],
                 mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]], hint: str = "") -> None:
        self.source, self.missing = source, missing
        self.unexpected, self.mismatched = unexpected, mismatched
        lines = [f"{source}: the state dict does not match the model"]
        if missing:
            lines.append(f"  missing keys ({len(missing)}): " + ", ".join(missing))
        if unexpected:
            lines.append(f"  unexpected keys ({len(unexpected)}): " + ", ".join(unexpected))
        if mismatched:
            lines.append(f"  shape mismatches ({len(mismatched)}): " + ", ".join(
                f"{k} expected {list(e)} got {list(g)}" for k, e, g in mismatched))
        if hint:
            lines.append("  " + hint)
        super().__init__("\n".join(lines))


def strip_prefix(state: Mapping[str, torch.Tensor], prefix: str = "module.") -> dict[str, torch.Tensor]:
    """Remove ``prefix`` (``DataParallel``'s ``module.``) from every key that has it."""
    return {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in state.items()}


def load_state_dict_file(source: PathOrStateDict,
                         what: str = "checkpoint") -> tuple[dict[str, torch.Tensor], str]:
    """Read a state dict from a ``torch.save`` file with ``weights_only=True`` (or take a mapping).

    Returns ``(state_dict, name)`` where ``name`` describes the source for error messages.
    Raises :class:`UnsafeCheckpointError` when the file contains pickled objects other than
    tensors and plain containers, ``FileNotFoundError`` for a missing file and ``ValueError`` when
    the content is not a mapping of names to tensors.
    """
    if isinstance(source, Mapping):
        state, name = dict(source), f"<{what} state dict>"
    else:
        name = os.fspath(source)
        if not os.path.isfile(name):
            raise FileNotFoundError(f"{what} file not found: {name}")
        try:
            state = torch.load(name, map_location="cpu", weights_only=True)
        except Exception as exc:  # pickle.UnpicklingError and friends
            msg = str(exc)
            if "weights_only" in msg or "Unsupported global" in msg or "Weights only" in msg:
                raise UnsafeCheckpointError(
                    f"refused to load {what} file {name}: it contains pickled objects other than "
                    f"tensors (possibly code), which torch.load(weights_only=True) rejects. Only "
                    f"plain state-dict files are accepted. Details: {msg.splitlines()[0]}") from exc
            raise ValueError(f"could not read {what} file {name}: {exc}") from exc
        nested = state.get("state_dict") if isinstance(state, Mapping) else None
        if isinstance(nested, Mapping):  # {"state_dict": ...} training checkpoints
            state = nested
    if not isinstance(state, Mapping):
        raise ValueError(f"{name}: expected a state dict (mapping of names to tensors), got "
                         f"{type(state).__name__}")
    bad = [k for k, v in state.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise ValueError(f"{name}: expected a state dict of tensors; non-tensor entries: "
                         + ", ".join(map(str, bad[:20])))
    return dict(state), name


def check_state_dict(expected: Mapping[str, Iterable[int]], got: Mapping[str, torch.Tensor],
                     source: str, hint: str = "") -> None:
    """Raise :class:`CheckpointMismatchError` unless ``got`` has exactly the keys of ``expected``
    with the expected shapes."""
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    mismatched = [(k, tuple(expected[k]), tuple(got[k].shape)) for k in expected
                  if k in got and tuple(got[k].shape) != tuple(expected[k])]
    if missing or unexpected or mismatched:
        raise CheckpointMismatchError(source, missing, unexpected, mismatched, hint)
