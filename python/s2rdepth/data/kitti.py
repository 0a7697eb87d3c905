"""KITTI raw: calibration files, Velodyne ground truth, benchmark depth PNGs, split files, Eigen GT export.

Conventions (``../shared/spec/REFERENCE.md`` §4, the monodepth2 evaluation convention):

* ``calib_cam_to_cam.txt`` / ``calib_velo_to_cam.txt``: ``key: numbers`` lines; non-numeric values
  (``calib_time: 09-Jan-2012 13:57:47``) are skipped by :func:`read_calib_file`.
* Velodyne scans ``velodyne_points/data/<frame:010d>.bin``: float32 ``N x 4`` (x, y, z, reflectance),
  metres, Velodyne frame (x forward, y left, z up).
* :func:`generate_depth_map` projects a scan into a rectified camera image and returns a sparse
  depth map in metres (``0`` = no measurement).
* Eigen-benchmark ground truth ``proj_depth/groundtruth/image_0{2,3}/<frame:010d>.png``: uint16,
  metres = value / 256, ``0`` = invalid (:func:`read_kitti_depth_png`).
* Split lines ``<date>/<date>_drive_<id>_sync <frame> <l|r>`` (:func:`read_split_file`); the frame
  may be zero-padded (``0000000069``) or not (``69``).

Eigen ground-truth archive (:func:`export_eigen_gt` / :func:`load_eigen_gt`, written by
``s2rdepth prepare-kitti-gt``): one ``.npz`` file that loads with ``np.load(path,
allow_pickle=False)`` and holds

=================  ===============  =================================================================
key                dtype / shape    meaning
=================  ===============  =================================================================
``depth``          float32 ``(T,)`` every frame's depth map (metres, 0 = invalid), flattened row-major
                                    and concatenated in split order
``shapes``         int64 ``(F, 2)`` ``(H, W)`` of each frame
``offsets``        int64 ``(F+1,)`` frame ``i`` is ``depth[offsets[i]:offsets[i+1]].reshape(shapes[i])``
``lines``          unicode ``(F,)`` the split lines, normalised to ``"<drive> <frame:010d> <l|r>"``
``source``         unicode ``()``   ``"velodyne"`` or ``"groundtruth"``
``faithful``       bool ``()``      the ``faithful`` flag used (velodyne source)
``vel_depth``      bool ``()``      the ``vel_depth`` flag used (velodyne source)
``format_version`` int64 ``()``     ``1``
=================  ===============  =================================================================
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .io import DataFileError, MissingFileError

__all__ = [
    "read_calib_file",
    "load_velodyne_points",
    "velo_to_image_matrix",
    "generate_depth_map",
    "project_velodyne",
    "read_kitti_depth_png",
    "write_kitti_depth_png",
    "SplitEntry",
    "parse_split_line",
    "read_split_file",
    "kitti_image_path",
    "kitti_velodyne_path",
    "kitti_groundtruth_path",
    "export_eigen_gt",
    "load_eigen_gt",
    "EIGEN_GT_FORMAT_VERSION",
]

EIGEN_GT_FORMAT_VERSION = 1


# --------------------------------------------------------------------------------------------------
# calibration and scans
# --------------------------------------------------------------------------------------------------
def read_calib_file(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Parse a KITTI calibration text file into ``{key: float64 1-D array}``.

    Each line is ``key: v1 v2 ...``. Lines whose values are not all numbers (``calib_time: ...``),
    blank lines and lines without a colon are skipped. Arrays are returned flat; callers reshape
    (``P_rect_02`` → 3x4, ``R_rect_00`` → 3x3, ``R`` → 3x3, ``T`` → 3).

    Raises:
        MissingFileError (a ``FileNotFoundError``): naming ``path`` when it does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "missing KITTI calibration file")
    out: dict[str, np.ndarray] = {}
    with open(path, "r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            key, sep, value = line.partition(":")
            if not sep:
                continue
            key = key.strip()
            fields = value.split()
            if not key or not fields:
                continue
            try:
                out[key] = np.array([float(f) for f in fields], dtype=np.float64)
            except ValueError:
                continue  # non-numeric value such as calib_time
    return out


def load_velodyne_points(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a Velodyne ``.bin`` scan: float32 ``(N, 4)`` with the 4th column set to 1 (homogeneous).

    The file stores ``x, y, z, reflectance`` in metres (Velodyne frame); reflectance is replaced by
    ``1.0`` so rows can be multiplied by a 4x4 / 3x4 projection directly.

    Raises:
        MissingFileError (a ``FileNotFoundError``): naming ``path`` when it does not exist.
        DataFileError (an ``OSError``): naming ``path`` when its size is not a multiple of 16 bytes.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "missing Velodyne scan")
    raw = np.fromfile(path, dtype=np.float32)
    if raw.size % 4 or path.stat().st_size % 16:
        raise DataFileError(path, f"corrupt Velodyne scan ({path.stat().st_size} bytes is not a multiple of 16)")
    pts = raw.reshape(-1, 4)
    pts[:, 3] = 1.0
    return pts


def velo_to_image_matrix(calib_dir: str | os.PathLike[str], cam: int = 2) -> tuple[np.ndarray, tuple[int, int]]:
    """Return ``(P, (H, W))``: the float64 3x4 matrix ``P_rect_0{cam} · R_rect_00 · velo2cam`` and image size.

    ``(H, W)`` comes from ``S_rect_0{cam}`` (stored as ``W H``), falling back to ``S_rect_02`` (the
    reference always reads ``S_rect_02``; in KITTI both cameras have the same rectified size).
    """
    calib_dir = Path(calib_dir)
    cam2cam = read_calib_file(calib_dir / "calib_cam_to_cam.txt")
    velo2cam_c = read_calib_file(calib_dir / "calib_velo_to_cam.txt")
    try:
        velo2cam = np.hstack((velo2cam_c["R"].reshape(3, 3), velo2cam_c["T"].reshape(3, 1)))
        velo2cam = np.vstack((velo2cam, np.array([0.0, 0.0, 0.0, 1.0])))
        size_key = f"S_rect_0{cam}" if f"S_rect_0{cam}" in cam2cam else "S_rect_02"
        w, h = (int(v) for v in cam2cam[size_key][:2])
        r_rect = np.eye(4)
        r_rect[:3, :3] = cam2cam["R_rect_00"].reshape(3, 3)
        p_rect = cam2cam[f"P_rect_0{cam}"].reshape(3, 4)
    except (KeyError, ValueError) as exc:
        raise DataFileError(calib_dir, f"missing or malformed calibration entry ({exc}) in") from None
    p = np.dot(np.dot(p_rect, r_rect), velo2cam)
    return p, (h, w)


def generate_depth_map(
    calib_dir: str | os.PathLike[str],
    velo_path: str | os.PathLike[str],
    cam: int = 2,
    vel_depth: bool = True,
    faithful: bool = True,
) -> np.ndarray:
    """Project a Velodyne scan into rectified camera ``cam``: sparse depth, float64 ``(H, W)`` metres.

    Algorithm (REFERENCE.md §4, the monodepth2 convention): ``P = P_rect_0{cam} · R_rect_00 ·
    velo2cam``; points with Velodyne ``x < 0`` are dropped; ``(u, v, z) = P · [x y z 1]``,
    ``u, v`` divided by ``z``; the stored depth is the Velodyne ``x`` (``vel_depth=True``,
    reference) or the camera ``z``; pixel column/row are ``round(u) - 1`` / ``round(v) - 1``
    (``np.round``, half to even); out-of-image points are dropped; negative depths become 0.

    Duplicates (several points on one pixel):

    * ``faithful=True`` reproduces the reference bit for bit. The reference first writes every
      point (the last point on a pixel wins), then groups points by the *non-linear* index
      ``row·(W-1) + col - 1``, under which pixel ``(r, 0)`` collides with ``(r-1, W-1)``; for each
      group of two or more points it writes the group minimum at the pixel of the group's *first*
      point. So a pixel of a mixed group may receive the other pixel's (smaller) depth, or keep its
      last-written rather than its minimum depth.
    * ``faithful=False`` groups by the true linear index ``row·W + col``: every pixel gets the
      minimum depth of the points that hit it.

    Fully vectorised (no Python loop over points or duplicates).

    Args:
        calib_dir: folder holding ``calib_cam_to_cam.txt`` and ``calib_velo_to_cam.txt`` (the
            ``<date>`` folder of KITTI raw).
        velo_path: the ``.bin`` scan.
        cam: rectified camera index (2 = left colour, 3 = right colour).
        vel_depth: store Velodyne ``x`` (True, reference) instead of camera ``z``.
        faithful: reproduce the reference duplicate-index quirk (True) or use a true index.

    Returns:
        ``np.ndarray`` float64 ``(H, W)`` (``H, W`` from ``S_rect``), metres, 0 = no point.
    """
    p_velo2im, (h, w) = velo_to_image_matrix(calib_dir, cam)
    velo = load_velodyne_points(velo_path)
    return project_velodyne(velo, p_velo2im, (h, w), vel_depth=vel_depth, faithful=faithful)


def project_velodyne(
    velo: np.ndarray,
    p_velo2im: np.ndarray,
    image_hw: tuple[int, int],
    vel_depth: bool = True,
    faithful: bool = True,
) -> np.ndarray:
    """The projection step of :func:`generate_depth_map` with a precomputed matrix.

    Args:
        velo: ``(N, 4)`` homogeneous Velodyne points (:func:`load_velodyne_points`), metres.
        p_velo2im: 3x4 matrix from :func:`velo_to_image_matrix`.
        image_hw: ``(H, W)`` of the output map.
        vel_depth, faithful: as in :func:`generate_depth_map`.

    Returns:
        float64 ``(H, W)`` sparse depth in metres, 0 = no point.
    """
    h, w = int(image_hw[0]), int(image_hw[1])
    velo = velo[velo[:, 0] >= 0, :]

    pts = np.dot(p_velo2im, velo.T).T  # float64 (N, 3)
    with np.errstate(divide="ignore", invalid="ignore"):  # z == 0 gives inf/nan: dropped below
        pts[:, :2] = pts[:, :2] / pts[:, 2][..., np.newaxis]
        if vel_depth:
            pts[:, 2] = velo[:, 0]
        pts[:, 0] = np.round(pts[:, 0]) - 1
        pts[:, 1] = np.round(pts[:, 1]) - 1
        keep = (pts[:, 0] >= 0) & (pts[:, 1] >= 0) & (pts[:, 0] < w) & (pts[:, 1] < h)
    pts = pts[keep, :]

    cols = pts[:, 0].astype(np.int64)
    rows = pts[:, 1].astype(np.int64)
    vals = pts[:, 2]
    depth = np.zeros((h, w), dtype=np.float64)
    n = vals.shape[0]
    if n == 0:
        return depth

    if faithful:
        # 1) plain write: the last point on each true pixel wins
        lin = rows * w + cols
        rev_lin = lin[::-1]
        uniq, first_rev = np.unique(rev_lin, return_index=True)
        last_idx = n - 1 - first_rev
        depth.reshape(-1)[uniq] = vals[last_idx]
        # 2) duplicate groups under the reference's non-linear index
        key = rows * (w - 1) + cols - 1
        order = np.argsort(key, kind="stable")
        skey = key[order]
        starts = np.flatnonzero(np.r_[True, skey[1:] != skey[:-1]])
        counts = np.diff(np.r_[starts, n])
        dup = counts > 1
        if np.any(dup):
            gmin = np.minimum.reduceat(vals[order], starts)[dup]
            first = order[starts[dup]]  # stable sort: smallest point index of the group
            depth[rows[first], cols[first]] = gmin
    else:
        lin = rows * w + cols
        flat = np.full(h * w, np.inf)
        np.minimum.at(flat, lin, vals)
        hit = np.isfinite(flat)
        depth.reshape(-1)[hit] = flat[hit]

    depth[depth < 0] = 0
    return depth


# --------------------------------------------------------------------------------------------------
# benchmark depth PNGs
# --------------------------------------------------------------------------------------------------
def read_kitti_depth_png(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a KITTI depth PNG (``proj_depth/groundtruth`` or ``velodyne_raw``): float32 ``(H, W)`` metres.

    The file is uint16 with metres = value / 256 and 0 = invalid (returned as 0.0).

    Raises:
        MissingFileError / DataFileError: naming ``path`` when missing, unreadable or not 16-bit.
    """
    from .io import read_png_uint16

    raw = read_png_uint16(path)
    return (raw.astype(np.float32) / 256.0).astype(np.float32)


