"""Training: S2R-DepthNet's three stages and fine-tuning, DA-Monodepth; one process or many.

==================================  ===========================================================
:func:`load_config`                 YAML (+ ``base:``) + ``key=value`` overrides → :class:`TrainConfig`
:func:`dump_config`                 the resolved configuration as YAML (written next to checkpoints)
:func:`train`                       run a configuration (``s2rdepth train``); :class:`TrainResult`
:data:`METHODS`                     ``method.name`` → recipe (:mod:`s2rdepth.train.methods`)
:func:`latest_checkpoint`           newest readable training checkpoint of a run folder
==================================  ===========================================================

Modules: :mod:`.config` (dataclasses, YAML, validation), :mod:`.engine` (the loop, AMP, DDP,
checkpoints, resume), :mod:`.methods` (one class per recipe: ``step(batch) -> losses``),
:mod:`.data` (readers from the config, seeded augmentation, resumable streams),
:mod:`.checkpoint` (training checkpoint files), :mod:`.distributed` (torchrun process group),
:mod:`.monitor` (progress bar, text log, TensorBoard).

Example::

    from s2rdepth.train import load_config, train
    cfg = load_config("configs/s2r/vkitti_stage2.yaml", ["train.batch_size=8"])
    result = train(cfg)            # result.model = OUT/model.safetensors
"""
from __future__ import annotations

from .checkpoint import latest_checkpoint, load_training_checkpoint
from .config import (ConfigError, DAMonodepthMethodConfig, METHOD_CONFIGS, S2RDepthMethodConfig,
                     S2RTranslationMethodConfig, TrainConfig, config_to_dict, dump_config, load_config)
from .engine import TrainingError, TrainResult, train
from .methods import METHODS, build_method

__all__ = [
    "ConfigError", "DAMonodepthMethodConfig", "METHODS", "METHOD_CONFIGS", "S2RDepthMethodConfig",
    "S2RTranslationMethodConfig", "TrainConfig", "TrainResult", "TrainingError", "build_method",
    "config_to_dict", "dump_config", "latest_checkpoint", "load_config", "load_training_checkpoint", "train",
]
