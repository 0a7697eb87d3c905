"""Materials of the scene generator and their semantic labels.

Every primitive of a synthetic scene carries a *material* (what it is made of, which drives its
appearance) and, through :data:`MATERIAL_LABEL`, a semantic label in the package's shared label
set: the 19 Cityscapes training classes of :mod:`s2rdepth.data.labels` (255 = ignore).

=================  ==========================  ==================  ==============================
material           shared label (train id)     vKITTI 1.3.1 class  appearance
=================  ==========================  ==================  ==============================
``ROAD``           0 road                      Road                asphalt, lane markings (real)
``TERRAIN``        9 terrain                   Terrain             grass / gravel verges
``SIDEWALK``       1 sidewalk                  Misc (→ 255)        paving slabs, curb faces
``BUILDING``       2 building                  Building            facades, windows, posters
``WALL``           3 wall                      Misc (→ 255)        garden walls
``GUARDRAIL``      255 ignore (Cityscapes      GuardRail (→ 255)   metal rail
                   "guard rail" is ignored)
``POLE``           5 pole                      Pole                street lamps, sign posts
``SIGN``           7 traffic sign              TrafficSign         sign plates
``TRUNK``          8 vegetation                Tree                bark
``CROWN``          8 vegetation                Tree                foliage
``HEDGE``          8 vegetation                Vegetation          bushes and hedges
``CAR_BODY``       13 car                      Car:<k> / Van:<k>   paint
``CAR_GLASS``      13 car                      Car:<k> / Van:<k>   windows (cabin)
``WHEEL``          13 car                      Car:<k> / Van:<k>   tyres
``TRUCK``          14 truck                    Truck               truck box
sky                10 sky                      Sky                 (no primitive)
=================  ==========================  ==================  ==============================

The vKITTI class set has no sidewalk, wall or fence class: the vKITTI writer stores those pixels
as ``Misc``, which :data:`s2rdepth.data.labels.VKITTI_TO_TRAIN_ID` maps to 255. The in-memory
labels of :func:`s2rdepth.data.synth.render_scene` keep the richer classes.
"""
from __future__ import annotations

import numpy as np

from ..labels import IGNORE_INDEX, VKITTI2_DEFAULT_COLORS

__all__ = [
    "ROAD", "TERRAIN", "SIDEWALK", "BUILDING", "WALL", "GUARDRAIL", "POLE", "SIGN", "TRUNK",
    "CROWN", "HEDGE", "CAR_BODY", "CAR_GLASS", "WHEEL", "TRUCK", "NUM_MATERIALS",
    "MATERIAL_NAMES", "MATERIAL_LABEL", "LABEL_ROAD", "LABEL_SIDEWALK", "LABEL_BUILDING",
    "LABEL_WALL", "LABEL_POLE", "LABEL_SIGN", "LABEL_VEGETATION", "LABEL_TERRAIN", "LABEL_SKY",
    "LABEL_CAR", "LABEL_TRUCK", "IGNORE_INDEX", "SYNTH_LABEL_NAMES", "MATERIAL_VKITTI_CLASS",
    "VKITTI1_COLORS", "vkitti_instance_color",
]

# ---------------------------------------------------------------------------------------- materials
ROAD, TERRAIN, SIDEWALK, BUILDING, WALL, GUARDRAIL, POLE, SIGN = range(8)
TRUNK, CROWN, HEDGE, CAR_BODY, CAR_GLASS, WHEEL, TRUCK = range(8, 15)
NUM_MATERIALS = 15

MATERIAL_NAMES: tuple[str, ...] = (
    "road", "terrain", "sidewalk", "building", "wall", "guardrail", "pole", "sign", "trunk",
    "crown", "hedge", "car_body", "car_glass", "wheel", "truck",
)

# ------------------------------------------------------------------ shared label ids (Cityscapes)
LABEL_ROAD, LABEL_SIDEWALK, LABEL_BUILDING, LABEL_WALL = 0, 1, 2, 3
LABEL_POLE, LABEL_SIGN, LABEL_VEGETATION, LABEL_TERRAIN, LABEL_SKY = 5, 7, 8, 9, 10
LABEL_CAR, LABEL_TRUCK = 13, 14

#: Shared label id of each material (index = material id), uint8.
MATERIAL_LABEL: np.ndarray = np.array([
    LABEL_ROAD, LABEL_TERRAIN, LABEL_SIDEWALK, LABEL_BUILDING, LABEL_WALL, IGNORE_INDEX,
    LABEL_POLE, LABEL_SIGN, LABEL_VEGETATION, LABEL_VEGETATION, LABEL_VEGETATION, LABEL_CAR,
    LABEL_CAR, LABEL_CAR, LABEL_TRUCK,
], dtype=np.uint8)

#: The label ids the generator can produce, with their Cityscapes names.
SYNTH_LABEL_NAMES: dict[int, str] = {
    0: "road", 1: "sidewalk", 2: "building", 3: "wall", 5: "pole", 7: "traffic sign",
    8: "vegetation", 9: "terrain", 10: "sky", 13: "car", 14: "truck", IGNORE_INDEX: "ignore (guard rail)",
}

#: vKITTI 1.3.1 category written for each material (car materials get ``Car:<k>`` / ``Van:<k>``).
MATERIAL_VKITTI_CLASS: tuple[str, ...] = (
    "Road", "Terrain", "Misc", "Building", "Misc", "GuardRail", "Pole", "TrafficSign", "Tree",
    "Tree", "Vegetation", "Car", "Car", "Car", "Truck",
)

#: Category colours written into the vKITTI 1.3.1 encoding file (the colours vKITTI uses).
VKITTI1_COLORS: dict[str, tuple[int, int, int]] = {
    name: VKITTI2_DEFAULT_COLORS[name]
    for name in ("Terrain", "Sky", "Tree", "Vegetation", "Building", "Road", "GuardRail",
                 "TrafficSign", "TrafficLight", "Pole", "Misc", "Truck")
}


def vkitti_instance_color(kind: str, k: int) -> tuple[int, int, int]:
    """Deterministic, collision-free colour of instance ``k`` (0 <= k < 4096) of ``"Car"`` or ``"Van"``.

    Cars use red values 16..76 and vans 96..156 (steps of 4), with green and blue on the grid
    8, 23, ..., 233, so no instance colour equals a category colour of :data:`VKITTI1_COLORS`.
    """
    if not 0 <= k < 4096:
        raise ValueError(f"instance index {k} out of range [0, 4096)")
    base = {"Car": 16, "Van": 96}[kind]
    # spread consecutive ids apart (multiplicative permutation of 0..4095)
    p = (k * 1597 + 11) % 4096
    r = base + p // 256 * 4
    g = 8 + (p // 16) % 16 * 15
    b = 8 + p % 16 * 15
    return int(r), int(g), int(b)
