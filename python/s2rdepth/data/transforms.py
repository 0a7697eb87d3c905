"""Per-paper sample transforms (torch, Pillow and NumPy only; no torchvision).

Both transforms take a reader's sample dict (:mod:`s2rdepth.data.base`) and return a new dict.

Geometry (resize, flip, rotation) is applied to every spatial entry with one set of parameters, so
``image``, ``depth``, ``valid`` and ``label`` stay aligned:

* ``image``: the paper's filter (S2R bicubic, DA-Monodepth Lanczos = monodepth2's ``ANTIALIAS``).
* ``label``: nearest neighbour; pixels rotated in from outside the image become 255 (ignore).
* ``depth`` + ``valid``, by ``depth_resample``:

  - ``"nearest"`` (used for sparse depth: KITTI Velodyne / benchmark PNGs): depth and mask by
    nearest neighbour; no value is ever blended with an invalid 0.
  - ``"bilinear"`` / ``"bicubic"`` (dense depth): ``depth·valid`` and ``valid`` (as 0/1 floats) are
    resampled with that filter; an output pixel is valid only where the resampled mask is 1 (within
    1e-3: no invalid input pixel carried real weight), and its value is renormalised by the
    resampled mask so that it averages valid inputs only (a constant field stays exact). Bicubic
    overshoot below 0 makes a pixel invalid.
  - ``"auto"`` (default): ``"nearest"`` when the sample says ``depth_sparse``, else the transform's
    dense default (S2R: bicubic, like the image; DA-Monodepth: bilinear).

  Pixels rotated in from outside the image are invalid (depth 0, network range -1).

Randomness: pass ``generator`` (a ``torch.Generator`` or a ``numpy.random.Generator``) for a
reproducible stream. With ``generator=None`` the global torch RNG is used, which ``DataLoader``
seeds differently in every worker: prefer that with ``num_workers > 0`` (a generator object is
copied into each worker, so all workers would draw the same augmentations).
"""
from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np
import torch

__all__ = [
    "S2RTransform",
    "DAMonodepthTransform",
    "depth_to_net",
    "net_to_depth",
    "depth_to_disp",
    "disp_to_depth",
    "resize_sample",
    "hflip_sample",
    "rotate_sample",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_saturation",
    "adjust_hue",
]

Sample = dict[str, Any]
Generator = Union[torch.Generator, np.random.Generator, None]

_GRAY = (0.299, 0.587, 0.114)


# ================================================================================== value maps
def depth_to_net(depth_m: torch.Tensor, max_depth: float = 80.0) -> torch.Tensor:
    """Metres → S2R network range [-1, 1]: ``2·clamp(d, 0, max)/max - 1`` (0 m / invalid → -1).

    For vKITTI this equals the reference's ``clip(cm, 0, 8000) / 8000`` then ``2v - 1``.
    """
    return depth_m.clamp(0.0, max_depth) / max_depth * 2.0 - 1.0


def net_to_depth(y: torch.Tensor, max_depth: float = 80.0) -> torch.Tensor:
    """S2R network range → metres: ``(y + 1) / 2 · max_depth`` (80 outdoor, 8 indoor)."""
    return (y + 1.0) / 2.0 * max_depth


def disp_to_depth(disp: torch.Tensor, min_depth: float = 0.1, max_depth: float = 100.0) -> tuple[torch.Tensor, torch.Tensor]:
    """monodepth2: sigmoid output σ → ``(scaled_disp, depth)``, ``scaled = 1/max + (1/min - 1/max)·σ``."""
    lo, hi = 1.0 / max_depth, 1.0 / min_depth
    scaled = lo + (hi - lo) * disp
    return scaled, 1.0 / scaled


def depth_to_disp(depth_m: torch.Tensor, min_depth: float = 0.1, max_depth: float = 100.0) -> torch.Tensor:
    """Inverse of :func:`disp_to_depth`: metres → σ in [0, 1] (depth clamped to [min, max]); 0 where depth ≤ 0."""
    lo, hi = 1.0 / max_depth, 1.0 / min_depth
    d = depth_m.clamp(min_depth, max_depth)
    sigma = (1.0 / d - lo) / (hi - lo)
    return torch.where(depth_m > 0, sigma, torch.zeros_like(sigma))


# ================================================================================== randomness
class _Rng:
    def __init__(self, generator: Generator) -> None:
        self.g = generator

    def uniform(self, lo: float, hi: float) -> float:
        if isinstance(self.g, np.random.Generator):
            return float(self.g.uniform(lo, hi))
        u = float(torch.rand((), generator=self.g))
        return lo + (hi - lo) * u

    def coin(self, p: float) -> bool:
        return self.uniform(0.0, 1.0) < p

    def permutation(self, n: int) -> list[int]:
        if isinstance(self.g, np.random.Generator):
            return [int(i) for i in self.g.permutation(n)]
        return torch.randperm(n, generator=self.g).tolist()


