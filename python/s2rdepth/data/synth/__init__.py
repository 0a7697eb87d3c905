"""Built-in synthetic street-scene generator with exact depth (``s2rdepth synth``).

Procedural 3-D street scenes (road, sidewalks with curbs, building facades with varied setbacks
and heights, parked and moving cars/vans/trucks, poles, street lamps, signs, trees, hedges, guard
rails, sky) are rendered by vectorised NumPy ray casting (:mod:`.raycast`) through a KITTI-like
pinhole camera (:mod:`.camera`: KITTI 2011_09_26 intrinsics scaled to the image size, camera
1.65 m above the road with pitch/roll/yaw jitter). Every pixel gets the exact camera-z depth of
its ray's first hit and a semantic label from the shared Cityscapes-19 label set
(:mod:`.labels`).

Domains (:mod:`.appearance`) share the geometry distribution *and*, for the same ``(seed,
index)``, the very same scene — depth and labels are identical — and differ in appearance only:

* ``virtual``: flat Lambertian shading, fixed palette (vKITTI 1.3.1 layout on disk);
* ``real``: textures, lane markings, posters and graffiti, sun light with cast shadows, sky,
  haze, blur, vignetting, noise and JPEG artefacts (KITTI raw layout with calibration files,
  simulated 64-beam Velodyne scans (:mod:`.velodyne`), dense depth PNGs and split files);
* ``painting``: painterly styles (Kuwahara/strokes, dabs, posterisation, watercolour; canvas).

Python API::

    from s2rdepth.data.synth import render_scene, generate
    image, depth, labels = render_scene(index=0, seed=0, size=(192, 640), domain="real")
    # image uint8 (H, W, 3); depth float32 (H, W) metres, +inf = sky; labels uint8 (H, W)
    summary = generate("out/vkitti_synth", "virtual", count=500, size=(192, 640), seed=0)

Command line: ``s2rdepth synth --out DIR --domain virtual|real|painting --count N --size HxW
--seed S``. Output layouts: :mod:`.writers`. Example images: ``python -m
s2rdepth.data.synth.examples`` (writes ``docs/images/synth_*.png``).
"""
from __future__ import annotations

from .camera import SynthCalibration, kitti_calibration
from .generate import frame_paths, generate, split_indices, tune_malloc
from .labels import MATERIAL_LABEL, SYNTH_LABEL_NAMES
from .render import DOMAINS, SynthFrame, parse_size, render_frame, render_scene
from .scene import Scene, camera_rotation, sample_scene
from .velodyne import HDL64_ELEVATIONS_DEG, simulate_velodyne, velodyne_pose
from .writers import SYNTH_DATE

#: :func:`generate` under a name that is unambiguous in :mod:`s2rdepth.data`.
generate_synthetic = generate

__all__ = [
    "DOMAINS", "SynthFrame", "render_scene", "render_frame", "generate", "generate_synthetic", "frame_paths", "split_indices",
    "tune_malloc", "parse_size", "Scene", "sample_scene", "camera_rotation", "SynthCalibration",
    "kitti_calibration", "simulate_velodyne", "velodyne_pose", "HDL64_ELEVATIONS_DEG", "SYNTH_DATE",
    "SYNTH_LABEL_NAMES", "MATERIAL_LABEL",
]
