"""``s2rdepth.export``: self-contained inference artifacts from a model or checkpoint.

.. code-block:: python

    import s2rdepth
    s2rdepth.export("s2r.safetensors", format="torchscript", out="s2r.pt", height=192, width=640)
    s2rdepth.export(model, format="onnx", out="s2r.onnx", dynamic_batch=True)
    s2rdepth.export("s2r.safetensors", format="tensorrt", out="s2r.engine", fp16=True,
                    dynamic_batch=True, max_batch=8)          # needs tensorrt + a GPU

Every artifact takes ``image`` N x 3 x H x W (RGB, exactly the export size) and returns
``depth`` in metres (N x 1 x H x W), plus ``structure`` and ``attention`` with
``outputs="all"``. Preprocessing and the metres conversion are inside the graph; no custom op
is (the fused :mod:`s2rdepth.ops` are replaced by standard ops, :mod:`s2rdepth.deploy.graph`).
Metadata: :mod:`s2rdepth.deploy.artifacts`.

Input dtype (``input_dtype``): TorchScript artifacts accept both ``uint8`` [0, 255] and
floating-point [0, 1] (``"any"``); the other formats fix one when exported: ``"float32"``
(default; [0, 1]) or ``"uint8"`` (TensorRT ≥ 8.6 only).
"""
from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from ..checkpoint import atomic_write, model_config
from ..models.s2r import S2RDepthNet
from .artifacts import ARTIFACT_FORMATS, FORMAT_EXTENSIONS, METADATA_FILE, base_metadata, weights_sha256
from .graph import OUTPUT_NAMES, build_graph
from .onnx_export import ONNX_OPSET, export_onnx

__all__ = ["export", "resolve_model"]


def _arch_name(model: nn.Module) -> str:
    from ..models.presets import ARCHITECTURES

    for name, cls in ARCHITECTURES.items():
        if type(model) is cls:
            return name
    return type(model).__name__


def resolve_model(model: Any, max_depth: Optional[float] = None
                  ) -> Tuple[nn.Module, dict, Optional[str], Optional[str], dict]:
    """``(model, info, source name, source sha256, depth kwargs)`` from a model, an
    ``S2RPredictor``/``DAMonodepthPredictor``, a checkpoint path or an official S2R-DepthNet folder
    (:mod:`s2rdepth.deploy.sources`)."""
    from ..models.inference import DAMonodepthPredictor, S2RPredictor
    from ..models.da_monodepth import DAMonodepth
    from ..models.s2r import S2RDepthNet

    depth_kwargs: dict = {}
    source = digest = None
    extra: dict = {}
    if isinstance(model, (str, os.PathLike)):
        from .sources import load_model_source

        loaded = load_model_source(model, max_depth)
        depth_kwargs.update(loaded.depth_kwargs)
        net, source, digest = loaded.model, loaded.name, loaded.sha256
        if loaded.network_size is not None:
            extra["network_size"] = list(loaded.network_size)
    elif isinstance(model, S2RPredictor):
        net = model.model
        depth_kwargs["max_depth"] = model.max_depth
        extra["network_size"] = [model.net_h, model.net_w]
    elif isinstance(model, DAMonodepthPredictor):
        net = model.model
        depth_kwargs.update(min_depth=model.min_depth, max_depth=model.max_depth, scale=model.scale)
        extra["network_size"] = [model.net_h, model.net_w]
    else:
        net = model
    if max_depth is not None:
        depth_kwargs["max_depth"] = float(max_depth)
    if not isinstance(net, (S2RDepthNet, DAMonodepth)):
        raise TypeError(f"export needs an S2RDepthNet or DAMonodepth (or a checkpoint of one), got "
                        f"{type(net).__name__}")
    return net, {"network_size": extra.get("network_size")}, source, digest, depth_kwargs


