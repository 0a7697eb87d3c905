"""Gradient reversal layer and the DANN coefficient schedule."""
from __future__ import annotations

import math

import torch

from . import _checks, reference
from ._backend import use_compiled

_OP = "grad_reverse"


def grad_reverse(x: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
    """Identity in the forward pass (returns a view of ``x``, no copy); in the backward pass the
    incoming gradient is multiplied by ``-coeff``.

    Put it between a feature extractor and a domain classifier: the classifier learns to tell the
    domains apart while the features learn to make that impossible. ``coeff`` >= 0 usually
    follows :func:`dann_coefficient`.
    """
    _checks.tensor(_OP, "x", x)
    coeff = _checks.number(_OP, "coeff", coeff)
    if not use_compiled(_OP, x):
        return reference.grad_reverse(x, coeff)
    return torch.ops.s2rdepth.grad_reverse(x, coeff)


def dann_coefficient(progress: float) -> float:
    """DANN schedule ``2 / (1 + exp(-10 p)) - 1``: 0 at the start (p = 0), about 1 at the end (p = 1).

    ``progress`` is the fraction of training done, clamped to [0, 1].
    """
    p = _checks.number("dann_coefficient", "progress", progress)
    p = min(max(p, 0.0), 1.0)
    return 2.0 / (1.0 + math.exp(-10.0 * p)) - 1.0
