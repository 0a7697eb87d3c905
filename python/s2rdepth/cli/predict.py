"""``s2rdepth predict``: depth maps for image files, from a checkpoint or an exported artifact.

For each input image ``NAME.ext`` it writes into ``--out``:

* ``NAME_depth.png`` — 16-bit PNG, ``round(depth_m * 256)`` (KITTI convention; read back with
  ``PIL.Image.open(p)`` → ``np.asarray(img) / 256``);
* ``NAME_depth_color.png`` — 8-bit RGB preview (inverse depth, colour-mapped), unless
  ``--no-color``;
* with ``--maps`` (S2R-DepthNet): ``NAME_structure.png`` and ``NAME_attention.png`` (8-bit grey,
  ``round(v * 255)``).

Folders given as IMAGE are searched (recursively) for image files. Names that would collide
(same stem in different folders) get the index of the image as a prefix.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._types import int_at_least, size_hw


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict", help="predict depth maps (16-bit PNG, metres x 256) for images",
        description="Predict depth in metres for images with a checkpoint (.safetensors) or an exported "
        "artifact (.pt TorchScript, .pt2 torch.export, .onnx, .engine TensorRT). Writes NAME_depth.png "
        "(uint16, metres x 256, KITTI convention) and NAME_depth_color.png per image.")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders of images")
    p.add_argument("--checkpoint", "--model", dest="checkpoint", required=True, metavar="CKPT",
                   help="model checkpoint (.safetensors), folder of the four official S2R-DepthNet "
                   "files, or exported artifact (.pt, .pt2, .onnx, .engine)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: GPU when available)")
    p.add_argument("--batch-size", type=int_at_least(1), default=8, help="images per forward pass (default 8)")
    p.add_argument("--network-size", type=size_hw, default=None, metavar="HxW",
                   help="network input size for checkpoints (default: the checkpoint's, else 192x640)")
    p.add_argument("--max-depth", type=float, default=None, metavar="M",
                   help="checkpoints: far end of the depth range in metres (default: the model's; 8 for "
                   "the indoor official S2R-DepthNet models)")
    p.add_argument("--maps", action="store_true",
                   help="also write the S2R structure and attention maps")
    p.add_argument("--no-color", action="store_true", help="skip the colour-mapped previews")
    p.add_argument("--max-depth-vis", type=float, default=None, metavar="M",
                   help="far limit of the colour map in metres (default: per-image percentile)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run)


def _expand(inputs: list[str]) -> list[Path]:
    from ..data.io import IMAGE_EXTENSIONS, list_files
    from . import CommandError

    paths: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = list_files(p, IMAGE_EXTENSIONS)
            if not found:
                raise CommandError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in folder {p}")
            paths.extend(found)
        elif p.is_file():
            paths.append(p)
        else:
            raise CommandError(f"image not found: {p}")
    return paths


def _stems(paths: list[Path]) -> list[str]:
    stems = [p.stem for p in paths]
    seen: dict[str, int] = {}
    for s in stems:
        seen[s] = seen.get(s, 0) + 1
    width = len(str(len(paths)))
    return [f"{i:0{width}d}_{s}" if seen[s] > 1 else s for i, s in enumerate(stems)]


def run(args: argparse.Namespace) -> int:
    from . import CommandError

    paths = _expand(args.images)
    try:
        from ..deploy.artifacts import ArtifactError
        from ..deploy.colormap import save_color_png, save_depth_png, save_map_png
        from ..deploy.images import ImageInputError, ImageReadError
        from ..deploy.prediction import Predictor

        depth_kwargs = {"max_depth": args.max_depth} if args.max_depth is not None else {}
        predictor = Predictor(args.checkpoint, device=args.device, batch_size=args.batch_size,
                              network_size=args.network_size, **depth_kwargs)
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        raise CommandError(str(exc)) from None
    output = "depth"
    if args.maps:
        missing = [n for n in ("structure", "attention") if n not in predictor.outputs]
        if missing:
            raise CommandError(f"--maps: this model has no {' / '.join(missing)} map "
                               f"(outputs: {', '.join(predictor.outputs)})")
        output = "all"
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stems = _stems(paths)
    bar = None
    if not args.quiet and len(paths) > 1:
        try:
            from tqdm import tqdm

            bar = tqdm(total=len(paths), unit="img", desc="predict", file=sys.stderr)
        except ImportError:  # pragma: no cover - tqdm is optional
            bar = None
    chunk = max(1, args.batch_size) * 4  # decode a few batches at a time, not every image at once
    failures: list[str] = []
    written = 0
    try:
        for start in range(0, len(paths), chunk):
            part = paths[start:start + chunk]
            try:
                results = predictor([str(p) for p in part], output=output)
            except (ImageReadError, ImageInputError):
                results = []
                for p in part:  # find and skip the unreadable files, keep the others
                    try:
                        results.append(predictor(str(p), output=output))
                    except (ImageReadError, ImageInputError) as exc:
                        failures.append(str(exc))
                        results.append(None)
            for i, result in enumerate(results):
                if result is not None:
                    stem = stems[start + i]
                    depth = result["depth"] if isinstance(result, dict) else result
                    save_depth_png(out_dir / f"{stem}_depth.png", depth)
                    if not args.no_color:
                        save_color_png(out_dir / f"{stem}_depth_color.png", depth,
                                       max_depth_m=args.max_depth_vis)
                    if args.maps:
                        save_map_png(out_dir / f"{stem}_structure.png", result["structure"])
                        save_map_png(out_dir / f"{stem}_attention.png", result["attention"])
                    written += 1
                if bar is not None:
                    bar.update(1)
    except (ArtifactError, RuntimeError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()
    for msg in failures:
        print(f"s2rdepth predict: skipped {msg}", file=sys.stderr)
    if not args.quiet:
        print(f"wrote depth maps for {written} of {len(paths)} images to {out_dir} "
              f"({predictor.runner.describe()})")
    if failures:
        if written == 0:
            raise CommandError(f"no image could be read ({len(failures)} failed)")
        return 1
    return 0
