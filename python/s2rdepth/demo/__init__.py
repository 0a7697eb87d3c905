"""``s2rdepth demo``: the whole mission on built-in data — train on synthetic scenes, test on
real-styled ones, and check the papers' ablation ordering.

==========================  ==================================================================
:func:`run_demo`            data → train → evaluate → report → figures → export + predict
:data:`PROFILES`            ``full`` (about 10 minutes on 2 cores) and ``quick`` sizes/schedules
:data:`RUNS`                the trained rows (S2R stages and baseline, DA-Monodepth and baseline)
:func:`format_table`        the papers' table layout with the published rows alongside
:func:`train_all`           several training configurations at once, in stage order
==========================  ==================================================================
"""
from .pipeline import DemoResult, run_demo
from .plan import PROFILES, RUNS, DemoProfile, DemoRun
from .report import CLAIMS, GAP_CLAIMS, aggregate, check_claims, format_gap_table, format_table
from .scheduler import TrainTask, TrainingFailed, train_all

__all__ = ["CLAIMS", "GAP_CLAIMS", "DemoProfile", "DemoResult", "DemoRun", "PROFILES", "RUNS", "TrainTask", "TrainingFailed",
           "aggregate", "check_claims", "format_gap_table", "format_table", "run_demo", "train_all"]
