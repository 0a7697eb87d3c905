"""Input checks of the model ``forward`` methods: clear Python errors instead of shape errors deep
inside a convolution. TorchScript-compatible (the checks only read static shape and dtype)."""
from __future__ import annotations

import torch


def check_image(x: torch.Tensor, model: str, channels: int, multiple: int, min_size: int,
                value_range: str) -> None:
    """Check an N x C x H x W floating-point network input.

    Raises ``TypeError`` for a non-floating dtype (e.g. uint8 pixels: the models take floats;
    the inference wrappers in :mod:`s2rdepth.models.inference` convert uint8) and ``ValueError``
    for a wrong rank, channel count, a height/width not divisible by ``multiple`` or below
    ``min_size``. ``value_range`` only appears in the messages.
    """
    if x.dim() != 4:
        raise ValueError(f"{model}: expected an N x {channels} x H x W tensor, got {x.dim()}-D "
                         f"shape {list(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{model}: expected a floating-point image in {value_range}, got dtype "
                        f"{x.dtype}; convert uint8 pixels first (or use the inference wrapper, "
                        f"which accepts uint8)")
    if x.shape[1] != channels:
        raise ValueError(f"{model}: expected {channels} input channels, got {x.shape[1]} "
                         f"(shape {list(x.shape)})")
    h = x.shape[2]
    w = x.shape[3]
    if h % multiple != 0 or w % multiple != 0:
        raise ValueError(f"{model}: height and width must be divisible by {multiple}, got "
                         f"{h} x {w}; resize or pad the input (e.g. 192 x 640)")
    if h < min_size or w < min_size:
        raise ValueError(f"{model}: height and width must be at least {min_size} for this "
                         f"configuration, got {h} x {w}")
