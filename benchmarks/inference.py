"""Inference latency per preset and backend: median latency (ms) and images/s, as JSON.

    python -m benchmarks.inference [--presets paper,lite,tiny] [--archs s2r] [--batches 1,8]
        [--size 192x640] [--backends eager,torchscript,torch-export,compile,onnxruntime,tensorrt]
        [--device cpu|cuda] [--fp16] [--threads N] [--quick] [--json OUT]

Every backend runs the deployable graph of :mod:`s2rdepth.deploy.graph` at the network size
(input float32 [0, 1] N x 3 x H x W already on the device, output depth in metres; the host →
device copy and any resizing are not timed):

* ``eager`` — the PyTorch model with the fused :mod:`s2rdepth.ops` (``torch.inference_mode``);
* ``torchscript`` — ``torch.jit.script`` + ``torch.jit.freeze`` of the export graph (what
  ``s2rdepth export --format torchscript`` writes);
* ``torch-export`` — ``torch.export.export(...).module()``;
* ``compile`` — ``torch.compile`` (inductor) of the export graph; compilation time is reported
  separately. On CPU it needs a C++ compiler and takes minutes per preset on a small machine, so
  it only runs there when listed in ``--backends`` (a failure is reported, not fatal);
* ``onnxruntime`` — the opset-17 ONNX export in onnxruntime (CUDA provider on a GPU when the
  installed onnxruntime has it);
* ``tensorrt`` — an engine built from the ONNX export (``--fp16`` for FP16), when ``tensorrt``
  imports and a GPU is present.

Weights are random (latency does not depend on them). ``--quick``: one warm-up and three timed
runs per point instead of two and seven. The paper preset costs about 824 GFLOPs per 192 x 640
image: on a small CPU choose ``--presets lite,tiny``.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from typing import Any, Callable, Optional

import torch

from ._timing import emit, machine, measure

BACKENDS = ("eager", "torchscript", "torch-export", "compile", "onnxruntime", "tensorrt")


def _size(text: str) -> tuple[int, int]:
    h, w = (int(v) for v in text.lower().split("x"))
    return h, w


def _make_runner(backend: str, model: torch.nn.Module, h: int, w: int, batch: int, device: torch.device,
                 fp16: bool, threads: int, workdir: Path, max_batch: int = 8
                 ) -> tuple[Callable[[torch.Tensor], Any], dict]:
    """(callable on an N x 3 x H x W float tensor, extra info) for one backend."""
    from s2rdepth.deploy.graph import build_graph

    info: dict = {}
    if backend == "eager":
        graph = build_graph(model, h, w, export_ops=False).to(device)

        def run(x: torch.Tensor) -> Any:
            with torch.inference_mode():
                return graph(x)
        return run, info
    graph = build_graph(model, h, w, export_ops=True).to(device)
    example = torch.rand(batch, 3, h, w, device=device)
    if backend == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = torch.jit.freeze(torch.jit.script(graph))

        def run(x: torch.Tensor) -> Any:
            with torch.inference_mode():
                return module(x)
        return run, info
    if backend == "torch-export":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = torch.export.export(graph, (example,)).module()

        def run(x: torch.Tensor) -> Any:
            with torch.inference_mode():
                return module(x)
        return run, info
    if backend == "compile":
        compiled = torch.compile(graph, dynamic=False)
        t0 = time.perf_counter()
        with torch.inference_mode():
            compiled(example)
        info["compile_s"] = round(time.perf_counter() - t0, 2)

        def run(x: torch.Tensor) -> Any:
            with torch.inference_mode():
                return compiled(x)
        return run, info
    if backend in ("onnxruntime", "tensorrt"):
        from s2rdepth.deploy.onnx_export import export_onnx
        from s2rdepth.deploy.tensorrt_engine import TensorRTRunner, build_engine, tensorrt_available

        if backend == "tensorrt":
            if not tensorrt_available():
                raise RuntimeError("skipped: tensorrt is not importable")
            if device.type != "cuda":
                raise RuntimeError("skipped: TensorRT needs --device cuda")
        # one dynamic-batch ONNX export per model and size, shared by the batch sizes and backends
        onnx_path = workdir / f"{getattr(model, '_bench_key', type(model).__name__)}_{h}x{w}.onnx"
        if not onnx_path.is_file():
            t0 = time.perf_counter()
            export_onnx(graph.cpu(), onnx_path, torch.rand(2, 3, h, w), dynamic_batch=True,
                        max_batch=max(2, max_batch), metadata={"format": "s2rdepth.artifact"})
            info["export_s"] = round(time.perf_counter() - t0, 2)
            graph.to(device)
        if backend == "onnxruntime":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            providers = ["CPUExecutionProvider"]
            if device.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
                providers.insert(0, "CUDAExecutionProvider")
            session = ort.InferenceSession(str(onnx_path), sess_options=options, providers=providers)
            info["providers"] = session.get_providers()
            name = session.get_inputs()[0].name

            def run(x: torch.Tensor) -> Any:
                return session.run(None, {name: x.detach().cpu().numpy()})
            return run, info
        engine = workdir / f"{onnx_path.stem}_b{batch}{'_fp16' if fp16 else ''}.engine"
        t0 = time.perf_counter()
        build_engine(onnx_path, engine, fp16=fp16, min_batch=1, opt_batch=batch,
                     max_batch=max(batch, max_batch), log=lambda s: None)
        info["build_s"] = round(time.perf_counter() - t0, 2)
        runner = TensorRTRunner(engine, device)

        def run(x: torch.Tensor) -> Any:
            return runner(x)
        return run, info
    raise ValueError(f"unknown backend {backend!r}")


def bench_point(model: torch.nn.Module, arch: str, preset: str, batch: int, size: tuple[int, int],
                backend: str, device: torch.device, fp16: bool, threads: int, quick: bool, workdir: Path,
                max_batch: int) -> dict:
    h, w = size
    row: dict = {"arch": arch, "preset": preset, "batch": batch, "height": h, "width": w,
                 "backend": backend, "device": str(device)}
    try:
        run, info = _make_runner(backend, model, h, w, batch, device, fp16, threads, workdir, max_batch)
        row.update(info)
        x = torch.rand(batch, 3, h, w, device=device)
        warmup, repeat = (1, 3) if quick else (2, 7)
        t = measure(lambda: run(x), device, warmup=warmup, repeat=repeat)
    except Exception as exc:  # a backend that cannot run here is reported, not fatal
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        row["status"] = msg if msg.startswith("skipped") else f"failed: {type(exc).__name__}: {msg[:300]}"
        if "--debug" in sys.argv:
            traceback.print_exc()
        return row
    row.update(status="ok", median_ms=round(t * 1e3, 3), images_per_s=round(batch / t, 3))
    return row


def markdown(rows: list[dict]) -> str:
    lines = ["| arch | preset | batch | backend | median ms | images/s | note |",
             "|---|---|---:|---|---:|---:|---|"]
    for r in rows:
        if r.get("status") == "ok":
            note = ", ".join(f"{k} {r[k]}" for k in ("compile_s", "export_s", "build_s") if k in r)
            lines.append(f"| {r['arch']} | {r['preset']} | {r['batch']} | {r['backend']} | "
                         f"{r['median_ms']:.1f} | {r['images_per_s']:.2f} | {note} |")
        else:
            lines.append(f"| {r['arch']} | {r['preset']} | {r['batch']} | {r['backend']} | - | - | "
                         f"{r.get('status', '')} |")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", default="paper,lite,tiny", help="comma-separated presets")
    p.add_argument("--archs", default="s2r", help="comma-separated architectures (s2r, da_monodepth)")
    p.add_argument("--batches", default="1,8", help="comma-separated batch sizes")
    p.add_argument("--size", type=_size, default=(192, 640), help="network input HxW (default 192x640)")
    p.add_argument("--backends", default=None,
                   help="comma-separated backends (default: all on CUDA; all but compile on CPU, where "
                   "inductor compilation of one preset takes minutes)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--fp16", action="store_true", help="TensorRT: build FP16 engines")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(),
                   help="intra-op threads for PyTorch and onnxruntime")
    p.add_argument("--quick", action="store_true", help="1 warm-up + 3 timed runs per point")
    p.add_argument("--json", help="also write the JSON here")
    p.add_argument("--debug", action="store_true", help="print tracebacks of failing backends")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    default = [b for b in BACKENDS if device.type == "cuda" or b != "compile"]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()] if args.backends else default
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        p.error(f"unknown backends {unknown}; choose from {', '.join(BACKENDS)}")
    rows: list[dict] = []
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="s2rdepth-bench-") as tmp:
        batches = [int(b) for b in args.batches.split(",") if b.strip()]
        for arch in [a.strip() for a in args.archs.split(",") if a.strip()]:
            for preset in [s.strip() for s in args.presets.split(",") if s.strip()]:
                from s2rdepth.models import create_model

                torch.manual_seed(0)
                model = create_model(arch, preset).eval()
                model._bench_key = f"{arch}_{preset}"
                for batch in batches:
                    for backend in backends:
                        row = bench_point(model, arch, preset, batch, args.size, backend, device, args.fp16,
                                          args.threads, args.quick, Path(tmp), max(batches))
                        rows.append(row)
                        print(json.dumps(row), file=sys.stderr, flush=True)
    result = {"benchmark": "inference", "machine": machine(),
              "config": {"size": list(args.size), "device": str(device), "quick": args.quick,
                         "threads": args.threads, "fp16": args.fp16,
                         "input": "float32 [0, 1], on device; output depth in metres"},
              "seconds": round(time.perf_counter() - t_start, 1), "results": rows,
              "markdown": markdown(rows)}
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
