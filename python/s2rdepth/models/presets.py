"""Named model configurations and their size/compute.

=========================  ==========================================================================
``create_model(arch, p)``  build architecture ``arch`` (``"s2r"``, ``"da_monodepth"``,
                           ``"structure_translator"``) in preset ``p`` (``"paper"``, ``"lite"``,
                           ``"tiny"``), with keyword overrides (e.g. ``variant="ste"``)
``list_presets()``         the registry as ``(arch, preset, description)``
``model_complexity()``     parameters and GFLOPs of a model at an input size (meta device, no compute)
``complexity_table()``     that for every preset at 192 x 640
=========================  ==========================================================================

* ``paper`` — the published configuration (required for official checkpoints / ImageNet weights).
* ``lite`` — a smaller real-time variant for embedded deployment (S2R: width 0.25, 2 STE residual
  blocks, 1 inception block; DA-Monodepth: width 0.5).
* ``tiny`` — for tests and the CPU demo (width 0.125, fewest blocks; S2R inception dilations
  (1, 3) so that 64 x 128 inputs work). A 1 x 3 x 64 x 128 forward + backward takes well under a
  second on one CPU core.

GFLOPs count 2 x the multiply-accumulates of convolutions (transposed too) and linear layers
(``torch.utils.flop_counter``); normalisation, activations and resizing are not counted.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from .blocks import count_parameters, to_standard_ops
from .da_monodepth import DAMonodepth
from .munit import StructureTranslator
from .s2r import S2RDepthNet

__all__ = ["ARCHITECTURES", "PRESETS", "Preset", "complexity_table", "create_model",
           "format_complexity_table", "list_presets", "model_complexity"]


@dataclass(frozen=True)
class Preset:
    """A named configuration: keyword arguments of the architecture's constructor."""

    arch: str
    name: str
    description: str
    kwargs: dict[str, Any] = field(default_factory=dict)


#: Architecture name → constructor.
ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "s2r": S2RDepthNet,
    "da_monodepth": DAMonodepth,
    "structure_translator": StructureTranslator,
}

_S2R_TINY = dict(width=0.125, ste_res_blocks=1, dp_inception_blocks=1, dp_dilations=(1, 3))
_S2R_LITE = dict(width=0.25, ste_res_blocks=2, dp_inception_blocks=1)

#: (arch, preset) → :class:`Preset`.
PRESETS: dict[tuple[str, str], Preset] = {(p.arch, p.name): p for p in [
    Preset("s2r", "paper", "S2R-DepthNet as published (87.44 M parameters)", {}),
    Preset("s2r", "lite", "real-time S2R-DepthNet: width 0.25, 2 STE res blocks, 1 inception block",
           _S2R_LITE),
    Preset("s2r", "tiny", "test/demo S2R-DepthNet: width 0.125, 1 res block, 1 inception block",
           _S2R_TINY),
    Preset("da_monodepth", "paper", "DA-Monodepth full model (ResNet-18, semantic decoder, "
           "domain classifier)", {}),
    Preset("da_monodepth", "lite", "DA-Monodepth at width 0.5", dict(width=0.5)),
    Preset("da_monodepth", "tiny", "test/demo DA-Monodepth at width 0.125", dict(width=0.125)),
    Preset("structure_translator", "paper", "stage-1 MUNIT networks (shared STE encoder)", {}),
    Preset("structure_translator", "lite", "stage-1 networks for the S2R lite preset",
           dict(width=0.25, res_blocks=2)),
    Preset("structure_translator", "tiny", "stage-1 networks for the S2R tiny preset",
           dict(width=0.125, res_blocks=1)),
]}


def list_presets(arch: Optional[str] = None) -> list[tuple[str, str, str]]:
    """``(arch, preset, description)`` for every registered preset (of ``arch`` if given)."""
    return [(a, n, p.description) for (a, n), p in PRESETS.items() if arch is None or a == arch]


def create_model(arch: str, preset: str = "paper", **overrides: Any) -> nn.Module:
    """Build ``arch`` in ``preset`` with keyword ``overrides`` (e.g. the S2R ``variant``, the
    DA-Monodepth ``use_semantic``/``use_domain_classifier``/``num_classes``)."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {', '.join(ARCHITECTURES)}")
    if (arch, preset) not in PRESETS:
        names = [n for a, n in PRESETS if a == arch]
        raise ValueError(f"unknown preset {preset!r} for {arch}; expected one of {', '.join(names)}")
    kwargs = {**PRESETS[(arch, preset)].kwargs, **overrides}
    return ARCHITECTURES[arch](**kwargs)


def _forward_for_flops(model: nn.Module, x: torch.Tensor, inference_only: bool) -> None:
    if isinstance(model, DAMonodepth) and inference_only:
        model.decode_depth(model.encode(x))
    elif isinstance(model, StructureTranslator):
        d0, d1 = model.domains[0], model.domains[1]
        code, _ = model.encode(x, d0)
        fake = model.decode(code, model.random_style(x.shape[0], x.device, x.dtype), d1)
        model.discriminate(fake, d1)
    else:
        model(x)


def model_complexity(model: nn.Module, input_size: tuple[int, int] = (192, 640),
                     inference_only: bool = True) -> dict[str, float]:
    """Parameters and compute of ``model`` for a 1 x 3 x H x W input.

    The model is copied to the meta device (no memory, no arithmetic) and run under
    :class:`torch.utils.flop_counter.FlopCounterMode`. ``inference_only`` counts only the
    inference path of DA-Monodepth (encoder + depth decoder); for the structure translator one
    translation plus one discriminator pass is counted.

    Returns ``params``, ``params_inference``, ``gflops`` (2 x GMACs) and ``gmacs``.
    """
    meta = copy.deepcopy(model).to("meta")
    to_standard_ops(meta).eval()
    x = torch.empty(1, 3, *input_size, device="meta")
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        _forward_for_flops(meta, x, inference_only)
    flops = float(counter.get_total_flops())
    params = count_parameters(model)
    if isinstance(model, DAMonodepth):
        params_inf = model.parameter_counts()["inference"]
    else:
        params_inf = params
    return {"params": params, "params_inference": params_inf, "gflops": flops / 1e9,
            "gmacs": flops / 2e9}


def complexity_table(input_size: tuple[int, int] = (192, 640)) -> list[dict[str, Any]]:
    """:func:`model_complexity` of every preset (built on the meta device)."""
    rows = []
    for (arch, name), preset in PRESETS.items():
        with torch.device("meta"):
            model = create_model(arch, name)
        row = {"arch": arch, "preset": name, **model_complexity(model, input_size)}
        rows.append(row)
    return rows


def format_complexity_table(rows: Optional[list[dict[str, Any]]] = None,
                            input_size: tuple[int, int] = (192, 640)) -> str:
    """Markdown table of :func:`complexity_table`."""
    rows = complexity_table(input_size) if rows is None else rows
    h, w = input_size
    lines = [f"| model | preset | params | params (inference) | GFLOPs @ {h}x{w} | GMACs |",
             "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['arch']} | {r['preset']} | {r['params'] / 1e6:.2f} M | "
                     f"{r['params_inference'] / 1e6:.2f} M | {r['gflops']:.1f} | {r['gmacs']:.1f} |")
    return "\n".join(lines)
