"""KITTI calibration parsing, Velodyne ground truth (both duplicate modes), split files, Eigen GT export."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from s2rdepth.data import kitti

REPO = Path(__file__).resolve().parents[1]
REALDATA = (REPO / ".." / "shared" / "realdata").resolve()
KITTI_DATE = REALDATA / "kitti_raw" / "2011_09_26"
KITTI_SCAN = KITTI_DATE / "2011_09_26_drive_0086_sync" / "velodyne_points" / "data" / "0000000108.bin"

needs_realdata = pytest.mark.skipif(
    not KITTI_SCAN.is_file(),
    reason=f"real KITTI sample absent: {KITTI_SCAN} (../shared/realdata is not part of a fresh clone)",
)


# --------------------------------------------------------------------------------------------------
# an independent implementation: hand-written parsing, per-point loop, dict of duplicates
# --------------------------------------------------------------------------------------------------
def _parse(path: Path) -> dict[str, list[float]]:
    out = {}
    for line in path.read_text().splitlines():
        if ":" not in line:
            continue
        k, v = line.split(":", 1)
        try:
            out[k.strip()] = [float(t) for t in v.split()]
        except ValueError:
            pass
    return out


def loop_depth_map(calib_dir: Path, scan: Path, cam: int, vel_depth: bool, faithful: bool) -> np.ndarray:
    c2c = _parse(calib_dir / "calib_cam_to_cam.txt")
    v2c = _parse(calib_dir / "calib_velo_to_cam.txt")
    width, height = (int(x) for x in c2c["S_rect_02"])
    rect = np.identity(4)
    rect[0:3, 0:3] = np.array(c2c["R_rect_00"]).reshape(3, 3)
    rigid = np.identity(4)
    rigid[0:3, 0:3] = np.array(v2c["R"]).reshape(3, 3)
    rigid[0:3, 3] = v2c["T"]
    proj = np.array(c2c[f"P_rect_0{cam}"]).reshape(3, 4).dot(rect).dot(rigid)

    pts = np.fromfile(scan, dtype=np.float32).reshape(-1, 4).copy()
    pts[:, 3] = 1
    pts = pts[pts[:, 0] >= 0]
    uvz = proj.dot(pts.T)  # (3, N)

    img = np.zeros((height, width))
    placed: list[tuple[int, int, float]] = []
    for i in range(uvz.shape[1]):
        z = uvz[2, i]
        u = round(float(uvz[0, i] / z)) - 1  # Python round is half-to-even, like np.round
        v = round(float(uvz[1, i] / z)) - 1
        if 0 <= u < width and 0 <= v < height:
            val = float(pts[i, 0]) if vel_depth else float(z)
            placed.append((v, u, val))
            img[v, u] = val  # later points overwrite earlier ones
    groups: dict[int, list[int]] = defaultdict(list)
    for j, (v, u, _) in enumerate(placed):
        groups[v * (width - 1) + u - 1 if faithful else v * width + u].append(j)
    for members in groups.values():
        if len(members) > 1:
            v0, u0, _ = placed[members[0]]
            img[v0, u0] = min(placed[j][2] for j in members)
    img[img < 0] = 0
    return img


# --------------------------------------------------------------------------------------------------
# a synthetic calibration and point cloud written by the test
# --------------------------------------------------------------------------------------------------
W, H, F, CX, CY = 64, 24, 40.0, 31.5, 11.5


def _write_calib(d: Path, W: int = W, H: int = H, CX: float = CX, CY: float = CY) -> None:  # noqa: N803
    d.mkdir(parents=True, exist_ok=True)
    p = f"{F:e} 0 {CX:e} 0 0 {F:e} {CY:e} 0 0 0 1 0"
    eye = "1 0 0 0 1 0 0 0 1"
    (d / "calib_cam_to_cam.txt").write_text(
        "calib_time: 09-Jan-2012 13:57:47\ncorner_dist: 9.950000e-02\n"
        f"S_rect_00: {W} {H}\nR_rect_00: {eye}\nP_rect_00: {p}\n"
        f"S_rect_02: {W} {H}\nR_rect_02: {eye}\nP_rect_02: {p}\n"
        f"S_rect_03: {W} {H}\nR_rect_03: {eye}\nP_rect_03: {F:e} 0 {CX:e} {-0.5 * F:e} 0 {F:e} {CY:e} 0 0 0 1 0\n"
    )
    # velodyne (x fwd, y left, z up) -> camera (x right, y down, z fwd)
    (d / "calib_velo_to_cam.txt").write_text(
        "calib_time: 15-Mar-2012 11:37:16\nR: 0 -1 0 0 0 -1 1 0 0\nT: 0 0 0\n"
        "delta_f: 0 0\ndelta_c: 0 0\n"
    )


def _velo_point(row: int, col: int, depth: float) -> list[float]:
    """A Velodyne point that lands on pixel (row, col) at forward distance ``depth``."""
    u, v = col + 1.0, row + 1.0  # pixel = round(u) - 1
    xc, yc = (u - CX) * depth / F, (v - CY) * depth / F
    return [depth, -xc, -yc, 0.5]


def _write_scan(path: Path, pts: list[list[float]] | np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.asarray(pts, dtype=np.float32).tofile(path)


@pytest.fixture()
def synth_kitti(tmp_path: Path) -> tuple[Path, Path]:
    date = tmp_path / "2011_01_01"
    _write_calib(date)
    rng = np.random.default_rng(0)
    n = 3000
    depth = rng.uniform(2.0, 60.0, n)
    u = rng.uniform(2.6, W - 0.6, n)  # columns 2..W-2: the crafted points own columns 0 and W-1
    v = rng.uniform(-5, H + 5, n)  # some rows out of the image
    xc, yc = (u - CX) * depth / F, (v - CY) * depth / F
    cloud = np.stack([depth, -xc, -yc, rng.uniform(0, 1, n)], 1)
    behind = np.array([[-5.0, 0.0, 0.0, 0.1], [-1.0, 1.0, 1.0, 0.1],
                       _velo_point(3, -3, 7.0), _velo_point(3, W + 2, 7.0)])  # behind / left / right of the image
    quirk = [
        _velo_point(5, 0, 10.0),       # first point of the group (r, 0)
        _velo_point(4, W - 1, 5.0),    # collides with (5, 0) under row*(W-1)+col-1
        _velo_point(9, W - 1, 3.0),    # first of a group whose other pixel has two points
        _velo_point(10, 0, 20.0),
        _velo_point(10, 0, 30.0),      # last write on (10, 0): 30 (its true minimum is 20)
    ]
    scan = date / "2011_01_01_drive_0001_sync" / "velodyne_points" / "data" / "0000000000.bin"
    _write_scan(scan, np.concatenate([np.array(quirk), behind, cloud]))
    return date, scan


# --------------------------------------------------------------------------------------------------
# tests without real data
# --------------------------------------------------------------------------------------------------
def test_read_calib_file_skips_non_numeric(tmp_path: Path) -> None:
    _write_calib(tmp_path)
    c = kitti.read_calib_file(tmp_path / "calib_cam_to_cam.txt")
    assert "calib_time" not in c
    assert c["P_rect_02"].shape == (12,) and c["P_rect_02"].dtype == np.float64
    assert c["S_rect_02"].tolist() == [W, H]
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        kitti.read_calib_file(tmp_path / "nope.txt")


@pytest.mark.parametrize("faithful", [True, False])
@pytest.mark.parametrize("vel_depth", [True, False])
def test_synthetic_matches_loop(synth_kitti, faithful: bool, vel_depth: bool) -> None:
    date, scan = synth_kitti
    got = kitti.generate_depth_map(date, scan, cam=2, vel_depth=vel_depth, faithful=faithful)
    ref = loop_depth_map(date, scan, 2, vel_depth, faithful)
    assert got.shape == (H, W) and got.dtype == np.float64
    if vel_depth:
        np.testing.assert_array_equal(got, ref)
    else:
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)
    assert (got > 0).sum() > 500


def test_faithful_quirk_changes_result(synth_kitti) -> None:
    date, scan = synth_kitti
    quirky = kitti.generate_depth_map(date, scan, faithful=True)
    fixed = kitti.generate_depth_map(date, scan, faithful=False)
    # group {(5,0): 10, (4,W-1): 5}: the reference writes the min at the first point's pixel
    assert quirky[5, 0] == pytest.approx(5.0, rel=1e-6)
    assert fixed[5, 0] == pytest.approx(10.0, rel=1e-6)
    assert quirky[4, W - 1] == pytest.approx(5.0, rel=1e-6) == fixed[4, W - 1]
    # group {(9,W-1): 3, (10,0): 20, (10,0): 30}: (10,0) keeps its last write, not its minimum
    assert quirky[9, W - 1] == pytest.approx(3.0, rel=1e-6)
    assert quirky[10, 0] == pytest.approx(30.0, rel=1e-6)
    assert fixed[10, 0] == pytest.approx(20.0, rel=1e-6)
    # elsewhere the modes agree up to those collisions
    diff = np.argwhere(quirky != fixed)
    assert {tuple(x) for x in diff} <= {(5, 0), (10, 0)} | {(r, 0) for r in range(H)} | {(r, W - 1) for r in range(H)}


@pytest.mark.parametrize("seed", range(4))
def test_dense_collisions_match_loop(tmp_path: Path, seed: int) -> None:
    """A tiny image hit by many points: every pixel has duplicates, many quirk groups span two pixels."""
    w, h, cx, cy = 5, 4, 2.0, 1.5
    _write_calib(tmp_path, w, h, cx, cy)
    rng = np.random.default_rng(seed)
    n = 400
    depth = np.round(rng.uniform(1.0, 50.0, n), 1)  # ties between duplicates too
    u, v = rng.uniform(0.5, w + 0.5, n), rng.uniform(0.5, h + 0.5, n)
    cloud = np.stack([depth, -(u - cx) * depth / F, -(v - cy) * depth / F, np.ones(n)], 1)
    scan = tmp_path / "s.bin"
    _write_scan(scan, cloud)
    for faithful in (True, False):
        got = kitti.generate_depth_map(tmp_path, scan, faithful=faithful)
        np.testing.assert_array_equal(got, loop_depth_map(tmp_path, scan, 2, True, faithful))
    assert not np.array_equal(kitti.generate_depth_map(tmp_path, scan, faithful=True),
                              kitti.generate_depth_map(tmp_path, scan, faithful=False))


def test_corrected_mode_is_per_pixel_minimum(synth_kitti) -> None:
    date, scan = synth_kitti
    got = kitti.generate_depth_map(date, scan, faithful=False)
    pts = np.fromfile(scan, dtype=np.float32).reshape(-1, 4)
    pts = pts[pts[:, 0] >= 0]
    u = np.round(F * (-pts[:, 1]) / pts[:, 0] + CX) - 1
    v = np.round(F * (-pts[:, 2]) / pts[:, 0] + CY) - 1
    ok = (u >= 0) & (v >= 0) & (u < W) & (v < H)
    expect = np.full((H, W), np.inf)
    for uu, vv, d in zip(u[ok].astype(int), v[ok].astype(int), pts[ok, 0]):
        expect[vv, uu] = min(expect[vv, uu], d)
    expect[np.isinf(expect)] = 0
    np.testing.assert_allclose(got, expect, rtol=1e-6)


def test_right_camera_and_missing_files(synth_kitti, tmp_path: Path) -> None:
    date, scan = synth_kitti
    d3 = kitti.generate_depth_map(date, scan, cam=3)
    np.testing.assert_array_equal(d3, loop_depth_map(date, scan, 3, True, True))
    with pytest.raises(FileNotFoundError, match="missing.bin"):
        kitti.generate_depth_map(date, date / "missing.bin")
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00" * 10)
    with pytest.raises(OSError, match="bad.bin"):
        kitti.generate_depth_map(date, bad)


def test_split_parsing(tmp_path: Path) -> None:
    e = kitti.parse_split_line("2011_09_26/2011_09_26_drive_0002_sync 0000000069 l")
    assert (e.drive, e.frame, e.side, e.cam, e.date) == ("2011_09_26/2011_09_26_drive_0002_sync", 69, "l", 2, "2011_09_26")
    assert kitti.parse_split_line("2011_09_26/2011_09_26_drive_0002_sync 69 r").cam == 3
    assert e.line() == "2011_09_26/2011_09_26_drive_0002_sync 0000000069 l"
    f = tmp_path / "split.txt"
    f.write_text("a/b_sync 1 l\n\n# comment\na/b_sync 2 x\n")
    with pytest.raises(ValueError, match=r"split.txt:4"):
        kitti.read_split_file(f)


def test_depth_png_roundtrip(tmp_path: Path) -> None:
    d = np.array([[0.0, 1.0, 80.5], [255.99, 0.0, 3.25]], dtype=np.float32)
    kitti.write_kitti_depth_png(tmp_path / "g.png", d)
    back = kitti.read_kitti_depth_png(tmp_path / "g.png")
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, d, atol=1 / 512)
    assert back[0, 0] == 0 and back[1, 1] == 0


def test_export_eigen_gt_and_cli(synth_kitti, tmp_path: Path) -> None:
    date, scan = synth_kitti
    root = date.parent
    # second frame = a copy of the scan, on the right camera
    scan2 = scan.with_name("0000000007.bin")
    scan2.write_bytes(scan.read_bytes())
    split = tmp_path / "test_files.txt"
    split.write_text("2011_01_01/2011_01_01_drive_0001_sync 0 l\n2011_01_01/2011_01_01_drive_0001_sync 7 r\n")
    from s2rdepth.cli import main

    out = tmp_path / "gt" / "gt.npz"
    assert main(["prepare-kitti-gt", "--data", str(root), "--split", str(split), "--out", str(out)]) == 0
    with np.load(out, allow_pickle=False) as z:
        assert set(z.files) >= {"depth", "shapes", "offsets", "lines"}
        assert z["depth"].dtype == np.float32
    maps, lines = kitti.load_eigen_gt(out)
    assert lines == ["2011_01_01/2011_01_01_drive_0001_sync 0000000000 l",
                     "2011_01_01/2011_01_01_drive_0001_sync 0000000007 r"]
    np.testing.assert_array_equal(maps[0], kitti.generate_depth_map(date, scan, cam=2).astype(np.float32))
    np.testing.assert_array_equal(maps[1], kitti.generate_depth_map(date, scan2, cam=3).astype(np.float32))
    # a missing frame: error names the file, exit status 2
    split.write_text("2011_01_01/2011_01_01_drive_0001_sync 3 l\n")
    assert main(["prepare-kitti-gt", "--data", str(root), "--split", str(split), "--out", str(out)]) == 2


# --------------------------------------------------------------------------------------------------
# the real KITTI frame
# --------------------------------------------------------------------------------------------------
@pytest.mark.realdata
@needs_realdata
@pytest.mark.parametrize("faithful", [True, False])
def test_real_frame_matches_loop(faithful: bool) -> None:
    got = kitti.generate_depth_map(KITTI_DATE, KITTI_SCAN, cam=2, vel_depth=True, faithful=faithful)
    ref = loop_depth_map(KITTI_DATE, KITTI_SCAN, 2, True, faithful)
    np.testing.assert_array_equal(got, ref)


@pytest.mark.realdata
@needs_realdata
def test_real_frame_facts() -> None:
    d = kitti.generate_depth_map(KITTI_DATE, KITTI_SCAN)
    assert d.shape == (375, 1242)
    valid = d[d > 0]
    assert 0.042 < valid.size / d.size < 0.044
    assert 4.7 < valid.min() < 4.9 and 79.4 < valid.max() < 79.6
    # the corrected mode differs only where the quirk's collisions fall (first/last columns)
    fixed = kitti.generate_depth_map(KITTI_DATE, KITTI_SCAN, faithful=False)
    cols = np.argwhere(d != fixed)[:, 1]
    assert np.all((cols == 0) | (cols == 1241))
    # camera-z depth is close to velodyne-x depth (the Velodyne sits ~0.27 m behind camera 0)
    dz = kitti.generate_depth_map(KITTI_DATE, KITTI_SCAN, vel_depth=False)
    both = (d > 0) & (dz > 0)
    assert np.median(np.abs(d[both] - dz[both])) < 0.5
