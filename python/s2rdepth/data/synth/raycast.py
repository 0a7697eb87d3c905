"""Vectorised ray casting against the scene primitives (NumPy, float64, metres).

Three casts share the same intersection kernels (:func:`intersect`):

* :func:`cast_camera`: one ray per pixel centre of camera 2. Ray directions are *not* normalised:
  ``d = R_wc · ((u - cx) / fx, (v - cy) / fy, 1)``, so the ray parameter ``t`` of a hit is exactly
  the camera-frame depth ``z`` in metres.
* :func:`cast_rays_grid`: rays from one origin on a regular (elevation, azimuth) grid — the
  simulated Velodyne — with unit directions, so ``t`` is the range in metres.
* :func:`shadow_mask`: rays from surface points towards a directional light (any hit = shadow).

Each cast first bounds every primitive conservatively in the ray parametrisation (a pixel
rectangle from the projected, near-clipped bounding box; an azimuth/ring block for the scanner; an
interval of light-space coordinates for shadow rays) and intersects only the rays inside that
bound, which keeps the cost near-linear in the number of pixels.

Primitive ids in the returned id maps: ``0 .. N-1`` = ``scene.prims``, :func:`ground_id` ``= N``
the ground plane, ``-1`` = no hit (sky).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .noise import lin3
from .scene import BOX, CYLINDER, ELLIPSOID, Scene

__all__ = ["intersect", "cast_camera", "cast_camera_at", "cast_rays_grid", "grid_directions", "shadow_mask", "surface_normals", "ground_id",
           "camera_ray_directions"]

_TINY = 1e-300
_EDGES = np.array([[0, 1], [2, 3], [4, 5], [6, 7], [0, 2], [1, 3], [4, 6], [5, 7], [0, 4], [1, 5], [2, 6], [3, 7]])


def ground_id(scene: Scene) -> int:
    """The id of the ground plane in id maps (the number of primitives)."""
    return len(scene.prims)


def _safe(d: np.ndarray) -> np.ndarray:
    """Replace exact zeros of a direction component by a tiny number (avoids 0 * inf)."""
    return np.where(d == 0, _TINY, d)


def intersect(kind: int, p: np.ndarray, ox, oy, oz, dx, dy, dz, t_min: float = 1e-9, inv=None) -> np.ndarray:
    """Ray parameter of the first hit of rays ``o + t d`` (``t > t_min``) with one primitive; ``inf`` = miss.

    ``o*`` and ``d*`` broadcast together (scalars or arrays); ``p`` is the primitive's 6 parameters
    (:class:`~s2rdepth.data.synth.scene.Primitives`). Rays starting inside a box/ellipsoid report
    the exit point. ``inv`` optionally gives the precomputed ``1 / d`` components (boxes).
    """
    if kind == BOX:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ix, iy, iz = inv if inv is not None else (1.0 / _safe(dx), 1.0 / _safe(dy), 1.0 / _safe(dz))
            ax, bx = (p[0] - ox) * ix, (p[3] - ox) * ix
            ay, by = (p[1] - oy) * iy, (p[4] - oy) * iy
            az, bz = (p[2] - oz) * iz, (p[5] - oz) * iz
            t_near = np.maximum(np.maximum(np.minimum(ax, bx), np.minimum(ay, by)), np.minimum(az, bz))
            t_far = np.minimum(np.minimum(np.maximum(ax, bx), np.maximum(ay, by)), np.maximum(az, bz))
        t = np.where(t_near > t_min, t_near, t_far)
        return np.where((t_near <= t_far) & (t > t_min), t, np.inf)
    if kind == CYLINDER:
        cx, cz, r, y0, y1 = p[0], p[1], p[2], p[3], p[4]
        qx, qz = ox - cx, oz - cz
        a = dx * dx + dz * dz
        hb = qx * dx + qz * dz
        c = qx * qx + qz * qz - r * r
        disc = hb * hb - a * c
        with np.errstate(divide="ignore", invalid="ignore"):
            sq = np.sqrt(np.maximum(disc, 0.0))
            t_side = (-hb - sq) / a
            t_side = np.where(t_side > t_min, t_side, (-hb + sq) / a)
            y_side = oy + t_side * dy
            ok = (disc >= 0) & (a > 0) & (t_side > t_min) & (y_side >= y0) & (y_side <= y1)
            t = np.where(ok, t_side, np.inf)
            for yc in (y0, y1):
                tc = (yc - oy) / _safe(dy)
                xc, zc = qx + tc * dx, qz + tc * dz
                okc = (tc > t_min) & (xc * xc + zc * zc <= r * r)
                t = np.where(okc & (tc < t), tc, t)
        return t
    if kind == ELLIPSOID:
        qx, qy, qz = (ox - p[0]) / p[3], (oy - p[1]) / p[4], (oz - p[2]) / p[5]
        ex, ey, ez = dx / p[3], dy / p[4], dz / p[5]
        a = ex * ex + ey * ey + ez * ez
        hb = qx * ex + qy * ey + qz * ez
        c = qx * qx + qy * qy + qz * qz - 1.0
        disc = hb * hb - a * c
        with np.errstate(invalid="ignore"):
            sq = np.sqrt(np.maximum(disc, 0.0))
        t = (-hb - sq) / a
        t = np.where(t > t_min, t, (-hb + sq) / a)
        return np.where((disc >= 0) & (t > t_min), t, np.inf)
    raise ValueError(f"unknown primitive kind {kind}")


def _ground_t(scene: Scene, ox, oy, oz, dx, dy, dz) -> np.ndarray:
    """Hit parameter with the ground square ``y = 0``, ``|x|, |z| <= ground_extent``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -oy / _safe(dy)
    x, z = ox + t * dx, oz + t * dz
    e = scene.ground_extent
    ok = (dy < 0) & (t > 0) & (np.abs(x) <= e) & (np.abs(z) <= e)
    return np.where(ok, t, np.inf)


