"""``s2rdepth compare``: markdown table of evaluation runs beside the papers' rows, with deltas."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="markdown table of evaluation results next to the papers' rows, with per-metric deltas",
        description="Read result files written by 's2rdepth evaluate --json' and print, per dataset and cap, "
        "the published rows (S2R-DepthNet, DA-Monodepth; REFERENCE.md section 6), each run's means and the "
        "delta run - paper per metric. The reference row follows each run's checkpoint (S2R variant or "
        "DA-Monodepth) unless --reference names one.",
    )
    p.add_argument("results", nargs="+", metavar="RESULT.json", help="result files of s2rdepth evaluate --json")
    p.add_argument("--labels", nargs="+", default=None, help="row names, one per result (default: their labels)")
    p.add_argument("--reference", default=None,
                   help="paper row to compute deltas against: a row id (s2r_full_80, da_vkitti_50, ...) or part "
                   "of its setting text ('DP only', 'Cityscapes')")
    p.add_argument("--no-papers", action="store_true", help="leave the paper rows out of the table")
    p.add_argument("--digits", type=int, default=3, help="decimals (default 3, as in the papers)")
    p.add_argument("--out", default=None, help="also write the markdown to this file")
    p.add_argument("--list-paper-rows", action="store_true", help="print the shipped paper rows' ids and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..eval import compare_table, load_result, paper_rows
    from . import CommandError

    if args.list_paper_rows:
        for r in paper_rows():
            print(f"{r['id']:<18} {r['dataset']:<6} cap {r['cap']:<3g} {r['setting']}")
        return 0
    if args.digits < 0 or args.digits > 8:
        raise CommandError("--digits must be between 0 and 8")
    try:
        docs = [load_result(p) for p in args.results]
        text = compare_table(docs, args.labels, reference=args.reference, papers=not args.no_papers,
                             digits=args.digits)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    print(text, end="")
    if args.out:
        from pathlib import Path

        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
    return 0
