"""KITTI-like camera rig of the scene generator: intrinsics, Velodyne extrinsics, calibration files.

The rig is the KITTI raw rig of date ``2011_09_26`` (values copied from its calibration files):
rectified colour camera 2 with ``fx = fy = 721.5377`` px at 1242 x 375, a Velodyne HDL-64E mounted
about 8 cm above and 27 cm behind the reference camera 0, with the original ``R``/``T``
velo→cam transform, ``R_rect_00`` rectification and the camera-2 offset encoded in the 4th column
of ``P_rect_02``.

For an image of ``H x W`` pixels the pinhole intrinsics are scaled with the image size,
``sx = W / 1242`` and ``sy = H / 375``, keeping pixel centres consistent (the KITTI convention:
integer coordinates are pixel centres, column ``c`` has ``u = c``)::

    fx' = fx * sx,   cx' = (cx + 0.5) * sx - 0.5      (likewise fy', cy' with sy)

Every key of the original files is written (``calib_time``, ``corner_dist``, ``S_xx``, ``K_xx``,
``D_xx``, ``R_xx``, ``T_xx``, ``S_rect_xx``, ``R_rect_xx``, ``P_rect_xx`` for cameras 00..03; ``R``,
``T``, ``delta_f``, ``delta_c`` for velo→cam; ``R``, ``T`` for imu→velo), in the original
``%e`` number format. Image-size keys are scaled as above; rotations, translations and distortion
stay as in KITTI. The renderer uses the matrices *parsed back from the written text*, so the
calibration files describe the rendered data exactly (up to float64 arithmetic).

Frames (all metres):

* camera 2 (``cam``): x right, y down, z forward; depth = z.
* rectified camera 0 (``rect``): ``X_cam = X_rect + t_cam`` where ``P_rect_02 = K [I | t_cam]``.
* Velodyne (``velo``): x forward, y left, z up; ``X_rect = R_rect_00 (R X_velo + T)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

__all__ = [
    "KITTI_WIDTH", "KITTI_HEIGHT", "SynthCalibration", "kitti_calibration", "parse_calib_text",
    "format_calib_line",
]

KITTI_WIDTH = 1242
KITTI_HEIGHT = 375

# The KITTI raw 2011_09_26 calibration (calib_cam_to_cam.txt), per camera: S, K, D, R, T,
# S_rect, R_rect, P_rect.
_CAM_TO_CAM_TIME = "09-Jan-2012 13:57:47"
_CORNER_DIST = 9.950000e-02
_CAMS: dict[str, dict[str, list[float]]] = {
    "00": {
        "S": [1.392000e+03, 5.120000e+02],
        "K": [9.842439e+02, 0.0, 6.900000e+02, 0.0, 9.808141e+02, 2.331966e+02, 0.0, 0.0, 1.0],
        "D": [-3.728755e-01, 2.037299e-01, 2.219027e-03, 1.383707e-03, -7.233722e-02],
        "R": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        "T": [2.573699e-16, -1.059758e-16, 1.614870e-16],
        "R_rect": [9.999239e-01, 9.837760e-03, -7.445048e-03, -9.869795e-03, 9.999421e-01,
                   -4.278459e-03, 7.402527e-03, 4.351614e-03, 9.999631e-01],
        "P_rect": [7.215377e+02, 0.0, 6.095593e+02, 0.0, 0.0, 7.215377e+02, 1.728540e+02, 0.0,
                   0.0, 0.0, 1.0, 0.0],
    },
    "01": {
        "S": [1.392000e+03, 5.120000e+02],
        "K": [9.895267e+02, 0.0, 7.020000e+02, 0.0, 9.878386e+02, 2.455590e+02, 0.0, 0.0, 1.0],
        "D": [-3.644661e-01, 1.790019e-01, 1.148107e-03, -6.298563e-04, -5.314062e-02],
        "R": [9.993513e-01, 1.860866e-02, -3.083487e-02, -1.887662e-02, 9.997863e-01,
              -8.421873e-03, 3.067156e-02, 8.998467e-03, 9.994890e-01],
        "T": [-5.370000e-01, 4.822061e-03, -1.252488e-02],
        "R_rect": [9.996878e-01, -8.976826e-03, 2.331651e-02, 8.876121e-03, 9.999508e-01,
                   4.418952e-03, -2.335503e-02, -4.210612e-03, 9.997184e-01],
        "P_rect": [7.215377e+02, 0.0, 6.095593e+02, -3.875744e+02, 0.0, 7.215377e+02,
                   1.728540e+02, 0.0, 0.0, 0.0, 1.0, 0.0],
    },
    "02": {
        "S": [1.392000e+03, 5.120000e+02],
        "K": [9.597910e+02, 0.0, 6.960217e+02, 0.0, 9.569251e+02, 2.241806e+02, 0.0, 0.0, 1.0],
        "D": [-3.691481e-01, 1.968681e-01, 1.353473e-03, 5.677587e-04, -6.770705e-02],
        "R": [9.999758e-01, -5.267463e-03, -4.552439e-03, 5.251945e-03, 9.999804e-01,
              -3.413835e-03, 4.570332e-03, 3.389843e-03, 9.999838e-01],
        "T": [5.956621e-02, 2.900141e-04, 2.577209e-03],
        "R_rect": [9.998817e-01, 1.511453e-02, -2.841595e-03, -1.511724e-02, 9.998853e-01,
                   -9.338510e-04, 2.827154e-03, 9.766976e-04, 9.999955e-01],
        "P_rect": [7.215377e+02, 0.0, 6.095593e+02, 4.485728e+01, 0.0, 7.215377e+02,
                   1.728540e+02, 2.163791e-01, 0.0, 0.0, 1.0, 2.745884e-03],
    },
    "03": {
        "S": [1.392000e+03, 5.120000e+02],
        "K": [9.037596e+02, 0.0, 6.957519e+02, 0.0, 9.019653e+02, 2.242509e+02, 0.0, 0.0, 1.0],
        "D": [-3.639558e-01, 1.788651e-01, 6.029694e-04, -3.922424e-04, -5.382460e-02],
        "R": [9.995599e-01, 1.699522e-02, -2.431313e-02, -1.704422e-02, 9.998531e-01,
              -1.809756e-03, 2.427880e-02, 2.223358e-03, 9.997028e-01],
        "T": [-4.731050e-01, 5.551470e-03, -5.250882e-03],
        "R_rect": [9.998321e-01, -7.193136e-03, 1.685599e-02, 7.232804e-03, 9.999712e-01,
                   -2.293585e-03, -1.683901e-02, 2.415116e-03, 9.998553e-01],
        "P_rect": [7.215377e+02, 0.0, 6.095593e+02, -3.395242e+02, 0.0, 7.215377e+02,
                   1.728540e+02, 2.199936e+00, 0.0, 0.0, 1.0, 2.729905e-03],
    },
}
# calib_velo_to_cam.txt and calib_imu_to_velo.txt of 2011_09_26
_VELO_TIME = "15-Mar-2012 11:37:16"
_VELO_R = [7.533745e-03, -9.999714e-01, -6.166020e-04, 1.480249e-02, 7.280733e-04, -9.998902e-01,
           9.998621e-01, 7.523790e-03, 1.480755e-02]
_VELO_T = [-4.069766e-03, -7.631618e-02, -2.717806e-01]
_IMU_TIME = "25-May-2012 16:47:16"
_IMU_R = [9.999976e-01, 7.553071e-04, -2.035826e-03, -7.854027e-04, 9.998898e-01, -1.482298e-02,
          2.024406e-03, 1.482454e-02, 9.998881e-01]
_IMU_T = [-8.086759e-01, 3.195559e-01, -7.997231e-01]


def format_calib_line(key: str, values) -> str:
    """One calibration line in the KITTI format: ``key: v1 v2 ...`` with ``%e`` numbers."""
    return f"{key}: " + " ".join(f"{float(v):e}" for v in np.asarray(values, dtype=np.float64).ravel())


def parse_calib_text(text: str) -> dict[str, np.ndarray]:
    """Parse calibration text (``key: numbers`` lines) into ``{key: float64 1-D array}``.

    Lines whose value is not numeric (``calib_time``) are skipped, like
    :func:`s2rdepth.data.kitti.read_calib_file`.
    """
    out: dict[str, np.ndarray] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep or not value.split():
            continue
        try:
            out[key.strip()] = np.array([float(v) for v in value.split()], dtype=np.float64)
        except ValueError:
            continue
    return out


def _scale_k(k: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Scale a 3x3 pinhole matrix for an image resized by (sx, sy), pixel centres preserved."""
    k = k.copy()
    k[0, 0] *= sx
    k[0, 1] *= sx
    k[0, 2] = (k[0, 2] + 0.5) * sx - 0.5
    k[1, 1] *= sy
    k[1, 2] = (k[1, 2] + 0.5) * sy - 0.5
    return k