# ================================================================================== Pillow bridges
def _pil_filter(name: str):
    from PIL import Image

    table = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
             "lanczos": Image.LANCZOS}
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"unknown resampling filter {name!r}; use one of {sorted(table)}") from None


def _image_to_pil(img: torch.Tensor):
    from PIL import Image

    if img.dtype != torch.uint8:
        img = (img.float().clamp(0, 1) * 255.0).round().to(torch.uint8)
    arr = img.permute(1, 2, 0).contiguous().numpy()
    return Image.fromarray(arr if arr.shape[2] == 3 else arr[..., 0])


def _pil_to_image(im) -> torch.Tensor:
    a = np.asarray(im, dtype=np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))


def _float_to_pil(a: np.ndarray):
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(a, dtype=np.float32))


def _label_to_pil(lab: np.ndarray):
    from PIL import Image

    if lab.min(initial=0) >= 0 and lab.max(initial=0) <= 255:
        return Image.fromarray(lab.astype(np.uint8))
    return Image.fromarray(lab.astype(np.int32))


def _apply_spatial(sample: Sample, op, image_filter: str, depth_filter: str, label_fill: int = 255) -> Sample:
    """Apply ``op(pil_image, pil_filter, fill)`` to every spatial entry of ``sample`` (new dict)."""
    from PIL import Image

    out = dict(sample)
    if "image" in sample:
        out["image"] = _pil_to_image(op(_image_to_pil(sample["image"]), _pil_filter(image_filter), 0))
    if "label" in sample:
        lab = sample["label"]
        squeeze = lab.dim() == 3
        arr = (lab[0] if squeeze else lab).numpy()
        res = torch.from_numpy(np.asarray(op(_label_to_pil(arr), Image.NEAREST, label_fill)).astype(np.int64))
        out["label"] = res.unsqueeze(0) if squeeze else res
    if "depth" in sample:
        d = sample["depth"][0].numpy().astype(np.float32)
        v = sample["valid"][0].numpy() if "valid" in sample else d > 0
        v = v & (d > 0)
        if depth_filter == "nearest":
            nd = np.asarray(op(_float_to_pil(d), Image.NEAREST, 0.0), dtype=np.float32)
            nv = np.asarray(op(_float_to_pil(v.astype(np.float32)), Image.NEAREST, 0.0)) > 0.5
        else:
            f = _pil_filter(depth_filter)
            nd = np.asarray(op(_float_to_pil(np.where(v, d, 0.0)), f, 0.0), dtype=np.float32)
            nm = np.asarray(op(_float_to_pil(v.astype(np.float32)), f, 0.0), dtype=np.float32)
            nv = np.abs(nm - 1.0) < 1e-3
            nd = nd / np.where(nv, nm, 1.0)  # renormalise: the value averages valid inputs only
        nv = nv & (nd > 0) & np.isfinite(nd)
        nd = np.where(nv, nd, 0.0).astype(np.float32)
        out["depth"] = torch.from_numpy(nd).unsqueeze(0)
        out["valid"] = torch.from_numpy(nv).unsqueeze(0)
    return out


def _depth_filter(sample: Sample, depth_resample: str, dense_default: str) -> str:
    if depth_resample == "auto":
        return "nearest" if bool(sample.get("depth_sparse", False)) else dense_default
    return depth_resample


# ================================================================================== geometry
def resize_sample(sample: Sample, size_hw: Sequence[int], image_filter: str = "bicubic",
                  depth_filter: str = "nearest") -> Sample:
    """Resize every spatial entry to ``size_hw = (H, W)`` (see the module docstring for filters)."""
    h, w = int(size_hw[0]), int(size_hw[1])
    return _apply_spatial(sample, lambda im, f, fill: im.resize((w, h), f), image_filter, depth_filter)


def hflip_sample(sample: Sample) -> Sample:
    """Mirror every spatial entry left-right (exact, no resampling)."""
    out = dict(sample)
    for k in ("image", "depth", "valid", "label"):
        if k in sample:
            out[k] = torch.flip(sample[k], dims=[-1]).contiguous()
    return out


def rotate_sample(sample: Sample, angle_deg: float, image_filter: str = "bicubic",
                  depth_filter: str = "nearest") -> Sample:
    """Rotate counter-clockwise by ``angle_deg`` about the centre, same size (Pillow ``rotate``).

    Uncovered corners: image 0 (black), depth 0 / invalid, label 255.
    """
    return _apply_spatial(sample, lambda im, f, fill: im.rotate(angle_deg, resample=f, fillcolor=fill),
                          image_filter, depth_filter)


