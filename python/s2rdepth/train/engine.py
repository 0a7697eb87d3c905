"""The training engine: one small loop for every method.

:func:`train` prepares everything that can fail (device, output folder, model and previous-stage
checkpoints, datasets, resume state) *before* the first step, then runs :meth:`Trainer.train_step`
until ``train.epochs`` or ``train.max_steps`` is reached. The engine knows nothing about depth:
the :class:`~s2rdepth.train.methods.base.Method` turns a batch into losses.

Run folder ``OUT``::

    OUT/config.yaml                  resolved configuration (s2rdepth train OUT/config.yaml repeats the run)
    OUT/train.log                    plain-text log
    OUT/tensorboard/                 TensorBoard scalars and image grids
    OUT/checkpoints/step_*.safetensors   training checkpoints (last ``checkpoint.keep_last``)
    OUT/model.safetensors            the trained network (s2rdepth.checkpoint.load_model)
"""
from __future__ import annotations

import contextlib
import os
import random
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

import numpy as np
import torch
import torch.nn as nn

from .checkpoint import (capture_rng, checkpoint_path, latest_checkpoint, list_checkpoints,
                         load_training_checkpoint, prune_checkpoints, restore_rng,
                         save_training_checkpoint)
from .config import ConfigError, TrainConfig, config_to_dict, dump_config
from .data import SeededTransformDataset, Stream, build_reader, default_num_workers, describe_reader
from .distributed import DistContext
from .methods import Method, build_method
from .monitor import Monitor

__all__ = ["TrainResult", "Trainer", "TrainingError", "train"]


class TrainingError(RuntimeError):
    """Training had to stop (e.g. too many non-finite losses); the message says why."""


@dataclass
class TrainResult:
    """What a finished :func:`train` call did.

    Attributes:
        out: run folder; model: path of the exported model (``OUT/model.safetensors``);
        checkpoint: the last training checkpoint; step / epoch: counters at the end;
        losses: the last logged loss values; nonfinite_steps: steps skipped for a non-finite
        loss; steps_per_second: optimiser steps per second of this call (after the first step);
        resumed_from: the checkpoint this call resumed from (None for a fresh run);
        history: ``(step, {name: value})`` of every logged step of this call (process means).
    """

    out: Path
    model: Optional[Path]
    checkpoint: Optional[Path]
    step: int
    epoch: int
    losses: dict[str, float] = field(default_factory=dict)
    nonfinite_steps: int = 0
    steps_per_second: float = float("nan")
    resumed_from: Optional[Path] = None
    history: list[tuple[int, dict[str, float]]] = field(default_factory=list)


def train(cfg: TrainConfig, *, resume: bool = False, max_steps: Optional[int] = None,
          console: bool = True, on_step: Optional[Callable[[int, int], None]] = None) -> TrainResult:
    """Train ``cfg`` in this process (one rank of a ``torchrun`` job, or alone).

    Args:
        cfg: a loaded configuration (:func:`s2rdepth.train.load_config`).
        resume: continue from the newest checkpoint in ``OUT/checkpoints`` (a fresh run when
            there is none).
        max_steps: stop after this many steps in total (overrides ``train.max_steps``).
        console: print messages and progress bars to stderr.
        on_step: called as ``on_step(step, total_steps)`` after every optimiser step on the main
            process (e.g. to drive an outer progress bar).

    Raises:
        ConfigError: a bad configuration, data root or checkpoint — before any step.
        TrainingError: training stopped (too many non-finite losses).
    """
    if max_steps is not None:
        if max_steps < 1:
            raise ConfigError(f"--max-steps must be >= 1, got {max_steps}")
        cfg.train.max_steps = max_steps
    use_cuda = _wants_cuda(cfg)
    ctx = DistContext.from_env(use_cuda)
    trainer = None
    try:
        trainer = Trainer(cfg, ctx, resume=resume, console=console)
        return trainer.run(on_step=on_step if ctx.is_main else None)
    finally:
        if trainer is not None:
            trainer.close()
        ctx.close()


