"""Small deterministic image-synthesis helpers: hashed value noise, fBm, blurs, filters, JPEG.

All functions are pure NumPy (plus Pillow for JPEG) and deterministic: the hash-based noise
depends only on its coordinates and integer seed, never on global random state.
"""
from __future__ import annotations

import io

import numpy as np

__all__ = ["hash01", "lin3", "norm3", "value_noise", "fbm", "gaussian_blur", "box_mean", "kuwahara", "jpeg_roundtrip",
           "smoothstep", "luminance", "sobel_magnitude"]

_K1 = np.uint32(0x8DA6B343)
_K2 = np.uint32(0xD8163841)
_K3 = np.uint32(0x5BD1E995)
_K4 = np.uint32(0x27D4EB2F)
_S13, _S15, _S16 = np.uint32(13), np.uint32(15), np.uint32(16)


def _u32(a) -> np.ndarray:
    """Integers (any sign, any int dtype or integral floats) → uint32, wrapping modulo 2**32."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        a = a.astype(np.int64)
    return a.astype(np.uint32) if a.dtype != np.uint32 else a


def hash01(i, j, seed) -> np.ndarray:
    """Uniform [0, 1) pseudo-random value for integer lattice points ``(i, j)`` and ``seed`` (all
    integers or integer arrays, broadcast together).

    A 32-bit multiply-xorshift hash (wrapping uint32 arithmetic): fast, deterministic, portable.
    """
    with np.errstate(over="ignore"):
        s = _u32(seed) * np.uint32(0x9E3779B1)
        h = (_u32(i) * _K1) ^ (_u32(j) * _K2) ^ s
        h ^= h >> _S15
        h *= _K3
        h ^= h >> _S13
        h *= _K4
        h ^= h >> _S16
    return h * (1.0 / 4294967296.0)


def lin3(a: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``a @ m.T`` for (..., 3) arrays and a 3x3 ``m``, written out (no BLAS: BLAS threads spin and
    oversubscribe the cores when several generator processes run)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    return np.stack([a0 * m[i, 0] + a1 * m[i, 1] + a2 * m[i, 2] for i in range(3)], axis=-1)


def norm3(a: np.ndarray) -> np.ndarray:
    """Euclidean norm over the last axis (size 3)."""
    return np.sqrt(a[..., 0] * a[..., 0] + a[..., 1] * a[..., 1] + a[..., 2] * a[..., 2])


def smoothstep(x: np.ndarray) -> np.ndarray:
    """``3x^2 - 2x^3`` on [0, 1] (clamped)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def value_noise(s: np.ndarray, t: np.ndarray, seed: int) -> np.ndarray:
    """Smooth 2-D value noise in [0, 1) at real coordinates ``(s, t)`` (lattice spacing 1)."""
    fs, ft = np.floor(s), np.floor(t)
    u, v = s - fs, t - ft
    u = u * u * (3.0 - 2.0 * u)
    v = v * v * (3.0 - 2.0 * v)
    i, j = _u32(fs), _u32(ft)
    one = np.uint32(1)
    with np.errstate(over="ignore"):
        i1, j1 = i + one, j + one
    h00 = hash01(i, j, seed)
    h10 = hash01(i1, j, seed)
    h01 = hash01(i, j1, seed)
    h11 = hash01(i1, j1, seed)
    a = h00 + (h10 - h00) * u
    b = h01 + (h11 - h01) * u
    return a + (b - a) * v


def fbm(s: np.ndarray, t: np.ndarray, seed: int, octaves: int = 3, gain: float = 0.5) -> np.ndarray:
    """Fractal sum of :func:`value_noise` octaves (frequency doubling), normalised to about [0, 1)."""
    total = np.zeros(np.broadcast(s, t).shape)
    amp, norm, freq = 1.0, 0.0, 1.0
    for k in range(octaves):
        total += amp * value_noise(s * freq + 17.3 * k, t * freq - 9.1 * k, seed + 101 * k)
        norm += amp
        amp *= gain
        freq *= 2.0
    return total / norm


def luminance(img: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of a float (H, W, 3) image."""
    return img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114


def _blur_axis(img: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    r = kernel.size // 2
    pad = [(0, 0)] * img.ndim
    pad[axis] = (r, r)
    p = np.pad(img, pad, mode="edge")
    n = img.shape[axis]
    out = np.zeros_like(img)
    for k, w in enumerate(kernel):
        out += w * _slice(p, axis, k, k + n)
    return out


def _slice(a: np.ndarray, axis: int, start: int, stop: int) -> np.ndarray:
    idx = [slice(None)] * a.ndim
    idx[axis] = slice(start, stop)
    return a[tuple(idx)]


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of a float (H, W[, C]) image, edge padding; ``sigma`` in pixels."""
    if sigma <= 0.05:
        return img.copy()
    r = max(1, int(np.ceil(2.5 * sigma)))
    x = np.arange(-r, r + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    k /= k.sum()
    return _blur_axis(_blur_axis(img, k, 0), k, 1)


def box_mean(img: np.ndarray, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    """Mean over the window rows ``[y + r0, y + r1]`` x cols ``[x + c0, x + c1]`` (inclusive offsets,
    edge padding) of a float (H, W[, C]) image, via an integral image."""
    h, w = img.shape[:2]
    pad = max(abs(r0), abs(r1), abs(c0), abs(c1)) + 1
    widths = [(pad, pad), (pad, pad)] + [(0, 0)] * (img.ndim - 2)
    p = np.pad(img, widths, mode="edge")
    ii = np.zeros((p.shape[0] + 1, p.shape[1] + 1) + p.shape[2:], dtype=np.float64)
    ii[1:, 1:] = p.cumsum(0).cumsum(1)
    ya, yb = pad + r0, pad + r1 + 1
    xa, xb = pad + c0, pad + c1 + 1
    s = (ii[yb:yb + h, xb:xb + w] - ii[ya:ya + h, xb:xb + w] - ii[yb:yb + h, xa:xa + w] + ii[ya:ya + h, xa:xa + w])
    return s / ((r1 - r0 + 1) * (c1 - c0 + 1))


def kuwahara(img: np.ndarray, radius: int) -> np.ndarray:
    """Kuwahara filter (float (H, W, 3)): each pixel takes the mean of the least-varying of its four
    ``(radius + 1)^2`` quadrants — flat, brush-like regions with preserved edges."""
    lum = luminance(img)
    best_var = None
    out = np.empty_like(img)
    for r0, r1, c0, c1 in ((-radius, 0, -radius, 0), (-radius, 0, 0, radius), (0, radius, -radius, 0), (0, radius, 0, radius)):
        m = box_mean(img, r0, r1, c0, c1)
        ml = box_mean(lum, r0, r1, c0, c1)
        var = box_mean(lum * lum, r0, r1, c0, c1) - ml * ml
        if best_var is None:
            best_var = var
            out[:] = m
        else:
            better = var < best_var
            best_var = np.where(better, var, best_var)
            out[better] = m[better]
    return out


def sobel_magnitude(gray: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of a float (H, W) image (edge padding)."""
    p = np.pad(gray, 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return np.hypot(gx, gy) / 8.0


def jpeg_roundtrip(img: np.ndarray, quality: int) -> np.ndarray:
    """Encode a uint8 (H, W, 3) image as JPEG (Pillow, 4:2:0) at ``quality`` and decode it back."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
