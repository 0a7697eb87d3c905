"""Artifact formats, metadata and format detection.

Every exported artifact records one JSON metadata document (key ``s2rdepth``):

=======================  =============================================================================
TorchScript (``.pt``)     extra file ``s2rdepth.json`` in the archive
                          (``torch.jit.load(path, _extra_files={"s2rdepth.json": ""})``; C++:
                          ``torch::jit::load(path, device, extra_files)``)
torch.export (``.pt2``)   extra file ``s2rdepth.json`` (``torch.export.load(path, extra_files=...)``)
ONNX (``.onnx``)          ``metadata_props["s2rdepth"]`` (onnxruntime:
                          ``session.get_modelmeta().custom_metadata_map``)
TensorRT (``.engine``)    a sidecar JSON file ``<engine>.json`` (engines have no metadata slot)
=======================  =============================================================================

Fields: ``format`` (``"s2rdepth.artifact"``), ``artifact_version``, ``artifact_format``,
``arch``, ``config`` (constructor keywords), ``input_name`` (``"image"``), ``input_height``,
``input_width`` (pixels), ``input_dtype`` (``"uint8"``: [0, 255]; ``"float32"``: [0, 1];
``"any"``: either, TorchScript only), ``outputs`` (``["depth"]`` or
``["depth", "structure", "attention"]``), ``depth_unit`` (``"m"``), ``depth_min_m``,
``depth_max_m``, ``dynamic_batch``, ``batch_min``/``batch_opt``/``batch_max``,
``s2rdepth_version``, ``torch_version``, ``created_utc``, ``source_checkpoint`` (file name or
``null``), ``source_checkpoint_sha256`` (hex SHA-256 of the checkpoint file or ``null``),
``weights_sha256`` (SHA-256 over the exported weights, always present),
``depth_interpolation`` (how to resize the depth output to another image size: ``"linear"``
for S2R-DepthNet, ``"inverse"`` — resize ``1 / depth`` — for DA-Monodepth), plus format-specific
entries (``onnx_opset``; TensorRT ``precision``, ``tensorrt_version``, ``gpu_name``,
``gpu_compute_capability``).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any, Mapping, Optional

__all__ = ["ARTIFACT_FORMATS", "ArtifactError", "FORMAT_EXTENSIONS", "METADATA_FILE",
           "base_metadata", "detect_format", "read_metadata", "sidecar_path", "weights_sha256"]

#: Export formats, as accepted by ``s2rdepth export --format``.
ARTIFACT_FORMATS: tuple[str, ...] = ("torchscript", "torch-export", "onnx", "tensorrt")
#: Default file extension per format.
FORMAT_EXTENSIONS: dict[str, str] = {"torchscript": ".pt", "torch-export": ".pt2", "onnx": ".onnx",
                                     "tensorrt": ".engine"}
_SUFFIXES: dict[str, str] = {
    ".safetensors": "checkpoint", ".pt": "torchscript", ".ts": "torchscript", ".jit": "torchscript",
    ".torchscript": "torchscript", ".pt2": "torch-export", ".onnx": "onnx", ".engine": "tensorrt",
    ".plan": "tensorrt", ".trt": "tensorrt",
}
#: Name of the metadata extra file inside TorchScript / torch.export archives.
METADATA_FILE = "s2rdepth.json"
ARTIFACT_VERSION = 1


class ArtifactError(ValueError):
    """A model file is missing, of an unknown kind, corrupt, or lacks s2rdepth metadata."""


def sidecar_path(engine: str | os.PathLike[str]) -> Path:
    """The metadata file of a TensorRT engine: ``<engine>.json`` (e.g. ``model.engine.json``)."""
    engine = Path(engine)
    return engine.with_name(engine.name + ".json")


def weights_sha256(module: Any) -> str:
    """SHA-256 over a module's state dict (names, dtypes, shapes and bytes, in key order)."""
    import torch

    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        if t.numel():
            flat = t.reshape(-1)
            h.update(flat.to(torch.uint8).numpy().tobytes() if t.dtype == torch.bool
                     else flat.view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def base_metadata(*, artifact_format: str, arch: str, config: Mapping[str, Any], height: int,
                  width: int, input_dtype: str, outputs: tuple[str, ...], depth_range: tuple[float, float],
                  dynamic_batch: bool, batch: tuple[int, int, int], source_checkpoint: Optional[str],
                  source_sha256: Optional[str], weights_hash: str, **extra: Any) -> dict[str, Any]:
    """The metadata document (see the module docstring)."""
    import torch

    from .._version import __version__

    meta: dict[str, Any] = {
        "format": "s2rdepth.artifact",
        "artifact_version": ARTIFACT_VERSION,
        "artifact_format": artifact_format,
        "arch": arch,
        "config": dict(config),
        "input_name": "image",
        "input_layout": "NCHW, RGB",
        "input_height": int(height),
        "input_width": int(width),
        "input_dtype": input_dtype,
        "outputs": list(outputs),
        "depth_unit": "m",
        "depth_min_m": float(depth_range[0]),
        "depth_max_m": float(depth_range[1]),
        "dynamic_batch": bool(dynamic_batch),
        "batch_min": int(batch[0]),
        "batch_opt": int(batch[1]),
        "batch_max": int(batch[2]),
        "s2rdepth_version": __version__,
        "torch_version": torch.__version__,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source_checkpoint": source_checkpoint,
        "source_checkpoint_sha256": source_sha256,
        "weights_sha256": weights_hash,
    }
    meta.update(extra)
    return meta


def _zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArtifactError(f"{path}: not a readable archive ({exc})") from None


def _sniff(path: Path) -> Optional[str]:
    """Format from the file's content, or ``None``."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    if len(head) >= 10 and head[8:10] == b'{"':
        return "checkpoint"  # safetensors: u64 header length, then the JSON header
    if head[:4] == b"PK\x03\x04":
        names = _zip_names(path)
        if any(n.endswith("/archive_format") for n in names):
            return "torch-export"
        if any("/code/" in n for n in names) or any(n.endswith("/constants.pkl") for n in names):
            return "torchscript"
        return "torch-save"
    if sidecar_path(path).is_file():
        return "tensorrt"
    if head[:1] == b"\x08" and path.suffix.lower() not in _SUFFIXES:  # ModelProto field 1, ir_version
        try:
            import onnx

            onnx.load(str(path), load_external_data=False)
            return "onnx"
        except Exception:
            return None
    return None


def detect_format(path: str | os.PathLike[str]) -> str:
    """``"checkpoint"``, ``"torchscript"``, ``"torch-export"``, ``"onnx"`` or ``"tensorrt"``.

    The file's content decides for archives and checkpoints (a ``.pt`` holding a
    ``torch.save`` pickle is rejected with a clear message); otherwise the extension does.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    if path.stat().st_size == 0:
        raise ArtifactError(f"{path}: empty file")
    sniffed = _sniff(path)
    if sniffed == "torch-save":
        raise ArtifactError(f"{path}: a torch.save archive, not a TorchScript or torch.export "
                            "artifact; export it with `s2rdepth export` (checkpoints are .safetensors)")
    if sniffed is not None:
        return sniffed
    by_suffix = _SUFFIXES.get(path.suffix.lower())
    if by_suffix in ("onnx", "tensorrt"):
        return by_suffix
    if by_suffix is not None:
        raise ArtifactError(f"{path}: the content does not look like a {by_suffix} file")
    raise ArtifactError(f"{path}: unknown model file type (expected .safetensors, .pt, .pt2, .onnx "
                        "or .engine)")


