"""In-memory rendering of one synthetic frame: :func:`render_scene`."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .appearance import render_gbuffer, shade_painting, shade_real, shade_virtual
from .camera import kitti_calibration
from .scene import Scene, sample_scene, scene_rng

__all__ = ["DOMAINS", "SynthFrame", "render_scene", "render_frame", "parse_size"]

#: The appearance domains of the generator.
DOMAINS: tuple[str, ...] = ("virtual", "real", "painting")
_APPEARANCE_STREAM = {"virtual": 0xA01, "real": 0xA02, "painting": 0xA03}


class SynthFrame(NamedTuple):
    """One rendered frame.

    Attributes:
        image: uint8 (H, W, 3) RGB.
        depth: float32 (H, W) camera-z depth in metres (distance along the optical axis, not the
            ray length); ``+inf`` where the ray hits nothing (sky).
        labels: uint8 (H, W) shared label ids (Cityscapes train ids, :mod:`s2rdepth.data.synth.labels`;
            sky = 10, 255 = ignore).
    """

    image: np.ndarray
    depth: np.ndarray
    labels: np.ndarray


def parse_size(size) -> tuple[int, int]:
    """``(H, W)`` from a pair or an ``"HxW"`` string; raises ``ValueError`` with a clear message."""
    if isinstance(size, str):
        parts = size.lower().replace(" ", "").split("x")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ValueError(f"size must be HxW with positive integers (e.g. 192x640), got {size!r}")
        h, w = int(parts[0]), int(parts[1])
    else:
        try:
            h, w = (int(v) for v in size)
        except (TypeError, ValueError):
            raise ValueError(f"size must be (H, W) or 'HxW', got {size!r}") from None
    if h < 8 or w < 8:
        raise ValueError(f"size must be at least 8x8 pixels, got {h}x{w}")
    if h > 4096 or w > 8192:
        raise ValueError(f"size {h}x{w} is too large (at most 4096x8192)")
    return h, w


def render_frame(scene: Scene, domain: str, size=(192, 640), rng: np.random.Generator | None = None) -> SynthFrame:
    """Render a given :class:`~s2rdepth.data.synth.scene.Scene` in ``domain`` at ``size = (H, W)``.

    ``rng`` drives the appearance (``real`` / ``painting``); by default it is derived from the
    scene's ``(seed, index)`` (or seed 0 for hand-made scenes).
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; choose from {', '.join(DOMAINS)}")
    h, w = parse_size(size)
    calib = kitti_calibration(h, w)
    gb = render_gbuffer(scene, calib)
    if rng is None:
        rng = scene_rng(max(scene.seed, 0), max(scene.index, 0), _APPEARANCE_STREAM[domain])
    if domain == "virtual":
        image = shade_virtual(scene, gb)
    elif domain == "real":
        image = shade_real(scene, gb, rng)
    else:
        image = shade_painting(scene, gb, rng)
    return SynthFrame(image, gb.depth.astype(np.float32), gb.labels)


def render_scene(index: int = 0, seed: int = 0, size=(192, 640), domain: str = "virtual") -> SynthFrame:
    """Sample scene ``index`` of stream ``seed`` and render it (see :class:`SynthFrame`).

    The same ``(seed, index)`` gives the same geometry — hence identical ``depth`` and ``labels`` —
    in every domain; only ``image`` differs. Deterministic: same arguments, same arrays.

    Args:
        index: scene index (>= 0).
        seed: stream seed (>= 0).
        size: ``(H, W)`` or ``"HxW"``; intrinsics are KITTI's scaled to this size
            (:func:`s2rdepth.data.synth.camera.kitti_calibration`).
        domain: ``"virtual"``, ``"real"`` or ``"painting"``.
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; choose from {', '.join(DOMAINS)}")
    return render_frame(sample_scene(seed, index), domain, size)
