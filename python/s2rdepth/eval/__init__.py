"""Evaluation under the papers' protocols, result files and comparison with the papers' tables.

================================  =============================================================
:class:`EvalProtocol`             crop, caps, min depth, median scaling and its order, columns;
                                  :func:`default_protocol` per dataset (REFERENCE.md §3)
:class:`KittiEvalSet`,            frames + ground truth (Velodyne / benchmark PNGs / archive;
:class:`ReaderEvalSet`            NYU, Cityscapes, folders); :func:`open_eval_set`
:class:`ModelRunner`              batched inference of a checkpoint (:func:`load_checkpoint`)
:class:`PredictionFiles`          saved predictions of any method (``.npy``/``.npz``/folder)
:func:`evaluate`                  → :class:`EvalResult` (per-image rows, means, skipped frames,
                                  table, JSON)
:func:`compare_table`             markdown table of runs beside the paper rows, with deltas;
                                  :func:`paper_rows`, :func:`load_result`
================================  =============================================================

Command line: ``s2rdepth evaluate``, ``s2rdepth compare``. Depths are metres throughout.
"""
from .evaluate import ALL_METRICS, EvalResult, RESULT_FORMAT, evaluate, format_metrics_table
from .inference import DEFAULT_NETWORK_SIZE, ImageResizer, ModelRunner, load_checkpoint, parse_size
from .predictions import PredictionError, PredictionFiles
from .protocol import DATASETS, KITTI_COLUMNS, NYU_COLUMNS, ORDERS, EvalProtocol, default_protocol, \
    resize_batch, resize_to
from .report import LOWER_IS_BETTER, compare_table, load_result, paper_rows, reference_row
from .sets import EvalSet, KittiEvalSet, ReaderEvalSet, open_eval_set, read_name_list

__all__ = [
    "ALL_METRICS", "DATASETS", "DEFAULT_NETWORK_SIZE", "EvalProtocol", "EvalResult", "EvalSet",
    "ImageResizer", "KITTI_COLUMNS", "KittiEvalSet", "LOWER_IS_BETTER", "ModelRunner", "NYU_COLUMNS",
    "ORDERS", "PredictionError", "PredictionFiles", "RESULT_FORMAT", "ReaderEvalSet", "compare_table",
    "default_protocol", "evaluate", "format_metrics_table", "load_checkpoint", "load_result",
    "open_eval_set", "paper_rows", "parse_size", "read_name_list", "reference_row", "resize_batch",
    "resize_to",
]
