"""Training configuration: shipped configs, round trip, overrides, and bad input through the CLI."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

import test_train_support as S
from s2rdepth.cli import main as cli_main
from s2rdepth.train import ConfigError, TrainConfig, dump_config, load_config
from s2rdepth.train.config import config_to_dict

SHIPPED = sorted(str(p.relative_to(S.CONFIGS).with_suffix("")) for p in S.CONFIGS.rglob("*.yaml")
                 if not p.name.startswith("_"))
#: paper rows the issue asks for (config name → method)
PAPER_ROWS = {
    "s2r/vkitti_stage1": "s2r_translation", "s2r/vkitti_stage2": "s2r_depth", "s2r/vkitti_stage3": "s2r_depth",
    "s2r/vkitti_baseline": "s2r_depth", "s2r/vkitti_stage3_dsa_add": "s2r_depth",
    "s2r/vkitti_stage3_dsa_concat": "s2r_depth", "s2r/vkitti_edge": "s2r_depth",
    "s2r/kitti_semisupervised": "s2r_depth", "s2r/suncg_stage1": "s2r_translation",
    "s2r/suncg_stage2": "s2r_depth", "s2r/suncg_stage3": "s2r_depth",
    "da_monodepth/vkitti_kitti": "da_monodepth", "da_monodepth/vkitti_kitti_seg": "da_monodepth",
    "da_monodepth/vkitti_kitti_baseline": "da_monodepth", "da_monodepth/cityscapes_kitti": "da_monodepth",
    "da_monodepth/cityscapes_kitti_seg": "da_monodepth", "da_monodepth/cityscapes_kitti_baseline": "da_monodepth",
}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_configs_load_and_round_trip(name, tmp_path):
    cfg = load_config(S.CONFIGS / f"{name}.yaml")
    assert cfg.out and Path(cfg.out).is_absolute()
    text = dump_config(cfg, tmp_path / "config.yaml")
    assert "base:" not in text
    again = load_config(tmp_path / "config.yaml", cwd="/nonexistent-cwd-is-not-used-for-absolute-paths")
    assert again == cfg
    assert config_to_dict(again) == yaml.safe_load(text)


def test_every_paper_row_has_a_config():
    for name, method in PAPER_ROWS.items():
        assert name in SHIPPED, name
        assert load_config(S.CONFIGS / f"{name}.yaml").method.name == method


def test_reference_hyper_parameters_are_the_defaults():
    s2 = load_config(S.CONFIGS / "s2r/vkitti_stage2.yaml")
    assert (s2.optim.lr, s2.optim.betas, s2.optim.weight_decay) == (1e-4, (0.9, 0.999), 0.0)
    assert (s2.optim.step_size, s2.optim.gamma, s2.optim.step_unit) == (10, 0.5, "epoch")
    assert (s2.train.epochs, s2.train.batch_size, s2.data.size) == (120, 32, (192, 640))
    assert (s2.method.structure_weight, s2.method.structure_beta, s2.method.structure_mode) == (1.0, 1e-3, "reference")
    assert s2.method.train_modules == ("ste_decoder", "dp") and s2.model.options["variant"] == "ste"
    assert s2.method.ste_checkpoint.endswith("runs/s2r_vkitti_stage1/model.safetensors")
    paper = load_config(S.CONFIGS / "s2r/vkitti_stage2_paper.yaml")
    assert (paper.optim.weight_decay, paper.train.epochs, paper.method.structure_mode) == (1e-4, 60, "paper")
    s3 = load_config(S.CONFIGS / "s2r/vkitti_stage3.yaml")
    assert s3.method.train_modules == ("dsa", "dp") and s3.method.init_modules == ("ste_encoder", "ste_decoder")
    assert s3.method.init_checkpoint.endswith("runs/s2r_vkitti_stage2/model.safetensors")
    assert s3.model.options["variant"] == "ste_dsa_mul"
    assert load_config(S.CONFIGS / "s2r/vkitti_stage3_dsa_add.yaml").model.options["variant"] == "ste_dsa_add"
    s1 = load_config(S.CONFIGS / "s2r/vkitti_stage1.yaml")
    m = s1.method
    assert (m.gan_weight, m.recon_x_weight, m.recon_s_weight, m.recon_c_weight, m.cycle_weight) == (1, 10, 1, 1, 0)
    assert (s1.optim.betas, s1.optim.weight_decay, s1.optim.step_size, s1.optim.step_unit) == ((0.5, 0.999), 1e-4, 100000, "step")
    semi = load_config(S.CONFIGS / "s2r/kitti_semisupervised.yaml")
    assert semi.data.source.max_items == 1000 and semi.method.mask_invalid
    indoor = load_config(S.CONFIGS / "s2r/suncg_stage3.yaml")
    assert indoor.model.options["max_depth"] == 8.0 and indoor.data.size == (192, 256)
    da = load_config(S.CONFIGS / "da_monodepth/vkitti_kitti.yaml")
    assert (da.method.l1_weight, da.method.smooth_weight, da.method.grl_schedule) == (0.15, 1e-3, "dann")
    assert (da.train.epochs, da.data.size, da.data.epoch_over) == (20, (192, 640), "target")
    base = load_config(S.CONFIGS / "da_monodepth/cityscapes_kitti_baseline.yaml")
    assert base.model.options == {"num_classes": 19, "use_semantic": False, "use_domain_classifier": False}
    assert base.data.target is None


def test_overrides_are_typed():
    cfg = load_config(S.CONFIGS / "s2r/vkitti_stage2.yaml",
                      ["train.batch_size=8", "optim.lr=1e-3", "data.size=[64,128]", "train.amp=bf16",
                       "model.options.variant=ste", "method.scale_weights=[1,1,1,2]", "train.max_steps=5"])
    assert cfg.train.batch_size == 8 and cfg.optim.lr == 1e-3 and cfg.data.size == (64, 128)
    assert cfg.train.amp == "bf16" and cfg.method.scale_weights == (1.0, 1.0, 1.0, 2.0)
    assert isinstance(cfg, TrainConfig) and cfg.train.max_steps == 5


@pytest.mark.parametrize("override, needle", [
    ("train.batchsize=8", "'train.batchsize'.*did you mean 'train.batch_size'"),
    ("train.batch_size=eight", "'train.batch_size': expected an integer"),
    ("train.batch_size=true", "'train.batch_size': expected an integer"),
    ("optim.lr=fast", "'optim.lr': expected a number"),
    ("train.amp=fp32", "'train.amp': expected one of 'none', 'bf16', 'fp16'"),
    ("data.size=[64]", "'data.size': expected a list of 2"),
    ("method.name=nope", "'method.name': unknown method 'nope'"),
    ("method.gan_weight=2", "unknown config key 'method.gan_weight'"),
    ("method.train_modules=[dp,wings]", "'method.train_modules': unknown module 'wings'"),
    ("model.arch=da_monodepth", "'model.arch'"),
    ("train.batch_size=0", "'train.batch_size': must be >= 1"),
    ("data.source.kind=lidar", "'data.source.kind'"),
    ("novel=1", "unknown config key 'novel'"),
    ("batch_size", "expected key=value"),
])
def test_bad_overrides_name_the_key(override, needle):
    with pytest.raises(ConfigError, match=needle):
        load_config(S.CONFIGS / "s2r/vkitti_stage2.yaml", [override])


def test_base_chain_and_loops(tmp_path):
    (tmp_path / "a.yaml").write_text("base: b.yaml\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\n")
    with pytest.raises(ConfigError, match="loops"):
        load_config(tmp_path / "a.yaml")
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("method: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")
    (tmp_path / "child.yaml").write_text(f"base: {S.CONFIGS / 's2r/vkitti_stage3.yaml'}\n"
                                         "model: {options: {max_depth: 8.0}}\ntrain: {batch_size: 4}\n")
    cfg = load_config(tmp_path / "child.yaml")
    assert cfg.model.options == {"variant": "ste_dsa_mul", "max_depth": 8.0}  # options merge
    assert cfg.train.batch_size == 4 and cfg.train.epochs == 120


# ---------------------------------------------------------------------------- CLI bad input
@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    return S.make_trees(tmp_path_factory.mktemp("trees"))


def _cli(args, capsys):
    code = cli_main(["train", *args])
    return code, capsys.readouterr().err


def _tiny(name, trees, out, *extra):
    """CLI arguments: overrides first (argparse takes positionals before the options)."""
    return [str(S.CONFIGS / f"{name}.yaml"), *S.tiny_overrides(trees, 1), *S.data_overrides(name, trees),
            *extra, "--out", str(out), "--quiet"]


def test_cli_unknown_key_and_wrong_type_fail_before_training(trees, tmp_path, capsys):
    out = tmp_path / "run"
    code, err = _cli(_tiny("s2r/vkitti_baseline", trees, out, "train.epoch=3"), capsys)
    assert code == 2 and "unknown config key 'train.epoch'" in err and "train.epochs" in err
    code, err = _cli(_tiny("s2r/vkitti_baseline", trees, out, "train.grad_clip=[1]"), capsys)
    assert code == 2 and "'train.grad_clip': expected a number" in err
    assert not out.exists()


def test_cli_missing_or_empty_data_root(trees, tmp_path, capsys):
    out = tmp_path / "run"
    code, err = _cli(_tiny("s2r/vkitti_baseline", trees, out, f"data.source.root={tmp_path / 'nowhere'}"), capsys)
    assert code == 2 and "data.source.root" in err and "nowhere" in err and "does not exist" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, err = _cli(_tiny("s2r/vkitti_baseline", trees, out, f"data.source.root={empty}"), capsys)
    assert code == 2 and "data.source.root" in err and "is empty" in err
    bad = tmp_path / "bad_vkitti"
    (bad / "rgb").mkdir(parents=True)
    code, err = _cli(_tiny("s2r/vkitti_baseline", trees, out, f"data.source.root={bad}"), capsys)
    assert code == 2 and "data.source" in err and str(bad) in err
    code, err = _cli(_tiny("s2r/vkitti_baseline", trees, out, "data.source.options={colour: 3}"), capsys)
    assert code == 2 and "data.source.options" in err
    assert not out.exists()


def test_cli_missing_previous_stage_checkpoint(trees, tmp_path, capsys):
    out = tmp_path / "run"
    missing = tmp_path / "stage1" / "model.safetensors"
    code, err = _cli(_tiny("s2r/vkitti_stage2", trees, out, f"method.ste_checkpoint={missing}"), capsys)
    assert code == 2 and "method.ste_checkpoint" in err and str(missing) in err
    code, err = _cli(_tiny("s2r/vkitti_stage3", trees, out, "method.init_checkpoint=null"), capsys)
    assert code == 2 and "'method.init_checkpoint' is required" in err
    code, err = _cli(_tiny("s2r/vkitti_stage2", trees, out, "method.ste_checkpoint=null"), capsys)
    assert code == 2 and "'method.ste_checkpoint' is required" in err
    not_ckpt = tmp_path / "junk.safetensors"
    not_ckpt.write_bytes(b"not a checkpoint")
    code, err = _cli(_tiny("s2r/vkitti_stage3", trees, out, f"method.init_checkpoint={not_ckpt}"), capsys)
    assert code == 2 and "method.init_checkpoint" in err and "junk.safetensors" in err
    assert not out.exists()


def test_cli_fp16_on_cpu_and_target_required(trees, tmp_path, capsys):
    out = tmp_path / "run"
    code, err = _cli(_tiny("s2r/vkitti_baseline", trees, out, "train.amp=fp16"), capsys)
    assert code == 2 and "train.amp" in err and "CUDA" in err
    code, err = _cli(_tiny("da_monodepth/vkitti_kitti", trees, out, "data.target=null", "data.epoch_over=source"), capsys)
    assert code == 2 and "'data.target' is required" in err


def test_cli_resolved_config_repeats_the_run(trees, tmp_path, capsys):
    """`s2rdepth train OUT/config.yaml --out NEW` reproduces the weights of the first run."""
    from s2rdepth.checkpoint import load_tensors

    first = tmp_path / "first"
    code, err = _cli(_tiny("s2r/vkitti_stage3_dsa_concat", trees, first, "method.init_checkpoint=null",
                           "method.init_modules=[]", "method.allow_random_init=true", "train.max_steps=50",
                           "train.deterministic=true",
                           "--max-steps", "2"), capsys)
    assert code == 0, err
    assert not torch.are_deterministic_algorithms_enabled()  # process-wide switches restored
    resolved = load_config(first / "config.yaml")
    assert resolved.train.deterministic
    assert resolved.train.max_steps == 2 and resolved.out == str(first)
    assert resolved.data.source.root == str(trees["vkitti"])
    code, err = _cli([str(first / "config.yaml"), "--out", str(tmp_path / "again"), "--quiet"], capsys)
    assert code == 0, err
    a, _ = load_tensors(first / "model.safetensors")
    b, _ = load_tensors(tmp_path / "again" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # running the resolved config into its own folder again is refused (it would overwrite)
    code, err = _cli([str(first / "config.yaml"), "--quiet"], capsys)
    assert code == 2 and "--resume" in err
