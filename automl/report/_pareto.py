"""The trade-off front as a table: per study, per secondary objective, the trials no other trial beats on
both the validation score and the measure (:func:`automl.store.pareto_front`), smallest first.

``automl leaderboard RUN --pareto`` renders these tables; the report shows them beside a scatter of every
trial. A study shows the front of each secondary objective its search recorded (``--objective
accuracy,size``); a single-objective study shows its front on weights, which every trial records, and says
so. Latencies are those measured again in one quiet process after the search where the study holds a
current record of them (:class:`automl.store.QuietFootprint`), else the trials' own, and the caption says
which. Pure functions of the records, no TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from automl.objectives import SECONDARY, UNITS
from automl.report._leaderboard import (
    _cell,
    _markdown,
    config_summary,
    fit_config,
    plain_text,
    varying_params,
)
from automl.store import (
    QuietFootprint,
    StudyInfo,
    TrialRecord,
    TrialState,
    front_objectives,
    measure_of,
    pareto_front,
)

__all__ = [
    "FRONT_COLUMNS",
    "front_caption",
    "human",
    "latency_source",
    "render_front",
    "report_fronts",
    "run_fronts",
    "study_front",
    "study_fronts",
]

#: the columns every front table starts with (the varying parameters follow).
FRONT_COLUMNS = [
    "objective",
    "front",
    "trial",
    "score",
    "n_params",
    "size_bytes",
    "latency_ms",
    "latency_ms_256",
]
#: each measure's column in the compact table, and the words for its axis
_SHORT = {"n_params": "params", "size_bytes": "size", "latency_ms": "latency"}
WORDS = {"params": "weights", "size": "saved size", "latency": "latency at batch 1"}
#: how a caption says "no other trial is better and ..." and in which order the front goes
_BETTER = {
    "params": ("fewer weights", "smallest first"),
    "size": ("a smaller saved size", "smallest first"),
    "latency": ("a lower latency", "fastest first"),
}


def human(field: str, value: Any) -> str:
    """A measure as a person reads it: ``12,345`` weights, ``48.2 kB``, ``0.412 ms``."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if field == "size_bytes":
        value = float(value)
        return f"{value / 1e3:,.1f} kB" if value < 1e6 else f"{value / 1e6:,.2f} MB"
    if field in ("latency_ms", "latency_ms_256"):
        return f"{float(value):.3g} ms"
    if field == "n_params":
        return f"{int(value):,}"
    return _cell(value)


def latency_source(records: Sequence[TrialRecord], quiet: QuietFootprint | None) -> QuietFootprint | None:
    """``quiet`` where it holds the study's fronts as they stand (:meth:`QuietFootprint.current`), else
    None."""
    return quiet if quiet is not None and quiet.current(records) else None


def front_caption(objective: str, used: QuietFootprint | None, *, recorded: bool = True) -> str:
    """What a front table says under it: what the front is, and where its latencies were measured."""
    better, order = _BETTER[objective]
    text = f"front on {WORDS[objective]}: no other trial has both a better score and {better}; {order}"
    if used is not None:
        text += f"; latency = ms per row at batch 1, measured again in one quiet process ({used.where}"
        text += f", {used.at})" if used.at else ")"
    else:
        text += "; latency = ms per row at batch 1, as each trial measured it beside the search's other work"
    if not recorded:
        text += (
            "\nno secondary objective recorded for this study: the front on weights, which every trial "
            "records (search with --objective accuracy,size to trade the score against size)"
        )
    return text