def camera_ray_directions(scene: Scene, K: np.ndarray, height: int, width: int):
    """World-frame directions ``(dx, dy, dz)``, each float64 (H, W), of the pixel-centre rays (camera z = 1)."""
    xn = (np.arange(width, dtype=np.float64) - K[0, 2]) / K[0, 0]
    yn = (np.arange(height, dtype=np.float64) - K[1, 2]) / K[1, 1]
    if K[0, 1] != 0:  # skew (never in KITTI)
        xn = xn[None, :] - K[0, 1] * yn[:, None] / K[0, 0]
    else:
        xn = np.broadcast_to(xn[None, :], (height, width))
    yn = np.broadcast_to(yn[:, None], (height, width))
    r = scene.cam_rotation
    return tuple(r[i, 0] * xn + r[i, 1] * yn + r[i, 2] for i in range(3))


def _corners(aabb: np.ndarray) -> np.ndarray:
    """(N, 8, 3) corners of (N, 6) boxes; corner bit 2/1/0 selects hi x / y / z."""
    idx = np.array([[(k >> 2) & 1, (k >> 1) & 1, k & 1] for k in range(8)])
    lo, hi = aabb[:, None, :3], aabb[:, None, 3:]
    return np.where(idx[None] == 1, hi, lo)


def _screen_rects(scene: Scene, K: np.ndarray, height: int, width: int) -> np.ndarray:
    """int64 (N, 4) ``r0, r1, c0, c1`` pixel rectangles (end-exclusive) that contain every pixel
    whose ray can hit the primitive's bounding box (near-plane clipped projection, +1 px margin)."""
    n = len(scene.prims)
    if n == 0:
        return np.zeros((0, 4), dtype=np.int64)
    corners = _corners(scene.prims.aabb)  # (N, 8, 3) world
    cam = lin3(corners - scene.cam_position, scene.cam_rotation.T)  # camera coordinates R^T (p - c)
    near = 1e-3
    za, zb = cam[:, _EDGES[:, 0], 2], cam[:, _EDGES[:, 1], 2]
    cross = (za - near) * (zb - near) < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(cross, (near - za) / (zb - za), 0.0)
    pe = cam[:, _EDGES[:, 0]] + s[..., None] * (cam[:, _EDGES[:, 1]] - cam[:, _EDGES[:, 0]])
    pe[..., 2] = near
    pts = np.concatenate([cam, pe], axis=1)  # (N, 20, 3)
    valid = np.concatenate([cam[..., 2] >= near, cross], axis=1)
    z = np.where(valid, pts[..., 2], 1.0)
    u = K[0, 0] * pts[..., 0] / z + K[0, 1] * pts[..., 1] / z + K[0, 2]
    v = K[1, 1] * pts[..., 1] / z + K[1, 2]
    umin = np.where(valid, u, np.inf).min(1)
    umax = np.where(valid, u, -np.inf).max(1)
    vmin = np.where(valid, v, np.inf).min(1)
    vmax = np.where(valid, v, -np.inf).max(1)
    any_valid = valid.any(1)
    big = 4.0 * (height + width)
    c0 = np.clip(np.floor(np.clip(umin, -big, big)) - 1, 0, width)
    c1 = np.clip(np.ceil(np.clip(umax, -big, big)) + 2, 0, width)
    r0 = np.clip(np.floor(np.clip(vmin, -big, big)) - 1, 0, height)
    r1 = np.clip(np.ceil(np.clip(vmax, -big, big)) + 2, 0, height)
    rects = np.stack([r0, r1, c0, c1], axis=1).astype(np.int64)
    rects[~any_valid] = 0
    return rects


