"""Deployment: prediction API, exported artifacts, TensorRT engines.

================================  ==============================================================
:func:`predict`                   images (paths, PIL, NumPy, tensors) → depth in metres at each
                                  input's resolution, from a model, checkpoint or artifact
:class:`Predictor`                a loaded model/artifact for repeated predictions
:func:`export`                    TorchScript / torch.export / ONNX (opset 17) / TensorRT artifacts
                                  with preprocessing, metres conversion and metadata inside
:func:`read_metadata`             an artifact's metadata (input size, depth range, versions, hash)
:func:`load_runner`               the runner behind ``predict`` for any model kind
:func:`build_graph`               the exportable graph (image → metres, optional maps)
:func:`tensorrt_compatibility`    check an ONNX graph against the TensorRT ONNX parser's op list
``tensorrt_engine``               TensorRT builder (8.5 / 10.x; FP16, INT8) and runtime
``colormap``                      16-bit depth PNGs and colour-mapped previews
``sources``                       checkpoints and official S2R-DepthNet folders as model sources
``demo``                          untrained models with varied outputs (tests, benchmarks)
================================  ==============================================================

Deployment guide (Jetson, trtexec, C++): ``deploy/README.md`` in the source tree.
"""
from __future__ import annotations

from .artifacts import ARTIFACT_FORMATS, ArtifactError, detect_format, read_metadata
from .exporter import export
from .graph import OUTPUT_NAMES, build_graph
from .images import ImageInputError, ImageNotFoundError, ImageReadError, load_image
from .prediction import Predictor, predict
from .runtime import load_runner
from .tensorrt_ops import TENSORRT_ONNX_OPS, tensorrt_compatibility

__all__ = [
    "ARTIFACT_FORMATS", "ArtifactError", "ImageInputError", "ImageNotFoundError", "ImageReadError",
    "OUTPUT_NAMES", "Predictor", "TENSORRT_ONNX_OPS", "build_graph", "detect_format", "export",
    "load_image", "load_runner", "predict", "read_metadata", "tensorrt_compatibility",
]
