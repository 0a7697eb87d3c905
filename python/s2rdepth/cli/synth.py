"""``s2rdepth synth``: render a synthetic street-scene dataset (virtual / real / painting domain).

``virtual`` is written in the Virtual KITTI 1.3.1 layout, ``real`` in the KITTI raw layout (with
calibration files, simulated Velodyne scans, dense depth PNGs and split files), ``painting`` as a
folder of JPEGs; see :mod:`s2rdepth.data.synth`.
"""
from __future__ import annotations

import argparse
import json
import sys

from ._types import int_at_least

_DOMAINS = ("virtual", "real", "painting")


def _size(text: str) -> tuple[int, int]:
    from ..data.synth.render import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="render synthetic street scenes with exact depth (vKITTI / KITTI raw / painting layouts)",
        description="Render procedural 3-D street scenes by ray casting with a KITTI-like camera. The same "
        "--seed gives the same geometry (depth, labels) in every domain; only the appearance differs. "
        "virtual: vKITTI 1.3.1 layout (rgb, depthgt uint16 cm with 65535 = sky, scenegt + encoding). "
        "real: KITTI raw layout (calibration, image_02, simulated 64-beam velodyne_points, dense "
        "proj_depth/groundtruth, splits/). painting: a folder of painterly JPEGs.",
    )
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--domain", required=True, choices=_DOMAINS, help="appearance domain and file layout")
    p.add_argument("--count", required=True, type=int_at_least(1, "count"), help="number of frames (>= 1)")
    p.add_argument("--size", type=_size, default=(192, 640), metavar="HxW",
                   help="image size in pixels, e.g. 192x640 (default) or 375x1242")
    p.add_argument("--seed", type=int_at_least(0, "seed"), default=0, help="stream seed (default 0)")
    p.add_argument("--start-index", type=int_at_least(0, "start index"), default=0,
                   help="first scene index (default 0), to extend an earlier run")
    p.add_argument("--workers", type=int_at_least(0, "workers"), default=None,
                   help="processes (default: all CPU cores; 0 or 1 = in this process)")
    p.add_argument("--frames-per-sequence", type=int_at_least(1, "frames per sequence"), default=1000,
                   help="frames per vKITTI world/variation or KITTI drive (default 1000)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.synth import generate
    from . import CommandError

    def progress(done: int, total: int) -> None:
        if not args.quiet and (done == total or done % max(1, total // 20) == 0):
            print(f"  {done}/{total} frames", file=sys.stderr, flush=True)

    try:
        summary = generate(args.out, args.domain, args.count, args.size, args.seed,
                           start_index=args.start_index, workers=args.workers,
                           frames_per_sequence=args.frames_per_sequence, tune_malloc_in_process=True,
                           progress=progress)
    except (ValueError, OSError) as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        h, w = summary["size"]
        print(f"wrote {summary['count']} {summary['domain']} frames ({h}x{w}, seed {summary['seed']}) to "
              f"{summary['out_dir']} in {summary['seconds']:.1f} s ({summary['frames_per_second']:.2f} frames/s, "
              f"{summary['workers']} workers)")
        for key, value in summary["layout"].items():
            print(f"  {key}: {value}")
        for key, value in summary.get("splits", {}).items():
            print(f"  {key} split: {value}")
    return 0
