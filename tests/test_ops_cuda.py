"""Parity of the CUDA kernels with the pure-PyTorch reference (float64 on the CPU).

Every test needs a CUDA device and a build of ``s2rdepth._C`` with CUDA kernels; otherwise the
whole module is skipped. The public API is used where it exists (``s2rdepth.ops.adain`` ...) and
``torch.ops.s2rdepth.*`` directly for the kernels' own outputs (statistics, backward ops).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import s2rdepth.ops as ops
from s2rdepth.ops import reference as ref

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
    pytest.mark.skipif(not ops.cuda_compiled(), reason="s2rdepth._C was built without CUDA kernels"),
    # A silent fallback to the reference would make these tests vacuous.
    pytest.mark.filterwarnings("error::s2rdepth.ops.S2RDepthFallbackWarning"),
]

DEV = "cuda"
HALF_TYPES = (torch.float16, torch.bfloat16)
ALL_TYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)

# (rtol, atol) of an output rounded to its dtype, against a float64 reference.
OUT_TOL = {
    torch.float32: (1e-5, 1e-5),
    torch.float64: (1e-10, 1e-10),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (2e-2, 2e-2),
}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(*shape, seed: int, dtype=torch.float64, scale=1.0, offset=0.0) -> torch.Tensor:
    """Random CPU tensor, deterministic, then rounded to dtype (so CPU and GPU see the same values)."""
    return (torch.randn(*shape, generator=_gen(seed), dtype=torch.float64) * scale + offset).to(dtype)


def _close(got: torch.Tensor, want: torch.Tensor, rtol: float, atol: float, what: str = "") -> None:
    torch.testing.assert_close(got.detach().cpu().double(), want.detach().cpu().double(), rtol=rtol,
                               atol=atol, equal_nan=True, msg=lambda m: f"{what}: {m}")


def _misaligned(t: torch.Tensor) -> torch.Tensor:
    """A contiguous copy of t whose data pointer is one element past an allocation (not 16-byte aligned)."""
    buf = torch.empty(t.numel() + 1, dtype=t.dtype, device=t.device)
    out = buf[1:].view(t.shape)
    out.copy_(t)
    return out


# ------------------------------------------------------------------------------------ adain
def _affine(kind, n, c, dtype, seed):
    if kind is None:
        return None, None
    shape = (c,) if kind == "C" else (n, c)
    return _randn(*shape, seed=seed, dtype=dtype, scale=0.5, offset=1.0), _randn(*shape, seed=seed + 1, dtype=dtype)


ADAIN_SHAPES = [
    (2, 3, 8, 8),        # tiny planes
    (2, 3, 7, 9),        # odd H * W: scalar head / tail around the 16-byte packs
    (2, 16, 48, 160),    # the AdaIN decoder shape (register-cached fused path)
    (1, 2, 375, 1242),   # few large planes: split across blocks
    (160, 64, 8, 8),     # many small planes (10240)
    (1, 4, 130, 131),    # planes above the register-cache limit, streamed twice
]


@pytest.mark.parametrize("shape", ADAIN_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("affine", [None, "C", "NC"])
def test_adain_forward_float32(shape, affine):
    n, c = shape[:2]
    x = _randn(*shape, seed=1, dtype=torch.float32, scale=2.0, offset=3.0)
    w, b = _affine(affine, n, c, torch.float32, seed=2)
    got = ops.adain(x.to(DEV), None if w is None else w.to(DEV), None if b is None else b.to(DEV))
    want = ref.adain(x.double(), None if w is None else w.double(), None if b is None else b.double())
    assert got.dtype == torch.float32 and got.shape == x.shape
    assert got.device.type == torch.device(DEV).type
    _close(got, want, *OUT_TOL[torch.float32], what="adain out")


@pytest.mark.parametrize("dtype", ALL_TYPES, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 7, 9), (2, 8, 48, 160), (1, 2, 150, 151)],
                         ids=lambda s: "x".join(map(str, s)))
def test_adain_forward_dtypes_and_stats(dtype, shape):
    n, c = shape[:2]
    x = _randn(*shape, seed=3, dtype=dtype, scale=1.5, offset=-2.0)
    w, b = _affine("NC", n, c, dtype, seed=4)
    out, mean, rstd = torch.ops.s2rdepth.adain_forward(x.to(DEV), w.to(DEV), b.to(DEV), 1e-5)
    stat = torch.float64 if dtype == torch.float64 else torch.float32
    assert out.dtype == dtype and out.shape == x.shape
    assert mean.dtype == stat and rstd.dtype == stat and mean.shape == (n, c) and rstd.shape == (n, c)
    x64 = x.double()
    want = ref.adain(x64, w.double(), b.double(), 1e-5)
    _close(out, want, *OUT_TOL[dtype], what="adain_forward out")
    stol = 1e-12 if dtype == torch.float64 else 2e-6
    _close(mean, x64.mean(dim=(2, 3)), stol, stol, what="mean")
    _close(rstd, (x64.var(dim=(2, 3), unbiased=False) + 1e-5).rsqrt(), stol, stol, what="rstd")


def test_adain_forward_misaligned_and_large_offset():
    # Not 16-byte aligned: the scalar variant; a large mean stresses the variance accumulation.
    x = _randn(1, 3, 40, 41, seed=5, dtype=torch.float32, scale=0.1, offset=1000.0)
    xd = _misaligned(x.to(DEV))
    assert xd.data_ptr() % 16 != 0
    out, mean, rstd = torch.ops.s2rdepth.adain_forward(xd, None, None, 1e-5)
    want = ref.adain(x.double())
    # float32 statistics of values near 1000 (ulp 6e-5) and std 0.1: xhat is good to ~1e-3.
    _close(out, want, 1e-3, 1e-3, what="misaligned out")
    _close(mean, x.double().mean(dim=(2, 3)), 1e-7, 0, what="misaligned mean")


def test_adain_forward_deterministic():
    x = _randn(1, 2, 375, 1242, seed=6, dtype=torch.float32).to(DEV)
    a = torch.ops.s2rdepth.adain_forward(x, None, None, 1e-5)
    b = torch.ops.s2rdepth.adain_forward(x, None, None, 1e-5)
    for u, v in zip(a, b):
        assert torch.equal(u, v)


def _adain_grads(x, w, b, dy, device):
    """Gradients of ops.adain on device (dtype) and of the float64 reference on the CPU."""
    def leaf(t, **to):
        return None if t is None else t.detach().to(**to).clone().requires_grad_()

    xs, ws, bs = leaf(x, device=device), leaf(w, device=device), leaf(b, device=device)
    y = ops.adain(xs, ws, bs, 1e-5)
    y.backward(dy.to(device))
    xr, wr, br = leaf(x, dtype=torch.float64), leaf(w, dtype=torch.float64), leaf(b, dtype=torch.float64)
    ref.adain(xr, wr, br, 1e-5).backward(dy.double())
    return (xs, ws, bs), (xr, wr, br)


@pytest.mark.parametrize("shape", [(2, 3, 7, 9), (2, 16, 48, 160), (1, 2, 375, 1242), (160, 64, 8, 8)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("affine", [None, "C", "NC"])
def test_adain_backward_float32(shape, affine):
    n, c, h, w_ = shape
    x = _randn(*shape, seed=7, dtype=torch.float32, scale=2.0, offset=1.0)
    w, b = _affine(affine, n, c, torch.float32, seed=8)
    dy = _randn(*shape, seed=9, dtype=torch.float32)
    (xs, ws, bs), (xr, wr, br) = _adain_grads(x, w, b, dy, DEV)
    _close(xs.grad, xr.grad, 1e-4, 1e-5, what="grad x")
    # Affine gradients are sums over H * W (and N for [C]): absolute error grows like sqrt(count).
    atol = 1e-5 * math.sqrt(h * w_ * (n if affine == "C" else 1)) * 10
    if ws is not None:
        _close(ws.grad, wr.grad, 1e-4, atol, what="grad weight")
        _close(bs.grad, br.grad, 1e-4, atol, what="grad bias")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("affine", [None, "C", "NC"])
def test_adain_backward_dtypes(dtype, affine):
    shape = (2, 5, 33, 47)
    n, c = shape[:2]
    x = _randn(*shape, seed=10, dtype=dtype, offset=0.5)
    w, b = _affine(affine, n, c, dtype, seed=11)
    dy = _randn(*shape, seed=12, dtype=dtype)
    (xs, ws, bs), (xr, wr, br) = _adain_grads(x, w, b, dy, DEV)
    rtol, atol = OUT_TOL[dtype]
    assert xs.grad.dtype == dtype
    _close(xs.grad, xr.grad, rtol, atol, what="grad x")
    if ws is not None:
        _close(ws.grad, wr.grad, rtol, atol * 40, what="grad weight")
        _close(bs.grad, br.grad, rtol, atol * 40, what="grad bias")


@pytest.mark.parametrize("shape", [(2, 3, 7, 9), (1, 2, 375, 1242), (3, 4, 48, 160)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("weight", [None, "C", "NC"])
def test_adain_backward_op_direct(shape, weight):
    n, c, h, w_ = shape
    x = _randn(*shape, seed=13, dtype=torch.float32, offset=-1.0).to(DEV)
    dy = _randn(*shape, seed=14, dtype=torch.float32).to(DEV)
    wt = None if weight is None else _affine(weight, n, c, torch.float32, seed=15)[0].to(DEV)
    _, mean, rstd = torch.ops.s2rdepth.adain_forward(x, wt, None, 1e-5)
    gx, s_dy_xhat, s_dy = torch.ops.s2rdepth.adain_backward(dy, x, wt, mean, rstd, True)
    x64, dy64 = x.double().cpu(), dy.double().cpu()
    m = x64.mean(dim=(2, 3), keepdim=True)
    r = (x64.var(dim=(2, 3), unbiased=False, keepdim=True) + 1e-5).rsqrt()
    xhat = (x64 - m) * r
    want_sdy = dy64.sum(dim=(2, 3))
    want_sdx = (dy64 * xhat).sum(dim=(2, 3))
    atol = 1e-5 * math.sqrt(h * w_) * 10
    assert s_dy.shape == (n, c) and s_dy.dtype == torch.float32
    _close(s_dy, want_sdy, 1e-4, atol, what="sum_dy")
    _close(s_dy_xhat, want_sdx, 1e-4, atol, what="sum_dy_xhat")
    wnc = torch.ones(n, c, dtype=torch.float64) if wt is None else wt.double().cpu().expand(n, c)
    hw = h * w_
    want_gx = wnc[:, :, None, None] * r * (dy64 - want_sdy[:, :, None, None] / hw
                                           - xhat * want_sdx[:, :, None, None] / hw)
    _close(gx, want_gx, 1e-4, 1e-5, what="grad_x")
    gx2, s1, s0 = torch.ops.s2rdepth.adain_backward(dy, x, wt, mean, rstd, False)
    assert gx2.numel() == 0
    assert torch.equal(s1, s_dy_xhat) and torch.equal(s0, s_dy)


# ------------------------------------------------------------------------------ grad_reverse
@pytest.mark.parametrize("dtype", ALL_TYPES, ids=str)
def test_grad_reverse(dtype):
    x = _randn(3, 4, 5, 6, seed=20, dtype=dtype).to(DEV).clone().requires_grad_()
    y = ops.grad_reverse(x, 0.7)
    assert y.data_ptr() == x.data_ptr()
    g = _randn(3, 4, 5, 6, seed=21, dtype=dtype).to(DEV)
    y.backward(g)
    assert x.grad.dtype == dtype
    assert torch.equal(x.grad, g * -0.7) or dtype in HALF_TYPES
    _close(x.grad, g.double() * -0.7, *OUT_TOL[dtype], what="grad_reverse grad")


@pytest.mark.parametrize("dtype", ALL_TYPES, ids=str)
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "channels_last", "misaligned", "odd"])
def test_grad_reverse_backward_op(dtype, layout):
    g = _randn(2, 3, 17, 19, seed=22, dtype=dtype).to(DEV)
    if layout == "transposed":
        g = g.transpose(1, 3)
    elif layout == "channels_last":
        g = g.contiguous(memory_format=torch.channels_last)
    elif layout == "misaligned":
        g = _misaligned(g)
    elif layout == "odd":
        g = g.reshape(-1)[: 2 * 3 * 17 * 19 - 5]
    out = torch.ops.s2rdepth.grad_reverse_backward(g, 1.5)
    assert out.shape == g.shape and out.dtype == dtype
    _close(out, g.double() * -1.5, *OUT_TOL[dtype], what="grad_reverse_backward")


# ----------------------------------------------------------------------------- structure_loss
SL_SHAPES = [  # N, Cs, Cd, H, W
    (2, 1, 1, 8, 8),
    (2, 2, 3, 13, 17),
    (1, 1, 1, 1, 9),      # one row: every dy is 0
    (1, 1, 2, 9, 1),      # one column: every dx is 0
    (4, 1, 1, 96, 320),
]


def _sl_inputs(shape, dtype, seed):
    n, cs, cd, h, w = shape
    s = (torch.rand(n, cs, h, w, generator=_gen(seed), dtype=torch.float64) - 0.3).to(dtype)
    s.view(-1)[::11] = 0  # sign(0) = 0 in the backward
    d = (torch.rand(n, cd, h, w, generator=_gen(seed + 1), dtype=torch.float64) * 200 - 100).to(dtype)
    return s, d


@pytest.mark.parametrize("shape", SL_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("mode", ["reference", "paper"])
@pytest.mark.parametrize("dtype", ALL_TYPES, ids=str)
def test_structure_loss(shape, mode, dtype):
    s, d = _sl_inputs(shape, dtype, seed=30)
    beta = 0.01
    sd = s.to(DEV).clone().requires_grad_()
    loss = ops.structure_loss(sd, d.to(DEV), beta, mode)
    assert loss.dim() == 0 and loss.dtype == dtype and loss.device.type == torch.device(DEV).type
    sr = s.double().clone().requires_grad_()
    want = ref.structure_loss(sr, d.double(), beta, mode)
    rtol = {torch.float32: 1e-5, torch.float64: 1e-12, torch.float16: 2e-3, torch.bfloat16: 1e-2}[dtype]
    _close(loss, want, rtol, 0, what="structure_loss")
    # Gradient: scale the upstream gradient so that half precision stays out of subnormals.
    g = 1000.0
    loss.backward(torch.tensor(g, dtype=dtype, device=DEV))
    want.backward(torch.tensor(g, dtype=torch.float64))
    _close(sd.grad, sr.grad, rtol, rtol * g / s.numel(), what="structure_loss grad")


@pytest.mark.parametrize("mode", ["reference", "paper"])
def test_structure_loss_ops_direct(mode):
    s, d = _sl_inputs((3, 2, 2, 31, 45), torch.float32, seed=31)
    s, d = s.to(DEV), d.to(DEV)
    loss = torch.ops.s2rdepth.structure_loss(s, d, 0.05, mode)
    assert torch.equal(loss, torch.ops.s2rdepth.structure_loss(s, d, 0.05, mode))  # deterministic
    grad = torch.tensor(2.5, device=DEV)
    gs = torch.ops.s2rdepth.structure_loss_backward(grad, s, d, 0.05, mode)
    w = ref.structure_weight(d.double().cpu(), 0.05, mode)
    want = 2.5 * torch.sign(s.double().cpu()) * w / s.numel()
    assert gs.shape == s.shape and gs.dtype == s.dtype
    _close(gs, want, 1e-5, 1e-12, what="structure_loss_backward")


def test_structure_loss_large_batch():
    s, d = _sl_inputs((8, 1, 1, 192, 640), torch.float32, seed=32)
    loss = ops.structure_loss(s.to(DEV), d.to(DEV), 1e-3, "reference")
    _close(loss, ref.structure_loss(s.double(), d.double(), 1e-3, "reference"), 1e-5, 0, what="loss")


# ------------------------------------------------------------------------------ depth_metrics
def _dm_inputs(n, h, w, valid_frac, dtype, seed, negative=False):
    gen = _gen(seed)
    gt = torch.rand(n, h, w, generator=gen, dtype=torch.float64) * 90
    gt[torch.rand(n, h, w, generator=gen) > valid_frac] = 0
    pred = torch.rand(n, h, w, generator=gen, dtype=torch.float64) * 60 + 0.5
    if negative:
        pred -= 20
    return pred.to(dtype), gt.to(dtype)


def _dm_compare(pred, gt, rtol=1e-9, **kw):
    args = dict(min_depth=1e-3, max_depth=80.0, garg_crop=True, median_scaling=True, order="monodepth2")
    args.update(kw)
    got = torch.ops.s2rdepth.depth_metrics(pred.to(DEV), gt.to(DEV), args["min_depth"], args["max_depth"],
                                           args["garg_crop"], args["median_scaling"], args["order"])
    assert got.dtype == torch.float64 and got.shape == (gt.shape[0], 10)
    assert got.device.type == torch.device(DEV).type
    want = ref.depth_metrics(pred, gt, args["min_depth"], args["max_depth"], args["garg_crop"],
                             args["median_scaling"], args["order"])
    _close(got, want, rtol, 1e-12, what=f"depth_metrics {kw}")
    return got.cpu()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("order", ["monodepth2", "s2r"])
@pytest.mark.parametrize("crop", [True, False])
@pytest.mark.parametrize("scaling", [True, False])
def test_depth_metrics_parity(dtype, order, crop, scaling):
    pred, gt = _dm_inputs(3, 128, 416, 0.05, dtype, seed=40)
    got = _dm_compare(pred, gt, garg_crop=crop, median_scaling=scaling, order=order)
    assert (got[:, 9] > 0).all()
    if not scaling:
        assert (got[:, 8] == 1).all()


def test_depth_metrics_public_api_kitti_size():
    pred, gt = _dm_inputs(2, 375, 1242, 0.05, torch.float32, seed=41)
    got = ops.depth_metrics(pred.to(DEV), gt.to(DEV), crop="garg", order="monodepth2")
    want = ref.depth_metrics(pred, gt, 1e-3, 80.0, True, True, "monodepth2")
    for j, name in enumerate(ref.METRIC_NAMES):
        _close(got[name], want[:, j], 1e-9, 1e-12, what=name)


@pytest.mark.parametrize("order", ["monodepth2", "s2r"])
def test_depth_metrics_negative_and_nonfinite_pred(order):
    pred, gt = _dm_inputs(2, 60, 80, 0.5, torch.float32, seed=42, negative=True)
    pred[0, 30, 10:20] = float("nan")
    pred[0, 31, 10:20] = float("inf")
    pred[0, 32, 10:20] = -0.0
    pred[1, 33, :] = -float("inf")
    _dm_compare(pred, gt, garg_crop=False, order=order)


def test_depth_metrics_dense_and_ties():
    pred, gt = _dm_inputs(2, 100, 90, 1.0, torch.float64, seed=43)
    gt = torch.where(gt > 0, gt.round().clamp(min=1.0), gt)  # many equal values around the median
    pred = pred.round()
    for order in ("monodepth2", "s2r"):
        _dm_compare(pred, gt, garg_crop=False, order=order)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 1000, 1001])
def test_depth_metrics_numpy_median(count):
    gen = _gen(44 + count)
    gt = torch.zeros(1, 50, 40, dtype=torch.float64)
    idx = torch.randperm(2000, generator=gen)[:count]
    gt.view(-1)[idx] = torch.rand(count, generator=gen, dtype=torch.float64) * 70 + 1
    pred = torch.rand(1, 50, 40, generator=gen, dtype=torch.float64) * 70 + 1
    got = _dm_compare(pred, gt, garg_crop=False)
    g, p = gt.view(-1)[idx].numpy(), pred.view(-1)[idx].numpy()
    assert got[0, 9].item() == count
    assert got[0, 8].item() == pytest.approx(np.median(g) / np.median(p), rel=1e-14)


def test_depth_metrics_image_without_valid_pixel():
    pred = torch.rand(3, 20, 30, generator=_gen(45)) * 10 + 1
    gt = torch.zeros(3, 20, 30)
    gt[1, 15, 10] = 5.0            # one valid pixel inside the crop
    gt[2, 0, 0] = 5.0              # valid depth, but outside the Garg crop
    got = _dm_compare(pred, gt, garg_crop=True)
    assert got[0, 9] == 0 and got[2, 9] == 0 and got[1, 9] == 1
    assert torch.isnan(got[0, :9]).all() and torch.isnan(got[2, :9]).all()
    assert not torch.isnan(got[1]).any()


def test_depth_metrics_boundaries_compared_in_input_dtype():
    # gt exactly at float32(min_depth) / float32(max_depth) is invalid (strict comparisons in float32).
    gt = torch.full((1, 4, 4), 10.0)
    gt[0, 0, 0] = 1e-3
    gt[0, 0, 1] = 80.0
    pred = torch.full((1, 4, 4), 12.0)
    got = _dm_compare(pred, gt, garg_crop=False)
    assert got[0, 9].item() == 14
