"""Training configuration: typed dataclasses, loaded from YAML with ``key=value`` overrides.

A configuration is one YAML document whose sections mirror :class:`TrainConfig`::

    method: {name: s2r_depth, structure_weight: 1.0, ...}   # one of METHOD_CONFIGS
    model:  {arch: s2r, preset: paper, options: {variant: ste}}
    data:   {source: {kind: vkitti1, root: data/vkitti}, size: [192, 640]}
    optim:  {lr: 1.0e-4, betas: [0.9, 0.999], weight_decay: 0.0, step_size: 10, gamma: 0.5}
    train:  {epochs: 120, batch_size: 32, amp: none}
    checkpoint: {every_steps: 1000, keep_last: 3}
    log:    {every_steps: 50, image_every_steps: 500}
    seed: 0
    out: runs/s2r_vkitti_stage2

``base: other.yaml`` (a path relative to the file) merges this file over another one. Command
line overrides ``a.b.c=value`` take YAML values (``train.amp=bf16``, ``data.size=[64,128]``).

Every key is checked: an unknown key, a wrong type or an invalid choice raises
:class:`ConfigError` naming the dotted key (with a suggestion for typos). :func:`dump_config`
writes the fully resolved configuration (no ``base``, absolute paths), which
:func:`load_config` reads back to an equal object: ``s2rdepth train OUT/config.yaml --out NEW``
repeats a run.

Defaults are the *reference code's* values where the reference code and the paper differ
(REFERENCE.md): e.g. S2R weight decay 0 (paper 1e-4), 120 epochs (paper 60), structure-loss
mode ``reference``. The shipped configs in ``configs/`` note the paper's values beside them.
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Sequence, Union

import yaml

__all__ = [
    "CheckpointConfig", "ConfigError", "DAMonodepthMethodConfig", "DataConfig", "DatasetConfig",
    "LogConfig", "LoopConfig", "METHOD_CONFIGS", "MethodConfig", "ModelConfig", "OptimConfig",
    "S2RDepthMethodConfig", "S2RTranslationMethodConfig", "TrainConfig", "apply_overrides",
    "CONFIG_DIR", "config_from_dict", "config_to_dict", "dump_config", "load_config", "parse_overrides",
    "resolve_config_path",
]


class ConfigError(ValueError):
    """A configuration problem, detected before training starts; the message names the key."""


def _path(default: Any = None, **kw: Any) -> Any:
    """A dataclass field holding a filesystem path (made absolute when the config is resolved)."""
    return field(default=default, metadata={"path": True}, **kw)


# ============================================================================ sections
@dataclass
class DatasetConfig:
    """One dataset (a reader of :mod:`s2rdepth.data`).

    Attributes:
        kind: ``vkitti1``, ``vkitti2``, ``kitti_raw``, ``cityscapes``, ``paired_folder``,
            ``nyu_folder`` or ``image_folder``.
        root: dataset root folder (``image_root`` of ``paired_folder``).
        depth_root: depth folder of ``paired_folder`` (default: ``root``).
        split: ``kitti_raw``: split file (``<date>/<drive>_sync <frame> <l|r>`` lines; default
            every frame found); ``cityscapes``: split name (``train``).
        max_items: keep only the first N samples (semi-supervised S2R: the first 1000 KITTI
            frames); None = all.
        options: further keyword arguments of the reader (e.g. ``{gt: velodyne}`` for KITTI,
            ``{depth_scale: 0.001}`` for millimetre PNGs, ``{load_labels: false}``).
    """

    kind: str = ""
    root: Optional[str] = _path()
    depth_root: Optional[str] = _path()
    split: Optional[str] = None
    max_items: Optional[int] = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class DataConfig:
    """Input data.

    Attributes:
        source: the labelled domain (synthetic images + depth; stage 1: synthetic images).
        target: the second domain: paintings (S2R stage 1) or unlabelled real images
            (DA-Monodepth). Unused by the supervised S2R stages.
        size: network input ``[H, W]`` in pixels (192 x 640 KITTI, 192 x 256 NYU).
        augment: training augmentation of the paper's transform.
        epoch_over: which stream defines an epoch (``source``; DA-Monodepth counts epochs over
            the 22,600 KITTI target images: ``target``).
        num_workers: DataLoader worker processes per stream and process.
        pin_memory: pin host memory (CUDA only).
    """

    source: DatasetConfig = field(default_factory=DatasetConfig)
    target: Optional[DatasetConfig] = None
    size: tuple[int, int] = (192, 640)
    augment: bool = True
    epoch_over: Literal["source", "target"] = "source"
    num_workers: int = 4
    pin_memory: bool = True


@dataclass
class ModelConfig:
    """The network, from :func:`s2rdepth.models.create_model`.

    Attributes:
        arch: ``s2r``, ``da_monodepth`` or ``structure_translator`` (must suit the method).
        preset: ``paper``, ``lite`` or ``tiny``.
        options: constructor overrides (S2R ``variant``/``max_depth``; DA-Monodepth
            ``use_semantic``/``use_domain_classifier``/``num_classes``).
        imagenet: ImageNet weights file for the DSA trunk (DRN-D-22, S2R) or the ResNet-18
            encoder (DA-Monodepth); user-provided, nothing is downloaded.
    """

    arch: str = "s2r"
    preset: str = "paper"
    options: dict[str, Any] = field(default_factory=dict)
    imagenet: Optional[str] = _path()


@dataclass
class OptimConfig:
    """Adam + StepLR (both papers; MUNIT for stage 1). One optimiser per method phase.

    Attributes:
        lr: learning rate (1e-4 S2R, MUNIT and monodepth2).
        betas: Adam betas ((0.9, 0.999); MUNIT (0.5, 0.999)).
        weight_decay: L2 penalty (reference code 0; S2R paper and MUNIT 1e-4).
        eps: Adam epsilon.
        step_size: StepLR period, in ``step_unit`` s (S2R: 10 epochs; MUNIT 100,000 steps).
        gamma: StepLR factor (0.5 S2R and MUNIT; monodepth2 0.1 every 15 epochs).
        step_unit: ``epoch`` or ``step``.
    """

    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    eps: float = 1e-8
    step_size: int = 10
    gamma: float = 0.5
    step_unit: Literal["epoch", "step"] = "epoch"


@dataclass
class LoopConfig:
    """The training loop (:mod:`s2rdepth.train.engine`).

    Attributes:
        epochs: epochs over the ``data.epoch_over`` stream (S2R code 120, paper 60).
        max_steps: stop after this many optimiser steps in total (None: ``epochs`` decide).
        batch_size: samples per step *per process* (S2R 32; with N processes the effective
            batch is N x this).
        device: ``auto`` (CUDA if available, else CPU), ``cpu``, ``cuda`` or ``cuda:K``.
        amp: mixed precision: ``none``, ``bf16`` or ``fp16`` (fp16 with a gradient scaler;
            CUDA only).
        channels_last: NHWC memory format on CUDA (ignored on CPU).
        grad_clip: clip the global gradient norm per optimiser to this value (0 = off).
        max_nonfinite: stop with an error after this many steps skipped for a non-finite loss.
        deterministic: deterministic algorithms (``torch.use_deterministic_algorithms``,
            cuDNN deterministic, no benchmark).
        threads: CPU threads of this process (None: torch's default).
        batchnorm: ``train`` (per-process statistics), ``eval`` (frozen running statistics;
            affine parameters still train) or ``sync`` (SyncBatchNorm across processes, CUDA).
        find_unused_parameters: DDP option (None: automatic, on for multi-phase methods).
    """

    epochs: Optional[int] = 120
    max_steps: Optional[int] = None
    batch_size: int = 32
    device: str = "auto"
    amp: Literal["none", "bf16", "fp16"] = "none"
    channels_last: bool = True
    grad_clip: float = 0.0
    max_nonfinite: int = 10
    deterministic: bool = False
    threads: Optional[int] = None
    batchnorm: Literal["train", "eval", "sync"] = "train"
    find_unused_parameters: Optional[bool] = None


@dataclass
class CheckpointConfig:
    """Training checkpoints (``OUT/checkpoints/step_XXXXXXXX.safetensors``).

    Attributes:
        every_steps: write one every N steps (0 = only at the end).
        keep_last: how many to keep (older ones are deleted after a new one is complete).
    """

    every_steps: int = 1000
    keep_last: int = 3


@dataclass
class LogConfig:
    """Progress bar, plain-text log (``OUT/train.log``) and TensorBoard (``OUT/tensorboard``).

    Attributes:
        every_steps: log scalars every N steps.
        image_every_steps: log image grids every N steps (0 = never).
        images: samples per image grid.
        tensorboard: write TensorBoard events (needs the ``tensorboard`` package).
        progress: show a progress bar per epoch (needs ``tqdm``).
    """

    every_steps: int = 50
    image_every_steps: int = 500
    images: int = 4
    tensorboard: bool = True
    progress: bool = True


# ============================================================================ methods
@dataclass
class MethodConfig:
    """Base of the method sections; ``name`` selects the recipe (:data:`METHOD_CONFIGS`)."""

    name: str = ""


@dataclass
class S2RTranslationMethodConfig(MethodConfig):
    """S2R-DepthNet stage 1: MUNIT translation synthetic ↔ painting with the shared STE encoder.

    Loss weights are MUNIT's (REFERENCE.md §1): ``gan`` 1, ``recon_x`` 10, ``recon_s`` 1,
    ``recon_c`` 1, ``cycle`` 0 (MUNIT's other configs use 10). Domains are the model's
    (``source`` images are the first domain, ``target`` images the second).
    """

    name: str = "s2r_translation"
    gan_weight: float = 1.0
    recon_x_weight: float = 10.0
    recon_s_weight: float = 1.0
    recon_c_weight: float = 1.0
    cycle_weight: float = 0.0


@dataclass
class S2RDepthMethodConfig(MethodConfig):
    """S2R-DepthNet stages 2 and 3, the Table-5 ablations and semi-supervised fine-tuning.

    Attributes:
        train_modules: submodules that train; every other one is frozen (stage 2:
            ``[ste_decoder, dp]``; stage 3: ``[dsa, dp]``; baselines: ``[dp]``).
        ste_checkpoint: stage-1 checkpoint (a ``structure_translator`` model or training
            checkpoint) whose ``ste_encoder`` is copied in (stage 2).
        init_checkpoint: previous-stage S2R checkpoint (model or training checkpoint) to start
            from (stage 3: the stage-2 run; fine-tuning: the stage-3 run).
        init_modules: submodules taken from ``init_checkpoint`` (empty: every submodule both
            have; stage 3 takes ``[ste_encoder, ste_decoder]`` so that DP starts fresh).
        reset_modules: submodules re-initialised after loading (e.g. ``[dp]``).
        allow_random_init: permit frozen modules that no checkpoint initialises (tests/demos).
        scale_weights: weights of the four DP scales (H/8, H/4, H/2, H) in the L1 sum.
        target_resize: ``resize_target`` (reference: targets bilinear, align_corners=True, to
            each scale) or ``upsample_prediction`` (predictions to full size; sparse targets).
        mask_invalid: compute the L1 over valid target pixels only (sparse depth). The
            reference trains on every pixel (invalid = network value -1).
        structure_weight: λ of the structure loss (stage 2: 1; 0 = off).
        structure_beta: β (1e-3).
        structure_mode: ``reference`` (official code) or ``paper`` (Eq. 1).
    """

    name: str = "s2r_depth"
    train_modules: tuple[str, ...] = ("ste_decoder", "dp")
    ste_checkpoint: Optional[str] = _path()
    init_checkpoint: Optional[str] = _path()
    init_modules: tuple[str, ...] = ()
    reset_modules: tuple[str, ...] = ()
    allow_random_init: bool = False
    scale_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    target_resize: Literal["resize_target", "upsample_prediction"] = "resize_target"
    mask_invalid: bool = False
    structure_weight: float = 1.0
    structure_beta: float = 1e-3
    structure_mode: Literal["reference", "paper"] = "reference"


@dataclass
class DAMonodepthMethodConfig(MethodConfig):
    """DA-Monodepth: ``λ_adv L_adv + λ_depth L_depth + λ_seg L_seg`` (Eq. 6).

    The paper gives no λ values; the defaults are documented choices: λ_depth = λ_seg = λ_adv = 1,
    λ1 = 0.15 (monodepth2's L1 share; SSIM 0.85), λ2 = 1e-3 (monodepth2 smoothness). Losses of
    modules the model lacks (``use_semantic`` / ``use_domain_classifier`` off) are not computed.

    Attributes:
        depth_weight, seg_weight, adv_weight: λ_depth, λ_seg, λ_adv.
        l1_weight: λ1 (SSIM gets 1 - λ1).
        smooth_weight: λ2 (divided by 2^scale).
        seg_reduction: ``sum`` over the scales (Eq. 5) or ``mean``.
        grl_schedule: ``dann`` (``2 / (1 + exp(-10 p)) - 1``, p = progress 0 → 1) or ``constant``.
        grl_max: the GRL coefficient is ``grl_max x schedule``.
    """

    name: str = "da_monodepth"
    depth_weight: float = 1.0
    seg_weight: float = 1.0
    adv_weight: float = 1.0
    l1_weight: float = 0.15
    smooth_weight: float = 1e-3
    seg_reduction: Literal["sum", "mean"] = "sum"
    grl_schedule: Literal["dann", "constant"] = "dann"
    grl_max: float = 1.0


#: method name → its configuration class.
METHOD_CONFIGS: dict[str, type[MethodConfig]] = {
    "s2r_translation": S2RTranslationMethodConfig,
    "s2r_depth": S2RDepthMethodConfig,
    "da_monodepth": DAMonodepthMethodConfig,
}


@dataclass
class TrainConfig:
    """A whole training run (see the module docstring for the YAML layout)."""

    method: MethodConfig = field(default_factory=S2RDepthMethodConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: LoopConfig = field(default_factory=LoopConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    log: LogConfig = field(default_factory=LogConfig)
    seed: int = 0
    out: Optional[str] = _path()
    description: str = ""


# ============================================================================ typed conversion
_MISSING = object()


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if tp is type(None):
        return "null"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_type_name(args[0])}"
        return f"a list of {len(args)} ({', '.join(_type_name(a) for a in args)})"
    if origin in (dict, Mapping):
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, key: str) -> Any:
    """Check/convert a YAML value to annotation ``tp``; raise :class:`ConfigError` naming ``key``."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(value, a, key)
            except ConfigError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        raise ConfigError(f"config key {key!r}: expected {_type_name(tp)}, got {value!r}")
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise ConfigError(f"config key {key!r}: expected {_type_name(tp)}, got {value!r}")
        return value
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"config key {key!r}: expected {_type_name(tp)}, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"config key {key!r}: expected {_type_name(tp)}, got {len(value)} "
                              f"values: {value!r}")
        return tuple(_convert(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"config key {key!r}: expected a mapping, got {value!r}")
        for k in value:
            if not isinstance(k, str):
                raise ConfigError(f"config key {key!r}: keys must be strings, got {k!r}")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"config key {key!r}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key {key!r}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"config key {key!r}: expected a number, got {value!r}")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-4" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"config key {key!r}: expected a number, got {value!r}")
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"config key {key!r}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"config key {key!r}: unsupported annotation {tp!r}")  # pragma: no cover


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(cls: type, raw: Any, prefix: str) -> Any:
    """Build dataclass ``cls`` from mapping ``raw``; unknown keys and bad values name ``prefix.key``."""
    where = prefix or "the configuration"
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"config key {where!r}: expected a mapping, got {raw!r}")
    if cls is MethodConfig or (isinstance(cls, type) and issubclass(cls, MethodConfig)):
        name = raw.get("name", _MISSING)
        key = f"{prefix}.name" if prefix else "name"
        if name is _MISSING:
            raise ConfigError(f"config key {key!r} is required: one of {', '.join(METHOD_CONFIGS)}")
        if name not in METHOD_CONFIGS:
            raise ConfigError(f"config key {key!r}: unknown method {name!r}; expected one of "
                              + ", ".join(METHOD_CONFIGS))
        cls = METHOD_CONFIGS[name]
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for k, v in raw.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if k not in names:
            close = difflib.get_close_matches(str(k), names, n=1)
            hint = f" (did you mean {(prefix + '.' if prefix else '') + close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown config key {key!r}{hint}; {where} has: {', '.join(names)}")
        kwargs[k] = _convert(v, hints[k], key)
    return cls(**kwargs)


