"""The shared semantic label set and the tables that map each dataset's classes into it.

Shared label set: the **19 Cityscapes training classes** (train ids 0..18), :data:`IGNORE_INDEX`
= 255 for everything else. Every reader that returns ``"label"`` returns these ids by default
(``label_set="cityscapes19"``), so a source (vKITTI, Cityscapes) and a target model agree on one
output layout. Classes a dataset never contains simply never occur (vKITTI has no person, rider,
bicycle, motorcycle, bus, train, wall or sidewalk class).

vKITTI → shared ids (:data:`VKITTI_TO_TRAIN_ID`, used for both vKITTI 1.3.1 and vKITTI 2):

==============  ===============  ==========================================================
vKITTI class    shared id        note
==============  ===============  ==========================================================
Road            0 road
Building        2 building
Pole            5 pole
TrafficLight    6 traffic light
TrafficSign     7 traffic sign
Tree            8 vegetation
Vegetation      8 vegetation
Terrain         9 terrain
Sky             10 sky
Car             13 car
Van             13 car           Cityscapes' "car" includes vans
Truck           14 truck
GuardRail       255 ignore       Cityscapes "guard rail" (id 14) is itself ignored in training
Misc            255 ignore
Undefined       255 ignore       vKITTI 2 (black)
==============  ===============  ==========================================================

``label_set="native"`` instead returns each dataset's own class index: vKITTI 2 = the row of the
class in ``colors.txt`` (15 classes, 0..14, the DA-Monodepth source set), vKITTI 1.3.1 = the index in
:data:`VKITTI1_CLASSES` (instances ``Car:3`` collapse to their category); unknown colours = 255.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = [
    "IGNORE_INDEX",
    "CITYSCAPES_TRAIN_CLASSES",
    "CITYSCAPES_TRAIN_COLORS",
    "CITYSCAPES_ID_TO_TRAIN_ID",
    "cityscapes_label_lut",
    "VKITTI1_CLASSES",
    "VKITTI2_CLASSES",
    "VKITTI2_DEFAULT_COLORS",
    "VKITTI_TO_TRAIN_ID",
    "read_vkitti1_encoding",
    "read_vkitti2_colors",
    "ColorLabelMap",
]

#: Label value meaning "no class / do not train on this pixel".
IGNORE_INDEX: int = 255

#: The shared label set: Cityscapes train ids 0..18, in order.
CITYSCAPES_TRAIN_CLASSES: tuple[str, ...] = (
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
    "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
    "motorcycle", "bicycle",
)

#: The usual Cityscapes display colours of the 19 train classes (for visualisation).
CITYSCAPES_TRAIN_COLORS: tuple[tuple[int, int, int], ...] = (
    (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
    (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152),
    (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100),
    (0, 80, 100), (0, 0, 230), (119, 11, 32),
)

#: Cityscapes ``labelIds`` → train ids (ids not listed → 255, incl. license plate -1).
CITYSCAPES_ID_TO_TRAIN_ID: dict[int, int] = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10,
    24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
}


def cityscapes_label_lut() -> np.ndarray:
    """A 256-entry uint8 lookup table: ``lut[labelId] = trainId`` (255 = ignore)."""
    lut = np.full(256, IGNORE_INDEX, dtype=np.uint8)
    for k, v in CITYSCAPES_ID_TO_TRAIN_ID.items():
        lut[k] = v
    return lut


#: vKITTI 1.3.1 categories (the ``Category`` part of ``Category(:id)`` in the encoding files).
VKITTI1_CLASSES: tuple[str, ...] = (
    "Terrain", "Sky", "Tree", "Vegetation", "Building", "Road", "GuardRail", "TrafficSign",
    "TrafficLight", "Pole", "Misc", "Truck", "Car", "Van",
)

#: vKITTI 2 classes in ``colors.txt`` order.
VKITTI2_CLASSES: tuple[str, ...] = VKITTI1_CLASSES + ("Undefined",)

#: vKITTI 2 ``colors.txt`` as distributed (used when a scene lacks the file).
VKITTI2_DEFAULT_COLORS: dict[str, tuple[int, int, int]] = {
    "Terrain": (210, 0, 200), "Sky": (90, 200, 255), "Tree": (0, 199, 0),
    "Vegetation": (90, 240, 0), "Building": (140, 140, 140), "Road": (100, 60, 100),
    "GuardRail": (250, 100, 255), "TrafficSign": (255, 255, 0), "TrafficLight": (200, 200, 0),
    "Pole": (255, 130, 0), "Misc": (80, 80, 80), "Truck": (160, 60, 60), "Car": (255, 127, 80),
    "Van": (0, 139, 139), "Undefined": (0, 0, 0),
}

#: vKITTI class name → shared (Cityscapes train) id; see the module docstring.
VKITTI_TO_TRAIN_ID: dict[str, int] = {
    "Road": 0, "Building": 2, "Pole": 5, "TrafficLight": 6, "TrafficSign": 7, "Tree": 8,
    "Vegetation": 8, "Terrain": 9, "Sky": 10, "Car": 13, "Van": 13, "Truck": 14,
    "GuardRail": IGNORE_INDEX, "Misc": IGNORE_INDEX, "Undefined": IGNORE_INDEX,
}


def _parse_color_table(path: str | os.PathLike[str]) -> list[tuple[str, tuple[int, int, int]]]:
    """Parse ``Name r g b`` lines; the header (``Category ...``) and blank lines are skipped."""
    from .io import DataFileError, MissingFileError

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "missing label colour table")
    rows: list[tuple[str, tuple[int, int, int]]] = []
    with open(path, "r", encoding="utf-8", errors="replace") as fh:
        for no, line in enumerate(fh, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 4:
                raise DataFileError(path, f"line {no}: expected 'Name r g b', got {line.strip()!r}")
            try:
                rgb = tuple(int(x) for x in parts[1:])
            except ValueError:
                if no == 1:
                    continue  # header "Category(:id) r g b" / "Category r g b"
                raise DataFileError(path, f"line {no}: non-integer colour in {line.strip()!r}") from None
            if any(not 0 <= c <= 255 for c in rgb):
                raise DataFileError(path, f"line {no}: colour out of range in {line.strip()!r}")
            rows.append((parts[0], rgb))  # type: ignore[arg-type]
    return rows


def read_vkitti1_encoding(path: str | os.PathLike[str]) -> dict[tuple[int, int, int], str]:
    """Read a vKITTI 1.3.1 ``<world>_<variation>_scenegt_rgb_encoding.txt``: ``{(r, g, b): category}``.

    Lines are ``Category(:id) r g b`` after a header line, e.g. ``Sky 90 200 255`` or
    ``Car:12 201 130 57``; instance ids are dropped (``Car:12`` → ``Car``).
    """
    return {rgb: name.split(":")[0] for name, rgb in _parse_color_table(path)}


def read_vkitti2_colors(path: str | os.PathLike[str]) -> dict[tuple[int, int, int], str]:
    """Read a vKITTI 2 ``colors.txt`` (``Category r g b`` header, then ``Name r g b``): ``{(r, g, b): name}``."""
    return {rgb: name for name, rgb in _parse_color_table(path)}


class ColorLabelMap:
    """Maps colour-encoded label images to integer ids with a precomputed 24-bit lookup.

    Args:
        color_to_name: ``{(r, g, b): class name}``.
        name_to_id: ``{class name: id}``; names not in it map to ``unknown``.
        unknown: id for unlisted colours and names (default 255).
    """

    def __init__(self, color_to_name: dict[tuple[int, int, int], str], name_to_id: dict[str, int],
                 unknown: int = IGNORE_INDEX) -> None:
        keys = np.array([(r << 16) | (g << 8) | b for (r, g, b) in color_to_name], dtype=np.int64)
        vals = np.array([name_to_id.get(n, unknown) for n in color_to_name.values()], dtype=np.int64)
        order = np.argsort(keys)
        self.keys = keys[order]
        self.vals = vals[order]
        self.unknown = int(unknown)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 ``(H, W, 3)`` → int64 ``(H, W)`` ids."""
        code = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
        if self.keys.size == 0:
            return np.full(code.shape, self.unknown, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.keys, code), 0, self.keys.size - 1)
        return np.where(self.keys[pos] == code, self.vals[pos], self.unknown)
