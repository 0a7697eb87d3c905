"""TensorRT engine builder (ONNX → engine) and runtime wrapper, for TensorRT 8.5 and 10.x.

``tensorrt`` is imported lazily (only inside the functions), so this module imports without it.
It also runs as a stand-alone script, e.g. on a Jetson whose Python is older than s2rdepth
supports (JetPack 5: Python 3.8, TensorRT 8.5)::

    python3 tensorrt_engine.py model.onnx model.engine --fp16 --max-batch 8 \\
        [--int8 --calib-images DIR --calib-cache model.calib] [--timing-cache orin.timing]

(the script needs ``tensorrt`` and ``numpy``; INT8 calibration also needs ``torch`` with CUDA and
``Pillow``; the ``onnx`` package, when present, copies the s2rdepth metadata into the sidecar).

Version branches:

* TensorRT 8.5 (JetPack 5): explicit-batch network flag; ``init_libnvinfer_plugins`` registers
  the ``InstanceNormalization_TRT`` plugin the ONNX parser uses for ``InstanceNormalization``;
  named-tensor execution (``execute_async_v3``), bindings API before 8.5.
* TensorRT 8.6: as 8.5, plus the parser flag ``NATIVE_INSTANCENORM`` (native normalization layer).
* TensorRT 10.x: explicit batch is implicit (flag 0); native InstanceNorm by default; bindings
  API removed.

Builder features: optimisation profile (min/opt/max batch) for a dynamic batch, FP16, INT8 with
an entropy calibrator (``IInt8EntropyCalibrator2``) fed by real images and a calibration cache,
a timing cache file, and ``keep_norm_fp32`` (normalisation layers kept in FP32 under
``OBEY_PRECISION_CONSTRAINTS``; instance norm statistics lose accuracy in FP16).

Engines are specific to a GPU model and TensorRT version. The sidecar metadata
(``<engine>.json``) records both; :class:`TensorRTRunner` compares them with the current
machine before deserialising and raises :class:`EngineMismatchError` with the rebuild command
instead of letting TensorRT fail.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

__all__ = ["EngineMismatchError", "TensorRTError", "TensorRTRunner", "build_engine",
           "tensorrt_available", "tensorrt_version"]


class TensorRTError(RuntimeError):
    """TensorRT is missing, the ONNX model does not parse, or the build fails."""


class EngineMismatchError(TensorRTError):
    """The engine was built for another GPU or another TensorRT version."""


def tensorrt_available() -> bool:
    """Whether ``import tensorrt`` works (no GPU check)."""
    try:
        import tensorrt  # noqa: F401
    except Exception:
        return False
    return True


def _trt() -> Any:
    try:
        import tensorrt as trt
    except Exception as exc:
        raise TensorRTError(f"TensorRT is not importable ({type(exc).__name__}: {exc}); install it "
                            "(JetPack ships it; on x86: pip install tensorrt) or use the ONNX artifact "
                            "with onnxruntime") from None
    return trt


def tensorrt_version() -> Optional[str]:
    """The installed TensorRT version string, or ``None``."""
    try:
        import tensorrt as trt
    except Exception:
        return None
    return str(trt.__version__)


def _major_minor(version: str) -> Tuple[int, int]:
    parts = [p for p in version.split(".")[:2]]
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return 0, 0


def _gpu_identity() -> Dict[str, Any]:
    """Name and compute capability of CUDA device 0 (via torch), or empty when unknown."""
    try:
        import torch
    except Exception:
        return {}
    if not torch.cuda.is_available():
        return {}
    major, minor = torch.cuda.get_device_capability(0)
    return {"gpu_name": torch.cuda.get_device_name(0), "gpu_compute_capability": f"{major}.{minor}"}


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, str(path))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _sidecar(engine: Path) -> Path:
    return engine.with_name(engine.name + ".json")


# ---------------------------------------------------------------------------------------------
# INT8 calibration
# ---------------------------------------------------------------------------------------------
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")


def calibration_files(folder: str | os.PathLike[str], limit: int = 512) -> List[Path]:
    """Image files in ``folder`` (recursive, sorted, at most ``limit``, evenly spread)."""
    root = Path(folder)
    if not root.is_dir():
        raise TensorRTError(f"calibration image folder not found: {root}")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in _IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise TensorRTError(f"no calibration images ({', '.join(_IMAGE_SUFFIXES)}) in {root}")
    if len(files) > limit:
        step = len(files) / float(limit)
        files = [files[int(i * step)] for i in range(limit)]
    return files


def _load_calibration_image(path: Path, height: int, width: int, input_dtype: str) -> Any:
    """One image as a 3 x H x W torch tensor at the network size, in the input's dtype."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()
            rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    except Exception as exc:
        raise TensorRTError(f"cannot read calibration image {path} ({type(exc).__name__}: {exc})") from None
    x = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0)
    if x.shape[2] != height or x.shape[3] != width:  # same resize as s2rdepth.predict
        x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)
    if input_dtype == "uint8":
        x = (x * 255.0).round().clamp(0, 255).to(torch.uint8)
    return x[0]


