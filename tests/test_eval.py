"""Evaluation protocol, saved-prediction scoring against an independent NumPy implementation,
mismatch errors, result JSON and the comparison table (``s2rdepth evaluate --predictions``,
``s2rdepth compare``)."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import s2rdepth
from s2rdepth.cli import main
from s2rdepth.eval import (EvalProtocol, KittiEvalSet, PredictionError, PredictionFiles, compare_table,
                           default_protocol, evaluate, load_result, paper_rows)

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO.parent / "shared" / "spec" / "REFERENCE.md"
METRICS = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "a1", "a2", "a3")

# ------------------------------------------------------------------------------------------
# an independent NumPy implementation of the protocol (REFERENCE.md §3)
# ------------------------------------------------------------------------------------------
def np_bilinear(a: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Bilinear resize with half-pixel centres (align_corners=False), edges clamped, float64."""
    a = np.asarray(a, dtype=np.float64)
    in_h, in_w = a.shape

    def taps(n_out: int, n_in: int):
        src = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
        src = np.maximum(src, 0.0)
        i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, src - i0

    y0, y1, wy = taps(out_h, in_h)
    x0, x1, wx = taps(out_w, in_w)
    top = a[y0][:, x0] * (1 - wx) + a[y0][:, x1] * wx
    bottom = a[y1][:, x0] * (1 - wx) + a[y1][:, x1] * wx
    return top * (1 - wy)[:, None] + bottom * wy[:, None]


def np_protocol(pred: np.ndarray, gt: np.ndarray, cap: float, *, min_depth: float = 1e-3, crop: bool = True,
                median: bool = True, order: str = "monodepth2"):
    """Metrics of one image, or None when no pixel is valid (monodepth2-style NumPy)."""
    g = np.asarray(gt, dtype=np.float64)
    h, w = g.shape
    p = np_bilinear(pred, h, w)
    mask = (g > min_depth) & (g < cap)
    if crop:
        box = np.zeros_like(mask)
        box[int(0.40810811 * h):int(0.99189189 * h), int(0.03594771 * w):int(0.96405229 * w)] = True
        mask &= box
    gv, pv = g[mask], p[mask]
    if gv.size == 0:
        return None
    if order == "s2r":
        pv = np.clip(pv, min_depth, cap)
    ratio = np.median(gv) / np.median(pv) if median else 1.0
    pv = pv * ratio
    if order == "monodepth2":
        pv = np.clip(pv, min_depth, cap)
    th = np.maximum(gv / pv, pv / gv)
    return {"abs_rel": np.mean(np.abs(gv - pv) / gv), "sq_rel": np.mean((gv - pv) ** 2 / gv),
            "rmse": np.sqrt(np.mean((gv - pv) ** 2)), "rmse_log": np.sqrt(np.mean((np.log(gv) - np.log(pv)) ** 2)),
            "log10": np.mean(np.abs(np.log10(gv) - np.log10(pv))), "a1": np.mean(th < 1.25),
            "a2": np.mean(th < 1.25 ** 2), "a3": np.mean(th < 1.25 ** 3), "scale": ratio, "valid": gv.size}


def assert_matches_numpy(doc: dict, preds: list, gts: list, caps, **kw) -> None:
    for cap in caps:
        entry = doc["results"][f"{cap:g}"]
        ref = [np_protocol(p, g, cap, **kw) for p, g in zip(preds, gts)]
        rows = entry["per_image"]
        assert len(rows) == len(gts)
        for row, r in zip(rows, ref):
            if r is None:
                assert row["valid_pixels"] == 0 and row["abs_rel"] is None
                continue
            assert row["valid_pixels"] == r["valid"]
            for k in METRICS + ("scale",):
                assert row[k] == pytest.approx(r[k], rel=0, abs=1e-6), (k, row["name"])
        good = [r for r in ref if r is not None]
        assert entry["images"] == len(good) and entry["skipped"] == len(ref) - len(good)
        for k in METRICS:
            assert entry["means"][k] == pytest.approx(np.mean([r[k] for r in good]), rel=0, abs=1e-6), k