def config_from_dict(raw: Mapping[str, Any]) -> TrainConfig:
    """Build and validate a :class:`TrainConfig` from a plain mapping (parsed YAML)."""
    raw = dict(raw)
    raw.pop("base", None)
    cfg = _build(TrainConfig, raw, "")
    validate(cfg)
    return cfg


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def config_to_dict(cfg: TrainConfig) -> dict[str, Any]:
    """Plain nested dict (lists for tuples) of ``cfg``: YAML/JSON-serialisable."""
    return _plain(cfg)


# ============================================================================ validation
def _require(cond: bool, key: str, msg: str) -> None:
    if not cond:
        raise ConfigError(f"config key {key!r}: {msg}")


_READERS = ("vkitti1", "vkitti2", "kitti_raw", "cityscapes", "paired_folder", "nyu_folder", "image_folder")
_ARCH_OF_METHOD = {"s2r_translation": "structure_translator", "s2r_depth": "s2r", "da_monodepth": "da_monodepth"}
_S2R_MODULES = ("ste_encoder", "ste_decoder", "dsa", "dp")


def _validate_dataset(ds: DatasetConfig, key: str) -> None:
    _require(ds.kind in _READERS, f"{key}.kind", f"expected one of {', '.join(_READERS)}, got {ds.kind!r}")
    _require(bool(ds.root), f"{key}.root", "a dataset root folder is required")
    _require(ds.max_items is None or ds.max_items >= 1, f"{key}.max_items", "must be >= 1 or null")


