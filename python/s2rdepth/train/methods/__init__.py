"""Training recipes: one :class:`~s2rdepth.train.methods.base.Method` per paper method.

=====================  =====================================  ==================================
``method.name``        class                                  trains
=====================  =====================================  ==================================
``s2r_translation``    :class:`S2RTranslationMethod`          S2R stage 1 (StructureTranslator)
``s2r_depth``          :class:`S2RDepthMethod`                S2R stages 2/3, ablations, fine-tune
``da_monodepth``       :class:`DAMonodepthMethod`             DA-Monodepth and its ablations
=====================  =====================================  ==================================
"""
from __future__ import annotations

from ..config import TrainConfig
from .base import Method
from .da_monodepth import DAMonodepthMethod
from .s2r_depth import S2RDepthMethod
from .s2r_translation import S2RTranslationMethod

__all__ = ["METHODS", "DAMonodepthMethod", "Method", "S2RDepthMethod", "S2RTranslationMethod", "build_method"]

#: ``method.name`` → recipe class.
METHODS: dict[str, type[Method]] = {
    "s2r_translation": S2RTranslationMethod,
    "s2r_depth": S2RDepthMethod,
    "da_monodepth": DAMonodepthMethod,
}


def build_method(cfg: TrainConfig) -> Method:
    """The recipe of ``cfg.method.name`` with its model built and initialised (on the CPU)."""
    return METHODS[cfg.method.name](cfg)
