"""``s2rdepth demo``: synthetic-to-real depth end to end on built-in data, on a CPU, in minutes.

Phases (one progress bar each):

1. **data** — ``s2rdepth synth``: a labelled ``virtual`` source (vKITTI 1.3.1 layout), a
   ``painting`` style set, unlabelled ``real``-styled training images (DA-Monodepth's target) and
   a ``real``-styled test split (KITTI raw layout, simulated Velodyne scans); every domain uses
   its own scene stream, so no test scene is trained on.
2. **train** — the runs of :data:`s2rdepth.demo.plan.RUNS` at the ``tiny`` preset, per seed
   (S2R stage 1 → 2 (+STE) → 3 (+STE+DSA), the DP-only baseline, DA-Monodepth and its
   depth-only baseline), several at once (:mod:`.scheduler`).
3. **evaluate** — every depth model on the test split with the KITTI protocol (Velodyne ground
   truth, Garg crop, median scaling, cap 80 m): ``eval/seed<S>/<run>.json``.
4. **report** — the papers' table with the published rows, the claims, ``results.json`` and
   ``results.md``.
5. **figures** — a comparison of every model on test images and the full S2R model's panel
   (structure, attention, error).
6. **export** — TorchScript and ONNX artifacts of the best model, then one test image predicted
   through the exported artifact (and checked against the checkpoint).
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .plan import PROFILES, RUNS, DemoProfile, DemoRun, data_seeds, run_overrides
from .report import aggregate, check_claims, format_gap_table, format_table
from .scheduler import TrainTask, train_all

__all__ = ["DemoResult", "run_demo"]

#: Relative cost of one step of each run (1-thread CPU, measured), for scheduling only.
_STEP_COST = {"s2r_stage1": 5.5, "s2r_baseline": 1.0, "s2r_ste": 2.0, "s2r_full": 3.0, "s2r_edge": 1.0,
              "da_baseline": 0.8, "da_seg": 1.2, "da_full": 1.9}
DATA_FORMAT_VERSION = 2


class DemoResult(dict):
    """The ``results.json`` document (a dict) of a finished demo."""


class _Phase:
    """A progress bar (tqdm on a terminal) or, elsewhere, one line when the phase ends."""

    def __init__(self, name: str, total: int, unit: str, enabled: bool) -> None:
        self.name, self.enabled, self.t0 = name, enabled, time.perf_counter()
        self.bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=total, desc=f"{name:9s}", unit=unit, dynamic_ncols=True, file=sys.stderr,
                                disable=None, leave=True)
                if self.bar.disable:
                    self.bar = None
            except ImportError:
                self.bar = None

    def set(self, done: int, note: str = "") -> None:
        if self.bar is not None:
            self.bar.n = done
            if note:
                self.bar.set_postfix_str(note, refresh=False)
            self.bar.refresh()

    def close(self, summary: str) -> float:
        seconds = time.perf_counter() - self.t0
        if self.bar is not None:
            self.bar.close()
        if self.enabled:
            print(f"[{self.name}] {summary} ({seconds:.0f} s)", file=sys.stderr, flush=True)
        return seconds


# ============================================================================ phases
def _generate_data(out: Path, profile: DemoProfile, data_seed: int, workers: Optional[int],
                   show: bool) -> dict[str, Path]:
    """Render the domains (reused when ``data/manifest.json`` matches). ``test_virtual`` is the
    test split's scenes rendered in the ``virtual`` look, in the KITTI layout beside the real
    test frames (same Velodyne scans): the in-domain reference for the generalisation gap."""
    from ..data.synth import frame_paths, generate

    data = out / "data"
    seeds = data_seeds(data_seed)
    plan = [("virtual", "virtual", profile.virtual_frames), ("painting", "painting", profile.painting_frames),
            ("target", "real", profile.target_frames), ("test", "real", profile.test_frames),
            ("test_virtual", "virtual", profile.test_frames)]
    folders = {"virtual": data / "virtual", "painting": data / "painting", "target": data / "real_target",
               "test": data / "real_test", "test_virtual": data / "virtual_test"}
    manifest = {"format_version": DATA_FORMAT_VERSION, "render_size": list(profile.render_size),
                "seeds": seeds, "frames": {k: n for k, _, n in plan}}
    mpath = data / "manifest.json"
    if mpath.is_file() and json.loads(mpath.read_text(encoding="utf-8")) == manifest:
        if show:
            print(f"[data] reusing {data} (same frames and seeds)", file=sys.stderr)
        return folders
    if mpath.exists():
        mpath.unlink()
    total = sum(n for _, _, n in plan)
    phase = _Phase("data", total, "frame", show)
    done = 0
    for key, domain, count in plan:
        if folders[key].exists():
            shutil.rmtree(folders[key])
        target = folders[key] if key != "test_virtual" else data / "_virtual_test_render"

        def progress(i: int, n: int, base: int = done, key: str = key) -> None:
            phase.set(base + i, key)

        generate(target, domain, count, size=profile.render_size, seed=seeds["test" if key == "test_virtual" else key],
                 workers=workers, progress=progress)
        done += count
    # The test split is every test frame (the generator's own train/val/test split is not used).
    names = []
    for sub in ("train", "val", "test"):
        f = folders["test"] / "splits" / f"{sub}_files.txt"
        if f.is_file():
            names += [ln for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()]
    _test_split(folders["test"]).write_text("\n".join(sorted(names)) + "\n",
                                                                     encoding="utf-8")
    # virtual_test: the real test tree with each image replaced by the virtual rendering of the
    # same scene (hard links, or copies across file systems)
    render = data / "_virtual_test_render"
    shutil.copytree(folders["test"], folders["test_virtual"], copy_function=_link_or_copy)
    for i in range(profile.test_frames):
        dst = frame_paths(folders["test_virtual"], "real", i)["image"]
        dst.unlink()
        shutil.copyfile(frame_paths(render, "virtual", i)["image"], dst)
    shutil.rmtree(render)
    mpath.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    phase.close(f"{total} frames rendered at {profile.render_size[0]}x{profile.render_size[1]} into {data}")
    return folders


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _train(out: Path, profile: DemoProfile, data: dict[str, Path], seeds: Sequence[int], jobs: int,
           threads: int, show: bool) -> dict[str, dict[str, Any]]:
    tasks = []
    for seed in seeds:
        runs_dir = out / "runs" / f"seed{seed}"
        for run in RUNS:
            tasks.append(TrainTask(
                key=f"seed{seed}/{run.id}", config=run.config, out=runs_dir / run.id,
                overrides=tuple(run_overrides(run, profile, data, runs_dir, seed, threads)),
                steps=profile.steps[run.id], cost=profile.steps[run.id] * _STEP_COST.get(run.id, 1.0),
                after=f"seed{seed}/{run.after[0]}" if run.after else None))
    total = sum(t.steps for t in tasks)
    phase = _Phase("train", total, "step", show)

    def progress(steps: dict[str, int], running: set[str]) -> None:
        phase.set(sum(steps.values()), ", ".join(sorted(running)))

    done = train_all(tasks, jobs=jobs, progress=progress)
    phase.close(f"{len(tasks)} runs, {total} steps, {jobs} at a time x {threads} thread(s); run folders in "
                f"{out / 'runs'}")
    return done


def _evaluate(out: Path, data: dict[str, Path], seeds: Sequence[int], show: bool, batch_size: int = 16
              ) -> dict[str, dict[str, dict[int, dict[str, Any]]]]:
    """``look → run id → seed → result document`` (of ``s2rdepth evaluate --json``) for the
    ``real`` test split and the ``virtual`` rendering of the same scenes."""
    from ..eval import KittiEvalSet, ModelRunner, default_protocol, evaluate, load_checkpoint

    runs = [r for r in RUNS if r.group is not None]
    sets = {look: KittiEvalSet(data[key], _test_split(data[key]))
            for look, key in (("real", "test"), ("virtual", "test_virtual"))}
    protocol = default_protocol("kitti")
    n = len(sets["real"])
    phase = _Phase("evaluate", 2 * len(runs) * len(seeds) * n, "img", show)
    docs: dict[str, dict[str, dict[int, dict[str, Any]]]] = {look: {} for look in sets}
    done = 0
    for seed in seeds:
        for run in runs:
            ckpt = out / "runs" / f"seed{seed}" / run.id / "model.safetensors"
            model, meta = load_checkpoint(ckpt, "cpu")
            runner = ModelRunner(model, meta["network_size"], device="cpu")
            for look, evalset in sets.items():
                def progress(i: int, total: int, base: int = done, key: str = run.id) -> None:
                    phase.set(base + i, key)

                res = evaluate(evalset, runner, protocol, batch_size=batch_size, label=f"{run.id} seed {seed}",
                               progress=progress, source_info={"checkpoint": str(ckpt), **meta.get("source", {})})
                doc = res.to_dict(per_image=True)
                path = out / "eval" / f"seed{seed}" / (f"{run.id}.json" if look == "real" else f"{run.id}_virtual.json")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(doc, indent=1, allow_nan=False), encoding="utf-8")
                doc["_path"] = str(path)
                docs[look].setdefault(run.id, {})[seed] = doc
                done += n
    phase.close(f"{len(runs) * len(seeds)} models x {n} test frames, real-styled and virtual renderings (KITTI "
                f"protocol: Velodyne ground truth, Garg crop, median scaling, cap 80 m)")
    return docs


def _figures(out: Path, data: dict[str, Path], seed: int, count: int, show: bool) -> list[str]:
    """``figures/comparison.png`` (every model on ``count`` test images) and the full S2R
    model's panels (structure, attention, error) of the first image."""
    from ..eval import ModelRunner, load_checkpoint
    from ..viz.figures import render_figures
    from .figures import comparison_figure

    images = _test_images(data["test"])
    images = images[::max(1, len(images) // max(1, count))][:count]
    phase = _Phase("figures", 2, "figure", show)
    runs = [r for r in RUNS if r.group is not None]
    models = {}
    for run in runs:
        model, meta = load_checkpoint(out / "runs" / f"seed{seed}" / run.id / "model.safetensors", "cpu")
        models[run.short or run.id] = ModelRunner(model, meta["network_size"], device="cpu")
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    written = [str(comparison_figure(models, images, fig_dir / "comparison.png"))]
    phase.set(1)
    short = next(r.short or r.id for r in runs if r.id == "s2r_full")  # the model with M_s and M_a
    recs = render_figures(models[short], images[:1], fig_dir, gt=["kitti"])
    for rec in recs:
        written += [rec[k] for k in ("panel", "error_map") if k in rec]
    phase.close(f"{len(written)} figures in {fig_dir}")
    return written


def _test_split(root: Path) -> Path:
    """The demo's split file of a test tree: every frame, sorted."""
    return root / "splits" / "demo_test_files.txt"


def _test_images(root: Path) -> list[Path]:
    """Image files of the test split of ``root``, in split order."""
    from ..data.kitti import kitti_image_path, parse_split_line
    from ..eval import read_name_list

    return [kitti_image_path(root, parse_split_line(n)) for n in read_name_list(_test_split(root))]


def _export_and_predict(out: Path, data: dict[str, Path], ckpt: Path, show: bool) -> dict[str, Any]:
    """TorchScript + ONNX of ``ckpt``; one test image through the ONNX artifact (TorchScript
    when onnxruntime is missing), compared with the checkpoint's own prediction."""
    from ..deploy import export, predict
    from ..deploy.colormap import save_color_png, save_depth_png

    phase = _Phase("export", 3, "step", show)
    exp_dir = out / "export"
    exp_dir.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {"checkpoint": str(ckpt)}
    info["torchscript"] = str(export(ckpt, "torchscript", exp_dir / "best_model.pt"))
    phase.set(1)
    try:
        info["onnx"] = str(export(ckpt, "onnx", exp_dir / "best_model.onnx"))
    except ImportError as exc:
        info["onnx"] = None
        info["onnx_skipped"] = str(exc)
    phase.set(2)
    image = _test_images(data["test"])[0]
    artifact = info["torchscript"]
    if info["onnx"] is not None:
        try:
            import onnxruntime  # noqa: F401

            artifact = info["onnx"]
        except ImportError:
            pass
    depth = predict(image, artifact, device="cpu")
    reference = predict(image, ckpt, device="cpu")
    pred_dir = out / "prediction"
    pred_dir.mkdir(parents=True, exist_ok=True)
    stem = image.stem
    save_depth_png(pred_dir / f"{stem}_depth.png", depth)
    save_color_png(pred_dir / f"{stem}_depth_color.png", depth)
    diff = float(np.max(np.abs(depth - reference) / np.maximum(reference, 1e-6)))
    info["prediction"] = {"image": str(image), "artifact": artifact, "depth_png": str(pred_dir / f"{stem}_depth.png"),
                          "color_png": str(pred_dir / f"{stem}_depth_color.png"),
                          "depth_range_m": [round(float(depth.min()), 3), round(float(depth.max()), 3)],
                          "max_rel_diff_vs_checkpoint": diff}
    phase.close(f"{Path(info['torchscript']).name}{' + ' + Path(info['onnx']).name if info['onnx'] else ''}; "
                f"predicted {image.name} through {Path(artifact).name} (max relative difference to the "
                f"checkpoint {diff:.1e})")
    return info


# ============================================================================ the demo
def run_demo(out: str | os.PathLike[str] = "demo_out", *, quick: bool = False, seeds: Sequence[int] = (0,),
             data_seed: int = 0, jobs: Optional[int] = None, threads: Optional[int] = None,
             profile: Optional[DemoProfile | str] = None, show: bool = True) -> DemoResult:
    """Run the demo into ``out`` and return the ``results.json`` document.

    Args:
        out: output folder (created; data is reused when its manifest matches, runs are retrained).
        quick: the ``quick`` profile (fewer frames and steps) instead of ``full``.
        profile: a :data:`~s2rdepth.demo.plan.PROFILES` name or an explicit
            :class:`~s2rdepth.demo.plan.DemoProfile` (overrides ``quick``).
        seeds: training seeds; with several, the table shows mean ± std.
        data_seed: generator seed of the four domains.
        jobs: trainings at once (default: 2 on 2+ cores, else 1).
        threads: torch threads per training (default: cores / jobs, at least 1).
        show: progress bars and messages on stderr.
    """
    from .._version import __version__
    from ..eval import paper_rows

    t0 = time.perf_counter()
    if isinstance(profile, str):
        if profile not in PROFILES:
            raise ValueError(f"unknown demo profile {profile!r}; choose from {', '.join(PROFILES)}")
        profile = PROFILES[profile]
    prof = profile or PROFILES["quick" if quick else "full"]
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ValueError(f"seeds must be distinct non-negative integers, got {seeds}")
    cores = os.cpu_count() or 1
    jobs = jobs if jobs is not None else (2 if cores >= 2 else 1)
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    threads = threads if threads is not None else max(1, cores // jobs)
    out = Path(out).resolve()
    _check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}

    t = time.perf_counter()
    data = _generate_data(out, prof, data_seed, workers=cores, show=show)
    seconds["data"] = time.perf_counter() - t
    t = time.perf_counter()
    trained = _train(out, prof, data, seeds, jobs, threads, show)
    seconds["train"] = time.perf_counter() - t
    t = time.perf_counter()
    docs = _evaluate(out, data, seeds, show)
    seconds["evaluate"] = time.perf_counter() - t

    paper = {r["id"]: r["metrics"] for r in paper_rows("kitti")}
    rows = {rid: aggregate([_cap80(docs["real"][rid][s]) for s in seeds]) for rid in docs["real"]}
    in_domain = {rid: aggregate([_cap80(docs["virtual"][rid][s]) for s in seeds]) for rid in docs["virtual"]}
    gap = {rid: aggregate([{"abs_rel": _cap80(docs["real"][rid][s])["abs_rel"]
                            - _cap80(docs["virtual"][rid][s])["abs_rel"]} for s in seeds]) for rid in rows}
    claims = check_claims(rows) + check_claims(gap, gap=True)
    table = format_table(rows, paper, seeds)
    gap_table = format_gap_table(rows, in_domain, gap, seeds)
    best = min(rows, key=lambda rid: rows[rid]["abs_rel"]["mean"])
    best_ckpt = out / "runs" / f"seed{seeds[0]}" / best / "model.safetensors"

    t = time.perf_counter()
    figures = _figures(out, data, seeds[0], prof.figure_images, show)
    seconds["figures"] = time.perf_counter() - t
    t = time.perf_counter()
    deploy = _export_and_predict(out, data, best_ckpt, show)
    seconds["export"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0

    by_id = {r.id: r for r in RUNS}
    result = DemoResult({
        "format": "s2rdepth.demo", "format_version": 1, "s2rdepth_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpu_cores": cores, "platform": platform.platform(), "python": platform.python_version(),
                    "torch": _torch_version()},
        "profile": {**asdict(prof), "jobs": jobs, "threads_per_job": threads},
        "seeds": seeds, "data_seed": data_seed, "data": {k: str(v) for k, v in data.items()},
        "protocol": "KITTI Eigen protocol on the real-styled test split: Velodyne ground truth, Garg crop, "
                    "median scaling, depth cap 80 m",
        "rows": {rid: {"label": by_id[rid].label, "group": by_id[rid].group, "paper_row": by_id[rid].paper_row,
                       "paper": paper.get(by_id[rid].paper_row or ""), "metrics": rows[rid],
                       "virtual_render_metrics": in_domain[rid], "gap_abs_rel": gap[rid]["abs_rel"],
                       "runs": {str(s): {"config": str(out / "runs" / f"seed{s}" / rid / "config.yaml"),
                                         "model": trained[f"seed{s}/{rid}"]["model"],
                                         "eval": docs["real"][rid][s]["_path"],
                                         "eval_virtual": docs["virtual"][rid][s]["_path"],
                                         "train_seconds": round(trained[f"seed{s}/{rid}"]["seconds"], 1),
                                         "steps_per_second": trained[f"seed{s}/{rid}"]["steps_per_second"]}
                                for s in seeds}}
                 for rid in rows},
        "stage1": {str(s): trained[f"seed{s}/s2r_stage1"] for s in seeds},
        "claims": claims, "best": {"run": best, "checkpoint": str(best_ckpt)},
        "figures": figures, "deploy": deploy, "table_markdown": table, "gap_table_markdown": gap_table,
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
    })
    _write_results(out, result)
    if show:
        print(_console_summary(result), flush=True)
    return result


#: What a demo folder holds; anything else in a non-empty ``--out`` means it is not one.
_DEMO_ENTRIES = {"data", "runs", "eval", "figures", "export", "prediction", "results.json", "results.md"}


def _check_out(out: Path) -> None:
    """Refuse to write into an existing folder that is not a demo folder (the demo replaces its
    own ``data/`` and ``runs/`` content; a user's files must never be touched)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"demo output {out} exists and is not a folder")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in _DEMO_ENTRIES)
        if foreign:
            raise ValueError(f"demo output folder {out} is not empty and was not written by s2rdepth demo "
                             f"(found {', '.join(foreign[:5])}); choose another --out")


def _cap80(doc: dict[str, Any]) -> dict[str, float]:
    return next(e["means"] for e in doc["results"].values() if float(e["cap"]) == 80.0)


def _torch_version() -> str:
    import torch

    return torch.__version__


def _console_summary(result: DemoResult) -> str:
    lines = ["", result["table_markdown"], result["gap_table_markdown"]]
    for c in result["claims"]:
        verdict = "reproduced" if c["holds"] else "NOT reproduced"
        lines.append(f"{verdict}: {c['claim']} ({c['measure']} {' > '.join(f'{v:.3f}' for v in c['abs_rel'])}; "
                     f"{c['seeds_holding']}/{c['seeds']} seeds)")
    out = Path(result["data"]["virtual"]).parent.parent
    lines += ["", f"best model: {result['best']['run']}; exported to {result['deploy']['torchscript']}"
              + (f" and {result['deploy']['onnx']}" if result["deploy"].get("onnx") else ""),
              f"results: {out / 'results.md'} and {out / 'results.json'}; figures in {out / 'figures'}",
              f"rerun a row: s2rdepth train {out}/runs/seed{result['seeds'][0]}/s2r_full/config.yaml --out NEW_DIR",
              f"done in {result['seconds']['total']:.0f} s"]
    return "\n".join(lines)


def _write_results(out: Path, result: DemoResult) -> None:
    from ..checkpoint import atomic_write

    text = json.dumps(result, indent=1, allow_nan=False, default=str)
    atomic_write(out / "results.json", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    seeds = result["seeds"]
    prof = result["profile"]
    md = [f"# s2rdepth demo results", "",
          f"Trained on {prof['virtual_frames']} synthetic `virtual` frames at the `tiny` preset "
          f"({prof['network_size'][0]}x{prof['network_size'][1]}, batch {prof['batch_size']}), evaluated on "
          f"{prof['test_frames']} `real`-styled test frames: {result['protocol']}. "
          f"Seeds: {', '.join(map(str, seeds))}" + (" (mean ± std)." if len(seeds) > 1 else "."), "",
          result["table_markdown"],
          "Generalisation gap: abs_rel on the real-styled test frames minus abs_rel on the `virtual` "
          "rendering of the very same scenes (same geometry and ground truth, training-domain look).", "",
          result["gap_table_markdown"]]
    for c in result["claims"]:
        md.append(f"- {'✔ reproduced' if c['holds'] else '✘ not reproduced'}: {c['claim']} — {c['measure']} "
                  f"{' > '.join(f'{v:.3f}' for v in c['abs_rel'])} ({c['seeds_holding']}/{c['seeds']} seeds)")
    md += ["", "Steps per run: " + ", ".join(f"{k} {v}" for k, v in prof["steps"].items()) + ".",
           f"Phases (s): " + ", ".join(f"{k} {v}" for k, v in result["seconds"].items()) + ".",
           f"Machine: {result['machine']['cpu_cores']} CPU cores, torch {result['machine']['torch']}, "
           f"{prof['jobs']} trainings at once x {prof['threads_per_job']} thread(s).", "",
           "Each run folder (`runs/seed<S>/<run>/`) holds `config.yaml`: `s2rdepth train runs/seed0/s2r_full/"
           "config.yaml --out NEW_DIR` repeats that row."]
    atomic_write(out / "results.md", lambda tmp: Path(tmp).write_text("\n".join(md) + "\n", encoding="utf-8"))
