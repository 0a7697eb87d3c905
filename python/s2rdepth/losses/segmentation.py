"""Multi-scale semantic segmentation loss (DA-Monodepth Eq. 5)."""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

__all__ = ["multiscale_cross_entropy"]


def multiscale_cross_entropy(logit_scales: Sequence[torch.Tensor], labels: torch.Tensor,
                             ignore_index: int = 255, reduction: str = "sum") -> torch.Tensor:
    """Cross-entropy of every scale's logits, upsampled bilinearly to the label size.

    Args:
        logit_scales: N x K x h_s x w_s class logits per scale.
        labels: N x H x W int64 class ids; ``ignore_index`` (255) pixels do not count.
        reduction: ``"sum"`` over scales (Eq. 5 accumulates over scales) or ``"mean"``.

    Returns:
        0-dim float32 tensor: per-scale mean over non-ignored pixels, reduced over scales. A
        batch without any labelled pixel gives 0 (still connected to the graph).
    """
    if reduction not in ("sum", "mean"):
        raise ValueError(f"multiscale_cross_entropy: reduction must be 'sum' or 'mean', got {reduction!r}")
    if labels.dim() == 4:
        labels = labels[:, 0]
    valid = (labels != ignore_index).sum().clamp_min(1).float()
    total = torch.zeros((), device=labels.device)
    for logits in logit_scales:
        logits = logits.float()
        if tuple(logits.shape[-2:]) != tuple(labels.shape[-2:]):
            logits = F.interpolate(logits, size=labels.shape[-2:], mode="bilinear", align_corners=False)
        ce = F.cross_entropy(logits, labels, ignore_index=ignore_index, reduction="sum") / valid
        total = total + ce
    return total / len(logit_scales) if reduction == "mean" else total
