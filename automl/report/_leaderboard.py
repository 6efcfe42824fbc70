"""Leaderboards: pure functions from stored trial records to ranked pandas tables, and their renderings.

A study's leaderboard ranks the finished trials by validation score (in the metric's direction) and
shows the dataset's baselines as rows beside them, so a model that does not beat a linear model is seen
to. Pruned trials follow, ranked by their last reported score; failed trials close the table with their
reason. No TensorFlow here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from automl.store import SearchStopped, StudyInfo, TrialRecord, TrialState

__all__ = [
    "BASE_COLUMNS",
    "RESUMED_COLUMNS",
    "compact",
    "config_summary",
    "fit_config",
    "over_limit_share",
    "plain_text",
    "render",
    "run_leaderboards",
    "study_leaderboard",
    "varying_params",
]

#: the columns a leaderboard adds after :data:`BASE_COLUMNS` when a trial of its study resumed from a
#: checkpoint: the trial it retried, and the epoch it went on from.
RESUMED_COLUMNS = ["retry_of", "resumed_at"]

#: the columns every leaderboard starts with, whichever backend ran (parameter columns follow).
BASE_COLUMNS = [
    "rank",
    "trial",
    "state",
    "score",
    "best_epoch",
    "epochs_run",
    "stopped_by",
    "n_params",
    "fit_seconds",
]


def varying_params(records: Sequence[TrialRecord]) -> list[str]:
    """Config keys whose value differs between trials (constants like the epoch budget add nothing)."""
    order: dict[str, None] = {}
    values: dict[str, set[str]] = {}
    for record in records:
        for key, value in record.config.items():
            order.setdefault(key)
            values.setdefault(key, set()).add(json.dumps(value, default=str))
    return [k for k in order if len(values[k]) > 1 or any(k not in r.config for r in records)]


def study_leaderboard(
    records: Sequence[TrialRecord],
    info: StudyInfo,
    *,
    baselines: bool = True,
    failed: bool = True,
    stopped: SearchStopped | None = None,
) -> pd.DataFrame:
    """The ranked table of one study.

    Columns: ``rank`` (1 = best finished trial; empty for baselines, pruned and failed rows), ``trial``
    (number, or ``baseline:<name>``), ``state``, ``score`` (validation, in ``info.metric``), ``best_epoch``,
    ``epochs_run``, ``stopped_by``, ``n_params``, ``fit_seconds``, then, only when a trial of the study
    resumed from a checkpoint, ``retry_of`` (the trial it retried) and ``resumed_at`` (the epoch it went on
    from), then ``failure`` and every parameter that varies between trials. ``DataFrame.attrs`` holds
    dataset, space, metric and direction, and ``stopped`` (why the search stopped early, in words) when
    ``stopped`` says it did.
    """
    maximize = info.direction == "maximize"
    skipped = over_limit_share(records)
    repeats = sum(r.repeat_of is not None for r in records)
    # Never trained here: a config over the limit, or one the study had finished (its original's row).
    records = [r for r in records if r.state is not TrialState.SKIPPED and r.repeat_of is None]
    params = varying_params(records)
    resumed = RESUMED_COLUMNS if any(r.resumed_at is not None for r in records) else []

    def sort_key(score: float | None) -> float:
        if score is None or math.isnan(score):
            return math.inf
        return -score if maximize else score

    def row(record: TrialRecord) -> dict[str, Any]:
        out: dict[str, Any] = {
            "trial": str(record.number),
            "state": record.state.value,
            "score": record.score,
            "best_epoch": record.best_epoch,
            "epochs_run": record.epochs_run,
            "stopped_by": record.stopped_by,
            "n_params": record.n_params,
            "fit_seconds": None if record.fit_seconds is None else round(record.fit_seconds, 2),
            "failure": record.failure,
        }
        if resumed:
            out.update(retry_of=record.retry_of, resumed_at=record.resumed_at)
        out.update({p: record.config.get(p) for p in params})
        return out

    complete = sorted((r for r in records if r.state is TrialState.COMPLETE), key=lambda r: sort_key(r.score))
    rows = [row(r) for r in complete]
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    if baselines:
        base_rows = [
            {"trial": f"baseline:{name}", "state": "baseline", "score": value}
            for name, value in sorted(info.baselines.items())
            if value is not None
        ]
        rows = sorted(rows + base_rows, key=lambda r: sort_key(r["score"]))
    pruned = sorted((r for r in records if r.state is TrialState.PRUNED), key=lambda r: sort_key(r.score))
    rows += [row(r) for r in pruned]
    if failed:
        rows += [row(r) for r in records if r.state is TrialState.FAIL]
    frame = pd.DataFrame(rows, columns=[*BASE_COLUMNS, *resumed, "failure", *params])
    frame["rank"] = frame["rank"].astype("Int64")
    for column in ("best_epoch", "epochs_run", "n_params", *resumed):
        frame[column] = frame[column].astype("Int64")
    frame.attrs.update(
        dataset=info.dataset, space=info.space, metric=info.metric, direction=info.direction, task=info.task
    )
    if stopped is not None:
        frame.attrs["stopped"] = stopped.describe()
    if skipped is not None:
        frame.attrs["skipped"] = skipped
    if repeats:
        frame.attrs["repeats"] = (
            f"{repeats} proposal{'s' if repeats > 1 else ''} repeated a finished config: "
            "its result reused, not trained again"
        )
    return frame


def over_limit_share(records: Sequence[TrialRecord]) -> str | None:
    """How many proposals were over a limit (skipped, never trained), in words, with the share in
    each half of the search: it falls as the sampler learns the limit. None when none was."""
    proposals = sorted(
        (r for r in records if r.state not in (TrialState.RUNNING, TrialState.WAITING)),
        key=lambda r: r.number,
    )
    over = [r.state is TrialState.SKIPPED for r in proposals]
    if not any(over):
        return None
    half = len(over) // 2
    first, second = over[:half], over[half:]
    halves = (
        f"; {sum(first) / len(first):.0%} in the first half, {sum(second) / len(second):.0%} in the second"
        if first
        else ""
    )
    share = f"{sum(over) / len(over):.0%}{halves}"
    limits = [n for n in ("max_params", "max_latency_ms") if any(n in (r.failure or "") for r in proposals)]
    return f"{sum(over)} of {len(over)} proposals over {' or '.join(limits)}, not trained ({share})"


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        return (
            f"{value:.4g}"
            if abs(value) < 1e-3 or abs(value) >= 1e5
            else f"{value:.4f}".rstrip("0").rstrip(".")
        )
    return str(value)


_ABBREVIATIONS = {
    "learning_rate": "lr",
    "lr_schedule": "sched",
    "batch_size": "batch",
    "batch_norm": "bn",
    "activation": "act",
    "optimizer": "opt",
    "momentum": "mom",
}


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2g}" if value and (abs(value) < 1e-2 or abs(value) >= 1e4) else f"{value:.3g}"
    return str(value)


#: the knobs a one-line config keeps first when the terminal is narrow (others follow in table order).
_KEY_ORDER = ("units", "filters", "lr", "dropout", "l2", "batch", "depth", "sched", "act", "opt", "bn")


def fit_config(summary: str, limit: int) -> str:
    """``summary`` (as :func:`config_summary` writes it) cut to ``limit`` characters on one line.

    Keeps whole ``name=value`` parts, the key knobs first (width, learning rate, dropout, L2, batch size…),
    and ends with ``…`` when parts were left out.
    """
    if len(summary) <= limit:
        return summary
    parts = summary.split(" ")

    def priority(part: str) -> int:
        name = part.split("=", 1)[0]
        return _KEY_ORDER.index(name) if name in _KEY_ORDER else len(_KEY_ORDER)

    kept: set[int] = set()
    used = 1  # the closing ellipsis
    for index in sorted(range(len(parts)), key=lambda i: (priority(parts[i]), i)):
        cost = len(parts[index]) + (1 if kept else 0)
        if used + cost <= limit:
            kept.add(index)
            used += cost
    return " ".join(parts[i] for i in sorted(kept)) + "…"


def config_summary(row: pd.Series, params: Sequence[str]) -> str:
    """A compact line of a trial's varying params: ``depth=2 units=49,62 lr=0.012`` (long names shortened)."""
    parts: list[str] = []
    layered: dict[str, list[str]] = {}
    for name in params:
        value = row.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        base, _, index = name.rpartition("_")
        if index.isdigit() and base in ("units", "filters"):
            if base not in layered:
                layered[base] = []
                parts.append(base)
            layered[base].append(_short(value))
            continue
        parts.append(f"{_ABBREVIATIONS.get(name, name)}={_short(value)}")
    return " ".join(f"{p}={','.join(layered[p])}" if p in layered else p for p in parts)


