"""Official S2R-DepthNet checkpoint layout: mapping, export → load round trip, refusals."""
from __future__ import annotations

import json
from importlib import resources

import pytest
import torch

from s2rdepth.models import OFFICIAL_FILENAMES, CheckpointMismatchError, S2RDepthNet, \
    UnsafeCheckpointError, create_model, export_official_s2r, load_official_component, \
    load_official_s2r, official_key_shapes
from s2rdepth.models.official import OFFICIAL_COMPONENTS, package_to_official

pytestmark = [pytest.mark.filterwarnings("ignore::s2rdepth.ops.S2RDepthFallbackWarning"),
              pytest.mark.usefixtures("one_thread")]


def _uninitialised_paper_model() -> S2RDepthNet:
    """Paper model without the (slow) random initialisation, for load-error tests."""
    with torch.device("meta"):
        model = S2RDepthNet()
    return model.to_empty(device="cpu")


PREFIXED = {"encoder": False, "struct_decoder": True, "dsa": True, "depth_net": True}


def _json() -> dict:
    return json.loads(resources.files("s2rdepth.models").joinpath(
        "official_s2r_state_dicts.json").read_text())


def test_package_data_describes_the_four_files():
    data = _json()
    assert set(data) == {"encoder", "struct_decoder", "dsa", "depth_net"}
    assert {k: len(v["state_dict"]) for k, v in data.items()} == {
        "encoder": 22, "struct_decoder": 38, "dsa": 206, "depth_net": 158}
    with torch.device("meta"):
        model = S2RDepthNet()
    for component, attr in OFFICIAL_COMPONENTS.items():
        module = getattr(model, attr)
        assert sum(p.numel() for p in module.parameters()) == data[component]["parameters"]
        mapped = package_to_official(component, module)
        assert {k: tuple(v.shape) for k, v in mapped.items()} == official_key_shapes(component)


class _Evil:
    """A class: pickling it stores a reference to code, which weights_only loading must refuse."""

    def __init__(self) -> None:
        self.payload = "rm -rf /"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    model = S2RDepthNet().eval()
    with torch.no_grad():  # non-trivial BN statistics and PReLU so the round trip is meaningful
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(7)
        model.dp.prelu.weight.fill_(0.3)
    out_dir = tmp_path_factory.mktemp("official")
    paths = export_official_s2r(model, out_dir)
    return model, paths


def test_export_writes_the_official_layout(exported):
    _, paths = exported
    assert {c: p.name for c, p in paths.items()} == OFFICIAL_FILENAMES
    for component, path in paths.items():
        state = torch.load(path, weights_only=True)
        prefix = "module." if PREFIXED[component] else ""
        assert all(k.startswith(prefix) for k in state)
        shapes = {k[len(prefix):]: tuple(v.shape) for k, v in state.items()}
        assert shapes == {k: tuple(v) for k, v in _json()[component]["state_dict"].items()}
    dp = torch.load(paths["depth_net"], weights_only=True)
    prelus = [k for k in dp if k.endswith(("conv1.3.weight", "nonlinearity.weight"))
              or ".model." in k and dp[k].shape == (1,)]
    assert len(prelus) == 18 and all(dp[k].item() == pytest.approx(0.3) for k in prelus)


def test_round_trip_identical_outputs(exported):
    model, paths = exported
    loaded = load_official_s2r(encoder=paths["encoder"], struct_decoder=paths["struct_decoder"],
                               dsa=paths["dsa"], depth_net=paths["depth_net"])
    assert not loaded.training
    ref, got = model.state_dict(), loaded.state_dict()
    assert ref.keys() == got.keys() and all(torch.equal(ref[k], got[k]) for k in ref)
    # outputs of every module (the paper DP needs >= 96 x 96; the others run on 32 x 32 to keep
    # the test fast — the full forward is their composition)
    torch.manual_seed(2)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    s = torch.rand(1, 1, 96, 96)
    with torch.no_grad():
        pairs = [(model.ste_encoder(x), loaded.ste_encoder(x)),
                 (model.ste_decoder(model.ste_encoder(x)), loaded.ste_decoder(loaded.ste_encoder(x))),
                 (model.dsa(x), loaded.dsa(x))]
        pairs += list(zip(model.dp(s), loaded.dp(s)))
    for u, v in pairs:
        assert torch.equal(u, v)
    assert not any(p.requires_grad for p in loaded.ste_encoder.parameters())


def test_load_without_module_prefix(exported, tmp_path):
    model, _ = exported
    paths = export_official_s2r(model, tmp_path, data_parallel=False)
    state = torch.load(paths["dsa"], weights_only=True)
    assert not any(k.startswith("module.") for k in state)
    target = _uninitialised_paper_model()
    load_official_component(target, "dsa", paths["dsa"])
    assert torch.equal(target.dsa.decoder.head.conv.weight, model.dsa.decoder.head.conv.weight)


def _tamper(path, tmp_path, fn):
    state = torch.load(path, weights_only=True)
    fn(state)
    out = tmp_path / ("bad_" + path.name)
    torch.save(state, out)
    return out


def test_missing_unexpected_and_mismatched_keys_are_listed(exported, tmp_path):
    _, paths = exported
    model = _uninitialised_paper_model()
    bad = _tamper(paths["depth_net"], tmp_path, lambda s: s.pop("module.center.1.norm2.bias"))
    with pytest.raises(CheckpointMismatchError, match="missing keys") as err:
        load_official_component(model, "depth_net", bad)
    assert "center.1.norm2.bias" in str(err.value) and str(bad) in str(err.value)
    assert err.value.missing == ["center.1.norm2.bias"]

    bad = _tamper(paths["struct_decoder"], tmp_path,
                  lambda s: s.update({"module.up3.conv1.weight": torch.zeros(1)}))
    with pytest.raises(CheckpointMismatchError, match="unexpected keys.*up3.conv1.weight"):
        load_official_component(model, "struct_decoder", bad)

    bad = _tamper(paths["encoder"], tmp_path, lambda s: s.update({"conv.conv.bias": torch.zeros(3)}))
    with pytest.raises(CheckpointMismatchError, match=r"conv.conv.bias expected \[64\] got \[3\]"):
        load_official_component(model, "encoder", bad)


def test_differing_prelu_copies_are_refused(exported, tmp_path):
    _, paths = exported
    bad = _tamper(paths["depth_net"], tmp_path,
                  lambda s: s.update({"module.deconv2.model.6.weight": torch.full((1,), 0.9)}))
    with pytest.raises(ValueError, match="shared DP PReLU"):
        load_official_component(_uninitialised_paper_model(), "depth_net", bad)


def test_pickled_code_is_refused(exported, tmp_path):
    _, paths = exported
    state = torch.load(paths["encoder"], weights_only=True)
    state["evil"] = _Evil()  # type: ignore[assignment]
    path = tmp_path / "evil.pth"
    torch.save(state, path)
    with pytest.raises(UnsafeCheckpointError, match="refused"):
        load_official_component(_uninitialised_paper_model(), "encoder", path)


def test_non_paper_models_are_rejected(tmp_path):
    tiny = create_model("s2r", "tiny")
    with pytest.raises(CheckpointMismatchError, match="paper configuration"):
        export_official_s2r(tiny, tmp_path)
    with pytest.raises(ValueError, match="has no dsa"):
        export_official_s2r(create_model("s2r", "tiny", variant="ste"), tmp_path)
    with pytest.raises(FileNotFoundError):
        load_official_component(tiny, "encoder", tmp_path / "nope.pth")
