"""S2R-DepthNet stages 2 and 3, the Table-5 ablations and semi-supervised fine-tuning.

One recipe covers them all; the config says which submodules train and where the others come
from (REFERENCE.md §1 "Training"):

==================  ===========  ======================  ==================================  ==========
row                 variant      train_modules           initialised from                    λ (struct)
==================  ===========  ======================  ==================================  ==========
stage 2 (+STE)      ste          ste_decoder, dp         ste_checkpoint (stage 1)            1
stage 3 (DG)        ste_dsa_*    dsa, dp (DP fresh)      init_checkpoint (stage 2): STE      0
baseline            baseline     dp                      —                                   0
edge baseline       edge         dp                      —                                   0
semi-supervised     ste_dsa_mul  dsa, dp                 init_checkpoint (stage 3): all      0
==================  ===========  ======================  ==================================  ==========

Loss: ``Σ_s w_s · L1(depth_s, target_s) + λ · structure_loss(M_s, target)`` on the network
range [-1, 1]; the structure term only applies while ``M_s`` is trained (stage 2).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from ...losses import multiscale_l1, structure_loss
from ..config import ConfigError, S2RDepthMethodConfig, TrainConfig
from .base import Method, load_submodule, modules_with_weights, read_checkpoint_state

__all__ = ["S2RDepthMethod"]

_MODULES = ("ste_encoder", "ste_decoder", "dsa", "dp")


class S2RDepthMethod(Method):
    """Supervised depth training of :class:`~s2rdepth.models.S2RDepthNet` (stages 2/3, ablations,
    fine-tuning). Batch: ``source`` with ``image`` (N x 3 x H x W in [-1, 1]), ``depth_net``
    (N x 1 x H x W in [-1, 1]) and ``valid``."""

    name = "s2r_depth"

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__(cfg)
        from ...models import create_model

        mc = cfg.method
        assert isinstance(mc, S2RDepthMethodConfig)
        self.mc = mc
        try:
            self.model = create_model("s2r", cfg.model.preset, **cfg.model.options)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"config key 'model.options': cannot build s2r/{cfg.model.preset}: {exc}") from None
        model = self.model
        present = [n for n in _MODULES if getattr(model, n) is not None]
        for n in mc.train_modules:
            if n not in present:
                raise ConfigError(f"config key 'method.train_modules': variant {model.variant!r} has no "
                                  f"{n!r} (it has {', '.join(present)})")
        initialised: set[str] = set()
        if cfg.model.imagenet and model.dsa is not None:
            try:
                model.dsa.load_imagenet(cfg.model.imagenet)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"config key 'model.imagenet': {exc}") from None
        if mc.ste_checkpoint:
            if model.ste_encoder is None:
                raise ConfigError(f"config key 'method.ste_checkpoint': variant {model.variant!r} has no STE encoder")
            state, _ = read_checkpoint_state(mc.ste_checkpoint, "method.ste_checkpoint")
            load_submodule(model.ste_encoder, state, "ste_encoder", mc.ste_checkpoint, "method.ste_checkpoint")
            initialised.add("ste_encoder")
        if mc.init_checkpoint:
            state, _ = read_checkpoint_state(mc.init_checkpoint, "method.init_checkpoint")
            wanted = list(mc.init_modules) or modules_with_weights(state, present)
            if not wanted:
                raise ConfigError(f"config key 'method.init_checkpoint': {mc.init_checkpoint} holds none of "
                                  f"{', '.join(present)}")
            for n in wanted:
                if n not in present:
                    raise ConfigError(f"config key 'method.init_modules': variant {model.variant!r} has no {n!r}")
                load_submodule(getattr(model, n), state, n, mc.init_checkpoint, "method.init_checkpoint")
                initialised.add(n)
        for n in mc.reset_modules:
            module = getattr(model, n, None)
            if module is None or not hasattr(module, "reset_parameters"):
                raise ConfigError(f"config key 'method.reset_modules': {n!r} cannot be re-initialised")
            module.reset_parameters()
            initialised.discard(n)
        for n in present:
            model.set_frozen(n, n not in mc.train_modules)
        if not mc.allow_random_init:
            for n in present:
                if n in mc.train_modules or n in initialised:
                    continue
                key = "method.ste_checkpoint" if n == "ste_encoder" and n not in mc.init_modules \
                    else "method.init_checkpoint"
                raise ConfigError(
                    f"config key {key!r} is required: {n} is frozen (not in method.train_modules) but no "
                    f"checkpoint initialises it; point {key} at the previous stage's model.safetensors "
                    "(or set method.allow_random_init=true)")
        self.uses_structure_loss = mc.structure_weight > 0 and "ste_decoder" in mc.train_modules \
            and model.ste_decoder is not None

    # ------------------------------------------------------------------ engine interface
    def make_transform(self, role: str, augment: bool, generator: torch.Generator) -> Callable:
        from ...data.transforms import S2RTransform

        return S2RTransform(self.cfg.data.size, train=augment, max_depth=self.model.max_depth,
                            generator=generator)

    def step(self, batch: Mapping[str, Mapping[str, Any]], phase: str = "model") -> dict[str, torch.Tensor]:
        src = batch["source"]
        image, target = src["image"], src["depth_net"]
        mask = src["valid"] if self.mc.mask_invalid else None
        out = self.model(image)
        depth_l1, per_scale = multiscale_l1(out.depth_scales, target, mask, self.mc.scale_weights,
                                            self.mc.target_resize)
        losses = {"depth_l1": depth_l1, "depth_l1_full": per_scale[-1]}
        total = depth_l1
        if self.uses_structure_loss and out.structure is not None:
            struct = structure_loss(out.structure.float(), target.float(), self.mc.structure_beta,
                                    self.mc.structure_mode)
            losses["structure"] = struct
            total = total + self.mc.structure_weight * struct
        losses["loss"] = total
        if self.capture_images:
            k = self.cfg.log.images
            self.images = {"input": self.to_unit(image[:k]), "depth_pred": self.to_unit(out.depth[:k]),
                           "depth_true": self.to_unit(target[:k])}
            if out.structure is not None:
                self.images["M_s"] = self.to_unit(out.structure[:k], 0, 1)
            if out.attention is not None:
                self.images["M_a"] = self.to_unit(out.attention[:k], 0, 1)
        return losses

    def export_extra(self) -> dict[str, Any]:
        return {"variant": self.model.variant, "train_modules": list(self.mc.train_modules)}
