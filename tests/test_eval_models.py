"""``s2rdepth evaluate --checkpoint``: tiny checkpoints on a generated KITTI-layout set and on the
real KITTI frame (Velodyne ground truth), model path vs saved-prediction path, worker processes."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from s2rdepth.checkpoint import save_model
from s2rdepth.cli import main
from s2rdepth.eval import (KittiEvalSet, ModelRunner, PredictionFiles, default_protocol, evaluate,
                           load_checkpoint)
from s2rdepth.models import create_model
from test_eval import METRICS, kitti_gt, make_kitti_tree, np_protocol

pytestmark = pytest.mark.usefixtures("one_thread")

NET = [64, 128]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    d = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    s2r = save_model(d / "tiny_s2r.safetensors", create_model("s2r", "tiny"), extra={"network_size": NET})
    da = save_model(d / "tiny_da.safetensors", create_model("da_monodepth", "tiny"), extra={"network_size": NET})
    return s2r, da


@pytest.fixture(scope="module")
def kitti_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("kitti_raw")
    split, lines = make_kitti_tree(root, seed=4)
    return root, split, lines


@pytest.fixture(scope="module")
def synth_kitti(tmp_path_factory):
    """A KITTI raw tree written by the built-in scene generator (real domain, simulated Velodyne)."""
    from s2rdepth.data.synth import generate

    root = tmp_path_factory.mktemp("synth_real")
    generate(root, "real", count=3, size=(64, 192), seed=0, workers=0, n_azimuth=600)
    return root


def _predict_frames(runner: ModelRunner, evalset: KittiEvalSet) -> np.ndarray:
    imgs = torch.stack([runner.resizer(evalset.load(i, image=True, gt=False)["image"]) for i in range(len(evalset))])
    return runner.predict(imgs).numpy()


def test_checkpoint_on_generated_kitti_set(synth_kitti, checkpoints, tmp_path, capsys):
    s2r, da = checkpoints
    out = tmp_path / "s2r.json"
    code = main(["evaluate", "--checkpoint", str(s2r), "--dataset", "kitti", "--data", str(synth_kitti),
                 "--caps", "80", "50", "--json", str(out), "--workers", "0", "--batch-size", "2", "--quiet"])
    text = capsys.readouterr().out
    assert code == 0, text
    doc = json.loads(out.read_text())
    assert doc["frames"] == 3 and doc["dataset"]["gt"] == "velodyne"
    assert doc["source"]["arch"] == "s2r" and doc["source"]["network_size"] == NET
    assert doc["source"]["image_filter"] == "bicubic" and len(doc["source"]["sha256"]) == 64
    for cap in ("80", "50"):
        entry = doc["results"][cap]
        assert entry["images"] == 3 and entry["skipped"] == 0 and len(entry["per_image"]) == 3
        assert all(entry["means"][k] is not None for k in METRICS)
        assert all(r["valid_pixels"] > 100 for r in entry["per_image"])
    assert doc["results"]["50"]["per_image"][0]["valid_pixels"] < doc["results"]["80"]["per_image"][0]["valid_pixels"]
    # DA-Monodepth: the disparity is resized, then converted (monodepth2)
    out = tmp_path / "da.json"
    assert main(["evaluate", "--checkpoint", str(da), "--dataset", "kitti", "--data", str(synth_kitti),
                 "--json", str(out), "--workers", "0", "--quiet"]) == 0
    capsys.readouterr()
    doc = json.loads(out.read_text())
    assert doc["source"]["arch"] == "da_monodepth" and "disparity" in doc["source"]["resized_quantity"]
    assert doc["source"]["image_filter"] == "lanczos"
    assert doc["results"]["80"]["images"] == 3 and doc["results"]["80"]["means"]["a1"] is not None


def test_checkpoint_equals_saved_predictions_and_numpy(kitti_tree, checkpoints, tmp_path):
    """The model path scores exactly like its own predictions saved to .npy, and like NumPy."""
    root, split, lines = kitti_tree
    model, info = load_checkpoint(checkpoints[0])
    runner = ModelRunner(model, info["network_size"], device="cpu")
    evalset = KittiEvalSet(root, split)
    proto = default_protocol("kitti", caps=[80, 50])
    direct = evaluate(evalset, runner, proto, batch_size=4)
    preds = _predict_frames(runner, evalset)
    assert preds.shape == (len(lines), *NET)
    np.save(tmp_path / "p.npy", preds)
    saved = evaluate(evalset, PredictionFiles(tmp_path / "p.npy"), proto)
    for cap in (80.0, 50.0):
        for k in METRICS + ("scale", "valid"):
            np.testing.assert_allclose(direct.metrics[cap][k], saved.metrics[cap][k], rtol=0, atol=1e-9)
        for i, ln in enumerate(lines):
            ref = np_protocol(preds[i], kitti_gt(root, ln), cap)
            if ref is None:
                assert direct.metrics[cap]["valid"][i] == 0
                continue
            for k in METRICS:
                assert direct.metrics[cap][k][i] == pytest.approx(ref[k], rel=0, abs=1e-6)
    assert direct.skipped(80.0) == [lines[2].replace(" 2 l", " 0000000002 l")]


def test_worker_processes_give_the_same_result(kitti_tree, tmp_path):
    root, split, lines = kitti_tree
    rng = np.random.default_rng(0)
    np.save(tmp_path / "p.npy", rng.uniform(1, 60, (len(lines), 16, 40)).astype(np.float32))
    proto = default_protocol("kitti")
    a = evaluate(KittiEvalSet(root, split), PredictionFiles(tmp_path / "p.npy"), proto, workers=0)
    b = evaluate(KittiEvalSet(root, split), PredictionFiles(tmp_path / "p.npy"), proto, workers=2, batch_size=2)
    for k in METRICS:
        np.testing.assert_array_equal(a.metrics[80.0][k], b.metrics[80.0][k])


def test_bad_checkpoint_is_a_command_error(kitti_tree, tmp_path, capsys):
    root, split, _ = kitti_tree
    (tmp_path / "x.safetensors").write_bytes(b"not a checkpoint")
    code = main(["evaluate", "--checkpoint", str(tmp_path / "x.safetensors"), "--dataset", "kitti", "--data",
                 str(root), "--split", str(split), "--quiet"])
    assert code == 2 and "x.safetensors" in capsys.readouterr().err
    code = main(["evaluate", "--checkpoint", str(tmp_path / "missing.safetensors"), "--dataset", "kitti",
                 "--data", str(root), "--quiet"])
    assert code == 2 and "not found" in capsys.readouterr().err


@pytest.mark.realdata
def test_checkpoint_on_real_kitti_frame(realdata, checkpoints, tmp_path, capsys):
    """The real KITTI frame with ground truth projected from its Velodyne scan (monodepth2 convention)."""
    root = realdata / "kitti_raw"
    line = "2011_09_26/2011_09_26_drive_0086_sync 108 l"
    split = tmp_path / "split.txt"
    split.write_text(line + "\n")
    out = tmp_path / "real.json"
    code = main(["evaluate", "--checkpoint", str(checkpoints[0]), "--dataset", "kitti", "--data", str(root),
                 "--split", str(split), "--caps", "80", "50", "--json", str(out), "--workers", "0", "--quiet"])
    text = capsys.readouterr().out
    assert code == 0, text
    doc = json.loads(out.read_text())
    gt = kitti_gt(root, line)
    assert gt.shape == (375, 1242)
    h, w = gt.shape
    crop = np.zeros_like(gt, dtype=bool)
    crop[153:371, 44:1197] = True
    for cap in (80.0, 50.0):
        row = doc["results"][f"{cap:g}"]["per_image"][0]
        assert row["name"] == "2011_09_26/2011_09_26_drive_0086_sync 0000000108 l"
        assert row["valid_pixels"] == int(((gt > 1e-3) & (gt < cap) & crop).sum()) > 5000
    # and the numbers equal the NumPy protocol applied to the model's own prediction
    model, info = load_checkpoint(checkpoints[0])
    runner = ModelRunner(model, info["network_size"], device="cpu")
    pred = _predict_frames(runner, KittiEvalSet(root, [line]))[0]
    ref = np_protocol(pred, gt, 80.0)
    for k in METRICS:
        assert doc["results"]["80"]["per_image"][0][k] == pytest.approx(ref[k], rel=0, abs=1e-6)


def test_official_folder_needs_all_four_files(tmp_path):
    (tmp_path / "shared_struct_encoder.pth").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="not an official S2R-DepthNet checkpoint"):
        load_checkpoint(tmp_path)
