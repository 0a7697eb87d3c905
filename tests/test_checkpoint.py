"""Checkpoint files: safetensors + JSON metadata, atomic writes, strict loading, no pickle."""
from __future__ import annotations

import json
import os

import pytest
import torch

from s2rdepth.checkpoint import (CheckpointError, atomic_write, file_sha256, load_model, load_tensors,
                                 read_metadata, save_model, save_tensors)
from s2rdepth.models import create_model
from s2rdepth.models._checkpoint import CheckpointMismatchError


@pytest.mark.parametrize("arch", ["s2r", "da_monodepth", "structure_translator"])
def test_model_round_trip(tmp_path, arch):
    torch.manual_seed(0)
    model = create_model(arch, "tiny")
    cfg = None
    if arch == "structure_translator":
        cfg = {"width": 0.125, "res_blocks": 1}
    path = save_model(tmp_path / "m.safetensors", model, config=cfg, extra={"step": 7})
    meta = read_metadata(path)
    assert meta["arch"] == arch and meta["extra"] == {"step": 7} and meta["format_version"] == 1
    loaded = load_model(path)
    assert not loaded.training
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b)


def test_s2r_outputs_identical_after_reload(tmp_path):
    torch.manual_seed(1)
    model = create_model("s2r", "tiny", variant="ste_dsa_concat").eval()
    x = torch.rand(1, 3, 64, 128) * 2 - 1
    path = save_model(tmp_path / "s2r.safetensors", model)
    loaded = load_model(path)
    assert loaded.variant == "ste_dsa_concat"
    torch.testing.assert_close(loaded(x).depth, model(x).depth, rtol=0, atol=0)


def test_atomic_write_keeps_old_file_on_crash(tmp_path):
    target = tmp_path / "ckpt.safetensors"
    save_tensors(target, {"a": torch.ones(3)}, {"format": "x"})
    before = target.read_bytes()

    def crash(tmp):
        tmp.write_bytes(b"partial")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError, match="killed"):
        atomic_write(target, crash)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.safetensors"]  # no temp file left behind


def test_shared_tensors_are_saved(tmp_path):
    w = torch.randn(4)
    tensors, meta = load_tensors(save_tensors(tmp_path / "t.safetensors", {"a": w, "b": w, "c": w[:2]}, {"k": 1}))
    assert meta == {"k": 1}
    assert torch.equal(tensors["a"], w) and torch.equal(tensors["b"], w) and torch.equal(tensors["c"], w[:2])


def test_bad_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        load_model(tmp_path / "nope.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file at all")
    with pytest.raises(CheckpointError, match="junk.safetensors"):
        load_model(junk)
    foreign = tmp_path / "foreign.safetensors"
    from safetensors.torch import save_file

    save_file({"x": torch.ones(1)}, str(foreign))
    with pytest.raises(CheckpointError, match="without s2rdepth metadata"):
        read_metadata(foreign)
    model = create_model("s2r", "tiny")
    state = dict(model.state_dict())
    state.pop(next(iter(state)))
    state["extra.weight"] = torch.ones(1)
    broken = save_tensors(tmp_path / "broken.safetensors", state,
                          {"format": "s2rdepth.model", "arch": "s2r", "config": {"width": 0.125, "ste_res_blocks": 1,
                                                                                "dp_inception_blocks": 1,
                                                                                "dp_dilations": [1, 3]}})
    with pytest.raises(CheckpointMismatchError, match="(?s)missing keys .*unexpected keys .*extra.weight"):
        load_model(broken)


def test_file_sha256(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"abc")
    assert file_sha256(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
