"""S2R-DepthNet stage 1: MUNIT image translation synthetic ↔ painting with a shared STE encoder.

The official release has no stage-1 code; this follows the paper (Sec. 3.2: MUNIT with one
structure encoder shared by both domains) and MUNIT's trainer (REFERENCE.md §1): LSGAN with
multi-scale discriminators, then the generator update with

``gan·(L_gan^a + L_gan^b) + recon_x·(|x̂_a - x_a| + |x̂_b - x_b|) + recon_s·(|ŝ_a - s_a| + …)
+ recon_c·(|ĉ_a - c_a| + …) + cycle·(|x_aba - x_a| + …)``.

Two optimiser phases per step, as MUNIT: ``dis`` (discriminators on freshly translated
images, generator frozen) then ``gen`` (encoders, MLPs, decoders). Random styles are drawn from
N(0, I) with the global torch RNG (checkpointed, so resumed runs draw the same ones).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import torch
import torch.nn as nn

from ...losses import lsgan_discriminator_loss, lsgan_generator_loss, recon_l1
from ..config import ConfigError, S2RTranslationMethodConfig, TrainConfig
from .base import Method

__all__ = ["S2RTranslationMethod"]


class S2RTranslationMethod(Method):
    """Stage 1: trains :class:`~s2rdepth.models.StructureTranslator`. Batch: ``source`` (the
    model's first domain, synthetic) and ``target`` (second domain, paintings) images in [-1, 1]."""

    name = "s2r_translation"
    phases = ("dis", "gen")

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        from ...models import create_model

        mc = cfg.method
        assert isinstance(mc, S2RTranslationMethodConfig)
        self.mc = mc
        try:
            self.model = create_model("structure_translator", cfg.model.preset, **cfg.model.options)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"config key 'model.options': cannot build structure_translator/"
                              f"{cfg.model.preset}: {exc}") from None
        self.domain_a, self.domain_b = self.model.domains[0], self.model.domains[1]

    def roles(self) -> dict[str, set[str]]:
        return {"source": set(), "target": set()}

    def make_transform(self, role: str, augment: bool, generator: torch.Generator) -> Callable:
        from ...data.transforms import S2RTransform

        # MUNIT augments with flips only (no rotation / colour changes)
        return S2RTransform(self.cfg.data.size, train=augment, flip_p=0.5, rotate_p=0.0, color_p=0.0,
                            generator=generator)

    def phase_parameters(self, phase: str) -> list[nn.Parameter]:
        params = self.model.discriminator_parameters() if phase == "dis" else self.model.generator_parameters()
        return [p for p in params if p.requires_grad]

    def step(self, batch: Mapping[str, Mapping[str, Any]], phase: str = "gen") -> dict[str, torch.Tensor]:
        m, A, B, w = self.model, self.domain_a, self.domain_b, self.mc
        xa, xb = batch["source"]["image"], batch["target"]["image"]
        sa = m.random_style(xa.shape[0], xa.device, xa.dtype)
        sb = m.random_style(xb.shape[0], xb.device, xb.dtype)
        if phase == "dis":
            with torch.no_grad():
                x_ba = m.decode(m.ste_encoder(xb), sa, A)
                x_ab = m.decode(m.ste_encoder(xa), sb, B)
            dis = (lsgan_discriminator_loss(m.discriminate(x_ba, A), m.discriminate(xa, A))
                   + lsgan_discriminator_loss(m.discriminate(x_ab, B), m.discriminate(xb, B)))
            return {"loss": w.gan_weight * dis, "dis_gan": dis}

        ca, sa_own = m.encode(xa, A)
        cb, sb_own = m.encode(xb, B)
        xa_rec = m.decode(ca, sa_own, A)
        xb_rec = m.decode(cb, sb_own, B)
        x_ba = m.decode(cb, sa, A)
        x_ab = m.decode(ca, sb, B)
        cb_rec, sa_rec = m.encode(x_ba, A)
        ca_rec, sb_rec = m.encode(x_ab, B)
        losses = {
            "gen_gan": lsgan_generator_loss(m.discriminate(x_ba, A)) + lsgan_generator_loss(m.discriminate(x_ab, B)),
            "recon_x": recon_l1(xa_rec, xa) + recon_l1(xb_rec, xb),
            "recon_s": recon_l1(sa_rec, sa) + recon_l1(sb_rec, sb),
            "recon_c": recon_l1(ca_rec, ca) + recon_l1(cb_rec, cb),
        }
        total = (w.gan_weight * losses["gen_gan"] + w.recon_x_weight * losses["recon_x"]
                 + w.recon_s_weight * losses["recon_s"] + w.recon_c_weight * losses["recon_c"])
        if w.cycle_weight > 0:
            x_aba = m.decode(ca_rec, sa_own, A)
            x_bab = m.decode(cb_rec, sb_own, B)
            losses["cycle"] = recon_l1(x_aba, xa) + recon_l1(x_bab, xb)
            total = total + w.cycle_weight * losses["cycle"]
        losses["loss"] = total
        if self.capture_images:
            k = self.cfg.log.images
            self.images = {"input": self.to_unit(xa[:k]), "painting": self.to_unit(xb[:k]),
                           "translated": self.to_unit(x_ab[:k]), "reconstructed": self.to_unit(xa_rec[:k])}
        return losses

    def export_extra(self) -> dict[str, Any]:
        return {"domains": list(self.model.domains)}