def _make_calibrator(trt: Any, files: Sequence[Path], batch: int, shape: Tuple[int, int],
                     input_dtype: str, cache: Optional[Path]) -> Any:
    """An ``IInt8EntropyCalibrator2`` feeding ``files`` in batches through a CUDA buffer."""
    import torch

    if not torch.cuda.is_available():
        raise TensorRTError("INT8 calibration needs a CUDA device visible to PyTorch")

    class EntropyCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self) -> None:
            trt.IInt8EntropyCalibrator2.__init__(self)
            self.files = list(files)
            self.batch = int(batch)
            self.cursor = 0
            dtype = torch.uint8 if input_dtype == "uint8" else torch.float32
            self.buffer = torch.empty((self.batch, 3, shape[0], shape[1]), dtype=dtype, device="cuda")

        def get_batch_size(self) -> int:
            return self.batch

        def get_batch(self, names: List[str], *args: Any) -> Optional[List[int]]:
            if self.cursor + self.batch > len(self.files):
                return None
            chunk = self.files[self.cursor:self.cursor + self.batch]
            self.cursor += self.batch
            host = torch.stack([_load_calibration_image(p, shape[0], shape[1], input_dtype) for p in chunk])
            self.buffer.copy_(host)
            torch.cuda.synchronize()
            return [int(self.buffer.data_ptr())]

        def read_calibration_cache(self, *args: Any) -> Optional[bytes]:
            if cache is not None and cache.is_file():
                return cache.read_bytes()
            return None

        def write_calibration_cache(self, data: Any, *args: Any) -> None:
            if cache is not None:
                _atomic_write_bytes(cache, bytes(data))

    if len(files) < batch:
        raise TensorRTError(f"INT8 calibration needs at least {batch} images (one batch), got {len(files)}")
    return EntropyCalibrator()


# ---------------------------------------------------------------------------------------------
# builder
# ---------------------------------------------------------------------------------------------
def _keep_norms_fp32(trt: Any, network: Any) -> int:
    """Force normalisation layers (native or the InstanceNormalization plugin) and reductions to
    FP32; returns how many layers were constrained."""
    types = {getattr(trt.LayerType, n) for n in ("NORMALIZATION", "REDUCE") if hasattr(trt.LayerType, n)}
    plugin_types = {getattr(trt.LayerType, n) for n in ("PLUGIN_V2", "PLUGIN_V3", "PLUGIN")
                    if hasattr(trt.LayerType, n)}
    count = 0
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        is_norm = layer.type in types or (layer.type in plugin_types and "norm" in layer.name.lower())
        if not is_norm:
            continue
        layer.precision = trt.float32
        for j in range(layer.num_outputs):
            layer.set_output_type(j, trt.float32)
        count += 1
    return count


