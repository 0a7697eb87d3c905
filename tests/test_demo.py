"""``s2rdepth demo``: plan, scheduler, report and one end-to-end run at a micro profile."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from s2rdepth.cli import main
from s2rdepth.demo import (CLAIMS, PROFILES, RUNS, DemoProfile, TrainingFailed, TrainTask, aggregate, check_claims,
                           format_table, run_demo, train_all)
from s2rdepth.demo.plan import data_seeds, run_overrides
from s2rdepth.eval import paper_rows
from s2rdepth.train import load_config
from s2rdepth.train.config import CONFIG_DIR, ConfigError, resolve_config_path

#: Smallest useful demo: every phase runs, in seconds.
MICRO = DemoProfile("micro", render_size=(64, 224), network_size=(64, 224), virtual_frames=10, painting_frames=6,
                    target_frames=6, test_frames=4, steps={r.id: 2 for r in RUNS}, batch_size=2, figure_images=2)


# ------------------------------------------------------------------------------------------ plan
def test_profiles_cover_every_run_and_quick_is_smaller():
    for prof in PROFILES.values():
        assert set(prof.steps) == {r.id for r in RUNS}
        assert all(n % 32 == 0 for n in prof.network_size)  # S2R needs /16, DA-Monodepth /32
    full, quick, long = PROFILES["full"], PROFILES["quick"], PROFILES["long"]
    assert sum(quick.steps.values()) < sum(full.steps.values()) / 2
    assert quick.virtual_frames < full.virtual_frames and quick.test_frames < full.test_frames
    assert all(long.steps[k] > full.steps[k] for k in full.steps)
    assert (long.virtual_frames, long.test_frames, long.render_size) == (full.virtual_frames, full.test_frames,
                                                                         full.render_size)  # same data


def test_domains_use_disjoint_scene_streams():
    seeds = [data_seeds(s) for s in range(3)]
    flat = [v for d in seeds for v in d.values()]
    assert len(set(flat)) == len(flat)


def test_every_run_is_a_valid_config(tmp_path):
    folders = {k: tmp_path / k for k in ("virtual", "painting", "target", "test")}
    runs_dir = tmp_path / "runs"
    by_id = {r.id: r for r in RUNS}
    for run in RUNS:
        cfg = load_config(run.config, run_overrides(run, PROFILES["full"], folders, runs_dir, seed=3, threads=1))
        assert cfg.model.preset == "tiny" and cfg.seed == 3 and cfg.train.max_steps == PROFILES["full"].steps[run.id]
        assert tuple(cfg.data.size) == PROFILES["full"].network_size
        assert Path(cfg.data.source.root) == folders["virtual"]
        if run.after:
            prev, key = run.after
            section, name = key.split(".")
            assert Path(getattr(cfg.method, name)) == runs_dir / prev / "model.safetensors"
            assert by_id[prev] in RUNS
        if "target" in run.needs:
            assert Path(cfg.data.target.root) == folders["target"]
    groups = {r.group for r in RUNS}
    assert groups == {None, "s2r", "da"}
    ids = {r["id"] for r in paper_rows("kitti")}
    assert all(r.paper_row in ids for r in RUNS if r.group)


def test_shipped_configs_resolve_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ folder here: the packaged copies are found
    for name in ("s2r/vkitti_stage2.yaml", "configs/s2r/vkitti_stage2.yaml", "s2r/vkitti_stage2"):
        assert resolve_config_path(name) == CONFIG_DIR / "s2r" / "vkitti_stage2.yaml"
    local = tmp_path / "mine.yaml"
    local.write_text("base: x.yaml\n")
    assert resolve_config_path(local) == local
    with pytest.raises(ConfigError, match="not found: s2r/nope.yaml"):
        resolve_config_path("s2r/nope.yaml")


# ------------------------------------------------------------------------------------------ report
def _rows(values: dict[str, list[float]]) -> dict:
    return {rid: aggregate([{"abs_rel": v, "rmse": 5.0} for v in vs]) for rid, vs in values.items()}


def test_aggregate_mean_and_sample_std():
    agg = aggregate([{"abs_rel": 0.2}, {"abs_rel": 0.3}, {"abs_rel": 0.4}])["abs_rel"]
    assert agg["mean"] == pytest.approx(0.3) and agg["std"] == pytest.approx(0.1) and agg["n"] == 3
    assert aggregate([{"abs_rel": 0.2}])["abs_rel"]["std"] == 0.0


def test_claims_follow_the_mean_and_count_seeds():
    rows = _rows({"s2r_baseline": [0.30, 0.30, 0.30], "s2r_ste": [0.25, 0.31, 0.26], "s2r_full": [0.20, 0.20, 0.27],
                  "da_baseline": [0.3, 0.3, 0.3], "da_full": [0.35, 0.34, 0.36]})
    s2r, da = check_claims(rows)
    assert [c["measure"] for c in check_claims(rows, gap=True)] == ["gap", "gap"]
    assert s2r["holds"] and s2r["seeds_holding"] == 1 and s2r["seeds"] == 3
    assert not da["holds"] and da["seeds_holding"] == 0
    assert [c[0] for c in CLAIMS] == [s2r["claim"], da["claim"]]
    assert check_claims(_rows({"s2r_baseline": [0.3]})) == []  # incomplete chains are not judged


def test_gap_table_signs_and_rows():
    from s2rdepth.demo import format_gap_table

    real, virt = _rows({"s2r_baseline": [0.30]}), _rows({"s2r_baseline": [0.20]})
    gap = _rows({"s2r_baseline": [0.10]})
    text = format_gap_table(real, virt, gap, seeds=[0])
    assert "| S2R: DP only | 0.300 | 0.200 | +0.100 |" in text


def test_table_has_paper_rows_beside_demo_rows():
    paper = {r["id"]: r["metrics"] for r in paper_rows("kitti")}
    rows = _rows({"s2r_baseline": [0.31, 0.29], "s2r_full": [0.2, 0.22], "da_full": [0.25, 0.27]})
    text = format_table(rows, paper, seeds=[0, 1])
    lines = text.splitlines()
    base = [i for i, ln in enumerate(lines) if ln.startswith("| Baseline (DP only) |")]
    assert len(base) == 2 and "paper" in lines[base[0]] and "0.236" in lines[base[0]]
    assert "demo, 2 seeds" in lines[base[1]] and "0.300 ± 0.014" in lines[base[1]]
    assert "+STE (stage 2)" not in text  # rows without results are left out
    assert "DA-Monodepth" in text and "0.156" in text
    assert "demo, seed 4" in format_table(_rows({"s2r_baseline": [0.3]}), paper, seeds=[4])


# ------------------------------------------------------------------------------------------ scheduler
def test_scheduler_names_the_failing_run(tmp_path):
    bad = TrainTask("seed0/broken", "s2r/vkitti_baseline.yaml", ("data.source.root=" + str(tmp_path / "none"),),
                    tmp_path / "run", steps=1)
    with pytest.raises(TrainingFailed, match="'seed0/broken'.*vkitti_baseline.yaml"):
        train_all([bad], jobs=1)
    with pytest.raises(ValueError, match="unknown task"):
        train_all([TrainTask("a", "x.yaml", (), tmp_path, 1, after="b")])


# ------------------------------------------------------------------------------------------ end to end
@pytest.fixture(scope="module")
def micro_demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = run_demo(out, profile=MICRO, seeds=[0, 1], jobs=2, threads=1, show=False)
    return out, result


def test_demo_writes_every_row_and_artifact(micro_demo):
    out, result = micro_demo
    doc = json.loads((out / "results.json").read_text())
    assert doc == json.loads(json.dumps(result))
    evaluated = [r.id for r in RUNS if r.group]
    assert sorted(doc["rows"]) == sorted(evaluated)
    for rid, row in doc["rows"].items():
        assert set(row["runs"]) == {"0", "1"}
        m = row["metrics"]["abs_rel"]
        assert m["n"] == 2 and math.isfinite(m["mean"]) and m["std"] >= 0
        for run in row["runs"].values():
            assert Path(run["model"]).is_file() and Path(run["config"]).is_file()
            ev = json.loads(Path(run["eval"]).read_text())
            assert ev["protocol"]["crop"] == "garg" and ev["protocol"]["median_scaling"] is True
            assert ev["frames"] == MICRO.test_frames
    assert {(c["group"], c["measure"]) for c in doc["claims"]} == {(g, m) for g in ("s2r", "da") for m in ("abs_rel", "gap")}
    for rid, row in doc["rows"].items():  # gap = real - virtual rendering, per seed
        reals = [json.loads(Path(r["eval"]).read_text()) for r in row["runs"].values()]
        virts = [json.loads(Path(r["eval_virtual"]).read_text()) for r in row["runs"].values()]
        gaps = [a["results"]["80"]["means"]["abs_rel"] - b["results"]["80"]["means"]["abs_rel"] for a, b in zip(reals, virts)]
        assert row["gap_abs_rel"]["values"] == pytest.approx(gaps)
    assert doc["gap_table_markdown"] in (out / "results.md").read_text()
    md = (out / "results.md").read_text()
    assert doc["table_markdown"] in md and "paper (KITTI Eigen)" in md
    for fig in doc["figures"]:
        assert Path(fig).is_file() and Path(fig).stat().st_size > 1000
    assert (out / "figures" / "comparison.png").is_file()
    dep = doc["deploy"]
    assert Path(dep["torchscript"]).is_file()
    assert dep["prediction"]["max_rel_diff_vs_checkpoint"] < 1e-3
    from PIL import Image

    depth = np.asarray(Image.open(dep["prediction"]["depth_png"]))
    assert depth.dtype == np.uint16 and depth.shape == tuple(MICRO.render_size) and depth.max() > 0


def test_demo_run_config_repeats_the_row(micro_demo, tmp_path):
    out, result = micro_demo
    cfg_path = Path(result["rows"]["s2r_full"]["runs"]["0"]["config"])
    cfg = load_config(cfg_path)
    assert cfg.model.options["variant"] == "ste_dsa_mul" and cfg.seed == 0
    assert Path(cfg.method.init_checkpoint).is_file()  # stage 2 of the same seed
    assert main(["train", str(cfg_path), "--out", str(tmp_path / "again"), "--max-steps", "1", "--quiet"]) == 0
    assert (tmp_path / "again" / "model.safetensors").is_file()


def test_demo_virtual_rendering_shares_the_test_scenes(micro_demo):
    from s2rdepth.eval import KittiEvalSet

    out, _ = micro_demo
    real, virt = (KittiEvalSet(out / "data" / d, out / "data" / d / "splits" / "demo_test_files.txt")
                  for d in ("real_test", "virtual_test"))
    assert real.names == virt.names and len(real) == MICRO.test_frames
    for i in range(len(real)):
        a, b = real.load(i, image=True), virt.load(i, image=True)
        np.testing.assert_array_equal(a["gt"], b["gt"])  # same scans, same geometry
        assert a["image"].shape == b["image"].shape and not np.array_equal(a["image"], b["image"])


def test_demo_reuses_matching_data(micro_demo, capsys):
    from s2rdepth.demo.pipeline import _generate_data

    out, _ = micro_demo
    before = (out / "data" / "manifest.json").stat().st_mtime_ns
    _generate_data(out, MICRO, 0, workers=1, show=True)
    assert "reusing" in capsys.readouterr().err
    assert (out / "data" / "manifest.json").stat().st_mtime_ns == before


def test_demo_never_writes_into_a_foreign_folder(tmp_path, capsys):
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious")
    assert main(["demo", "--out", str(mine), "--quick"]) == 2
    assert "not written by s2rdepth demo" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["chapter1.tex"]


def test_demo_cli_arguments(capsys, tmp_path):
    with pytest.raises(SystemExit):
        main(["demo", "--seeds", "0,0"])
    assert "distinct" in capsys.readouterr().err
    assert main(["demo", "--quick", "--profile", "long", "--out", str(tmp_path / "d")]) == 2
    assert "--quick contradicts --profile long" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown demo profile 'huge'"):
        run_demo(tmp_path / "d", profile="huge")
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert "--quick" in capsys.readouterr().out
