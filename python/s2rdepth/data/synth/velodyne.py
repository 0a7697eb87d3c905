"""Simulated Velodyne HDL-64E scans of a synthetic scene, in the KITTI ``.bin`` convention.

The scanner is rigidly attached to camera 2 through the calibration
(:class:`~s2rdepth.data.synth.camera.SynthCalibration`): its origin in camera-2 coordinates is
``b`` and its axes are ``A`` (``X_cam = A X_velo + b``), i.e. about 1.73 m above the road for a
1.65 m camera, 27 cm behind and 8 cm above camera 0, exactly as the written
``calib_velo_to_cam.txt`` / ``calib_cam_to_cam.txt`` say. Rays are cast from that origin
(:func:`~s2rdepth.data.synth.raycast.cast_rays_grid`):

* 64 lasers: 32 upper from +2.0° to -8.33° (1/3° apart) and 32 lower from -8.83° to -24.8°
  (about 0.52° apart) — elevation in the Velodyne frame;
* ``n_azimuth`` = 2000 steps per revolution by default (0.18°, as in KITTI's ~1,950 points per
  ring), full 360°;
* returns up to ``max_range`` = 120 m, nothing for rays that hit no surface (sky);
* point order as in KITTI files: ring by ring from the top laser, each ring counter-clockwise
  starting straight ahead (azimuth 0 = +x);
* coordinates are rounded to millimetres and reflectance to 0.01 like KITTI's files
  (``quantize=False`` keeps float64-exact positions in memory);
* reflectance in [0, 0.99] from the material (road 0.2-0.3, markings are not modelled, cars
  0.1-0.5, vegetation 0.3-0.45, ...) times an incidence-angle and range fall-off.

Points are ``(x, y, z, reflectance)`` in the Velodyne frame (x forward, y left, z up), metres.
"""
from __future__ import annotations

import numpy as np

from .camera import SynthCalibration
from .noise import hash01, lin3
from .raycast import cast_rays_grid, grid_directions, ground_id
from .scene import Scene

__all__ = ["HDL64_ELEVATIONS_DEG", "velodyne_pose", "simulate_velodyne"]

#: Elevation of the 64 lasers (degrees), top to bottom.
HDL64_ELEVATIONS_DEG: np.ndarray = np.concatenate([np.linspace(2.0, -8.0 - 1.0 / 3.0, 32),
                                                   np.linspace(-8.0 - 5.0 / 6.0, -24.8, 32)])

# base reflectance per material (index = material id) and its random spread
_REFL = np.array([0.22, 0.30, 0.28, 0.35, 0.33, 0.55, 0.40, 0.85, 0.30, 0.38, 0.36, 0.25, 0.10, 0.05, 0.35])
_REFL_SPREAD = np.array([0.08, 0.15, 0.10, 0.20, 0.10, 0.15, 0.15, 0.10, 0.10, 0.15, 0.15, 0.25, 0.05, 0.03, 0.20])


def velodyne_pose(scene: Scene, calib: SynthCalibration) -> tuple[np.ndarray, np.ndarray]:
    """``(origin, to_world)``: scanner origin in world metres and the 3x3 matrix mapping Velodyne-frame
    vectors to world vectors (``R_wc · A``)."""
    origin = scene.cam_rotation @ calib.velo_to_cam_offset + scene.cam_position
    return origin, scene.cam_rotation @ calib.velo_to_cam_linear


def simulate_velodyne(scene: Scene, calib: SynthCalibration, n_azimuth: int = 2000, max_range: float = 120.0,
                      quantize: bool = True, range_noise_m: float = 0.0,
                      rng: np.random.Generator | None = None) -> np.ndarray:
    """Scan ``scene`` with the simulated HDL-64E (see the module docstring).

    Args:
        scene: the scene; the rig pose is the scene's camera pose.
        calib: rig calibration (for the velo→cam transform; the image size does not matter).
        n_azimuth: azimuth steps per revolution.
        max_range: maximum range in metres.
        quantize: round coordinates to 1 mm and reflectance to 0.01 (as KITTI files are).
        range_noise_m: standard deviation of Gaussian range noise in metres (0 = exact); needs ``rng``.

    Returns:
        float32 (N, 4) ``x, y, z, reflectance`` (float64 when ``quantize=False``).
    """
    origin, to_world = velodyne_pose(scene, calib)
    elev = np.deg2rad(HDL64_ELEVATIONS_DEG)
    rng_t, ids = cast_rays_grid(scene, origin, to_world, elev, n_azimuth, max_range)
    # KITTI order: ring by ring (top laser first), each ring counter-clockwise from azimuth 0;
    # grid column j has azimuth -pi + (j + 0.5) * step, so start at column n_azimuth // 2
    order = np.roll(np.arange(n_azimuth), -(n_azimuth // 2))
    rng_t = rng_t[:, order]
    ids = ids[:, order]
    ring, col = np.nonzero(np.isfinite(rng_t))  # row-major: ring by ring, azimuth order
    r = rng_t[ring, col]
    if range_noise_m > 0:
        if rng is None:
            raise ValueError("range_noise_m > 0 needs an rng")
        r = r + rng.normal(0.0, range_noise_m, r.shape)
    dirs = grid_directions(tuple(elev.tolist()), int(n_azimuth))
    d = dirs[:, ring, order[col]].T
    pts = d * r[:, None]
    # reflectance: material, incidence angle (ground only: the road is the only surface seen at
    # grazing angles), range fall-off and a deterministic per-point jitter
    hit_ids = ids[ring, col].astype(np.int64)
    gid = ground_id(scene)
    on_ground = hit_ids == gid
    pw = origin + lin3(pts, to_world)
    mat = np.empty(hit_ids.shape, dtype=np.int64)
    mat[on_ground] = scene.ground_material(pw[on_ground, 0], pw[on_ground, 2])
    mat[~on_ground] = scene.prims.material[hit_ids[~on_ground]]
    dw_y = d[:, 0] * to_world[1, 0] + d[:, 1] * to_world[1, 1] + d[:, 2] * to_world[1, 2]
    cos_inc = np.where(on_ground, np.abs(dw_y), 0.75)
    jitter = hash01(ring * 7919 + col, hit_ids, 97) - 0.5
    tone = scene.prims.tone[np.where(on_ground, 0, hit_ids)] if len(scene.prims) else np.zeros(r.shape)
    tone = np.where(on_ground, 0.5, tone)
    base = _REFL[mat] + _REFL_SPREAD[mat] * (tone - 0.5)
    refl = base * (0.45 + 0.75 * cos_inc) * (1.0 - 0.25 * np.minimum(r / max_range, 1.0)) + 0.06 * jitter
    refl = np.clip(refl, 0.0, 0.99)
    out = np.concatenate([pts, refl[:, None]], axis=1)
    if quantize:
        out[:, :3] = np.round(out[:, :3], 3)
        out[:, 3] = np.round(out[:, 3], 2)
        return out.astype(np.float32)
    return out