def build_engine(onnx_path: str | os.PathLike[str], engine_path: str | os.PathLike[str], *,
                 fp16: bool = False, int8: bool = False,
                 calib_images: Optional[str | os.PathLike[str]] = None,
                 calib_cache: Optional[str | os.PathLike[str]] = None, calib_max_images: int = 512,
                 timing_cache: Optional[str | os.PathLike[str]] = None,
                 min_batch: Optional[int] = None, opt_batch: Optional[int] = None,
                 max_batch: Optional[int] = None, workspace_gib: float = 2.0,
                 keep_norm_fp32: bool = True, native_instancenorm: bool = True,
                 metadata: Optional[Dict[str, Any]] = None, verbose: bool = False,
                 log: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> Path:
    """Build a serialized TensorRT engine from an ONNX model (input ``image`` N x 3 x H x W).

    Args:
        fp16: allow FP16 kernels (``BuilderFlag.FP16``).
        int8: allow INT8 kernels, calibrated with ``calib_images`` (a folder of real images; the
            entropy calibrator resizes them to the network size as ``predict`` does) or an
            existing ``calib_cache`` file (written after calibration; default
            ``<engine>.calib``). Calibration runs at ``opt_batch``.
        timing_cache: file to load the builder timing cache from (if present) and save it to.
        min_batch, opt_batch, max_batch: optimisation profile of a dynamic batch dimension
            (defaults: 1, max, the ONNX batch size or 1 … 8 when dynamic). Ignored for a
            static-batch model.
        workspace_gib: builder workspace limit in GiB.
        keep_norm_fp32: keep normalisation layers in FP32 when FP16/INT8 is on.
        native_instancenorm: on TensorRT ≥ 8.6 use the native normalisation layer for
            ``InstanceNormalization`` (else the plugin).
        metadata: s2rdepth artifact metadata to store in the sidecar ``<engine>.json`` (default:
            the ONNX model's, when the ``onnx`` package is importable).
    Returns the engine path. Raises :class:`TensorRTError` on a parse or build failure.
    """
    trt = _trt()
    onnx_path, engine_path = Path(onnx_path), Path(engine_path)
    if not onnx_path.is_file():
        raise TensorRTError(f"ONNX model not found: {onnx_path}")
    version = str(trt.__version__)
    major_minor = _major_minor(version)
    logger = trt.Logger(trt.Logger.VERBOSE if verbose else trt.Logger.WARNING)
    # TensorRT 8.5 imports ONNX InstanceNormalization through the InstanceNormalization_TRT
    # plugin: the plugin library must be registered before parsing (harmless on newer versions).
    trt.init_libnvinfer_plugins(logger, "")
    builder = trt.Builder(logger)
    if major_minor >= (10, 0):
        network = builder.create_network(0)  # explicit batch is the only mode
    else:
        network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH))
    parser = trt.OnnxParser(network, logger)
    if native_instancenorm and major_minor >= (8, 6) and hasattr(trt, "OnnxParserFlag"):
        flag = getattr(trt.OnnxParserFlag, "NATIVE_INSTANCENORM", None)
        if flag is not None:
            parser.set_flag(flag)
    if not parser.parse(onnx_path.read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise TensorRTError(f"TensorRT {version} cannot parse {onnx_path}: {errors}")
    if network.num_inputs != 1:
        raise TensorRTError(f"expected one network input, got {network.num_inputs}")
    inp = network.get_input(0)
    shape = tuple(inp.shape)
    if len(shape) != 4 or shape[1] != 3 or shape[2] <= 0 or shape[3] <= 0:
        raise TensorRTError(f"expected input N x 3 x H x W with static H, W, got {shape}")
    height, width = int(shape[2]), int(shape[3])
    input_dtype = "uint8" if getattr(trt, "uint8", None) is not None and inp.dtype == trt.uint8 else "float32"

    config = builder.create_builder_config()
    workspace = int(workspace_gib * (1 << 30))
    if hasattr(config, "set_memory_pool_limit"):
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace)
    else:  # TensorRT < 8.4
        config.max_workspace_size = workspace
    dynamic = shape[0] < 0
    if dynamic:
        max_batch = int(max_batch or 8)
        min_batch = int(min_batch or 1)
        opt_batch = int(opt_batch or max_batch)
        if not 1 <= min_batch <= opt_batch <= max_batch:
            raise TensorRTError(f"need 1 <= min_batch <= opt_batch <= max_batch, got "
                                f"{min_batch}, {opt_batch}, {max_batch}")
        profile = builder.create_optimization_profile()
        profile.set_shape(inp.name, (min_batch, 3, height, width), (opt_batch, 3, height, width),
                          (max_batch, 3, height, width))
        config.add_optimization_profile(profile)
    else:
        min_batch = opt_batch = max_batch = int(shape[0])
        profile = None

    precision = "fp32"
    if fp16:
        if not getattr(builder, "platform_has_fast_fp16", True):
            log("warning: this GPU has no fast FP16; building anyway")
        config.set_flag(trt.BuilderFlag.FP16)
        precision = "fp16"
    calib_cache_path: Optional[Path] = None
    if int8:
        if not getattr(builder, "platform_has_fast_int8", True):
            log("warning: this GPU has no fast INT8; building anyway")
        config.set_flag(trt.BuilderFlag.INT8)
        calib_cache_path = Path(calib_cache) if calib_cache else engine_path.with_suffix(".calib")
        files: List[Path] = []
        if calib_images is not None:
            files = calibration_files(calib_images, calib_max_images)
        elif not calib_cache_path.is_file():
            raise TensorRTError("INT8 needs calibration images (--calib-images DIR) or an existing "
                                f"calibration cache ({calib_cache_path})")
        batch = opt_batch if dynamic else max_batch
        if files:
            calibrator = _make_calibrator(trt, files, batch, (height, width), input_dtype, calib_cache_path)
        else:  # replay the cache: the calibrator is never asked for data
            calibrator = _make_cache_only_calibrator(trt, batch, calib_cache_path)
        config.int8_calibrator = calibrator
        if profile is not None and hasattr(config, "set_calibration_profile"):
            config.set_calibration_profile(profile)
        precision = "int8+fp16" if fp16 else "int8"
    if keep_norm_fp32 and (fp16 or int8):
        constrained = _keep_norms_fp32(trt, network)
        flag = getattr(trt.BuilderFlag, "OBEY_PRECISION_CONSTRAINTS", None) or \
            getattr(trt.BuilderFlag, "STRICT_TYPES")
        config.set_flag(flag)
        log(f"kept {constrained} normalisation/reduction layers in FP32")

    cache_obj = None
    timing_path = Path(timing_cache) if timing_cache else None
    if timing_path is not None and hasattr(config, "create_timing_cache"):
        data = timing_path.read_bytes() if timing_path.is_file() else b""
        cache_obj = config.create_timing_cache(data)
        config.set_timing_cache(cache_obj, ignore_mismatch=False)

    log(f"building TensorRT {version} engine: {height}x{width}, batch {min_batch}..{max_batch} "
        f"(opt {opt_batch}), {precision}")
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise TensorRTError(f"TensorRT {version} failed to build an engine from {onnx_path} "
                            "(see the TensorRT log above)")
    _atomic_write_bytes(engine_path, bytes(serialized))
    if timing_path is not None and cache_obj is not None:
        _atomic_write_bytes(timing_path, bytes(config.get_timing_cache().serialize()))

    meta = dict(metadata) if metadata is not None else _onnx_metadata(onnx_path)
    meta.update({
        "artifact_format": "tensorrt",
        "input_height": height, "input_width": width, "input_dtype": input_dtype,
        "dynamic_batch": dynamic, "batch_min": min_batch, "batch_opt": opt_batch, "batch_max": max_batch,
        "precision": precision, "keep_norm_fp32": bool(keep_norm_fp32 and (fp16 or int8)),
        "tensorrt_version": version, "source_onnx": onnx_path.name,
    })
    meta.update(_gpu_identity())
    if calib_cache_path is not None:
        meta["calibration_cache"] = calib_cache_path.name
    meta.setdefault("format", "s2rdepth.artifact")
    _atomic_write_bytes(_sidecar(engine_path), json.dumps(meta, indent=2, sort_keys=True).encode())
    return engine_path