# ================================================================================== colour (float [0,1])
def _gray(x: torch.Tensor) -> torch.Tensor:
    r, g, b = x[0], x[1], x[2]
    return (_GRAY[0] * r + _GRAY[1] * g + _GRAY[2] * b).unsqueeze(0)


def adjust_brightness(x: torch.Tensor, f: float) -> torch.Tensor:
    """``clamp(f·x, 0, 1)`` on a float (3, H, W) image in [0, 1]."""
    return (x * f).clamp(0.0, 1.0)


def adjust_contrast(x: torch.Tensor, f: float) -> torch.Tensor:
    """Blend with the mean grey level: ``clamp(f·x + (1-f)·mean(gray(x)), 0, 1)``."""
    m = _gray(x).mean()
    return (f * x + (1.0 - f) * m).clamp(0.0, 1.0)


def adjust_saturation(x: torch.Tensor, f: float) -> torch.Tensor:
    """Blend with the grey image: ``clamp(f·x + (1-f)·gray(x), 0, 1)``."""
    return (f * x + (1.0 - f) * _gray(x)).clamp(0.0, 1.0)


def adjust_hue(x: torch.Tensor, shift: float) -> torch.Tensor:
    """Rotate hue by ``shift`` turns (in [-0.5, 0.5]) via HSV; float (3, H, W) in [0, 1]."""
    r, g, b = x[0], x[1], x[2]
    maxc, _ = x.max(0)
    minc, _ = x.min(0)
    v = maxc
    delta = maxc - minc
    s = torch.where(maxc > 0, delta / maxc.clamp_min(1e-12), torch.zeros_like(maxc))
    dz = delta.clamp_min(1e-12)
    rc, gc, bc = (maxc - r) / dz, (maxc - g) / dz, (maxc - b) / dz
    h = torch.where(maxc == r, bc - gc, torch.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = torch.where(delta > 0, (h / 6.0) % 1.0, torch.zeros_like(h))
    h = (h + shift) % 1.0
    i = torch.floor(h * 6.0)
    fpart = h * 6.0 - i
    p, q, t = v * (1 - s), v * (1 - s * fpart), v * (1 - s * (1 - fpart))
    i = i.long() % 6
    sel = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = torch.zeros_like(x)
    for k, (cr, cg, cb) in enumerate(sel):
        m = i == k
        out[0] = torch.where(m, cr, out[0])
        out[1] = torch.where(m, cg, out[1])
        out[2] = torch.where(m, cb, out[2])
    return out.clamp(0.0, 1.0)


def _to_float01(img: torch.Tensor) -> torch.Tensor:
    return img.float() / 255.0 if img.dtype == torch.uint8 else img.float()


# ================================================================================== S2R
class S2RTransform:
    """S2R-DepthNet reference data pipeline (REFERENCE.md §1 "Data conventions").

    Steps: resize to ``size`` (image bicubic; depth per ``depth_resample``; labels nearest); when
    ``train``: h-flip with p=0.5, with p=0.5 a rotation by an angle uniform in [-5, 5) degrees
    (bicubic image, uncovered corners invalid), with p=0.5 brightness, contrast and saturation
    factors each uniform in [0.8, 1.0]; then ``image → (v/255 - 0.5)/0.5``.

    Output sample (other keys pass through):

    * ``image``: float32 (3, H, W) in [-1, 1]
    * ``depth_net``: float32 (1, H, W) in [-1, 1] = ``2·clamp(depth, 0, max_depth)/max_depth - 1``;
      invalid pixels (and rotated-in corners) are -1, as in the reference
    * ``depth``: float32 (1, H, W) metres after the same geometry (0 = invalid); ``valid`` bool
    * ``label``: int64 (H, W) when present; ``depth_orig``: the untouched input depth when
      ``keep_original_depth`` (for evaluation at ground-truth resolution)

    Args:
        size: output ``(H, W)``; 192x640 for KITTI, use :meth:`nyu` for 192x256 / 8 m.
        train: enable augmentation.
        max_depth: metres mapped to +1 (80 outdoor, 8 indoor).
        depth_resample: ``"auto"`` | ``"nearest"`` | ``"bilinear"`` | ``"bicubic"``; dense default bicubic.
        generator: torch or numpy generator (see module docstring).
    """

    def __init__(self, size: Sequence[int] = (192, 640), train: bool = True, max_depth: float = 80.0,
                 depth_resample: str = "auto", flip_p: float = 0.5, rotate_p: float = 0.5,
                 rotate_deg: float = 5.0, color_p: float = 0.5, color_range: tuple[float, float] = (0.8, 1.0),
                 keep_original_depth: bool = False, generator: Generator = None) -> None:
        self.size = (int(size[0]), int(size[1]))
        self.train, self.max_depth, self.depth_resample = train, max_depth, depth_resample
        self.flip_p, self.rotate_p, self.rotate_deg = flip_p, rotate_p, rotate_deg
        self.color_p, self.color_range = color_p, color_range
        self.keep_original_depth = keep_original_depth
        self.rng = _Rng(generator)

    @classmethod
    def nyu(cls, **kw: Any) -> "S2RTransform":
        """Indoor preset: 192x256, 8 m."""
        kw.setdefault("size", (192, 256))
        kw.setdefault("max_depth", 8.0)
        return cls(**kw)

    def __call__(self, sample: Sample) -> Sample:
        orig_depth = sample.get("depth")
        dfilt = _depth_filter(sample, self.depth_resample, "bicubic")
        s = resize_sample(sample, self.size, "bicubic", dfilt)
        color = None
        if self.train:
            if self.rng.coin(self.flip_p):
                s = hflip_sample(s)
            if self.rng.coin(self.rotate_p):
                angle = self.rng.uniform(-self.rotate_deg, self.rotate_deg)
                s = rotate_sample(s, angle, "bicubic", dfilt)
            if self.rng.coin(self.color_p):
                lo, hi = self.color_range
                color = [self.rng.uniform(lo, hi) for _ in range(3)]
        img = _to_float01(s["image"])
        if color is not None:
            img = adjust_saturation(adjust_contrast(adjust_brightness(img, color[0]), color[1]), color[2])
        s["image"] = (img - 0.5) / 0.5
        if "depth" in s:
            d = s["depth"]
            s["depth_net"] = torch.where(s["valid"], depth_to_net(d, self.max_depth), torch.full_like(d, -1.0))
        if self.keep_original_depth and orig_depth is not None:
            s["depth_orig"] = orig_depth
        return s


# ================================================================================== DA-Monodepth
class DAMonodepthTransform:
    """DA-Monodepth pipeline (monodepth2 conventions, REFERENCE.md §2).

    Steps: resize to ``size`` = (192, 640) (image Lanczos = monodepth2 ``ANTIALIAS``; depth per
    ``depth_resample``, dense default bilinear; labels nearest); when ``train``: h-flip p=0.5 and,
    with p=0.5, monodepth2's colour jitter (brightness, contrast, saturation factors uniform in
    [0.8, 1.2], hue shift uniform in [-0.1, 0.1], applied in a random order).

    Output (other keys pass through):

    * ``image``: float32 (3, H, W) in [0, 1] (the encoder normalises ``(x - 0.45)/0.225`` itself)
    * ``disp``: float32 (1, H, W) disparity target in the network's sigmoid space,
      :func:`depth_to_disp` with ``min_depth``/``max_depth`` (0.1 / 100); 0 where invalid
    * ``depth`` (metres, 0 invalid), ``valid``, ``label`` (int64, 255 ignore) when present
    """

    def __init__(self, size: Sequence[int] = (192, 640), train: bool = True, min_depth: float = 0.1,
                 max_depth: float = 100.0, depth_resample: str = "auto", flip_p: float = 0.5,
                 jitter_p: float = 0.5, brightness: float = 0.2, contrast: float = 0.2,
                 saturation: float = 0.2, hue: float = 0.1, keep_original_depth: bool = False,
                 generator: Generator = None) -> None:
        self.size = (int(size[0]), int(size[1]))
        self.train, self.min_depth, self.max_depth = train, min_depth, max_depth
        self.depth_resample, self.flip_p, self.jitter_p = depth_resample, flip_p, jitter_p
        self.jitter = (brightness, contrast, saturation, hue)
        self.keep_original_depth = keep_original_depth
        self.rng = _Rng(generator)

    def __call__(self, sample: Sample) -> Sample:
        orig_depth = sample.get("depth")
        dfilt = _depth_filter(sample, self.depth_resample, "bilinear")
        s = resize_sample(sample, self.size, "lanczos", dfilt)
        img = _to_float01(s["image"])
        if self.train:
            if self.rng.coin(self.flip_p):
                s = hflip_sample(s)
                img = torch.flip(img, dims=[-1])
            if self.rng.coin(self.jitter_p):
                b, c, sa, hu = self.jitter
                fb = self.rng.uniform(1 - b, 1 + b)
                fc = self.rng.uniform(1 - c, 1 + c)
                fs = self.rng.uniform(1 - sa, 1 + sa)
                fh = self.rng.uniform(-hu, hu)
                ops = [lambda x: adjust_brightness(x, fb), lambda x: adjust_contrast(x, fc),
                       lambda x: adjust_saturation(x, fs), lambda x: adjust_hue(x, fh)]
                for k in self.rng.permutation(4):
                    img = ops[k](img)
        s["image"] = img.contiguous()
        if "depth" in s:
            s["disp"] = depth_to_disp(s["depth"], self.min_depth, self.max_depth)
        if self.keep_original_depth and orig_depth is not None:
            s["depth_orig"] = orig_depth
        return s