def write_kitti_depth_png(path: str | os.PathLike[str], depth_m: np.ndarray) -> None:
    """Write metres as a KITTI uint16 depth PNG (value = round(depth·256), clipped to 65535; 0 = invalid)."""
    from .io import write_png_uint16

    d = np.nan_to_num(np.asarray(depth_m, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    v = np.clip(np.round(d * 256.0), 0, 65535).astype(np.uint16)
    write_png_uint16(path, v)


# --------------------------------------------------------------------------------------------------
# split files and paths
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SplitEntry:
    """One split line: ``drive`` = ``"<date>/<date>_drive_<id>_sync"``, ``frame`` index, ``side`` ``"l"|"r"``."""

    drive: str
    frame: int
    side: str

    @property
    def date(self) -> str:
        """The ``<date>`` folder (holds the calibration files)."""
        return self.drive.split("/")[0]

    @property
    def cam(self) -> int:
        """Camera index: 2 for ``l``, 3 for ``r``."""
        return 2 if self.side == "l" else 3

    def line(self) -> str:
        """Normalised split line ``"<drive> <frame:010d> <side>"``."""
        return f"{self.drive} {self.frame:010d} {self.side}"


def parse_split_line(line: str, default_side: str = "l") -> SplitEntry:
    """Parse ``"<date>/<drive>_sync <frame> <l|r>"``; a missing side defaults to ``default_side``.

    Raises:
        ValueError: on a malformed line (the message quotes it).
    """
    parts = line.split()
    if len(parts) not in (2, 3):
        raise ValueError(f"malformed KITTI split line {line!r}: expected '<date>/<drive> <frame> <l|r>'")
    drive = parts[0].strip("/")
    try:
        frame = int(parts[1])
    except ValueError:
        raise ValueError(f"malformed KITTI split line {line!r}: frame {parts[1]!r} is not an integer") from None
    side = parts[2] if len(parts) == 3 else default_side
    if side not in ("l", "r"):
        raise ValueError(f"malformed KITTI split line {line!r}: side must be 'l' or 'r'")
    return SplitEntry(drive, frame, side)


def read_split_file(path: str | os.PathLike[str]) -> list[SplitEntry]:
    """Read a split file (blank lines and ``#`` comments ignored); errors name the file and line number."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "missing KITTI split file")
    out: list[SplitEntry] = []
    with open(path, "r", encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            try:
                out.append(parse_split_line(s))
            except ValueError as exc:
                raise ValueError(f"{path}:{no}: {exc}") from None
    return out


def kitti_image_path(root: str | os.PathLike[str], entry: SplitEntry, ext: str | Sequence[str] = (".png", ".jpg")) -> Path:
    """``<root>/<drive>/image_0{2,3}/data/<frame:010d><ext>``; with several extensions, the first that exists
    (or the first one when none exists, so the caller's error names a concrete path)."""
    exts = [ext] if isinstance(ext, str) else list(ext)
    base = Path(root) / entry.drive / f"image_0{entry.cam}" / "data"
    for e in exts:
        p = base / f"{entry.frame:010d}{e}"
        if p.is_file():
            return p
    return base / f"{entry.frame:010d}{exts[0]}"


def kitti_velodyne_path(root: str | os.PathLike[str], entry: SplitEntry) -> Path:
    """``<root>/<drive>/velodyne_points/data/<frame:010d>.bin``."""
    return Path(root) / entry.drive / "velodyne_points" / "data" / f"{entry.frame:010d}.bin"


def kitti_groundtruth_path(root: str | os.PathLike[str], entry: SplitEntry, gt_root: str | os.PathLike[str] | None = None) -> Path:
    """Benchmark GT PNG ``<gt_root>/<drive_name>/proj_depth/groundtruth/image_0{2,3}/<frame:010d>.png``.

    ``gt_root`` defaults to ``root/<date>`` (i.e. the PNGs live beside the raw drive folders). The
    official depth-completion archive keeps them under ``train/`` and ``val/`` instead: pass that
    folder (or search both with :class:`s2rdepth.data.readers.KittiRawDataset`'s ``gt_roots``).
    """
    drive_name = entry.drive.split("/")[-1]
    base = Path(gt_root) if gt_root is not None else Path(root) / entry.date
    return base / drive_name / "proj_depth" / "groundtruth" / f"image_0{entry.cam}" / f"{entry.frame:010d}.png"


# --------------------------------------------------------------------------------------------------
# Eigen GT export
# --------------------------------------------------------------------------------------------------
def export_eigen_gt(
    root: str | os.PathLike[str],
    split: str | os.PathLike[str] | Iterable[SplitEntry],
    out: str | os.PathLike[str],
    source: str = "velodyne",
    vel_depth: bool = True,
    faithful: bool = True,
    gt_root: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> dict[str, int]:
    """Compute ground truth for every split line and write the ``.npz`` described in the module doc.

    ``source="velodyne"`` projects ``velodyne_points`` with :func:`generate_depth_map` (camera from
    the line's side); ``source="groundtruth"`` reads ``proj_depth/groundtruth`` PNGs. Depth is
    stored as float32. The file is written atomically (temporary name, then rename).

    Returns:
        ``{"frames": F, "valid_pixels": total count of depth > 0}``.

    Raises:
        FileNotFoundError / ValueError: naming the first missing or corrupt file.
    """
    if source not in ("velodyne", "groundtruth"):
        raise ValueError(f"source must be 'velodyne' or 'groundtruth', got {source!r}")
    entries = read_split_file(split) if isinstance(split, (str, os.PathLike)) else list(split)
    if not entries:
        raise ValueError("empty split: nothing to export")
    root = Path(root)
    # pass 1: frame sizes (calibration parsed once per date and camera; PNG headers only)
    proj: dict[tuple[str, int], tuple[np.ndarray, tuple[int, int]]] = {}
    shapes = np.zeros((len(entries), 2), dtype=np.int64)
    for i, e in enumerate(entries):
        if source == "velodyne":
            if (e.date, e.cam) not in proj:
                proj[(e.date, e.cam)] = velo_to_image_matrix(root / e.date, e.cam)
            shapes[i] = proj[(e.date, e.cam)][1]
        else:
            shapes[i] = _png_size_hw(kitti_groundtruth_path(root, e, gt_root))
    offsets = np.zeros(len(entries) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(shapes[:, 0] * shapes[:, 1])
    depth = np.zeros(int(offsets[-1]), dtype=np.float32)  # one allocation, filled in place
    # pass 2: the maps
    for i, e in enumerate(entries):
        if source == "velodyne":
            p, hw = proj[(e.date, e.cam)]
            d = project_velodyne(load_velodyne_points(kitti_velodyne_path(root, e)), p, hw,
                                 vel_depth=vel_depth, faithful=faithful)
        else:
            d = read_kitti_depth_png(kitti_groundtruth_path(root, e, gt_root))
        depth[offsets[i]:offsets[i + 1]] = d.reshape(-1)
        if progress and (i + 1) % 50 == 0:
            print(f"  {i + 1}/{len(entries)} frames", flush=True)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez_compressed(
        tmp,
        depth=depth,
        shapes=shapes,
        offsets=offsets,
        lines=np.array([e.line() for e in entries], dtype=np.str_),
        source=np.array(source, dtype=np.str_),
        faithful=np.array(bool(faithful)),
        vel_depth=np.array(bool(vel_depth)),
        format_version=np.array(EIGEN_GT_FORMAT_VERSION, dtype=np.int64),
    )
    os.replace(tmp, out)
    return {"frames": len(entries), "valid_pixels": int(np.count_nonzero(depth > 0))}


def _png_size_hw(path: Path) -> tuple[int, int]:
    """``(H, W)`` from an image header (no decoding); errors name the file."""
    from PIL import Image

    if not Path(path).is_file():
        raise MissingFileError(path, "missing ground-truth depth PNG")
    try:
        with Image.open(path) as im:
            w, h = im.size
    except Exception as exc:
        raise DataFileError(path, f"cannot read image header ({type(exc).__name__}: {exc})") from exc
    return h, w


def load_eigen_gt(path: str | os.PathLike[str]) -> tuple[list[np.ndarray], list[str]]:
    """Load an archive written by :func:`export_eigen_gt`: ``(depth maps float32 (H, W) metres, split lines)``.

    Uses ``allow_pickle=False``. Raises :class:`~s2rdepth.data.io.DataFileError` naming the file
    when a key is missing or the offsets do not match the stored depth.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "missing ground-truth archive")
    with np.load(path, allow_pickle=False) as z:
        try:
            depth, shapes, offsets, lines = z["depth"], z["shapes"], z["offsets"], z["lines"]
        except KeyError as exc:
            raise DataFileError(path, f"not an s2rdepth ground-truth archive (missing {exc})") from None
    if offsets.shape[0] != shapes.shape[0] + 1 or offsets[-1] != depth.shape[0] or lines.shape[0] != shapes.shape[0]:
        raise DataFileError(path, "inconsistent ground-truth archive: offsets/shapes/lines do not match")
    maps = [depth[offsets[i]:offsets[i + 1]].reshape(int(shapes[i, 0]), int(shapes[i, 1]))
            for i in range(shapes.shape[0])]
    return maps, [str(s) for s in lines]
