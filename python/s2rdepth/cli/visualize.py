"""``s2rdepth visualize``: per image, a panel like the papers' figures and an error map (PNG)."""
from __future__ import annotations

import argparse
import json

from ._types import positive_float


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "visualize",
        help="write per-image figure panels (input, M_s, M_a, M_s*M_a, depth, ground truth, error map)",
        description="Run a checkpoint on image files and write <stem>_panel.png per image: S2R-DepthNet: input, "
        "structure map M_s, attention map M_a, depth-specific structure M_s*M_a, predicted depth with a colour "
        "bar in metres; DA-Monodepth: input, disparity, depth, semantics. With ground truth also the ground "
        "truth and an error map |s*pred - gt| in metres (also written alone as <stem>_error.png).",
    )
    p.add_argument("--checkpoint", required=True, help="s2rdepth model checkpoint (.safetensors) or official S2R folder")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--gt", nargs="+", default=None, metavar="GT",
                   help="ground truth per image: a depth file (16-bit PNG with --gt-scale, .npy/.tif metres), a "
                   "Velodyne .bin, 'kitti' (scan and calibration found from the image's KITTI raw path) or 'none'; "
                   "one value applies to every image")
    p.add_argument("--gt-scale", type=positive_float, default=1.0 / 256.0,
                   help="metres per unit of PNG ground truth (default 1/256)")
    p.add_argument("--size", default=None, metavar="HxW", help="network input size (default: checkpoint's, else 192x640)")
    p.add_argument("--image-filter", choices=("auto", "bilinear", "bicubic", "lanczos", "nearest"), default="auto")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda ...")
    p.add_argument("--cap", type=positive_float, default=80.0, help="error map: maximum ground-truth depth (m)")
    p.add_argument("--min-depth", type=positive_float, default=1e-3, help="error map: minimum depth (m)")
    p.add_argument("--crop", choices=("garg", "none"), default="none", help="error map: evaluation crop (outlined)")
    p.add_argument("--no-median", action="store_true", help="error map without median scaling")
    p.add_argument("--order", choices=("monodepth2", "s2r"), default="monodepth2")
    p.add_argument("--cmap", choices=("magma", "inferno", "plasma", "viridis", "turbo"), default="magma",
                   help="depth colour map (default magma, near = bright)")
    p.add_argument("--depth-scale", choices=("inverse", "linear"), default="inverse",
                   help="depth colouring linear in 1/depth (default) or in metres")
    p.add_argument("--depth-range", type=positive_float, nargs=2, metavar=("MIN", "MAX"), default=None,
                   help="depth colour range in metres (default: 2nd-98th percentile of the ground truth, else of the prediction)")
    p.add_argument("--columns", type=int, default=2, help="tiles per row (default 2)")
    p.add_argument("--tile-width", type=int, default=None, help="tile width in pixels (default min(W, 640))")
    p.add_argument("--json", action="store_true", help="print the written files and per-image metrics as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..checkpoint import CheckpointError
    from ..data.io import DataFileError
    from ..eval import ModelRunner, load_checkpoint, parse_size
    from ..viz import render_figures
    from . import CommandError

    gt = None
    if args.gt is not None:
        specs = [None if g.lower() == "none" else g for g in args.gt]
        if len(specs) == 1:
            specs = specs * len(args.images)
        if len(specs) != len(args.images):
            raise CommandError(f"--gt gives {len(args.gt)} entries for {len(args.images)} images (give one or one each)")
        gt = specs
    if args.columns < 1:
        raise CommandError("--columns must be >= 1")
    if args.depth_range is not None and not args.depth_range[0] < args.depth_range[1]:
        raise CommandError("--depth-range needs MIN < MAX")
    device = None if args.device == "auto" else args.device
    if device is not None and device.startswith("cuda") and not torch.cuda.is_available():
        raise CommandError(f"--device {device}: CUDA is not available")
    try:
        model, info = load_checkpoint(args.checkpoint, device=device or "cpu")
        size = parse_size(args.size) if args.size else tuple(info.get("network_size") or (192, 640))
        runner = ModelRunner(model, size, device=device, image_filter=args.image_filter)
        records = render_figures(
            runner, args.images, args.out, gt=gt, gt_scale=args.gt_scale, min_depth=args.min_depth,
            cap=args.cap, crop=None if args.crop == "none" else args.crop, median_scaling=not args.no_median,
            order=args.order, cmap=args.cmap, color_scale=args.depth_scale,
            depth_range=tuple(args.depth_range) if args.depth_range else None, columns=args.columns,
            tile_width=args.tile_width)
    except (CheckpointError, DataFileError, FileNotFoundError, ValueError, TypeError) as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print(json.dumps(records, indent=1, default=float))
    else:
        for r in records:
            extra = ""
            if "metrics" in r:
                m = r["metrics"]
                extra = f"  abs_rel {m['abs_rel']:.3f}  rmse {m['rmse']:.2f} m  a1 {m['a1']:.3f}"
            print(f"{r['panel']}  ({r['size'][0]}x{r['size'][1]}){extra}")
            if "error_map" in r:
                print(f"{r['error_map']}")
    return 0
