"""Training data: readers from the config, per-sample seeded augmentation, resumable streams.

Reproducibility design (what makes ``--resume`` and multi-process runs exact):

* The visiting order of epoch ``e`` is the permutation that :class:`DistributedSampler` draws
  from ``seed + e`` (the same in every process); process ``r`` of ``N`` takes every N-th index.
  One process with batch ``N·B`` therefore sees exactly the union of what N processes with
  batch ``B`` see, step by step.
* Augmentation draws from a generator re-seeded for every sample from ``(seed, stream, epoch,
  index)`` (:class:`SeededTransformDataset`), so it does not depend on worker processes, on the
  number of processes or on where a run was interrupted.
* A :class:`Stream` counts the batches it has handed out in its current epoch; a resumed stream
  skips exactly those samples. The stream state is part of every training checkpoint.
* DataLoaders get their own ``torch.Generator``, so creating an iterator never consumes the
  global RNG (whose state is checkpointed for the model's own randomness).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset

from .config import ConfigError, DatasetConfig

__all__ = ["ResumableDistributedSampler", "SeededTransformDataset", "Stream", "build_reader",
           "sample_seed"]

#: reader options that switch off depth and labels (image-only roles), per reader kind.
IMAGE_ONLY_OPTIONS: dict[str, dict[str, Any]] = {
    "vkitti1": {"load_depth": False, "load_labels": False},
    "vkitti2": {"load_depth": False, "load_labels": False},
    "cityscapes": {"load_depth": False, "load_labels": False},
    "kitti_raw": {"gt": None},
}
#: reader options that switch off labels (depth-only roles).
NO_LABEL_OPTIONS: dict[str, dict[str, Any]] = {
    "vkitti1": {"load_labels": False},
    "vkitti2": {"load_labels": False},
    "cityscapes": {"load_labels": False},
}


def default_reader_options(kind: str, needs: set[str]) -> dict[str, Any]:
    """Reader options for a role that needs ``needs`` ⊆ {"depth", "labels"}."""
    if not needs:
        return dict(IMAGE_ONLY_OPTIONS.get(kind, {}))
    if "labels" not in needs:
        return dict(NO_LABEL_OPTIONS.get(kind, {}))
    return {}


def build_reader(ds: DatasetConfig, key: str, needs: set[str] = frozenset({"depth"})) -> Dataset:
    """Construct the reader of ``ds`` (no transform). Problems raise :class:`ConfigError` naming
    ``key`` (e.g. ``data.source``) and the path.

    ``needs`` says what the role uses ({"depth", "labels"} subsets); reader options that would
    load unused modalities are switched off unless ``ds.options`` sets them.
    """
    from .. import data as D

    root = Path(ds.root or "")
    if not ds.root or not root.exists():
        raise ConfigError(f"config key '{key}.root': data root {str(root)!r} does not exist")
    if root.is_dir() and not any(root.iterdir()):
        raise ConfigError(f"config key '{key}.root': data root {str(root)!r} is empty")
    if ds.depth_root is not None and not Path(ds.depth_root).exists():
        raise ConfigError(f"config key '{key}.depth_root': {ds.depth_root!r} does not exist")
    opts = {**default_reader_options(ds.kind, set(needs)), **ds.options}
    try:
        if ds.kind == "vkitti1":
            reader = D.VKitti1Dataset(root, **opts)
        elif ds.kind == "vkitti2":
            reader = D.VKitti2Dataset(root, **opts)
        elif ds.kind == "kitti_raw":
            if ds.split is not None and not Path(ds.split).is_file():
                raise ConfigError(f"config key '{key}.split': split file {ds.split!r} does not exist")
            reader = D.KittiRawDataset(root, split=ds.split, **opts)
        elif ds.kind == "cityscapes":
            reader = D.CityscapesDataset(root, split=ds.split or "train", **opts)
        elif ds.kind == "paired_folder":
            reader = D.PairedFolderDataset(root, ds.depth_root or root, **opts)
        elif ds.kind == "nyu_folder":
            reader = D.NyuFolderDataset(root, **opts)
        elif ds.kind == "image_folder":
            reader = D.ImageFolderDataset(root, **opts)
        else:  # validated earlier
            raise ConfigError(f"config key '{key}.kind': unknown reader {ds.kind!r}")
    except ConfigError:
        raise
    except TypeError as exc:
        raise ConfigError(f"config key '{key}.options': {ds.kind} reader rejected the options "
                          f"{sorted(opts)}: {exc}") from None
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"config key '{key}': cannot read the {ds.kind} dataset at {str(root)!r}: "
                          f"{exc}") from None
    if len(reader) == 0:
        raise ConfigError(f"config key '{key}.root': no samples found under {str(root)!r}")
    if ds.max_items is not None and ds.max_items < len(reader):
        reader = Subset(reader, range(ds.max_items))
    return reader


def sample_seed(seed: int, stream: int, epoch: int, index: int) -> int:
    """A 63-bit seed for the augmentation of one sample (independent of process and worker)."""
    return int(np.random.SeedSequence([seed, stream, epoch, index]).generate_state(2, np.uint64)[0] >> np.uint64(1))


class SeededTransformDataset(Dataset):
    """Reader + transform; ``dataset[(index, seed)]`` re-seeds the transform's generator first.

    Args:
        reader: a dataset returning sample dicts (:mod:`s2rdepth.data.base`).
        make_transform: ``generator -> transform`` (e.g. ``lambda g: S2RTransform(generator=g)``);
            the transform must draw all its randomness from that generator.
    """

    def __init__(self, reader: Dataset, make_transform: Callable[[torch.Generator], Callable]) -> None:
        self.reader = reader
        self.generator = torch.Generator()
        self.transform = make_transform(self.generator)

    def __len__(self) -> int:
        return len(self.reader)  # type: ignore[arg-type]

    def __getitem__(self, key: Any) -> dict[str, Any]:
        index, seed = key if isinstance(key, tuple) else (key, 0)
        self.generator.manual_seed(int(seed))
        sample = self.reader[int(index)]
        sample = self.transform(sample)
        # keep only collatable entries
        return {k: v for k, v in sample.items() if v is not None}


class ResumableDistributedSampler(DistributedSampler):
    """:class:`DistributedSampler` that yields ``(index, sample_seed)`` and can skip the first
    ``skip`` indices of its (per-process) epoch order, to resume mid-epoch."""

    def __init__(self, dataset: Dataset, num_replicas: int, rank: int, seed: int, stream: int) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed,
                         drop_last=False)
        self.stream = stream
        self.skip = 0

    def __iter__(self) -> Iterator[tuple[int, int]]:  # type: ignore[override]
        indices = list(super().__iter__())[self.skip:]
        for i in indices:
            yield i, sample_seed(self.seed, self.stream, self.epoch, i)


class Stream:
    """An endless, resumable sequence of batches from one dataset.

    ``next()`` returns the next collated batch, starting a new epoch (new permutation) when one
    ends; ``state_dict()`` is ``{"epoch", "consumed"}`` (batches handed out this epoch).

    Args:
        name: role name (``source``/``target``), for messages.
        dataset: a :class:`SeededTransformDataset`.
        batch_size: per process.
        seed: run seed; ``stream_id`` separates the permutations of different streams.
        rank, world_size: this process and the number of processes.
        num_workers, pin_memory: DataLoader options (workers persist across epochs).
    """

    def __init__(self, name: str, dataset: SeededTransformDataset, batch_size: int, seed: int,
                 stream_id: int, rank: int = 0, world_size: int = 1, num_workers: int = 0,
                 pin_memory: bool = False) -> None:
        self.name = name
        self.batch_size = batch_size
        self.sampler = ResumableDistributedSampler(dataset, world_size, rank, seed + 1000 * stream_id, stream_id)
        gen = torch.Generator()
        gen.manual_seed(seed + stream_id)
        self.loader = DataLoader(dataset, batch_size=batch_size, sampler=self.sampler, drop_last=True,
                                 num_workers=num_workers, persistent_workers=num_workers > 0,
                                 pin_memory=pin_memory, generator=gen)
        self.num_samples = len(dataset)
        self.epoch = 0
        self.consumed = 0
        self._it: Optional[Iterator] = None

    def __len__(self) -> int:
        """Batches per epoch (per process)."""
        return len(self.loader)

    def next(self) -> dict[str, Any]:
        if len(self.loader) == 0:
            raise RuntimeError(f"stream {self.name!r} yields no full batch")
        while True:
            if self._it is None:
                self.sampler.set_epoch(self.epoch)
                self.sampler.skip = self.consumed * self.batch_size
                self._it = iter(self.loader)
            try:
                batch = next(self._it)
            except StopIteration:
                self.epoch += 1
                self.consumed = 0
                self._it = None
                continue
            self.consumed += 1
            return batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "consumed": self.consumed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch = int(state["epoch"])
        self.consumed = int(state["consumed"])
        self._it = None

    def close(self) -> None:
        """Drop the iterator and stop the (persistent) worker processes."""
        self._it = None
        it = getattr(self.loader, "_iterator", None)  # persistent workers live in the loader
        if it is not None and hasattr(it, "_shutdown_workers"):
            it._shutdown_workers()
        if hasattr(self.loader, "_iterator"):
            self.loader._iterator = None


def describe_reader(reader: Dataset) -> str:
    """``"VKitti1Dataset (120 samples)"``."""
    inner = reader.dataset if isinstance(reader, Subset) else reader
    return f"{type(inner).__name__} ({len(reader)} samples)"  # type: ignore[arg-type]


def default_num_workers(requested: int) -> int:
    """``requested`` capped at the CPUs available to this process."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        cpus = os.cpu_count() or 1
    return max(0, min(requested, cpus))