def compact(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns a person reads first: rank, trial, state, score, epochs, seconds and a config summary;
    with ``resumed`` beside the epochs when a trial resumed from a checkpoint (``5 (trial 0)``: it went on
    from epoch 5 of trial 0's checkpoint)."""
    params = [
        c for c in frame.columns if c not in BASE_COLUMNS and c not in RESUMED_COLUMNS and c != "failure"
    ]
    columns: dict[str, Any] = {
        "rank": frame["rank"],
        "trial": frame["trial"],
        "state": frame["state"],
        "score": frame["score"],
        "epochs": [
            "" if pd.isna(b) and pd.isna(r) else f"{'' if pd.isna(b) else b}/{'' if pd.isna(r) else r}"
            for b, r in zip(frame["best_epoch"], frame["epochs_run"], strict=True)
        ],
    }
    if "resumed_at" in frame.columns:
        columns["resumed"] = [
            "" if pd.isna(at) else f"{at}" + ("" if pd.isna(of) else f" (trial {of})")
            for at, of in zip(frame["resumed_at"], frame["retry_of"], strict=True)
        ]
    columns["seconds"] = frame["fit_seconds"]
    columns["config"] = [
        row["failure"]
        if isinstance(row["failure"], str) and row["state"] == "fail"
        else config_summary(row, params)
        for _, row in frame.iterrows()
    ]
    out = pd.DataFrame(columns)
    out.attrs.update(frame.attrs)
    return out


def _markdown(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def plain_text(frame: pd.DataFrame, fmt: str) -> str | None:
    """``frame`` as ``csv``, or as ``json`` (one document: its facts beside its ``rows``); None for the
    other formats, which each table draws its own way."""
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records"))
        return json.dumps({**frame.attrs, "rows": records}, indent=2) + "\n"
    return None


def render(
    frame: pd.DataFrame,
    fmt: str = "table",
    *,
    top: int | None = None,
    all_columns: bool = False,
    width: int | None = None,
) -> Any:
    """The leaderboard as ``table`` (a rich Table), ``csv``, ``json`` or ``markdown`` (strings).

    ``top`` keeps the best K ranked rows and every baseline (those below the K rows follow them), so the
    bar a model must clear is always in sight. ``width`` (a terminal's columns) fits the table's config
    column on one line per trial, key knobs first (:func:`fit_config`); without it the config wraps whole.
    """
    if top is not None:
        ranked = frame["rank"].fillna(0)
        cut = frame.index[(frame["rank"].notna()) & (ranked <= top)]
        last = cut.max() if len(cut) else -1
        frame = frame.loc[(frame.index <= last) | (frame["state"] == "baseline")]
    plain = plain_text(frame, fmt)
    if plain is not None:
        return plain
    shown = frame if all_columns else compact(frame)
    if fmt == "markdown":
        return _markdown(shown)
    if fmt == "table":
        from rich.table import Table

        fitted = width is not None and not all_columns
        if fitted:
            shown = _fit_width(shown, width)  # type: ignore[arg-type]
        attrs = frame.attrs
        title = (
            f"{attrs.get('dataset', '')} · {attrs.get('space', '')} · validation {attrs.get('metric', '')}"
        )
        arrow = "higher is better" if attrs.get("direction") == "maximize" else "lower is better"
        cut = fitted and shown["config"].str.endswith("…").any()
        resumed = "; resumed = epoch a retry went on from" if "resumed" in shown.columns else ""
        caption = f"{arrow}; epochs = best/run{resumed}" + ("; full configs: --wide" if cut else "")
        if attrs.get("stopped"):
            caption += f"\nstopped: {attrs['stopped']}"
        for note in ("skipped", "repeats"):
            if attrs.get(note):
                caption += f"\n{note}: {attrs[note]}"
        table = Table(title=title, caption=caption)
        for column in shown.columns:
            if column == "config":
                table.add_column(column, ratio=1)
            elif column != "state":  # shown by the row's style and beside the trial number
                table.add_column(column, no_wrap=True)
        for row in shown.itertuples(index=False):
            state = row.state
            style = "dim" if state in ("fail", "pruned") else "bold cyan" if state == "baseline" else None
            cells = [_cell(v) for v in row]
            cells[1] = cells[1].replace("baseline:", "baseline ") + (
                "" if state in ("complete", "baseline") else f" {state}"
            )
            table.add_row(
                *(c for c, name in zip(cells, shown.columns, strict=True) if name != "state"), style=style
            )
        return table
    from automl.exceptions import UserError

    raise UserError(f"unknown format {fmt!r}; use table, csv, json or markdown")


def _fit_width(shown: pd.DataFrame, width: int) -> pd.DataFrame:
    """The compact frame with each config cut to what a ``width``-column terminal shows on one line."""
    others = [c for c in shown.columns if c not in ("config", "state", "trial")]
    # each column takes its widest cell plus rich's padding and border (3); the table's edges 1 more
    used = sum(max([len(c), *(len(_cell(v)) for v in shown[c])]) + 3 for c in others) + 4
    # the trial cell of a pruned or failed row also names its state (see render)
    trials = [
        len(_cell(t)) + (0 if state in ("complete", "baseline") else len(str(state)) + 1)
        for t, state in zip(shown["trial"], shown["state"], strict=True)
    ]
    used += max([len("trial"), *trials]) + 3
    limit = max(12, width - used)
    out = shown.copy()
    out["config"] = [fit_config(str(c), limit) for c in shown["config"]]
    return out


def run_leaderboards(run_dir: str | Path) -> list[pd.DataFrame]:
    """The leaderboard of every study of a run directory, read from its storage (no TensorFlow)."""
    from automl.store import load_records, load_stop, load_study_info, open_run

    _, manifest, storage = open_run(run_dir)
    frames = []
    for name in manifest.studies:
        frame = study_leaderboard(
            load_records(storage, name), load_study_info(storage, name), stopped=load_stop(storage, name)
        )
        frame.attrs["study"] = name
        frames.append(frame)
    return frames