# ------------------------------------------------------------------------------------------
# fixtures: a small KITTI raw tree (calibration in the real format, Velodyne .bin scans)
# ------------------------------------------------------------------------------------------
_R_RECT = "9.999239e-01 9.837760e-03 -7.445048e-03 -9.869795e-03 9.999421e-01 -4.278459e-03 " \
          "7.402527e-03 4.351614e-03 9.999631e-01"
_VELO_R = "7.533745e-03 -9.999714e-01 -6.166020e-04 1.480249e-02 7.280733e-04 -9.998902e-01 " \
          "9.998621e-01 7.523790e-03 1.480755e-02"


def write_calib(date_dir: Path, h: int, w: int) -> None:
    """KITTI calibration files for an h x w rectified camera (KITTI intrinsics scaled)."""
    s = w / 1242.0
    f, cx, cy = 721.5377 * s, 609.5593 * s, 172.854 * (h / 375.0)
    date_dir.mkdir(parents=True, exist_ok=True)
    (date_dir / "calib_cam_to_cam.txt").write_text(
        "calib_time: 09-Jan-2012 13:57:47\ncorner_dist: 9.950000e-02\n"
        f"S_rect_00: {w:e} {h:e}\nR_rect_00: {_R_RECT}\n"
        f"P_rect_00: {f:e} 0 {cx:e} 0 0 {f:e} {cy:e} 0 0 0 1 0\n"
        f"S_rect_02: {w:e} {h:e}\nR_rect_02: {_R_RECT}\n"
        f"P_rect_02: {f:e} 0 {cx:e} {44.85728 * s:e} 0 {f:e} {cy:e} 2.163791e-01 0 0 1 2.745884e-03\n")
    (date_dir / "calib_velo_to_cam.txt").write_text(
        f"calib_time: 15-Mar-2012 11:37:16\nR: {_VELO_R}\nT: -4.069766e-03 -7.631618e-02 -2.717806e-01\n"
        "delta_f: 0 0\ndelta_c: 0 0\n")


def write_scan(path: Path, rng: np.random.Generator, n: int) -> None:
    """Random Velodyne points in front of the car, 2-95 m (some beyond both caps)."""
    x = rng.uniform(2.0, 95.0, n)
    y = rng.uniform(-0.45, 0.45, n) * x
    z = rng.uniform(-1.75, 0.12, n) * np.sqrt(x)
    pts = np.stack([x, y, z, rng.uniform(0, 1, n)], 1).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    pts.tofile(path)


def make_kitti_tree(root: Path, seed: int = 0) -> tuple[Path, list[str]]:
    """Two dates with different image sizes; frame 2 of the first drive has an empty scan (no
    valid pixel). Returns (split file, split lines)."""
    rng = np.random.default_rng(seed)
    lines = []
    for date, (h, w), frames in (("2011_09_26", (48, 160), (0, 1, 2, 3)), ("2011_09_28", (50, 166), (5, 7))):
        write_calib(root / date, h, w)
        drive = f"{date}/{date}_drive_0001_sync"
        for fr in frames:
            img = (rng.uniform(0, 1, (h, w, 3)) * 255).astype(np.uint8)
            ip = root / drive / "image_02" / "data" / f"{fr:010d}.png"
            ip.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(ip)
            empty = date == "2011_09_26" and fr == 2
            write_scan(root / drive / "velodyne_points" / "data" / f"{fr:010d}.bin", rng, 0 if empty else 6000)
            lines.append(f"{drive} {fr} l")
    split = root / "test_files.txt"
    split.write_text("\n".join(lines) + "\n")
    return split, lines


def kitti_gt(root: Path, line: str) -> np.ndarray:
    from s2rdepth.data.kitti import generate_depth_map

    drive, frame, _ = line.split()
    date = drive.split("/")[0]
    return generate_depth_map(root / date, root / drive / "velodyne_points" / "data" / f"{int(frame):010d}.bin",
                              cam=2).astype(np.float32)


@pytest.fixture(scope="module")
def kitti_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("kitti_raw")
    split, lines = make_kitti_tree(root)
    gts = [kitti_gt(root, ln) for ln in lines]
    return root, split, lines, gts


def random_preds(n: int, hw=(20, 64), seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.5, 100.0, (n, 1, 1))
    return (base * rng.uniform(0.3, 1.7, (n, *hw))).astype(np.float32)


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


