"""Reports on a run: leaderboards per study and across datasets, the trade-off fronts (score against
weights, size, latency), learning-curve diagnosis and the HTML report, with their renderings (no
TensorFlow). ``pareto_front`` is the store's (the retrain picks from it too), re-exported here."""

from automl.report._across import COLUMNS, across_datasets, render_across
from automl.report._data import report_data
from automl.report._diagnose import Diagnosis, diagnose, diagnose_trials, render_diagnosis
from automl.report._html import REPORT_FILE, ReportPath, render_html, write_report
from automl.report._leaderboard import (
    BASE_COLUMNS,
    RESUMED_COLUMNS,
    compact,
    config_summary,
    fit_config,
    render,
    run_leaderboards,
    study_leaderboard,
    varying_params,
)
from automl.report._pareto import render_front, run_fronts, study_front, study_fronts
from automl.report._ranges import RangeAdvice, range_advice, render_range_advice, run_range_advice
from automl.report._tensorboard import export_tensorboard
from automl.store import pareto_front

__all__ = [
    "BASE_COLUMNS",
    "COLUMNS",
    "REPORT_FILE",
    "RESUMED_COLUMNS",
    "Diagnosis",
    "RangeAdvice",
    "ReportPath",
    "across_datasets",
    "compact",
    "config_summary",
    "diagnose",
    "diagnose_trials",
    "export_tensorboard",
    "fit_config",
    "pareto_front",
    "range_advice",
    "render",
    "render_across",
    "render_diagnosis",
    "render_front",
    "render_html",
    "render_range_advice",
    "report_data",
    "run_fronts",
    "run_leaderboards",
    "run_range_advice",
    "study_front",
    "study_fronts",
    "study_leaderboard",
    "varying_params",
    "write_report",
]
