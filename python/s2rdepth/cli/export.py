"""``s2rdepth export``: TorchScript, torch.export, ONNX or TensorRT artifacts from a checkpoint.

See :func:`s2rdepth.deploy.export` for the artifact contents and ``deploy/README.md`` for
building TensorRT engines on a Jetson.
"""
from __future__ import annotations

import argparse
import json

from ._types import int_at_least

_FORMATS = ("torchscript", "torch-export", "onnx", "tensorrt")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="export a checkpoint as TorchScript / torch.export / ONNX / TensorRT",
        description="Export a model checkpoint as a self-contained inference artifact: input 'image' "
        "N x 3 x H x W (RGB, float [0, 1] or uint8), output 'depth' in metres (+ 'structure' and "
        "'attention' with --outputs all). Preprocessing and the metres conversion are in the graph; "
        "no s2rdepth op is. Metadata (input size, depth range, versions, checkpoint SHA-256) is "
        "stored in the artifact (TensorRT: FILE.json).")
    p.add_argument("--checkpoint", required=True, metavar="CKPT",
                   help="model checkpoint (.safetensors) or folder of the four official S2R-DepthNet files")
    p.add_argument("--format", required=True, choices=_FORMATS)
    p.add_argument("--out", required=True, metavar="FILE", help="artifact file to write")
    p.add_argument("--height", type=int_at_least(1), default=None,
                   help="input height in pixels (default: the checkpoint's network size, else 192)")
    p.add_argument("--width", type=int_at_least(1), default=None,
                   help="input width in pixels (default: the checkpoint's network size, else 640)")
    p.add_argument("--dynamic-batch", action="store_true",
                   help="symbolic batch dimension 1..--max-batch (TorchScript is always dynamic)")
    p.add_argument("--batch-size", type=int_at_least(1), default=1,
                   help="static batch size, or the optimal batch of a dynamic TensorRT profile (default 1)")
    p.add_argument("--max-batch", type=int_at_least(1), default=32, help="largest dynamic batch (default 32)")
    p.add_argument("--input-dtype", choices=("float32", "uint8"), default=None,
                   help="graph input type: float32 in [0, 1] (default) or uint8 in [0, 255]; TorchScript "
                   "takes both")
    p.add_argument("--outputs", choices=("depth", "all"), default="depth",
                   help="'all' adds the S2R structure and attention maps")
    p.add_argument("--max-depth", type=float, default=None, metavar="M",
                   help="far end of the depth range in metres (default: the model's; 8 for the indoor "
                   "official S2R-DepthNet models)")
    p.add_argument("--fp16", action="store_true", help="TensorRT: allow FP16 kernels")
    p.add_argument("--int8", action="store_true", help="TensorRT: INT8 with entropy calibration")
    p.add_argument("--calib-images", metavar="DIR", default=None,
                   help="TensorRT INT8: folder of real images for calibration")
    p.add_argument("--calib-cache", metavar="FILE", default=None,
                   help="TensorRT INT8: calibration cache to reuse / write (default FILE.calib)")
    p.add_argument("--timing-cache", metavar="FILE", default=None,
                   help="TensorRT: builder timing cache to reuse and update")
    p.add_argument("--no-fp32-norms", action="store_true",
                   help="TensorRT: let normalisation layers run in FP16/INT8 (default: kept in FP32)")
    p.add_argument("--workspace-gib", type=float, default=2.0, help="TensorRT builder workspace (GiB)")
    p.add_argument("--onnx-exporter", choices=("auto", "dynamo", "torchscript"), default="auto",
                   help="torch.onnx exporter (default: dynamo when onnxscript is installed)")
    p.add_argument("--json", action="store_true", help="print the artifact metadata as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from . import CommandError

    if args.int8 and args.format != "tensorrt":
        raise CommandError("--int8 needs --format tensorrt")
    if args.calib_images and not args.int8:
        raise CommandError("--calib-images needs --int8")
    try:
        from ..deploy.artifacts import read_metadata
        from ..deploy.exporter import export

        out = export(args.checkpoint, format=args.format, out=args.out, height=args.height,
                     width=args.width, dynamic_batch=args.dynamic_batch, batch_size=args.batch_size,
                     max_batch=args.max_batch, input_dtype=args.input_dtype, outputs=args.outputs,
                     fp16=args.fp16, int8=args.int8, calib_images=args.calib_images,
                     calib_cache=args.calib_cache, timing_cache=args.timing_cache,
                     keep_norm_fp32=not args.no_fp32_norms, workspace_gib=args.workspace_gib,
                     onnx_exporter=args.onnx_exporter, max_depth=args.max_depth)
        meta = read_metadata(out, args.format)
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps(meta, indent=2, sort_keys=True))
    else:
        if not meta["dynamic_batch"]:
            batch = f"batch {meta['batch_opt']}"
        elif meta["batch_max"] >= 1 << 30:
            batch = "any batch"
        else:
            batch = f"batch {meta['batch_min']}..{meta['batch_max']}"
        print(f"wrote {out}: {meta['arch']} {meta['artifact_format']}, input {meta['input_height']}x"
              f"{meta['input_width']} {meta['input_dtype']}, {batch}, outputs {', '.join(meta['outputs'])}, "
              f"depth {meta['depth_min_m']:g}..{meta['depth_max_m']:g} m")
    return 0