# ------------------------------------------------------------------------------------------
# protocol objects
# ------------------------------------------------------------------------------------------
def test_default_protocols():
    k = default_protocol("kitti")
    assert (k.caps, k.crop, k.min_depth, k.median_scaling, k.order) == ((80.0,), "garg", 1e-3, True, "monodepth2")
    assert k.columns == ("abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3")
    n = default_protocol("nyu")
    assert n.caps == (8.0,) and n.crop is None and "log10" in n.columns
    assert default_protocol("kitti", caps=[80, 50], crop="none", order="s2r").crop is None
    d = default_protocol("kitti", caps=[80, 50]).to_dict()
    assert d["caps"] == [80.0, 50.0] and d["order"] == "monodepth2" and "bilinear" in d["resize"]
    with pytest.raises(ValueError):
        EvalProtocol(caps=(80.0, 80.0))
    with pytest.raises(ValueError):
        EvalProtocol(caps=(1e-4,))
    with pytest.raises(ValueError):
        EvalProtocol(order="median")


def test_numpy_bilinear_matches_torch():
    import torch

    a = np.random.default_rng(0).uniform(0, 80, (7, 13))
    for hw in ((20, 31), (3, 5), (7, 13)):
        ours = np_bilinear(a, *hw)
        ref = torch.nn.functional.interpolate(torch.from_numpy(a)[None, None], size=hw, mode="bilinear",
                                              align_corners=False)[0, 0].numpy()
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------------------
# --predictions against the NumPy protocol
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["npy", "npz", "folder_npy", "folder_png"])
def test_kitti_predictions_equal_numpy(kitti_tree, tmp_path, capsys, layout):
    root, split, lines, gts = kitti_tree
    preds = random_preds(len(lines))
    if layout == "npy":
        path = tmp_path / "preds.npy"
        np.save(path, preds)
    elif layout == "npz":
        path = tmp_path / "preds.npz"
        np.savez(path, depth=preds, names=np.array([f"{ln.split()[0]} {int(ln.split()[1]):010d} l" for ln in lines]))
    else:
        path = tmp_path / "preds"
        path.mkdir()
        for i, p in enumerate(preds):
            if layout == "folder_npy":
                np.save(path / f"{i:06d}.npy", p)
            else:
                Image.fromarray(np.clip(np.round(p * 256), 0, 65535).astype(np.uint16)).save(path / f"{i:06d}.png")
        if layout == "folder_png":  # the NumPy side reads the PNGs back on its own
            preds = [np.asarray(Image.open(path / f"{i:06d}.png"), dtype=np.float64) / 256 for i in range(len(lines))]
    out = tmp_path / "r.json"
    code, text, _ = run_cli(["evaluate", "--predictions", str(path), "--dataset", "kitti", "--data", str(root),
                             "--split", str(split), "--caps", "80", "50", "--json", str(out), "--workers", "0",
                             "--quiet"], capsys)
    assert code == 0
    doc = json.loads(out.read_text())
    assert_matches_numpy(doc, list(preds), gts, (80.0, 50.0))
    # the printed table: papers' column order, one row per cap, the skipped frame reported
    assert "| cap (m) | images | skipped | abs_rel | sq_rel | rmse | rmse_log | a1 | a2 | a3 |" in text
    assert re.search(r"\| 80 \| 5 \| 1 \|", text) and re.search(r"\| 50 \| 5 \| 1 \|", text)
    assert "2011_09_26/2011_09_26_drive_0001_sync 0000000002 l" in text
    assert doc["results"]["80"]["skipped_names"] == ["2011_09_26/2011_09_26_drive_0001_sync 0000000002 l"]
    assert doc["s2rdepth_version"] == s2rdepth.__version__
    assert doc["protocol"]["crop"] == "garg" and doc["protocol"]["median_scaling"] is True
    assert doc["dataset"]["gt"] == "velodyne" and doc["frames"] == len(lines)