def validate(cfg: TrainConfig) -> None:
    """Value checks beyond types (ranges, choices that depend on each other). Files are checked
    later, when the run is prepared (:func:`s2rdepth.train.engine.prepare`)."""
    m = cfg.method
    want_arch = _ARCH_OF_METHOD[m.name]
    _require(cfg.model.arch == want_arch, "model.arch", f"method {m.name!r} trains {want_arch!r}, got {cfg.model.arch!r}")
    _require(cfg.model.preset in ("paper", "lite", "tiny"), "model.preset",
             f"expected one of 'paper', 'lite', 'tiny', got {cfg.model.preset!r}")
    _validate_dataset(cfg.data.source, "data.source")
    if cfg.data.target is not None:
        _validate_dataset(cfg.data.target, "data.target")
    h, w = cfg.data.size
    _require(h > 0 and w > 0, "data.size", f"must be positive, got {list(cfg.data.size)}")
    _require(cfg.data.num_workers >= 0, "data.num_workers", "must be >= 0")
    if cfg.data.epoch_over == "target":
        _require(cfg.data.target is not None, "data.epoch_over", "'target' needs data.target")
    if m.name == "s2r_translation":
        _require(cfg.data.target is not None, "data.target", "stage 1 needs the painting images (data.target)")
    if isinstance(m, S2RDepthMethodConfig):
        for k in ("train_modules", "init_modules", "reset_modules"):
            for mod in getattr(m, k):
                _require(mod in _S2R_MODULES, f"method.{k}", f"unknown module {mod!r}; expected "
                         + ", ".join(_S2R_MODULES))
        _require(len(m.train_modules) > 0, "method.train_modules", "at least one module must train")
        _require(len(m.scale_weights) == 4, "method.scale_weights", "needs 4 values (H/8, H/4, H/2, H)")
        _require(m.structure_weight >= 0, "method.structure_weight", "must be >= 0")
    if isinstance(m, DAMonodepthMethodConfig):
        _require(0.0 <= m.l1_weight <= 1.0, "method.l1_weight", "must be in [0, 1]")
    o = cfg.optim
    _require(o.lr > 0, "optim.lr", "must be > 0")
    _require(o.step_size >= 1, "optim.step_size", "must be >= 1")
    _require(0 < o.gamma <= 1, "optim.gamma", "must be in (0, 1]")
    t = cfg.train
    _require(t.epochs is not None or t.max_steps is not None, "train.epochs",
             "set train.epochs or train.max_steps")
    _require(t.epochs is None or t.epochs >= 1, "train.epochs", "must be >= 1")
    _require(t.max_steps is None or t.max_steps >= 1, "train.max_steps", "must be >= 1")
    _require(t.batch_size >= 1, "train.batch_size", "must be >= 1")
    _require(t.grad_clip >= 0, "train.grad_clip", "must be >= 0")
    _require(t.max_nonfinite >= 0, "train.max_nonfinite", "must be >= 0")
    _require(t.threads is None or t.threads >= 1, "train.threads", "must be >= 1 or null")
    _require(t.device == "auto" or t.device == "cpu" or t.device.startswith("cuda"), "train.device",
             f"expected auto, cpu, cuda or cuda:K, got {t.device!r}")
    _require(cfg.checkpoint.every_steps >= 0, "checkpoint.every_steps", "must be >= 0")
    _require(cfg.checkpoint.keep_last >= 1, "checkpoint.keep_last", "must be >= 1")
    _require(cfg.log.every_steps >= 1, "log.every_steps", "must be >= 1")
    _require(cfg.log.image_every_steps >= 0, "log.image_every_steps", "must be >= 0")
    _require(cfg.seed >= 0, "seed", "must be >= 0")