def _parse(raw: str | bytes, where: str) -> dict[str, Any]:
    try:
        meta = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{where}: corrupt s2rdepth metadata ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != "s2rdepth.artifact":
        raise ArtifactError(f"{where}: metadata is not an s2rdepth artifact description")
    return meta


def _zip_member(path: Path, suffix: str) -> Optional[bytes]:
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith(suffix):
                return zf.read(name)
    return None


def read_metadata(path: str | os.PathLike[str], fmt: Optional[str] = None) -> dict[str, Any]:
    """The metadata of an exported artifact (without loading its weights or running it)."""
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt in ("torchscript", "torch-export"):
        try:
            raw = _zip_member(path, "/extra/" + METADATA_FILE)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ArtifactError(f"{path}: not a readable archive ({exc})") from None
        if raw is None:
            raise ArtifactError(f"{path}: {fmt} archive without s2rdepth metadata; export it with "
                                "`s2rdepth export`")
        return _parse(raw, str(path))
    if fmt == "onnx":
        import onnx

        try:
            model = onnx.load(str(path), load_external_data=False)
        except Exception as exc:  # protobuf DecodeError and friends
            raise ArtifactError(f"{path}: not a readable ONNX model ({type(exc).__name__}: {exc})") from None
        raw_meta = {p.key: p.value for p in model.metadata_props}.get("s2rdepth")
        if raw_meta is None:
            raise ArtifactError(f"{path}: ONNX model without s2rdepth metadata; export it with "
                                "`s2rdepth export`")
        return _parse(raw_meta, str(path))
    if fmt == "tensorrt":
        side = sidecar_path(path)
        if not side.is_file():
            raise ArtifactError(f"{path}: TensorRT engine without its metadata file {side.name}")
        return _parse(side.read_bytes(), str(side))
    raise ArtifactError(f"{path}: {fmt} files carry no artifact metadata")