@pytest.mark.parametrize("order,median", [("s2r", True), ("monodepth2", False), ("s2r", False)])
def test_orders_and_no_median_equal_numpy(kitti_tree, tmp_path, order, median):
    root, split, lines, gts = kitti_tree
    preds = random_preds(len(lines), hw=(48, 160), seed=3)
    path = tmp_path / "p.npy"
    np.save(path, preds)
    proto = default_protocol("kitti", caps=[80, 50], order=order, median_scaling=median)
    res = evaluate(KittiEvalSet(root, split), PredictionFiles(path), proto)
    assert_matches_numpy(res.to_dict(), list(preds), gts, (80.0, 50.0), order=order, median=median)


def test_folder_dataset_no_crop_equals_numpy(tmp_path, capsys):
    """Dense .npy ground truth in a folder dataset (exact values), no crop, custom cap and min depth."""
    rng = np.random.default_rng(5)
    gts = []
    for i, hw in enumerate([(30, 40), (30, 40), (25, 45)]):
        g = rng.uniform(0.5, 30.0, hw).astype(np.float32)
        g[rng.uniform(size=hw) < 0.3] = 0
        gts.append(g)
        (tmp_path / "d" / "rgb").mkdir(parents=True, exist_ok=True)
        (tmp_path / "d" / "depth").mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((*hw, 3), np.uint8)).save(tmp_path / "d" / "rgb" / f"f{i}.png")
        np.save(tmp_path / "d" / "depth" / f"f{i}.npy", g)
    preds = random_preds(3, hw=(10, 12), seed=9)
    np.save(tmp_path / "p.npy", preds)
    out = tmp_path / "r.json"
    code, text, _ = run_cli(["evaluate", "--predictions", str(tmp_path / "p.npy"), "--dataset", "folder",
                             "--data", str(tmp_path / "d"), "--caps", "20", "--min-depth", "1", "--json", str(out),
                             "--workers", "0", "--quiet"], capsys)
    assert code == 0
    doc = json.loads(out.read_text())
    assert [r["name"] for r in doc["results"]["20"]["per_image"]] == ["f0", "f1", "f2"]
    assert_matches_numpy(doc, list(preds), gts, (20.0,), crop=False, min_depth=1.0)


def test_nyu_folder_reports_log10(tmp_path, capsys):
    rng = np.random.default_rng(2)
    root = tmp_path / "nyu"
    (root / "rgb").mkdir(parents=True)
    (root / "depth").mkdir(parents=True)
    gts = []
    for i in range(2):
        mm = rng.integers(0, 9000, (24, 32)).astype(np.uint16)
        Image.fromarray(mm).save(root / "depth" / f"sync_depth_{i:05d}.png")
        Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(root / "rgb" / f"rgb_{i:05d}.jpg")
        gts.append(mm.astype(np.float32) / 1000)
    preds = random_preds(2, hw=(12, 16), seed=4) / 10
    np.save(tmp_path / "p.npy", preds)
    out = tmp_path / "r.json"
    code, text, _ = run_cli(["evaluate", "--predictions", str(tmp_path / "p.npy"), "--dataset", "nyu",
                             "--data", str(root), "--json", str(out), "--workers", "0", "--quiet"], capsys)
    assert code == 0
    assert "| abs_rel | sq_rel | rmse | rmse_log | log10 | a1 | a2 | a3 |" in text
    doc = json.loads(out.read_text())
    assert doc["protocol"]["caps"] == [8.0] and doc["protocol"]["crop"] is None
    assert_matches_numpy(doc, list(preds), [g.astype(np.float64) for g in gts], (8.0,), crop=False)


def test_gt_archive_without_images_equals_velodyne(kitti_tree, tmp_path, capsys):
    """--gt-file (prepare-kitti-gt archive) needs no raw data and scores exactly like the scans."""
    root, split, lines, gts = kitti_tree
    npz = tmp_path / "gt.npz"
    assert main(["prepare-kitti-gt", "--data", str(root), "--split", str(split), "--out", str(npz), "--quiet"]) == 0
    preds = random_preds(len(lines), seed=11)
    np.save(tmp_path / "p.npy", preds)
    out = tmp_path / "r.json"
    code, _, _ = run_cli(["evaluate", "--predictions", str(tmp_path / "p.npy"), "--dataset", "kitti",
                          "--gt-file", str(npz), "--json", str(out), "--workers", "0", "--quiet"], capsys)
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["dataset"]["gt"] == "npz"
    assert_matches_numpy(doc, list(preds), gts, (80.0,))


