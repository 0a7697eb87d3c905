"""Checkpoints and resuming: a run killed with SIGKILL and resumed ends with the weights of an
uninterrupted run; RNG state (stage-1 random styles) survives a resume; pruning, damaged files,
refusing to overwrite a run; non-finite losses are skipped and stop training after N."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import test_train_support as S
from s2rdepth.checkpoint import load_tensors
from s2rdepth.train import ConfigError, TrainingError, build_method, load_config, train
from s2rdepth.train.checkpoint import list_checkpoints, load_training_checkpoint
from s2rdepth.train.methods import S2RDepthMethod

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    return S.make_trees(tmp_path_factory.mktemp("trees"))


def _args(name, trees, steps, *extra):
    return [*S.tiny_overrides(trees, steps), *S.data_overrides(name, trees), *extra]


def _max_diff(a, b) -> float:
    ta, _ = load_tensors(a)
    tb, _ = load_tensors(b)
    assert ta.keys() == tb.keys()
    return max(float((ta[k].double() - tb[k].double()).abs().max()) if ta[k].numel() else 0.0 for k in ta)


def test_sigkill_and_resume_matches_uninterrupted_run(trees, tmp_path):
    """DA-Monodepth (two data streams, GRL schedule, augmentation in a worker process): kill -9
    after a checkpoint, resume, compare with a run that was never interrupted."""
    name = "da_monodepth/vkitti_kitti"
    steps = 24
    extra = ["checkpoint.every_steps=2", "checkpoint.keep_last=2", "data.num_workers=1", "data.augment=true",
             "log.every_steps=4"]
    cfg_path = S.CONFIGS / f"{name}.yaml"
    ref = train(load_config(cfg_path, _args(name, trees, steps, *extra, f"out={tmp_path / 'ref'}")), console=False)

    out = tmp_path / "killed"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "s2rdepth", "train", str(cfg_path),
                             *_args(name, trees, steps, *extra), "--out", str(out), "--quiet"],
                            env=env, cwd=S.REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            done = [s for s, _ in list_checkpoints(out / "checkpoints")]
            if done and max(done) >= 6 or proc.poll() is not None:
                break
            time.sleep(0.02)
        assert proc.poll() is None, f"training ended before it could be killed: {proc.communicate()}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "model.safetensors").exists(), "the run finished before the kill"
    killed_at = max(s for s, _ in list_checkpoints(out / "checkpoints"))
    assert 6 <= killed_at < steps

    res = train(load_config(cfg_path, _args(name, trees, steps, *extra, f"out={out}")), resume=True, console=False)
    assert res.resumed_from is not None and res.step == steps
    diff = _max_diff(ref.model, res.model)
    assert diff <= 1e-6, f"resumed run differs from the uninterrupted one by {diff}"
    log = (out / "train.log").read_text()
    assert "resuming" in log
    _, state, _ = load_training_checkpoint(res.checkpoint)
    _, ref_state, _ = load_training_checkpoint(ref.checkpoint)
    assert state["streams"] == ref_state["streams"] and state["counters"] == ref_state["counters"]


def test_resume_restores_rng_for_random_styles(trees, tmp_path):
    """Stage 1 draws random style codes from the global RNG: 2 + 2 resumed steps == 4 steps."""
    name = "s2r/vkitti_stage1"
    cfg_path = S.CONFIGS / f"{name}.yaml"
    small = ["data.size=[64,64]"]
    ref = train(load_config(cfg_path, _args(name, trees, 4, *small, f"out={tmp_path / 'ref'}")), console=False)
    first = train(load_config(cfg_path, _args(name, trees, 2, *small, f"out={tmp_path / 'split'}")), console=False)
    assert first.step == 2
    res = train(load_config(cfg_path, _args(name, trees, 4, *small, f"out={tmp_path / 'split'}")), resume=True,
                console=False)
    assert res.step == 4 and res.resumed_from == first.checkpoint
    assert _max_diff(ref.model, res.model) <= 1e-6


def test_keep_last_damaged_checkpoint_and_refusing_to_overwrite(trees, tmp_path):
    name = "s2r/vkitti_baseline"
    cfg_path = S.CONFIGS / f"{name}.yaml"
    out = tmp_path / "run"
    args = _args(name, trees, 5, "checkpoint.every_steps=1", "checkpoint.keep_last=2", f"out={out}")
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / ".step_00000001.safetensors.abc.tmp").write_bytes(b"half a file")  # killed write
    train(load_config(cfg_path, args), console=False)
    assert [s for s, _ in list_checkpoints(out / "checkpoints")] == [4, 5]
    assert not list((out / "checkpoints").glob("*.tmp"))
    # a new run must not overwrite this one
    with pytest.raises(ConfigError, match="--resume"):
        train(load_config(cfg_path, args), console=False)
    # damage the newest checkpoint: --resume falls back to the previous one and says so
    newest = out / "checkpoints" / "step_00000005.safetensors"
    newest.write_bytes(newest.read_bytes()[:100])
    res = train(load_config(cfg_path, [*args[:-1], "train.max_steps=6", f"out={out}"]), resume=True, console=False)
    assert res.resumed_from.name == "step_00000004.safetensors" and res.step == 6
    assert "damaged checkpoint" in (out / "train.log").read_text()


def test_resume_without_checkpoint_starts_fresh_and_export_loads(trees, tmp_path):
    name = "s2r/vkitti_edge"
    res = train(load_config(S.CONFIGS / f"{name}.yaml", _args(name, trees, 2, f"out={tmp_path / 'r'}")),
                resume=True, console=False)
    assert res.resumed_from is None and res.step == 2
    _, state, meta = load_training_checkpoint(res.checkpoint)
    assert meta["method"] == "s2r_depth" and state["counters"]["step"] == 2
    assert set(state["optimizers"]) == {"model"} and "torch" in state["rng"]["0"]


def _nan_on(steps: set[int]):
    calls = {"n": 0}
    original = S2RDepthMethod.step

    def step(self, batch, phase="model"):
        losses = original(self, batch, phase)
        calls["n"] += 1
        if calls["n"] in steps:
            losses["loss"] = losses["loss"] * float("nan")
        return losses
    return step


def test_nonfinite_steps_are_skipped_then_stop(trees, tmp_path, monkeypatch):
    name = "s2r/vkitti_baseline"
    cfg_path = S.CONFIGS / f"{name}.yaml"
    monkeypatch.setattr(S2RDepthMethod, "step", _nan_on({2, 3}))
    res = train(load_config(cfg_path, _args(name, trees, 5, "train.max_nonfinite=2", f"out={tmp_path / 'a'}")),
                console=False)
    assert res.nonfinite_steps == 2 and res.step == 5
    assert "non-finite loss" in (tmp_path / "a" / "train.log").read_text()

    # every step non-finite: the weights never move, and the run stops after max_nonfinite
    monkeypatch.setattr(S2RDepthMethod, "step", _nan_on(set(range(1, 100))))
    cfg = load_config(cfg_path, _args(name, trees, 5, "train.max_nonfinite=2", f"out={tmp_path / 'b'}"))
    with pytest.raises(TrainingError, match="max_nonfinite=2"):
        train(cfg, console=False)
    cfg = load_config(cfg_path, _args(name, trees, 3, "train.max_nonfinite=10", f"out={tmp_path / 'c'}"))
    res = train(cfg, console=False)
    torch.manual_seed(cfg.seed)
    fresh = build_method(cfg).model
    trained, _ = load_tensors(res.model)
    for k, p in fresh.named_parameters():
        assert torch.equal(p.detach(), trained[k]), k


def test_disk_full_during_a_checkpoint_keeps_the_previous_ones(trees, tmp_path, monkeypatch):
    """A write that fails half-way (ENOSPC) leaves no file behind and no damaged 'latest'; the
    run logs it and goes on; --resume uses the newest complete checkpoint."""
    import errno

    import s2rdepth.checkpoint as ckpt_mod

    real_save = ckpt_mod.save_file

    def flaky_save(tensors, filename, metadata=None):
        if "step_00000004" in str(filename) or ".step_00000004" in str(filename):
            with open(filename, "wb") as fh:
                fh.write(b"\0" * 64)  # a partial write, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(tensors, filename, metadata=metadata)

    monkeypatch.setattr(ckpt_mod, "save_file", flaky_save)
    name = "s2r/vkitti_baseline"
    out = tmp_path / "run"
    args = _args(name, trees, 6, "checkpoint.every_steps=2", "checkpoint.keep_last=5", f"out={out}")
    res = train(load_config(S.CONFIGS / f"{name}.yaml", args), console=False)
    assert res.step == 6
    assert [s for s, _ in list_checkpoints(out / "checkpoints")] == [2, 6]
    assert not [p for p in (out / "checkpoints").iterdir() if "00000004" in p.name]
    assert "could not write checkpoint" in (out / "train.log").read_text()
