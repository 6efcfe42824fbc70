"""Reports on a run: leaderboards per study and across datasets, and their renderings (no TensorFlow)."""

from automl.report._across import COLUMNS, across_datasets, render_across
from automl.report._leaderboard import (
    BASE_COLUMNS,
    compact,
    config_summary,
    render,
    run_leaderboards,
    study_leaderboard,
    varying_params,
)

__all__ = [
    "BASE_COLUMNS",
    "COLUMNS",
    "across_datasets",
    "compact",
    "config_summary",
    "render",
    "render_across",
    "run_leaderboards",
    "study_leaderboard",
    "varying_params",
]
