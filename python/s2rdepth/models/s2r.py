"""S2R-DepthNet (Chen, Wang, Chen, Zeng, CVPR 2021): depth from a depth-specific structure map.

``M_s = ste_decoder(ste_encoder(x))``, ``M_a = dsa(x)``, ``depth = dp(M_s * M_a)``.

* :class:`STEEncoder` — Structure Extraction encoder E_s (MUNIT content encoder with
  LeakyReLU and instance norms; 5,385,856 parameters). Trained in stage 1
  (:mod:`s2rdepth.models.munit`), then frozen.
* :class:`STEDecoder` — D_s: two up-projections and a sigmoid head → ``M_s`` in [0, 1]
  (2,234,049 parameters).
* :class:`DSAModule` — Depth-specific Attention: DRN-D-22 trunk + three up-projections and a
  sigmoid head → ``M_a`` in [0, 1] (25,259,761 parameters).
* :class:`~s2rdepth.models.dp.DepthPredictionNet` — DP: U-Net → four depth maps in [-1, 1]
  (54,558,404 parameters).

Units: the image input is RGB in [-1, 1] (``(v / 255 - 0.5) / 0.5``); depth outputs are in the
network range [-1, 1]; :func:`depth_net_to_metres` maps them to metres with ``max_depth`` 80
(outdoor, KITTI/vKITTI) or 8 (indoor, NYU/SUNCG).

Ablations of the paper's Table 5 are selected with ``variant`` (see :data:`S2R_VARIANTS`).
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, List, NamedTuple, Optional, Union

import torch
import torch.nn as nn

from ._validate import check_image
from .blocks import ConvBlock, ConvHead, ResidualBlock, SobelEdges, UpProjection, count_parameters, \
    init_weights, scale_channels
from .dp import DepthPredictionNet
from .drn import DRN, drn_d_22

__all__ = [
    "DSAModule", "S2RConfig", "S2RDepthNet", "S2ROutput", "S2R_VARIANTS", "STEDecoder",
    "STEEncoder", "AttentionDecoder", "depth_net_to_metres", "metres_to_depth_net",
]

#: Ablation variants of Table 5 of the paper: name → what the DP module sees.
S2R_VARIANTS: dict[str, str] = {
    "baseline": "DP only, on the RGB image (Table 5 'Baseline')",
    "ste": "DP on the structure map M_s ('+STE')",
    "ste_dsa_mul": "DP on M_s * M_a ('+STE + DSA (x)', the paper's model; default)",
    "ste_dsa_add": "DP on M_s + M_a ('+STE + DSA (Add)')",
    "ste_dsa_concat": "DP on the 2-channel concatenation [M_s, M_a] ('+STE + DSA (Concat)')",
    "edge": "DP on the Sobel edge magnitude of the image ('Edge + Baseline')",
}


def depth_net_to_metres(depth_net: torch.Tensor, max_depth: float = 80.0) -> torch.Tensor:
    """Network range [-1, 1] → metres: ``(y + 1) / 2 * max_depth`` (80 outdoor, 8 indoor)."""
    return (depth_net + 1.0) * 0.5 * max_depth


def metres_to_depth_net(depth_m: torch.Tensor, max_depth: float = 80.0) -> torch.Tensor:
    """Metres → network range: ``2 * clamp(d, 0, max_depth) / max_depth - 1``."""
    return depth_m.clamp(0.0, max_depth) / max_depth * 2.0 - 1.0


class S2ROutput(NamedTuple):
    """Outputs of :class:`S2RDepthNet` (all N x C x H x W, network range unless noted).

    * ``depth``: N x 1 x H x W, the finest prediction, in [-1, 1];
    * ``depth_scales``: the four predictions at H/8, H/4, H/2, H (coarse → fine), in [-1, 1];
    * ``structure``: ``M_s`` (N x 1 x H x W in [0, 1]); the Sobel edge map for ``variant="edge"``;
      ``None`` for the baseline;
    * ``attention``: ``M_a`` (N x 1 x H x W in [0, 1]); ``None`` for variants without DSA.
    """

    depth: torch.Tensor
    depth_scales: List[torch.Tensor]
    structure: Optional[torch.Tensor]
    attention: Optional[torch.Tensor]


@dataclass(frozen=True)
class S2RConfig:
    """Configuration of :class:`S2RDepthNet`; the defaults are the paper's model.

    Attributes:
        variant: one of :data:`S2R_VARIANTS`.
        width: channel multiplier of every module (1.0 = paper; official checkpoints need 1.0).
        ste_res_blocks: residual blocks of the STE encoder (4).
        dp_inception_blocks: inception blocks in the DP centre (3).
        dp_dilations: dilations of the inception branches ((1, 3, 5)); the input must be at least
            ``16 * (max + 1)`` pixels high and wide (96 for the paper).
        max_depth: metres that the network value +1 stands for (80 outdoor, 8 indoor).
        freeze_ste: keep the STE encoder frozen (eval mode, no gradients, output detached), as in
            stages 2 and 3 of the paper. ``False`` makes it trainable (e.g. end-to-end
            experiments); stage 1 trains it inside :class:`~s2rdepth.models.StructureTranslator`.
    """

    variant: str = "ste_dsa_mul"
    width: float = 1.0
    ste_res_blocks: int = 4
    dp_inception_blocks: int = 3
    dp_dilations: tuple[int, ...] = (1, 3, 5)
    max_depth: float = 80.0
    freeze_ste: bool = True

    def __post_init__(self) -> None:
        if self.variant not in S2R_VARIANTS:
            raise ValueError(f"S2RConfig: unknown variant {self.variant!r}; expected one of "
                             + ", ".join(S2R_VARIANTS))
        if not self.max_depth > 0:
            raise ValueError(f"S2RConfig: max_depth must be > 0, got {self.max_depth}")
        object.__setattr__(self, "dp_dilations", tuple(int(d) for d in self.dp_dilations))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class STEEncoder(nn.Module):
    """Structure Extraction encoder E_s: image N x 3 x H x W in [-1, 1] → structure code
    N x 4c x H/4 x W/4 (c = 64 * width; 256 channels in the paper), no final activation.

    7x7 conv (reflect pad 3) → IN → LeakyReLU(0.2); two 4x4 stride-2 convs (reflect pad 1) → IN →
    LeakyReLU; ``res_blocks`` residual blocks. Instance norms have no affine and no running stats
    (:func:`s2rdepth.ops.adain`); every conv has a bias.
    """

    def __init__(self, width: float = 1.0, res_blocks: int = 4, activation: str = "lrelu") -> None:
        super().__init__()
        d = scale_channels(64, width)
        self.out_channels = 4 * d
        self.stem = ConvBlock(3, d, 7, 1, 3, norm="in", activation=activation)
        self.down1 = ConvBlock(d, 2 * d, 4, 2, 1, norm="in", activation=activation)
        self.down2 = ConvBlock(2 * d, 4 * d, 4, 2, 1, norm="in", activation=activation)
        self.res_blocks = nn.Sequential(*[ResidualBlock(4 * d, activation) for _ in range(res_blocks)])
        init_weights(self, "kaiming")

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.res_blocks(self.down2(self.down1(self.stem(image))))


class STEDecoder(nn.Module):
    """Structure decoder D_s: structure code C x h x w → ``M_s`` N x 1 x 4h x 4w in [0, 1].

    Up-projection C → C/2 to 2x, C/2 → C/4 to 4x, reflect pad → 3x3 conv → sigmoid.
    """

    def __init__(self, in_channels: int = 256) -> None:
        super().__init__()
        self.up1 = UpProjection(in_channels, in_channels // 2)
        self.up2 = UpProjection(in_channels // 2, in_channels // 4)
        self.head = ConvHead(in_channels // 4, 1, 3, "sigmoid")

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        h, w = code.shape[2], code.shape[3]
        x = self.up1(code, [2 * h, 2 * w])
        x = self.up2(x, [4 * h, 4 * w])
        return self.head(x)


class AttentionDecoder(nn.Module):
    """DSA decoder: three up-projections C → C/2 → C/4 → C/8 to the sizes of DRN ``layer3``
    (H/4), ``layer2`` (H/2) and the input, then reflect pad → 3x3 conv → sigmoid."""

    def __init__(self, in_channels: int = 512) -> None:
        super().__init__()
        self.up1 = UpProjection(in_channels, in_channels // 2)
        self.up2 = UpProjection(in_channels // 2, in_channels // 4)
        self.up3 = UpProjection(in_channels // 4, in_channels // 8)
        self.head = ConvHead(in_channels // 8, 1, 3, "sigmoid")

    def forward(self, features: List[torch.Tensor], size: List[int]) -> torch.Tensor:
        x = features[8]
        x = self.up1(x, [features[3].shape[2], features[3].shape[3]])
        x = self.up2(x, [features[2].shape[2], features[2].shape[3]])
        x = self.up3(x, size)
        return self.head(x)


class DSAModule(nn.Module):
    """Depth-specific Attention: image N x 3 x H x W in [-1, 1] → ``M_a`` N x 1 x H x W in (0, 1).

    ``encoder`` is a DRN-D-22 trunk (DRN key layout; :meth:`load_imagenet` loads ImageNet
    DRN-D-22 weights as the reference code does), ``decoder`` an :class:`AttentionDecoder`.
    """

    def __init__(self, width: float = 1.0) -> None:
        super().__init__()
        self.encoder: DRN = drn_d_22(width)
        self.decoder = AttentionDecoder(self.encoder.out_channels)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        feats = self.encoder(image)
        return self.decoder(feats, [image.shape[2], image.shape[3]])

    def load_imagenet(self, source: Union[str, os.PathLike[str], Mapping[str, torch.Tensor]]) -> "DSAModule":
        """Initialise the DRN trunk from ImageNet DRN-D-22 weights (user-given file)."""
        self.encoder.load_imagenet(source)
        return self


_FROZEN_ATTRS = {"ste_encoder": "ste_encoder_frozen", "ste_decoder": "ste_decoder_frozen",
                 "dsa": "dsa_frozen", "dp": "dp_frozen"}


class S2RDepthNet(nn.Module):
    """S2R-DepthNet: image in [-1, 1] → depth in [-1, 1] via the depth-specific structure map.

    ``S2RDepthNet()`` is the paper's model (87,438,070 parameters: ``ste_encoder`` 5,385,856,
    ``ste_decoder`` 2,234,049, ``dsa`` 25,259,761, ``dp`` 54,558,404). Pass an
    :class:`S2RConfig` and/or its fields as keywords (``S2RDepthNet(variant="ste", width=0.5)``),
    or use the presets of :func:`s2rdepth.models.create_model`.

    Submodules absent from a variant are ``None`` (e.g. ``dsa`` for ``"ste"``). The STE encoder
    is frozen by default (``freeze_ste``): its parameters do not require gradients, it stays in
    eval mode under ``model.train()`` and its output is detached. :meth:`set_frozen` freezes or
    unfreezes any of the four modules the same way (stage 3 of the paper freezes
    ``ste_decoder`` too and re-initialises ``dp`` with ``model.dp.reset_parameters()``).

    ``forward(image)`` takes N x 3 x H x W floats in [-1, 1], H and W divisible by 16 and at
    least 96 (paper configuration), and returns :class:`S2ROutput`.
    """

    def __init__(self, config: Optional[S2RConfig] = None, **overrides: Any) -> None:
        super().__init__()
        cfg = config if config is not None else S2RConfig()
        if overrides:
            cfg = dataclasses.replace(cfg, **overrides)
        self.config = cfg
        self.variant = cfg.variant
        self.max_depth = float(cfg.max_depth)
        self.fusion = {"ste_dsa_add": "add", "ste_dsa_concat": "concat"}.get(cfg.variant, "mul")
        uses_ste = cfg.variant.startswith("ste")
        uses_dsa = cfg.variant.startswith("ste_dsa")
        self.ste_encoder: Optional[STEEncoder] = None
        self.ste_decoder: Optional[STEDecoder] = None
        self.dsa: Optional[DSAModule] = None
        self.edges: Optional[SobelEdges] = None
        if uses_ste:
            self.ste_encoder = STEEncoder(cfg.width, cfg.ste_res_blocks)
            self.ste_decoder = STEDecoder(self.ste_encoder.out_channels)
        if uses_dsa:
            self.dsa = DSAModule(cfg.width)
        if cfg.variant == "edge":
            self.edges = SobelEdges()
        dp_in = {"baseline": 3, "ste_dsa_concat": 2}.get(cfg.variant, 1)
        self.dp = DepthPredictionNet(dp_in, cfg.width, cfg.dp_inception_blocks, cfg.dp_dilations)
        self.min_size = self.dp.min_size
        self.ste_encoder_frozen = False
        self.ste_decoder_frozen = False
        self.dsa_frozen = False
        self.dp_frozen = False
        if uses_ste and cfg.freeze_ste:
            self.set_frozen("ste_encoder", True)

    # ----------------------------------------------------------------------------------------
    def set_frozen(self, name: str, frozen: bool = True) -> "S2RDepthNet":
        """Freeze (or unfreeze) ``"ste_encoder"``, ``"ste_decoder"``, ``"dsa"`` or ``"dp"``:
        ``requires_grad`` off, the module kept in eval mode (BN statistics fixed) and, for the
        STE, its output detached. Returns ``self``."""
        if name not in _FROZEN_ATTRS:
            raise ValueError(f"set_frozen: unknown module {name!r}; expected one of "
                             + ", ".join(_FROZEN_ATTRS))
        module = getattr(self, name)
        if module is None:
            raise ValueError(f"set_frozen: variant {self.variant!r} has no {name}")
        setattr(self, _FROZEN_ATTRS[name], bool(frozen))
        for p in module.parameters():
            p.requires_grad_(not frozen)
        module.train(self.training and not frozen)
        return self

    def frozen_modules(self) -> list[str]:
        """Names of the frozen submodules."""
        return [n for n, a in _FROZEN_ATTRS.items() if getattr(self, a)]

    def train(self, mode: bool = True) -> "S2RDepthNet":
        super().train(mode)
        for name in self.frozen_modules():
            module = getattr(self, name)
            if module is not None:
                module.eval()
        return self

    def parameter_counts(self) -> dict[str, int]:
        """Parameters per submodule (``None`` modules omitted) and ``"total"``."""
        counts = {n: count_parameters(m) for n in ("ste_encoder", "ste_decoder", "dsa", "dp")
                  if (m := getattr(self, n)) is not None}
        counts["total"] = count_parameters(self)
        return counts

    def to_metres(self, depth_net: torch.Tensor) -> torch.Tensor:
        """Network range → metres with this model's ``max_depth``."""
        return depth_net_to_metres(depth_net, self.max_depth)

    # ----------------------------------------------------------------------------------------
    def _dp_input(self, image: torch.Tensor, structure: Optional[torch.Tensor],
                  attention: Optional[torch.Tensor]) -> torch.Tensor:
        if structure is None:
            return image
        if attention is None:
            return structure
        if self.fusion == "add":
            return structure + attention
        if self.fusion == "concat":
            return torch.cat([structure, attention], 1)
        return structure * attention

    def forward(self, image: torch.Tensor) -> S2ROutput:
        check_image(image, "S2RDepthNet", 3, 16, self.min_size, "[-1, 1]")
        structure: Optional[torch.Tensor] = None
        attention: Optional[torch.Tensor] = None
        encoder = self.ste_encoder
        decoder = self.ste_decoder
        if encoder is not None and decoder is not None:
            code = encoder(image)
            if self.ste_encoder_frozen:
                code = code.detach()
            structure = decoder(code)
            if self.ste_encoder_frozen and self.ste_decoder_frozen:
                structure = structure.detach()
        edges = self.edges
        if edges is not None:
            structure = edges(image)
        dsa = self.dsa
        if dsa is not None:
            attention = dsa(image)
        depth_scales = self.dp(self._dp_input(image, structure, attention))
        return S2ROutput(depth_scales[-1], depth_scales, structure, attention)
