"""Appearance of the three domains: geometry buffer → RGB image.

The geometry of a frame is fixed by :mod:`~s2rdepth.data.synth.scene`; this module only decides
colours, so ``virtual``, ``real`` and ``painting`` frames of one ``(seed, index)`` share depth and
labels exactly and differ in texture and style:

* ``virtual`` — clean, flat Lambertian shading from one fixed light, one fixed palette per class
  (a few fixed colours for cars and facades, chosen by the object's ``tone``), a flat sky
  gradient, no texture, no shadows, no sensor effects (the look of a game-engine clone).
* ``real`` — other palettes drawn per frame, procedural textures in world coordinates (asphalt
  with stains and tyre tracks, paving slabs and curbs, plaster facades with window grids, shop
  fronts, posters and graffiti, foliage, bark, car paint with lights and plates), lane markings
  and zebra crossings (texture that carries no depth), directional sun light with cast shadows
  (shadow rays against the same primitives), sky ambient, specular highlights, clouds, haze, then
  a camera model: white balance, exposure, Gaussian blur, vignetting, signal-dependent noise and
  a JPEG round trip.
* ``painting`` — the real shading pipeline with a strongly shifted palette (hue rotation,
  saturation, channel mixing), followed by one of four painterly styles: ``oil`` (Kuwahara
  filter + directional stroke smearing), ``impressionist`` (jittered colour dabs + strokes),
  ``poster`` (palette quantisation with k-means + dark outlines), ``watercolour`` (soft blur,
  darkened edges, paper grain); always a canvas/paper texture on top.

Colours are linear-ish floats in [0, 1] until the final 8-bit conversion.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import labels as L
from .camera import SynthCalibration
from .noise import fbm, gaussian_blur, hash01, jpeg_roundtrip, kuwahara, lin3, luminance, norm3, sobel_magnitude, value_noise
from .raycast import camera_ray_directions, cast_camera, ground_id, shadow_mask, surface_normals
from .scene import Scene

__all__ = ["GBuffer", "render_gbuffer", "shade_virtual", "shade_real", "shade_painting", "PAINTING_STYLES"]

PAINTING_STYLES: tuple[str, ...] = ("oil", "impressionist", "poster", "watercolour")


@dataclass
class GBuffer:
    """Per-pixel geometry of one camera frame.

    Attributes:
        depth: float64 (H, W) camera-z depth in metres, ``inf`` for sky.
        ids: int32 (H, W) primitive ids (``-1`` sky, ``len(prims)`` ground).
        dirs: float64 (H, W, 3) world ray directions (camera z = 1).
        flat: int64 (M,) flat indices of the pixels that hit something.
        points, normals: float64 (M, 3) world hit points (metres) and unit normals.
        material: int16 (M,) material ids; ``labels``: uint8 (H, W) shared label ids.
        tone: float64 (M,) per-object attribute in [0, 1); ``prim``: int64 (M,) ids of the hits.
    """

    depth: np.ndarray
    ids: np.ndarray
    dirs: np.ndarray
    flat: np.ndarray
    points: np.ndarray
    normals: np.ndarray
    material: np.ndarray
    labels: np.ndarray
    tone: np.ndarray
    prim: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.depth.shape  # type: ignore[return-value]


def render_gbuffer(scene: Scene, calib: SynthCalibration) -> GBuffer:
    """Cast the camera rays of ``scene`` and collect hit points, normals, materials and labels."""
    h, w = calib.height, calib.width
    depth, ids = cast_camera(scene, calib.K, h, w)
    dx, dy, dz = camera_ray_directions(scene, calib.K, h, w)
    dirs = np.stack([dx, dy, dz], axis=-1)
    flat = np.flatnonzero(ids.reshape(-1) >= 0)
    t = depth.reshape(-1)[flat]
    prim = ids.reshape(-1)[flat].astype(np.int64)
    points = scene.cam_position + t[:, None] * dirs.reshape(-1, 3)[flat]
    normals = surface_normals(scene, points, prim)
    gid = ground_id(scene)
    on_ground = prim == gid
    material = np.empty(flat.size, dtype=np.int16)
    material[on_ground] = scene.ground_material(points[on_ground, 0], points[on_ground, 2])
    tone = np.zeros(flat.size)
    own = ~on_ground
    material[own] = scene.prims.material[prim[own]]
    tone[own] = scene.prims.tone[prim[own]]
    labels = np.full(h * w, L.LABEL_SKY, dtype=np.uint8)
    labels[flat] = L.MATERIAL_LABEL[material]
    return GBuffer(depth, ids, dirs, flat, points, normals, material, labels.reshape(h, w), tone, prim)


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)


def _pick(palette: np.ndarray, tone: np.ndarray) -> np.ndarray:
    """Palette row chosen by ``tone`` in [0, 1)."""
    idx = np.minimum((tone * len(palette)).astype(np.int64), len(palette) - 1)
    return palette[idx]


def _sky_elevation(dirs: np.ndarray) -> np.ndarray:
    """sin(elevation) of world ray directions (..., 3)."""
    return dirs[..., 1] / norm3(dirs)


# ================================================================================== virtual
_V_FIXED = {
    L.ROAD: (0.36, 0.34, 0.37), L.TERRAIN: (0.47, 0.56, 0.30), L.SIDEWALK: (0.63, 0.61, 0.58),
    L.WALL: (0.62, 0.56, 0.50), L.GUARDRAIL: (0.72, 0.73, 0.76), L.POLE: (0.50, 0.50, 0.53),
    L.SIGN: (0.20, 0.35, 0.75), L.TRUNK: (0.40, 0.28, 0.18), L.HEDGE: (0.22, 0.46, 0.20),
    L.CAR_GLASS: (0.15, 0.18, 0.22), L.WHEEL: (0.08, 0.08, 0.08),
}
_V_BUILDING = np.array([(0.70, 0.62, 0.52), (0.60, 0.60, 0.62), (0.72, 0.50, 0.42), (0.80, 0.78, 0.70),
                        (0.50, 0.52, 0.58)])
_V_CROWN = np.array([(0.25, 0.50, 0.20), (0.32, 0.55, 0.22), (0.20, 0.42, 0.18)])
_V_CAR = np.array([(0.75, 0.10, 0.10), (0.10, 0.20, 0.60), (0.85, 0.85, 0.85), (0.15, 0.15, 0.15),
                   (0.60, 0.60, 0.62), (0.10, 0.45, 0.20)])
_V_TRUCK = np.array([(0.80, 0.80, 0.80), (0.70, 0.30, 0.10)])
_V_LIGHT = np.array([0.35, 0.85, -0.40]) / np.linalg.norm([0.35, 0.85, -0.40])


def shade_virtual(scene: Scene, gb: GBuffer) -> np.ndarray:
    """The ``virtual`` look (deterministic, no randomness at all): uint8 (H, W, 3)."""
    h, w = gb.shape
    img = np.empty((h * w, 3))
    e = _sky_elevation(gb.dirs.reshape(-1, 3))
    a = np.clip(e / 0.5, 0, 1)[:, None]
    img[:] = (1 - a) * np.array([0.62, 0.78, 0.95]) + a * np.array([0.35, 0.55, 0.90])
    col = np.empty((gb.flat.size, 3))
    for mat, rgb in _V_FIXED.items():
        col[gb.material == mat] = rgb
    for mat, pal in ((L.BUILDING, _V_BUILDING), (L.CROWN, _V_CROWN), (L.CAR_BODY, _V_CAR), (L.TRUCK, _V_TRUCK)):
        m = gb.material == mat
        col[m] = _pick(pal, gb.tone[m])
    shade = 0.5 + 0.5 * np.maximum(gb.normals @ _V_LIGHT, 0.0)
    img[gb.flat] = col * shade[:, None]
    return _to_uint8(img.reshape(h, w, 3))


# ===================================================================================== real
def _surface_st(p: np.ndarray, n: np.ndarray):
    """Surface coordinates (metres): horizontal faces (x, z); faces towards ±x (z, y); others (x, y)."""
    ax = np.abs(n).argmax(1)
    s = np.where(ax == 0, p[:, 2], p[:, 0])
    t = np.where(ax == 1, p[:, 2], p[:, 1])
    return s, t, ax


_R_BUILDING = np.array([(0.78, 0.72, 0.62), (0.86, 0.84, 0.78), (0.62, 0.36, 0.28), (0.70, 0.66, 0.60),
                        (0.85, 0.76, 0.55), (0.55, 0.57, 0.60), (0.80, 0.62, 0.50), (0.64, 0.60, 0.52),
                        (0.92, 0.90, 0.86), (0.50, 0.32, 0.26)])
_R_CAR = np.array([(0.90, 0.90, 0.90), (0.70, 0.71, 0.73), (0.05, 0.05, 0.06), (0.35, 0.36, 0.38),
                   (0.60, 0.06, 0.06), (0.08, 0.16, 0.42), (0.12, 0.28, 0.18), (0.62, 0.55, 0.42),
                   (0.85, 0.85, 0.80), (0.30, 0.12, 0.10)])
_R_TRUCK = np.array([(0.92, 0.92, 0.90), (0.80, 0.55, 0.10), (0.15, 0.30, 0.55), (0.60, 0.10, 0.08)])
_R_SIGN = np.array([(0.10, 0.25, 0.65), (0.80, 0.10, 0.10), (0.95, 0.80, 0.10), (0.95, 0.95, 0.95),
                    (0.10, 0.45, 0.25)])
_R_POSTER = np.array([(0.90, 0.15, 0.15), (0.10, 0.40, 0.85), (0.95, 0.85, 0.10), (0.10, 0.70, 0.30),
                      (0.95, 0.50, 0.05), (0.60, 0.10, 0.70), (0.05, 0.05, 0.05), (0.95, 0.95, 0.95),
                      (0.00, 0.75, 0.85), (0.95, 0.40, 0.65)])


@dataclass
class _RealParams:
    seed: int
    sun_dir: np.ndarray
    sun_col: np.ndarray
    sun_int: float
    amb_col: np.ndarray
    amb: float
    asphalt: np.ndarray
    terrain_a: np.ndarray
    terrain_b: np.ndarray
    paving: np.ndarray
    tile: float
    foliage_shift: np.ndarray
    haze_col: np.ndarray
    haze_dist: float
    sky_hor: np.ndarray
    sky_zen: np.ndarray
    clouds: float
    centre_solid: bool
    dash_period: float
    dash_ratio: float
    dash_phase: float
    line_w: float
    zebra: bool
    marking_wear: float
    graffiti: float
    posters: float
    palette_shift: np.ndarray


def _real_params(rng: np.random.Generator, painting: bool = False) -> _RealParams:
    overcast = rng.random() < 0.25
    elev = rng.uniform(12, 65) * np.pi / 180
    azim = rng.uniform(-np.pi, np.pi)
    sun_dir = np.array([np.cos(elev) * np.sin(azim), np.sin(elev), np.cos(elev) * np.cos(azim)])
    warm = np.clip(1 - (elev * 180 / np.pi - 12) / 40, 0, 1)
    sun_col = np.array([1.0, 0.95 - 0.12 * warm, 0.88 - 0.25 * warm])
    grey = rng.uniform(0.24, 0.40)
    return _RealParams(
        seed=int(rng.integers(0, 2**31)),
        sun_dir=sun_dir,
        sun_col=sun_col,
        sun_int=float(rng.uniform(0.15, 0.3) if overcast else rng.uniform(0.75, 1.05)),
        amb_col=np.array([0.80, 0.86, 1.0]) if not overcast else np.array([0.92, 0.94, 1.0]),
        amb=float(rng.uniform(0.70, 0.90) if overcast else rng.uniform(0.38, 0.55)),
        asphalt=grey * np.array([1.0, 1.0, 1.0]) + rng.normal(0, 0.015, 3),
        terrain_a=np.array([0.30, 0.42, 0.16]) * rng.uniform(0.8, 1.2) + rng.normal(0, 0.03, 3),
        terrain_b=np.array([0.45, 0.40, 0.28]) * rng.uniform(0.8, 1.2),
        paving=np.array(rng.choice([(0.62, 0.60, 0.57), (0.58, 0.48, 0.44), (0.70, 0.68, 0.64), (0.52, 0.52, 0.54)])),
        tile=float(rng.uniform(0.3, 0.6)),
        foliage_shift=rng.normal(0, 0.04, 3),
        haze_col=np.array([0.78, 0.82, 0.88]) if not overcast else np.array([0.85, 0.86, 0.88]),
        haze_dist=float(rng.uniform(250, 900) if not overcast else rng.uniform(150, 400)),
        sky_hor=np.array([0.80, 0.86, 0.92]) if not overcast else np.array([0.86, 0.87, 0.89]),
        sky_zen=np.array([0.30, 0.50, 0.85]) * rng.uniform(0.9, 1.1) if not overcast else np.array([0.70, 0.72, 0.76]),
        clouds=float(rng.uniform(0.0, 0.8) if not overcast else 1.0),
        centre_solid=bool(rng.random() < 0.35),
        dash_period=float(rng.choice([9.0, 12.0, 6.0])),
        dash_ratio=float(rng.uniform(0.25, 0.5)),
        dash_phase=float(rng.uniform(0, 12)),
        line_w=float(rng.uniform(0.10, 0.16)),
        zebra=bool(rng.random() < 0.6),
        marking_wear=float(rng.uniform(0.0, 0.5)),
        graffiti=float(rng.uniform(0.0, 0.6)),
        posters=float(rng.uniform(0.1, 0.5)),
        palette_shift=rng.normal(0, 0.25 if painting else 0.0, 3),
    )


def _road_albedo(scene: Scene, p: np.ndarray, ap: _RealParams) -> np.ndarray:
    x, z = p[:, 0], p[:, 2]
    s = ap.seed
    base = ap.asphalt[None, :] * (0.85 + 0.3 * fbm(x * 2.5, z * 2.5, s + 1, 3))[:, None]
    base *= (0.9 + 0.2 * value_noise(x * 0.15, z * 0.07, s + 2))[:, None]  # patches / repairs
    # tyre tracks: darker bands 0.8 m either side of each lane centre
    n, lw = scene.n_lanes, scene.lane_width
    lane_pos = (x + n * lw / 2) / lw - 0.5
    dl = (lane_pos - np.round(lane_pos)) * lw
    track = np.exp(-(((np.abs(dl) - 0.8) / 0.35) ** 2)) * (np.abs(lane_pos) < n)
    base *= (1 - 0.12 * track)[:, None]
    # lane markings (paint only: no depth)
    kf = (x + n * lw / 2) / lw
    k = np.clip(np.round(kf), 0, n)
    dist = np.abs(x - (-n * lw / 2 + k * lw))
    on_line = dist < ap.line_w / 2
    edge = (k == 0) | (k == n)
    centre = (k == n / 2) & (n % 2 == 0)
    dashed = np.mod(z + ap.dash_phase, ap.dash_period) < ap.dash_period * ap.dash_ratio
    solid = edge | (centre & ap.centre_solid)
    in_cross = np.zeros(x.shape, dtype=bool)
    zebra = np.zeros(x.shape, dtype=bool)
    for z0, z1 in scene.cross_streets:
        in_cross |= (z >= z0) & (z < z1)
        if ap.zebra:
            zebra |= (z >= z0 - 4.5) & (z < z0 - 1.0) & (np.abs(x) < scene.road_half_width - 0.3) & (np.mod(x, 1.0) < 0.5)
            zebra |= (z >= z0 - 0.8) & (z < z0 - 0.45) & (np.abs(x) < n * lw / 2)
    mark = (on_line & (solid | dashed) & (np.abs(x) <= scene.road_half_width) & ~in_cross) | zebra
    wear = fbm(x * 4.0, z * 1.5, s + 3, 2) > 0.35 + 0.5 * ap.marking_wear
    mark &= ~wear | (ap.marking_wear < 0.05)
    paint = np.array([0.88, 0.88, 0.85])
    return np.where(mark[:, None], paint, base)


def _terrain_albedo(p: np.ndarray, ap: _RealParams) -> np.ndarray:
    x, z = p[:, 0], p[:, 2]
    m = fbm(x * 0.4, z * 0.4, ap.seed + 11, 3)
    col = ap.terrain_a + (ap.terrain_b - ap.terrain_a) * np.clip((m - 0.35) * 2.0, 0, 1)[:, None]
    return col * (0.8 + 0.4 * value_noise(x * 6.0, z * 6.0, ap.seed + 12))[:, None]


def _sidewalk_albedo(p: np.ndarray, n: np.ndarray, ap: _RealParams) -> np.ndarray:
    x, z = p[:, 0], p[:, 2]
    top = n[:, 1] > 0.5
    ts = ap.tile
    fx, fz = np.mod(x / ts, 1.0), np.mod(z / ts, 1.0)
    grout = (fx < 0.05) | (fz < 0.05)
    jitter = 0.88 + 0.24 * hash01(np.floor(x / ts), np.floor(z / ts), ap.seed + 21)
    col = ap.paving[None, :] * jitter[:, None] * (0.9 + 0.2 * fbm(x * 3, z * 3, ap.seed + 22, 2))[:, None]
    col = np.where(grout[:, None], col * 0.72, col)
    curb = np.array([0.68, 0.68, 0.66]) * (0.9 + 0.2 * value_noise(x * 4 + z * 4, p[:, 1] * 20, ap.seed + 23))[:, None]
    return np.where(top[:, None], col, curb)


def _graffiti(s: np.ndarray, y: np.ndarray, seed: int, amount: float) -> tuple[np.ndarray, np.ndarray]:
    """Graffiti blobs below 2.4 m: (mask, colour)."""
    f = fbm(s * 0.7, y * 0.9, seed, 3)
    thr = 0.72 - 0.18 * amount
    mask = (f > thr) & (y < 2.4) & (y > 0.2)
    outline = mask & (f < thr + 0.025)
    col = _pick(_R_POSTER, hash01(np.floor(s / 3.0), np.floor(f * 6), seed + 1))
    stripes = np.sin(s * 9.0 + 8.0 * f) > 0.3
    col = np.where(stripes[:, None], col, col * 0.6 + 0.4 * _pick(_R_POSTER, hash01(np.floor(s / 2.0), 7, seed + 2)))
    col[outline] = 0.05
    return mask, col


def _posters(s: np.ndarray, y: np.ndarray, seed: int, amount: float) -> tuple[np.ndarray, np.ndarray]:
    """Rectangular posters / billboards at street level: (mask, colour)."""
    cell_w = 3.2
    c = np.floor(s / cell_w)
    u = s / cell_w - c
    h1, h2, h3 = hash01(c, 1, seed), hash01(c, 2, seed), hash01(c, 3, seed)
    present = h1 < amount
    u0 = 0.1 + 0.3 * h2
    uw = 0.3 + 0.3 * h3
    y0 = 0.7 + 0.6 * hash01(c, 4, seed)
    yh = 1.0 + 1.2 * hash01(c, 5, seed)
    mask = present & (u > u0) & (u < u0 + uw) & (y > y0) & (y < y0 + yh)
    ca = _pick(_R_POSTER, hash01(c, 6, seed))
    cb = _pick(_R_POSTER, hash01(c, 7, seed))
    pu, pv = (u - u0) / uw, (y - y0) / yh
    pattern = hash01(c, 8, seed)
    text = (np.mod(pv * 9, 1.0) < 0.45) & (value_noise(pu * 14, np.floor(pv * 9), seed + 3) > 0.45) & (pv < 0.6)
    title = (pv > 0.7) & (pv < 0.9) & (np.abs(pu - 0.5) < 0.4)
    circle = (pu - 0.5) ** 2 + (pv - 0.55) ** 2 * 0.5 < 0.06
    mark = np.where(pattern < 0.5, text | title, circle | (pv < 0.15))
    col = np.where(mark[:, None], cb, ca)
    border = (pu < 0.03) | (pu > 0.97) | (pv < 0.03) | (pv > 0.97)
    col[border] = 0.9
    return mask, col


def _building_albedo(scene: Scene, p: np.ndarray, n: np.ndarray, tone: np.ndarray, prim: np.ndarray,
                     ap: _RealParams) -> np.ndarray:
    s, _, ax = _surface_st(p, n)
    y = p[:, 1]
    base = _pick(_R_BUILDING, np.mod(tone + ap.palette_shift[0], 1.0))
    base = base * (0.92 + 0.16 * fbm(s * 1.5, y * 1.5, ap.seed + 31, 3))[:, None]
    bid = (tone * 100000).astype(np.int64)
    fh = 2.8 + 0.8 * hash01(bid, 1, ap.seed)
    ws = 2.0 + 1.6 * hash01(bid, 2, ap.seed)
    wr = 0.35 + 0.3 * hash01(bid, 3, ap.seed)
    hr = 0.40 + 0.25 * hash01(bid, 4, ap.seed)
    s0 = ws * hash01(bid, 5, ap.seed)
    top = scene.prims.params[prim, 4]
    vertical = ax != 1
    fs = np.mod((s - s0) / ws, 1.0)
    floor = np.floor(y / fh)
    ft = y / fh - floor
    win = vertical & (floor >= 1) & (y < top - 0.6) & (np.abs(fs - 0.5) < wr / 2) & (np.abs(ft - 0.55) < hr / 2)
    frame = vertical & (floor >= 1) & (y < top - 0.4) & (np.abs(fs - 0.5) < wr / 2 + 0.06) & (np.abs(ft - 0.55) < hr / 2 + 0.06)
    shop = vertical & (floor == 0) & (hash01(bid, 6, ap.seed) < 0.6) & (np.abs(fs - 0.5) < 0.42) & (y > 0.4) & (y < fh * 0.8)
    cell = hash01(np.floor((s - s0) / ws), floor + 1000 * bid, ap.seed + 33)
    glass = np.array([0.10, 0.12, 0.15]) + (0.25 * (1 - ft))[:, None] * np.array([0.55, 0.65, 0.8])
    glass = np.where((cell > 0.9)[:, None], np.array([0.85, 0.70, 0.45]), glass)  # lit / curtains
    col = base.copy()
    col[frame] = np.array([0.85, 0.84, 0.80])
    col[win] = glass[win]
    col[shop] = glass[shop] * 0.8 + 0.06
    mp, pc = _posters(s, y, ap.seed + 34 + 7 * bid, ap.posters)
    mp &= vertical & (floor == 0) & ~shop
    col[mp] = pc[mp]
    if ap.graffiti > 0.05:
        mg, gc = _graffiti(s, y, ap.seed + 35, ap.graffiti)
        mg &= vertical & ~shop & (hash01(bid, 9, ap.seed) < ap.graffiti + 0.2)
        col[mg] = gc[mg]
    roof = n[:, 1] > 0.5
    col[roof] = np.array([0.30, 0.28, 0.27])
    return col


def _car_colour(tone: np.ndarray, ap: _RealParams) -> np.ndarray:
    return _pick(_R_CAR, np.mod(tone * 7.31 + ap.palette_shift[1], 1.0))


def _car_albedo(scene: Scene, p: np.ndarray, n: np.ndarray, tone: np.ndarray, prim: np.ndarray, ap: _RealParams):
    par = scene.prims.params[prim]
    col = _car_colour(tone, ap)
    y = p[:, 1]
    xc = 0.5 * (par[:, 0] + par[:, 3])
    half = 0.5 * (par[:, 3] - par[:, 0])
    top = par[:, 4]
    col = np.where((y < 0.45)[:, None], col * 0.35 + 0.05, col)  # sills / bumpers
    face_z = np.abs(n[:, 2]) > 0.5
    dxl = np.abs(p[:, 0] - xc)
    lamp = face_z & (dxl > half - 0.35) & (dxl < half - 0.05) & (y > top - 0.26) & (y < top - 0.08)
    col[lamp & (n[:, 2] < 0)] = np.array([0.75, 0.05, 0.04])
    col[lamp & (n[:, 2] > 0)] = np.array([0.95, 0.95, 0.85])
    plate = face_z & (dxl < 0.26) & (y > 0.40) & (y < 0.52)
    col[plate] = np.array([0.92, 0.92, 0.88])
    return col


def _glass_albedo(scene: Scene, p: np.ndarray, n: np.ndarray, tone: np.ndarray, prim: np.ndarray, ap: _RealParams):
    par = scene.prims.params[prim]
    paint = _car_colour(tone, ap)
    col = np.tile(np.array([0.07, 0.08, 0.10]), (p.shape[0], 1))
    side = np.abs(n[:, 0]) > 0.5
    pillar = side & ((p[:, 2] - par[:, 2] < 0.12) | (par[:, 5] - p[:, 2] < 0.12) | (np.abs(p[:, 2] - 0.5 * (par[:, 2] + par[:, 5])) < 0.06))
    pillar |= side & (p[:, 1] > par[:, 4] - 0.07)
    roof = n[:, 1] > 0.5
    col[pillar | roof] = paint[pillar | roof]
    return col


def _foliage_albedo(p: np.ndarray, tone: np.ndarray, ap: _RealParams, hedge: bool) -> np.ndarray:
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    greens = np.array([(0.20, 0.38, 0.12), (0.28, 0.45, 0.15), (0.16, 0.30, 0.12), (0.35, 0.45, 0.18),
                       (0.42, 0.40, 0.16)])
    base = _pick(greens, tone) + ap.foliage_shift
    if hedge:
        base = base * 0.85
    clump = fbm((x + 0.6 * z) * 1.6, y * 1.6, ap.seed + 41, 3)
    leaf = value_noise((z - 0.6 * x) * 7.0, y * 7.0, ap.seed + 42)
    return base * (0.55 + 0.7 * clump + 0.25 * (leaf - 0.5))[:, None]


def _sky(dirs: np.ndarray, ap: _RealParams) -> np.ndarray:
    d = dirs / norm3(dirs)[:, None]
    e = np.clip(d[:, 1], -0.2, 1)
    a = np.clip(e / 0.45, 0, 1) ** 0.7
    col = (1 - a)[:, None] * ap.sky_hor + a[:, None] * ap.sky_zen
    if ap.clouds > 0:
        up = np.maximum(e, 0.02)
        cu, cv = d[:, 0] / up, d[:, 2] / up
        c = fbm(cu * 1.3, cv * 1.3, ap.seed + 51, 4)
        cover = np.clip((c - (0.75 - 0.4 * ap.clouds)) * 4, 0, 1) * np.clip(e * 8, 0, 1)
        col = col * (1 - cover[:, None]) + cover[:, None] * np.array([0.95, 0.95, 0.96]) * (0.8 + 0.2 * c[:, None])
    glow = np.maximum(d @ ap.sun_dir, 0) ** 64 * ap.sun_int
    return col + glow[:, None] * np.array([1.0, 0.95, 0.8])


def _shade_real_linear(scene: Scene, gb: GBuffer, ap: _RealParams, shadows: bool = True) -> np.ndarray:
    """Albedo · lighting + sky + haze: float (H, W, 3), before the camera model."""
    h, w = gb.shape
    dirs = gb.dirs.reshape(-1, 3)
    img = np.empty((h * w, 3))
    sky = gb.ids.reshape(-1) < 0
    img[sky] = _sky(dirs[sky], ap)
    p, n, mat, tone, prim = gb.points, gb.normals, gb.material, gb.tone, gb.prim
    col = np.empty((p.shape[0], 3))
    simple = {L.WALL: (0.66, 0.62, 0.56), L.GUARDRAIL: (0.70, 0.72, 0.74), L.WHEEL: (0.05, 0.05, 0.055)}
    for m, rgb in simple.items():
        sel = mat == m
        col[sel] = np.array(rgb) * (0.85 + 0.3 * fbm(p[sel, 0] + p[sel, 2], p[sel, 1] * 3, ap.seed + 61, 2))[:, None]
    groups = {
        L.ROAD: lambda sel: _road_albedo(scene, p[sel], ap),
        L.TERRAIN: lambda sel: _terrain_albedo(p[sel], ap),
        L.SIDEWALK: lambda sel: _sidewalk_albedo(p[sel], n[sel], ap),
        L.BUILDING: lambda sel: _building_albedo(scene, p[sel], n[sel], tone[sel], prim[sel], ap),
        L.CAR_BODY: lambda sel: _car_albedo(scene, p[sel], n[sel], tone[sel], prim[sel], ap),
        L.CAR_GLASS: lambda sel: _glass_albedo(scene, p[sel], n[sel], tone[sel], prim[sel], ap),
        L.CROWN: lambda sel: _foliage_albedo(p[sel], tone[sel], ap, False),
        L.HEDGE: lambda sel: _foliage_albedo(p[sel], tone[sel], ap, True),
    }
    for m, fn in groups.items():
        sel = mat == m
        if sel.any():
            col[sel] = fn(sel)
    sel = mat == L.TRUCK
    col[sel] = _pick(_R_TRUCK, tone[sel]) * (0.9 + 0.1 * fbm(p[sel, 2] * 2, p[sel, 1] * 2, ap.seed + 62, 2))[:, None]
    sel = mat == L.POLE
    metal = np.where((tone[sel] < 0.7)[:, None], np.array([0.55, 0.56, 0.58]), np.array([0.20, 0.30, 0.22]))
    col[sel] = metal * (0.9 + 0.2 * value_noise(p[sel, 1] * 2, tone[sel] * 50, ap.seed + 63))[:, None]
    sel = mat == L.SIGN
    face = n[sel, 2] < -0.5
    sc = _pick(_R_SIGN, tone[sel])
    col[sel] = np.where(face[:, None], sc, np.array([0.5, 0.5, 0.52]))
    sel = mat == L.TRUNK
    ang = np.arctan2(p[sel, 2], p[sel, 0])
    col[sel] = np.array([0.33, 0.25, 0.18]) * (0.7 + 0.6 * value_noise(ang * 6, p[sel, 1] * 1.5, ap.seed + 64))[:, None]

    # lighting
    ndl = n @ ap.sun_dir
    lit = ndl > 0
    if shadows and ap.sun_int > 0.2 and lit.any():
        idx = np.flatnonzero(lit)
        occ = shadow_mask(scene, p[idx], prim[idx], ap.sun_dir, offset=2e-3 * n[idx])
        lit[idx[occ]] = False
    direct = np.where(lit, np.maximum(ndl, 0), 0.0)
    light = direct[:, None] * ap.sun_col * ap.sun_int + ap.amb * ap.amb_col * (0.55 + 0.45 * n[:, 1])[:, None]
    out = col * light
    # specular (cars, glass)
    shiny = np.isin(mat, (L.CAR_BODY, L.CAR_GLASS, L.TRUCK))
    if shiny.any():
        v = -dirs[gb.flat[shiny]]
        v /= norm3(v)[:, None]
        hv = v + ap.sun_dir
        hv /= norm3(hv)[:, None]
        nh = np.maximum(np.sum(n[shiny] * hv, axis=1), 0)
        ks = np.where(mat[shiny] == L.CAR_GLASS, 0.6, 0.35)
        spec = ks * nh ** 60 * lit[shiny] * ap.sun_int
        fres = (1 - np.abs(np.sum(n[shiny] * v, axis=1))) ** 3 * np.where(mat[shiny] == L.CAR_GLASS, 0.5, 0.2)
        out[shiny] += spec[:, None] + fres[:, None] * ap.sky_hor
    # aerial perspective
    dist = gb.depth.reshape(-1)[gb.flat]
    fog = 1 - np.exp(-dist / ap.haze_dist)
    out = out * (1 - fog[:, None]) + fog[:, None] * ap.haze_col
    img[gb.flat] = out
    return img.reshape(h, w, 3)


def _camera_model(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """White balance, exposure, blur, vignetting, noise, 8-bit quantisation, JPEG round trip."""
    h, w = img.shape[:2]
    gain = rng.uniform(0.36, 0.5) / max(float(luminance(img).mean()), 0.05)  # auto exposure
    img = img * rng.uniform(0.93, 1.07, 3) * float(np.clip(gain, 0.7, 2.5))
    img = np.clip(img, 0, None) ** rng.uniform(0.85, 1.05)
    img = gaussian_blur(img, rng.uniform(0.35, 1.0))
    yy, xx = np.mgrid[0:h, 0:w]
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (w / 2)) ** 2
    img = img * (1 - rng.uniform(0.15, 0.4) * r2)[..., None]
    a = rng.uniform(0.0004, 0.003)
    b = (rng.uniform(1.0, 4.0) / 255) ** 2
    sigma = np.sqrt(a * np.clip(img, 0, 1) + b)
    img = img + sigma * rng.standard_normal(img.shape, dtype=np.float32)
    out = _to_uint8(img)
    return jpeg_roundtrip(out, int(rng.integers(40, 93)))


def shade_real(scene: Scene, gb: GBuffer, rng: np.random.Generator) -> np.ndarray:
    """The ``real`` look: uint8 (H, W, 3). All randomness comes from ``rng``."""
    ap = _real_params(rng)
    img = _shade_real_linear(scene, gb, ap)
    return _camera_model(img, rng)


# ================================================================================= painting
def _hue_rotate(img: np.ndarray, angle: float, saturation: float) -> np.ndarray:
    """Rotate hue by ``angle`` radians and scale chroma by ``saturation`` (YIQ space)."""
    to_yiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[1, 0, 0], [0, c * saturation, -s * saturation], [0, s * saturation, c * saturation]])
    m = np.linalg.inv(to_yiq) @ rot @ to_yiq
    return lin3(img, m)


def _strokes(img: np.ndarray, rng: np.random.Generator, length: int) -> np.ndarray:
    """Smear along a smoothly varying stroke direction (4 quantised orientations)."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    seed = int(rng.integers(0, 2**31))
    theta = value_noise(xx / 40.0, yy / 40.0, seed) * 2 * np.pi + rng.uniform(0, np.pi)
    orient = np.mod(np.round(theta / (np.pi / 4)), 4).astype(np.int64)
    out = np.empty_like(img)
    pad = length
    p = np.pad(img, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    for o, (ddy, ddx) in enumerate(((0, 1), (1, 1), (1, 0), (1, -1))):
        acc = np.zeros_like(img)
        for k in range(-length, length + 1):
            acc += p[pad + k * ddy:pad + k * ddy + h, pad + k * ddx:pad + k * ddx + w]
        acc /= 2 * length + 1
        out[orient == o] = acc[orient == o]
    return out


def _quantise(img: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Palette quantisation with a few k-means iterations on sampled pixels."""
    flat = img.reshape(-1, 3)
    sample = flat[rng.integers(0, flat.shape[0], 3000)]
    centres = sample[rng.choice(sample.shape[0], k, replace=False)]
    for _ in range(8):
        assign = ((sample[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
        for j in range(k):
            sel = assign == j
            if sel.any():
                centres[j] = sample[sel].mean(0)
    assign = np.empty(flat.shape[0], dtype=np.int64)
    best = np.full(flat.shape[0], np.inf)
    for j in range(k):
        d = ((flat - centres[j]) ** 2).sum(1)
        better = d < best
        best[better] = d[better]
        assign[better] = j
    return centres[assign].reshape(img.shape)


def _canvas(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    period = rng.uniform(2.5, 4.5)
    weave = np.sin(2 * np.pi * xx / period) * np.sin(2 * np.pi * yy / period)
    seed = int(rng.integers(0, 2**31))
    grain = fbm(xx / 3.0, yy / 3.0, seed, 3) - 0.5
    return 1 + rng.uniform(0.03, 0.08) * weave + rng.uniform(0.05, 0.15) * grain


def shade_painting(scene: Scene, gb: GBuffer, rng: np.random.Generator, style: str | None = None) -> np.ndarray:
    """The ``painting`` look: uint8 (H, W, 3); ``style`` one of :data:`PAINTING_STYLES` (random if None)."""
    ap = _real_params(rng, painting=True)
    img = _shade_real_linear(scene, gb, ap, shadows=rng.random() < 0.5)
    h, w = img.shape[:2]
    if style is None:
        style = str(rng.choice(PAINTING_STYLES))
    if style not in PAINTING_STYLES:
        raise ValueError(f"unknown painting style {style!r}; choose from {PAINTING_STYLES}")
    # strong colour shift
    img = _hue_rotate(img, rng.uniform(-np.pi, np.pi) * rng.uniform(0.3, 1.0), rng.uniform(1.1, 2.2))
    img = lin3(img, np.eye(3) + rng.normal(0, 0.12, (3, 3)))
    img = np.clip(img * rng.uniform(0.9, 1.3) + rng.normal(0, 0.05, 3), 0, 1.2)
    scale = max(1, round(min(h, w) / 96))
    if style == "oil":
        img = kuwahara(img, 2 * scale + int(rng.integers(0, 2)))
        img = _strokes(img, rng, 2 * scale + 1)
    elif style == "impressionist":
        yy, xx = np.mgrid[0:h, 0:w]
        seed = int(rng.integers(0, 2**31))
        jit = 2.5 * scale
        jy = np.clip(yy + np.round((value_noise(xx / 2.0, yy / 2.0, seed) - 0.5) * 2 * jit), 0, h - 1).astype(np.int64)
        jx = np.clip(xx + np.round((value_noise(xx / 2.0, yy / 2.0, seed + 1) - 0.5) * 2 * jit), 0, w - 1).astype(np.int64)
        img = img[jy, jx]
        img = _strokes(img, rng, 2 * scale)
        img = img * (1 + rng.uniform(0.1, 0.25) * (value_noise(xx / 1.5, yy / 1.5, seed + 2)[..., None] - 0.5))
    elif style == "poster":
        img = kuwahara(img, scale + 1)
        img = _quantise(np.clip(img, 0, 1.2), int(rng.integers(5, 11)), rng)
        edge = sobel_magnitude(luminance(gaussian_blur(img, 0.7)))
        img = img * (1 - np.clip(edge * rng.uniform(3, 6), 0, 0.85))[..., None]
    else:  # watercolour
        img = gaussian_blur(img, 1.2 * scale)
        img = _quantise(np.clip(img, 0, 1.2), int(rng.integers(8, 16)), rng)
        img = gaussian_blur(img, 0.8 * scale)
        edge = sobel_magnitude(luminance(img))
        img = img * (1 - np.clip(edge * 2.5, 0, 0.5))[..., None]
        img = 1 - (1 - img) * rng.uniform(0.6, 0.85)  # pale washes
    img = img * _canvas(h, w, rng)[..., None]
    return _to_uint8(img)
