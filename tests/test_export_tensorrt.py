"""The TensorRT builder's version branches and the engine compatibility check, against a
recording stand-in for the ``tensorrt`` module (the real one needs NVIDIA hardware; the engine
tests in test_export.py run when it is present)."""
from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
import torch

from s2rdepth.deploy import tensorrt_engine as te


class _Enum:
    def __init__(self, **values):
        self.__dict__.update(values)


def fake_tensorrt(version: str, calls: list, input_shape=(-1, 3, 64, 128)) -> types.ModuleType:
    """A minimal recording imitation of the TensorRT Python API surface the builder uses."""
    trt = types.ModuleType("tensorrt")
    newer = tuple(int(v) for v in version.split(".")[:2]) >= (8, 6)
    trt.__version__ = version
    trt.float32, trt.float16, trt.int32, trt.int8, trt.bool, trt.uint8 = "f32", "f16", "i32", "i8", "b", "u8"
    trt.LayerType = _Enum(NORMALIZATION="norm", REDUCE="reduce", PLUGIN_V2="plugin", CONVOLUTION="conv")
    trt.BuilderFlag = _Enum(FP16="FP16", INT8="INT8", OBEY_PRECISION_CONSTRAINTS="OBEY")
    trt.MemoryPoolType = _Enum(WORKSPACE="workspace")
    trt.NetworkDefinitionCreationFlag = _Enum(EXPLICIT_BATCH=0)
    if newer:
        trt.OnnxParserFlag = _Enum(NATIVE_INSTANCENORM="native_in")
    trt.init_libnvinfer_plugins = lambda logger, ns: calls.append(("init_plugins", ns))

    class Logger:
        WARNING, VERBOSE = "warning", "verbose"

        def __init__(self, level):
            self.level = level

    class Layer:
        def __init__(self, type_, name):
            self.type, self.name, self.num_outputs, self.precision = type_, name, 1, None
            self.output_types = {}

        def set_output_type(self, i, t):
            self.output_types[i] = t

    class Tensor:
        def __init__(self):
            self.name, self.shape, self.dtype = "image", input_shape, trt.float32

    class Network:
        num_inputs = 1

        def __init__(self):
            norm = "norm" if newer else "plugin"
            self.layers = [Layer("conv", "node_conv2d"), Layer(norm, "node_instance_norm"),
                           Layer("conv", "node_conv2d_1")]
            self.num_layers = len(self.layers)

        def get_input(self, i):
            return Tensor()

        def get_layer(self, i):
            return self.layers[i]

    class Parser:
        num_errors = 0

        def __init__(self, network, logger):
            pass

        def set_flag(self, flag):
            calls.append(("parser_flag", flag))

        def parse(self, data):
            calls.append(("parse", len(data)))
            return True

    class Profile:
        def set_shape(self, name, lo, opt, hi):
            calls.append(("profile", name, lo, opt, hi))

    class Cache:
        def serialize(self):
            return b"timing-cache"

    class Config:
        def set_memory_pool_limit(self, pool, size):
            calls.append(("workspace", size))

        def set_flag(self, flag):
            calls.append(("flag", flag))

        def add_optimization_profile(self, p):
            calls.append(("add_profile",))

        def set_calibration_profile(self, p):
            calls.append(("calibration_profile",))

        def create_timing_cache(self, data):
            calls.append(("timing_cache_in", bytes(data)))
            return Cache()

        def set_timing_cache(self, cache, ignore_mismatch):
            calls.append(("set_timing_cache", ignore_mismatch))

        def get_timing_cache(self):
            return Cache()

    class Builder:
        platform_has_fast_fp16 = platform_has_fast_int8 = True

        def __init__(self, logger):
            self.network = None

        def create_network(self, flags):
            calls.append(("create_network", flags))
            self.network = Network()
            return self.network

        def create_builder_config(self):
            return Config()

        def create_optimization_profile(self):
            return Profile()

        def build_serialized_network(self, network, config):
            calls.append(("build", [(l.name, l.precision, dict(l.output_types)) for l in network.layers],
                          getattr(config, "int8_calibrator", None) is not None))
            return b"serialized-engine"

    class IInt8EntropyCalibrator2:
        def __init__(self):
            pass

    trt.Logger, trt.Builder, trt.OnnxParser = Logger, Builder, Parser
    trt.IInt8EntropyCalibrator2 = IInt8EntropyCalibrator2
    return trt


@pytest.fixture
def onnx_file(tmp_path) -> Path:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"fake onnx bytes")
    return path