def _make_cache_only_calibrator(trt: Any, batch: int, cache: Path) -> Any:
    """A calibrator that only replays an existing calibration cache."""

    class CacheCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self) -> None:
            trt.IInt8EntropyCalibrator2.__init__(self)

        def get_batch_size(self) -> int:
            return int(batch)

        def get_batch(self, names: List[str], *args: Any) -> Optional[List[int]]:
            return None

        def read_calibration_cache(self, *args: Any) -> Optional[bytes]:
            return cache.read_bytes()

        def write_calibration_cache(self, data: Any, *args: Any) -> None:
            return None

    return CacheCalibrator()


def _onnx_metadata(onnx_path: Path) -> Dict[str, Any]:
    try:
        import onnx

        model = onnx.load(str(onnx_path), load_external_data=False)
    except Exception:  # no onnx package (Jetson) or not parseable by it: minimal metadata
        return {"format": "s2rdepth.artifact", "outputs": ["depth"]}
    raw = {p.key: p.value for p in model.metadata_props}.get("s2rdepth")
    if raw:
        return json.loads(raw)
    return {"format": "s2rdepth.artifact", "outputs": [o.name for o in model.graph.output]}


# ---------------------------------------------------------------------------------------------
# runtime
# ---------------------------------------------------------------------------------------------
class TensorRTRunner:
    """Runs a serialized engine on CUDA tensors (PyTorch allocates the buffers).

    ``runner(image)`` takes an N x 3 x H x W CUDA tensor of the engine's input dtype and size
    (N within the engine's batch range) and returns ``{output name: tensor}`` (depth in metres,
    N x 1 x H x W, float32). Before deserialising, the sidecar metadata is compared with the
    current GPU and TensorRT version (:class:`EngineMismatchError`).
    """

    def __init__(self, engine_path: str | os.PathLike[str], device: Any = "cuda",
                 metadata: Optional[Dict[str, Any]] = None) -> None:
        import torch

        trt = _trt()
        self.path = Path(engine_path)
        if not self.path.is_file():
            raise FileNotFoundError(f"TensorRT engine not found: {self.path}")
        if not torch.cuda.is_available():
            raise TensorRTError("running a TensorRT engine needs a CUDA GPU; none is visible")
        self.device = torch.device(device)
        if self.device.type != "cuda":
            raise TensorRTError(f"TensorRT engines run on CUDA devices, not {self.device}")
        side = _sidecar(self.path)
        if metadata is None:
            metadata = json.loads(side.read_text()) if side.is_file() else {}
        self.metadata = metadata
        self._check_compatible(trt)
        self.logger = trt.Logger(trt.Logger.WARNING)
        trt.init_libnvinfer_plugins(self.logger, "")
        self.runtime = trt.Runtime(self.logger)
        with torch.cuda.device(self.device):
            self.engine = self.runtime.deserialize_cuda_engine(self.path.read_bytes())
            if self.engine is None:
                raise EngineMismatchError(
                    f"TensorRT {trt.__version__} could not deserialize {self.path}: built with another "
                    "TensorRT version or for another GPU, or corrupt; rebuild it on this machine")
            self.context = self.engine.create_execution_context()
        self.named_api = hasattr(self.engine, "num_io_tensors")
        self.inputs: List[str] = []
        self.outputs: List[str] = []
        if self.named_api:
            for i in range(self.engine.num_io_tensors):
                name = self.engine.get_tensor_name(i)
                mode = self.engine.get_tensor_mode(name)
                (self.inputs if mode == trt.TensorIOMode.INPUT else self.outputs).append(name)
        else:  # TensorRT < 8.5
            for i in range(self.engine.num_bindings):
                name = self.engine.get_binding_name(i)
                (self.inputs if self.engine.binding_is_input(i) else self.outputs).append(name)
        if len(self.inputs) != 1:
            raise TensorRTError(f"{self.path}: expected one input tensor, got {self.inputs}")
        self.input_name = self.inputs[0]
        self.batch_range = self._batch_range()

    def _check_compatible(self, trt: Any) -> None:
        import torch

        built_trt = self.metadata.get("tensorrt_version")
        built_gpu = self.metadata.get("gpu_name")
        built_cc = self.metadata.get("gpu_compute_capability")
        major, minor = torch.cuda.get_device_capability(self.device)
        here_cc = f"{major}.{minor}"
        here_gpu = torch.cuda.get_device_name(self.device)
        problems = []
        if built_trt and built_trt != str(trt.__version__):
            problems.append(f"TensorRT {built_trt} (this machine: {trt.__version__})")
        if built_cc and built_cc != here_cc:
            problems.append(f"{built_gpu or 'a GPU'} with compute capability {built_cc} (this GPU: "
                            f"{here_gpu}, {here_cc})")
        if problems:
            raise EngineMismatchError(
                f"{self.path} was built for " + " and ".join(problems) + "; TensorRT engines only "
                "run on the GPU model and TensorRT version they were built with. Rebuild it here: "
                "s2rdepth export --checkpoint CKPT --format tensorrt --height H --width W --out ENGINE "
                "(or from the ONNX file: python -m s2rdepth.deploy.tensorrt_engine MODEL.onnx ENGINE)")

    def _batch_range(self) -> Tuple[int, int]:
        name = self.input_name
        if self.named_api:
            shape = tuple(self.engine.get_tensor_shape(name))
        else:
            shape = tuple(self.engine.get_binding_shape(self.engine.get_binding_index(name)))
        if shape[0] >= 0:
            return int(shape[0]), int(shape[0])
        if hasattr(self.engine, "get_tensor_profile_shape"):
            lo, _, hi = self.engine.get_tensor_profile_shape(name, 0)
        else:
            lo, _, hi = self.engine.get_profile_shape(0, name)
        return int(lo[0]), int(hi[0])

    def describe_io(self) -> Dict[str, Any]:
        """Metadata derived from the engine alone (for engines without a sidecar file)."""
        import torch

        name = self.input_name
        if self.named_api:
            shape = tuple(self.engine.get_tensor_shape(name))
        else:
            shape = tuple(self.engine.get_binding_shape(self.engine.get_binding_index(name)))
        if len(shape) != 4 or shape[1] != 3 or shape[2] <= 0 or shape[3] <= 0:
            raise TensorRTError(f"{self.path}: expected an N x 3 x H x W input, got {shape}")
        dtype = "uint8" if self._torch_dtype(name) == torch.uint8 else "float32"
        lo, hi = self.batch_range
        return {"format": "s2rdepth.artifact", "artifact_format": "tensorrt", "input_height": int(shape[2]),
                "input_width": int(shape[3]), "input_dtype": dtype, "outputs": list(self.outputs),
                "batch_min": lo, "batch_max": hi, "dynamic_batch": lo != hi}

    def _torch_dtype(self, name: str) -> Any:
        import torch

        trt = _trt()
        dtype = (self.engine.get_tensor_dtype(name) if self.named_api
                 else self.engine.get_binding_dtype(self.engine.get_binding_index(name)))
        table = {trt.float32: torch.float32, trt.float16: torch.float16, trt.int32: torch.int32,
                 trt.int8: torch.int8, trt.bool: torch.bool}
        if getattr(trt, "uint8", None) is not None:
            table[trt.uint8] = torch.uint8
        return table[dtype]

    def __call__(self, image: Any) -> Dict[str, Any]:
        import torch

        n = int(image.shape[0])
        lo, hi = self.batch_range
        if not lo <= n <= hi:
            raise ValueError(f"{self.path}: batch {n} outside the engine's range {lo}..{hi}")
        x = image.to(self.device, self._torch_dtype(self.input_name)).contiguous()
        stream = torch.cuda.current_stream(self.device)
        outputs: Dict[str, Any] = {}
        if self.named_api:
            if not self.context.set_input_shape(self.input_name, tuple(x.shape)):
                raise ValueError(f"{self.path}: input shape {tuple(x.shape)} rejected by the engine")
            self.context.set_tensor_address(self.input_name, int(x.data_ptr()))
            for name in self.outputs:
                shape = tuple(self.context.get_tensor_shape(name))
                out = torch.empty(shape, dtype=self._torch_dtype(name), device=self.device)
                self.context.set_tensor_address(name, int(out.data_ptr()))
                outputs[name] = out
            ok = self.context.execute_async_v3(stream.cuda_stream)
        else:
            bindings = [0] * self.engine.num_bindings
            index = self.engine.get_binding_index(self.input_name)
            self.context.set_binding_shape(index, tuple(x.shape))
            bindings[index] = int(x.data_ptr())
            for name in self.outputs:
                j = self.engine.get_binding_index(name)
                out = torch.empty(tuple(self.context.get_binding_shape(j)), dtype=self._torch_dtype(name),
                                  device=self.device)
                bindings[j] = int(out.data_ptr())
                outputs[name] = out
            ok = self.context.execute_async_v2(bindings, stream.cuda_stream)
        if not ok:
            raise TensorRTError(f"{self.path}: TensorRT execution failed")
        return {k: v.float() for k, v in outputs.items()}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Stand-alone builder: ``python3 tensorrt_engine.py MODEL.onnx OUT.engine [options]``."""
    import argparse

    p = argparse.ArgumentParser(prog="tensorrt_engine.py", description="Build a TensorRT engine from an "
                                "s2rdepth ONNX export (TensorRT 8.5 / 8.6 / 10.x).")
    p.add_argument("onnx")
    p.add_argument("engine")
    p.add_argument("--fp16", action="store_true")
    p.add_argument("--int8", action="store_true")
    p.add_argument("--calib-images", default=None)
    p.add_argument("--calib-cache", default=None)
    p.add_argument("--timing-cache", default=None)
    p.add_argument("--min-batch", type=int, default=None)
    p.add_argument("--opt-batch", type=int, default=None)
    p.add_argument("--max-batch", type=int, default=None)
    p.add_argument("--workspace-gib", type=float, default=2.0)
    p.add_argument("--no-fp32-norms", action="store_true", help="let normalisation layers run in FP16/INT8")
    p.add_argument("--instancenorm-plugin", action="store_true",
                   help="use the InstanceNormalization plugin even on TensorRT >= 8.6")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    try:
        out = build_engine(args.onnx, args.engine, fp16=args.fp16, int8=args.int8,
                           calib_images=args.calib_images, calib_cache=args.calib_cache,
                           timing_cache=args.timing_cache, min_batch=args.min_batch,
                           opt_batch=args.opt_batch, max_batch=args.max_batch,
                           workspace_gib=args.workspace_gib, keep_norm_fp32=not args.no_fp32_norms,
                           native_instancenorm=not args.instancenorm_plugin, verbose=args.verbose)
    except TensorRTError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out} and {_sidecar(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
