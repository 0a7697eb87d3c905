"""Transforms: alignment of image / depth / valid / label under flip, rotation and resize; value maps; seeding."""
from __future__ import annotations

import colorsys

import numpy as np
import pytest
import torch

from s2rdepth.data.transforms import (
    DAMonodepthTransform, S2RTransform, adjust_hue, depth_to_disp, depth_to_net, disp_to_depth,
    hflip_sample, net_to_depth, resize_sample, rotate_sample,
)

H, W = 48, 64
R0, R1, C0, C1 = 10, 22, 6, 26  # an off-centre rectangle


def pattern_sample(sparse: bool = False) -> dict:
    img = torch.zeros(3, H, W, dtype=torch.uint8)
    img[:, R0:R1, C0:C1] = 255
    depth = torch.full((1, H, W), 30.0)
    depth[:, R0:R1, C0:C1] = 10.0
    label = torch.zeros(H, W, dtype=torch.int64)
    label[R0:R1, C0:C1] = 5
    if sparse:  # keep every other pixel, like a scan
        keep = torch.zeros(1, H, W, dtype=torch.bool)
        keep[:, ::2, ::2] = True
        depth = torch.where(keep, depth, torch.zeros_like(depth))
    return {"image": img, "depth": depth, "valid": depth > 0, "label": label, "depth_sparse": sparse,
            "name": "x"}


def iou(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a & b).sum()) / max(float((a | b).sum()), 1.0)


def test_hflip_moves_everything() -> None:
    s = hflip_sample(pattern_sample())
    exp = torch.zeros(H, W, dtype=torch.bool)
    exp[R0:R1, W - C1:W - C0] = True
    assert torch.equal(s["label"] == 5, exp)
    assert torch.equal(s["depth"][0] == 10.0, exp)
    assert torch.equal(s["image"][0] == 255, exp)


@pytest.mark.parametrize("angle", [-4.7, 3.0])
def test_rotation_keeps_alignment(angle: float) -> None:
    s = rotate_sample(pattern_sample(), angle, "bicubic", "nearest")
    lab5 = s["label"] == 5
    assert torch.equal(lab5, (s["depth"][0] == 10.0))  # both nearest: identical footprint
    assert iou(s["image"][0] > 127, lab5) > 0.85
    # the rectangle really moved (not a no-op)
    assert not torch.equal(lab5, pattern_sample()["label"] == 5)
    # corners rotated in from outside: label ignore, depth invalid
    assert s["label"][0, 0] == 255 or s["label"][0, -1] == 255
    corner = s["label"] == 255
    assert corner.sum() > 0 and not s["valid"][0][corner].any() and torch.all(s["depth"][0][corner] == 0)
    # dense bicubic depth: valid pixels hold exact values away from the rectangle's edge
    b = rotate_sample(pattern_sample(), angle, "bicubic", "bicubic")
    d, v = b["depth"][0], b["valid"][0]
    assert not v[corner].any()
    assert iou((d < 20) & v, lab5) > 0.85


def test_resize_alignment_and_sparse_nearest() -> None:
    s = resize_sample(pattern_sample(), (24, 40), "bicubic", "nearest")
    assert s["image"].shape == (3, 24, 40) and s["label"].shape == (24, 40) and s["depth"].shape == (1, 24, 40)
    lab5 = s["label"] == 5
    assert torch.equal(lab5, s["depth"][0] == 10.0)
    assert iou(s["image"][0] > 127, lab5) > 0.85
    sp = resize_sample(pattern_sample(sparse=True), (96, 128), "bicubic", "nearest")
    vals = set(sp["depth"][0][sp["valid"][0]].unique().tolist())
    assert vals == {10.0, 30.0}  # nearest never blends sparse samples with the invalid zeros
    assert torch.equal(sp["valid"], sp["depth"] > 0)


def test_dense_depth_never_blends_invalid() -> None:
    s = pattern_sample()
    s["depth"] = torch.full((1, H, W), 20.0)
    s["depth"][0, 30, 40] = 0.0  # a hole
    s["valid"] = s["depth"] > 0
    for f in ("bilinear", "bicubic"):
        r = resize_sample(s, (37, 50), "bicubic", f)
        d, v = r["depth"][0], r["valid"][0]
        assert torch.allclose(d[v], torch.tensor(20.0), atol=1e-3)
        assert (~v).sum() >= 1 and torch.all(d[~v] == 0)
        hole_r, hole_c = round(30 * 37 / H), round(40 * 50 / W)
        assert not v[hole_r - 1:hole_r + 2, hole_c - 1:hole_c + 2].all()


def test_s2r_value_maps() -> None:
    s = pattern_sample()
    s["depth"][0, 0, :4] = torch.tensor([80.0, 40.0, 100.0, 0.0])
    s["valid"] = s["depth"] > 0
    out = S2RTransform(size=(H, W), train=False)(s)
    assert out["image"].dtype == torch.float32
    assert out["image"].max() == 1.0 and out["image"].min() == -1.0
    dn = out["depth_net"][0, 0, :4]
    assert torch.allclose(dn, torch.tensor([1.0, 0.0, 1.0, -1.0]))
    assert torch.allclose(net_to_depth(depth_to_net(torch.tensor([0.0, 12.5, 80.0]))), torch.tensor([0.0, 12.5, 80.0]))
    nyu = S2RTransform.nyu(train=False)
    assert nyu.size == (192, 256) and nyu.max_depth == 8.0
    o = S2RTransform(size=(192, 640), train=False)(pattern_sample())
    assert o["image"].shape == (3, 192, 640) and o["depth_net"].shape == (1, 192, 640) and o["label"].shape == (192, 640)


