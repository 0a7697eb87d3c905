"""Helpers for the training tests (no tests here): tiny dataset trees in the real on-disk layouts
(vKITTI 1.3.1, KITTI raw with benchmark ground truth, Cityscapes, paired folders, a painting
folder), written with Pillow (16-bit PNGs for depth), and configs that train on them at the
``tiny`` preset.

Scenes are simple but learnable: a ground plane whose depth grows towards the horizon, sky above
it and a box (car) in front; the image colours follow the classes and the brightness follows
depth, so every method's loss decreases within a few steps on a fixed batch.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
H, W = 64, 128

# class → (vKITTI category, vKITTI colour, Cityscapes labelId, image colour)
_CLASSES = {
    "road": ("Road", (100, 60, 100), 7, (90, 90, 95)),
    "sky": ("Sky", (90, 200, 255), 23, (150, 190, 240)),
    "car": ("Car:1", (255, 127, 80), 26, (200, 40, 40)),
    "building": ("Building", (140, 140, 140), 11, (160, 140, 110)),
}


def scene(index: int, h: int = H, w: int = W, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rgb uint8 HxWx3, depth metres float32 HxW (sky = 80), class map HxW of _CLASSES keys' index)``."""
    rng = np.random.default_rng([seed, index])
    horizon = int(h * rng.uniform(0.35, 0.5))
    rows = np.arange(h, dtype=np.float32)[:, None].repeat(w, 1)
    depth = np.full((h, w), 80.0, np.float32)
    ground = rows > horizon
    depth[ground] = np.clip(1.65 * 0.8 * h / np.maximum(rows[ground] - horizon, 0.5), 2.0, 80.0)
    cls = np.where(ground, 0, 1).astype(np.int64)
    # a building band at the horizon, a car on the road
    b0 = int(rng.integers(0, w // 2))
    cls[max(horizon - h // 6, 0):horizon, b0:b0 + w // 3] = 3
    depth[max(horizon - h // 6, 0):horizon, b0:b0 + w // 3] = 40.0
    cx, cw = int(rng.integers(w // 8, w - w // 3)), w // 5
    cy = int(h * rng.uniform(0.6, 0.8))
    car_depth = float(depth[min(cy, h - 1), cx])
    cls[cy - h // 6:cy, cx:cx + cw] = 2
    depth[cy - h // 6:cy, cx:cx + cw] = car_depth
    palette = np.array([_CLASSES[k][3] for k in ("road", "sky", "car", "building")], np.float32)
    rgb = palette[cls]
    shade = np.clip(1.2 - depth / 100.0, 0.3, 1.2)[..., None]
    rgb = rgb * shade + rng.normal(0, 4, size=rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8), depth, cls


def _png16(path: Path, values: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(values.astype(np.uint16)).save(path)


def _png(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)


def write_vkitti1(root: Path, count: int = 4, seed: int = 0) -> Path:
    """vKITTI 1.3.1: rgb/, depthgt/ (uint16 cm, 65535 sky), scenegt/ + encoding file."""
    keys = ("road", "sky", "car", "building")
    colors = np.array([_CLASSES[k][1] for k in keys], np.uint8)
    for i in range(count):
        rgb, depth, cls = scene(i, seed=seed)
        rel = Path("0001") / "clone" / f"{i:05d}.png"
        _png(root / "rgb" / rel, rgb)
        cm = np.where(depth >= 80.0, 65535, np.round(depth * 100)).astype(np.uint16)
        _png16(root / "depthgt" / rel, cm)
        _png(root / "scenegt" / rel, colors[cls])
    enc = "Category(:id) r g b\n" + "".join(f"{_CLASSES[k][0]} {' '.join(map(str, _CLASSES[k][1]))}\n" for k in keys)
    (root / "scenegt" / "0001_clone_scenegt_rgb_encoding.txt").write_text(enc)
    return root


DRIVE = "2011_09_26/2011_09_26_drive_0001_sync"


def write_kitti(root: Path, count: int = 4, seed: int = 1, sparse: float = 0.3) -> tuple[Path, Path]:
    """KITTI raw images + benchmark ground truth PNGs (uint16, m·256, 0 = none; a random
    ``sparse`` fraction of pixels kept) + a split file. Returns ``(root, split_file)``."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(count):
        rgb, depth, _ = scene(i, seed=seed)
        d = root / DRIVE
        _png(d / "image_02" / "data" / f"{i:010d}.png", rgb)
        keep = (rng.random(depth.shape) < sparse) & (depth < 80)
        _png16(root / "2011_09_26" / "2011_09_26_drive_0001_sync" / "proj_depth" / "groundtruth" / "image_02"
               / f"{i:010d}.png", np.where(keep, np.round(depth * 256), 0))
        lines.append(f"{DRIVE} {i} l")
    split = root / "train_files.txt"
    split.write_text("\n".join(lines) + "\n")
    return root, split


def write_cityscapes(root: Path, count: int = 4, seed: int = 2) -> Path:
    """Cityscapes: leftImg8bit, disparity (uint16 p = 256·d + 1), camera json, gtFine labelIds."""
    keys = ("road", "sky", "car", "building")
    ids = np.array([_CLASSES[k][2] for k in keys], np.uint8)
    baseline, fx = 0.2, 200.0
    for i in range(count):
        rgb, depth, cls = scene(i, seed=seed)
        stem = f"aachen_{i:06d}_000019"
        sub = Path("train") / "aachen"
        _png(root / "leftImg8bit" / sub / f"{stem}_leftImg8bit.png", rgb)
        disp = baseline * fx / depth
        _png16(root / "disparity" / sub / f"{stem}_disparity.png", np.round(disp * 256) + 1)
        cam = root / "camera" / sub / f"{stem}_camera.json"
        cam.parent.mkdir(parents=True, exist_ok=True)
        cam.write_text(json.dumps({"extrinsic": {"baseline": baseline}, "intrinsic": {"fx": fx}}))
        _png(root / "gtFine" / sub / f"{stem}_gtFine_labelIds.png", ids[cls])
    return root


def write_paired(root: Path, count: int = 4, seed: int = 3) -> Path:
    """SUNCG-like pairs: rgb/NNN.png + depth/NNN.png (uint16 millimetres, indoor depths ≤ 8 m)."""
    for i in range(count):
        rgb, depth, _ = scene(i, seed=seed)
        _png(root / "rgb" / f"{i:03d}.png", rgb)
        _png16(root / "depth" / f"{i:03d}.png", np.round(np.minimum(depth / 10.0, 8.0) * 1000))
    return root


def write_paintings(root: Path, count: int = 4, seed: int = 4) -> Path:
    """A folder of 'paintings': blotchy colour fields of assorted sizes (JPEG and PNG)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        h, w = int(rng.integers(40, 90)), int(rng.integers(80, 160))
        small = rng.integers(0, 256, size=(4, 6, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((w, h), Image.BICUBIC)
        img.save(root / (f"p{i:03d}.jpg" if i % 2 else f"p{i:03d}.png"))
    return root


def make_trees(base: Path) -> dict[str, Any]:
    """Write every tree under ``base``; returns their roots."""
    kitti, split = write_kitti(base / "kitti")
    return {"vkitti": write_vkitti1(base / "vkitti"), "kitti": kitti, "kitti_split": split,
            "cityscapes": write_cityscapes(base / "cityscapes"), "suncg": write_paired(base / "suncg"),
            "paintings": write_paintings(base / "paintings")}


def tiny_overrides(trees: dict[str, Any], steps: int = 3, batch: int = 2, size: tuple[int, int] = (H, W)) -> list[str]:
    """Overrides that make any shipped config a fast CPU run."""
    return [f"model.preset=tiny", f"data.size=[{size[0]},{size[1]}]", f"train.batch_size={batch}",
            f"train.max_steps={steps}", "train.device=cpu", "train.threads=1", "data.num_workers=0",
            "log.every_steps=1", "log.tensorboard=false", "log.progress=false", "checkpoint.every_steps=0"]


def data_overrides(cfg_name: str, trees: dict[str, Any]) -> list[str]:
    """Point a shipped config's data roots at the fixture trees."""
    t = {k: str(v) for k, v in trees.items()}
    if cfg_name.startswith("s2r/suncg"):
        src = [f"data.source.root={t['suncg']}/rgb", f"data.source.depth_root={t['suncg']}/depth"]
    elif cfg_name.startswith("s2r/kitti"):
        src = [f"data.source.root={t['kitti']}", f"data.source.split={t['kitti_split']}"]
    elif "cityscapes" in cfg_name:
        src = [f"data.source.root={t['cityscapes']}"]
    else:
        src = [f"data.source.root={t['vkitti']}"]
    from s2rdepth.train.config import read_yaml

    target = (read_yaml(CONFIGS / f"{cfg_name}.yaml").get("data") or {}).get("target")
    if target is None:
        return src
    if target.get("kind") == "image_folder":
        return src + [f"data.target.root={t['paintings']}"]
    return src + [f"data.target.root={t['kitti']}", f"data.target.split={t['kitti_split']}"]


def run_cli(args: list[str], env_extra: Optional[dict[str, str]] = None, timeout: float = 300,
            torchrun: Optional[int] = None, cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    """Run ``python -m s2rdepth ARGS`` (or ``torchrun --nproc_per_node=N -m s2rdepth ARGS``)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", **(env_extra or {}))
    if torchrun:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={torchrun}",
               "-m", "s2rdepth", *args]
    else:
        cmd = [sys.executable, "-m", "s2rdepth", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd or REPO)
