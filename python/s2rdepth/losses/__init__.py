"""Training losses of S2R-DepthNet and DA-Monodepth.

================================  ==============================================================
:func:`multiscale_l1`             S2R depth loss: L1 summed over the 4 DP scales (targets resized
                                  bilinearly, ``align_corners=True``, or predictions upsampled),
                                  optionally masked (sparse ground truth)
:func:`structure_loss`            S2R structure regulariser (:func:`s2rdepth.ops.structure_loss`)
:func:`ssim_loss`                 monodepth2 SSIM dissimilarity map, ``clamp((1 - SSIM) / 2, 0, 1)``
:func:`edge_aware_smoothness`     monodepth2 smoothness of mean-normalised disparity
:func:`da_depth_loss`             DA-Monodepth depth loss: ``(1-λ1)·SSIM + λ1·L1`` on disparity
                                  upsampled to the input size + ``λ2 / 2^s`` smoothness per scale
:func:`multiscale_cross_entropy`  semantic loss over the decoder scales (255 = ignore)
:func:`domain_adversarial_loss`   binary cross-entropy of the patch domain classifier
:func:`recon_l1`                  MUNIT reconstruction loss (mean absolute difference)
:func:`lsgan_generator_loss`,     MUNIT least-squares GAN losses
:func:`lsgan_discriminator_loss`
================================  ==============================================================

All losses return 0-dim float tensors and compute in float32 (inputs produced under autocast
are upcast), so they are safe with ``bf16``/``fp16`` mixed precision.
"""
from ..models.munit import lsgan_discriminator_loss, lsgan_generator_loss
from ..ops import structure_loss
from .depth import da_depth_loss, edge_aware_smoothness, masked_mean, multiscale_l1, ssim_loss
from .domain import domain_accuracy, domain_adversarial_loss
from .segmentation import multiscale_cross_entropy
from .translation import recon_l1

__all__ = [
    "da_depth_loss", "domain_accuracy", "domain_adversarial_loss", "edge_aware_smoothness",
    "lsgan_discriminator_loss", "lsgan_generator_loss", "masked_mean", "multiscale_cross_entropy",
    "multiscale_l1", "recon_l1", "ssim_loss", "structure_loss",
]