# ------------------------------------------------------------------------------------------
# nothing silently changes: mismatches are errors
# ------------------------------------------------------------------------------------------
def _expect_error(args, capsys, pattern):
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert re.search(pattern, err), err


def test_prediction_mismatches_are_errors(kitti_tree, tmp_path, capsys):
    root, split, lines, _ = kitti_tree
    base = ["--dataset", "kitti", "--data", str(root), "--split", str(split), "--workers", "0", "--quiet"]
    n = len(lines)
    np.save(tmp_path / "short.npy", random_preds(n - 1))
    _expect_error(["evaluate", "--predictions", str(tmp_path / "short.npy"), *base], capsys,
                  rf"holds {n - 1} predictions but the evaluation set has {n} frames")
    np.save(tmp_path / "flat.npy", np.ones((n, 10), np.float32))
    _expect_error(["evaluate", "--predictions", str(tmp_path / "flat.npy"), *base], capsys, r"N x H x W")
    bad = random_preds(n)
    bad[2, 3, 4] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    _expect_error(["evaluate", "--predictions", str(tmp_path / "nan.npy"), *base], capsys, r"non-finite")
    names = [ln.replace("_0001_", "_0002_") for ln in lines]
    np.savez(tmp_path / "named.npz", depth=random_preds(n), names=np.array(names))
    _expect_error(["evaluate", "--predictions", str(tmp_path / "named.npz"), *base], capsys,
                  r"prediction 0 is named .* but frame 0 of the evaluation set is")
    folder = tmp_path / "f"
    folder.mkdir()
    for i in range(n):
        if i != 3:
            np.save(folder / f"{i:06d}.npy", np.ones((4, 4), np.float32))
    _expect_error(["evaluate", "--predictions", str(folder), *base], capsys, r"prediction 000003 is missing")
    np.save(folder / "000003.npy", np.ones((4, 4), np.float32))
    np.save(folder / f"{n:06d}.npy", np.ones((4, 4), np.float32))
    _expect_error(["evaluate", "--predictions", str(folder), *base], capsys, rf"holds {n + 1} predictions")
    (folder / f"{n:06d}.npy").unlink()
    Image.fromarray(np.ones((4, 4), np.uint16)).save(folder / "000001.png")
    _expect_error(["evaluate", "--predictions", str(folder), *base], capsys, r"two predictions for index 1")
    (folder / "000001.png").unlink()
    np.save(folder / "frame_7.npy", np.ones((4, 4), np.float32))
    _expect_error(["evaluate", "--predictions", str(folder), *base], capsys, r"unexpected prediction file name")
    (folder / "frame_7.npy").unlink()
    (folder / "names.txt").write_text("\n".join(reversed(lines)) + "\n")
    _expect_error(["evaluate", "--predictions", str(folder), *base], capsys, r"is named")
    # 8-bit PNG predictions are refused (no silent 0..255 metres)
    png = tmp_path / "png"
    png.mkdir()
    for i in range(n):
        Image.fromarray(np.ones((4, 4), np.uint8)).save(png / f"{i:06d}.png")
    _expect_error(["evaluate", "--predictions", str(png), *base], capsys, r"16-bit PNG")


def test_missing_ground_truth_is_an_error(kitti_tree, tmp_path, capsys):
    root, split, lines, _ = kitti_tree
    extra = tmp_path / "split.txt"
    extra.write_text(split.read_text() + "2011_09_26/2011_09_26_drive_0001_sync 9 l\n")
    np.save(tmp_path / "p.npy", random_preds(len(lines) + 1))
    _expect_error(["evaluate", "--predictions", str(tmp_path / "p.npy"), "--dataset", "kitti", "--data", str(root),
                   "--split", str(extra), "--workers", "0", "--quiet"], capsys, r"0000000009\.bin")


