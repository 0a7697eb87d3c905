"""Domain-adversarial loss of DA-Monodepth (Eq. 1, through a gradient reversal layer)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["domain_accuracy", "domain_adversarial_loss"]


def domain_adversarial_loss(source_logits: torch.Tensor, target_logits: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the domain classifier: source patches labelled 1, target 0.

    ``0.5 · (BCE(D(z_s), 1) + BCE(D(z_t), 0))`` with logits (N x 1 x h x w patch maps, mean over
    patches). The classifier minimises it; the gradient reversal layer in front of the
    classifier makes the encoder maximise it (scaled by the GRL coefficient).
    """
    s = source_logits.float()
    t = target_logits.float()
    return 0.5 * (F.binary_cross_entropy_with_logits(s, torch.ones_like(s))
                  + F.binary_cross_entropy_with_logits(t, torch.zeros_like(t)))


@torch.no_grad()
def domain_accuracy(source_logits: torch.Tensor, target_logits: torch.Tensor) -> torch.Tensor:
    """Fraction of patches the classifier assigns to the right domain (0.5 = chance)."""
    correct = (source_logits > 0).float().sum() + (target_logits <= 0).float().sum()
    return correct / (source_logits.numel() + target_logits.numel())
