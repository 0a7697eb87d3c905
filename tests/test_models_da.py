"""DA-Monodepth: shapes at 192 x 640 and 96 x 320, ablations, sharing, GRL, ImageNet loading."""
from __future__ import annotations

import pytest
import torch

from s2rdepth.models import CheckpointMismatchError, DAMonodepth, PatchDomainClassifier, \
    ResNetEncoder, UnsafeCheckpointError, create_model, depth_to_disp, disp_to_depth, drn_d_22
from s2rdepth.models.blocks import count_parameters

pytestmark = [pytest.mark.filterwarnings("ignore::s2rdepth.ops.S2RDepthFallbackWarning"),
              pytest.mark.usefixtures("one_thread")]


def _tiny(**kw) -> DAMonodepth:
    torch.manual_seed(0)
    return create_model("da_monodepth", "tiny", **kw)


def test_constructible_without_arguments_and_parameter_counts():
    with torch.device("meta"):
        model = DAMonodepth()
    counts = model.parameter_counts()
    assert counts["encoder"] == 11_176_512  # ResNet-18 without fc
    assert counts["shared_block"] == 2_359_808
    assert counts["depth_decoder"] == 792_916
    assert counts["semantic_decoder"] == 790_752 + 2_164 * 19
    assert counts["domain_classifier"] == 1_849_665
    assert counts["inference"] == 14_329_236  # = monodepth2 ResNet-18 depth net
    assert counts["trainable"] == counts["total"] == 17_010_769
    assert model.config.num_classes == 19