def _outputs(outputs: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    if outputs == "depth":
        return ("depth",)
    if outputs == "all":
        return OUTPUT_NAMES
    names = tuple(outputs)
    if names not in (("depth",), OUTPUT_NAMES):
        raise ValueError(f"outputs must be 'depth', 'all' or {OUTPUT_NAMES}, got {outputs!r}")
    return names


def export(model: Any, format: str = "torchscript", out: Optional[Union[str, os.PathLike[str]]] = None,
           *, height: Optional[int] = None, width: Optional[int] = None, dynamic_batch: bool = False,
           batch_size: int = 1, max_batch: int = 32, input_dtype: Optional[str] = None,
           outputs: Union[str, Sequence[str]] = "depth", fp16: bool = False, int8: bool = False,
           calib_images: Optional[Union[str, os.PathLike[str]]] = None,
           calib_cache: Optional[Union[str, os.PathLike[str]]] = None,
           timing_cache: Optional[Union[str, os.PathLike[str]]] = None, keep_norm_fp32: bool = True,
           workspace_gib: float = 2.0, keep_onnx: bool = True, onnx_exporter: str = "auto",
           optimize: bool = True, max_depth: Optional[float] = None) -> Path:
    """Export ``model`` (a model object, a ``.safetensors`` checkpoint or a folder of official
    S2R-DepthNet files) as an inference artifact.

    Args:
        format: ``"torchscript"`` (``.pt``), ``"torch-export"`` (``.pt2``), ``"onnx"`` (``.onnx``,
            opset 17) or ``"tensorrt"`` (``.engine`` + ``.engine.json``; needs ``tensorrt`` and a
            CUDA GPU; builds from an ONNX export, kept as ``<out>.onnx`` with ``keep_onnx``).
        out: output file (default ``<checkpoint stem or arch><extension>`` in the working folder).
        height, width: input size in pixels (default: the checkpoint's ``extra["network_size"]``,
            else 192 x 640). S2R: multiples of 16; DA-Monodepth: multiples of 32.
        dynamic_batch: symbolic batch dimension (1 … ``max_batch``); otherwise the batch is
            fixed to ``batch_size`` (TorchScript is always dynamic).
        input_dtype: ``"float32"`` ([0, 1], default) or ``"uint8"``; TorchScript accepts both.
        outputs: ``"depth"`` or ``"all"`` (adds the S2R structure and attention maps).
        fp16, int8, calib_images, calib_cache, timing_cache, keep_norm_fp32, workspace_gib:
            TensorRT builder options (:func:`s2rdepth.deploy.tensorrt_engine.build_engine`); the
            batch profile is 1 / ``batch_size`` / ``max_batch`` with ``dynamic_batch``.
        onnx_exporter: ``"auto"``, ``"dynamo"`` or ``"torchscript"`` (:mod:`.onnx_export`).
        optimize: freeze the TorchScript module (``torch.jit.freeze``: folded constants, faster).
        max_depth: metres of the depth range's far end (S2R: network value +1, e.g. 8 for the
            indoor official models; DA-Monodepth: ``disp_to_depth``'s maximum); default the model's.
    Returns the artifact path.
    """
    if format not in ARTIFACT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(ARTIFACT_FORMATS)}, got {format!r}")
    if (fp16 or int8 or calib_images) and format != "tensorrt":
        raise ValueError("fp16 / int8 / calib_images apply to format='tensorrt' only")
    if int(batch_size) < 1 or int(max_batch) < 1:
        raise ValueError("batch_size and max_batch must be >= 1")
    if dynamic_batch and int(batch_size) > int(max_batch):
        raise ValueError(f"batch_size {batch_size} exceeds max_batch {max_batch}")
    names = _outputs(outputs)
    net, info, source, digest, depth_kwargs = resolve_model(model, max_depth)
    size = info.get("network_size") or (192, 640)
    h = int(height if height is not None else size[0])
    w = int(width if width is not None else size[1])
    if format == "torchscript":
        dtype = "any"
        if input_dtype not in (None, "any", "uint8", "float32"):
            raise ValueError(f"input_dtype must be 'uint8' or 'float32', got {input_dtype!r}")
    else:
        dtype = input_dtype or "float32"
        if dtype not in ("uint8", "float32"):
            raise ValueError(f"input_dtype must be 'uint8' or 'float32' for {format}, got {input_dtype!r}")
    graph = build_graph(net.to("cpu"), h, w, outputs=names, resize=False, export_ops=True, **depth_kwargs).eval()
    dynamic = bool(dynamic_batch) or format == "torchscript"
    if format == "torchscript":
        batch = (1, int(batch_size), 1 << 30)
    elif dynamic:
        batch = (1, int(batch_size), int(max_batch))
    else:
        batch = (int(batch_size),) * 3
    if out is None:
        stem = Path(source).stem if source else _arch_name(net)
        out = Path(f"{stem}{FORMAT_EXTENSIONS[format]}")
    out = Path(out)
    extra: dict = {}
    if format in ("onnx", "tensorrt"):
        extra["onnx_opset"] = ONNX_OPSET
    meta = base_metadata(
        artifact_format=format, arch=_arch_name(net), config=model_config(net), height=h, width=w,
        input_dtype=dtype, outputs=names, depth_range=graph.depth_range, dynamic_batch=dynamic,
        batch=batch, source_checkpoint=source, source_sha256=digest, weights_hash=weights_sha256(net),
        variant=getattr(net, "variant", None),
        depth_interpolation="linear" if isinstance(net, S2RDepthNet) else "inverse", **extra)
    n_example = 2 if (dynamic and format != "torchscript") else batch[1]
    example = torch.rand(n_example, 3, h, w, generator=torch.Generator().manual_seed(0))
    if dtype == "uint8":
        example = (example * 255).round().to(torch.uint8)

    if format == "torchscript":
        _export_torchscript(graph, out, meta, optimize)
    elif format == "torch-export":
        _export_program(graph, out, example, meta, dynamic, batch)
    elif format == "onnx":
        export_onnx(graph, out, example, output_names=names, dynamic_batch=dynamic,
                    max_batch=batch[2], metadata=meta, exporter=onnx_exporter)
    else:
        from .tensorrt_engine import build_engine, tensorrt_available

        if not tensorrt_available():
            raise RuntimeError("format='tensorrt' needs the tensorrt Python package (and a CUDA GPU); "
                               "export ONNX instead and build the engine on the target with "
                               "deploy/README.md's instructions")
        onnx_path = out.with_name(out.name + ".onnx") if keep_onnx else \
            Path(tempfile.mkdtemp(prefix="s2rdepth-trt-")) / "model.onnx"
        export_onnx(graph, onnx_path, example, output_names=names, dynamic_batch=dynamic,
                    max_batch=batch[2], metadata={**meta, "artifact_format": "onnx"}, exporter=onnx_exporter)
        from .tensorrt_engine import TensorRTError, tensorrt_version
        from .tensorrt_ops import tensorrt_compatibility

        problems = tensorrt_compatibility(onnx_path, tensorrt_version() or "8.5")
        if problems:
            raise TensorRTError(f"TensorRT {tensorrt_version()} cannot take this graph: " + "; ".join(problems))
        build_engine(onnx_path, out, fp16=fp16, int8=int8, calib_images=calib_images,
                     calib_cache=calib_cache, timing_cache=timing_cache,
                     min_batch=batch[0] if dynamic else None, opt_batch=batch[1] if dynamic else None,
                     max_batch=batch[2] if dynamic else None, workspace_gib=workspace_gib,
                     keep_norm_fp32=keep_norm_fp32, metadata=meta)
    return out


def _export_torchscript(graph: nn.Module, out: Path, meta: dict, optimize: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.script(graph)
        if optimize:
            scripted = torch.jit.freeze(scripted)
    files = {METADATA_FILE: json.dumps(meta, sort_keys=True)}
    atomic_write(out, lambda tmp: torch.jit.save(scripted, str(tmp), _extra_files=files))


def _export_program(graph: nn.Module, out: Path, example: torch.Tensor, meta: dict, dynamic: bool,
                    batch: Tuple[int, int, int]) -> None:
    dynamic_shapes = None
    if dynamic:
        dynamic_shapes = ({0: torch.export.Dim("batch", min=1, max=max(2, batch[2]))},)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.export.export(graph, (example,), dynamic_shapes=dynamic_shapes)
    targets = [str(n.target) for n in program.graph.nodes if n.op == "call_function"]
    custom = sorted({t for t in targets if "s2rdepth" in t})
    if custom:  # pragma: no cover - guarded by replace_fused_modules
        raise RuntimeError(f"exported program still calls custom ops: {custom}")
    files = {METADATA_FILE: json.dumps(meta, sort_keys=True)}
    atomic_write(out, lambda tmp: torch.export.save(program, str(tmp), extra_files=files))
