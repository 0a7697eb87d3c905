"""Process-group handling for ``torchrun`` (one machine or many).

``torchrun --nproc_per_node=N [--nnodes=M ...] -m s2rdepth train CONFIG`` sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous variables; :meth:`DistContext.from_env` then
initialises the default process group with NCCL (CUDA) or gloo (CPU). Without those variables
everything is a no-op single process.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["DistContext"]


@dataclass
class DistContext:
    """Rank, world size and the collectives the engine needs (no-ops for one process)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False
    backend: str = ""

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @classmethod
    def from_env(cls, use_cuda: bool) -> "DistContext":
        """Join the process group described by torchrun's environment (if any).

        Args:
            use_cuda: the run trains on CUDA (→ NCCL backend, ``cuda:LOCAL_RANK``), else gloo.
        """
        if dist.is_available() and dist.is_initialized():
            return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)),
                       False, str(dist.get_backend()))
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        rank = int(os.environ["RANK"])
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        backend = "nccl" if use_cuda else "gloo"
        if use_cuda:
            torch.cuda.set_device(local_rank)
        kwargs: dict[str, Any] = {}
        if use_cuda:
            kwargs["device_id"] = torch.device("cuda", local_rank)
        dist.init_process_group(backend=backend, **kwargs)
        return cls(rank, world, local_rank, True, backend)

    # ------------------------------------------------------------------ collectives
    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def all_true(self, flag: bool, device: torch.device) -> bool:
        """True when ``flag`` is true on every process."""
        if not self.distributed:
            return flag
        t = torch.tensor([1 if flag else 0], device=device, dtype=torch.int32)
        dist.all_reduce(t, op=dist.ReduceOp.MIN)
        return bool(t.item())

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """Mean of a tensor over processes (in place on a copy)."""
        if not self.distributed:
            return values
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
        return values / self.world_size

    def gather(self, obj: Any) -> list[Any]:
        """Every process's ``obj`` (a picklable object), on every process."""
        if not self.distributed:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