def test_prediction_files_pickle_without_array(tmp_path):
    import pickle

    np.save(tmp_path / "p.npy", random_preds(3))
    f = PredictionFiles(tmp_path / "p.npy")
    f.load(0)
    g = pickle.loads(pickle.dumps(f))
    assert g._array is None and np.array_equal(g.load(2), f.load(2))
    with pytest.raises(PredictionError):
        PredictionFiles(tmp_path / "p.npy").check(["a", "b"])


# ------------------------------------------------------------------------------------------
# compare
# ------------------------------------------------------------------------------------------
def _fake_result(tmp_path: Path, name: str, means: dict, cap: float = 80.0, arch=None, variant=None,
                 dataset: str = "kitti", crop="garg") -> Path:
    doc = {"format": "s2rdepth.eval", "format_version": 1, "s2rdepth_version": s2rdepth.__version__, "label": name,
           "source": {"arch": arch, "config": {"variant": variant} if variant else {}},
           "protocol": {"dataset": dataset, "caps": [cap], "crop": crop, "median_scaling": True,
                        "order": "monodepth2", "min_depth": 1e-3,
                        "columns": ["abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3"]},
           "results": {f"{cap:g}": {"cap": cap, "images": 697, "skipped": 0, "means": means}}}
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps(doc))
    return p


def test_compare_renders_paper_rows_and_deltas(tmp_path, capsys):
    m1 = {"abs_rel": 0.170, "sq_rel": 1.40, "rmse": 5.8, "rmse_log": 0.24, "a1": 0.77, "a2": 0.93, "a3": 0.97}
    m2 = {"abs_rel": 0.150, "sq_rel": 1.20, "rmse": 5.0, "rmse_log": 0.22, "a1": 0.79, "a2": 0.93, "a3": 0.97}
    r1 = _fake_result(tmp_path, "ours_s2r", m1, arch="s2r", variant="ste_dsa_mul")
    r2 = _fake_result(tmp_path, "ours_da", m2, arch="da_monodepth")
    r3 = _fake_result(tmp_path, "ours_50", m1, cap=50.0, arch="s2r", variant="ste", crop=None)
    md = tmp_path / "cmp.md"
    code, text, _ = run_cli(["compare", str(r1), str(r2), str(r3), "--out", str(md)], capsys)
    assert code == 0 and md.read_text() == text
    assert "### KITTI, cap 80 m" in text and "### KITTI, cap 50 m" in text
    assert "| run | images | abs_rel | sq_rel | rmse | rmse_log | a1 | a2 | a3 |" in text
    assert "| paper: S2R full (DG) | – | 0.165 | 1.351 | 5.695 | 0.236 | 0.781 | 0.931 | 0.972 |" in text
    assert "| ours_s2r | 697 | 0.170 | 1.400 | 5.800 | 0.240 | 0.770 | 0.930 | 0.970 |" in text
    # deltas against the row matching each checkpoint: S2R full model, DA-Monodepth vKITTI→KITTI
    assert "| Δ ours_s2r − S2R full (DG) |  | +0.005 | +0.049 | +0.105 | +0.004 | -0.011 | -0.001 | -0.002 |" in text
    assert "| Δ ours_da − DA-Monodepth vKITTI→KITTI |  | -0.006 | -0.072 | -0.118 | -0.001 | +0.007 | +0.003 | -0.002 |" in text
    # at 50 m no +STE row exists: the full model row is the reference; the crop difference is flagged
    assert "| Δ ours_50 − S2R full (DG) |" in text
    assert "protocol differs from the paper rows** — ours_50: crop None" in text
    # explicit reference and errors
    code, text, _ = run_cli(["compare", str(r1), "--reference", "DP only", "--no-papers"], capsys)
    assert code == 0 and "paper:" not in text and "| Δ ours_s2r − S2R DP only, vKITTI (baseline) |" in text
    _expect_error(["compare", str(r1), "--reference", "nonexistent"], capsys, r"no paper row matching")
    (tmp_path / "junk.json").write_text('{"format": "other"}')
    _expect_error(["compare", str(tmp_path / "junk.json")], capsys, r"not an s2rdepth evaluation result")


