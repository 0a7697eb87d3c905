"""The demo's table in the papers' layout, the claims it checks, and ``results.json`` / ``.md``.

Rows follow S2R-DepthNet Table 5 (vKITTI → KITTI, DP only / +STE / +STE+DSA) and DA-Monodepth
Table 3 (baseline / full model); each demo row sits under the published row it mirrors. With
several training seeds a cell is ``mean ± std`` (sample standard deviation, n − 1).
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from ..eval.protocol import KITTI_COLUMNS
from .plan import RUNS, DemoRun

__all__ = ["CLAIMS", "GAP_CLAIMS", "aggregate", "check_claims", "format_gap_table", "format_table"]

#: ``(description, group, ordered run ids)``: abs_rel must strictly decrease along each chain.
CLAIMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("S2R-DepthNet: abs_rel DP only > +STE > +STE+DSA", "s2r", ("s2r_baseline", "s2r_ste", "s2r_full")),
    ("DA-Monodepth: abs_rel with adaptation < depth-only baseline", "da", ("da_baseline", "da_full")),
)
#: The same orderings on the generalisation gap (abs_rel real − abs_rel virtual rendering).
GAP_CLAIMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("S2R-DepthNet: synthetic-to-real gap DP only > +STE > +STE+DSA", "s2r", ("s2r_baseline", "s2r_ste", "s2r_full")),
    ("DA-Monodepth: synthetic-to-real gap with adaptation < depth-only baseline", "da", ("da_baseline", "da_full")),
)
_HEADERS = {"abs_rel": "Abs Rel", "sq_rel": "Sq Rel", "rmse": "RMSE", "rmse_log": "RMSE log",
            "a1": "δ<1.25", "a2": "δ<1.25²", "a3": "δ<1.25³"}
_GROUP_TITLES = {"s2r": "S2R-DepthNet (Table 5: vKITTI → KITTI)",
                 "da": "DA-Monodepth (Table 3: vKITTI → KITTI)"}


def aggregate(per_seed: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """``metric → {mean, std, n, values}`` over seeds (std = 0 for one seed)."""
    out: dict[str, dict[str, Any]] = {}
    for k in per_seed[0]:
        v = np.array([float(m[k]) for m in per_seed], dtype=np.float64)
        out[k] = {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                  "n": int(len(v)), "values": [float(x) for x in v]}
    return out


def check_claims(rows: Mapping[str, Mapping[str, Any]], gap: bool = False) -> list[dict[str, Any]]:
    """Each claim of :data:`CLAIMS` (``gap=True``: :data:`GAP_CLAIMS`, ``rows`` holding the gap)
    on the mean abs_rel of ``rows`` (run id → aggregate), plus how many seeds reproduce it on
    their own."""
    out = []
    for text, group, chain in (GAP_CLAIMS if gap else CLAIMS):
        if not all(r in rows for r in chain):
            continue
        means = [rows[r]["abs_rel"]["mean"] for r in chain]
        seeds = [rows[r]["abs_rel"]["values"] for r in chain]
        n = min(len(s) for s in seeds)
        per_seed = [all(seeds[i][s] > seeds[i + 1][s] for i in range(len(chain) - 1)) for s in range(n)]
        out.append({"claim": text, "group": group, "runs": list(chain), "measure": "gap" if gap else "abs_rel",
                    "abs_rel": [round(m, 4) for m in means],
                    "holds": all(a > b for a, b in zip(means, means[1:])),
                    "seeds_holding": int(sum(per_seed)), "seeds": n})
    return out


def _cell(v: Optional[Mapping[str, float]], digits: int = 3, signed: bool = False) -> str:
    if v is None or v.get("mean") is None or not math.isfinite(v["mean"]):
        return "–"
    mean = f"{v['mean']:+.{digits}f}" if signed else f"{v['mean']:.{digits}f}"
    if v.get("n", 1) > 1:
        return f"{mean} ± {v['std']:.{digits}f}"
    return mean


def format_table(rows: Mapping[str, Mapping[str, Any]], paper: Mapping[str, Mapping[str, float]],
                 seeds: Sequence[int], runs: Sequence[DemoRun] = RUNS) -> str:
    """Markdown: per group, the published row then the demo row of every evaluated run."""
    cols = list(KITTI_COLUMNS)
    head = "| model | source | " + " | ".join(_HEADERS.get(c, c) for c in cols) + " |"
    rule = "|---|---|" + "---|" * len(cols)
    who = f"demo, {len(seeds)} seeds" if len(seeds) > 1 else f"demo, seed {seeds[0]}"
    lines: list[str] = []
    for group, title in _GROUP_TITLES.items():
        members = [r for r in runs if r.group == group and r.id in rows]
        if not members:
            continue
        lines += [f"**{title}**", "", head, rule]
        for run in members:
            ref = paper.get(run.paper_row or "")
            if ref is not None:
                lines.append(f"| {run.label} | paper (KITTI Eigen) | "
                             + " | ".join(f"{ref[c]:.3f}" if c in ref else "–" for c in cols) + " |")
            lines.append(f"| {run.label} | {who} | " + " | ".join(_cell(rows[run.id].get(c)) for c in cols) + " |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def format_gap_table(rows: Mapping[str, Mapping[str, Any]], in_domain: Mapping[str, Mapping[str, Any]],
                     gap: Mapping[str, Mapping[str, Any]], seeds: Sequence[int], runs: Sequence[DemoRun] = RUNS) -> str:
    """Markdown: abs_rel on the real-styled test frames, on the ``virtual`` rendering of the same
    scenes, and their difference (the synthetic-to-real gap), per evaluated run."""
    lines = ["| model | Abs Rel (real-styled) | Abs Rel (virtual rendering) | gap (real − virtual) |",
             "|---|---|---|---|"]
    for run in runs:
        if run.group is None or run.id not in rows:
            continue
        lines.append(f"| {run.short or run.label} | {_cell(rows[run.id]['abs_rel'])} | "
                     f"{_cell(in_domain[run.id]['abs_rel'])} | {_cell(gap[run.id]['abs_rel'], signed=True)} |")
    return "\n".join(lines) + "\n"
