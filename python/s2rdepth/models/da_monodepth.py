"""DA-Monodepth (Lu, Yu, Oh): domain-adaptive monocular depth with a semantic decoder.

* ``encoder`` — ResNet-18 (:class:`~s2rdepth.models.resnet.ResNetEncoder`), input a [0, 1]
  image normalised inside by ``(x - 0.45) / 0.225``.
* ``shared_block`` — the first decoder block (level 4: 512 → 256 at H/16), shared by the depth
  and the semantic decoder (the paper's weight sharing).
* ``depth_decoder`` — monodepth2-style levels 3..0 with disparity heads (3x3 conv + sigmoid) at
  H/8, H/4, H/2, H.
* ``semantic_decoder`` — the same shape with K-class logit heads at the same four scales.
* ``domain_classifier`` — PatchGAN-style classifier on the 512 x H/32 x W/32 bottleneck behind a
  gradient reversal layer (:func:`s2rdepth.ops.grad_reverse`); its convolutions have stride 1, so
  the patch map keeps the bottleneck's size (6 x 20 at 192 x 640, 3 x 10 at 96 x 320).

Ablations of the paper's Tables 3-4: ``use_semantic`` and ``use_domain_classifier`` (both on =
the full model; both off = the depth-only baseline). Only ``encoder``, ``shared_block`` and
``depth_decoder`` run at inference.

Units: disparities are the sigmoid outputs in (0, 1); :func:`disp_to_depth` maps them to metres
(monodepth2: ``min_depth`` 0.1, ``max_depth`` 100).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, List, NamedTuple, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from ._validate import check_image
from .blocks import ConvHead, GradientReversal, count_parameters, make_activation, scale_channels
from .resnet import ResNetEncoder

__all__ = [
    "DAMonodepth", "DAMonodepthConfig", "DAOutput", "DecoderBlock", "MultiScaleDecoder",
    "PatchDomainClassifier", "depth_to_disp", "disp_to_depth",
]


def disp_to_depth(disp: torch.Tensor, min_depth: float = 0.1,
                  max_depth: float = 100.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Sigmoid disparity → ``(scaled_disp, depth_m)`` (monodepth2):
    ``scaled = 1/max + (1/min - 1/max) * disp``, ``depth = 1 / scaled``, in [min, max] metres."""
    min_disp = 1.0 / max_depth
    max_disp = 1.0 / min_depth
    scaled = min_disp + (max_disp - min_disp) * disp
    return scaled, 1.0 / scaled


def depth_to_disp(depth_m: torch.Tensor, min_depth: float = 0.1,
                  max_depth: float = 100.0) -> torch.Tensor:
    """Inverse of :func:`disp_to_depth`: metres (clamped to [min, max]) → sigmoid-range disparity
    in [0, 1], e.g. to build disparity targets from source-domain depth."""
    min_disp = 1.0 / max_depth
    max_disp = 1.0 / min_depth
    scaled = 1.0 / depth_m.clamp(min_depth, max_depth)
    return (scaled - min_disp) / (max_disp - min_disp)


class DAOutput(NamedTuple):
    """Outputs of :class:`DAMonodepth`.

    * ``disp``: N x 1 x H x W sigmoid disparity in (0, 1), the finest scale;
    * ``disp_scales``: disparities at H/8, H/4, H/2, H (coarse → fine);
    * ``semantic``: N x K x H x W class logits (finest) or ``None`` without the semantic decoder;
    * ``semantic_scales``: logits at H/8, H/4, H/2, H, or ``None``;
    * ``domain_logits``: N x 1 x H/32 x W/32 patch logits of the domain classifier (apply a
      binary cross-entropy with logits against the domain label) or ``None``.
    """

    disp: torch.Tensor
    disp_scales: List[torch.Tensor]
    semantic: Optional[torch.Tensor]
    semantic_scales: Optional[List[torch.Tensor]]
    domain_logits: Optional[torch.Tensor]