def test_s2r_full_pipeline_alignment_and_corners() -> None:
    t = S2RTransform(size=(H, W), flip_p=1.0, rotate_p=1.0, color_p=0.0, generator=torch.Generator().manual_seed(1))
    out = t(pattern_sample(sparse=False))
    lab5 = out["label"] == 5
    # flipped: the rectangle is now on the right half
    assert lab5[:, W // 2:].sum() > lab5[:, :W // 2].sum()
    assert iou((out["image"][0] > 0) , lab5) > 0.8
    assert iou((out["depth_net"][0] < -0.5) & out["valid"][0], lab5) > 0.8  # 10 m -> -0.75
    corner = out["label"] == 255
    assert corner.any() and torch.all(out["depth_net"][0][corner] == -1.0)
    sp = S2RTransform(size=(H, W), flip_p=1.0, rotate_p=1.0, color_p=0.0, generator=torch.Generator().manual_seed(1))(
        pattern_sample(sparse=True))
    v = sp["valid"][0]
    assert torch.equal(sp["depth"][0][v] == 10.0, (sp["label"] == 5)[v])  # sparse: nearest, aligned
    assert torch.all(sp["depth_net"][0][~v] == -1.0)


def test_s2r_colour_and_seeding() -> None:
    base = pattern_sample()
    base["image"] = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (3, H, W), dtype=np.uint8))
    col = S2RTransform(size=(H, W), flip_p=0, rotate_p=0, color_p=1.0, generator=torch.Generator().manual_seed(0))(base)
    plain = S2RTransform(size=(H, W), train=False)(base)
    assert not torch.allclose(col["image"], plain["image"])
    assert torch.equal(col["depth_net"], plain["depth_net"]) and torch.equal(col["label"], plain["label"])
    assert col["image"].min() >= -1 and col["image"].max() <= 1

    def run(gen):
        t = S2RTransform(size=(H, W), generator=gen)
        return [t(base) for _ in range(6)]

    a = run(torch.Generator().manual_seed(5))
    b = run(torch.Generator().manual_seed(5))
    c = run(np.random.default_rng(5))
    d = run(np.random.default_rng(5))
    for x, y in zip(a, b):
        assert torch.equal(x["image"], y["image"]) and torch.equal(x["depth_net"], y["depth_net"])
    for x, y in zip(c, d):
        assert torch.equal(x["image"], y["image"])
    assert any(not torch.equal(x["image"], y["image"]) for x, y in zip(a[:-1], a[1:]))


def test_rotation_angles_in_range() -> None:
    t = S2RTransform(generator=torch.Generator().manual_seed(0))
    angles = [t.rng.uniform(-5.0, 5.0) for _ in range(2000)]
    assert min(angles) >= -5.0 and max(angles) < 5.0 and min(angles) < -4.9 and max(angles) > 4.9


def test_da_monodepth_transform() -> None:
    s = pattern_sample()
    out = DAMonodepthTransform(size=(H, W), train=False)(s)
    assert out["image"].dtype == torch.float32 and 0 <= out["image"].min() and out["image"].max() <= 1
    assert out["disp"].shape == (1, H, W)
    d = out["depth"][out["valid"]]
    _, back = disp_to_depth(out["disp"][out["valid"]])
    assert torch.allclose(back, d, rtol=1e-4)
    assert torch.equal(out["label"], s["label"])
    o = DAMonodepthTransform()(pattern_sample())
    assert o["image"].shape == (3, 192, 640) and o["label"].shape == (192, 640)
    # flip + jitter keep geometry aligned and stay in range
    t = DAMonodepthTransform(size=(H, W), flip_p=1.0, jitter_p=1.0, generator=np.random.default_rng(2))
    j = t(pattern_sample())
    lab5 = j["label"] == 5
    assert torch.equal(lab5, j["depth"][0] == 10.0) and lab5[:, W // 2:].sum() > 0
    assert 0 <= j["image"].min() and j["image"].max() <= 1


def test_disp_helpers() -> None:
    dep = torch.tensor([0.0, 0.05, 0.1, 1.0, 80.0, 100.0, 200.0])
    sig = depth_to_disp(dep)
    assert sig[0] == 0 and sig[2] == pytest.approx(1.0) and sig[5] == pytest.approx(0.0, abs=1e-7)
    assert torch.all((sig >= 0) & (sig <= 1))
    _, d = disp_to_depth(sig[2:6])
    assert torch.allclose(d, dep[2:6], rtol=1e-5)


def test_adjust_hue_matches_colorsys() -> None:
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(0, 1, (3, 5, 7)).astype(np.float32))
    assert torch.allclose(adjust_hue(x, 0.0), x, atol=1e-5)
    for shift in (0.1, -0.07, 1 / 3):
        y = adjust_hue(x, shift)
        for r in range(5):
            for c in range(7):
                h, s, v = colorsys.rgb_to_hsv(*x[:, r, c].tolist())
                exp = colorsys.hsv_to_rgb((h + shift) % 1.0, s, v)
                assert np.allclose(y[:, r, c].numpy(), exp, atol=1e-4)
