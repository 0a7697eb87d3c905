"""The depth-gradient-weighted structure regulariser of S2R-DepthNet (stage 2, Eq. 1)."""
from __future__ import annotations

import torch

from . import _checks, reference
from ._backend import use_compiled

_OP = "structure_loss"
MODES = ("reference", "paper")


def structure_loss(structure: torch.Tensor, depth: torch.Tensor, beta: float = 1e-3,
                   mode: str = "reference") -> torch.Tensor:
    """Penalise structure responses where the depth is smooth.

    Args:
        structure: the structure map M_s, N x Cs x H x W (usually Cs = 1, values in [0, 1]).
        depth: ground-truth depth D, N x Cd x H x W in any unit (the reference code uses network
            range [-1, 1]); a target, so it receives no gradient.
        beta: edge sensitivity (paper and code: 1e-3).
        mode: ``"reference"`` = official code, ``mean(|M_s| * exp(-beta * mean_c(|dx D| + |dy D|)))``;
            ``"paper"`` = Eq. 1's ``|dx D + dy D|`` inside the exponential, also mean-reduced.

    Returns:
        A 0-dim tensor (dtype of ``structure``), differentiable with respect to ``structure``.
    """
    _checks.tensor(_OP, "structure", structure, dim=4)
    _checks.tensor(_OP, "depth", depth, dim=4)
    if structure.shape[0] != depth.shape[0] or structure.shape[2:] != depth.shape[2:]:
        raise ValueError(f"{_OP}: structure {tuple(structure.shape)} and depth {tuple(depth.shape)} "
                         "must agree in N, H and W")
    _checks.same_device(_OP, structure=structure, depth=depth)
    beta = _checks.number(_OP, "beta", beta, nonnegative=True)
    mode = _checks.choice(_OP, "mode", mode, MODES)
    depth = depth.detach()
    if not use_compiled(_OP, structure):
        return reference.structure_loss(structure, depth, beta, mode)
    if depth.dtype != structure.dtype:
        depth = depth.to(structure.dtype)
    return torch.ops.s2rdepth.structure_loss(structure.contiguous(), depth.contiguous(), beta, mode)
