"""Inference wrappers: TorchScript and torch.export without s2rdepth ops; presets and complexity."""
from __future__ import annotations

import warnings

import pytest
import torch

from s2rdepth.models import DAMonodepthPredictor, S2RPredictor, create_model, list_presets, \
    make_predictor, model_complexity, to_fused_ops, to_standard_ops
from s2rdepth.models.blocks import FusedOpModule

pytestmark = [pytest.mark.filterwarnings("ignore::s2rdepth.ops.S2RDepthFallbackWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.usefixtures("one_thread")]


def _s2r_predictor() -> S2RPredictor:
    torch.manual_seed(0)
    return S2RPredictor(create_model("s2r", "tiny").eval(), network_size=(64, 128))


def _da_predictor() -> DAMonodepthPredictor:
    torch.manual_seed(0)
    return DAMonodepthPredictor(create_model("da_monodepth", "tiny").eval(), network_size=(64, 128))


def _eager_fused(predictor: torch.nn.Module) -> torch.nn.Module:
    """The same predictor running the fused ops (s2rdepth.ops), as an eager model does."""
    import copy
    return to_fused_ops(copy.deepcopy(predictor))


def _image(dtype=torch.float32, n=2, h=50, w=150):
    torch.manual_seed(3)
    x = torch.rand(n, 3, h, w)
    return (x * 255).round().to(torch.uint8) if dtype == torch.uint8 else x.to(dtype)


def _assert_no_s2rdepth_ops_exported(ep):
    targets = [str(n.target) for n in ep.graph.nodes if n.op == "call_function"]
    assert targets and not any("s2rdepth" in t for t in targets)


@pytest.mark.parametrize("make", [_s2r_predictor, _da_predictor], ids=["s2r", "da_monodepth"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
def test_torchscript_matches_eager(make, dtype):
    predictor = make()
    assert all(m.standard_ops for m in predictor.modules() if isinstance(m, FusedOpModule))
    x = _image(dtype)
    with torch.no_grad():
        ref = _eager_fused(predictor)(x)
        scripted = torch.jit.script(predictor)
        got = scripted(x)
    assert ref.shape == (2, 1, 50, 150) and ref.dtype == torch.float32
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)
    assert "s2rdepth::" not in str(scripted.inlined_graph)  # no torch.ops.s2rdepth.* call


@pytest.mark.parametrize("make", [_s2r_predictor, _da_predictor], ids=["s2r", "da_monodepth"])
def test_torch_export_matches_eager(make):
    predictor = make()
    x = _image(torch.uint8)
    with torch.no_grad():
        ref = _eager_fused(predictor)(x)
    ep = torch.export.export(predictor, (x,))
    _assert_no_s2rdepth_ops_exported(ep)
    with torch.no_grad():
        got = ep.module()(x)
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)


def test_predictor_units_and_inputs():
    p = _s2r_predictor()
    depth = p(_image())
    assert depth.min() >= 0 and depth.max() <= 80 and not depth.requires_grad
    u8, f = _image(torch.uint8), _image(torch.uint8).float() / 255
    torch.testing.assert_close(p(u8), p(f))
    with pytest.raises(ValueError, match="N x 3 x H x W"):
        p(torch.rand(1, 1, 32, 32))
    with pytest.raises(TypeError, match="uint8"):
        p(torch.zeros(1, 3, 32, 32, dtype=torch.int32))
    with pytest.raises(ValueError, match="divisible by 16"):
        S2RPredictor(create_model("s2r", "tiny"), network_size=(100, 128))
    d = _da_predictor()(_image(torch.uint8))
    assert d.shape == (2, 1, 50, 150) and d.min() >= 0.1 - 1e-4 and d.max() <= 100 + 1e-3
    assert isinstance(make_predictor(create_model("da_monodepth", "tiny")), DAMonodepthPredictor)
    with pytest.raises(TypeError):
        make_predictor(torch.nn.Conv2d(1, 1, 1))


def test_predictor_does_not_modify_the_model():
    model = create_model("da_monodepth", "tiny")
    DAMonodepthPredictor(model, (64, 128))
    assert model.semantic_decoder is not None and model.domain_classifier is not None
    assert not any(m.standard_ops for m in model.modules() if isinstance(m, FusedOpModule))
    to_standard_ops(model)
    assert all(m.standard_ops for m in model.modules() if isinstance(m, FusedOpModule))


def test_presets_and_complexity():
    names = {(a, p) for a, p, _ in list_presets()}
    assert {(a, p) for a in ("s2r", "da_monodepth", "structure_translator")
            for p in ("paper", "lite", "tiny")} <= names
    with pytest.raises(ValueError, match="unknown preset"):
        create_model("s2r", "huge")
    with pytest.raises(ValueError, match="unknown architecture"):
        create_model("unet")
    assert create_model("s2r", "tiny", variant="edge").variant == "edge"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the meta-device count must not touch the fused ops
        tiny = model_complexity(create_model("s2r", "tiny"), (192, 640))
    assert tiny["params"] == sum(p.numel() for p in create_model("s2r", "tiny").parameters())
    assert 1 < tiny["gflops"] < 50 and tiny["gmacs"] == pytest.approx(tiny["gflops"] / 2)
    da = model_complexity(create_model("da_monodepth", "tiny"), (96, 320))
    assert da["params_inference"] < da["params"] and da["gflops"] > 0