@pytest.mark.parametrize("version", ["8.5.2.2", "8.6.1", "10.3.0"])
def test_builder_version_branches(monkeypatch, tmp_path, onnx_file, version):
    calls: list = []
    monkeypatch.setitem(sys.modules, "tensorrt", fake_tensorrt(version, calls))
    engine = tmp_path / "model.engine"
    meta = {"format": "s2rdepth.artifact", "arch": "s2r", "outputs": ["depth"]}
    out = te.build_engine(onnx_file, engine, fp16=True, min_batch=1, opt_batch=2, max_batch=4,
                          timing_cache=tmp_path / "timing.cache", metadata=meta, log=lambda s: None)
    assert out == engine and engine.read_bytes() == b"serialized-engine"
    assert (tmp_path / "timing.cache").read_bytes() == b"timing-cache"
    assert ("init_plugins", "") in calls  # the 8.5 InstanceNormalization plugin registration
    flags = [c[1] for c in calls if c[0] == "create_network"]
    assert flags == [0 if version.startswith("10") else 1]  # 1 << EXPLICIT_BATCH before 10.x
    native = ("parser_flag", "native_in") in calls
    assert native == (not version.startswith("8.5"))
    assert ("profile", "image", (1, 3, 64, 128), (2, 3, 64, 128), (4, 3, 64, 128)) in calls
    assert ("flag", "FP16") in calls and ("flag", "OBEY") in calls
    built = next(c for c in calls if c[0] == "build")[1]
    norm = dict((name, (prec, types_)) for name, prec, types_ in built)
    assert norm["node_instance_norm"] == ("f32", {0: "f32"})  # kept in FP32
    assert norm["node_conv2d"] == (None, {})
    side = json.loads((tmp_path / "model.engine.json").read_text())
    assert side["tensorrt_version"] == version and side["precision"] == "fp16"
    assert (side["batch_min"], side["batch_opt"], side["batch_max"]) == (1, 2, 4)
    assert (side["input_height"], side["input_width"], side["input_dtype"]) == (64, 128, "float32")
    assert side["arch"] == "s2r" and side["keep_norm_fp32"] is True


def test_builder_int8_cache_and_errors(monkeypatch, tmp_path, onnx_file):
    calls: list = []
    monkeypatch.setitem(sys.modules, "tensorrt", fake_tensorrt("8.5.2.2", calls, input_shape=(1, 3, 64, 128)))
    with pytest.raises(te.TensorRTError, match="calibration images"):
        te.build_engine(onnx_file, tmp_path / "a.engine", int8=True, log=lambda s: None)
    cache = tmp_path / "model.calib"
    cache.write_bytes(b"calibration table")
    te.build_engine(onnx_file, tmp_path / "a.engine", int8=True, calib_cache=cache, log=lambda s: None)
    assert next(c for c in calls if c[0] == "build")[2]  # a calibrator was attached
    assert json.loads((tmp_path / "a.engine.json").read_text())["precision"] == "int8"
    assert not any(c[0] == "profile" for c in calls)  # static batch: no optimisation profile
    if not torch.cuda.is_available():
        (tmp_path / "calib").mkdir()
        from PIL import Image

        Image.new("RGB", (32, 16)).save(tmp_path / "calib" / "a.png")
        with pytest.raises(te.TensorRTError, match="CUDA"):
            te.build_engine(onnx_file, tmp_path / "b.engine", int8=True, calib_images=tmp_path / "calib",
                            calib_cache=tmp_path / "new.calib", log=lambda s: None)
    with pytest.raises(te.TensorRTError, match="not found"):
        te.build_engine(tmp_path / "missing.onnx", tmp_path / "c.engine", log=lambda s: None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(te.TensorRTError, match="no calibration images"):
        te.calibration_files(tmp_path / "empty")


def test_engine_built_for_another_gpu_is_a_clear_error(monkeypatch, tmp_path):
    calls: list = []
    monkeypatch.setitem(sys.modules, "tensorrt", fake_tensorrt("10.3.0", calls))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA H100")
    engine = tmp_path / "orin.engine"
    engine.write_bytes(b"engine")
    meta = {"format": "s2rdepth.artifact", "tensorrt_version": "8.5.2.2", "gpu_name": "Orin",
            "gpu_compute_capability": "8.7"}
    (tmp_path / "orin.engine.json").write_text(json.dumps(meta))
    with pytest.raises(te.EngineMismatchError, match=r"TensorRT 8.5.2.2 .*compute capability 8.7.*Rebuild"):
        te.TensorRTRunner(engine, "cuda")
    with pytest.raises(te.TensorRTError, match="CUDA devices"):
        te.TensorRTRunner(engine, "cpu")


def test_tensorrt_missing_is_a_clear_error(monkeypatch, tmp_path, onnx_file):
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # import fails
    assert not te.tensorrt_available() and te.tensorrt_version() is None
    with pytest.raises(te.TensorRTError, match="not importable"):
        te.build_engine(onnx_file, tmp_path / "x.engine")
    assert te.main([str(onnx_file), str(tmp_path / "x.engine")]) == 1
