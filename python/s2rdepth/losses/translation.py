"""Image-translation (MUNIT) reconstruction loss; the LSGAN losses live in :mod:`s2rdepth.models.munit`."""
from __future__ import annotations

import torch

__all__ = ["recon_l1"]


def recon_l1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference (MUNIT's ``recon_criterion``), in float32."""
    return (x.float() - y.float()).abs().mean()
