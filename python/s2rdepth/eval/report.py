"""Result files and comparison tables: ``s2rdepth compare RESULT.json ...``.

The paper rows (REFERENCE.md §6: S2R-DepthNet Tables 1-3, DA-Monodepth) ship as package data in
``paper_rows.json``. :func:`compare_table` renders, per dataset and cap, the paper rows, each
run's means and, per run, the per-metric delta ``run − paper`` against a reference row (chosen
from the run's checkpoint architecture and variant, or given explicitly).
"""
from __future__ import annotations

import json
import math
import os
from importlib import resources
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from .evaluate import RESULT_FORMAT
from .protocol import KITTI_COLUMNS, NYU_COLUMNS

__all__ = ["LOWER_IS_BETTER", "compare_table", "load_result", "paper_rows", "reference_row"]

#: Error metrics (lower is better); the others (a1, a2, a3) are accuracies.
LOWER_IS_BETTER: tuple[str, ...] = ("abs_rel", "sq_rel", "rmse", "rmse_log", "log10")
_COLUMNS = {"kitti": KITTI_COLUMNS, "nyu": NYU_COLUMNS}
#: The protocol the paper rows were measured with, per dataset.
PAPER_PROTOCOL = {"kitti": {"crop": "garg", "median_scaling": True}, "nyu": {"crop": None, "median_scaling": True}}


def paper_rows(dataset: Optional[str] = None) -> list[dict[str, Any]]:
    """The published rows (``id``, ``method``, ``variant``, ``setting``, ``dataset``, ``cap``,
    ``metrics``), optionally of one dataset."""
    text = resources.files("s2rdepth.eval").joinpath("paper_rows.json").read_text(encoding="utf-8")
    rows = json.loads(text)["rows"]
    return [r for r in rows if dataset is None or r["dataset"] == dataset]