@dataclass(frozen=True)
class SynthCalibration:
    """The calibration of a synthetic rig for an ``height x width`` image (see the module docstring).

    Attributes:
        height, width: image size in pixels.
        cam_to_cam: text of ``calib_cam_to_cam.txt``.
        velo_to_cam: text of ``calib_velo_to_cam.txt``.
        imu_to_velo: text of ``calib_imu_to_velo.txt``.
        K: float64 (3, 3) intrinsics of rectified camera 2 (pixels), parsed from ``P_rect_02``.
        t_cam: float64 (3,) camera-2 offset in metres, ``X_cam = X_rect + t_cam``.
        R_rect: float64 (3, 3) ``R_rect_00``.
        R_velo, T_velo: float64 (3, 3) / (3,) velo→cam-0 rotation and translation (metres).
        velo_to_cam_linear, velo_to_cam_offset: ``A``, ``b`` with ``X_cam = A X_velo + b`` (metres).
    """

    height: int
    width: int
    cam_to_cam: str
    velo_to_cam: str
    imu_to_velo: str
    K: np.ndarray = field(repr=False)
    t_cam: np.ndarray = field(repr=False)
    R_rect: np.ndarray = field(repr=False)
    R_velo: np.ndarray = field(repr=False)
    T_velo: np.ndarray = field(repr=False)
    velo_to_cam_linear: np.ndarray = field(repr=False)
    velo_to_cam_offset: np.ndarray = field(repr=False)

    @property
    def fx(self) -> float:
        """Focal length along x, pixels."""
        return float(self.K[0, 0])

    @property
    def fy(self) -> float:
        """Focal length along y, pixels."""
        return float(self.K[1, 1])

    @property
    def cx(self) -> float:
        """Principal point column, pixels (0-based, pixel centres at integers)."""
        return float(self.K[0, 2])

    @property
    def cy(self) -> float:
        """Principal point row, pixels."""
        return float(self.K[1, 2])

    def velo_to_image(self) -> np.ndarray:
        """3x4 ``P_rect_02 · R_rect_00 · [R | T]`` (what :func:`s2rdepth.data.kitti.generate_depth_map` uses)."""
        return self.K @ np.hstack([self.velo_to_cam_linear, self.velo_to_cam_offset[:, None]])

    def files(self) -> dict[str, str]:
        """``{file name: text}`` of the three calibration files of the ``<date>`` folder."""
        return {
            "calib_cam_to_cam.txt": self.cam_to_cam,
            "calib_velo_to_cam.txt": self.velo_to_cam,
            "calib_imu_to_velo.txt": self.imu_to_velo,
        }


