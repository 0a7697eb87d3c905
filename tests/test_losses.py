"""Losses of s2rdepth.losses: values against direct formulas, masks, gradients, dtypes."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from s2rdepth import losses as L
from s2rdepth.ops import grad_reverse
from s2rdepth.ops import structure_loss as ops_structure_loss

torch.set_num_threads(1)


def _scales(n: int = 2, h: int = 16, w: int = 32, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(n, 1, h // f, w // f, generator=g) * 2 - 1 for f in (8, 4, 2, 1)]


def test_multiscale_l1_matches_reference_definition():
    preds = _scales()
    target = torch.rand(2, 1, 16, 32) * 2 - 1
    total, per = L.multiscale_l1(preds, target)
    manual = []
    for p in preds:
        t = F.interpolate(target, size=p.shape[-2:], mode="bilinear", align_corners=True) \
            if p.shape[-2:] != target.shape[-2:] else target
        manual.append((p - t).abs().mean())
    assert torch.allclose(total, sum(manual), atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(per, manual))
    weighted, _ = L.multiscale_l1(preds, target, weights=[0, 0, 0, 2.0])
    assert torch.allclose(weighted, 2 * manual[-1], atol=1e-6)


def test_multiscale_l1_perfect_prediction_and_mask():
    target = torch.rand(1, 1, 16, 32)
    preds = [F.interpolate(target, size=(16 // f, 32 // f), mode="bilinear", align_corners=True) for f in (8, 4, 2)]
    total, _ = L.multiscale_l1(preds + [target.clone()], target)
    assert float(total) < 1e-6
    # masked: garbage where the target is invalid does not count
    mask = torch.zeros(1, 1, 16, 32, dtype=torch.bool)
    mask[..., :, :16] = True
    pred = torch.where(mask, target, torch.full_like(target, 5.0))
    total, per = L.multiscale_l1([pred], target, mask, mode="upsample_prediction")
    assert float(total) == 0.0
    # an empty mask gives 0, not NaN, and still back-propagates
    p = pred.clone().requires_grad_()
    total, _ = L.multiscale_l1([p], target, torch.zeros_like(mask))
    total.backward()
    assert float(total.detach()) == 0.0 and p.grad is not None


def test_multiscale_l1_upsample_prediction_mode():
    target = torch.rand(1, 1, 16, 32)
    coarse = torch.rand(1, 1, 4, 8)
    total, _ = L.multiscale_l1([coarse], target, mode="upsample_prediction")
    up = F.interpolate(coarse, size=(16, 32), mode="bilinear", align_corners=False)
    assert torch.allclose(total, (up - target).abs().mean())
    with pytest.raises(ValueError, match="mode"):
        L.multiscale_l1([coarse], target, mode="nearest")
    with pytest.raises(ValueError, match="weights"):
        L.multiscale_l1([coarse], target, weights=[1, 2])


def test_ssim_loss_properties():
    x = torch.rand(2, 1, 12, 20)
    assert float(L.ssim_loss(x, x).max()) < 1e-6
    y = torch.rand(2, 1, 12, 20)
    s = L.ssim_loss(x, y)
    assert s.shape == x.shape and float(s.min()) >= 0 and float(s.max()) <= 1
    # interior pixel against the textbook formula on its 3x3 window
    i, j = 5, 7
    wx, wy = x[0, 0, i - 1:i + 2, j - 1:j + 2], y[0, 0, i - 1:i + 2, j - 1:j + 2]
    mx, my = wx.mean(), wy.mean()
    vx, vy = (wx * wx).mean() - mx ** 2, (wy * wy).mean() - my ** 2
    cxy = (wx * wy).mean() - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ssim = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    assert math.isclose(float(s[0, 0, i, j]), float(torch.clamp((1 - ssim) / 2, 0, 1)), abs_tol=1e-5)


def test_edge_aware_smoothness():
    img = torch.rand(2, 3, 10, 14)
    assert float(L.edge_aware_smoothness(torch.full((2, 1, 10, 14), 0.3), img)) == pytest.approx(0.0, abs=1e-6)
    d = torch.rand(2, 1, 10, 14) + 0.1
    a = L.edge_aware_smoothness(d, img)
    b = L.edge_aware_smoothness(5 * d, img)  # mean-normalised: scale invariant
    assert torch.allclose(a, b, atol=1e-5)
    # strong image edges lower the penalty of disparity edges
    flat = L.edge_aware_smoothness(d, torch.zeros_like(img))
    edgy = L.edge_aware_smoothness(d, img * 10)
    assert float(edgy) < float(flat)


def test_da_depth_loss_perfect_and_weights():
    target = torch.full((2, 1, 16, 32), 0.4)
    image = torch.rand(2, 3, 16, 32)
    scales = [torch.full((2, 1, 16 // f, 32 // f), 0.4) for f in (8, 4, 2, 1)]
    total, parts = L.da_depth_loss(scales, target, image)
    assert float(total) < 1e-6 and set(parts) == {"ssim", "l1", "smooth"}
    pred = [torch.rand(2, 1, 16 // f, 32 // f) for f in (8, 4, 2, 1)]
    t_l1, p = L.da_depth_loss(pred, target, image, l1_weight=1.0, smooth_weight=0.0)
    assert torch.allclose(t_l1, p["l1"], atol=1e-6)
    t_ssim, p = L.da_depth_loss(pred, target, image, l1_weight=0.0, smooth_weight=0.0)
    assert torch.allclose(t_ssim, p["ssim"], atol=1e-6)
    # invalid target pixels (mask False) do not contribute
    mask = torch.ones(2, 1, 16, 32, dtype=torch.bool)
    mask[:, :, :, 16:] = False
    bad_target = target.clone()
    bad_target[:, :, :, 16:] = 0.0
    a, _ = L.da_depth_loss(scales, bad_target, image, mask, smooth_weight=0.0)
    assert float(a) < 0.05  # only SSIM windows straddling the mask edge differ


def test_multiscale_cross_entropy():
    labels = torch.randint(0, 5, (2, 16, 32))
    labels[0, :4] = 255
    logits = [torch.randn(2, 5, 16 // f, 32 // f) for f in (8, 4, 2, 1)]
    total = L.multiscale_cross_entropy(logits, labels)
    manual = sum(F.cross_entropy(F.interpolate(x, size=(16, 32), mode="bilinear", align_corners=False)
                                 if x.shape[-1] != 32 else x, labels, ignore_index=255) for x in logits)
    assert torch.allclose(total, manual, atol=1e-5)
    mean = L.multiscale_cross_entropy(logits, labels, reduction="mean")
    assert torch.allclose(mean * 4, total, atol=1e-5)
    # no labelled pixel: 0 (not NaN), connected to the graph
    x = logits[-1].clone().requires_grad_()
    z = L.multiscale_cross_entropy([x], torch.full((2, 16, 32), 255))
    z.backward()
    assert float(z.detach()) == 0.0 and x.grad is not None


def test_domain_adversarial_loss_and_gradient_reversal():
    s = torch.zeros(2, 1, 3, 5)
    t = torch.zeros(2, 1, 3, 5)
    assert float(L.domain_adversarial_loss(s, t)) == pytest.approx(math.log(2), rel=1e-6)
    assert float(L.domain_accuracy(torch.ones(1, 1, 2, 2), -torch.ones(1, 1, 2, 2))) == 1.0
    # the encoder feature receives the negated classifier gradient through the GRL
    feat = torch.randn(2, 4, 3, 5, requires_grad=True)
    clf = torch.nn.Conv2d(4, 1, 1)
    L.domain_adversarial_loss(clf(feat), clf(feat * 0.5)).backward()
    g_plain = feat.grad.clone()
    feat.grad = None
    L.domain_adversarial_loss(clf(grad_reverse(feat, 0.3)), clf(grad_reverse(feat, 0.3) * 0.5)).backward()
    assert torch.allclose(feat.grad, -0.3 * g_plain, atol=1e-6)


def test_structure_loss_reexport_and_recon():
    ms = torch.rand(2, 1, 8, 8)
    depth = torch.rand(2, 1, 8, 8) * 2 - 1
    assert torch.equal(L.structure_loss(ms, depth), ops_structure_loss(ms, depth))
    assert float(L.recon_l1(torch.ones(3), torch.zeros(3))) == 1.0


def test_losses_return_float32_for_low_precision_inputs():
    p = [t.to(torch.bfloat16) for t in _scales()]
    total, _ = L.multiscale_l1(p, torch.rand(2, 1, 16, 32).to(torch.bfloat16))
    assert total.dtype == torch.float32
    d, _ = L.da_depth_loss([t.abs() for t in p], torch.rand(2, 1, 16, 32), torch.rand(2, 3, 16, 32).half())
    assert d.dtype == torch.float32
