"""torchrun with 2 CPU processes (gloo) == one process with twice the batch.

Why this holds: both runs visit the same samples per step (DistributedSampler's shared
permutation, process r taking every 2nd index, so the two half-batches of a step are exactly the
one-process batch), augmentation is seeded per sample (identical in both), the losses are means
over samples of equal-sized batches so DDP's gradient average equals the big batch's gradient,
and the initial weights are broadcast from rank 0. The one per-batch coupling is BatchNorm in
training mode (statistics over each process's half batch); the test uses ``train.batchnorm=eval``
(frozen running statistics, affine parameters still train). With per-process BatchNorm the runs
differ by design; on GPUs ``train.batchnorm=sync`` (SyncBatchNorm) restores the equivalence.
The remaining difference is float summation order (gradients are summed across processes).
"""
from __future__ import annotations

import pytest
import torch

import test_train_support as S
from s2rdepth.checkpoint import load_tensors
from s2rdepth.train import build_method, load_config, train

torch.set_num_threads(1)


@pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                    reason="needs torch.distributed with gloo")
def test_two_gloo_processes_match_one_process_with_double_batch(tmp_path):
    trees = S.make_trees(tmp_path / "trees")
    name = "da_monodepth/vkitti_kitti"
    cfg_path = S.CONFIGS / f"{name}.yaml"
    common = [*S.tiny_overrides(trees, 3), *S.data_overrides(name, trees), "train.batchnorm=eval",
              "data.augment=true", "checkpoint.every_steps=2"]
    ddp_out = tmp_path / "ddp"
    proc = S.run_cli(["train", str(cfg_path), *common, "train.batch_size=2", "--out", str(ddp_out), "--quiet"],
                     torchrun=2, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    single = train(load_config(cfg_path, [*common, "train.batch_size=4", f"out={tmp_path / 'single'}"]),
                   console=False)
    a, _ = load_tensors(ddp_out / "model.safetensors")
    b, _ = load_tensors(single.model)
    assert a.keys() == b.keys()
    diff = max(float((a[k].double() - b[k].double()).abs().max()) for k in a if a[k].numel())
    torch.manual_seed(0)
    init = build_method(load_config(cfg_path, common)).model.state_dict()
    moved = max(float((b[k].double() - init[k].double()).abs().max()) for k in b if b[k].is_floating_point())
    print(f"max |ddp - single| = {diff:.3g}, max |trained - initial| = {moved:.3g}")
    assert moved > 1e-4  # training did move the weights (3 Adam steps of lr 1e-4)
    assert diff <= 2e-5 and diff < 0.1 * moved, f"2 processes x batch 2 differ from 1 process x batch 4 by {diff}"
    # rank 0 alone logged and checkpointed
    log = (ddp_out / "train.log").read_text()
    assert log.count("done: step 3") == 1 and "x 2 processes (gloo)" in log
    assert sorted(p.name for p in (ddp_out / "checkpoints").iterdir()) == \
        ["step_00000002.safetensors", "step_00000003.safetensors"]
