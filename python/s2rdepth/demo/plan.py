"""What the demo generates and trains: dataset sizes, the runs of the papers' ablations, and
their schedules (``full`` and ``quick`` profiles).

Every run is a shipped configuration (:mod:`s2rdepth.configs`) plus ``key=value`` overrides that
point it at the generated data and shrink it to the ``tiny`` preset; the resolved configuration
lands in the run folder (``config.yaml``), so ``s2rdepth train RUN/config.yaml --out NEW``
repeats any row.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

__all__ = ["DemoProfile", "DemoRun", "PROFILES", "RUNS", "data_seeds", "run_overrides"]


@dataclass(frozen=True)
class DemoProfile:
    """Sizes and schedules of one demo profile.

    Attributes:
        render_size: ``(H, W)`` pixels the scenes are rendered at (``s2rdepth synth --size``).
        network_size: ``(H, W)`` the networks train and predict at (``data.size``).
        virtual_frames / painting_frames / target_frames / test_frames: frames of the labelled
            synthetic source (vKITTI layout), the painting style set, the unlabelled real-styled
            training images (DA-Monodepth's target) and the real-styled test split (KITTI raw
            layout with Velodyne scans).
        steps: optimiser steps per run id (:data:`RUNS`).
        batch_size: images per step (every run).
        lr: learning rate of the depth runs (stage 1 keeps MUNIT's 1e-4).
        figure_images: test images in the comparison figure.
    """

    name: str
    render_size: tuple[int, int]
    network_size: tuple[int, int]
    virtual_frames: int
    painting_frames: int
    target_frames: int
    test_frames: int
    steps: dict[str, int]
    batch_size: int = 4
    lr: float = 1.0e-4
    figure_images: int = 4


@dataclass(frozen=True)
class DemoRun:
    """One training run of the demo.

    Attributes:
        id: run folder name and key in ``results.json``.
        config: shipped configuration it starts from.
        label: the row name in the papers' tables.
        group: ``"s2r"`` (S2R-DepthNet Table 5) or ``"da"`` (DA-Monodepth Table 3); ``None`` for
            runs that are not evaluated (stage 1's translator).
        paper_row: id of the published row shown beside it (:func:`s2rdepth.eval.paper_rows`).
        after: ``(run id, config key)``: the previous stage whose ``model.safetensors`` this run
            loads through that key.
        needs: generated domains it reads besides ``virtual`` (``painting``, ``target``).
        short: a few characters for figure titles.
    """

    id: str
    config: str
    label: str
    group: Optional[str]
    short: str = ""
    paper_row: Optional[str] = None
    after: Optional[tuple[str, str]] = None
    needs: tuple[str, ...] = field(default_factory=tuple)


#: The runs, in table order within each group; stage 1 → +STE → full form a chain. The edge
#: and +Seg ablations keep the second core busy while the S2R chain trains.
RUNS: tuple[DemoRun, ...] = (
    DemoRun("s2r_stage1", "s2r/vkitti_stage1.yaml", "stage 1: structure translator (MUNIT, vs paintings)",
            None, needs=("painting",)),
    DemoRun("s2r_baseline", "s2r/vkitti_baseline.yaml", "Baseline (DP only)", "s2r", "S2R: DP only",
            "s2r_dp_only"),
    DemoRun("s2r_ste", "s2r/vkitti_stage2.yaml", "+STE (stage 2)", "s2r", "S2R: +STE", "s2r_ste",
            after=("s2r_stage1", "method.ste_checkpoint")),
    DemoRun("s2r_full", "s2r/vkitti_stage3.yaml", "+STE +DSA (x) (stage 3, full)", "s2r", "S2R: +STE+DSA",
            "s2r_full_80", after=("s2r_ste", "method.init_checkpoint")),
    DemoRun("s2r_edge", "s2r/vkitti_edge.yaml", "Edge + Baseline", "s2r", "S2R: edges+DP", "s2r_edge"),
    DemoRun("da_baseline", "da_monodepth/vkitti_kitti_baseline.yaml", "Source Img.+Dep. (baseline)", "da",
            "DA: baseline", "da_vkitti_baseline_80"),
    DemoRun("da_seg", "da_monodepth/vkitti_kitti_seg.yaml", "Source Img.+Dep.+Seg.", "da", "DA: +seg",
            "da_vkitti_seg_80"),
    DemoRun("da_full", "da_monodepth/vkitti_kitti.yaml", "Source Img.+Dep.+Seg.+Target Img. (full)", "da",
            "DA: full", "da_vkitti_80", needs=("target",)),
)

_STEPS_FULL = {"s2r_stage1": 200, **{r: 450 for r in ("s2r_baseline", "s2r_ste", "s2r_full", "s2r_edge",
                                                         "da_baseline", "da_seg", "da_full")}}
_STEPS_QUICK = {"s2r_stage1": 60, **{r: 120 for r in ("s2r_baseline", "s2r_ste", "s2r_full", "s2r_edge",
                                                       "da_baseline", "da_seg", "da_full")}}

_STEPS_LONG = {"s2r_stage1": 400, **{r: 2000 for r in ("s2r_baseline", "s2r_ste", "s2r_full", "s2r_edge",
                                                        "da_baseline", "da_seg", "da_full")}}

#: ``full`` (``s2rdepth demo``, about 8 minutes on 2 cores), ``quick`` (``--quick``, 2.5 minutes)
#: and ``long`` (``--profile long``: the same data, 4.4x the steps, about 30 minutes per seed).
PROFILES: dict[str, DemoProfile] = {
    "full": DemoProfile("full", render_size=(96, 320), network_size=(64, 224), virtual_frames=600,
                        painting_frames=300, target_frames=300, test_frames=100, steps=_STEPS_FULL),
    "quick": DemoProfile("quick", render_size=(96, 320), network_size=(64, 224), virtual_frames=200,
                         painting_frames=100, target_frames=100, test_frames=40, steps=_STEPS_QUICK,
                         figure_images=3),
    "long": DemoProfile("long", render_size=(96, 320), network_size=(64, 224), virtual_frames=600,
                        painting_frames=300, target_frames=300, test_frames=100, steps=_STEPS_LONG),
}


def data_seeds(data_seed: int) -> dict[str, int]:
    """Generator stream per domain: disjoint scenes, so no test scene is ever trained on."""
    base = 1000 * data_seed
    return {"virtual": base + 1, "painting": base + 2, "target": base + 3, "test": base + 4}


def run_overrides(run: DemoRun, profile: DemoProfile, data: dict[str, Path], runs_dir: Path, seed: int,
                  threads: int) -> list[str]:
    """``key=value`` overrides turning ``run.config`` into the demo's run (tiny preset, CPU,
    generated data, ``seed``); the previous stage is read from ``runs_dir/<id>/``."""
    h, w = profile.network_size
    ov = [
        "model.preset=tiny", f"data.size=[{h},{w}]", f"train.batch_size={profile.batch_size}",
        f"train.threads={threads}", "train.device=cpu", "train.epochs=null", "data.num_workers=0",
        "log.tensorboard=false", "log.every_steps=50", "log.image_every_steps=0",
        f"checkpoint.every_steps={profile.steps[run.id]}", "checkpoint.keep_last=1", f"seed={seed}",
        f"train.max_steps={profile.steps[run.id]}", f"data.source.root={data['virtual']}",
    ]
    if run.group is not None:
        ov.append(f"optim.lr={profile.lr}")
    if "painting" in run.needs:
        ov.append(f"data.target.root={data['painting']}")
    if "target" in run.needs:
        ov += [f"data.target.root={data['target']}",
               f"data.target.split={data['target'] / 'splits' / 'train_files.txt'}"]
    if run.after is not None:
        prev, key = run.after
        ov.append(f"{key}={runs_dir / prev / 'model.safetensors'}")
    return ov
