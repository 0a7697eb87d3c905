"""Runners: one interface over eager models and every exported artifact format.

A runner is called with an N x 3 x h x w batch (``uint8`` or ``float32`` in [0, 1], on
:attr:`Runner.device`) and returns ``{output name: N x 1 x h x w float32 tensor}`` (``depth`` in
metres; ``structure``/``attention`` in [0, 1] when available). Its attributes tell
:func:`s2rdepth.predict` how to feed it:

* :attr:`Runner.size` — ``(H, W)`` the input must have (exported artifacts), or ``None`` when any
  size works (eager models resize internally);
* :attr:`Runner.input_dtype` — ``"uint8"``, ``"float32"`` or ``"any"``;
* :attr:`Runner.batch_range` — ``(min, max)`` batch sizes accepted (a static-batch artifact has
  ``min == max``; ``predict`` pads a short batch);
* :attr:`Runner.outputs` — output names, in graph order.

:func:`load_runner` picks the runner from what it is given: an ``S2RDepthNet``/``DAMonodepth``
(or an ``S2RPredictor``/``DAMonodepthPredictor``), a checkpoint (``.safetensors``) or a folder
of official S2R-DepthNet files, a TorchScript
(``.pt``), ``torch.export`` (``.pt2``), ONNX (``.onnx``, onnxruntime) or TensorRT (``.engine``,
needs ``tensorrt`` and a GPU) file.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from .artifacts import ArtifactError, detect_format, read_metadata
from .graph import OUTPUT_NAMES, DepthGraph, available_outputs, build_graph

__all__ = ["DEFAULT_NETWORK_SIZE", "EagerRunner", "ExportedProgramRunner", "OnnxRunner", "Runner",
           "TensorRTEngineRunner", "TorchScriptRunner", "default_device", "load_runner"]

#: Network size (H, W) used when neither the caller nor the checkpoint gives one (KITTI).
DEFAULT_NETWORK_SIZE: Tuple[int, int] = (192, 640)


def default_device() -> torch.device:
    """``cuda`` when a GPU is visible, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Runner:
    """Base class (see the module docstring)."""

    kind: str = "?"
    device: torch.device = torch.device("cpu")
    size: Optional[Tuple[int, int]] = None
    input_dtype: str = "any"
    batch_range: Tuple[int, int] = (1, 1 << 30)
    outputs: Tuple[str, ...] = ("depth",)
    metadata: Dict[str, Any] = {}

    def __call__(self, image: torch.Tensor) -> Dict[str, torch.Tensor]:
        raise NotImplementedError

    def describe(self) -> str:
        size = f"{self.size[0]}x{self.size[1]}" if self.size else "any size"
        return f"{self.kind} on {self.device} ({size}, input {self.input_dtype}, outputs {', '.join(self.outputs)})"


def _check_outputs(values: Sequence[torch.Tensor], names: Sequence[str], where: str) -> Dict[str, torch.Tensor]:
    if len(values) != len(names):
        raise ArtifactError(f"{where}: returned {len(values)} outputs, metadata lists {list(names)}")
    return {n: v.to(torch.float32) for n, v in zip(names, values)}


class EagerRunner(Runner):
    """An in-memory model through :class:`~s2rdepth.deploy.graph.DepthGraph` with ``resize=True``
    and the fused :mod:`s2rdepth.ops` (any input size, uint8 or float)."""

    kind = "eager"

    def __init__(self, model: nn.Module, device: torch.device,
                 network_size: Optional[Tuple[int, int]] = None, **depth_kwargs: Any) -> None:
        from ..models.inference import DAMonodepthPredictor, S2RPredictor

        if isinstance(model, S2RPredictor):
            network_size = network_size or (model.net_h, model.net_w)
            depth_kwargs.setdefault("max_depth", model.max_depth)
            model = model.model
        elif isinstance(model, DAMonodepthPredictor):
            network_size = network_size or (model.net_h, model.net_w)
            depth_kwargs.setdefault("min_depth", model.min_depth)
            depth_kwargs.setdefault("max_depth", model.max_depth)
            depth_kwargs.setdefault("scale", model.scale)
            model = model.model
        h, w = network_size or DEFAULT_NETWORK_SIZE
        self.outputs = available_outputs(model)
        self.graph: DepthGraph = build_graph(model, h, w, resize=True, export_ops=False,
                                             **depth_kwargs).to(device)
        self.device = device
        self.network_size = (h, w)
        self.metadata = {"arch": type(model).__name__, "network_size": [h, w]}

    def __call__(self, image: torch.Tensor) -> Dict[str, torch.Tensor]:
        with torch.inference_mode():
            depth, structure, attention = self.graph._run(image.to(self.device))
        out = {"depth": depth}
        if structure is not None:
            out["structure"] = structure
        if attention is not None:
            out["attention"] = attention
        return out

    def describe(self) -> str:
        h, w = self.network_size
        return f"eager on {self.device} (network {h}x{w}, any input size, outputs {', '.join(self.outputs)})"


