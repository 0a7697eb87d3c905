"""benchmarks/inference.py runs and reports median latency and images/s as JSON."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_inference_benchmark_smoke(tmp_path):
    out = tmp_path / "bench.json"
    cmd = [sys.executable, "-m", "benchmarks.inference", "--presets", "tiny", "--batches", "1,2",
           "--size", "64x128", "--backends", "eager,torchscript,tensorrt", "--quick", "--threads", "1",
           "--json", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["benchmark"] == "inference" and result["config"]["size"] == [64, 128]
    rows = {(r["backend"], r["batch"]): r for r in result["results"]}
    assert set(rows) == {(b, n) for b in ("eager", "torchscript", "tensorrt") for n in (1, 2)}
    for backend in ("eager", "torchscript"):
        for n in (1, 2):
            r = rows[(backend, n)]
            assert r["status"] == "ok" and r["median_ms"] > 0
            assert abs(r["images_per_s"] - n * 1000.0 / r["median_ms"]) < 1e-2 * r["images_per_s"] + 1e-3
    assert rows[("tensorrt", 1)]["status"] != "ok" or rows[("tensorrt", 1)]["median_ms"] > 0
    assert "| s2r | tiny |" in result["markdown"]