def cast_camera(scene: Scene, K: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Primary rays of camera 2.

    Returns:
        ``(depth, ids)``: float64 (H, W) camera-z depth in metres (``inf`` = no hit / sky) and
        int32 (H, W) primitive ids (``-1`` sky, ``N`` ground).
    """
    dx, dy, dz = camera_ray_directions(scene, K, height, width)
    ox, oy, oz = scene.cam_position
    t_buf = _ground_t(scene, ox, oy, oz, dx, dy, dz)
    ids = np.where(np.isfinite(t_buf), ground_id(scene), -1).astype(np.int32)
    rects = _screen_rects(scene, K, height, width)
    prims = scene.prims
    with np.errstate(divide="ignore"):
        inv = (1.0 / _safe(dx), 1.0 / _safe(dy), 1.0 / _safe(dz))
    for i in range(len(prims)):
        r0, r1, c0, c1 = rects[i]
        if r0 >= r1 or c0 >= c1:
            continue
        sl = (slice(r0, r1), slice(c0, c1))
        kind = int(prims.kind[i])
        t = intersect(kind, prims.params[i], ox, oy, oz, dx[sl], dy[sl], dz[sl],
                      inv=(inv[0][sl], inv[1][sl], inv[2][sl]) if kind == BOX else None)
        tb = t_buf[sl]
        m = t < tb
        if m.any():
            tb[m] = t[m]
            ids[sl][m] = i
    return t_buf, ids


def cast_camera_at(scene: Scene, K: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera rays through arbitrary (sub-pixel) image coordinates ``(u, v)`` (1-D arrays, pixels,
    integer = pixel centre); no culling (for checks on a few thousand rays).

    Returns:
        ``(depth, ids)`` like :func:`cast_camera`, each of shape ``u.shape``.
    """
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    yn = (v - K[1, 2]) / K[1, 1]
    xn = (u - K[0, 2] - K[0, 1] * yn) / K[0, 0]
    r = scene.cam_rotation
    dx, dy, dz = (r[i, 0] * xn + r[i, 1] * yn + r[i, 2] for i in range(3))
    ox, oy, oz = scene.cam_position
    t_buf = _ground_t(scene, ox, oy, oz, dx, dy, dz)
    ids = np.where(np.isfinite(t_buf), ground_id(scene), -1).astype(np.int32)
    prims = scene.prims
    for i in range(len(prims)):
        t = intersect(int(prims.kind[i]), prims.params[i], ox, oy, oz, dx, dy, dz)
        m = t < t_buf
        t_buf[m] = t[m]
        ids[m] = i
    return t_buf, ids


def _index_slices(lo: float, hi: float, step: float, n: int, start: float) -> list[slice]:
    """Slices of grid indices ``j`` (centres ``start + (j + 0.5) * step``, periodic with ``n``)
    whose centre lies in ``[lo, hi]`` (+1 index margin)."""
    j0 = int(np.ceil((lo - start) / step - 0.5)) - 1
    j1 = int(np.floor((hi - start) / step - 0.5)) + 1
    if j1 - j0 + 1 >= n:
        return [slice(0, n)]
    j0m, j1m = j0 % n, j1 % n
    if j0m <= j1m:
        return [slice(j0m, j1m + 1)]
    return [slice(j0m, n), slice(0, j1m + 1)]


@lru_cache(maxsize=8)
def grid_directions(elevation: tuple[float, ...], n_azimuth: int) -> np.ndarray:
    """Unit sensor-frame directions float64 (3, K, n_azimuth) of the (elevation, azimuth) grid of
    :func:`cast_rays_grid` (cached, read-only)."""
    el = np.asarray(elevation, dtype=np.float64)
    az = -np.pi + (np.arange(n_azimuth) + 0.5) * (2 * np.pi / n_azimuth)
    ce = np.cos(el)[:, None]
    out = np.stack([ce * np.cos(az)[None], ce * np.sin(az)[None],
                    np.broadcast_to(np.sin(el)[:, None], (el.size, n_azimuth))])
    out.setflags(write=False)
    return out


def cast_rays_grid(scene: Scene, origin: np.ndarray, to_world: np.ndarray, elevation: np.ndarray,
                   n_azimuth: int, max_range: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Rays from ``origin`` (world, metres) on an (elevation, azimuth) grid of a sensor frame.

    The sensor frame has x forward, y left, z up; ray ``(k, j)`` has elevation ``elevation[k]``
    (radians, any order) and azimuth ``-pi + (j + 0.5) * 2 pi / n_azimuth`` (counter-clockwise from
    x); its unit direction ``(cos e cos a, cos e sin a, sin e)`` maps to the world by ``to_world``
    (3x3). ``t`` is the range in metres.

    Returns:
        ``(range, ids)``: float64 (K, n_azimuth) with ``inf`` for no hit within ``max_range``, and
        int32 ids (``-1`` none, ``N`` ground).
    """
    elevation = np.asarray(elevation, dtype=np.float64)
    step = 2 * np.pi / n_azimuth
    dv = grid_directions(tuple(elevation.tolist()), int(n_azimuth))
    dx, dy, dz = (to_world[i, 0] * dv[0] + to_world[i, 1] * dv[1] + to_world[i, 2] * dv[2] for i in range(3))
    ox, oy, oz = (float(v) for v in origin)
    t_buf = _ground_t(scene, ox, oy, oz, dx, dy, dz)
    ids = np.where(np.isfinite(t_buf), ground_id(scene), -1).astype(np.int32)

    prims = scene.prims
    n = len(prims)
    if n:
        with np.errstate(divide="ignore"):
            inv_d = (1.0 / _safe(dx), 1.0 / _safe(dy), 1.0 / _safe(dz))
        aabb = prims.aabb
        corners = _corners(aabb)
        sens = lin3(corners - origin, np.linalg.inv(to_world))  # sensor-frame corners
        a = np.arctan2(sens[..., 1], sens[..., 0])
        a_lo, a_hi = a.min(1), a.max(1)
        a2 = np.mod(a, 2 * np.pi)
        a2_lo, a2_hi = a2.min(1), a2.max(1)
        use2 = (a_hi - a_lo) > np.pi
        full_az = use2 & ((a2_hi - a2_lo) > np.pi)
        a_lo = np.where(use2, a2_lo, a_lo)
        a_hi = np.where(use2, a2_hi, a_hi)
        # elevation bounds in the levelled world frame, widened by the sensor tilt
        up = to_world[:, 2] / np.linalg.norm(to_world[:, 2])
        tilt = float(np.arccos(np.clip(up[1], -1.0, 1.0))) + 1e-3
        ddx = np.maximum.reduce([aabb[:, 0] - ox, np.zeros(n), ox - aabb[:, 3]])
        ddz = np.maximum.reduce([aabb[:, 2] - oz, np.zeros(n), oz - aabb[:, 5]])
        rho_min = np.hypot(ddx, ddz)
        rho_max = np.hypot(np.maximum(np.abs(aabb[:, 0] - ox), np.abs(aabb[:, 3] - ox)),
                           np.maximum(np.abs(aabb[:, 2] - oz), np.abs(aabb[:, 5] - oz)))
        y_lo, y_hi = aabb[:, 1] - oy, aabb[:, 4] - oy
        e_hi = np.where(y_hi > 0, np.arctan2(y_hi, rho_min), np.arctan2(y_hi, rho_max)) + tilt
        e_lo = np.where(y_lo < 0, np.arctan2(y_lo, rho_min), np.arctan2(y_lo, rho_max)) - tilt
        near = rho_min < max_range
        for i in range(n):
            if not near[i]:
                continue
            rings = np.flatnonzero((elevation >= e_lo[i]) & (elevation <= e_hi[i]))
            if rings.size == 0:
                continue
            rs = slice(int(rings[0]), int(rings[-1]) + 1)
            az_slices = [slice(0, n_azimuth)] if full_az[i] else _index_slices(a_lo[i], a_hi[i], step, n_azimuth, -np.pi)
            kind = int(prims.kind[i])
            for azs in az_slices:
                sl = (rs, azs)
                t = intersect(kind, prims.params[i], ox, oy, oz, dx[sl], dy[sl], dz[sl],
                              inv=(inv_d[0][sl], inv_d[1][sl], inv_d[2][sl]) if kind == BOX else None)
                tb = t_buf[sl]
                m = t < tb
                if m.any():
                    tb[m] = t[m]
                    ids[sl][m] = i
    far = t_buf > max_range
    t_buf[far] = np.inf
    ids[far] = -1
    return t_buf, ids


def shadow_mask(scene: Scene, points: np.ndarray, ids: np.ndarray, light_dir: np.ndarray,
                offset: np.ndarray | None = None) -> np.ndarray:
    """Which surface points are occluded towards a directional light.

    Args:
        points: float64 (M, 3) world points (metres).
        ids: int (M,) primitive id each point lies on (skipped as its own occluder: lit faces of
            convex primitives cannot shadow themselves).
        light_dir: (3,) unit world vector pointing *towards* the light.
        offset: optional (M, 3) start offsets (e.g. 2 mm along the normal) against self-hits.

    Returns:
        bool (M,): True where a primitive blocks the ray.
    """
    m = points.shape[0]
    shadow = np.zeros(m, dtype=bool)
    prims = scene.prims
    n = len(prims)
    if m == 0 or n == 0:
        return shadow
    ldir = np.asarray(light_dir, dtype=np.float64)
    ldir = ldir / np.linalg.norm(ldir)
    helper = np.array([0.0, 0.0, 1.0]) if abs(ldir[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(ldir, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(ldir, e1)
    start = points if offset is None else points + offset
    pa = start @ e1
    order = np.argsort(pa, kind="stable")
    # everything in the order of the light-space coordinate ``a``: a primitive's candidates are
    # then one contiguous slice (views, no gathers)
    st = start[order]
    pa_s = pa[order]
    pb_s = st @ e2
    ps_s = st @ ldir
    ids_s = np.asarray(ids)[order]
    ox, oy, oz = st[:, 0], st[:, 1], st[:, 2]
    shadow_s = np.zeros(m, dtype=bool)
    corners = _corners(prims.aabb)
    ca, cb, cs = corners @ e1, corners @ e2, corners @ ldir
    a_lo, a_hi = ca.min(1), ca.max(1)
    b_lo, b_hi = cb.min(1), cb.max(1)
    s_hi = cs.max(1)
    lo_idx = np.searchsorted(pa_s, a_lo, side="left")
    hi_idx = np.searchsorted(pa_s, a_hi, side="right")
    for i in range(n):
        lo, hi = int(lo_idx[i]), int(hi_idx[i])
        if hi <= lo:
            continue
        pb = pb_s[lo:hi]
        sel = (pb >= b_lo[i]) & (pb <= b_hi[i]) & (ps_s[lo:hi] < s_hi[i]) & (ids_s[lo:hi] != i) & ~shadow_s[lo:hi]
        cand = np.flatnonzero(sel)
        if cand.size == 0:
            continue
        cand += lo
        t = intersect(int(prims.kind[i]), prims.params[i], ox[cand], oy[cand], oz[cand], ldir[0], ldir[1], ldir[2])
        shadow_s[cand[np.isfinite(t)]] = True
    shadow[order] = shadow_s
    return shadow


def surface_normals(scene: Scene, points: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Unit outward normals (M, 3) at world ``points`` lying on primitives ``ids`` (ground: +y).

    Box faces are found as the face plane nearest to the point, cylinder side vs caps by the
    smaller distance, ellipsoids by the gradient of their implicit function.
    """
    m = points.shape[0]
    nrm = np.zeros((m, 3))
    nrm[:, 1] = 1.0
    prims = scene.prims
    if len(prims) == 0 or m == 0:
        return nrm
    own = (ids >= 0) & (ids < len(prims))
    kind = np.full(m, -1, dtype=np.int64)
    kind[own] = prims.kind[ids[own]]
    for k in (BOX, CYLINDER, ELLIPSOID):
        sel = np.flatnonzero(kind == k)
        if sel.size == 0:
            continue
        p = prims.params[ids[sel]]
        x = points[sel]
        if k == BOX:
            dlo = np.abs(x - p[:, :3])
            dhi = np.abs(x - p[:, 3:])
            near_hi = dhi < dlo
            dmin = np.minimum(dlo, dhi)
            axis = np.where(dmin[:, 0] <= dmin[:, 1], 0, 1)
            axis = np.where(dmin[:, 2] < np.minimum(dmin[:, 0], dmin[:, 1]), 2, axis)
            rows = np.arange(sel.size)
            out = np.zeros((sel.size, 3))
            out[rows, axis] = np.where(near_hi[rows, axis], 1.0, -1.0)
        elif k == CYLINDER:
            rx, rz = x[:, 0] - p[:, 0], x[:, 2] - p[:, 1]
            rad = np.hypot(rx, rz)
            d_side = np.abs(rad - p[:, 2])
            d_top, d_bot = np.abs(x[:, 1] - p[:, 4]), np.abs(x[:, 1] - p[:, 3])
            out = np.stack([rx, np.zeros_like(rx), rz], axis=1) / np.maximum(rad, 1e-12)[:, None]
            top = (d_top < d_side) & (d_top <= d_bot)
            bot = (d_bot < d_side) & (d_bot < d_top)
            out[top] = (0.0, 1.0, 0.0)
            out[bot] = (0.0, -1.0, 0.0)
        else:
            g = (x - p[:, :3]) / (p[:, 3:] ** 2)
            out = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
        nrm[sel] = out
    return nrm
