"""Each reader on a small tree in its real on-disk layout, written here with real file formats."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from s2rdepth.data import (
    CityscapesDataset, ImageFolderDataset, KittiRawDataset, NyuFolderDataset, NyuV2MatDataset,
    PairedFolderDataset, VKitti1Dataset, VKitti2Dataset, kitti,
)
from s2rdepth.data.io import DataFileError, MissingFileError
from s2rdepth.data.labels import VKITTI2_DEFAULT_COLORS

REPO = Path(__file__).resolve().parents[1]
REALDATA = (REPO / ".." / "shared" / "realdata").resolve()

H, W = 12, 20


# ----------------------------------------------------------------------------------- writers
def write_rgb(path: Path, arr: np.ndarray, **kw) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr.astype(np.uint8)).save(path, **kw)


def write_u16(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(arr, dtype=np.uint16)).save(path)


def rgb_pattern(seed: int, h: int = H, w: int = W) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def check_common(s: dict, h: int = H, w: int = W, labels: bool = True) -> None:
    assert s["image"].dtype == torch.uint8 and s["image"].shape == (3, h, w)
    assert s["depth"].dtype == torch.float32 and s["depth"].shape == (1, h, w)
    assert s["valid"].dtype == torch.bool and torch.equal(s["valid"], s["depth"] > 0)
    if labels:
        assert s["label"].dtype == torch.int64 and s["label"].shape == (h, w)
    assert isinstance(s["name"], str) and s["skipped"] == 0


# ----------------------------------------------------------------------------------- vKITTI 1.3.1
VK1_ENC = {"Sky": (90, 200, 255), "Road": (100, 60, 100), "GuardRail": (255, 100, 255),
           "Car:0": (200, 200, 200), "Car:1": (201, 130, 57), "Van:0": (12, 34, 56), "Tree": (0, 199, 0)}


def make_vkitti1(root: Path, prefix: str = "", frames: int = 2) -> None:
    for world, var in [("0001", "clone"), ("0001", "fog"), ("0002", "clone")]:
        (root / f"{prefix}scenegt").mkdir(parents=True, exist_ok=True)
        lines = ["Category(:id) r g b"] + [f"{k} {r} {g} {b}" for k, (r, g, b) in VK1_ENC.items()]
        (root / f"{prefix}scenegt" / f"{world}_{var}_scenegt_rgb_encoding.txt").write_text("\n".join(lines) + "\n")
        for i in range(frames):
            rel = Path(world) / var / f"{i:05d}.png"
            write_rgb(root / f"{prefix}rgb" / rel, rgb_pattern(i))
            depth = np.full((H, W), 1234, np.uint16)
            depth[:3] = 65535  # sky
            depth[5, 5] = 9000  # beyond the 80 m cap
            write_u16(root / f"{prefix}depthgt" / rel, depth)
            seg = np.zeros((H, W, 3), np.uint8)
            seg[:3] = VK1_ENC["Sky"]
            seg[3:] = VK1_ENC["Road"]
            seg[6:8, 0:4] = VK1_ENC["Car:0"]
            seg[6:8, 4:8] = VK1_ENC["Car:1"]
            seg[6:8, 8:10] = VK1_ENC["Van:0"]
            seg[9, :] = VK1_ENC["GuardRail"]
            seg[10, :] = (1, 2, 3)  # a colour not in the table
            seg[11, :] = VK1_ENC["Tree"]
            write_rgb(root / f"{prefix}scenegt" / rel, seg)


@pytest.mark.parametrize("prefix", ["", "vkitti_1.3.1_"])
def test_vkitti1(tmp_path: Path, prefix: str) -> None:
    make_vkitti1(tmp_path, prefix)
    ds = VKitti1Dataset(tmp_path)
    assert len(ds) == 6
    s = ds[0]
    check_common(s)
    assert s["name"] == "0001/clone/00000"
    np.testing.assert_array_equal(s["image"].permute(1, 2, 0).numpy(), rgb_pattern(0))
    d = s["depth"][0]
    assert torch.all(d[:3] == 80.0)  # sky: 65535 -> clipped to 8000 cm -> 80 m, valid
    assert d[5, 5] == 80.0 and d[4, 4] == pytest.approx(12.34)
    lab = s["label"]
    assert torch.all(lab[:3] == 10) and lab[4, 0] == 0  # sky, road
    assert torch.all(lab[6:8, 0:10] == 13)  # Car:0, Car:1, Van:0 -> car
    assert torch.all(lab[9] == 255) and torch.all(lab[10] == 255)  # GuardRail, unknown colour
    assert torch.all(lab[11] == 8)  # Tree -> vegetation

    sub = VKitti1Dataset(tmp_path, worlds=["0001"], variations=["fog"], max_depth=None, label_set="native")
    assert len(sub) == 2 and sub[1]["name"] == "0001/fog/00001"
    assert sub[0]["depth"][0, 0, 0] == pytest.approx(655.35)
    assert sub[0]["label"][0, 0] == 1 and sub[0]["label"][6, 0] == 12  # native: Sky=1, Car=12
    with pytest.raises(MissingFileError, match="0009"):
        VKitti1Dataset(tmp_path, worlds=["0009"])


def test_vkitti1_missing_encoding_and_depth(tmp_path: Path) -> None:
    make_vkitti1(tmp_path, frames=1)
    (tmp_path / "scenegt" / "0002_clone_scenegt_rgb_encoding.txt").unlink()
    with pytest.raises(MissingFileError, match="0002_clone_scenegt_rgb_encoding.txt"):
        VKitti1Dataset(tmp_path)
    ds = VKitti1Dataset(tmp_path, load_labels=False)
    assert "label" not in ds[0]
    (tmp_path / "depthgt" / "0001" / "fog" / "00000.png").unlink()
    with pytest.raises(MissingFileError, match=r"depthgt/0001/fog/00000.png"):
        VKitti1Dataset(tmp_path, load_labels=False)
    with pytest.warns(RuntimeWarning, match="00000.png"):
        ds = VKitti1Dataset(tmp_path, load_labels=False, on_error="skip")
    assert len(ds) == 2 and ds.num_skipped == 1


# ----------------------------------------------------------------------------------- vKITTI 2
def make_vkitti2(root: Path, with_colors: bool = True) -> None:
    for scene in ("Scene01", "Scene02"):
        base = root / scene / "clone"
        if with_colors:
            base.mkdir(parents=True, exist_ok=True)
            lines = ["Category r g b"] + [f"{k} {r} {g} {b}" for k, (r, g, b) in VKITTI2_DEFAULT_COLORS.items()]
            (base / "colors.txt").write_text("\n".join(lines) + "\n")
        for cam in ("Camera_0", "Camera_1"):
            for i in range(2):
                write_rgb(base / "frames" / "rgb" / cam / f"rgb_{i:05d}.jpg", np.full((H, W, 3), 120, np.uint8),
                          quality=95)
                depth = np.full((H, W), 2500, np.uint16)
                depth[0] = 65535
                write_u16(base / "frames" / "depth" / cam / f"depth_{i:05d}.png", depth)
                seg = np.zeros((H, W, 3), np.uint8)
                seg[:] = VKITTI2_DEFAULT_COLORS["Road"]
                seg[0] = VKITTI2_DEFAULT_COLORS["Sky"]
                seg[5, :5] = VKITTI2_DEFAULT_COLORS["Van"]
                seg[6, :] = VKITTI2_DEFAULT_COLORS["Undefined"]
                seg[7, :] = VKITTI2_DEFAULT_COLORS["Truck"]
                write_rgb(base / "frames" / "classSegmentation" / cam / f"classgt_{i:05d}.png", seg)


@pytest.mark.parametrize("with_colors", [True, False])
def test_vkitti2(tmp_path: Path, with_colors: bool) -> None:
    make_vkitti2(tmp_path, with_colors)
    ds = VKitti2Dataset(tmp_path)
    assert len(ds) == 4  # Camera_0 only by default
    s = ds[3]
    check_common(s)
    assert s["name"] == "Scene02/clone/Camera_0/rgb_00001"
    assert abs(int(s["image"].float().mean()) - 120) <= 2  # JPEG
    assert torch.all(s["depth"][0, 0] == 80.0) and s["depth"][0, 3, 3] == pytest.approx(25.0)
    lab = s["label"]
    assert torch.all(lab[0] == 10) and lab[3, 3] == 0 and torch.all(lab[5, :5] == 13)
    assert torch.all(lab[6] == 255) and torch.all(lab[7] == 14)
    both = VKitti2Dataset(tmp_path, cameras=("Camera_0", "Camera_1"), max_depth=None, label_set="native")
    assert len(both) == 8
    s = both[0]
    assert s["depth"][0, 0, 0] == pytest.approx(655.35)
    assert s["label"][0, 0] == 1 and s["label"][6, 0] == 14  # native: Sky=1, Undefined=14


def test_vkitti2_split_modality_trees(tmp_path: Path) -> None:
    make_vkitti2(tmp_path / "all")
    # the official archives: vkitti_2.0.3_rgb/Scene01/..., vkitti_2.0.3_depth/Scene01/..., ...
    import shutil

    for mod in ("rgb", "depth", "classSegmentation"):
        for scene in ("Scene01", "Scene02"):
            src = tmp_path / "all" / scene / "clone" / "frames" / mod
            dst = tmp_path / "split" / f"vkitti_2.0.3_{mod}" / scene / "clone" / "frames" / mod
            shutil.copytree(src, dst)
    ds = VKitti2Dataset(tmp_path / "split")
    assert len(ds) == 4
    check_common(ds[0])


# ----------------------------------------------------------------------------------- KITTI raw
from test_kitti_gt import _write_calib, _write_scan, _velo_point, W as KW, H as KH  # noqa: E402


def make_kitti(root: Path) -> Path:
    date = root / "2011_01_01"
    _write_calib(date)
    drive = date / "2011_01_01_drive_0001_sync"
    rng = np.random.default_rng(1)
    for i in range(3):
        write_rgb(drive / "image_02" / "data" / f"{i:010d}.png", rgb_pattern(i, KH, KW))
        write_rgb(drive / "image_03" / "data" / f"{i:010d}.png", rgb_pattern(10 + i, KH, KW))
        pts = [_velo_point(int(r), int(c), float(d)) for r, c, d in
               zip(rng.integers(0, KH, 80), rng.integers(0, KW, 80), rng.uniform(3, 70, 80))]
        _write_scan(drive / "velodyne_points" / "data" / f"{i:010d}.bin", pts)
        gt = np.zeros((KH, KW), np.uint16)
        gt[2:4, 2:9] = 256 * 10 + 128  # 10.5 m
        write_u16(drive / "proj_depth" / "groundtruth" / "image_02" / f"{i:010d}.png", gt)
    split = root / "split.txt"
    split.write_text("2011_01_01/2011_01_01_drive_0001_sync 0000000002 l\n2011_01_01/2011_01_01_drive_0001_sync 1 l\n")
    return split


def test_kitti_raw_velodyne(tmp_path: Path) -> None:
    split = make_kitti(tmp_path)
    ds = KittiRawDataset(tmp_path, split)
    assert len(ds) == 2
    s = ds[0]
    check_common(s, KH, KW, labels=False)
    assert s["name"] == "2011_01_01/2011_01_01_drive_0001_sync 0000000002 l" and s["depth_sparse"] is True
    np.testing.assert_array_equal(s["image"].permute(1, 2, 0).numpy(), rgb_pattern(2, KH, KW))
    date = tmp_path / "2011_01_01"
    ref = kitti.generate_depth_map(date, date / "2011_01_01_drive_0001_sync/velodyne_points/data/0000000002.bin")
    np.testing.assert_array_equal(s["depth"][0].numpy(), ref.astype(np.float32))
    assert s["valid"].sum() > 20
    # no split: every image_02 frame; right camera via split side
    assert len(KittiRawDataset(tmp_path, None, gt=None)) == 3
    assert len(KittiRawDataset(tmp_path, None, gt=None, sides=("l", "r"))) == 6
    r = KittiRawDataset(tmp_path, ["2011_01_01/2011_01_01_drive_0001_sync 0 r"])[0]
    np.testing.assert_array_equal(r["image"].permute(1, 2, 0).numpy(), rgb_pattern(10, KH, KW))
    assert r["cam"] == 3


def test_kitti_raw_groundtruth_npz_template(tmp_path: Path) -> None:
    split = make_kitti(tmp_path)
    g = KittiRawDataset(tmp_path, split, gt="groundtruth")[1]
    assert g["depth"][0, 3, 3] == pytest.approx(10.5) and int(g["valid"].sum()) == 14
    out = tmp_path / "gt.npz"
    kitti.export_eigen_gt(tmp_path, split, out)
    n = KittiRawDataset(tmp_path, split, gt="npz", gt_file=out)
    v = KittiRawDataset(tmp_path, split)
    assert torch.equal(n[0]["depth"], v[0]["depth"]) and torch.equal(n[1]["depth"], v[1]["depth"])
    out_png = tmp_path / "gt_png.npz"
    kitti.export_eigen_gt(tmp_path, split, out_png, source="groundtruth")
    maps, lines = kitti.load_eigen_gt(out_png)
    assert len(maps) == 2 and maps[1][3, 3] == pytest.approx(10.5) and lines[1].endswith("0000000001 l")
    t = KittiRawDataset(tmp_path, split, gt="template", gt_dense=True,
                        gt_template="{root}/{drive}/proj_depth/groundtruth/image_0{cam}/{frame:010d}.png")
    s = t[0]
    assert s["depth_sparse"] is False and s["depth"][0, 3, 3] == pytest.approx(10.5)


def test_kitti_raw_missing_files(tmp_path: Path) -> None:
    split = make_kitti(tmp_path)
    scan = tmp_path / "2011_01_01/2011_01_01_drive_0001_sync/velodyne_points/data/0000000001.bin"
    scan.unlink()
    with pytest.raises(MissingFileError, match="0000000001.bin"):
        KittiRawDataset(tmp_path, split)
    ds = KittiRawDataset(tmp_path, split, check_files=False)
    ds[0]
    with pytest.raises(MissingFileError, match="0000000001.bin"):
        ds[1]
    (tmp_path / "2011_01_01" / "calib_cam_to_cam.txt").unlink()
    with pytest.raises(FileNotFoundError, match="calib_cam_to_cam.txt"):
        KittiRawDataset(tmp_path, split, check_files=False)
    with pytest.warns(RuntimeWarning, match="calib_cam_to_cam.txt"), pytest.raises(ValueError, match="no KITTI frames"):
        KittiRawDataset(tmp_path, split, on_error="skip")


@pytest.mark.realdata
@pytest.mark.skipif(not (REALDATA / "kitti_raw").is_dir(), reason=f"real KITTI sample absent: {REALDATA}/kitti_raw")
def test_kitti_raw_real_frame() -> None:
    ds = KittiRawDataset(REALDATA / "kitti_raw", ["2011_09_26/2011_09_26_drive_0086_sync 108 l"])
    s = ds[0]
    assert s["image"].shape == (3, 375, 1242) and s["depth"].shape == (1, 375, 1242)
    assert 0.042 < s["valid"].float().mean() < 0.044


@pytest.mark.realdata
@pytest.mark.skipif(not (REALDATA / "splits").is_dir(), reason=f"real split files absent: {REALDATA}/splits")
def test_real_split_files() -> None:
    e = kitti.read_split_file(REALDATA / "splits" / "eigen" / "test_files.txt")
    assert len(e) == 697 and e[0].frame == 69 and e[0].side == "l"
    assert len(kitti.read_split_file(REALDATA / "splits" / "eigen_benchmark" / "test_files.txt")) == 652


# ----------------------------------------------------------------------------------- Cityscapes
def make_cityscapes(root: Path) -> None:
    for city, n in (("aachen", 2), ("bochum", 1)):
        for i in range(n):
            prefix = f"{city}_000000_{i:06d}"
            sub = Path("train") / city
            write_rgb(root / "leftImg8bit" / sub / f"{prefix}_leftImg8bit.png", rgb_pattern(i))
            disp = np.full((H, W), 1 + 256 * 20, np.uint16)  # disparity 20 px
            disp[0] = 0
            disp[1] = 1  # disparity 0 -> invalid
            write_u16(root / "disparity" / sub / f"{prefix}_disparity.png", disp)
            cam = {"extrinsic": {"baseline": 0.2, "pitch": 0.04, "roll": 0, "x": 1.7, "y": 0.1, "yaw": 0.0, "z": 1.2},
                   "intrinsic": {"fx": 2000.0 + 100 * i, "fy": 2000.0, "u0": 1000.0, "v0": 500.0}}
            (root / "camera" / sub).mkdir(parents=True, exist_ok=True)
            (root / "camera" / sub / f"{prefix}_camera.json").write_text(json.dumps(cam))
            ids = np.full((H, W), 7, np.uint8)  # road
            ids[2] = 26  # car
            ids[3] = 0  # unlabeled
            ids[4] = 14  # guard rail (ignored in training)
            ids[5] = 33  # bicycle
            (root / "gtFine" / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(ids).save(root / "gtFine" / sub / f"{prefix}_gtFine_labelIds.png")


def test_cityscapes(tmp_path: Path) -> None:
    make_cityscapes(tmp_path)
    ds = CityscapesDataset(tmp_path, "train")
    assert len(ds) == 3
    s = ds[1]
    check_common(s)
    assert s["name"] == "train/aachen/aachen_000000_000001"
    d = s["depth"][0]
    assert torch.all(d[:2] == 0)
    assert d[5, 5] == pytest.approx(0.2 * 2100.0 / 20.0)
    lab = s["label"]
    assert torch.all(lab[2] == 13) and torch.all(lab[3] == 255) and torch.all(lab[4] == 255)
    assert torch.all(lab[5] == 18) and lab[8, 8] == 0
    capped = CityscapesDataset(tmp_path, "train", cities=["bochum"], max_depth=15.0, load_labels=False)
    assert len(capped) == 1 and capped[0]["depth"].max() == 15.0 and "label" not in capped[0]


def test_cityscapes_bad_camera(tmp_path: Path) -> None:
    make_cityscapes(tmp_path)
    bad = tmp_path / "camera/train/bochum/bochum_000000_000000_camera.json"
    bad.write_text("{not json")
    with pytest.raises(DataFileError, match="bochum_000000_000000_camera.json"):
        CityscapesDataset(tmp_path)
    with pytest.warns(RuntimeWarning):
        ds = CityscapesDataset(tmp_path, on_error="skip")
    assert len(ds) == 2 and ds.num_skipped == 1


# ----------------------------------------------------------------------------------- NYU
def make_nyu_mat(path: Path, n: int = 3, h: int = 6, w: int = 8) -> tuple[np.ndarray, np.ndarray]:
    import h5py

    rng = np.random.default_rng(3)
    imgs = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    depths = rng.uniform(0.5, 9.5, (n, h, w)).astype(np.float32)
    with h5py.File(path, "w") as f:  # MATLAB v7.3 stores the transpose of the MATLAB array
        f["images"] = imgs.transpose(0, 3, 2, 1)  # (N, 3, W, H)
        f["depths"] = depths.transpose(0, 2, 1)  # (N, W, H)
        f["labels"] = np.zeros((n, w, h), np.uint16)
    return imgs, depths


def test_nyu_mat(tmp_path: Path) -> None:
    pytest.importorskip("h5py")
    mat = tmp_path / "nyu_depth_v2_labeled.mat"
    imgs, depths = make_nyu_mat(mat)
    ds = NyuV2MatDataset(mat)
    assert len(ds) == 3
    s = ds[2]
    check_common(s, 6, 8, labels=False)
    np.testing.assert_array_equal(s["image"].permute(1, 2, 0).numpy(), imgs[2])
    np.testing.assert_array_equal(s["depth"][0].numpy(), depths[2])
    sub = NyuV2MatDataset(mat, indices=[1], max_depth=8.0)
    assert len(sub) == 1 and sub[0]["name"] == "nyu_00001" and sub[0]["depth"].max() <= 8.0
    with pytest.raises(IndexError):
        NyuV2MatDataset(mat, indices=[5])
    txt = tmp_path / "old.mat"
    txt.write_bytes(b"MATLAB 5.0 MAT-file" + b"\x00" * 200)
    with pytest.raises(DataFileError, match="old.mat"):
        NyuV2MatDataset(txt)


def test_nyu_mat_in_workers(tmp_path: Path) -> None:
    pytest.importorskip("h5py")
    mat = tmp_path / "nyu.mat"
    imgs, _ = make_nyu_mat(mat, n=4)
    ds = NyuV2MatDataset(mat)
    ds[0]  # opens the handle in the main process: pickling must still work
    loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2)
    batches = list(loader)
    got = torch.cat([b["image"] for b in batches]).permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(got, imgs)


def test_nyu_folder(tmp_path: Path) -> None:
    for i in range(2):
        write_rgb(tmp_path / "rgb" / f"rgb_{i:05d}.jpg", rgb_pattern(i, 8, 10))
        dm = np.full((8, 10), 2500 + i, np.uint16)
        dm[0, 0] = 0
        write_u16(tmp_path / "depth" / f"sync_depth_{i:05d}.png", dm)
    ds = NyuFolderDataset(tmp_path)
    assert len(ds) == 2 and ds[1]["name"] == "00001"
    s = ds[1]
    assert s["depth"][0, 1, 1] == pytest.approx(2.501) and not s["valid"][0, 0, 0]
    # one-folder "sync" layout: <scene>/rgb_*.jpg beside sync_depth_*.png
    one = tmp_path / "sync" / "kitchen_0001"
    write_rgb(one / "rgb_00000.jpg", rgb_pattern(0, 8, 10))
    write_u16(one / "sync_depth_00000.png", np.full((8, 10), 1000, np.uint16))
    ds2 = NyuFolderDataset(tmp_path / "sync")
    assert len(ds2) == 1 and ds2[0]["name"] == "kitchen_0001/00000" and ds2[0]["depth"].max() == 1.0


@pytest.mark.realdata
@pytest.mark.skipif(not (REALDATA / "nyu_depth_v2").is_dir(), reason=f"real NYU sample absent: {REALDATA}/nyu_depth_v2")
def test_nyu_folder_real() -> None:
    s = NyuFolderDataset(REALDATA / "nyu_depth_v2")[0]
    assert s["image"].shape == (3, 480, 640) and s["depth"].shape == (1, 480, 640)
    v = s["depth"][s["valid"]]
    assert 0.3 < float(v.min()) and float(v.max()) < 10.5


# ----------------------------------------------------------------------------------- generic folders
def test_paired_folder(tmp_path: Path) -> None:
    for seq in ("2018-07-09", "2018-07-10"):
        for i in range(2):
            write_rgb(tmp_path / "left" / seq / f"{seq}_{i}.jpg", rgb_pattern(i))
            write_u16(tmp_path / "depthmap" / seq / f"{seq}_{i}.png", np.full((H, W), 256 * (i + 1), np.uint16))
    np.save(tmp_path / "depthmap" / "2018-07-10" / "extra.npy", np.ones((H, W)))  # no image: ignored
    ds = PairedFolderDataset(tmp_path / "left", tmp_path / "depthmap", depth_scale=1 / 256, sparse=True)
    assert len(ds) == 4 and [ds[i]["name"] for i in range(2)] == ["2018-07-09/2018-07-09_0", "2018-07-09/2018-07-09_1"]
    assert ds[1]["depth"].max() == 2.0 and ds[1]["depth_sparse"] is True
    # .npy depth, stem matching across different folder structures, suffixes
    write_rgb(tmp_path / "img" / "a" / "scene_7_rgb.png", rgb_pattern(7))
    (tmp_path / "dep" / "b").mkdir(parents=True)
    np.save(tmp_path / "dep" / "b" / "scene_7_depth.npy", np.full((H, W), 3.5, np.float32))
    ds2 = PairedFolderDataset(tmp_path / "img", tmp_path / "dep", image_suffix="_rgb", depth_suffix="_depth",
                              match="stem", max_depth=3.0)
    assert len(ds2) == 1 and ds2[0]["name"] == "scene_7" and ds2[0]["depth"].max() == 3.0
    # an image without depth
    write_rgb(tmp_path / "left" / "2018-07-09" / "lonely.jpg", rgb_pattern(9))
    with pytest.raises(MissingFileError, match="lonely.jpg"):
        PairedFolderDataset(tmp_path / "left", tmp_path / "depthmap", depth_scale=1 / 256)
    ds3 = PairedFolderDataset(tmp_path / "left", tmp_path / "depthmap", depth_scale=1 / 256, unpaired="drop")
    assert len(ds3) == 4 and len(ds3.unpaired) == 1
    with pytest.raises(ValueError, match="prefix"):
        PairedFolderDataset(tmp_path / "left", tmp_path / "left")


def test_image_folder(tmp_path: Path) -> None:
    write_rgb(tmp_path / "b" / "x.png", rgb_pattern(1))
    write_rgb(tmp_path / "a.jpg", rgb_pattern(2))
    write_rgb(tmp_path / "c" / "d" / "e.bmp", rgb_pattern(3))
    Image.fromarray(np.full((H, W), 77, np.uint8)).save(tmp_path / "grey.gif")
    Image.fromarray(np.zeros((H, W, 4), np.uint8)).save(tmp_path / "rgba.webp")
    (tmp_path / "notes.txt").write_text("not an image")
    ds = ImageFolderDataset(tmp_path)
    assert [ds[i]["name"] for i in range(len(ds))] == ["a", "b/x", "c/d/e", "grey", "rgba"]
    for i in range(len(ds)):
        s = ds[i]
        assert s["image"].dtype == torch.uint8 and s["image"].shape == (3, H, W)
    assert torch.all(ds[3]["image"] == 77)
    np.testing.assert_array_equal(ds[2]["image"].permute(1, 2, 0).numpy(), rgb_pattern(3))
    assert len(ImageFolderDataset(tmp_path, recursive=False)) == 3
    assert len(ImageFolderDataset(tmp_path, exts=[".png"])) == 1
