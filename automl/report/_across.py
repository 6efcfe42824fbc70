"""The cross-dataset leaderboard: how each search (space × backend × algorithm) did on every dataset.

Scores of different datasets are not comparable (accuracy 0.9 on digits, rmse 3.1 on auto_mpg), so each
is normalised against the dataset's own yardsticks::

    normalised = (score - b) / (best - b)

where ``b`` is the strongest baseline's validation score on that dataset and ``best`` the best search's
score there. 1 is the best search, 0 the baseline, below 0 worse than the baseline. The formula is the
same for minimised metrics (both differences change sign together). When no search beats the baseline
the scale is undefined and ``normalised`` is left empty, with ``beats_baseline`` false.

Pure functions of leaderboard frames (:func:`automl.report.study_leaderboard`); no TensorFlow.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from automl.report._leaderboard import BASE_COLUMNS, RESUMED_COLUMNS, _cell, _markdown, config_summary

__all__ = ["COLUMNS", "across_datasets", "render_across"]

COLUMNS = [
    "dataset",
    "search",
    "metric",
    "direction",
    "score",
    "baseline",
    "baseline_score",
    "beats_baseline",
    "normalised",
    "rank",
    "mean_rank",
    "trial",
    "config",
]


def _search_label(attrs: dict[str, Any]) -> str:
    """``space/backend-algorithm``; the backend part comes from the attrs or the study name's last part."""
    engine = ""
    if attrs.get("backend"):
        engine = f"{attrs['backend']}-{attrs.get('algorithm', '')}".rstrip("-")
    elif attrs.get("study"):
        engine = str(attrs["study"]).rsplit("/", 1)[-1]
    return f"{attrs.get('space', '')}/{engine}" if engine else str(attrs.get("space", ""))


def _better(a: float, b: float, maximize: bool) -> bool:
    return a > b if maximize else a < b


def _best_row(frame: pd.DataFrame) -> pd.Series | None:
    ranked = frame[(frame["state"] == "complete") & frame["rank"].notna()]
    if ranked.empty:
        return None
    return ranked.sort_values("rank").iloc[0]


def across_datasets(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One row per (dataset, search) from per-study leaderboards.

    Each frame must carry ``attrs`` ``dataset``, ``space``, ``metric``, ``direction`` and either
    ``backend``/``algorithm`` or ``study`` (the study name). Columns: see :data:`COLUMNS`; ``rank`` is the
    search's rank on that dataset (1 = best; ties share the lower rank), ``mean_rank`` its mean over the
    datasets it has a score on, ``config`` the best trial's varying parameters. Rows are sorted by dataset,
    then rank. ``attrs["datasets"]`` lists the datasets in first-seen order.
    """
    rows: list[dict[str, Any]] = []
    for frame in frames:
        attrs = frame.attrs
        maximize = attrs.get("direction") == "maximize"
        best = _best_row(frame)
        base = frame[frame["state"] == "baseline"].dropna(subset=["score"])
        baseline, b = None, math.nan
        if not base.empty:
            pick = base["score"].idxmax() if maximize else base["score"].idxmin()
            baseline, b = (
                str(base.loc[pick, "trial"]).removeprefix("baseline:"),
                float(base.loc[pick, "score"]),
            )
        params = [c for c in frame.columns if c not in (*BASE_COLUMNS, *RESUMED_COLUMNS, "failure")]
        rows.append(
            {
                "dataset": attrs.get("dataset", ""),
                "search": _search_label(attrs),
                "metric": attrs.get("metric", ""),
                "direction": attrs.get("direction", ""),
                "score": math.nan if best is None else float(best["score"]),
                "baseline": baseline,
                "baseline_score": b,
                "trial": None if best is None else str(best["trial"]),
                "config": "" if best is None else config_summary(best, params),
            }
        )
    out = pd.DataFrame(
        rows, columns=[c for c in COLUMNS if c not in ("beats_baseline", "normalised", "rank", "mean_rank")]
    )
    datasets = list(dict.fromkeys(out["dataset"]))
    normalised: list[float] = []
    beats: list[bool] = []
    ranks: list[float] = []
    for _, row in out.iterrows():
        group = out[out["dataset"] == row["dataset"]]
        maximize = row["direction"] == "maximize"
        scores = group["score"].dropna()
        best = (scores.max() if maximize else scores.min()) if not scores.empty else math.nan
        b = row["baseline_score"]
        scaled = not (math.isnan(best) or math.isnan(b)) and _better(best, b, maximize)
        score = row["score"]
        normalised.append((score - b) / (best - b) if scaled and not math.isnan(score) else math.nan)
        beats.append(bool(not math.isnan(score) and not math.isnan(b) and _better(score, b, maximize)))
        ordered = scores if maximize else -scores
        ranks.append(
            math.nan if math.isnan(score) else float((ordered > (score if maximize else -score)).sum() + 1)
        )
    out["normalised"] = normalised
    out["beats_baseline"] = beats
    out["rank"] = pd.array([None if math.isnan(r) else int(r) for r in ranks], dtype="Int64")
    mean_rank = out.groupby("search")["rank"].apply(lambda r: r.dropna().astype(float).mean())
    out["mean_rank"] = out["search"].map(mean_rank)
    out["dataset"] = pd.Categorical(out["dataset"], categories=datasets, ordered=True)
    out = out.sort_values(["dataset", "rank"], na_position="last", kind="stable").reset_index(drop=True)
    out["dataset"] = out["dataset"].astype(str)
    out = out[COLUMNS]
    out.attrs["datasets"] = datasets
    return out


def render_across(frame: pd.DataFrame, fmt: str = "table") -> Any:
    """The cross-dataset table as ``table`` (a rich Table), ``csv``, ``json`` or ``markdown`` (strings).

    The same conventions as :func:`automl.report.render`: csv/json hold every column, table and
    markdown the columns a person reads first.
    """
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "json":
        return (
            json.dumps(
                {
                    "datasets": frame.attrs.get("datasets", []),
                    "rows": json.loads(frame.to_json(orient="records")),
                },
                indent=2,
            )
            + "\n"
        )
    shown = frame[
        [
            "dataset",
            "search",
            "metric",
            "score",
            "baseline_score",
            "normalised",
            "rank",
            "mean_rank",
            "config",
        ]
    ].rename(columns={"baseline_score": "baseline", "normalised": "norm"})
    if fmt == "markdown":
        return _markdown(shown)
    if fmt == "table":
        from rich.table import Table

        table = Table(
            title="across datasets · validation",
            caption="norm = (score − baseline) / (best − baseline): 1 best, 0 strongest baseline, < 0 worse",
        )
        for column in shown.columns:
            table.add_column(column, ratio=1) if column == "config" else table.add_column(
                column, no_wrap=True
            )
        for row in shown.itertuples(index=False):
            table.add_row(*(_cell(v) for v in row), style="bold" if row.rank == 1 else None)
        return table
    from automl.exceptions import UserError

    raise UserError(f"unknown format {fmt!r}; use table, csv, json or markdown")