def load_result(path: Union[str, os.PathLike]) -> dict[str, Any]:
    """Read a result JSON written by ``s2rdepth evaluate --json`` (format checked)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"result file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a JSON document ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != RESULT_FORMAT:
        raise ValueError(f"{path}: not an s2rdepth evaluation result (format {doc.get('format') if isinstance(doc, dict) else None!r})")
    for key in ("protocol", "results"):
        if key not in doc:
            raise ValueError(f"{path}: result lacks {key!r}")
    doc.setdefault("_path", str(path))
    return doc


def reference_row(dataset: str, cap: float, *, reference: Optional[str] = None,
                  source: Optional[dict[str, Any]] = None) -> Optional[dict[str, Any]]:
    """The paper row a run is compared with.

    ``reference`` (a row id or a case-insensitive part of its id/setting) wins; otherwise the
    run's checkpoint decides (S2R variant ``baseline`` → DP only, ``ste`` → +STE, ``edge`` → Edge
    + DP, other S2R variants → full model; DA-Monodepth → vKITTI→KITTI full model, or its Table 3
    ablation row without the domain classifier / semantic decoder); otherwise the S2R full model
    row.
    ``None`` when no row of that dataset and cap exists.
    """
    rows = [r for r in paper_rows(dataset) if math.isclose(float(r["cap"]), float(cap))]
    if not rows:
        return None
    if reference:
        ref = reference.lower()
        hit = [r for r in rows if r["id"].lower() == ref] or \
              [r for r in rows if ref in r["id"].lower() or ref in r["setting"].lower()]
        if not hit:
            raise ValueError(f"no paper row matching {reference!r} for {dataset} at cap {cap:g} m "
                             f"(rows: {', '.join(r['id'] for r in rows)})")
        return hit[0]
    arch = (source or {}).get("arch")
    config = (source or {}).get("config") or {}
    variant = config.get("variant", "ste_dsa_mul")
    wanted: list[tuple[str, str]] = []
    if arch == "da_monodepth":
        if config.get("use_domain_classifier", True):
            wanted = [("da_monodepth", "vkitti")]
        else:
            wanted = [("da_monodepth", "vkitti_seg" if config.get("use_semantic", True) else "vkitti_baseline")]
    elif arch == "s2r":
        wanted = [("s2r", variant if variant in ("baseline", "ste", "edge") else "ste_dsa_mul")]
    wanted.append(("s2r", "ste_dsa_mul"))
    for method, var in wanted:
        hit = [r for r in rows if r["method"] == method and r["variant"] == var]
        if hit:
            return hit[0]
    return rows[0]


def _fmt(v: Any, digits: int, signed: bool = False) -> str:
    if v is None:
        return "–"
    v = float(v)
    if not math.isfinite(v):
        return "–"
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def _label(doc: dict[str, Any], i: int) -> str:
    if doc.get("label"):
        return str(doc["label"])
    if doc.get("_path"):
        return Path(doc["_path"]).stem
    return f"run {i + 1}"


def _protocol_notes(label: str, doc: dict[str, Any], dataset: str) -> list[str]:
    want = PAPER_PROTOCOL.get(dataset)
    p = doc["protocol"]
    notes = []
    if want is not None:
        if p.get("crop") != want["crop"]:
            notes.append(f"{label}: crop {p.get('crop')} (paper rows: {want['crop']})")
        if bool(p.get("median_scaling")) != want["median_scaling"]:
            notes.append(f"{label}: median scaling {'on' if p.get('median_scaling') else 'off'} (paper rows: on)")
    return notes


def compare_table(results: Sequence[dict[str, Any]], labels: Optional[Sequence[str]] = None, *,
                  reference: Optional[str] = None, papers: bool = True, digits: int = 3) -> str:
    """Markdown comparison of result documents (:func:`load_result`) with the paper rows.

    One section per (dataset, cap) present in the runs: the paper rows of that dataset and cap
    (``papers=True``), one row per run, then per run ``Δ <run> − <paper row>`` for every metric.
    Protocol differences from the paper rows (crop, median scaling) are listed under the table.
    """
    if not results:
        raise ValueError("nothing to compare: no result files")
    labels = list(labels) if labels is not None else [_label(d, i) for i, d in enumerate(results)]
    if len(labels) != len(results):
        raise ValueError(f"{len(labels)} labels for {len(results)} results")
    sections: dict[tuple[str, float], list[int]] = {}
    for i, doc in enumerate(results):
        dataset = doc["protocol"].get("dataset", "kitti")
        for entry in doc["results"].values():
            sections.setdefault((dataset, float(entry["cap"])), []).append(i)
    out: list[str] = []
    for (dataset, cap), members in sorted(sections.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        columns = list(_COLUMNS.get(dataset, KITTI_COLUMNS))
        for i in members:
            for c in results[i]["protocol"].get("columns", []):
                if c not in columns:
                    columns.append(c)
        out.append(f"### {dataset.upper() if dataset in ('kitti', 'nyu') else dataset}, cap {cap:g} m")
        out.append("")
        head = ["run", "images", *columns]
        out.append("| " + " | ".join(head) + " |")
        out.append("|---|---:|" + "|".join("---:" for _ in columns) + "|")
        if papers:
            for r in paper_rows(dataset):
                if math.isclose(float(r["cap"]), cap):
                    cells = [f"paper: {r['setting']}", "–"] + [_fmt(r["metrics"].get(c), digits) for c in columns]
                    out.append("| " + " | ".join(cells) + " |")
        deltas: list[str] = []
        notes: list[str] = []
        for i in members:
            doc = results[i]
            entry = next(e for e in doc["results"].values() if math.isclose(float(e["cap"]), cap))
            means = entry["means"]
            images = f"{entry['images']}" + (f" (+{entry['skipped']} skipped)" if entry.get("skipped") else "")
            out.append("| " + " | ".join([labels[i], images] + [_fmt(means.get(c), digits) for c in columns]) + " |")
            ref = reference_row(dataset, cap, reference=reference, source=doc.get("source"))
            if ref is not None:
                cells = [f"Δ {labels[i]} − {ref['setting']}", ""]
                for c in columns:
                    a, b = means.get(c), ref["metrics"].get(c)
                    cells.append("–" if a is None or b is None else _fmt(float(a) - float(b), digits, signed=True))
                deltas.append("| " + " | ".join(cells) + " |")
            notes += _protocol_notes(labels[i], doc, dataset)
        out.extend(deltas)
        out.append("")
        if deltas:
            out.append("Δ = run − paper; lower is better for " + ", ".join(c for c in columns if c in LOWER_IS_BETTER)
                       + "; higher is better for " + ", ".join(c for c in columns if c not in LOWER_IS_BETTER) + ".")
        for i in members:
            p = results[i]["protocol"]
            out.append(f"{labels[i]}: {p.get('crop') or 'no'} crop, min depth {p.get('min_depth')} m, "
                       f"median scaling {'on' if p.get('median_scaling') else 'off'} ({p.get('order')} order), "
                       f"s2rdepth {results[i].get('s2rdepth_version')}.")
        for note in notes:
            out.append(f"**protocol differs from the paper rows** — {note}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
