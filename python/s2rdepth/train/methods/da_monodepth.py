"""DA-Monodepth (Lu, Yu, Oh): supervised depth + semantics on the source domain, adversarial
feature alignment with the target domain through a gradient reversal layer.

Each step takes a source batch (image, depth → disparity target, labels) and a target batch
(images only)::

    L = λ_depth · L_depth + λ_seg · L_seg + λ_adv · L_adv                         (Eq. 6)

* ``L_depth``: :func:`s2rdepth.losses.da_depth_loss` (SSIM + L1 on disparity upsampled to the
  input size, edge-aware smoothness per scale), over valid target pixels;
* ``L_seg``: :func:`s2rdepth.losses.multiscale_cross_entropy` (255 = ignore);
* ``L_adv``: :func:`s2rdepth.losses.domain_adversarial_loss` on the patch logits of the source
  and target bottlenecks; the GRL multiplies the encoder's gradient by ``-coeff``, with
  ``coeff = grl_max · (2 / (1 + exp(-10 p)) - 1)`` (DANN, p = training progress).

The ablations of Tables 3-4 are the model options ``use_semantic`` / ``use_domain_classifier``;
the losses of absent modules are skipped (and the target stream is not read without the domain
classifier).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from ...losses import da_depth_loss, domain_accuracy, domain_adversarial_loss, multiscale_cross_entropy
from ...ops import dann_coefficient
from ..config import ConfigError, DAMonodepthMethodConfig, TrainConfig
from .base import Method

__all__ = ["DAMonodepthMethod"]


class DAMonodepthMethod(Method):
    """Trains :class:`~s2rdepth.models.DAMonodepth`. Batch: ``source`` with ``image`` (N x 3 x H x W
    in [0, 1]), ``disp`` (target disparity in the sigmoid space), ``valid``, ``label``; ``target``
    with ``image``."""

    name = "da_monodepth"

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        from ...models import create_model

        mc = cfg.method
        assert isinstance(mc, DAMonodepthMethodConfig)
        self.mc = mc
        try:
            self.model = create_model("da_monodepth", cfg.model.preset, **cfg.model.options)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"config key 'model.options': cannot build da_monodepth/{cfg.model.preset}: "
                              f"{exc}") from None
        if cfg.model.imagenet:
            try:
                self.model.encoder.load_imagenet(cfg.model.imagenet)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"config key 'model.imagenet': {exc}") from None
        self.use_semantic = self.model.semantic_decoder is not None
        self.use_domain = self.model.domain_classifier is not None
        if self.use_domain and cfg.data.target is None:
            raise ConfigError("config key 'data.target' is required: the domain classifier "
                              "(model.options.use_domain_classifier) needs target-domain images")

    def roles(self) -> dict[str, set[str]]:
        roles = {"source": {"depth", "labels"} if self.use_semantic else {"depth"}}
        if self.use_domain:
            roles["target"] = set()
        return roles

    def make_transform(self, role: str, augment: bool, generator: torch.Generator) -> Callable:
        from ...data.transforms import DAMonodepthTransform

        cfg = self.model.config
        return DAMonodepthTransform(self.cfg.data.size, train=augment, min_depth=cfg.min_depth,
                                    max_depth=cfg.max_depth, generator=generator)

    def grl_coefficient(self) -> float:
        """The current GRL coefficient (DANN schedule over :attr:`progress`, times ``grl_max``)."""
        sched = dann_coefficient(self.progress) if self.mc.grl_schedule == "dann" else 1.0
        return self.mc.grl_max * sched

    def step(self, batch: Mapping[str, Mapping[str, Any]], phase: str = "model") -> dict[str, torch.Tensor]:
        w, model = self.mc, self.model
        src = batch["source"]
        image = src["image"]
        coeff = self.grl_coefficient()
        out = model(image, coeff)
        depth, parts = da_depth_loss(out.disp_scales, src["disp"], image, src["valid"], w.l1_weight,
                                     w.smooth_weight)
        losses = {"depth": depth, **{f"depth_{k}": v for k, v in parts.items()}}
        total = w.depth_weight * depth
        if out.semantic_scales is not None:
            seg = multiscale_cross_entropy(out.semantic_scales, src["label"], reduction=w.seg_reduction)
            losses["seg"] = seg
            total = total + w.seg_weight * seg
        if out.domain_logits is not None:
            target_logits = model.classify_domain(model.encode(batch["target"]["image"])[-1], coeff)
            adv = domain_adversarial_loss(out.domain_logits, target_logits)
            losses["adv"] = adv
            losses["domain_acc"] = domain_accuracy(out.domain_logits, target_logits)
            losses["grl_coeff"] = torch.tensor(coeff, device=image.device)
            total = total + w.adv_weight * adv
        losses["loss"] = total
        if self.capture_images:
            k = self.cfg.log.images
            self.images = {"input": self.to_unit(image[:k], 0, 1), "disp_pred": self.to_unit(out.disp[:k], 0, 1),
                           "disp_true": self.to_unit(src["disp"][:k], 0, 1)}
            if out.semantic is not None:
                self.images["semantic_pred"] = self.to_unit(out.semantic[:k].argmax(1, keepdim=True).float(),
                                                            0, float(model.config.num_classes - 1))
        return losses

    def export_extra(self) -> dict[str, Any]:
        return {"use_semantic": self.use_semantic, "use_domain_classifier": self.use_domain}
