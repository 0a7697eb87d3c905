"""Stage-1 networks of S2R-DepthNet: MUNIT-style image translation with a shared structure encoder.

The official release has no stage-1 code. Following the paper (Sec. 3.2) and MUNIT (Huang et al.,
ECCV 2018), an image of either domain — synthetic (e.g. vKITTI) or painting (Painter by Numbers) —
is split into a *structure code* by the **shared** :class:`~s2rdepth.models.s2r.STEEncoder` and a
*style code* by a per-domain :class:`StyleEncoder`; a per-domain :class:`AdaINDecoder`
re-renders a structure code in a style whose AdaIN parameters come from a per-domain
:class:`StyleMLP`; a per-domain :class:`MultiScaleDiscriminator` (LSGAN) judges the results.
:class:`StructureTranslator` bundles them. After stage 1, copy its encoder into the depth model::

    depth_model.ste_encoder.load_state_dict(translator.ste_encoder.state_dict())

Parameter counts at the paper configuration (width 1): style encoder 2,764,936; decoder
5,754,627; MLP 1,120,768; discriminator 8,271,171; STE encoder 5,385,856.

Units: images in [-1, 1]; style codes N x ``style_dim`` (8), sampled from N(0, I) for random
styles.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F

from .blocks import AdaINResidualBlock, ConvBlock, count_parameters, init_weights, make_activation, \
    scale_channels
from .s2r import STEEncoder

__all__ = ["AdaINDecoder", "MultiScaleDiscriminator", "StructureTranslator", "StyleEncoder",
           "StyleMLP", "lsgan_discriminator_loss", "lsgan_generator_loss"]


class StyleEncoder(nn.Module):
    """Style encoder: image N x 3 x H x W in [-1, 1] → style code N x ``style_dim``.

    7x7 conv (reflect pad) → act, ``n_downsample`` 4x4 stride-2 convs (channels doubling from
    ``dim``, capped at 4 ``dim``), no normalisation, global average pooling, 1x1 conv.
    """

    def __init__(self, dim: int = 64, style_dim: int = 8, n_downsample: int = 4,
                 activation: str = "lrelu") -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBlock(3, dim, 7, 1, 3, norm="none", activation=activation)]
        cur = dim
        for _ in range(n_downsample):
            nxt = min(cur * 2, 4 * dim)
            layers.append(ConvBlock(cur, nxt, 4, 2, 1, norm="none", activation=activation))
            cur = nxt
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(cur, style_dim, 1)
        self.style_dim = style_dim
        init_weights(self, "kaiming")

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = F.adaptive_avg_pool2d(self.body(image), 1)
        return self.head(x).flatten(1)


class StyleMLP(nn.Module):
    """Style code N x ``style_dim`` → AdaIN parameters N x ``out_features``
    (``style_dim`` → ``hidden`` → … → ``out_features``, ``n_blocks`` linear layers, activation
    between, none after the last)."""

    def __init__(self, style_dim: int = 8, out_features: int = 4096, hidden: int = 256,
                 n_blocks: int = 3, activation: str = "lrelu") -> None:
        super().__init__()
        dims = [style_dim] + [hidden] * (n_blocks - 1) + [out_features]
        layers: list[nn.Module] = []
        for i in range(n_blocks):
            layers.append(nn.Linear(dims[i], dims[i + 1]))
            if i < n_blocks - 1:
                layers.append(make_activation(activation))
        self.net = nn.Sequential(*layers)
        init_weights(self, "kaiming")

    def forward(self, style: torch.Tensor) -> torch.Tensor:
        return self.net(style)


class AdaINDecoder(nn.Module):
    """Structure code N x C x h x w + AdaIN parameters → image N x 3 x (h·2^k) x (w·2^k) in [-1, 1].

    ``n_res`` AdaIN residual blocks (:func:`s2rdepth.ops.adain` with per-sample [N, C] affine),
    ``n_upsample`` x [nearest x2 → 5x5 conv → LayerNorm → act] halving the channels, then a
    7x7 conv → tanh. :attr:`num_adain_params` is the size of the parameter vector (4096 at the
    paper configuration: 4 blocks x 2 norms x (shift + scale) x 256).
    """

    def __init__(self, in_channels: int = 256, out_channels: int = 3, n_res: int = 4,
                 n_upsample: int = 2, activation: str = "lrelu") -> None:
        super().__init__()
        self.res_blocks = nn.ModuleList(AdaINResidualBlock(in_channels, activation)
                                        for _ in range(n_res))
        ups: list[nn.Module] = []
        cur = in_channels
        for _ in range(n_upsample):
            ups += [nn.Upsample(scale_factor=2.0, mode="nearest"),
                    ConvBlock(cur, cur // 2, 5, 1, 2, norm="ln", activation=activation)]
            cur //= 2
        self.upsample = nn.Sequential(*ups)
        self.to_image = ConvBlock(cur, out_channels, 7, 1, 3, norm="none", activation="tanh")
        init_weights(self, "kaiming")

    @property
    def num_adain_params(self) -> int:
        return sum(b.num_adain_params for b in self.res_blocks)  # type: ignore[union-attr]

    def forward(self, code: torch.Tensor, adain_params: torch.Tensor) -> torch.Tensor:
        if adain_params.shape != (code.shape[0], self.num_adain_params):
            raise ValueError(f"AdaINDecoder: adain_params must be [N, {self.num_adain_params}] for "
                             f"N={code.shape[0]}, got {list(adain_params.shape)}")
        x, offset = code, 0
        for block in self.res_blocks:
            n = block.num_adain_params  # type: ignore[union-attr]
            x = block(x, adain_params[:, offset:offset + n])
            offset += n
        return self.to_image(self.upsample(x))


class PatchDiscriminator(nn.Module):
    """One scale of :class:`MultiScaleDiscriminator`: ``n_layers`` 4x4 stride-2 convs (reflect
    pad 1, LeakyReLU 0.2, channels doubling from ``dim``), then a 1x1 conv → N x 1 x h x w."""

    def __init__(self, in_channels: int = 3, dim: int = 64, n_layers: int = 4) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBlock(in_channels, dim, 4, 2, 1, norm="none", activation="lrelu")]
        cur = dim
        for _ in range(n_layers - 1):
            layers.append(ConvBlock(cur, cur * 2, 4, 2, 1, norm="none", activation="lrelu"))
            cur *= 2
        layers.append(nn.Conv2d(cur, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MultiScaleDiscriminator(nn.Module):
    """MUNIT's multi-scale LSGAN discriminator: ``num_scales`` :class:`PatchDiscriminator` s on
    the image and its 3x3/stride-2 average-pooled (padding 1, ``count_include_pad=False``)
    downsamplings. ``forward`` returns one score map per scale (finest first)."""

    def __init__(self, in_channels: int = 3, dim: int = 64, n_layers: int = 4,
                 num_scales: int = 3) -> None:
        super().__init__()
        self.scales = nn.ModuleList(PatchDiscriminator(in_channels, dim, n_layers)
                                    for _ in range(num_scales))
        init_weights(self, "normal", 0.02)

    def forward(self, image: torch.Tensor) -> List[torch.Tensor]:
        outs: List[torch.Tensor] = []
        x = image
        for d in self.scales:
            outs.append(d(x))
            x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
        return outs


def lsgan_discriminator_loss(fake_scores: Sequence[torch.Tensor],
                             real_scores: Sequence[torch.Tensor]) -> torch.Tensor:
    """LSGAN discriminator loss summed over scales: ``mean(D(fake)^2) + mean((D(real) - 1)^2)``."""
    return sum(((f ** 2).mean() + ((r - 1) ** 2).mean() for f, r in zip(fake_scores, real_scores)),
               torch.zeros((), device=fake_scores[0].device))


def lsgan_generator_loss(fake_scores: Sequence[torch.Tensor]) -> torch.Tensor:
    """LSGAN generator loss summed over scales: ``mean((D(fake) - 1)^2)``."""
    return sum((((f - 1) ** 2).mean() for f in fake_scores), torch.zeros((), device=fake_scores[0].device))


class StructureTranslator(nn.Module):
    """Stage-1 container: the shared structure encoder and per-domain style networks.

    Submodules: ``ste_encoder`` (one :class:`~s2rdepth.models.s2r.STEEncoder`, shared by all
    domains — the paper's change to MUNIT), and per domain (keys of ``domains``, default
    ``("synthetic", "painting")``) ``style_encoders[d]``, ``style_mlps[d]``, ``decoders[d]``,
    ``discriminators[d]``.

    Typical MUNIT step for domains a, b: ``c_a, s_a = encode(x_a, "synthetic")``;
    ``x_ab = decode(c_a, random_style(n), "painting")``; reconstruction, code and cycle losses
    and :func:`lsgan_generator_loss` on ``discriminators["painting"](x_ab)``. Optimise
    :meth:`generator_parameters` and :meth:`discriminator_parameters` separately.

    Args:
        domains: domain names.
        width: channel multiplier (1.0 = MUNIT defaults: dim 64, 4 residual blocks, style 8,
            MLP 256, discriminator dim 64, 4 layers, 3 scales).
        style_dim, mlp_hidden, res_blocks, disc_layers, disc_scales: MUNIT hyper-parameters.
        activation: generator activation (``"lrelu"``, as the official STE encoder).
    """

    def __init__(self, domains: Sequence[str] = ("synthetic", "painting"), width: float = 1.0,
                 style_dim: int = 8, mlp_hidden: int = 256, res_blocks: int = 4,
                 disc_layers: int = 4, disc_scales: int = 3, activation: str = "lrelu") -> None:
        super().__init__()
        if len(set(domains)) < 2:
            raise ValueError(f"StructureTranslator needs at least two distinct domains, got {domains}")
        self.domains = tuple(domains)
        self.style_dim = style_dim
        self.ste_encoder = STEEncoder(width, res_blocks, activation)
        code = self.ste_encoder.out_channels
        dim = scale_channels(64, width)
        hidden = scale_channels(mlp_hidden, width)
        self.style_encoders = nn.ModuleDict()
        self.style_mlps = nn.ModuleDict()
        self.decoders = nn.ModuleDict()
        self.discriminators = nn.ModuleDict()
        for d in self.domains:
            self.style_encoders[d] = StyleEncoder(dim, style_dim, 4, activation)
            decoder = AdaINDecoder(code, 3, res_blocks, 2, activation)
            self.decoders[d] = decoder
            self.style_mlps[d] = StyleMLP(style_dim, decoder.num_adain_params, hidden, 3, activation)
            self.discriminators[d] = MultiScaleDiscriminator(3, dim, disc_layers, disc_scales)

    def _check_domain(self, domain: str) -> None:
        if domain not in self.domains:
            raise ValueError(f"unknown domain {domain!r}; this translator has {', '.join(self.domains)}")

    def encode(self, image: torch.Tensor, domain: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(structure_code, style)`` of an image of ``domain`` (shared structure encoder)."""
        self._check_domain(domain)
        return self.ste_encoder(image), self.style_encoders[domain](image)

    def decode(self, structure_code: torch.Tensor, style: torch.Tensor, domain: str) -> torch.Tensor:
        """Render ``structure_code`` in ``style`` with the decoder of ``domain`` → image in [-1, 1]."""
        self._check_domain(domain)
        return self.decoders[domain](structure_code, self.style_mlps[domain](style))

    def translate(self, image: torch.Tensor, target: str, style: torch.Tensor | None = None) -> torch.Tensor:
        """Re-render ``image`` in domain ``target`` with ``style`` (random if ``None``)."""
        self._check_domain(target)
        code = self.ste_encoder(image)
        if style is None:
            style = self.random_style(image.shape[0], image.device, image.dtype)
        return self.decode(code, style, target)

    def random_style(self, n: int, device: torch.device | None = None,
                     dtype: torch.dtype | None = None) -> torch.Tensor:
        """N(0, I) style codes, N x ``style_dim``."""
        return torch.randn(n, self.style_dim, device=device, dtype=dtype)

    def discriminate(self, image: torch.Tensor, domain: str) -> List[torch.Tensor]:
        """Multi-scale score maps of the discriminator of ``domain``."""
        self._check_domain(domain)
        return self.discriminators[domain](image)

    def generator_parameters(self) -> Iterator[nn.Parameter]:
        """Encoder, style encoders, MLPs and decoders (the MUNIT generator optimiser)."""
        for name, p in self.named_parameters():
            if not name.startswith("discriminators."):
                yield p

    def discriminator_parameters(self) -> Iterator[nn.Parameter]:
        """The discriminators (the MUNIT discriminator optimiser)."""
        return self.discriminators.parameters()

    def parameter_counts(self) -> dict[str, int]:
        """Parameters of the shared encoder and of one domain's networks, and the total."""
        d = self.domains[0]
        return {"ste_encoder": count_parameters(self.ste_encoder),
                "style_encoder": count_parameters(self.style_encoders[d]),
                "style_mlp": count_parameters(self.style_mlps[d]),
                "decoder": count_parameters(self.decoders[d]),
                "discriminator": count_parameters(self.discriminators[d]),
                "total": count_parameters(self)}
