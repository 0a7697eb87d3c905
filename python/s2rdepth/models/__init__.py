"""Network architectures of S2R-DepthNet and DA-Monodepth.

================================  ==============================================================
:class:`S2RDepthNet`              S2R-DepthNet (``ste_encoder``, ``ste_decoder``, ``dsa``, ``dp``);
                                  Table 5 ablations via ``variant``; :class:`S2ROutput`
:func:`load_official_s2r`         the four official checkpoint files → model (eval mode)
:func:`export_official_s2r`       model → the four files in the official layout
:class:`StructureTranslator`      stage-1 MUNIT-style networks with the shared STE encoder
:class:`DAMonodepth`              DA-Monodepth (ResNet-18, depth + semantic decoders, domain
                                  classifier behind a GRL); :class:`DAOutput`
:func:`create_model`              named presets ``paper`` / ``lite`` / ``tiny``
:func:`model_complexity`          parameters and GFLOPs; :func:`complexity_table` per preset
:class:`S2RPredictor`,            scriptable/exportable inference wrappers: image (uint8 or
:class:`DAMonodepthPredictor`     [0, 1]) → depth in metres at the input resolution
:func:`to_standard_ops`           swap the fused ops for standard-op reference math (export)
================================  ==============================================================

Units: S2R-DepthNet takes images in [-1, 1] and predicts depth in the network range [-1, 1]
(:func:`depth_net_to_metres`); DA-Monodepth takes images in [0, 1] and predicts sigmoid
disparity (:func:`disp_to_depth`).
"""
from ._checkpoint import CheckpointMismatchError, UnsafeCheckpointError
from .blocks import count_parameters, to_fused_ops, to_standard_ops
from .da_monodepth import DAMonodepth, DAMonodepthConfig, DAOutput, PatchDomainClassifier, \
    depth_to_disp, disp_to_depth
from .dp import DepthPredictionNet
from .drn import DRN, drn_d_22
from .inference import DAMonodepthPredictor, S2RPredictor, make_predictor
from .munit import AdaINDecoder, MultiScaleDiscriminator, StructureTranslator, StyleEncoder, \
    StyleMLP, lsgan_discriminator_loss, lsgan_generator_loss
from .official import OFFICIAL_FILENAMES, export_official_s2r, load_official_component, \
    load_official_s2r, official_key_shapes
from .presets import PRESETS, complexity_table, create_model, format_complexity_table, \
    list_presets, model_complexity
from .resnet import ResNetEncoder
from .s2r import S2R_VARIANTS, DSAModule, S2RConfig, S2RDepthNet, S2ROutput, STEDecoder, STEEncoder, \
    depth_net_to_metres, metres_to_depth_net

__all__ = [
    "AdaINDecoder", "CheckpointMismatchError", "DAMonodepth", "DAMonodepthConfig",
    "DAMonodepthPredictor", "DAOutput", "DRN", "DSAModule", "DepthPredictionNet",
    "MultiScaleDiscriminator", "OFFICIAL_FILENAMES", "PRESETS", "PatchDomainClassifier",
    "ResNetEncoder", "S2RConfig", "S2RDepthNet", "S2ROutput", "S2RPredictor", "S2R_VARIANTS",
    "STEDecoder", "STEEncoder", "StructureTranslator", "StyleEncoder", "StyleMLP",
    "UnsafeCheckpointError", "complexity_table", "count_parameters", "create_model",
    "depth_net_to_metres", "depth_to_disp", "disp_to_depth", "drn_d_22", "export_official_s2r",
    "format_complexity_table", "list_presets", "load_official_component", "load_official_s2r",
    "lsgan_discriminator_loss", "lsgan_generator_loss", "make_predictor", "metres_to_depth_net",
    "model_complexity", "official_key_shapes", "to_fused_ops", "to_standard_ops",
]