def test_compare_api_on_real_result(kitti_tree, tmp_path):
    root, split, lines, _ = kitti_tree
    np.save(tmp_path / "p.npy", random_preds(len(lines)))
    res = evaluate(KittiEvalSet(root, split), PredictionFiles(tmp_path / "p.npy"),
                   default_protocol("kitti", caps=[80, 50]), label="mine")
    path = tmp_path / "r.json"
    path.write_text(json.dumps(res.to_dict(), allow_nan=False))
    text = compare_table([load_result(path)])
    m = res.means(80.0)
    assert f"| mine | 5 (+1 skipped) | {m['abs_rel']:.3f} |" in text


def test_paper_rows_match_reference_md():
    everything = paper_rows()
    assert len(everything) == 12 and len({r["id"] for r in everything}) == 12
    rows = [r for r in everything if "paper" not in r]  # the REFERENCE.md §6 rows
    if not SPEC.is_file():
        pytest.skip(f"{SPEC} not present (only in the project workspace)")
    for r in everything:  # rows taken straight from a paper's table: the numbers are on one line there
        if "paper" in r:
            text = (SPEC.parent.parent / "papers" / r["paper"]).read_text(encoding="utf-8")
            cells = [f"{r['metrics'][k]:.3f}" for k in ("abs_rel", "sq_rel", "rmse", "rmse_log")]
            assert any(all(c in ln for c in cells) for ln in text.splitlines()), r["id"]
    text = SPEC.read_text(encoding="utf-8").split("## 6.")[1]
    table = [ln for ln in text.splitlines() if ln.startswith("| ") and not ln.startswith("| setting")]
    kitti = [r for r in rows if r["dataset"] == "kitti"]
    assert len(table) == len(kitti)
    for line, r in zip(table, kitti):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[0] == r["setting"] and float(cells[1]) == r["cap"]
        assert [float(c) for c in cells[2:]] == [r["metrics"][k] for k in
                                                  ("abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3")]
    nyu = next(r for r in rows if r["dataset"] == "nyu")
    line = next(ln for ln in text.splitlines() if ln.startswith("NYU"))
    for k, v in nyu["metrics"].items():
        assert re.search(rf"{k} {v:.3f}".replace(".", r"\."), line), (k, line)
    assert all(math.isfinite(v) for r in rows for v in r["metrics"].values())


def test_cityscapes_predictions_equal_numpy(tmp_path, capsys):
    """Depth from disparity + camera json (baseline · fx / ((p - 1) / 256)), no crop, cap 80."""
    rng = np.random.default_rng(8)
    root = tmp_path / "cs"
    gts = []
    for i, city in enumerate(["aachen", "bonn"]):
        stem = f"{city}_000000_{i:06d}"
        for sub in ("leftImg8bit", "disparity", "camera"):
            (root / sub / "val" / city).mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((32, 64, 3), np.uint8)).save(root / "leftImg8bit" / "val" / city / f"{stem}_leftImg8bit.png")
        raw = rng.integers(0, 6000, (32, 64)).astype(np.uint16)
        Image.fromarray(raw).save(root / "disparity" / "val" / city / f"{stem}_disparity.png")
        (root / "camera" / "val" / city / f"{stem}_camera.json").write_text(
            json.dumps({"extrinsic": {"baseline": 0.209313}, "intrinsic": {"fx": 2262.52}}))
        disp = (raw.astype(np.float64) - 1) / 256
        gts.append(np.where(raw > 1, 0.209313 * 2262.52 / np.where(raw > 1, disp, 1), 0).astype(np.float32))
    preds = random_preds(2, hw=(16, 32), seed=12)
    np.save(tmp_path / "p.npy", preds)
    out = tmp_path / "r.json"
    code, text, _ = run_cli(["evaluate", "--predictions", str(tmp_path / "p.npy"), "--dataset", "cityscapes",
                             "--data", str(root), "--json", str(out), "--workers", "0", "--quiet",
                             "--no-per-image"], capsys)
    assert code == 0
    doc = json.loads(out.read_text())
    assert "per_image" not in doc["results"]["80"] and doc["dataset"]["split"] == "val"
    ref = [np_protocol(p, g, 80.0, crop=False) for p, g in zip(preds, gts)]
    for k in METRICS:
        assert doc["results"]["80"]["means"][k] == pytest.approx(np.mean([r[k] for r in ref]), abs=1e-6)
