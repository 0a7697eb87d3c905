"""The four fused operators: parity with the references, gradients, registration, bad input."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch

import s2rdepth.ops as ops
from s2rdepth.ops import reference as R

compiled = pytest.mark.skipif(not ops.compiled_available(), reason="s2rdepth._C is not built")


def _rand(*shape, dtype=torch.float64, seed=0, scale=1.0, offset=0.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64).mul(scale).add(offset).to(dtype)


# --------------------------------------------------------------------------------------- adain
AFFINES = ["none", "channel", "sample", "bias_only", "mixed"]


def _affine(kind, n, c, dtype, requires_grad=False):
    w = b = None
    if kind in ("channel", "mixed"):
        w = _rand(c, dtype=dtype, seed=1)
    if kind == "sample":
        w = _rand(n, c, dtype=dtype, seed=1)
    if kind in ("channel", "bias_only"):
        b = _rand(c, dtype=dtype, seed=2)
    if kind in ("sample", "mixed"):
        b = _rand(n, c, dtype=dtype, seed=2)
    for t in (w, b):
        if t is not None:
            t.requires_grad_(requires_grad)
    return w, b


@pytest.mark.parametrize("kind", AFFINES)
@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (1, 4, 1, 1), (3, 2, 33, 17)])
def test_adain_matches_reference_float64(kind, shape):
    x = _rand(*shape, offset=3.0, scale=2.0)
    w, b = _affine(kind, shape[0], shape[1], torch.float64)
    torch.testing.assert_close(ops.adain(x, w, b), R.adain(x, w, b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", AFFINES)
def test_adain_matches_reference_float32(kind):
    x = _rand(4, 8, 24, 40, dtype=torch.float32, offset=50.0, scale=3.0)
    w, b = _affine(kind, 4, 8, torch.float32)
    expect = R.adain(x.double(), *(t.double() if t is not None else None for t in (w, b)))
    torch.testing.assert_close(ops.adain(x, w, b).double(), expect, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_adain_low_precision_cpu(dtype):
    x = _rand(2, 3, 16, 16, dtype=dtype)
    w, b = _affine("sample", 2, 3, dtype)
    out = ops.adain(x, w, b)
    assert out.dtype == dtype
    expect = R.adain(x.double(), w.double(), b.double())
    torch.testing.assert_close(out.double(), expect, rtol=2e-2, atol=2e-2)


def test_adain_constant_plane_is_finite():
    x = torch.full((1, 2, 4, 4), 7.0)
    out = ops.adain(x)
    assert torch.isfinite(out).all() and out.abs().max() == 0


@pytest.mark.parametrize("kind", AFFINES)
def test_adain_gradcheck(kind):
    x = _rand(2, 3, 4, 5, seed=3).requires_grad_()
    w, b = _affine(kind, 2, 3, torch.float64, requires_grad=True)
    inputs = tuple(t for t in (x, w, b) if t is not None)

    def f(*args):
        it = iter(args)
        xx = next(it)
        ww = next(it) if w is not None else None
        bb = next(it) if b is not None else None
        return ops.adain(xx, ww, bb)

    assert torch.autograd.gradcheck(f, inputs)


@pytest.mark.parametrize("kind", ["channel", "sample", "mixed"])
def test_adain_gradients_float32_match_reference(kind):
    x = _rand(3, 5, 12, 20, dtype=torch.float32, offset=10.0).requires_grad_()
    w, b = _affine(kind, 3, 5, torch.float32, requires_grad=True)
    g = _rand(3, 5, 12, 20, dtype=torch.float32, seed=9)
    ours = torch.autograd.grad(ops.adain(x, w, b), (x, w, b), g)
    ref = torch.autograd.grad(R.adain(x, w, b), (x, w, b), g)
    for a, e in zip(ours, ref):
        torch.testing.assert_close(a, e, rtol=1e-4, atol=1e-4)


def test_adain_layouts_give_the_same_result():
    x = _rand(2, 4, 6, 10, dtype=torch.float32)
    w, b = _affine("sample", 2, 4, torch.float32)
    expect = ops.adain(x, w, b)
    cl = x.to(memory_format=torch.channels_last)
    torch.testing.assert_close(ops.adain(cl, w, b), expect)
    strided = torch.cat([x, x], dim=3)[..., ::2]
    torch.testing.assert_close(ops.adain(strided, w, b), ops.adain(strided.contiguous(), w, b))
    torch.testing.assert_close(ops.adain(x, w.t().contiguous().t(), b), expect)


# ---------------------------------------------------------------------------------- grad_reverse
def test_grad_reverse_forward_is_a_view_and_backward_negates():
    x = _rand(3, 4, dtype=torch.float32).requires_grad_()
    y = ops.grad_reverse(x, 0.7)
    assert y.data_ptr() == x.data_ptr()
    torch.testing.assert_close(y, x)
    g = _rand(3, 4, dtype=torch.float32, seed=5)
    y.backward(g)
    torch.testing.assert_close(x.grad, -0.7 * g)


def test_grad_reverse_gradcheck_and_reference():
    x = _rand(2, 3, 4, seed=1).requires_grad_()
    # The reversed gradient is not the true one unless coeff = -1, where gradcheck must pass...
    assert torch.autograd.gradcheck(lambda t: ops.grad_reverse(t, -1.0), (x,))
    # ...and for any other coeff the Jacobian autograd reports is -coeff * I.
    jac = torch.autograd.functional.jacobian(lambda t: ops.grad_reverse(t, 2.5), x)
    torch.testing.assert_close(jac.reshape(24, 24), -2.5 * torch.eye(24, dtype=torch.float64))
    g = _rand(2, 3, 4, seed=2)
    ours = torch.autograd.grad(ops.grad_reverse(x, 1.5), x, g)[0]
    ref = torch.autograd.grad(R.grad_reverse(x, 1.5), x, g)[0]
    torch.testing.assert_close(ours, ref)


def test_grad_reverse_in_a_network_flips_the_encoder_gradient():
    enc = torch.nn.Linear(4, 4).double()
    head = torch.nn.Linear(4, 1).double()
    x = _rand(5, 4)
    plain = torch.autograd.grad(head(enc(x)).sum(), enc.weight)[0]
    reversed_ = torch.autograd.grad(head(ops.grad_reverse(enc(x), 0.5)).sum(), enc.weight)[0]
    torch.testing.assert_close(reversed_, -0.5 * plain)


def test_dann_coefficient_schedule():
    assert ops.dann_coefficient(0.0) == 0.0
    assert ops.dann_coefficient(0.5) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert ops.dann_coefficient(1.0) == pytest.approx(0.999909, abs=1e-6)
    assert ops.dann_coefficient(3.0) == ops.dann_coefficient(1.0)  # clamped
    with pytest.raises(TypeError, match="progress"):
        ops.dann_coefficient("half")


# -------------------------------------------------------------------------------- structure loss
@pytest.mark.parametrize("mode", ["reference", "paper"])
@pytest.mark.parametrize("shape_s,shape_d", [((2, 1, 9, 13), (2, 1, 9, 13)), ((2, 3, 5, 6), (2, 2, 5, 6)),
                                             ((1, 1, 1, 8), (1, 1, 1, 8)), ((1, 1, 7, 1), (1, 1, 7, 1))])
def test_structure_loss_matches_reference(mode, shape_s, shape_d):
    s = torch.rand(*shape_s, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) - 0.3
    d = _rand(*shape_d, seed=4)
    for beta in (1e-3, 0.7):
        torch.testing.assert_close(ops.structure_loss(s, d, beta, mode), R.structure_loss(s, d, beta, mode),
                                   rtol=1e-12, atol=1e-14)
    s32, d32 = s.float(), (d * 40).float()
    torch.testing.assert_close(ops.structure_loss(s32, d32, 0.05, mode).double(),
                               R.structure_loss(s32.double(), d32.double(), 0.05, mode), rtol=1e-5, atol=1e-7)


def test_structure_loss_modes_differ_on_opposite_gradients():
    # dx and dy of opposite sign: |dx| + |dy| > 0 but dx + dy = 0, so only "paper" keeps w = 1.
    d = torch.tensor([[[[0.0, 1.0], [-1.0, 0.0]]]], dtype=torch.float64)
    s = torch.ones(1, 1, 2, 2, dtype=torch.float64)
    ref = ops.structure_loss(s, d, 1.0, "reference")
    paper = ops.structure_loss(s, d, 1.0, "paper")
    assert paper > ref
    # the official formula by hand: w = exp(-(|dx| + |dy|)) per pixel, replicate padding
    w = torch.exp(-torch.tensor([[1.0 + 1.0, 0.0 + 1.0], [1.0 + 0.0, 0.0]], dtype=torch.float64))
    torch.testing.assert_close(ref, w.mean())


@pytest.mark.parametrize("mode", ["reference", "paper"])
def test_structure_loss_gradcheck_and_depth_is_a_target(mode):
    s = (torch.rand(2, 2, 5, 6, dtype=torch.float64) - 0.5).requires_grad_()
    d = _rand(2, 1, 5, 6).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: ops.structure_loss(t, d, 0.3, mode), (s,))
    loss = ops.structure_loss(s, d, 0.3, mode)
    loss.backward()
    assert d.grad is None
    s2 = s.detach().clone().requires_grad_()
    R.structure_loss(s2, d, 0.3, mode).backward()
    torch.testing.assert_close(s.grad, s2.grad)


def test_structure_loss_big_batch_float32_parity_and_grad():
    s = torch.rand(4, 1, 48, 160, generator=torch.Generator().manual_seed(1)).requires_grad_()
    d = torch.rand(4, 1, 48, 160, generator=torch.Generator().manual_seed(2)) * 2 - 1
    loss = ops.structure_loss(s, d)
    (g,) = torch.autograd.grad(loss, s)
    s_ref = s.detach().double().requires_grad_()
    loss_ref = R.structure_loss(s_ref, d.double())
    (g_ref,) = torch.autograd.grad(loss_ref, s_ref)
    torch.testing.assert_close(loss.double(), loss_ref, rtol=1e-5, atol=0)
    torch.testing.assert_close(g.double(), g_ref, rtol=1e-5, atol=1e-12)


# ---------------------------------------------------------------------------------- depth metrics
def numpy_protocol(pred, gt, min_depth=1e-3, max_depth=80.0, crop=True, median=True, order="monodepth2"):
    """Independent per-image NumPy implementation of the KITTI protocol (monodepth2 style)."""
    rows = []
    for p_img, g_img in zip(pred.astype(np.float64), gt.astype(np.float64)):
        h, w = g_img.shape
        mask = (gt[len(rows)] > min_depth) & (gt[len(rows)] < max_depth)
        if crop:
            box = np.zeros_like(mask)
            box[int(0.40810811 * h):int(0.99189189 * h), int(0.03594771 * w):int(0.96405229 * w)] = True
            mask &= box
        g, p = g_img[mask], p_img[mask]
        if g.size == 0:
            rows.append([np.nan] * 9 + [0.0])
            continue
        if order == "s2r":
            p = np.clip(p, min_depth, max_depth)
        ratio = np.median(g) / np.median(p) if median else 1.0
        p = p * ratio
        if order == "monodepth2":
            p = np.clip(p, min_depth, max_depth)
        t = np.maximum(g / p, p / g)
        rows.append([np.mean(np.abs(g - p) / g), np.mean((g - p) ** 2 / g), np.sqrt(np.mean((g - p) ** 2)),
                     np.sqrt(np.mean((np.log(g) - np.log(p)) ** 2)), np.mean(np.abs(np.log10(g) - np.log10(p))),
                     np.mean(t < 1.25), np.mean(t < 1.25 ** 2), np.mean(t < 1.25 ** 3), ratio, float(g.size)])
    return np.array(rows)


def sparse_kitti_like(n=4, h=60, w=200, valid=0.05, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    gt = np.where(rng.random((n, h, w)) < valid, rng.uniform(1.0, 90.0, (n, h, w)), 0.0)
    pred = gt * rng.uniform(0.5, 1.5) + rng.normal(0, 2, (n, h, w))
    pred[:, : h // 3] = rng.uniform(-1, 100, (n, h // 3, w))  # includes negatives and > max values
    return pred.astype(dtype), gt.astype(dtype)


@pytest.mark.parametrize("order", ["monodepth2", "s2r"])
@pytest.mark.parametrize("crop", ["garg", None])
@pytest.mark.parametrize("median", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_depth_metrics_match_numpy(order, crop, median, dtype):
    pred, gt = sparse_kitti_like(dtype=dtype, seed=hash((order, crop, median)) % 1000)
    gt[2] = 0  # an image with no valid pixel
    out = ops.depth_metrics(torch.from_numpy(pred), torch.from_numpy(gt), crop=crop, median_scaling=median,
                            order=order)
    expect = numpy_protocol(pred, gt, crop=crop == "garg", median=median, order=order)
    got = np.stack([out[k].numpy() for k in ops.METRIC_NAMES], axis=1)
    np.testing.assert_allclose(got, expect, rtol=1e-9, atol=1e-12, equal_nan=True)
    assert out["valid"][2] == 0 and math.isnan(out["abs_rel"][2])
    ref = R.depth_metrics(torch.from_numpy(pred), torch.from_numpy(gt), 1e-3, 80.0, crop == "garg", median, order)
    np.testing.assert_allclose(got, ref.numpy(), rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("count", [1, 2, 7, 8, 1000, 1001])
def test_median_scaling_uses_numpy_median(count):
    rng = np.random.default_rng(count)
    gt = np.zeros((1, 1, 2000))
    pred = np.ones((1, 1, 2000))
    gt[0, 0, :count] = rng.uniform(1, 80, count)
    pred[0, 0, :count] = rng.uniform(1, 80, count)
    out = ops.depth_metrics(torch.from_numpy(pred), torch.from_numpy(gt), crop=None)
    assert out["valid"][0] == count
    expect = np.median(gt[0, 0, :count]) / np.median(pred[0, 0, :count])
    assert out["scale"][0].item() == pytest.approx(expect, rel=1e-15)


@pytest.mark.parametrize("order", ["monodepth2", "s2r"])
@pytest.mark.parametrize("median", [True, False])
def test_depth_metrics_nan_prediction_follows_numpy(order, median):
    pred, gt = sparse_kitti_like(n=2, dtype=np.float64)
    valid = np.argwhere((gt[0] > 1e-3) & (gt[0] < 80))
    r, c = valid[len(valid) // 2]
    pred[0, r, c] = np.nan
    with np.errstate(invalid="ignore"):
        expect = numpy_protocol(pred, gt, crop=False, median=median, order=order)
    out = ops.depth_metrics(torch.from_numpy(pred), torch.from_numpy(gt), crop=None, median_scaling=median, order=order)
    got = np.stack([out[k].numpy() for k in ops.METRIC_NAMES], axis=1)
    np.testing.assert_allclose(got, expect, rtol=1e-9, atol=1e-12, equal_nan=True)
    assert np.isnan(got[0, 0]) and not np.isnan(got[1, 0])
    ref = R.depth_metrics(torch.from_numpy(pred), torch.from_numpy(gt), 1e-3, 80.0, False, median, order)
    np.testing.assert_allclose(ref.numpy(), expect, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_mean_metrics_skips_and_counts_empty_images():
    pred, gt = sparse_kitti_like(n=5)
    gt[[1, 3]] = 0
    per_image = ops.depth_metrics(torch.from_numpy(pred), torch.from_numpy(gt))
    mean = ops.mean_metrics(per_image)
    assert mean["images"] == 3 and mean["skipped"] == 2
    assert mean["abs_rel"] == pytest.approx(float(np.nanmean(per_image["abs_rel"].numpy())))
    empty = ops.mean_metrics(ops.depth_metrics(torch.ones(1, 4, 4), torch.zeros(1, 4, 4)))
    assert empty["images"] == 0 and empty["skipped"] == 1 and math.isnan(empty["rmse"])


def test_depth_metrics_single_image_and_caps():
    pred, gt = sparse_kitti_like(n=1)
    one = ops.depth_metrics(torch.from_numpy(pred[0]), torch.from_numpy(gt[0]), max_depth=50.0)
    expect = numpy_protocol(pred, gt, max_depth=50.0)
    np.testing.assert_allclose(one["rmse"].numpy(), expect[:, 2], rtol=1e-9)


# -------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call,exc,match", [
    (lambda: ops.adain(torch.randn(2, 3, 4)), ValueError, "x must be 4-D"),
    (lambda: ops.adain(torch.ones(2, 3, 4, 4, dtype=torch.int64)), TypeError, "floating dtype"),
    (lambda: ops.adain(torch.randn(0, 3, 4, 4)), ValueError, "x is empty"),
    (lambda: ops.adain(torch.randn(2, 3, 4, 4), torch.ones(4)), ValueError, r"weight must have shape \[C\]"),
    (lambda: ops.adain(torch.randn(2, 3, 4, 4), None, torch.ones(3, 2)), ValueError, "bias must have shape"),
    (lambda: ops.adain(torch.randn(2, 3, 4, 4), eps=0.0), ValueError, "eps must be > 0"),
    (lambda: ops.adain([1.0]), TypeError, "x must be a torch.Tensor"),
    (lambda: ops.adain(torch.randn(2, 3, 4, 4), torch.ones(3, device="meta")), ValueError, "one device"),
    (lambda: ops.grad_reverse(torch.ones(3, dtype=torch.int32)), TypeError, "floating"),
    (lambda: ops.grad_reverse(torch.ones(3), coeff=float("nan")), ValueError, "coeff must be finite"),
    (lambda: ops.structure_loss(torch.rand(2, 1, 4, 4), torch.rand(2, 1, 4, 5)), ValueError, "agree in N, H and W"),
    (lambda: ops.structure_loss(torch.rand(2, 1, 4, 4), torch.rand(2, 1, 4, 4), mode="eq1"), ValueError, "mode must be"),
    (lambda: ops.structure_loss(torch.rand(1, 4, 4), torch.rand(1, 4, 4)), ValueError, "structure must be 4-D"),
    (lambda: ops.structure_loss(torch.rand(1, 1, 4, 4), torch.rand(1, 1, 4, 4), beta=-1), ValueError, "beta"),
    (lambda: ops.depth_metrics(torch.rand(2, 4, 4), torch.rand(2, 4, 5)), ValueError, "differ in shape"),
    (lambda: ops.depth_metrics(torch.rand(2, 2, 4, 4), torch.rand(2, 2, 4, 4)), ValueError, "N x H x W"),
    (lambda: ops.depth_metrics(torch.rand(2, 4, 4), torch.rand(2, 4, 4), order="eigen"), ValueError, "order"),
    (lambda: ops.depth_metrics(torch.rand(2, 4, 4), torch.rand(2, 4, 4), crop="eigen"), ValueError, "crop"),
    (lambda: ops.depth_metrics(torch.rand(2, 4, 4), torch.rand(2, 4, 4), min_depth=90.0), ValueError, "below max_depth"),
    (lambda: ops.depth_metrics(torch.ones(2, 4, 4, dtype=torch.uint8), torch.rand(2, 4, 4)), TypeError, "pred"),
    (lambda: ops.depth_metrics(torch.rand(2, 4, 4), torch.rand(2, 4, 4, device="meta")), ValueError, "one device"),
])
def test_bad_input_is_a_clear_python_error(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@compiled
@pytest.mark.parametrize("call,match", [
    (lambda: torch.ops.s2rdepth.adain_forward(torch.randn(2, 3, 4), None, None, 1e-5), "x must be N x C x H x W"),
    (lambda: torch.ops.s2rdepth.adain_forward(torch.randn(2, 3, 4, 4), torch.ones(5), None, 1e-5), "weight must have shape"),
    (lambda: torch.ops.s2rdepth.adain_forward(torch.randn(2, 3, 4, 4), None, torch.ones(3).double(), 1e-5), "bias dtype"),
    (lambda: torch.ops.s2rdepth.structure_loss(torch.rand(1, 1, 4, 4), torch.rand(1, 1, 3, 4), 1e-3, "paper"), "agree in N, H and W"),
    (lambda: torch.ops.s2rdepth.structure_loss(torch.rand(1, 1, 4, 4), torch.rand(1, 1, 4, 4), 1e-3, "x"), "mode must be"),
    (lambda: torch.ops.s2rdepth.depth_metrics(torch.rand(1, 4, 4), torch.rand(1, 4, 4).double(), 1e-3, 80.0, True, True, "s2r"), "dtype"),
    (lambda: torch.ops.s2rdepth.grad_reverse_backward(torch.ones(2, dtype=torch.int64), 1.0), "floating dtype"),
])
def test_kernels_check_their_arguments(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


# ------------------------------------------------------------------- registration, tracing, script
def test_backend_reports_compiled_build():
    assert ops.backend() in ("compiled-cpu", "compiled-cuda", "reference")
    if ops.compiled_available():
        assert ops.backend() in ("compiled-cpu", "compiled-cuda")
        assert hasattr(torch.ops.s2rdepth, "adain")


@compiled
def test_opcheck_every_op():
    x = _rand(2, 3, 5, 6, dtype=torch.float32).requires_grad_()
    w = _rand(2, 3, dtype=torch.float32).requires_grad_()
    b = _rand(3, dtype=torch.float32).requires_grad_()
    s = torch.rand(2, 1, 5, 6).requires_grad_()
    d = torch.rand(2, 1, 5, 6)
    mean, rstd = torch.ops.s2rdepth.adain_forward(x, w, b, 1e-5)[1:]
    pred, gt = (torch.from_numpy(a) for a in sparse_kitti_like(n=2, h=20, w=30))
    cases = [
        (torch.ops.s2rdepth.adain.default, (x, w, b, 1e-5)),
        (torch.ops.s2rdepth.adain_forward.default, (x.detach(), w.detach(), None, 1e-5)),
        (torch.ops.s2rdepth.adain_backward.default, (torch.randn(2, 3, 5, 6), x.detach(), w.detach(), mean, rstd, True)),
        (torch.ops.s2rdepth.structure_loss.default, (s, d, 1e-3, "reference")),
        (torch.ops.s2rdepth.structure_loss_backward.default, (torch.tensor(1.0), s.detach(), d, 1e-3, "paper")),
        (torch.ops.s2rdepth.grad_reverse_backward.default, (torch.randn(4, 3), 0.5)),
        (torch.ops.s2rdepth.depth_metrics.default, (pred, gt, 1e-3, 80.0, True, True, "monodepth2")),
    ]
    for op, args in cases:
        torch.library.opcheck(op, args)


@compiled
def test_grad_reverse_registration_traces():
    x = torch.randn(3, 4, requires_grad=True)
    torch.library.opcheck(torch.ops.s2rdepth.grad_reverse.default, (x, 0.5),
                          test_utils=("test_schema", "test_autograd_registration", "test_faketensor"))


class _OpsModule(torch.nn.Module):
    def forward(self, x: torch.Tensor, w: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        y = torch.ops.s2rdepth.adain(x, w, None, 1e-5)
        y = torch.ops.s2rdepth.grad_reverse(y, 0.5)
        loss = torch.ops.s2rdepth.structure_loss(torch.sigmoid(y[:, :1]), depth, 1e-3, "reference")
        table = torch.ops.s2rdepth.depth_metrics(depth[:, 0].abs() + 1.0, depth[:, 0].abs() + 1.5, 1e-3, 80.0,
                                                 False, True, "monodepth2")
        return loss + table[:, 0].sum().to(loss.dtype)


@compiled
def test_torchscript_module_runs_saves_and_reloads():
    module = torch.jit.script(_OpsModule())
    x, w, d = torch.randn(2, 3, 8, 8), torch.rand(2, 3), torch.randn(2, 1, 8, 8)
    expect = _OpsModule()(x, w, d)
    torch.testing.assert_close(module(x, w, d), expect)
    buf = io.BytesIO()
    torch.jit.save(module, buf)
    buf.seek(0)
    reloaded = torch.jit.load(buf)
    torch.testing.assert_close(reloaded(x, w, d), expect)
    assert "s2rdepth::adain" in str(reloaded.graph)


@compiled
def test_torch_compile_and_export_trace_the_ops():
    def step(x, w, s, d):
        y = ops.adain(x, w, None)
        y = ops.grad_reverse(y, 0.3)
        return y.square().mean() + ops.structure_loss(s, d)

    x = torch.randn(2, 3, 8, 8, requires_grad=True)
    w = torch.rand(3, requires_grad=True)
    s, d = torch.rand(2, 1, 8, 8, requires_grad=True), torch.rand(2, 1, 8, 8)
    eager = step(x, w, s, d)
    eager_grads = torch.autograd.grad(eager, (x, w, s))
    compiled_step = torch.compile(step, backend="aot_eager", fullgraph=True)
    out = compiled_step(x, w, s, d)
    torch.testing.assert_close(out, eager)
    for a, e in zip(torch.autograd.grad(out, (x, w, s)), eager_grads):
        torch.testing.assert_close(a, e)

    class Norm(torch.nn.Module):
        def forward(self, x, d):
            return ops.adain(x), ops.structure_loss(torch.sigmoid(x[:, :1]), d)

    exported = torch.export.export(Norm(), (torch.randn(2, 3, 8, 8), torch.rand(2, 1, 8, 8)))
    targets = {str(n.target) for n in exported.graph.nodes if n.op == "call_function"}
    assert any("s2rdepth" in t for t in targets)
    xe, de = torch.randn(2, 3, 8, 8), torch.rand(2, 1, 8, 8)
    for a, e in zip(exported.module()(xe, de), Norm()(xe, de)):
        torch.testing.assert_close(a, e)


def test_fallback_to_reference_warns_once(monkeypatch):
    from s2rdepth.ops import _backend

    monkeypatch.setattr(_backend, "_C", None)
    monkeypatch.setattr(_backend, "_LOAD_ERROR", "simulated")
    monkeypatch.setattr(_backend, "_WARNED", set())
    x = torch.randn(2, 3, 4, 4)
    with pytest.warns(ops.S2RDepthFallbackWarning, match="simulated"):
        out = ops.adain(x)
    torch.testing.assert_close(out, R.adain(x))
    assert ops.backend() == "reference"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ops.adain(x)  # second call: no second warning


@compiled
def test_grad_reverse_backward_keeps_dense_layouts():
    g = torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last)
    out = torch.ops.s2rdepth.grad_reverse_backward(g, 0.5)
    assert out.stride() == g.stride()
    torch.testing.assert_close(out, -0.5 * g)
    t = torch.randn(6, 7).t()
    torch.testing.assert_close(torch.ops.s2rdepth.grad_reverse_backward(t, 2.0), -2.0 * t)
    sliced = torch.randn(4, 10)[:, ::2]
    torch.testing.assert_close(torch.ops.s2rdepth.grad_reverse_backward(sliced, 1.0), -sliced)
