"""Dataset readers, transforms, KITTI Velodyne ground truth and the built-in scene generator.

Public names are resolved lazily (PEP 562), so ``import s2rdepth.data.kitti`` stays NumPy-only and
``import s2rdepth.data`` does not import torch until a reader or transform is used.

Readers (``torch.utils.data.Dataset``; sample layout in :mod:`s2rdepth.data.base`):
:class:`VKitti1Dataset`, :class:`VKitti2Dataset`, :class:`KittiRawDataset`,
:class:`CityscapesDataset`, :class:`NyuV2MatDataset`, :class:`NyuFolderDataset`,
:class:`PairedFolderDataset`, :class:`ImageFolderDataset`.
Transforms: :class:`S2RTransform`, :class:`DAMonodepthTransform` (:mod:`s2rdepth.data.transforms`).
KITTI ground truth: :func:`generate_depth_map`, :func:`export_eigen_gt`, :func:`load_eigen_gt`.
"""
from __future__ import annotations

import importlib
from typing import Any

#: public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    # errors and file helpers
    "DataFileError": "io",
    "MissingFileError": "io",
    # base
    "DepthDataset": "base",
    # KITTI ground truth
    "read_calib_file": "kitti",
    "generate_depth_map": "kitti",
    "project_velodyne": "kitti",
    "read_kitti_depth_png": "kitti",
    "read_split_file": "kitti",
    "SplitEntry": "kitti",
    "export_eigen_gt": "kitti",
    "load_eigen_gt": "kitti",
    # readers
    "VKitti1Dataset": "vkitti",
    "VKitti2Dataset": "vkitti",
    "KittiRawDataset": "kitti_dataset",
    "CityscapesDataset": "cityscapes",
    "NyuV2MatDataset": "nyu",
    "NyuFolderDataset": "folders",
    "PairedFolderDataset": "folders",
    "ImageFolderDataset": "folders",
    # labels
    "IGNORE_INDEX": "labels",
    "CITYSCAPES_TRAIN_CLASSES": "labels",
    # transforms
    "S2RTransform": "transforms",
    "DAMonodepthTransform": "transforms",
    "depth_to_disp": "transforms",
    "disp_to_depth": "transforms",
}
# The scene generator (``s2rdepth.data.synth``) adds its exports here.
_EXPORTS.update({"render_scene": "synth", "SynthFrame": "synth", "generate_synthetic": "synth"})

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