class _ArtifactRunner(Runner):
    def _init_meta(self, path: Path, meta: Dict[str, Any]) -> None:
        self.path = path
        self.metadata = meta
        try:
            self.size = (int(meta["input_height"]), int(meta["input_width"]))
            self.input_dtype = str(meta.get("input_dtype", "float32"))
            self.outputs = tuple(meta.get("outputs", ["depth"]))
            self.batch_range = (int(meta.get("batch_min", 1)), int(meta.get("batch_max", 1 << 30)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{path}: incomplete s2rdepth metadata ({exc})") from None
        if self.input_dtype not in ("uint8", "float32", "any"):
            raise ArtifactError(f"{path}: unknown input_dtype {self.input_dtype!r} in metadata")


class TorchScriptRunner(_ArtifactRunner):
    """A TorchScript artifact (``torch.jit.load``); the batch is always dynamic."""

    kind = "torchscript"

    def __init__(self, path: Path, device: torch.device) -> None:
        self._init_meta(path, read_metadata(path, "torchscript"))
        try:
            self.module = torch.jit.load(str(path), map_location=device)
        except Exception as exc:
            raise ArtifactError(f"{path}: cannot load the TorchScript archive ({type(exc).__name__}: "
                                f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
        self.module.eval()
        self.device = device

    def __call__(self, image: torch.Tensor) -> Dict[str, torch.Tensor]:
        try:
            with torch.inference_mode():
                out = self.module(image.to(self.device))
        except torch.jit.Error as exc:  # not a RuntimeError: keep the graph's own message
            lines = [ln for ln in str(exc).splitlines() if ln.strip()]
            raise RuntimeError(f"{self.path}: {lines[-1] if lines else exc}") from None
        values = list(out) if isinstance(out, (tuple, list)) else [out]
        return _check_outputs(values, self.outputs, str(self.path))


class ExportedProgramRunner(_ArtifactRunner):
    """A ``torch.export`` artifact (``torch.export.load``)."""

    kind = "torch-export"

    def __init__(self, path: Path, device: torch.device) -> None:
        self._init_meta(path, read_metadata(path, "torch-export"))
        try:
            program = torch.export.load(str(path))
        except Exception as exc:
            raise ArtifactError(f"{path}: cannot load the torch.export archive ({type(exc).__name__}: "
                                f"{exc})") from None
        if device.type != "cpu":
            from torch.export.passes import move_to_device_pass

            program = move_to_device_pass(program, device)
        self.module = program.module()
        self.device = device

    def __call__(self, image: torch.Tensor) -> Dict[str, torch.Tensor]:
        with torch.inference_mode():
            out = self.module(image.to(self.device))
        values = list(out) if isinstance(out, (tuple, list)) else [out]
        return _check_outputs(values, self.outputs, str(self.path))


class OnnxRunner(_ArtifactRunner):
    """An ONNX artifact in onnxruntime (CUDA execution provider when the device is CUDA and the
    installed onnxruntime has it; inputs and outputs pass through host memory)."""

    kind = "onnx"

    def __init__(self, path: Path, device: torch.device, threads: Optional[int] = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise ArtifactError(f"{path}: running ONNX models needs onnxruntime "
                                "(pip install onnxruntime or onnxruntime-gpu)") from None
        self._init_meta(path, read_metadata(path, "onnx"))
        providers = ["CPUExecutionProvider"]
        if device.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
        try:
            self.session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as exc:
            raise ArtifactError(f"{path}: onnxruntime cannot load the model ({type(exc).__name__}: "
                                f"{exc})") from None
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.device = torch.device("cpu")
        self.providers = self.session.get_providers()

    def __call__(self, image: torch.Tensor) -> Dict[str, torch.Tensor]:
        x = image.detach().to("cpu").contiguous().numpy()
        values = self.session.run(self.output_names, {self.input_name: x})
        return _check_outputs([torch.from_numpy(v) for v in values], self.outputs, str(self.path))

    def describe(self) -> str:
        return super().describe() + f" [{', '.join(self.providers)}]"


class TensorRTEngineRunner(_ArtifactRunner):
    """A TensorRT engine (:class:`~s2rdepth.deploy.tensorrt_engine.TensorRTRunner`); CUDA only."""

    kind = "tensorrt"

    def __init__(self, path: Path, device: torch.device) -> None:
        from .artifacts import sidecar_path
        from .tensorrt_engine import TensorRTRunner

        if device.type != "cuda":
            device = torch.device("cuda")
        if sidecar_path(path).is_file():
            self._init_meta(path, read_metadata(path, "tensorrt"))
            self.runner = TensorRTRunner(path, device, metadata=self.metadata)
        else:  # e.g. built by trtexec: take size, dtype and outputs from the engine itself
            self.runner = TensorRTRunner(path, device, metadata={})
            self._init_meta(path, self.runner.describe_io())
        self.batch_range = self.runner.batch_range
        self.device = device

    def __call__(self, image: torch.Tensor) -> Dict[str, torch.Tensor]:
        out = self.runner(image.to(self.device))
        return {n: out[n] for n in self.outputs}


def load_runner(model: Any, device: Optional[str | torch.device] = None,
                network_size: Optional[Tuple[int, int]] = None, onnx_threads: Optional[int] = None,
                **depth_kwargs: Any) -> Runner:
    """The :class:`Runner` for ``model`` (see the module docstring).

    Args:
        model: a model object, a checkpoint path (or a folder with the four official
            S2R-DepthNet files, :mod:`s2rdepth.deploy.sources`) or an artifact path.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...; default :func:`default_device`.
        network_size: (H, W) for models and checkpoints (default: the checkpoint's
            ``extra["network_size"]``, else 192 x 640). Artifacts have a fixed size (their
            metadata); passing a different one is an error.
        depth_kwargs: ``max_depth``/``min_depth``/``scale`` overrides for models/checkpoints.
    """
    dev = torch.device(device) if device is not None else default_device()
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {dev} requested but CUDA is not available")
    if isinstance(model, Runner):
        return model
    if isinstance(model, torch.jit.ScriptModule):
        raise TypeError("pass the TorchScript file path (its metadata gives the input size), not a "
                        "loaded ScriptModule")
    if isinstance(model, nn.Module):
        return EagerRunner(model, dev, network_size, **depth_kwargs)
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a model, a checkpoint path or an artifact path, got "
                        f"{type(model).__name__}")
    path = Path(model)
    from .sources import is_official_folder, load_model_source

    if is_official_folder(path) or (path.is_file() and detect_format(path) == "checkpoint"):
        source = load_model_source(path, depth_kwargs.pop("max_depth", None))
        kwargs = {**source.depth_kwargs, **depth_kwargs}
        return EagerRunner(source.model, dev, network_size or source.network_size, **kwargs)
    fmt = detect_format(path)
    if depth_kwargs:
        raise ValueError(f"{', '.join(depth_kwargs)} cannot be changed for an exported artifact "
                         "(the depth conversion is part of the graph)")
    if fmt == "torchscript":
        runner: Runner = TorchScriptRunner(path, dev)
    elif fmt == "torch-export":
        runner = ExportedProgramRunner(path, dev)
    elif fmt == "onnx":
        runner = OnnxRunner(path, dev, onnx_threads)
    elif fmt == "tensorrt":
        runner = TensorRTEngineRunner(path, dev)
    else:  # pragma: no cover - detect_format returns only the kinds above
        raise ArtifactError(f"{path}: unsupported model kind {fmt!r}")
    if network_size is not None and tuple(network_size) != runner.size:
        raise ValueError(f"{path} was exported for {runner.size[0]} x {runner.size[1]} inputs; "
                         f"network_size {tuple(network_size)} cannot be changed (export again)")
    unknown = [n for n in runner.outputs if n not in OUTPUT_NAMES]
    if unknown:
        raise ArtifactError(f"{path}: unknown outputs {unknown} in metadata")
    return runner
