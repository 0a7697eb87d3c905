"""S2R-DepthNet: parameter counts, Table 5 variants, freezing, units, bad inputs."""
from __future__ import annotations

import time
import warnings

import pytest
import torch

from s2rdepth.models import S2R_VARIANTS, S2RDepthNet, create_model, depth_net_to_metres, \
    metres_to_depth_net
from s2rdepth.models.blocks import SobelEdges, count_parameters
from s2rdepth.ops import S2RDepthFallbackWarning

pytestmark = [pytest.mark.filterwarnings("ignore::s2rdepth.ops.S2RDepthFallbackWarning"),
              pytest.mark.usefixtures("one_thread")]


def _tiny(**kw) -> S2RDepthNet:
    torch.manual_seed(0)
    return create_model("s2r", "tiny", **kw)


def _image(n: int = 1, h: int = 64, w: int = 128) -> torch.Tensor:
    torch.manual_seed(1)
    return torch.rand(n, 3, h, w) * 2 - 1


def test_paper_parameter_counts():
    with torch.device("meta"):
        model = S2RDepthNet()
    assert count_parameters(model.ste_encoder) == 5_385_856
    assert count_parameters(model.ste_decoder) == 2_234_049
    assert count_parameters(model.dsa) == 25_259_761
    assert count_parameters(model.dsa.encoder) == 15_880_752
    assert count_parameters(model.dsa.decoder) == 9_379_009
    assert count_parameters(model.dp) == 54_558_404  # the one shared PReLU counted once
    assert model.parameter_counts()["total"] == 87_438_070
    assert model.dp.prelu.weight.shape == (1,)


@pytest.mark.parametrize("variant", sorted(S2R_VARIANTS))
def test_variant_forward_backward(variant):
    model = _tiny(variant=variant).train()
    out = model(_image(2))
    assert len(out.depth_scales) == 4
    assert [tuple(d.shape) for d in out.depth_scales] == [
        (2, 1, 8, 16), (2, 1, 16, 32), (2, 1, 32, 64), (2, 1, 64, 128)]
    assert out.depth is out.depth_scales[-1]
    assert out.depth.abs().max() <= 1.0
    has_structure = variant != "baseline"
    assert (out.structure is not None) == has_structure
    assert (out.attention is not None) == variant.startswith("ste_dsa")
    for m in (out.structure, out.attention):
        if m is not None:
            assert m.shape == (2, 1, 64, 128) and m.min() >= 0 and m.max() <= 1
    sum(d.mean() for d in out.depth_scales).backward()
    assert model.dp.stem.conv.weight.grad is not None
    if model.dsa is not None:
        assert model.dsa.encoder.layer0[0].weight.grad is not None
    if model.ste_decoder is not None:
        assert model.ste_decoder.up1.main_conv1.weight.grad is not None
        assert all(p.grad is None for p in model.ste_encoder.parameters())  # frozen by default
    expected_in = {"baseline": 3, "ste_dsa_concat": 2}.get(variant, 1)
    assert model.dp.in_channels == expected_in


def test_variant_submodules_and_fusions():
    img = _image()
    mul, add = _tiny(variant="ste_dsa_mul").eval(), _tiny(variant="ste_dsa_add").eval()
    add.load_state_dict(mul.state_dict())
    s, a = mul(img).structure, mul(img).attention
    assert torch.equal(mul._dp_input(img, s, a), s * a)
    assert torch.equal(add._dp_input(img, s, a), s + a)
    assert _tiny(variant="baseline").ste_encoder is None
    assert _tiny(variant="ste").dsa is None
    assert _tiny(variant="edge").edges is not None
    with pytest.raises(ValueError, match="unknown variant"):
        S2RDepthNet(variant="sum")


def test_ste_encoder_frozen_by_default_and_optional():
    model = _tiny().train()
    assert model.frozen_modules() == ["ste_encoder"]
    assert not model.ste_encoder.training and model.dsa.training
    assert all(not p.requires_grad for p in model.ste_encoder.parameters())
    out = model(_image())
    out.depth.mean().backward()
    assert all(p.grad is None for p in model.ste_encoder.parameters())

    trainable = _tiny(freeze_ste=False).train()
    assert trainable.ste_encoder.training and trainable.frozen_modules() == []
    trainable(_image()).depth.mean().backward()
    assert trainable.ste_encoder.stem.conv.weight.grad is not None

    # stage 3: decoder frozen too, fresh DP
    model.set_frozen("ste_decoder").train()
    assert not model.ste_decoder.training
    assert model(_image()).structure.requires_grad is False
    model.dp.reset_parameters()
    assert model.dp.prelu.weight.item() == pytest.approx(0.25)
    model.set_frozen("ste_decoder", False)
    assert all(p.requires_grad for p in model.ste_decoder.parameters())
    with pytest.raises(ValueError):
        model.set_frozen("nothing")
    with pytest.raises(ValueError):
        _tiny(variant="baseline").set_frozen("dsa")


def test_depth_units():
    y = torch.tensor([-1.0, 0.0, 1.0])
    assert depth_net_to_metres(y).tolist() == [0.0, 40.0, 80.0]
    assert depth_net_to_metres(y, 8.0).tolist() == [0.0, 4.0, 8.0]
    d = torch.tensor([0.0, 20.0, 80.0, 120.0])
    assert torch.allclose(depth_net_to_metres(metres_to_depth_net(d)), d.clamp(max=80))
    model = _tiny(max_depth=8.0)
    assert model.to_metres(torch.ones(1)).item() == 8.0


def test_sobel_edges():
    sobel = SobelEdges()
    flat = torch.zeros(1, 3, 16, 16)
    assert sobel(flat).abs().max() < 1e-5
    step = -torch.ones(1, 3, 16, 16)
    step[..., 8:] = 1.0
    e = sobel(step)
    assert e.shape == (1, 1, 16, 16) and e.max() <= 1.0 + 1e-6 and e[0, 0, 5, 8] > 0.5


def test_tiny_forward_backward_is_fast():
    model = _tiny().train()
    x = _image()
    model(x).depth.mean().backward()  # warm-up
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        out = model(x)
        sum(d.mean() for d in out.depth_scales).backward()
        best = min(best, time.perf_counter() - t0)
    assert best < 1.0, f"tiny forward+backward took {best:.3f} s"


@pytest.mark.parametrize("shape,dtype,exc,match", [
    ((1, 1, 64, 128), torch.float32, ValueError, "3 input channels"),
    ((1, 4, 64, 128), torch.float32, ValueError, "3 input channels"),
    ((1, 3, 64, 120), torch.float32, ValueError, "divisible by 16"),
    ((1, 3, 72, 128), torch.float32, ValueError, "divisible by 16"),
    ((1, 3, 48, 128), torch.float32, ValueError, "at least 64"),
    ((3, 64, 128), torch.float32, ValueError, "N x 3 x H x W"),
    ((1, 3, 64, 128), torch.uint8, TypeError, "floating-point"),
])
def test_bad_inputs(shape, dtype, exc, match):
    model = _tiny().eval()
    x = torch.zeros(shape, dtype=dtype)
    with pytest.raises(exc, match=match):
        model(x)


def test_paper_minimum_size_is_checked():
    with torch.device("meta"):
        model = S2RDepthNet()
    assert model.min_size == 96
    with pytest.raises(ValueError, match="at least 96"):
        model(torch.zeros(1, 3, 64, 128, device="meta"))


def test_fallback_warning_is_the_only_warning():
    model = _tiny().eval()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        model(_image())
    assert all(issubclass(w.category, S2RDepthFallbackWarning) for w in rec)