@lru_cache(maxsize=16)
def kitti_calibration(height: int, width: int) -> SynthCalibration:
    """The KITTI 2011_09_26 rig scaled to an ``height x width`` image (cached).

    Raises:
        ValueError: for a non-positive size.
    """
    height, width = int(height), int(width)
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    sx, sy = width / KITTI_WIDTH, height / KITTI_HEIGHT
    lines = [f"calib_time: {_CAM_TO_CAM_TIME}", format_calib_line("corner_dist", [_CORNER_DIST])]
    for cam, c in _CAMS.items():
        k = _scale_k(np.array(c["K"]).reshape(3, 3), sx, sy)
        s_raw = [round(c["S"][0] * sx), round(c["S"][1] * sy)]
        p = np.array(c["P_rect"]).reshape(3, 4)
        t = np.linalg.solve(p[:, :3], p[:, 3])  # camera offset in metres
        k_rect = _scale_k(p[:, :3], sx, sy)
        p_new = np.hstack([k_rect, (k_rect @ t)[:, None]])
        lines += [
            format_calib_line(f"S_{cam}", s_raw),
            format_calib_line(f"K_{cam}", k),
            format_calib_line(f"D_{cam}", c["D"]),
            format_calib_line(f"R_{cam}", c["R"]),
            format_calib_line(f"T_{cam}", c["T"]),
            format_calib_line(f"S_rect_{cam}", [width, height]),
            format_calib_line(f"R_rect_{cam}", c["R_rect"]),
            format_calib_line(f"P_rect_{cam}", p_new),
        ]
    cam_to_cam = "\n".join(lines) + "\n"
    velo_to_cam = "\n".join([
        f"calib_time: {_VELO_TIME}",
        format_calib_line("R", _VELO_R),
        format_calib_line("T", _VELO_T),
        format_calib_line("delta_f", [0.0, 0.0]),
        format_calib_line("delta_c", [0.0, 0.0]),
    ]) + "\n"
    imu_to_velo = "\n".join([
        f"calib_time: {_IMU_TIME}",
        format_calib_line("R", _IMU_R),
        format_calib_line("T", _IMU_T),
    ]) + "\n"

    # parse the text back: the renderer uses exactly what the files say
    c2c = parse_calib_text(cam_to_cam)
    v2c = parse_calib_text(velo_to_cam)
    p2 = c2c["P_rect_02"].reshape(3, 4)
    k = p2[:, :3].copy()
    t_cam = np.linalg.solve(k, p2[:, 3])
    r_rect = c2c["R_rect_00"].reshape(3, 3)
    r_velo = v2c["R"].reshape(3, 3)
    t_velo = v2c["T"].reshape(3)
    a = r_rect @ r_velo
    b = r_rect @ t_velo + t_cam
    for arr in (k, t_cam, r_rect, r_velo, t_velo, a, b):
        arr.setflags(write=False)
    return SynthCalibration(height, width, cam_to_cam, velo_to_cam, imu_to_velo, k, t_cam, r_rect,
                            r_velo, t_velo, a, b)
