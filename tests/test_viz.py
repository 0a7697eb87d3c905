"""Colour maps, figure panels and ``s2rdepth visualize`` (PNG output of the expected size)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from s2rdepth.checkpoint import save_model
from s2rdepth.cli import main
from s2rdepth.models import create_model
from s2rdepth.viz import (BAR_W, MARGIN, TITLE_H, colorize, colormap, depth_panel, depth_to_unit, panel_size,
                          tile_shape, unit_to_depth)


pytestmark = pytest.mark.usefixtures("one_thread")

@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    d = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    return (save_model(d / "s2r.safetensors", create_model("s2r", "tiny"), extra={"network_size": [64, 128]}),
            save_model(d / "da.safetensors", create_model("da_monodepth", "tiny", num_classes=15),
                       extra={"network_size": [64, 128]}))


def _scene(h: int = 60, w: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    img = (np.linspace(0, 255, w)[None, :, None] * np.ones((h, 1, 3)) * rng.uniform(0.5, 1, (1, 1, 3))).astype(np.uint8)
    rows = np.arange(h, dtype=np.float32)[:, None]
    dense = np.broadcast_to(80.0 / (1.0 + rows / 4.0), (h, w)).astype(np.float32)
    gt = np.where(rng.uniform(size=(h, w)) < 0.1, dense, 0).astype(np.float32)
    return img, dense, gt


def expected_size(n_tiles: int, tile_hw, columns: int = 2):
    cols = min(columns, n_tiles)
    rows = -(-n_tiles // cols)
    return (MARGIN + cols * (tile_hw[1] + BAR_W + MARGIN), MARGIN + rows * (TITLE_H + tile_hw[0] + MARGIN))


# ------------------------------------------------------------------------------------------
def test_colormaps_match_published_stops():
    # well-known hex stops at t = 0, 0.25, 0.5, 0.75, 1
    stops = {"viridis": ["440154", "3b528b", "21918c", "5ec962", "fde725"],
             "magma": ["000004", "51127c", "b73779", "fc8961", "fcfdbf"]}
    for name, hexes in stops.items():
        lut = colormap(name)
        assert lut.shape == (256, 3) and lut.dtype == np.uint8
        for t, hx in zip((0, 0.25, 0.5, 0.75, 1.0), hexes):
            want = np.array([int(hx[i:i + 2], 16) for i in (0, 2, 4)])
            assert np.abs(lut[round(t * 255)].astype(int) - want).max() <= 6, (name, t)
    for name in ("inferno", "plasma", "turbo", "gray"):
        assert colormap(name).shape == (256, 3)
    assert np.array_equal(colormap("magma_r"), colormap("magma")[::-1])
    with pytest.raises(ValueError):
        colormap("jet")
    # perceptual ordering: magma's lightness increases monotonically
    lum = colormap("magma").astype(float) @ np.array([0.2126, 0.7152, 0.0722])
    assert np.all(np.diff(lum[::8]) > 0)


def test_depth_mapping_and_colorize():
    d = np.array([[1.0, 10.0, 80.0, 0.0]])
    t = depth_to_unit(d, 1.0, 80.0)
    assert t[0, 0] == pytest.approx(1.0) and t[0, 2] == pytest.approx(0.0) and np.isnan(t[0, 3])
    np.testing.assert_allclose(unit_to_depth(t[0, :3], 1.0, 80.0), d[0, :3])
    np.testing.assert_allclose(unit_to_depth(depth_to_unit(d[:, :3], 2, 50, "linear")[0], 2, 50, "linear"),
                               [2.0, 10.0, 50.0])
    rgb = colorize(t, "magma", invalid=(1, 2, 3))
    assert rgb.shape == (1, 4, 3) and tuple(rgb[0, 3]) == (1, 2, 3) and tuple(rgb[0, 2]) == tuple(colormap("magma")[0])


def test_panel_layout_and_content():
    img, dense, gt = _scene()
    outputs = {"depth": dense[::2, ::2] * 1.3, "structure": np.random.rand(30, 100), "attention": np.ones((30, 100)),
               "fused": np.full((30, 100), 0.25)}
    panel, err, info = depth_panel(img, outputs, gt, crop="garg")
    hw = tile_shape(img.shape[:2])
    assert hw == (60, 200)
    assert info["tiles"] == ["input", "structure map M_s", "attention map M_a",
                             "depth-specific structure M_s · M_a", "predicted depth", "ground truth",
                             info["tiles"][-1]]
    assert info["tiles"][-1].startswith("|error| (x0.7") and "abs_rel" in info["tiles"][-1]
    assert panel.size == expected_size(7, hw) == panel_size(7, hw) == (550, 350)
    assert err is not None and err.size == expected_size(1, (60, 200), 1)
    a = np.asarray(panel)
    # the predicted-depth tile (row 2, column 0) is coloured: near (bottom rows) brighter than far
    x0, y0 = MARGIN, MARGIN + 2 * (TITLE_H + 60 + MARGIN) + TITLE_H
    tile = a[y0:y0 + 60, x0:x0 + 200].astype(float).mean(axis=(1, 2))
    assert tile[-5:].mean() > tile[:5].mean() + 40
    # its colour bar holds magma colours
    bar = a[y0 + 10:y0 + 50, x0 + 200 + 6]
    assert len({tuple(c) for c in bar}) > 10
    # the median-scaled error is zero everywhere (prediction = 1.3 x ground truth, resized)
    assert info["metrics"]["abs_rel"] < 0.05 and info["metrics"]["valid"] > 0
    # a different layout
    panel3, _, _ = depth_panel(img, {"depth": dense}, None, columns=3, tile_width=100)
    assert panel3.size == panel_size(2, (30, 100), 3) == expected_size(2, (30, 100), 3)


def test_visualize_cli_s2r_and_da(checkpoints, tmp_path, capsys):
    s2r, da = checkpoints
    img, dense, gt = _scene(72, 240, seed=1)
    Image.fromarray(img).save(tmp_path / "frame.png")
    np.save(tmp_path / "gt.npy", gt)
    Image.fromarray(np.round(gt * 256).astype(np.uint16)).save(tmp_path / "gt.png")
    out = tmp_path / "out"
    code = main(["visualize", "--checkpoint", str(s2r), str(tmp_path / "frame.png"), "--gt", str(tmp_path / "gt.npy"),
                 "--out", str(out), "--json"])
    res = capsys.readouterr()
    assert code == 0, res.err
    rec = json.loads(res.out)[0]
    hw = (72, 240)
    panel = Image.open(out / "frame_panel.png")
    assert panel.mode == "RGB" and panel.size == expected_size(7, hw) == tuple(rec["size"])
    assert Image.open(out / "frame_error.png").size == expected_size(1, hw, 1)
    assert rec["metrics"]["valid"] == int(((gt > 1e-3) & (gt < 80)).sum())
    # the same ground truth as a 16-bit PNG (metres x 256) gives the same metrics
    code = main(["visualize", "--checkpoint", str(s2r), str(tmp_path / "frame.png"), "--gt", str(tmp_path / "gt.png"),
                 "--out", str(tmp_path / "out2"), "--json"])
    rec2 = json.loads(capsys.readouterr().out)[0]
    assert rec2["metrics"]["abs_rel"] == pytest.approx(rec["metrics"]["abs_rel"], abs=1e-3)
    # DA-Monodepth: input, disparity, depth, semantics (+ ground truth and error)
    code = main(["visualize", "--checkpoint", str(da), str(tmp_path / "frame.png"), "--gt", str(tmp_path / "gt.npy"),
                 "--out", str(out / "da"), "--columns", "3", "--json"])
    rec = json.loads(capsys.readouterr().out)[0]
    assert code == 0
    assert rec["tiles"][:4] == ["input", "disparity (sigmoid)", "predicted depth", "semantic segmentation"]
    assert Image.open(out / "da" / "frame_panel.png").size == expected_size(6, hw, 3)
    # without ground truth: no error map
    code = main(["visualize", "--checkpoint", str(s2r), str(tmp_path / "frame.png"), "--out", str(out / "nogt")])
    capsys.readouterr()
    assert code == 0 and Image.open(out / "nogt" / "frame_panel.png").size == expected_size(5, hw)
    assert not (out / "nogt" / "frame_error.png").exists()
    # errors
    assert main(["visualize", "--checkpoint", str(s2r), str(tmp_path / "frame.png"), "--gt", "kitti",
                 "--out", str(out)]) == 2
    assert "KITTI raw layout" in capsys.readouterr().err
    assert main(["visualize", "--checkpoint", str(s2r), str(tmp_path / "frame.png"), str(tmp_path / "frame.png"),
                 "--gt", "a.npy", "b.npy", "c.npy", "--out", str(out)]) == 2
    assert "3 entries for 2 images" in capsys.readouterr().err


@pytest.mark.realdata
def test_visualize_real_kitti_frame(realdata, checkpoints, tmp_path, capsys):
    frame = realdata / "kitti_raw/2011_09_26/2011_09_26_drive_0086_sync/image_02/data/0000000108.png"
    code = main(["visualize", "--checkpoint", str(checkpoints[0]), str(frame), "--gt", "kitti", "--crop", "garg",
                 "--out", str(tmp_path), "--json"])
    res = capsys.readouterr()
    assert code == 0, res.err
    rec = json.loads(res.out)[0]
    assert tile_shape((375, 1242)) == (193, 640)
    assert Image.open(tmp_path / "0000000108_panel.png").size == expected_size(7, (193, 640)) == (1430, 882)
    assert Image.open(tmp_path / "0000000108_error.png").size == expected_size(1, (375, 1242), 1)
    assert rec["metrics"]["valid"] > 5000
