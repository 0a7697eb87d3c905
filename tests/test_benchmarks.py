"""``python -m benchmarks`` runs the suites and writes one JSON and one markdown summary."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmarks_entry_point_quick(tmp_path):
    out = tmp_path / "bench"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--suites", "ops,train,eval", "--out",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((out / "benchmarks.json").read_text())
    assert set(results["suites"]) == {"ops", "train", "eval"} and results["quick"] is True
    train = results["suites"]["train"]["results"]
    assert [r["method"] for r in train] == ["s2r_ste", "da_full"]
    assert all(r["steps_per_s"] > 0 and r["reference_steps_per_s"] > 0 and r["ratio"] > 0 for r in train)
    for key in ("adain_fwd_bwd", "structure_loss_fwd_bwd", "depth_metrics"):
        assert results["suites"]["ops"][key]["ratio"] > 0
    assert results["suites"]["eval"]["predictions"]["loop_images_per_s"] > 0
    md = (out / "benchmarks.md").read_text()
    assert "| adain_fwd_bwd |" in md and "Evaluation throughput" in md and "| s2r_ste |" in md


def test_unknown_suite_is_an_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--suites", "ops,gpu", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "unknown suite(s) gpu" in proc.stderr
