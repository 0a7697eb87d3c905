"""``s2rdepth.predict``: depth in metres for images of any size, from any model or artifact.

.. code-block:: python

    import s2rdepth
    depth = s2rdepth.predict("frame.png", model="s2r_kitti.safetensors")     # H x W float32, m
    depths = s2rdepth.predict([img_a, img_b], model="s2r_lite.onnx", batch_size=8)
    maps = s2rdepth.predict(pil_image, model=net, output="all")  # {"depth", "structure", "attention"}

Pipeline per image: decode/convert to a 3 x H x W tensor (:mod:`s2rdepth.deploy.images` lists
the conversions: grey → 3 channels, alpha dropped, 16-bit / 65535, ...); images of the same size
and pixel type are batched; for a fixed-size artifact the batch is resized (bilinear,
``align_corners=False``, in float) to the artifact's size and every output back to the image
size. An eager model resizes inside its graph in the same way. DA-Monodepth resizes the
disparity before converting it to metres; for its artifacts (which return metres) the inverse
depth is resized instead, which is the same up to float rounding (metadata
``depth_interpolation: "inverse"``). A ``uint8``-input artifact given a resized or
floating-point image receives it re-quantised to 0…255.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .graph import OUTPUT_NAMES, resize_bilinear
from .images import as_image_list, group_by_size, to_chw_tensor
from .runtime import Runner, load_runner

__all__ = ["Predictor", "predict"]

OutputSpec = Union[str, Sequence[str]]


def _unit_float(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.float32) / 255.0 if x.dtype == torch.uint8 else x.to(torch.float32)


def _to_dtype(x: torch.Tensor, dtype: str) -> torch.Tensor:
    if dtype == "any":
        return x
    if dtype == "float32":
        return _unit_float(x)
    if x.dtype == torch.uint8:
        return x
    return (x * 255.0).round().clamp(0, 255).to(torch.uint8)


class Predictor:
    """A loaded model or artifact ready for repeated :meth:`__call__` (what :func:`predict` builds).

    Args:
        model: an ``S2RDepthNet``/``DAMonodepth`` (or their ``*Predictor`` wrappers), a checkpoint
            (``.safetensors``) or an exported artifact (``.pt`` TorchScript, ``.pt2``
            torch.export, ``.onnx`` via onnxruntime, ``.engine`` TensorRT).
        device: ``"cpu"``/``"cuda"``/...; default the GPU when available.
        batch_size: images per forward pass (same-size images only; capped by the artifact's
            batch range).
        network_size: (H, W) the network runs at, for models and checkpoints (default the
            checkpoint's ``extra["network_size"]``, else 192 x 640).
        depth_kwargs: ``max_depth`` / ``min_depth`` / ``scale`` for models and checkpoints.
    """

    def __init__(self, model: Any, device: Optional[Union[str, torch.device]] = None,
                 batch_size: int = 8, network_size: Optional[Tuple[int, int]] = None,
                 **depth_kwargs: Any) -> None:
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.runner: Runner = load_runner(model, device, network_size, **depth_kwargs)
        lo, hi = self.runner.batch_range
        self.batch_size = max(1, min(int(batch_size), hi))

    @property
    def outputs(self) -> Tuple[str, ...]:
        """Outputs this model can produce."""
        return tuple(self.runner.outputs)

    def _wanted(self, output: OutputSpec) -> Tuple[Tuple[str, ...], bool]:
        if isinstance(output, str):
            if output == "depth":
                return ("depth",), False
            if output == "all":
                return self.outputs, True
            names: Tuple[str, ...] = (output,)
        else:
            names = tuple(output)
        unknown = [n for n in names if n not in OUTPUT_NAMES]
        if unknown:
            raise ValueError(f"unknown output {unknown}; choose from 'depth', 'all' or names in {OUTPUT_NAMES}")
        missing = [n for n in names if n not in self.outputs]
        if missing:
            raise ValueError(f"this model cannot output {missing} (it has {list(self.outputs)}; S2R "
                             "artifacts need `export(..., outputs='all')` for the maps)")
        return names, True

    def run_batch(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """N x 3 x H x W images (uint8 or float32 [0, 1], all the same size) → outputs at H x W."""
        r = self.runner
        x = x.to(r.device)
        h, w = int(x.shape[2]), int(x.shape[3])
        resized = r.size is not None and (h, w) != tuple(r.size)
        if resized:
            x = resize_bilinear(_unit_float(x), r.size[0], r.size[1])
        x = _to_dtype(x, r.input_dtype).contiguous()
        n = int(x.shape[0])
        lo, _ = r.batch_range
        if n < lo:  # static-batch artifact: pad with copies of the last image
            x = torch.cat([x, x[-1:].expand(lo - n, -1, -1, -1)], 0)
        outs = r(x)
        inverse = r.metadata.get("depth_interpolation") == "inverse"
        result = {}
        for name, value in outs.items():
            value = value[:n].to(torch.float32)
            if resized and name == "depth" and inverse:
                # DA-Monodepth: depth is affine in 1 / disparity, so resizing the inverse depth
                # equals resizing the disparity first, as the eager model does.
                value = 1.0 / resize_bilinear(1.0 / value, h, w)
            elif resized:
                value = resize_bilinear(value, h, w)
            result[name] = value
        return result

    def __call__(self, images: Any, output: OutputSpec = "depth", progress: bool = False
                 ) -> Union[np.ndarray, Dict[str, np.ndarray], List[Any]]:
        """Predict; see :func:`predict` for ``images``, ``output`` and the return value."""
        wanted, as_dict = self._wanted(output)
        items, names, single = as_image_list(images)
        tensors = [to_chw_tensor(item, name) for item, name in zip(items, names)]
        results: List[Any] = [None] * len(tensors)
        bar = None
        if progress and len(tensors) > 1:
            try:
                from tqdm import tqdm

                bar = tqdm(total=len(tensors), unit="img", desc="predict")
            except ImportError:  # pragma: no cover - tqdm is optional
                bar = None
        try:
            for _, indices in group_by_size(tensors).items():
                for start in range(0, len(indices), self.batch_size):
                    chunk = indices[start:start + self.batch_size]
                    outs = self.run_batch(torch.stack([tensors[i] for i in chunk]))
                    host = {k: outs[k].detach().to("cpu").numpy() for k in wanted}
                    for j, i in enumerate(chunk):
                        maps = {k: np.ascontiguousarray(host[k][j, 0], dtype=np.float32) for k in wanted}
                        results[i] = maps if as_dict else maps["depth"]
                    if bar is not None:
                        bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        return results[0] if single else results


def predict(images: Any, model: Any, *, device: Optional[Union[str, torch.device]] = None,
            batch_size: int = 8, output: OutputSpec = "depth",
            network_size: Optional[Tuple[int, int]] = None, progress: bool = False,
            **depth_kwargs: Any) -> Union[np.ndarray, Dict[str, np.ndarray], List[Any]]:
    """Depth in metres for one image or a list of images.

    Args:
        images: a path, a PIL image, an H x W x 3 NumPy array (``uint8``, ``uint16`` or float in
            [0, 1]), a 3 x H x W tensor (``uint8`` or float in [0, 1]), or a list of these; a 4-D
            array/tensor is a batch. Conversions: :mod:`s2rdepth.deploy.images`.
        model: a model, a checkpoint path, an artifact path, or a :class:`Predictor` (reuse it for
            repeated calls: loading is the expensive part).
        device: default the GPU when available.
        batch_size: images per forward pass (same-size images are batched together).
        output: ``"depth"`` (arrays), ``"all"`` (dicts of every available map: ``depth``,
            ``structure``, ``attention`` for S2R-DepthNet) or a list of names (dicts).
        network_size: (H, W) for models and checkpoints (artifacts carry theirs).
        progress: show a tqdm progress bar for several images.
        depth_kwargs: ``max_depth`` / ``min_depth`` / ``scale`` for models and checkpoints.

    Returns:
        For one image: an H x W ``float32`` array of metres (or a dict of H x W arrays); for a
        list or batch: a list of those, in input order. Every map has its input's resolution.
    """
    predictor = model if isinstance(model, Predictor) else Predictor(
        model, device=device, batch_size=batch_size, network_size=network_size, **depth_kwargs)
    return predictor(images, output=output, progress=progress)
