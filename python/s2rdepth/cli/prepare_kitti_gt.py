"""``s2rdepth prepare-kitti-gt``: export KITTI Eigen ground truth to one ``.npz`` (no pickled objects).

The archive layout is documented in :mod:`s2rdepth.data.kitti` (keys ``depth``, ``shapes``,
``offsets``, ``lines``, ...); load it with :func:`s2rdepth.data.kitti.load_eigen_gt`.
"""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "prepare-kitti-gt",
        help="export KITTI (Eigen) ground-truth depth for a split file to an .npz",
        description="Project the Velodyne scans (or read proj_depth/groundtruth PNGs) of every line of a "
        "KITTI split file and write one .npz readable with np.load(..., allow_pickle=False).",
    )
    p.add_argument("--data", required=True, help="KITTI raw root (holds <date>/calib_*.txt and drives)")
    p.add_argument("--split", required=True, help="split file: '<date>/<drive>_sync <frame> <l|r>' lines")
    p.add_argument("--out", required=True, help="output .npz path")
    p.add_argument("--source", choices=("velodyne", "groundtruth"), default="velodyne",
                   help="velodyne: project scans (Eigen, default); groundtruth: read proj_depth/groundtruth PNGs")
    p.add_argument("--gt-root", default=None,
                   help="folder holding <drive>/proj_depth/groundtruth (default: <data>/<date>)")
    p.add_argument("--camera-depth", action="store_true",
                   help="store camera z instead of Velodyne x (the reference uses Velodyne x)")
    p.add_argument("--corrected", action="store_true",
                   help="use a true linear index for duplicate points (default: reproduce the reference quirk)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.kitti import export_eigen_gt
    from . import CommandError

    try:
        stats = export_eigen_gt(
            args.data, args.split, args.out, source=args.source,
            vel_depth=not args.camera_depth, faithful=not args.corrected,
            gt_root=args.gt_root, progress=not args.quiet,
        )
    except (OSError, ValueError, KeyError) as exc:
        raise CommandError(str(exc)) from exc
    if not args.quiet:
        print(f"wrote {args.out}: {stats['frames']} frames, {stats['valid_pixels']} valid pixels")
    return 0