def study_front(
    records: Sequence[TrialRecord],
    info: StudyInfo,
    objective: str,
    *,
    quiet: QuietFootprint | None = None,
    recorded: bool = True,
) -> pd.DataFrame:
    """The front of ``objective`` of one study as a table, smallest first.

    Columns: ``objective``, ``front`` (1 = the smallest, the last holds the best score), ``trial``,
    ``score`` (validation, in ``info.metric``), ``n_params``, ``size_bytes``, ``latency_ms``,
    ``latency_ms_256`` (measured again where ``quiet`` is current), then every parameter that varies along
    the front. ``DataFrame.attrs`` holds dataset, space, metric, direction, objective, ``recorded`` (the
    search recorded it as an objective), ``quiet`` (the latencies were measured again) and ``caption``.
    """
    used = latency_source(records, quiet)
    shown = used.apply(records) if used is not None else list(records)
    front = pareto_front(shown, info, objective)
    params = varying_params(front) if len(front) > 1 else []
    rows = [
        {
            "objective": objective,
            "front": rank,
            "trial": record.number,
            "score": record.score,
            "n_params": record.n_params,
            "size_bytes": record.size_bytes,
            "latency_ms": record.latency_ms,
            "latency_ms_256": record.latency_ms_256,
            **{p: record.config.get(p) for p in params},
        }
        for rank, record in enumerate(front, start=1)
    ]
    frame = pd.DataFrame(rows, columns=[*FRONT_COLUMNS, *params])
    for column in ("front", "trial", "n_params", "size_bytes"):
        frame[column] = frame[column].astype("Int64")
    measured = sum(
        r.state is TrialState.COMPLETE and r.repeat_of is None and measure_of(r, objective) is not None
        for r in shown
    )
    frame.attrs.update(
        dataset=info.dataset,
        space=info.space,
        metric=info.metric,
        direction=info.direction,
        objective=objective,
        measure=SECONDARY[objective],
        units=UNITS[objective],
        recorded=recorded,
        quiet=used is not None,
        measured=measured,
        caption=front_caption(objective, used, recorded=recorded),
    )
    return frame


def study_fronts(
    records: Sequence[TrialRecord], info: StudyInfo, *, quiet: QuietFootprint | None = None
) -> list[pd.DataFrame]:
    """The front tables of one study: one per secondary objective it recorded, else the one on weights."""
    objectives, recorded = front_objectives(info)
    return [study_front(records, info, o, quiet=quiet, recorded=recorded) for o in objectives]


def run_fronts(run_dir: str | Path) -> list[pd.DataFrame]:
    """The front tables of every study of a run directory (``attrs["study"]`` names each one's study)."""
    import optuna

    from automl.store import load_study_info, open_run, read_quiet

    _, manifest, storage = open_run(run_dir)
    frames = []
    for name in manifest.studies:
        info = load_study_info(storage, name)
        study = optuna.load_study(study_name=name, storage=storage)
        records = [TrialRecord.from_frozen(t) for t in study.get_trials(deepcopy=False)]
        for frame in study_fronts(records, info, quiet=read_quiet(study.user_attrs)):
            frame.attrs["study"] = name
            frames.append(frame)
    return frames


def _title(attrs: dict[str, Any]) -> str:
    return (
        f"{attrs.get('dataset', '')} · {attrs.get('space', '')} · validation {attrs.get('metric', '')} "
        f"vs {WORDS[attrs['objective']]}"
    )


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    params = [c for c in frame.columns if c not in FRONT_COLUMNS]
    out = pd.DataFrame(
        {
            "front": frame["front"],
            "trial": frame["trial"],
            "score": frame["score"],
            **{short: [human(field, v) for v in frame[field]] for field, short in _SHORT.items()},
            "config": [config_summary(row, params) for _, row in frame.iterrows()],
        }
    )
    out.attrs.update(frame.attrs)
    return out