# ============================================================================ files, overrides
def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _merge(dict(out[k]), v)
        else:
            out[k] = v
    return out


#: The configurations shipped inside the package (the repository's ``configs/`` links here).
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


def resolve_config_path(path: str | os.PathLike[str]) -> Path:
    """``path`` when it is a file; otherwise a relative name of a shipped configuration
    (``s2r/vkitti_stage2.yaml``, ``configs/s2r/vkitti_stage2.yaml`` or without ``.yaml``),
    so the commands in the README work from any directory after ``pip install``.

    Raises:
        ConfigError: neither a file nor a shipped configuration.
    """
    p = Path(path)
    if p.is_file():
        return p
    parts = p.parts[1:] if p.parts[:1] == ("configs",) else p.parts
    if parts and not p.is_absolute():
        name = CONFIG_DIR.joinpath(*parts)
        for cand in (name, name.with_name(name.name + ".yaml")):
            if cand.is_file():
                return cand
    raise ConfigError(f"config file not found: {p} (neither a file nor one of the shipped configurations "
                      f"under {CONFIG_DIR}, e.g. s2r/vkitti_stage2.yaml)")


def read_yaml(path: str | os.PathLike[str], _seen: Optional[set[Path]] = None) -> dict[str, Any]:
    """Read a config file (or a shipped one, :func:`resolve_config_path`), following ``base:``
    (relative to the file) recursively."""
    path = resolve_config_path(path) if _seen is None else Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    seen = set() if _seen is None else _seen
    real = path.resolve()
    if real in seen:
        raise ConfigError(f"{path}: 'base' chain loops back to itself")
    seen.add(real)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, got {type(raw).__name__}")
    base = raw.pop("base", None)
    if base is not None:
        if not isinstance(base, str):
            raise ConfigError(f"{path}: 'base' must be a file name, got {base!r}")
        raw = _merge(read_yaml(path.parent / base, seen), raw)
    return raw


