"""``s2rdepth evaluate``: score a checkpoint or saved predictions under the papers' protocol.

Prints the papers' table (abs_rel, sq_rel, rmse, rmse_log, a1, a2, a3; log10 for NYU) and
optionally writes a JSON document with per-image rows, the means, skipped frames, the protocol
and the package version (:mod:`s2rdepth.eval`).
"""
from __future__ import annotations

import argparse
import json
import os

from ._types import int_at_least, positive_float


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score a checkpoint or saved predictions under the papers' evaluation protocol",
        description="Predict (batched, on the GPU when present) or read saved predictions, resize them "
        "bilinearly to each ground truth, and compute the depth metrics with s2rdepth.ops.depth_metrics. "
        "KITTI defaults: Eigen protocol (Garg crop, cap 80 m, min depth 1e-3 m, per-image median scaling, "
        "monodepth2 order). Frames without any valid pixel are skipped and reported, never silently dropped.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="s2rdepth model checkpoint (.safetensors) or a folder with the "
                     "four official S2R-DepthNet .pth files")
    src.add_argument("--predictions", help="saved depths in metres: N x H x W .npy/.npz in split order, or a "
                     "folder of <index:06d>.npy / 16-bit <index:06d>.png")
    p.add_argument("--dataset", required=True, choices=("kitti", "nyu", "cityscapes", "folder"))
    p.add_argument("--data", help="dataset root (KITTI raw root; NYU .mat or folder; Cityscapes root; folder "
                   "with rgb/ and depth/)")
    p.add_argument("--split", help="KITTI split file (e.g. splits/eigen/test_files.txt); other datasets: a file "
                   "of frame names (Cityscapes: or a split folder name, default val)")
    proto = p.add_argument_group("protocol")
    proto.add_argument("--caps", type=positive_float, nargs="+", metavar="M",
                       help="depth caps in metres, one table row each (default: 80; NYU 8)")
    proto.add_argument("--order", choices=("monodepth2", "s2r"), default="monodepth2",
                       help="monodepth2: scale then clamp (default); s2r: clamp then scale (official S2R code)")
    proto.add_argument("--no-median", action="store_true", help="no per-image median scaling")
    proto.add_argument("--crop", choices=("garg", "none"), default=None,
                       help="evaluation crop (default: garg for KITTI, none otherwise)")
    proto.add_argument("--min-depth", type=positive_float, default=None, help="minimum valid depth (default 1e-3 m)")
    gt = p.add_argument_group("ground truth")
    gt.add_argument("--gt", choices=("velodyne", "groundtruth", "npz"), default=None,
                    help="KITTI ground truth: velodyne (Eigen, default), groundtruth (benchmark PNGs), npz "
                    "(archive of s2rdepth prepare-kitti-gt, --gt-file)")
    gt.add_argument("--gt-file", help="KITTI ground-truth archive (.npz) written by s2rdepth prepare-kitti-gt")
    gt.add_argument("--gt-root", nargs="+", default=None,
                    help="folders holding <drive>/proj_depth/groundtruth (default: <data>/<date>)")
    gt.add_argument("--camera-depth", action="store_true", help="Velodyne GT stores camera z (reference: Velodyne x)")
    gt.add_argument("--corrected", action="store_true",
                    help="Velodyne GT with a true linear index for duplicate points (reference quirk by default)")
    gt.add_argument("--depth-scale", type=positive_float, default=None,
                    help="folder dataset: metres per stored depth unit (needed for PNGs, e.g. 1/256 or 0.001)")
    pred = p.add_argument_group("prediction")
    pred.add_argument("--png-scale", type=positive_float, default=256.0,
                      help="--predictions PNGs: stored units per metre (default 256)")
    pred.add_argument("--size", default=None, metavar="HxW",
                      help="network input size (default: the checkpoint's, else 192x640; NYU 192x256)")
    pred.add_argument("--image-filter", choices=("auto", "bilinear", "bicubic", "lanczos", "nearest"), default="auto",
                      help="input resize filter (auto: the paper's, S2R bicubic, DA-Monodepth Lanczos)")
    pred.add_argument("--batch-size", type=int, default=8, help="frames per batch (default 8)")
    pred.add_argument("--workers", type=int_at_least(0), default=None,
                      help="data loading processes (default: min(4, CPU cores); 0 = in this process)")
    pred.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1 ...")
    pred.add_argument("--threads", type=int, default=None,
                      help="torch intra-op CPU threads (default: torch's; 1 is fastest on a busy machine)")
    out = p.add_argument_group("output")
    out.add_argument("--json", metavar="OUT", help="write the result (per-image rows, means, protocol) as JSON")
    out.add_argument("--no-per-image", action="store_true", help="leave the per-image rows out of the JSON")
    out.add_argument("--label", help="name of this run in tables (default: the checkpoint/prediction file name)")
    out.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from ..checkpoint import CheckpointError
    from ..data.io import DataFileError
    from ..eval import (DEFAULT_NETWORK_SIZE, ModelRunner, PredictionError, PredictionFiles, default_protocol,
                        evaluate, load_checkpoint, open_eval_set, parse_size)
    from . import CommandError

    if args.batch_size < 1:
        raise CommandError("--batch-size must be >= 1")
    if args.dataset != "kitti" and (args.gt or args.gt_file):
        raise CommandError("--gt/--gt-file apply to --dataset kitti only")
    if args.data is None and not (args.dataset == "kitti" and args.gt_file and args.predictions):
        raise CommandError("--data is required (only KITTI predictions scored against --gt-file need none)")
    device = None if args.device == "auto" else args.device
    if device is not None and device.startswith("cuda") and not torch.cuda.is_available():
        raise CommandError(f"--device {device}: CUDA is not available")
    workers = min(4, os.cpu_count() or 1) if args.workers is None else args.workers
    if args.threads is not None:
        if args.threads < 1:
            raise CommandError("--threads must be >= 1")
        torch.set_num_threads(args.threads)
    try:
        protocol = default_protocol(args.dataset, caps=args.caps, min_depth=args.min_depth,
                                    crop=args.crop if args.crop is not None else "default",
                                    median_scaling=not args.no_median, order=args.order)
        evalset = open_eval_set(args.dataset, args.data, args.split, gt=args.gt, gt_file=args.gt_file,
                                gt_roots=args.gt_root, depth_scale=args.depth_scale,
                                vel_depth=not args.camera_depth, faithful=not args.corrected)
        if args.checkpoint:
            model, info = load_checkpoint(args.checkpoint, device=device or "cpu",
                                          max_depth=8.0 if args.dataset == "nyu" else None)
            size = parse_size(args.size) if args.size else tuple(info.get("network_size") or
                                                                 DEFAULT_NETWORK_SIZE[args.dataset])
            predictions = ModelRunner(model, size, device=device, image_filter=args.image_filter)
            label = args.label or Path(args.checkpoint).stem
        else:
            info = {}
            predictions = PredictionFiles(args.predictions, png_scale=args.png_scale)
            label = args.label or Path(args.predictions).stem
        if not args.quiet:
            print(f"evaluating {label} on {args.dataset} ({len(evalset)} frames; {protocol.describe()})",
                  flush=True)
        result = evaluate(evalset, predictions, protocol, batch_size=args.batch_size, workers=workers,
                          metric_device=device, label=label, progress=not args.quiet, source_info=info)
    except (PredictionError, CheckpointError, DataFileError, FileNotFoundError, ValueError, TypeError) as exc:
        raise CommandError(str(exc)) from exc
    print(result.table())
    for cap in protocol.caps:
        skipped = result.skipped(cap)
        if skipped:
            shown = ", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else "")
            print(f"cap {cap:g} m: {len(skipped)} frame(s) without any valid ground-truth pixel skipped: {shown}")
    if not args.quiet:
        print(f"{len(result.names)} frames in {result.seconds:.1f} s ({result.images_per_s:.1f} images/s)")
    if args.json:
        from ..checkpoint import atomic_write

        doc = result.to_dict(per_image=not args.no_per_image)
        text = json.dumps(doc, indent=1, allow_nan=False)
        atomic_write(args.json, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
        if not args.quiet:
            print(f"wrote {args.json}")
    return 0