@dataclass(frozen=True)
class DAMonodepthConfig:
    """Configuration of :class:`DAMonodepth` (defaults: the paper's full model).

    Attributes:
        num_classes: semantic classes K (19 Cityscapes train ids; vKITTI 2 has 15).
        use_semantic: build the semantic decoder (ablation "+ Seg.").
        use_domain_classifier: build the domain classifier (ablation "+ Target Img.").
        width: channel multiplier of encoder, decoders and classifier (ImageNet weights need 1).
        decoder_channels: monodepth2 decoder channels of levels 0..4.
        upsample_mode: ``"nearest"`` (monodepth2, default) or ``"bilinear"`` (the paper's text).
        domain_channels: base channels of the domain classifier (64, PatchGAN's ``ndf``).
        domain_layers: hidden layers of the domain classifier after the first (3, PatchGAN).
        domain_norm: ``"batch"`` (PatchGAN) or ``"none"``.
        min_depth, max_depth: range of :func:`disp_to_depth` (0.1, 100 m).
    """

    num_classes: int = 19
    use_semantic: bool = True
    use_domain_classifier: bool = True
    width: float = 1.0
    decoder_channels: tuple[int, ...] = (16, 32, 64, 128, 256)
    upsample_mode: str = "nearest"
    domain_channels: int = 64
    domain_layers: int = 3
    domain_norm: str = "batch"
    min_depth: float = 0.1
    max_depth: float = 100.0

    def __post_init__(self) -> None:
        if self.num_classes < 1:
            raise ValueError(f"DAMonodepthConfig: num_classes must be >= 1, got {self.num_classes}")
        if len(self.decoder_channels) != 5:
            raise ValueError("DAMonodepthConfig: decoder_channels needs 5 entries (levels 0..4)")
        if self.upsample_mode not in ("nearest", "bilinear"):
            raise ValueError(f"DAMonodepthConfig: upsample_mode must be 'nearest' or 'bilinear', "
                             f"got {self.upsample_mode!r}")
        if self.domain_norm not in ("batch", "none"):
            raise ValueError(f"DAMonodepthConfig: domain_norm must be 'batch' or 'none', "
                             f"got {self.domain_norm!r}")
        if not 0 < self.min_depth < self.max_depth:
            raise ValueError("DAMonodepthConfig: need 0 < min_depth < max_depth")
        object.__setattr__(self, "decoder_channels", tuple(int(c) for c in self.decoder_channels))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ConvELU(nn.Module):
    """Reflect pad 1 → 3x3 conv (bias) → ELU (monodepth2's ``ConvBlock``)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, 1, bias=True)
        self.act = nn.ELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(F.pad(x, (1, 1, 1, 1), mode="reflect")))


class DecoderBlock(nn.Module):
    """One decoder level: ConvELU → x2 upsample → concat the encoder skip (if any) → ConvELU."""

    def __init__(self, in_channels: int, out_channels: int, skip_channels: int,
                 upsample_mode: str = "nearest") -> None:
        super().__init__()
        self.upsample_mode = upsample_mode
        self.conv_in = ConvELU(in_channels, out_channels)
        self.conv_out = ConvELU(out_channels + skip_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: Optional[torch.Tensor]) -> torch.Tensor:
        x = self.conv_in(x)
        if self.upsample_mode == "nearest":
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        else:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        if skip is not None:
            x = torch.cat([x, skip], 1)
        return self.conv_out(x)


class MultiScaleDecoder(nn.Module):
    """Decoder levels 3..0 after the shared level-4 block, with a head per level.

    ``forward(x, features)`` takes the shared block's output (H/16) and the encoder features;
    returns head outputs at H/8, H/4, H/2, H (coarse → fine). Heads: reflect pad → 3x3 conv →
    ``activation`` (``"sigmoid"`` for disparity, ``"none"`` for class logits).
    """

    def __init__(self, enc_channels: List[int], dec_channels: List[int], out_channels: int,
                 activation: str = "sigmoid", upsample_mode: str = "nearest") -> None:
        super().__init__()
        self.blocks = nn.ModuleList()
        self.heads = nn.ModuleList()
        for level in (3, 2, 1, 0):
            skip = enc_channels[level - 1] if level > 0 else 0
            self.blocks.append(DecoderBlock(dec_channels[level + 1], dec_channels[level], skip,
                                            upsample_mode))
            self.heads.append(ConvHead(dec_channels[level], out_channels, 3, activation))

    def forward(self, x: torch.Tensor, features: List[torch.Tensor]) -> List[torch.Tensor]:
        outs: List[torch.Tensor] = []
        for i, (block, head) in enumerate(zip(self.blocks, self.heads)):
            level = 3 - i
            skip: Optional[torch.Tensor] = None
            if level > 0:
                skip = features[level - 1]
            x = block(x, skip)
            outs.append(head(x))
        return outs


class PatchDomainClassifier(nn.Module):
    """PatchGAN-style domain classifier for a feature map, behind a gradient reversal layer.

    conv(in → c) → LeakyReLU(0.2), then ``layers`` x [conv(→ c * min(2^i, 8)) → BN → LeakyReLU],
    then conv(→ 1). All convs are ``kernel_size`` x ``kernel_size`` with stride 1 and "same"
    zero padding, so the N x 1 x h x w logit map has the input's spatial size (a stock
    pix2pix PatchGAN with three stride-2 convs would reduce the 6 x 20 bottleneck to nothing).

    ``forward(features, coeff)`` reverses (and scales by ``coeff``) the gradient flowing back into
    ``features`` (:func:`s2rdepth.ops.grad_reverse`, DANN schedule
    :func:`s2rdepth.ops.dann_coefficient`).
    """

    def __init__(self, in_channels: int = 512, channels: int = 64, layers: int = 3,
                 kernel_size: int = 3, norm: str = "batch") -> None:
        super().__init__()
        self.grl = GradientReversal()
        pad = kernel_size // 2
        mods: list[nn.Module] = [nn.Conv2d(in_channels, channels, kernel_size, 1, pad),
                                 make_activation("lrelu")]
        prev = channels
        for i in range(1, layers + 1):
            cur = channels * min(2 ** i, 8)
            mods.append(nn.Conv2d(prev, cur, kernel_size, 1, pad, bias=norm == "none"))
            if norm == "batch":
                mods.append(nn.BatchNorm2d(cur))
            mods.append(make_activation("lrelu"))
            prev = cur
        mods.append(nn.Conv2d(prev, 1, kernel_size, 1, pad))
        self.net = nn.Sequential(*mods)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, features: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
        return self.net(self.grl(features, coeff))


class DAMonodepth(nn.Module):
    """DA-Monodepth: ResNet-18 encoder, shared first decoder block, depth and semantic decoders,
    patch domain classifier.

    ``DAMonodepth()`` is the full model of the paper (19 classes); pass a
    :class:`DAMonodepthConfig` and/or its fields as keywords, e.g.
    ``DAMonodepth(use_semantic=False, use_domain_classifier=False)`` for the baseline.

    ``forward(image, grl_coeff=1.0)`` takes N x 3 x H x W floats in [0, 1] (H, W divisible by 32,
    at least 64; 192 x 640 in the paper) and returns :class:`DAOutput`. For the target domain
    during training only the domain branch is needed: ``classify_domain(encode(x)[-1], coeff)``.
    """

    def __init__(self, config: Optional[DAMonodepthConfig] = None, **overrides: Any) -> None:
        super().__init__()
        cfg = config if config is not None else DAMonodepthConfig()
        if overrides:
            cfg = dataclasses.replace(cfg, **overrides)
        self.config = cfg
        self.min_depth = float(cfg.min_depth)
        self.max_depth = float(cfg.max_depth)
        self.encoder = ResNetEncoder(width=cfg.width)
        enc = self.encoder.num_ch_enc
        dec = [scale_channels(c, cfg.width) for c in cfg.decoder_channels]
        self.shared_block = DecoderBlock(enc[4], dec[4], enc[3], cfg.upsample_mode)
        self.depth_decoder = MultiScaleDecoder(enc, dec, 1, "sigmoid", cfg.upsample_mode)
        self.semantic_decoder: Optional[MultiScaleDecoder] = None
        self.domain_classifier: Optional[PatchDomainClassifier] = None
        if cfg.use_semantic:
            self.semantic_decoder = MultiScaleDecoder(enc, dec, cfg.num_classes, "none",
                                                      cfg.upsample_mode)
        if cfg.use_domain_classifier:
            self.domain_classifier = PatchDomainClassifier(
                enc[4], scale_channels(cfg.domain_channels, cfg.width), cfg.domain_layers, 3,
                cfg.domain_norm)

    # ----------------------------------------------------------------------------------------
    def encode(self, image: torch.Tensor) -> List[torch.Tensor]:
        """Encoder features (1/2 … 1/32); the last is the bottleneck z."""
        check_image(image, "DAMonodepth", 3, 32, 64, "[0, 1]")
        return self.encoder(image)

    def decode_depth(self, features: List[torch.Tensor]) -> List[torch.Tensor]:
        """Disparities (sigmoid) at H/8, H/4, H/2, H."""
        return self.depth_decoder(self.shared_block(features[4], features[3]), features)

    def decode_semantic(self, features: List[torch.Tensor]) -> List[torch.Tensor]:
        """Class logits at H/8, H/4, H/2, H (needs ``use_semantic``)."""
        decoder = self.semantic_decoder
        if decoder is None:
            raise RuntimeError("DAMonodepth was built with use_semantic=False")
        return decoder(self.shared_block(features[4], features[3]), features)

    def classify_domain(self, bottleneck: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
        """Patch logits of the domain classifier on z, gradient reversed with ``coeff``."""
        classifier = self.domain_classifier
        if classifier is None:
            raise RuntimeError("DAMonodepth was built with use_domain_classifier=False")
        return classifier(bottleneck, coeff)

    def forward(self, image: torch.Tensor, grl_coeff: float = 1.0) -> DAOutput:
        features = self.encode(image)
        shared = self.shared_block(features[4], features[3])
        disp_scales = self.depth_decoder(shared, features)
        semantic_scales: Optional[List[torch.Tensor]] = None
        semantic: Optional[torch.Tensor] = None
        decoder = self.semantic_decoder
        if decoder is not None:
            semantic_scales = decoder(shared, features)
            semantic = semantic_scales[-1]
        domain_logits: Optional[torch.Tensor] = None
        classifier = self.domain_classifier
        if classifier is not None:
            domain_logits = classifier(features[4], grl_coeff)
        return DAOutput(disp_scales[-1], disp_scales, semantic, semantic_scales, domain_logits)

    # ----------------------------------------------------------------------------------------
    def parameter_counts(self) -> dict[str, int]:
        """Parameters per part (the shared block once), ``inference`` (encoder + shared block +
        depth decoder), ``total`` and ``trainable``."""
        counts = {"encoder": count_parameters(self.encoder),
                  "shared_block": count_parameters(self.shared_block),
                  "depth_decoder": count_parameters(self.depth_decoder)}
        if self.semantic_decoder is not None:
            counts["semantic_decoder"] = count_parameters(self.semantic_decoder)
        if self.domain_classifier is not None:
            counts["domain_classifier"] = count_parameters(self.domain_classifier)
        counts["inference"] = counts["encoder"] + counts["shared_block"] + counts["depth_decoder"]
        counts["total"] = count_parameters(self)
        counts["trainable"] = count_parameters(self, trainable_only=True)
        return counts

    def to_metres(self, disp: torch.Tensor) -> torch.Tensor:
        """Sigmoid disparity → depth in metres with this model's depth range."""
        return disp_to_depth(disp, self.min_depth, self.max_depth)[1]
