"""Run the benchmark suites and write one JSON and one markdown summary.

    python -m benchmarks [--quick] [--suites ops,train,inference,eval] [--out DIR]

Suites (each also runs alone, e.g. ``python -m benchmarks.ops``):
  ops        fused operators vs the eager PyTorch composition / a NumPy loop (benchmarks/ops.py)
  train      training steps/s per method, fused vs reference ops (benchmarks/train.py)
  inference  latency per backend and preset at 192 x 640 (benchmarks/inference.py)
  eval       evaluation throughput on KITTI-sized frames (benchmarks/eval.py)
Writes ``DIR/benchmarks.json`` (every suite's full JSON) and ``DIR/benchmarks.md``.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Callable

from ._timing import machine

#: suite -> (module, arguments for a full run, arguments for --quick)
SUITES: dict[str, tuple[str, list[str], list[str]]] = {
    "ops": ("ops", [], ["--quick"]),
    "train": ("train", [], ["--quick"]),
    "inference": ("inference", ["--presets", "tiny,lite", "--batches", "1,8"],
                  ["--presets", "tiny", "--batches", "1", "--quick", "--backends", "eager,torchscript"]),
    "eval": ("eval", ["--frames", "697", "--scenario", "predictions"],
             ["--frames", "24", "--scenario", "predictions", "--workers", "0"]),
}


def _run_suite(name: str, quick: bool) -> dict:
    import importlib

    module, full, short = SUITES[name]
    main: Callable[[list[str]], int] = importlib.import_module(f"{__package__}.{module}").main
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{name}.json"
        with contextlib.redirect_stdout(io.StringIO()):  # each suite prints its JSON; we collect it
            rc = main((short if quick else full) + ["--json", str(out)])
        if rc != 0:
            raise RuntimeError(f"benchmark suite {name!r} exited with {rc}")
        return json.loads(out.read_text())


def summary(results: dict) -> str:
    """Markdown of the headline numbers of every suite that ran."""
    lines = ["# s2rdepth benchmarks", "", f"Machine: `{json.dumps(results['machine'])}`", ""]
    ops = results["suites"].get("ops")
    if ops:
        lines += ["## Operators (fused vs reference)", "", "| op | fused ms | reference ms | ratio |",
                  "|---|---:|---:|---:|"]
        for key, ref in (("adain_fwd_bwd", "eager_ms"), ("structure_loss_fwd_bwd", "eager_ms"),
                         ("depth_metrics", "numpy_loop_ms")):
            r = ops[key]
            lines.append(f"| {key} | {r['fused_ms']:.2f} | {r[ref]:.2f} | {r['ratio']:.2f}x |")
        lines.append("")
    tr = results["suites"].get("train")
    if tr:
        lines += [f"## Training throughput ({tr['preset']} preset, {tr['size'][0]}x{tr['size'][1]}, batch "
                  f"{tr['batch']}, {tr['threads']} thread(s), {tr['device']})", "", tr["markdown"], ""]
    inf = results["suites"].get("inference")
    if inf:
        lines += ["## Inference latency", "", inf.get("markdown", ""), ""]
    ev = results["suites"].get("eval")
    if ev and "predictions" in ev:
        p = ev["predictions"]
        lines += ["## Evaluation throughput", "",
                  f"{p['frames']} frames of 375 x 1242 from saved predictions: "
                  f"{p['loop_images_per_s']} images/s (evaluation loop).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small shapes and few repeats (a smoke run)")
    p.add_argument("--suites", default=",".join(SUITES), help=f"comma-separated subset of {', '.join(SUITES)}")
    p.add_argument("--out", default="benchmarks/out", help="folder for benchmarks.json and benchmarks.md")
    args = p.parse_args(argv)
    names = [s for s in args.suites.split(",") if s]
    unknown = [s for s in names if s not in SUITES]
    if unknown:
        p.error(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    results = {"machine": machine(), "quick": args.quick, "suites": {}}
    for name in names:
        print(f"benchmarks: {name} ...", file=sys.stderr, flush=True)
        results["suites"][name] = _run_suite(name, args.quick)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmarks.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "benchmarks.md").write_text(summary(results) + "\n")
    print(summary(results))
    print(f"benchmarks: wrote {out / 'benchmarks.json'} and {out / 'benchmarks.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