def _wants_cuda(cfg: TrainConfig) -> bool:
    dev = cfg.train.device
    if dev == "cpu":
        return False
    if dev.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"config key 'train.device': {dev!r} requested but CUDA is not available")
        return True
    return torch.cuda.is_available()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


class Trainer:
    """Holds the prepared run; :meth:`run` trains. Construct through :func:`train`."""

    def __init__(self, cfg: TrainConfig, ctx: DistContext, resume: bool = False, console: bool = True) -> None:
        self.cfg, self.ctx = cfg, ctx
        # process-wide switches, restored by close()
        self._restore = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
                         torch.is_deterministic_algorithms_warn_only_enabled(),
                         torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
        try:
            self._prepare(resume, console)
        except BaseException:
            self.close()
            raise

    def _prepare(self, resume: bool, console: bool) -> None:
        """Everything that can fail, before the first step (see :func:`train`)."""
        cfg, ctx = self.cfg, self.ctx
        t = cfg.train
        # ---------------------------------------------------------------- device and numerics
        use_cuda = _wants_cuda(cfg)
        if use_cuda:
            index = ctx.local_rank if (t.device in ("auto", "cuda")) else torch.device(t.device).index
            self.device = torch.device("cuda", index or 0)
            torch.cuda.set_device(self.device)
        else:
            self.device = torch.device("cpu")
        if t.amp == "fp16" and self.device.type != "cuda":
            raise ConfigError("config key 'train.amp': fp16 needs a CUDA device; use bf16 on the CPU or amp=none")
        if t.batchnorm == "sync" and ctx.distributed and self.device.type != "cuda":
            raise ConfigError("config key 'train.batchnorm': sync needs CUDA processes (SyncBatchNorm); "
                              "use 'eval' or 'train' on the CPU")
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(t.amp)
        self.channels_last = bool(t.channels_last and self.device.type == "cuda")
        if t.threads is not None:
            torch.set_num_threads(t.threads)
        if t.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        elif self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True

        # ---------------------------------------------------------------- output folder
        if not cfg.out:
            raise ConfigError("config key 'out': an output folder is required (--out DIR)")
        self.out = Path(cfg.out)
        self.ckpt_dir = self.out / "checkpoints"
        self.resume_from: Optional[Path] = None
        damaged: list[str] = []
        if resume:
            self.resume_from, damaged = latest_checkpoint(self.ckpt_dir)
        elif list_checkpoints(self.ckpt_dir):
            raise ConfigError(f"config key 'out': {self.out} already holds checkpoints of a run; pass "
                              "--resume to continue it, or --out DIR for a new run")
        notes: list[str] = [f"WARNING: skipping damaged checkpoint {p}" for p in damaged]

        # ---------------------------------------------------------------- method (model + init checkpoints)
        seed_everything(cfg.seed)  # identical initial weights in every process
        self.method: Method = build_method(cfg)
        self.phases = self.method.phases
        self.method.to(self.device)
        if self.channels_last:
            self.method.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        if t.batchnorm == "sync" and ctx.distributed:
            self.method = nn.SyncBatchNorm.convert_sync_batchnorm(self.method)  # type: ignore[assignment]

        # ---------------------------------------------------------------- data
        roles = self.method.roles()
        epoch_role = cfg.data.epoch_over
        workers = default_num_workers(cfg.data.num_workers)
        self.streams: dict[str, Stream] = {}
        for i, role in enumerate(("source", "target")):
            if role not in roles and role != epoch_role:
                continue
            ds_cfg = getattr(cfg.data, role)
            if ds_cfg is None:
                raise ConfigError(f"config key 'data.{role}' is required by method {cfg.method.name!r}")
            reader = build_reader(ds_cfg, f"data.{role}", roles.get(role, set()))
            dataset = SeededTransformDataset(
                reader, lambda g, role=role: self.method.make_transform(role, cfg.data.augment, g))
            stream = Stream(role, dataset, t.batch_size, cfg.seed, i, ctx.rank, ctx.world_size, workers,
                            cfg.data.pin_memory and self.device.type == "cuda")
            if len(stream) == 0:
                raise ConfigError(f"config key 'data.{role}': {len(reader)} samples over {ctx.world_size} "
                                  f"process(es) give no full batch of train.batch_size={t.batch_size}")
            self.streams[role] = stream
            notes.append(f"data.{role}: {describe_reader(reader)}, {len(stream)} batches of "
                          f"{t.batch_size} per epoch and process")
        self.read_roles = [r for r in ("source", "target") if r in roles]
        self.log: Monitor = Monitor(self.out, False, False, False, False)  # silent until the folder exists
        self.steps_per_epoch = len(self.streams[epoch_role])
        total = []
        if t.epochs is not None:
            total.append(t.epochs * self.steps_per_epoch)
        if t.max_steps is not None:
            total.append(t.max_steps)
        self.total_steps = min(total)

        # ---------------------------------------------------------------- optimisation
        o = cfg.optim
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedulers: dict[str, torch.optim.lr_scheduler.StepLR] = {}
        self.params: dict[str, list[nn.Parameter]] = {}
        for phase in self.phases:
            params = self.method.phase_parameters(phase)
            if not params:
                raise ConfigError(f"method {cfg.method.name!r}: phase {phase!r} has no trainable parameters")
            self.params[phase] = params
            self.optimizers[phase] = torch.optim.Adam(params, lr=o.lr, betas=o.betas, eps=o.eps,
                                                      weight_decay=o.weight_decay)
            self.schedulers[phase] = torch.optim.lr_scheduler.StepLR(self.optimizers[phase], o.step_size, o.gamma)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype is torch.float16)

        # ---------------------------------------------------------------- counters / resume
        self.step = 0
        self.epoch = 0
        self.step_in_epoch = 0
        self.nonfinite = 0
        self.last_losses: dict[str, float] = {}
        self.history: list[tuple[int, dict[str, float]]] = []
        self.last_checkpoint: Optional[Path] = None
        # ---------------------------------------------------------------- output folder and log
        # (only now: a bad config, data root or checkpoint has raised before anything is written)
        if ctx.is_main:
            self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        ctx.barrier()
        self.log = Monitor(self.out, ctx.is_main, cfg.log.tensorboard, cfg.log.progress, console)
        for note in notes:
            self.log.info(note)
        rng_state = None
        if self.resume_from is not None:
            rng_state = self._load_checkpoint(self.resume_from)
        elif resume:
            self.log.info(f"--resume: no checkpoint in {self.ckpt_dir}; starting a new run")
        # training randomness differs per process; a resumed run continues its saved streams
        seed_everything(cfg.seed + 7919 * ctx.rank + 1)
        if rng_state is not None:
            restore_rng(rng_state)

        # ---------------------------------------------------------------- DDP
        self.module: nn.Module = self.method
        if ctx.distributed:
            from torch.nn.parallel import DistributedDataParallel as DDP

            find_unused = t.find_unused_parameters
            if find_unused is None:
                find_unused = len(self.phases) > 1
            self.module = DDP(self.method, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                              find_unused_parameters=find_unused)
        if ctx.is_main:
            dump_config(cfg, self.out / "config.yaml")
        self.log.info(f"{'resuming ' + str(self.resume_from) if self.resume_from else 'new run'} in {self.out}: "
                      f"method {cfg.method.name}, {self.method.summary()}, device {self.device}"
                      f"{f' x {ctx.world_size} processes ({ctx.backend})' if ctx.distributed else ''}, "
                      f"amp {t.amp}, {self.total_steps} steps ({self.steps_per_epoch} per epoch)")

    # ==================================================================== the loop
    def run(self, on_step: Optional[Callable[[int, int], None]] = None) -> TrainResult:
        """Train until ``total_steps``; final checkpoint and model export; returns the result.
        ``on_step(step, total_steps)`` is called after every step."""
        self._set_train_mode()
        t_first: Optional[float] = None
        first_step = self.step
        window: dict[str, list[torch.Tensor]] = {}  # losses since the last log line
        t_window, n_window = time.perf_counter(), 0
        try:
            while self.step < self.total_steps:
                self.log.start_epoch(self.epoch, self.step_in_epoch, self.steps_per_epoch)
                while self.step < self.total_steps:
                    losses = self.train_step()
                    if t_first is None:
                        t_first = time.perf_counter()
                    self.step += 1
                    self.step_in_epoch += 1
                    n_window += 1
                    self.log.advance()
                    if on_step is not None:
                        on_step(self.step, self.total_steps)
                    for k, v in (losses or {}).items():
                        window.setdefault(k, []).append(v)
                    if self.cfg.optim.step_unit == "step":
                        self._scheduler_step()
                    epoch_of_step = self.epoch
                    end_of_epoch = self.step_in_epoch == self.steps_per_epoch
                    if end_of_epoch:
                        self.epoch += 1
                        self.step_in_epoch = 0
                        if self.cfg.optim.step_unit == "epoch":
                            self._scheduler_step()
                    if self.step % self.cfg.log.every_steps == 0 or self.step == self.total_steps:
                        rate = n_window / max(time.perf_counter() - t_window, 1e-9)
                        self._log_window(window, rate, epoch_of_step)
                        window, t_window, n_window = {}, time.perf_counter(), 0
                    if self.method.capture_images and self.method.images:
                        self.log.log_images(self.step, self.method.images)
                        self.method.images = {}
                    every = self.cfg.checkpoint.every_steps
                    if every and self.step % every == 0 and self.step < self.total_steps:
                        self.save_checkpoint(final=False)
                    if end_of_epoch:
                        break
                self.log.end_epoch()
                if self.step_in_epoch == 0 and self.last_losses:
                    self.log.info(f"epoch {self.epoch - 1} done (step {self.step}): "
                                  + self.log.describe(self.last_losses))
        finally:
            for s in self.streams.values():
                s.close()
        rate = float("nan")
        if t_first is not None and self.step - first_step > 1:
            rate = (self.step - first_step - 1) / max(time.perf_counter() - t_first, 1e-9)
        ckpt = self.save_checkpoint(final=True)
        model_path = self.export_model()
        self.log.info(f"done: step {self.step}, epoch {self.epoch}, {self.nonfinite} non-finite steps skipped, "
                      f"{rate:.3g} steps/s; model {model_path}")
        return TrainResult(self.out, model_path, ckpt, self.step, self.epoch, dict(self.last_losses),
                           self.nonfinite, rate, self.resume_from, self.history)

    def train_step(self) -> Optional[dict[str, torch.Tensor]]:
        """One optimiser step of every phase on the next batch; None when skipped (non-finite)."""
        batch = {role: self._to_device(self.streams[role].next()) for role in self.read_roles}
        self.method.progress = self.step / max(self.total_steps, 1)
        every = self.cfg.log.image_every_steps
        self.method.capture_images = bool(every) and (self.step + 1) % every == 0 and self.ctx.is_main
        logged: dict[str, torch.Tensor] = {}
        stepped = False
        try:
            for phase in self.phases:
                for opt in self.optimizers.values():
                    opt.zero_grad(set_to_none=True)
                with self._autocast():
                    losses = self.module(batch, phase)
                loss = losses["loss"]
                if not self.ctx.all_true(bool(torch.isfinite(loss.detach()).all()), self.device):
                    self._skip_nonfinite(phase, losses)
                    return None
                self.scaler.scale(loss).backward()
                opt = self.optimizers[phase]
                if self.cfg.train.grad_clip > 0:
                    self.scaler.unscale_(opt)
                    norm = torch.nn.utils.clip_grad_norm_(self.params[phase], self.cfg.train.grad_clip)
                    logged[f"grad_norm_{phase}"] = norm.detach()
                self.scaler.step(opt)
                stepped = True
                prefix = f"{phase}/" if len(self.phases) > 1 else ""
                for k, v in losses.items():
                    logged[prefix + k] = v.detach().float()
        finally:
            if stepped:
                self.scaler.update()
        return logged

    # ==================================================================== pieces of a step
    @contextlib.contextmanager
    def _autocast(self) -> Iterator[None]:
        if self.amp_dtype is None:
            yield
        else:
            with torch.autocast(self.device.type, dtype=self.amp_dtype):
                yield

    def _to_device(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for k, v in batch.items():
            if isinstance(v, torch.Tensor):
                v = v.to(self.device, non_blocking=True)
                if self.channels_last and v.dim() == 4 and v.is_floating_point():
                    v = v.contiguous(memory_format=torch.channels_last)
            out[k] = v
        return out

    def _skip_nonfinite(self, phase: str, losses: Mapping[str, torch.Tensor]) -> None:
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=True)
        self.nonfinite += 1
        bad = ", ".join(f"{k}={float(v.detach()):g}" for k, v in losses.items() if not torch.isfinite(v).all())
        self.log.warning(f"step {self.step + 1}: non-finite loss in phase {phase!r} ({bad}); step skipped "
                         f"({self.nonfinite} of at most {self.cfg.train.max_nonfinite})")
        if self.nonfinite > self.cfg.train.max_nonfinite:
            raise TrainingError(
                f"stopping at step {self.step + 1}: {self.nonfinite} steps had a non-finite loss (more than "
                f"train.max_nonfinite={self.cfg.train.max_nonfinite}); last: {bad}. Lower optim.lr, set "
                f"train.grad_clip, try train.amp=none, or check the data; resume from "
                f"{self.last_checkpoint or 'the last checkpoint'} with --resume")

    def _scheduler_step(self) -> None:
        with warnings.catch_warnings():  # the schedule follows steps/epochs even when every step was skipped
            warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)`")
            for s in self.schedulers.values():
                s.step()

    def _set_train_mode(self) -> None:
        self.method.train()
        if self.cfg.train.batchnorm == "eval":
            for m in self.method.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()

    def _log_window(self, window: Mapping[str, list[torch.Tensor]], rate: float, epoch: int) -> None:
        if not window:
            return
        keys = sorted(window)
        means = torch.stack([torch.stack(window[k]).float().mean() for k in keys])
        means = self.ctx.mean(means.to(self.device)).cpu().tolist()
        values = dict(zip(keys, means))
        self.last_losses = values
        self.history.append((self.step, values))
        lrs = {p: self.optimizers[p].param_groups[0]["lr"] for p in self.phases}
        eta = (self.total_steps - self.step) / rate if rate > 0 else float("inf")
        self.log.log_step(self.step, self.total_steps, epoch, values, lrs, rate, eta)

    # ==================================================================== checkpoints
    def _state(self) -> dict[str, Any]:
        rng = self.ctx.gather(capture_rng())
        return {
            "optimizers": {p: o.state_dict() for p, o in self.optimizers.items()},
            "schedulers": {p: s.state_dict() for p, s in self.schedulers.items()},
            "scaler": self.scaler.state_dict(),
            "streams": {r: s.state_dict() for r, s in self.streams.items()},
            "counters": {"step": self.step, "epoch": self.epoch, "step_in_epoch": self.step_in_epoch,
                         "nonfinite": self.nonfinite},
            "rng": {str(r): s for r, s in enumerate(rng)},
        }

    def save_checkpoint(self, final: bool) -> Optional[Path]:
        """Write ``OUT/checkpoints/step_<step>.safetensors`` (rank 0; every rank takes part in
        gathering RNG states) and delete the oldest beyond ``keep_last``. A failed periodic write
        is logged and training goes on (older checkpoints stay intact); a failed final one raises."""
        state = self._state()
        path = checkpoint_path(self.ckpt_dir, self.step)
        if self.ctx.is_main:
            meta = {"step": self.step, "epoch": self.epoch, "world_size": self.ctx.world_size,
                    "method": self.cfg.method.name, "arch": self.cfg.model.arch,
                    "config": config_to_dict(self.cfg)}
            try:
                save_training_checkpoint(path, self.method.model, state, meta)
            except OSError as exc:
                if final:
                    raise
                self.log.warning(f"could not write checkpoint {path}: {exc}; older checkpoints are intact, "
                                 "training continues")
                return None
            prune_checkpoints(self.ckpt_dir, self.cfg.checkpoint.keep_last)
            self.log.info(f"checkpoint {path}")
        self.ctx.barrier()
        self.last_checkpoint = path
        return path

    def _load_checkpoint(self, path: Path) -> Optional[dict[str, Any]]:
        """Load weights and training state; returns this process's RNG state (restored last)."""
        try:
            model_state, state, meta = load_training_checkpoint(path)
        except (ValueError, OSError) as exc:
            raise ConfigError(f"--resume: cannot read {path}: {exc}") from None
        if meta.get("method") != self.cfg.method.name:
            raise ConfigError(f"--resume: {path} was written by method {meta.get('method')!r}, the config "
                              f"trains {self.cfg.method.name!r}")
        saved_cfg = meta.get("config") or {}
        now = config_to_dict(self.cfg)
        diffs = _diff(saved_cfg, now)
        ignorable = {"train.max_steps", "train.epochs", "log", "checkpoint", "data.num_workers", "out"}
        changed = [d for d in diffs if not any(d == k or d.startswith(k + ".") for k in ignorable)]
        if changed:
            self.log.warning(f"--resume: the configuration differs from the checkpoint's in {', '.join(changed)}")
        from ..models._checkpoint import CheckpointMismatchError, check_state_dict

        try:
            check_state_dict({k: tuple(v.shape) for k, v in self.method.model.state_dict().items()},
                             model_state, str(path))
        except CheckpointMismatchError as exc:
            raise ConfigError(f"--resume: {exc}") from None
        self.method.model.load_state_dict(model_state)
        for p, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][p])
        for p, s in self.schedulers.items():
            s.load_state_dict(state["schedulers"][p])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        for r, s in self.streams.items():
            if r in state["streams"]:
                s.load_state_dict(state["streams"][r])
        c = state["counters"]
        self.step, self.epoch = int(c["step"]), int(c["epoch"])
        self.step_in_epoch, self.nonfinite = int(c["step_in_epoch"]), int(c["nonfinite"])
        self.last_checkpoint = path
        rngs = state.get("rng", {})
        if int(meta.get("world_size", 1)) != self.ctx.world_size:
            self.log.warning(f"--resume: {path} was written by {meta.get('world_size')} process(es), this run "
                             f"has {self.ctx.world_size}: the data order resumes only approximately and random streams "
                             "are reseeded")
            return None
        return rngs.get(str(self.ctx.rank))

    def export_model(self) -> Optional[Path]:
        """``OUT/model.safetensors`` via :func:`s2rdepth.checkpoint.save_model` (rank 0)."""
        from ..checkpoint import model_config, save_model
        from ..models.presets import PRESETS

        path = self.out / "model.safetensors"
        if self.ctx.is_main:
            m = self.cfg.model
            # models without a config dataclass (the stage-1 translator) are rebuilt from the
            # preset's keyword arguments plus the config's options
            config = model_config(self.method.model) or {**PRESETS[(m.arch, m.preset)].kwargs, **m.options}
            extra = {"method": self.cfg.method.name, "step": self.step, "epoch": self.epoch,
                     "config": str(self.out / "config.yaml"),
                     # the input size evaluation, visualisation and export resize images to
                     "network_size": [int(v) for v in self.cfg.data.size], **self.method.export_extra()}
            save_model(path, self.method.model, arch=m.arch, config=config, extra=extra)
        self.ctx.barrier()
        return path

    def close(self) -> None:
        """Stop data workers, close the logs, restore the process-wide torch switches."""
        for s in getattr(self, "streams", {}).values():
            s.close()
        if hasattr(self, "log"):
            self.log.close()
        threads, det, warn_only, cudnn_det, cudnn_bench = self._restore
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det, warn_only=warn_only)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn_det, cudnn_bench


def _diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Dotted keys where two plain config dicts differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k), b.get(k), f"{prefix}.{k}" if prefix else k)
        return out
    return [] if a == b else [prefix]
