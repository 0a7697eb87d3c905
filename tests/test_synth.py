"""The built-in scene generator (s2rdepth.data.synth): rendering, exactness, layouts, CLI."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from s2rdepth.data.synth import (
    DOMAINS, SYNTH_DATE, SYNTH_LABEL_NAMES, Scene, generate, kitti_calibration, parse_size, render_frame,
    render_scene, sample_scene,
)
from s2rdepth.data.synth.appearance import render_gbuffer
from s2rdepth.data.synth.labels import VKITTI1_COLORS, vkitti_instance_color
from s2rdepth.data.synth.scene import PrimitiveBuilder, camera_rotation
from s2rdepth.data.synth.writers import vkitti_encoding_text

REPO = Path(__file__).resolve().parents[1]
REAL_CALIB = (REPO / ".." / "shared" / "realdata" / "kitti_raw" / "2011_09_26").resolve()
SMALL = (64, 208)


def _tree_bytes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------ in memory
def test_render_scene_types_and_sky() -> None:
    f = render_scene(index=1, seed=0, size=(96, 320), domain="virtual")
    assert f.image.shape == (96, 320, 3) and f.image.dtype == np.uint8
    assert f.depth.shape == (96, 320) and f.depth.dtype == np.float32
    assert f.labels.shape == (96, 320) and f.labels.dtype == np.uint8
    sky = f.labels == 10
    assert sky.any() and (~sky).any()
    assert np.array_equal(~np.isfinite(f.depth), sky)  # sky <=> +inf depth
    assert np.all(f.depth[~sky] > 0.5)
    assert set(np.unique(f.labels)) <= set(SYNTH_LABEL_NAMES)


def test_same_seed_same_arrays_different_seed_different() -> None:
    for dom in DOMAINS:
        a = render_scene(3, 7, SMALL, dom)
        b = render_scene(3, 7, SMALL, dom)
        assert all(np.array_equal(x, y) for x, y in zip(a, b)), dom
    c = render_scene(3, 8, SMALL, "virtual")
    assert not np.array_equal(a.depth, c.depth)


def test_domains_share_geometry_differ_in_appearance() -> None:
    frames = {d: render_scene(5, 0, (96, 320), d) for d in DOMAINS}
    v = frames["virtual"]
    for d in ("real", "painting"):
        assert np.array_equal(frames[d].depth, v.depth)
        assert np.array_equal(frames[d].labels, v.labels)
        diff = np.abs(frames[d].image.astype(float) - v.image.astype(float)).mean()
        assert diff > 10, (d, diff)


def test_geometry_is_independent_of_image_size() -> None:
    a = sample_scene(0, 4)
    b = sample_scene(0, 4)
    assert np.array_equal(a.prims.params, b.prims.params) and np.array_equal(a.cam_rotation, b.cam_rotation)
    big = render_scene(4, 0, (128, 416), "virtual")
    small = render_scene(4, 0, (64, 208), "virtual")
    assert big.depth.shape == (128, 416) and small.depth.shape == (64, 208)


@pytest.mark.parametrize("pitch_deg", [0.0, 2.0])
def test_flat_road_depth_is_exact(pitch_deg: float) -> None:
    h_cam = 1.65
    scene = Scene.flat_road(camera_height=h_cam, pitch=np.deg2rad(pitch_deg))
    calib = kitti_calibration(96, 320)
    gb = render_gbuffer(scene, calib)
    rows = np.arange(96, dtype=np.float64)
    yn = (rows - calib.cy) / calib.fy
    th = np.deg2rad(pitch_deg)
    # ray (x, yn, 1) in the camera; its downward world component is yn cos(th) + sin(th)
    down = yn * np.cos(th) + np.sin(th)
    with np.errstate(divide="ignore"):
        expected = np.where(down > 0, h_cam / down, np.inf)
    col = 160
    got = gb.depth[:, col]
    near = np.isfinite(expected) & (expected < 100)
    assert near.sum() > 20
    np.testing.assert_allclose(got[near], expected[near], rtol=1e-12)
    if pitch_deg == 0.0:  # the textbook form h * f / (v - cy)
        v = rows[near]
        np.testing.assert_allclose(got[near], h_cam * calib.fy / (v - calib.cy), rtol=1e-12)
    assert np.all(~np.isfinite(got[down <= 0]))  # above the horizon: sky
    assert np.all(gb.labels[near, col] == 0)  # road
    # float32 output of the public API carries the same values
    f = render_frame(scene, "virtual", (96, 320))
    np.testing.assert_allclose(f.depth[near, col], expected[near], rtol=1e-6)


def test_wall_and_sphere_depth_are_exact() -> None:
    b = PrimitiveBuilder()
    b.box((-20.0, 0.0, 12.0), (20.0, 30.0, 13.0), material=3)  # building wall facing the camera at z = 12
    b.ellipsoid((0.0, 1.65, 6.0), (1.0, 1.0, 1.0), material=9)  # sphere at eye height, 6 m ahead
    scene = Scene(prims=b.build(), cam_position=np.array([0.0, 1.65, 0.0]), cam_rotation=camera_rotation(0.0))
    calib = kitti_calibration(96, 320)
    gb = render_gbuffer(scene, calib)
    wall = gb.ids == 0
    assert wall.sum() > 1000
    np.testing.assert_allclose(gb.depth[wall], 12.0, rtol=1e-12)
    assert np.all(gb.labels[wall] == 2)
    # principal ray hits the sphere's near pole at z = 5
    r, c = int(round(calib.cy)), int(round(calib.cx))
    yn, xn = (r - calib.cy) / calib.fy, (c - calib.cx) / calib.fx
    d = np.array([xn, -yn, 1.0])
    oc = np.array([0.0, 0.0, -6.0])  # origin minus centre, camera frame with y up
    a, hb, cc = d @ d, oc @ d, oc @ oc - 1.0
    assert np.isclose(gb.depth[r, c], (-hb - np.sqrt(hb * hb - a * cc)) / a, rtol=1e-12)
    assert gb.labels[r, c] == 8  # crown material -> vegetation


def test_parse_size_errors() -> None:
    assert parse_size("192x640") == (192, 640) and parse_size((96, 320)) == (96, 320)
    for bad in ("192by640", "x640", "-5x3", "3x4", "192x640x3", (0, 5)):
        with pytest.raises(ValueError, match="size"):
            parse_size(bad)


# ---------------------------------------------------------------------------------- calibration
def test_calibration_text_format_and_scaling() -> None:
    full = kitti_calibration(375, 1242)
    small = kitti_calibration(192, 640)
    keys_full = [ln.split(":")[0] for ln in full.cam_to_cam.splitlines()]
    keys_small = [ln.split(":")[0] for ln in small.cam_to_cam.splitlines()]
    assert keys_full == keys_small and keys_full[0] == "calib_time" and "P_rect_02" in keys_full
    assert small.cam_to_cam.splitlines()[0] == "calib_time: 09-Jan-2012 13:57:47"
    assert f"S_rect_02: {640:e} {192:e}" in small.cam_to_cam
    assert np.isclose(small.fx, 721.5377 * 640 / 1242, rtol=1e-6)
    assert np.isclose(small.cy, (172.854 + 0.5) * 192 / 375 - 0.5, rtol=1e-6)
    # velodyne about 1.73 m above the road for a 1.65 m camera: 8 cm above, 27 cm behind
    b = small.velo_to_cam_offset
    assert -0.09 < b[1] < -0.06 and -0.30 < b[2] < -0.25


@pytest.mark.skipif(not (REAL_CALIB / "calib_cam_to_cam.txt").is_file(), reason=f"real KITTI calibration absent: {REAL_CALIB}")
def test_calibration_matches_real_kitti_files() -> None:
    cal = kitti_calibration(375, 1242)
    for name, text in cal.files().items():
        assert (REAL_CALIB / name).read_text() == text, name


# ---------------------------------------------------------------------------------- layouts
def test_virtual_layout_and_vkitti_reader(tmp_path: Path) -> None:
    from s2rdepth.data import VKitti1Dataset
    from s2rdepth.data.labels import read_vkitti1_encoding

    out = tmp_path / "virtual"
    summary = generate(out, "virtual", 3, SMALL, seed=2, workers=1)
    assert summary["count"] == 3
    for i in range(3):
        for mod in ("rgb", "depthgt", "scenegt"):
            assert (out / mod / "0001" / "clone" / f"{i:05d}.png").is_file()
    enc = out / "scenegt" / "0001_clone_scenegt_rgb_encoding.txt"
    assert enc.read_text().startswith("Category(:id) r g b\n")
    table = read_vkitti1_encoding(enc)
    assert len(table) == len(enc.read_text().splitlines()) - 1  # colours are unique
    assert (out / "splits" / "train_files.txt").read_text().splitlines()[0] == "0001/clone 00000"
    with Image.open(out / "rgb" / "0001" / "clone" / "00000.png") as im:
        assert im.mode == "RGB" and im.size == (SMALL[1], SMALL[0])
    with Image.open(out / "depthgt" / "0001" / "clone" / "00000.png") as im:
        assert im.mode == "I;16"
        depth_cm = np.asarray(im)
    f = render_scene(0, 2, SMALL, "virtual")
    sky = f.labels == 10
    assert np.all(depth_cm[sky] == 65535) and np.all(depth_cm[~sky] < 65535)
    np.testing.assert_allclose(depth_cm[~sky] / 100.0, f.depth[~sky], atol=0.0051)
    # the package's vKITTI reader gives back the same image, depth and (vKITTI-expressible) labels
    ds = VKitti1Dataset(out, max_depth=None)
    assert len(ds) == 3
    s = ds[0]
    assert np.array_equal(s["image"].permute(1, 2, 0).numpy(), f.image)
    expected = f.labels.astype(np.int64)
    expected[np.isin(expected, (1, 3))] = 255  # vKITTI has no sidewalk / wall class: written as Misc
    assert np.array_equal(s["label"].numpy(), expected)
    np.testing.assert_allclose(s["depth"][0].numpy()[~sky], f.depth[~sky], atol=0.0051)


def test_real_layout_and_kitti_reader(tmp_path: Path) -> None:
    from s2rdepth.data import KittiRawDataset, read_split_file
    from s2rdepth.data.kitti import read_calib_file, read_kitti_depth_png

    out = tmp_path / "real"
    generate(out, "real", 3, SMALL, seed=4, workers=1, frames_per_sequence=2)
    date = out / SYNTH_DATE
    for name in ("calib_cam_to_cam.txt", "calib_velo_to_cam.txt", "calib_imu_to_velo.txt"):
        assert (date / name).is_file()
    c2c = read_calib_file(date / "calib_cam_to_cam.txt")
    assert tuple(c2c["S_rect_02"]) == (SMALL[1], SMALL[0])
    drive1, drive2 = date / f"{SYNTH_DATE}_drive_0001_sync", date / f"{SYNTH_DATE}_drive_0002_sync"
    files = [drive1 / "image_02" / "data" / "0000000000.png", drive1 / "image_02" / "data" / "0000000001.png",
             drive2 / "image_02" / "data" / "0000000000.png"]
    assert all(p.is_file() for p in files)
    scan = np.fromfile(drive1 / "velodyne_points" / "data" / "0000000000.bin", dtype=np.float32)
    assert scan.size % 4 == 0
    scan = scan.reshape(-1, 4)
    assert 60_000 < scan.shape[0] < 130_000
    assert np.all((scan[:, 3] >= 0) & (scan[:, 3] <= 0.99))
    assert np.linalg.norm(scan[:, :3], axis=1).max() <= 120.01
    gt = read_kitti_depth_png(drive1 / "proj_depth" / "groundtruth" / "image_02" / "0000000000.png")
    f = render_scene(0, 4, SMALL, "real")
    sky = f.labels == 10
    assert np.all(gt[sky] == 0)
    ok = ~sky & (f.depth < 255)
    np.testing.assert_allclose(gt[ok], f.depth[ok], atol=1 / 512 + 1e-4)
    entries = read_split_file(out / "splits" / "test_files.txt")
    assert [e.line() for e in entries] == [f"{SYNTH_DATE}/{SYNTH_DATE}_drive_0002_sync 0000000000 l"]
    ds = KittiRawDataset(out, split=out / "splits" / "train_files.txt", gt="groundtruth")
    assert len(ds) == 1 and ds[0]["image"].shape == (3, *SMALL)


def test_painting_layout(tmp_path: Path) -> None:
    from s2rdepth.data import ImageFolderDataset

    out = tmp_path / "paint"
    generate(out, "painting", 2, SMALL, seed=0, workers=1)
    assert sorted(p.name for p in out.glob("*.jpg")) == ["000000.jpg", "000001.jpg"]
    assert len(ImageFolderDataset(out)) == 2


def test_generate_is_byte_deterministic(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, "real", 2, SMALL, seed=11, workers=1, n_azimuth=500)
    generate(b, "real", 2, SMALL, seed=11, workers=2, n_azimuth=500)  # worker count does not matter
    generate(c, "real", 2, SMALL, seed=12, workers=1, n_azimuth=500)
    ha, hb, hc = _tree_bytes(a), _tree_bytes(b), _tree_bytes(c)
    assert ha == hb
    img = f"{SYNTH_DATE}/{SYNTH_DATE}_drive_0001_sync/image_02/data/0000000000.png"
    assert ha[img] != hc[img]


def test_generate_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="domain"):
        generate(tmp_path, "cartoon", 1)
    with pytest.raises(ValueError, match="count"):
        generate(tmp_path, "virtual", -2)
    with pytest.raises(ValueError, match="count"):
        generate(tmp_path, "virtual", 0)
    with pytest.raises(ValueError, match="size"):
        generate(tmp_path, "virtual", 1, size="640")
    with pytest.raises(ValueError, match="seed"):
        generate(tmp_path, "virtual", 1, seed=-1)
    with pytest.raises(ValueError, match="frames_per_sequence"):
        generate(tmp_path, "virtual", 51, size=SMALL, frames_per_sequence=1)
    with pytest.raises(ValueError, match="domain"):
        render_scene(0, 0, SMALL, "cartoon")
    assert not any(tmp_path.iterdir())  # nothing written on a bad call


def test_label_colours_are_unique() -> None:
    text = vkitti_encoding_text()
    colours = [tuple(int(x) for x in ln.split()[1:]) for ln in text.splitlines()[1:]]
    assert len(colours) == len(set(colours))
    assert vkitti_instance_color("Car", 3) not in VKITTI1_COLORS.values()


# ------------------------------------------------------------------------------------------ CLI
def test_cli_main(tmp_path: Path, capsys) -> None:
    from s2rdepth.cli import main

    out = tmp_path / "cli"
    rc = main(["synth", "--out", str(out), "--domain", "virtual", "--count", "2", "--size", "64x208",
               "--seed", "5", "--workers", "1", "--quiet"])
    assert rc == 0
    assert (out / "rgb" / "0001" / "clone" / "00001.png").is_file()
    assert "wrote 2 virtual frames" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--size", "192by640"], "size must be HxW"),
    (["--count", "-3"], "count must be a positive integer"),
    (["--domain", "cartoon"], "invalid choice"),
    (["--seed", "-1"], "seed must be a non-negative integer"),
])
def test_cli_bad_arguments(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    from s2rdepth.cli import main

    base = {"--out": str(tmp_path / "x"), "--domain": "virtual", "--count": "1"}
    for k, v in zip(args[::2], args[1::2]):
        base[k] = v
    argv = ["synth"] + [t for kv in base.items() for t in kv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "s2rdepth synth: error" in err and message in err


def test_cli_subprocess(tmp_path: Path) -> None:
    out = tmp_path / "sub"
    env_path = str(REPO / "python")
    proc = subprocess.run(
        [sys.executable, "-m", "s2rdepth", "synth", "--out", str(out), "--domain", "painting", "--count", "1",
         "--size", "48x160", "--workers", "1", "--json", "--quiet"],
        capture_output=True, text=True, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"}, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"domain": "painting"' in proc.stdout
    assert (out / "000000.jpg").is_file()


def test_examples_script(tmp_path: Path) -> None:
    from s2rdepth.data.synth.examples import write_examples

    paths = write_examples(tmp_path, seed=0, render_size=(64, 208), show_size=(32, 104))
    assert [p.name for p in paths] == ["synth_virtual_real.png", "synth_painting_depth_labels.png"]
    assert all(p.stat().st_size < 150_000 for p in paths)