@pytest.mark.parametrize("size", [(192, 640), (96, 320)])
def test_output_shapes(size):
    h, w = size
    model = _tiny(num_classes=15).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, h, w))
    assert [tuple(d.shape) for d in out.disp_scales] == [
        (1, 1, h // 8, w // 8), (1, 1, h // 4, w // 4), (1, 1, h // 2, w // 2), (1, 1, h, w)]
    assert out.disp is out.disp_scales[-1] and 0 < out.disp.min() and out.disp.max() < 1
    assert [tuple(s.shape) for s in out.semantic_scales] == [
        (1, 15, h // 8, w // 8), (1, 15, h // 4, w // 4), (1, 15, h // 2, w // 2), (1, 15, h, w)]
    assert out.domain_logits.shape == (1, 1, h // 32, w // 32)
    assert out.domain_logits.numel() > 0


@pytest.mark.parametrize("size", [(6, 20), (3, 10)])
def test_paper_domain_classifier_patch_map_is_not_empty(size):
    clf = PatchDomainClassifier(512).eval()
    with torch.no_grad():
        out = clf(torch.randn(2, 512, *size))
    assert out.shape == (2, 1, *size)


@pytest.mark.parametrize("semantic,domain", [(False, False), (True, False), (True, True)])
def test_ablation_switches_forward_backward(semantic, domain):
    model = _tiny(use_semantic=semantic, use_domain_classifier=domain).train()
    out = model(torch.rand(2, 3, 64, 128), grl_coeff=0.5)
    assert (out.semantic is None) == (not semantic) and (out.semantic_scales is None) == (not semantic)
    assert (out.domain_logits is None) == (not domain)
    loss = sum(d.mean() for d in out.disp_scales)
    if semantic:
        loss = loss + sum(s.logsumexp(1).mean() for s in out.semantic_scales)
    if domain:
        loss = loss + out.domain_logits.mean()
    loss.backward()
    assert model.encoder.conv1.weight.grad is not None
    assert model.shared_block.conv_in.conv.weight.grad is not None
    assert (model.semantic_decoder is None) == (not semantic)
    assert (model.domain_classifier is None) == (not domain)


def test_first_decoder_block_is_shared():
    model = _tiny()
    n = count_parameters
    assert n(model) == n(model.encoder) + n(model.shared_block) + n(model.depth_decoder) + \
        n(model.semantic_decoder) + n(model.domain_classifier)
    feats = [f.detach() for f in model.encode(torch.rand(1, 3, 64, 128))]
    model.decode_semantic(feats)[-1].sum().backward()
    assert model.shared_block.conv_in.conv.weight.grad is not None  # semantic loss reaches it
    assert model.depth_decoder.blocks[0].conv_in.conv.weight.grad is None
    with pytest.raises(RuntimeError):
        _tiny(use_semantic=False).decode_semantic(feats)


def test_gradient_reversal_on_the_bottleneck():
    model = _tiny()
    z = torch.randn(2, model.encoder.num_ch_enc[-1], 3, 10, requires_grad=True)
    model.classify_domain(z, coeff=0.5).sum().backward()
    reversed_grad = z.grad.clone()
    z.grad = None
    model.domain_classifier.net(z).sum().backward()
    torch.testing.assert_close(reversed_grad, -0.5 * z.grad)


def test_disparity_units():
    d = torch.tensor([0.0, 1.0])
    scaled, depth = disp_to_depth(d)
    torch.testing.assert_close(depth, torch.tensor([100.0, 0.1]))
    torch.testing.assert_close(scaled, torch.tensor([0.01, 10.0]))
    m = torch.tensor([0.1, 1.0, 5.0, 80.0])
    torch.testing.assert_close(disp_to_depth(depth_to_disp(m))[1], m)
    model = _tiny()
    assert model.to_metres(torch.zeros(1)).item() == pytest.approx(100.0)


def test_input_normalisation_matches_monodepth2():
    enc = ResNetEncoder(width=0.125).eval()
    x = torch.rand(1, 3, 64, 64)
    raw = ResNetEncoder(width=0.125, normalize_input=False).eval()
    raw.load_state_dict(enc.state_dict())
    torch.testing.assert_close(enc(x)[-1], raw((x - 0.45) / 0.225)[-1])


@pytest.mark.parametrize("shape,dtype,exc,match", [
    ((1, 3, 64, 112), torch.float32, ValueError, "divisible by 32"),
    ((1, 3, 80, 128), torch.float32, ValueError, "divisible by 32"),
    ((1, 1, 64, 128), torch.float32, ValueError, "3 input channels"),
    ((1, 3, 32, 128), torch.float32, ValueError, "at least 64"),
    ((1, 3, 64, 128), torch.uint8, TypeError, "floating-point"),
])
def test_bad_inputs(shape, dtype, exc, match):
    with pytest.raises(exc, match=match):
        _tiny()(torch.zeros(shape, dtype=dtype))


def _torchvision_like_resnet18_file(tmp_path):
    src = ResNetEncoder()
    state = {k: v.clone() for k, v in src.state_dict().items()}
    state["fc.weight"] = torch.zeros(1000, 512)
    state["fc.bias"] = torch.zeros(1000)
    path = tmp_path / "resnet18-f37072fd.pth"
    torch.save(state, path)
    return src, state, path


def test_load_imagenet_resnet18(tmp_path):
    src, state, path = _torchvision_like_resnet18_file(tmp_path)
    for key in ("conv1.weight", "bn1.running_var", "layer1.0.conv1.weight", "layer1.1.bn2.bias",
                "layer2.0.downsample.0.weight", "layer4.1.conv2.weight"):
        assert key in state  # torchvision key layout
    model = DAMonodepth(width=1.0, use_semantic=False, use_domain_classifier=False)
    model.encoder.load_imagenet(path)
    assert all(torch.equal(v, model.encoder.state_dict()[k]) for k, v in src.state_dict().items())

    del state["layer3.1.bn1.weight"]
    state["layer5.0.conv1.weight"] = torch.zeros(1)
    torch.save(state, path)
    with pytest.raises(CheckpointMismatchError, match="layer3.1.bn1.weight") as err:
        ResNetEncoder().load_imagenet(path)
    assert err.value.unexpected == ["layer5.0.conv1.weight"]
    with pytest.raises(CheckpointMismatchError):
        ResNetEncoder(width=0.5).load_imagenet(src.state_dict())


class Payload:
    """Pickling an instance stores a reference to this class (code), which must be refused."""


def test_load_imagenet_refuses_pickled_code(tmp_path):
    path = tmp_path / "bad.pth"
    torch.save({"conv1.weight": torch.zeros(1), "x": Payload()}, path)
    with pytest.raises(UnsafeCheckpointError):
        ResNetEncoder().load_imagenet(path)


def test_load_imagenet_drn_d_22(tmp_path):
    src = drn_d_22()
    state = dict(src.state_dict())
    assert "layer0.0.weight" in state and "layer5.0.downsample.0.weight" in state  # DRN layout
    state["fc.weight"] = torch.zeros(1000, 512, 1, 1)
    state["fc.bias"] = torch.zeros(1000)
    path = tmp_path / "drn_d_22-4bd2f8ea.pth"
    torch.save({"module." + k: v for k, v in state.items()}, path)
    dst = drn_d_22()
    dst.load_imagenet(path)
    assert torch.equal(dst.layer8[0].weight, src.layer8[0].weight)