def parse_overrides(items: Sequence[str]) -> list[tuple[str, Any]]:
    """``["a.b=1", "c=[1,2]"]`` → ``[("a.b", 1), ("c", [1, 2])]`` (values parsed as YAML)."""
    out = []
    for item in items:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected key=value (e.g. train.batch_size=8)")
        key, text = item.split("=", 1)
        key = key.strip()
        if not key or any(not part for part in key.split(".")):
            raise ConfigError(f"override {item!r}: bad key {key!r}")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError as exc:
            raise ConfigError(f"override {item!r}: value is not valid YAML: {exc}") from None
        out.append((key, value))
    return out


def apply_overrides(raw: dict[str, Any], overrides: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """Set dotted keys in a raw (parsed YAML) mapping; unknown keys are caught when building."""
    raw = _merge({}, raw)
    for key, value in overrides:
        parts = key.split(".")
        node = raw
        for i, p in enumerate(parts[:-1]):
            nxt = node.get(p)
            if nxt is None:
                nxt = {}
            elif not isinstance(nxt, dict):
                raise ConfigError(f"override {key}: {'.'.join(parts[:i + 1])!r} is not a section")
            else:
                nxt = dict(nxt)
            node[p] = nxt
            node = nxt
        node[parts[-1]] = value
    return raw


def _absolutise(obj: Any, base: Path) -> None:
    """Make every path field (and KITTI split files) absolute, relative to ``base``."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if f.metadata.get("path") and isinstance(value, str) and value:
            setattr(obj, f.name, str((base / os.path.expanduser(value)).resolve()))
        elif dataclasses.is_dataclass(value):
            _absolutise(value, base)
    if isinstance(obj, DatasetConfig) and obj.kind == "kitti_raw" and obj.split:
        obj.split = str((base / os.path.expanduser(obj.split)).resolve())


def load_config(path: Optional[str | os.PathLike[str]] = None, overrides: Sequence[str] = (),
                raw: Optional[Mapping[str, Any]] = None, cwd: Optional[str | os.PathLike[str]] = None
                ) -> TrainConfig:
    """Load a YAML config (or a raw mapping), apply ``key=value`` overrides, check everything.

    Relative paths (data roots, checkpoints, ``out``) are relative to ``cwd`` (the current
    directory by default) and come back absolute.
    """
    data = read_yaml(path) if path is not None else dict(raw or {})
    data = apply_overrides(data, parse_overrides(overrides))
    cfg = config_from_dict(data)
    _absolutise(cfg, Path(cwd) if cwd is not None else Path.cwd())
    return cfg


def dump_config(cfg: TrainConfig, path: Optional[str | os.PathLike[str]] = None) -> str:
    """YAML text of the resolved ``cfg``; written atomically to ``path`` when given."""
    text = "# s2rdepth resolved training configuration (s2rdepth train THIS_FILE repeats the run)\n"
    text += yaml.safe_dump(config_to_dict(cfg), sort_keys=False, default_flow_style=None)
    if path is not None:
        from ..checkpoint import atomic_write

        atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return text
