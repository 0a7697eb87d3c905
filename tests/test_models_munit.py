"""Stage-1 MUNIT-style networks with the shared structure encoder."""
from __future__ import annotations

import pytest
import torch

from s2rdepth.models import AdaINDecoder, MultiScaleDiscriminator, StructureTranslator, StyleEncoder, \
    StyleMLP, create_model, lsgan_discriminator_loss, lsgan_generator_loss
from s2rdepth.models.blocks import count_parameters
from s2rdepth.models.s2r import STEEncoder

pytestmark = [pytest.mark.filterwarnings("ignore::s2rdepth.ops.S2RDepthFallbackWarning"),
              pytest.mark.usefixtures("one_thread")]


def test_paper_parameter_counts():
    with torch.device("meta"):
        t = StructureTranslator()
    assert count_parameters(t.ste_encoder) == 5_385_856
    assert count_parameters(t.style_encoders["synthetic"]) == 2_764_936      # ~2.76 M
    assert count_parameters(t.decoders["synthetic"]) == 5_754_627            # ~5.75 M
    assert count_parameters(t.style_mlps["synthetic"]) == 1_120_768          # ~1.12 M
    assert count_parameters(t.discriminators["synthetic"]) == 8_271_171      # ~8.27 M
    assert t.decoders["painting"].num_adain_params == 4096
    with torch.device("meta"):
        assert count_parameters(StyleEncoder()) == 2_764_936
        assert count_parameters(AdaINDecoder()) == 5_754_627
        assert count_parameters(StyleMLP()) == 1_120_768
        assert count_parameters(MultiScaleDiscriminator()) == 8_271_171


def _tiny() -> StructureTranslator:
    torch.manual_seed(0)
    return create_model("structure_translator", "tiny")


def test_shared_encoder_and_translation():
    t = _tiny()
    assert isinstance(t.ste_encoder, STEEncoder)
    assert set(t.style_encoders) == set(t.decoders) == set(t.discriminators) == {"synthetic", "painting"}
    x = torch.rand(2, 3, 64, 128) * 2 - 1
    code_a, style_a = t.encode(x, "synthetic")
    code_b, _ = t.encode(x, "painting")
    assert torch.equal(code_a, code_b)  # one structure encoder for both domains
    assert code_a.shape == (2, t.ste_encoder.out_channels, 16, 32) and style_a.shape == (2, 8)
    y = t.translate(x, "painting")
    assert y.shape == x.shape and y.abs().max() <= 1
    scores = t.discriminate(y, "painting")
    assert [s.shape[-2:] for s in scores] == [(4, 8), (2, 4), (1, 2)]


def test_adain_is_per_sample():
    t = _tiny().eval()
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    code = t.ste_encoder(x).expand(2, -1, -1, -1)
    styles = torch.randn(2, 8)
    out = t.decode(code, styles, "synthetic")
    assert not torch.allclose(out[0], out[1])  # same structure, different styles
    single = t.decode(code[:1], styles[1:], "synthetic")
    torch.testing.assert_close(out[1:], single)
    with pytest.raises(ValueError, match="adain_params"):
        t.decoders["synthetic"](code, torch.zeros(2, 3))


def test_training_step_and_parameter_groups():
    t = _tiny().train()
    gen = {id(p) for p in t.generator_parameters()}
    dis = {id(p) for p in t.discriminator_parameters()}
    assert gen.isdisjoint(dis) and len(gen | dis) == len(list(t.parameters()))
    x_a = torch.rand(2, 3, 64, 64) * 2 - 1
    x_b = torch.rand(2, 3, 64, 64) * 2 - 1
    c_a, s_a = t.encode(x_a, "synthetic")
    x_ab = t.decode(c_a, t.random_style(2), "painting")
    rec = (t.decode(c_a, s_a, "synthetic") - x_a).abs().mean()
    loss_g = lsgan_generator_loss(t.discriminate(x_ab, "painting")) + 10 * rec
    loss_g.backward()
    assert t.ste_encoder.stem.conv.weight.grad is not None
    assert t.style_mlps["painting"].net[0].weight.grad is not None
    loss_d = lsgan_discriminator_loss(t.discriminate(x_ab.detach(), "painting"),
                                      t.discriminate(x_b, "painting"))
    assert loss_d.item() > 0
    with pytest.raises(ValueError, match="unknown domain"):
        t.encode(x_a, "photo")


def test_encoder_transfers_to_the_depth_model():
    t = _tiny()
    depth = create_model("s2r", "tiny")
    depth.ste_encoder.load_state_dict(t.ste_encoder.state_dict())
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    torch.testing.assert_close(depth.ste_encoder(x), t.ste_encoder(x))