def render_front(
    frame: pd.DataFrame, fmt: str = "table", *, all_columns: bool = False, width: int | None = None
) -> Any:
    """A front table as ``table`` (a rich Table), ``csv``, ``json`` or ``markdown`` (strings).

    ``csv`` and ``json`` hold every column in plain units (bytes, ms); ``json`` is one document with the
    table's facts beside its ``rows``. ``table`` and ``markdown`` show the compact columns (sizes in kB,
    one-line configs) unless ``all_columns``; ``width`` fits the table's configs to a terminal.
    """
    plain = plain_text(frame, fmt)
    if plain is not None:
        return plain
    shown = frame if all_columns else _compact(frame)
    attrs = frame.attrs
    empty = f"no complete trial has its {WORDS[attrs['objective']]} measured" if frame.empty else ""
    if fmt == "markdown":
        caption = attrs["caption"].replace("\n", "  \n")
        body = _markdown(shown) if not frame.empty else f"_{empty}_\n"
        return f"**{_title(attrs)}**\n\n{body}\n{caption}\n"
    if fmt == "table":
        from rich.table import Table

        if width is not None and not all_columns and not frame.empty:
            used = sum(max([len(c), *(len(_cell(v)) for v in shown[c])]) + 3 for c in shown.columns[:-1]) + 4
            shown = shown.assign(config=[fit_config(str(c), max(12, width - used)) for c in shown["config"]])
        arrow = "higher is better" if attrs.get("direction") == "maximize" else "lower is better"
        caption = f"{arrow}; {attrs['caption']}" + (f"\n{empty}" if empty else "")
        table = Table(title=_title(attrs), caption=caption)
        for column in shown.columns:
            if column == "config":
                table.add_column(column, ratio=1)
            else:
                table.add_column(column, no_wrap=True)
        for row in shown.itertuples(index=False):
            table.add_row(*(_cell(v) for v in row))
        return table
    from automl.exceptions import UserError

    raise UserError(f"unknown format {fmt!r}; use table, csv, json or markdown")


#: each measure's axis on the report's plots
_AXES = {
    "params": "weights (log scale)",
    "size": "saved size, bytes (log scale)",
    "latency": "ms per row at batch 1 (log scale)",
}


def report_fronts(
    records: Sequence[TrialRecord], info: StudyInfo, *, quiet: QuietFootprint | None = None
) -> list[dict[str, Any]]:
    """The report's trade-off section of one study: per measure, a plot of every complete trial and the
    front's table, as plain values (``objective``, ``title``, ``caption``, ``columns``, ``rows``,
    ``figure``).

    The measures are those the search recorded as objectives, and saved size and latency wherever the
    trials measured them (every complete trial since the footprint was recorded); none for a study whose
    trials hold neither.
    """
    from automl.report._figures import pareto_scatter

    used = latency_source(records, quiet)
    complete = [
        r for r in records if r.state is TrialState.COMPLETE and r.repeat_of is None and r.score is not None
    ]
    out = []
    for objective in SECONDARY:
        plotted = [(r, measure_of(r, objective)) for r in complete]
        if used is not None and objective == "latency":
            plotted = [
                (r, used.trials[r.number].get("latency_ms") if r.number in used.trials else value)
                for r, value in plotted
            ]
        points = [(r.number, float(r.score), v) for r, v in plotted if v is not None and r.score is not None]
        if not points or (objective == "params" and objective not in info.objectives):
            continue
        frame = study_front(records, info, objective, quiet=quiet, recorded=objective in info.objectives)
        field = SECONDARY[objective]
        front = [
            (int(t), float(s), float(v))
            for t, s, v in zip(frame["trial"], frame["score"], frame[field], strict=True)
        ]
        compact = _compact(frame)
        caption = frame.attrs["caption"].split("\n")[0]
        if used is not None and objective == "latency":
            caption += "; trials on no front: latency as measured in their own process"
        title = f"validation {info.metric} vs {WORDS[objective]}"
        out.append(
            {
                "objective": objective,
                "recorded": objective in info.objectives,
                "title": title,
                "caption": caption,
                "columns": list(compact.columns),
                "rows": [{c: _cell(row[c]) for c in compact.columns} for _, row in compact.iterrows()],
                "figure": pareto_scatter(
                    points, front, metric=info.metric, measure=_AXES[objective], title=title
                ),
            }
        )
    return out
