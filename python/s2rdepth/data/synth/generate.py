"""Generating a synthetic dataset on disk: :func:`generate` (also ``s2rdepth synth``)."""
from __future__ import annotations

import ctypes
import json
import multiprocessing as mp
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from ..._version import __version__
from . import labels as L
from .appearance import render_gbuffer, shade_painting, shade_real, shade_virtual
from .camera import kitti_calibration
from .render import _APPEARANCE_STREAM, DOMAINS, parse_size
from .scene import sample_scene, scene_rng
from .velodyne import simulate_velodyne
from .writers import (
    SYNTH_DATE, depth_to_kitti_png, depth_to_vkitti_cm, kitti_drive, save_png, save_uint16_png,
    scenegt_image, vkitti_encoding_text, vkitti_sequence,
)

__all__ = ["generate", "frame_paths", "split_indices", "tune_malloc"]

META_FILE = "synth_meta.json"


def tune_malloc() -> bool:
    """Keep freed heap memory in the process (glibc ``mallopt``) so large NumPy temporaries do not
    go through ``mmap``/``munmap`` and page faults on every operation.

    On virtual machines with expensive page faults this makes the renderer 2-5x faster. It
    changes the allocator of the *whole process* (more resident memory kept, up to ~128 MB), so
    :func:`generate` calls it only in its worker processes, and in the calling process only when
    asked (``tune_malloc=True``). Returns False where glibc is not available.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: 32 MB (the glibc maximum)
        ok &= libc.mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD
        return bool(ok)
    except (OSError, AttributeError):
        return False


def split_indices(count: int) -> dict[str, list[int]]:
    """Frame indices of the train / val / test split files: the last 10 % (at least one frame
    when ``count >= 2``) is ``test``, the 10 % before it ``val`` (when ``count >= 3``), the rest
    ``train``. Scenes are independent draws, so contiguous blocks are as good as random ones."""
    n_test = max(1, round(0.1 * count)) if count >= 2 else 0
    n_val = max(1, round(0.1 * count)) if count >= 3 else 0
    n_train = count - n_test - n_val
    idx = list(range(count))
    return {"train": idx[:n_train], "val": idx[n_train:n_train + n_val], "test": idx[n_train + n_val:]}


def frame_paths(out_dir: str | os.PathLike[str], domain: str, index: int, frames_per_sequence: int = 1000) -> dict[str, Path]:
    """The files frame ``index`` of a run in ``domain`` is written to (keys ``image``, ``depth``,
    and ``labels`` (virtual) / ``velodyne`` (real))."""
    out = Path(out_dir)
    if domain == "virtual":
        world, var, frame = vkitti_sequence(index, frames_per_sequence)
        rel = Path(world) / var / f"{frame:05d}.png"
        return {"image": out / "rgb" / rel, "depth": out / "depthgt" / rel, "labels": out / "scenegt" / rel}
    if domain == "real":
        drive, frame = kitti_drive(index, frames_per_sequence)
        d = out / drive
        name = f"{frame:010d}"
        return {"image": d / "image_02" / "data" / f"{name}.png",
                "velodyne": d / "velodyne_points" / "data" / f"{name}.bin",
                "depth": d / "proj_depth" / "groundtruth" / "image_02" / f"{name}.png"}
    if domain == "painting":
        return {"image": out / f"{index:06d}.jpg"}
    raise ValueError(f"unknown domain {domain!r}; choose from {', '.join(DOMAINS)}")


def _render_and_write(job: tuple) -> dict[str, Any]:
    """Worker: render frame ``index`` and write its files. Returns small per-frame statistics."""
    out_dir, domain, seed, index, size, fps, n_azimuth = job
    t0 = time.perf_counter()
    h, w = size
    calib = kitti_calibration(h, w)
    scene = sample_scene(seed, index)
    gb = render_gbuffer(scene, calib)
    paths = frame_paths(out_dir, domain, index, fps)
    stats: dict[str, Any] = {"index": index, "kind": scene.kind, "primitives": len(scene.prims)}
    rng = scene_rng(seed, index, _APPEARANCE_STREAM[domain])
    if domain == "virtual":
        save_png(paths["image"], shade_virtual(scene, gb))
        save_uint16_png(paths["depth"], depth_to_vkitti_cm(gb.depth))
        save_png(paths["labels"], scenegt_image(gb, scene))
    elif domain == "real":
        save_png(paths["image"], shade_real(scene, gb, rng))
        save_uint16_png(paths["depth"], depth_to_kitti_png(gb.depth))
        pts = simulate_velodyne(scene, calib, n_azimuth=n_azimuth)
        paths["velodyne"].parent.mkdir(parents=True, exist_ok=True)
        pts.tofile(paths["velodyne"])
        stats["velodyne_points"] = int(pts.shape[0])
    else:
        from PIL import Image

        img = shade_painting(scene, gb, rng)
        paths["image"].parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(paths["image"], quality=95)
    stats["sky_fraction"] = float(np.mean(~np.isfinite(gb.depth)))
    stats["seconds"] = time.perf_counter() - t0
    return stats


def _vkitti_split_line(index: int, frames_per_sequence: int) -> str:
    world, var, frame = vkitti_sequence(index, frames_per_sequence)
    return f"{world}/{var} {frame:05d}"


def _kitti_split_line(index: int, frames_per_sequence: int) -> str:
    drive, frame = kitti_drive(index, frames_per_sequence)
    return f"{drive} {frame:010d} l"


def _worker_init() -> None:
    tune_malloc()


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def generate(
    out_dir: str | os.PathLike[str],
    domain: str,
    count: int,
    size=(192, 640),
    seed: int = 0,
    *,
    start_index: int = 0,
    workers: Optional[int] = None,
    frames_per_sequence: int = 1000,
    n_azimuth: int = 2000,
    tune_malloc_in_process: bool = False,
    progress: Optional[Callable[[int, int], None]] = None,
) -> dict[str, Any]:
    """Render ``count`` frames of ``domain`` and write them under ``out_dir`` in that domain's layout.

    Layouts (:mod:`s2rdepth.data.synth.writers`): ``virtual`` = vKITTI 1.3.1, ``real`` = KITTI raw
    with calibration files, simulated Velodyne scans, dense ``proj_depth`` PNGs and split files,
    ``painting`` = a folder of JPEGs. Frame ``i`` is scene ``start_index + i`` of stream ``seed``:
    the same ``seed`` renders the same geometry in every domain, and the same arguments write
    byte-identical files (independently of ``workers``).

    Args:
        out_dir: output folder (created; existing files of the same names are overwritten).
        domain: ``"virtual"``, ``"real"`` or ``"painting"``.
        count: number of frames (>= 1).
        size: ``(H, W)`` or ``"HxW"`` in pixels.
        seed: stream seed (>= 0).
        start_index: first scene index (>= 0), e.g. to extend a run.
        workers: processes (default: ``os.cpu_count()``, at most 16; 0 or 1 renders in this process).
        frames_per_sequence: frames per vKITTI world/variation or KITTI drive.
        n_azimuth: Velodyne azimuth steps per revolution (``real``).
        tune_malloc_in_process: apply :func:`tune_malloc` to this process when rendering here.
        progress: called as ``progress(done, count)`` after each frame.

    Returns:
        A summary dict: arguments, ``seconds``, ``frames_per_second``, ``workers``, per-domain
        facts (velodyne points per scan, splits) and the ``layout`` root paths.

    Raises:
        ValueError: bad domain, count, size, seed or sequence length (clear messages).
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; choose from {', '.join(DOMAINS)}")
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(start_index, (int, np.integer)) or start_index < 0:
        raise ValueError(f"start_index must be a non-negative integer, got {start_index!r}")
    if not isinstance(frames_per_sequence, (int, np.integer)) or frames_per_sequence < 1:
        raise ValueError(f"frames_per_sequence must be a positive integer, got {frames_per_sequence!r}")
    h, w = parse_size(size)
    count, seed, start_index = int(count), int(seed), int(start_index)
    indices = list(range(start_index, start_index + count))
    # validate the naming of the last frame before rendering anything
    frame_paths(out_dir, domain, indices[-1], frames_per_sequence)
    if workers is None:
        workers = min(os.cpu_count() or 1, 16)
    if workers < 0:
        raise ValueError(f"workers must be >= 0, got {workers}")
    workers = max(1, min(int(workers), count))

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    calib = kitti_calibration(h, w)
    summary: dict[str, Any] = {
        "generator": f"s2rdepth {__version__} synth",
        "domain": domain, "count": count, "size": [h, w], "seed": seed, "start_index": start_index,
        "frames_per_sequence": int(frames_per_sequence),
        "camera": {"fx": calib.fx, "fy": calib.fy, "cx": calib.cx, "cy": calib.cy,
                   "pixel_centres": "integer coordinates (column c has u = c)"},
        "depth": "camera z in metres",
        "labels": {str(k): v for k, v in L.SYNTH_LABEL_NAMES.items()},
    }
    if domain == "virtual":
        enc = vkitti_encoding_text()
        for world, var in sorted({vkitti_sequence(i, frames_per_sequence)[:2] for i in indices}):
            _write_text(out / "scenegt" / f"{world}_{var}_scenegt_rgb_encoding.txt", enc)
        split_lines = [_vkitti_split_line(i, frames_per_sequence) for i in indices]
        summary["layout"] = {"rgb": "rgb/<world>/<variation>/<frame:05d>.png",
                             "depth": "depthgt/<world>/<variation>/<frame:05d>.png (uint16 cm, 65535 = sky)",
                             "labels": "scenegt/<world>/<variation>/<frame:05d>.png + scenegt/<world>_<variation>_scenegt_rgb_encoding.txt"}
    elif domain == "real":
        for name, text in calib.files().items():
            _write_text(out / SYNTH_DATE / name, text)
        split_lines = [_kitti_split_line(i, frames_per_sequence) for i in indices]
        summary["layout"] = {"calibration": f"{SYNTH_DATE}/calib_*.txt",
                             "image": f"{SYNTH_DATE}/<drive>_sync/image_02/data/<frame:010d>.png",
                             "velodyne": f"{SYNTH_DATE}/<drive>_sync/velodyne_points/data/<frame:010d>.bin",
                             "depth": f"{SYNTH_DATE}/<drive>_sync/proj_depth/groundtruth/image_02/<frame:010d>.png "
                                      "(uint16, m = v/256, 0 = invalid, dense)"}
    else:
        split_lines = []
        summary["layout"] = {"image": "<index:06d>.jpg"}
    if split_lines:
        parts = split_indices(count)
        for part, idx in parts.items():
            _write_text(out / "splits" / f"{part}_files.txt", "".join(split_lines[j] + "\n" for j in idx))
        summary["splits"] = {k: f"splits/{k}_files.txt ({len(v)} frames)" for k, v in parts.items()}

    jobs = [(str(out), domain, seed, i, (h, w), int(frames_per_sequence), int(n_azimuth)) for i in indices]
    t0 = time.perf_counter()
    stats: list[dict[str, Any]] = []
    if workers == 1:
        if tune_malloc_in_process:
            tune_malloc()
        for j in jobs:
            stats.append(_render_and_write(j))
            if progress:
                progress(len(stats), count)
    else:
        method = "fork" if sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(method),
                                 initializer=_worker_init) as ex:
            for st in ex.map(_render_and_write, jobs, chunksize=max(1, min(8, count // (4 * workers)))):
                stats.append(st)
                if progress:
                    progress(len(stats), count)
    seconds = time.perf_counter() - t0
    summary["workers"] = workers
    summary["seconds"] = round(seconds, 3)
    summary["frames_per_second"] = round(count / seconds, 3) if seconds > 0 else None
    kinds: dict[str, int] = {}
    for st in stats:
        kinds[st["kind"]] = kinds.get(st["kind"], 0) + 1
    summary["scene_kinds"] = kinds
    summary["sky_fraction_mean"] = round(float(np.mean([st["sky_fraction"] for st in stats])), 4)
    if domain == "real":
        pts = [st["velodyne_points"] for st in stats]
        summary["velodyne_points_per_scan"] = {"mean": round(float(np.mean(pts)), 1), "min": int(min(pts)),
                                               "max": int(max(pts))}
    summary["out_dir"] = str(out)
    meta = {k: v for k, v in summary.items() if k not in ("seconds", "frames_per_second", "workers", "out_dir")}
    _write_text(out / META_FILE, json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return summary
