"""The report's plots as plain plotly figure dicts: Optuna's own where it draws one, ours where it does not.

Optuna draws the optimisation history, parameter importances, parallel coordinates, slices and
intermediate values from a study. Its importances and parallel coordinates only consider parameters
present in every trial, so per-layer widths and conditional knobs (momentum, schedule settings) would
vanish; they are drawn from a copy of the study in memory whose trials carry derived values instead
(``total_units``: the network's total width; ``depth`` is already one). What Optuna lacks is drawn here:
best-so-far over wall-clock time, train/validation learning curves, and the trade-off front: the score
against a model's saved size or latency, every complete trial with the front joined.

Each figure is returned as the dict plotly serialises (``data`` and ``layout``), so the report's data
stay plain values. No TensorFlow here.
"""

from __future__ import annotations

import json
import logging
import math
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

__all__ = [
    "KEY_PARAMS",
    "derived_study",
    "figure_dict",
    "learning_curves",
    "optuna_figures",
    "pareto_scatter",
    "progress_over_time",
    "score_view",
]

log = logging.getLogger("automl.report")

#: the knobs a practitioner tunes first, in the order the slice plots show them (those present).
KEY_PARAMS = (
    "learning_rate",
    "total_units",
    "total_filters",
    "depth",
    "dropout",
    "l2",
    "batch_size",
    "lr_schedule",
)
_LAYERED = re.compile(r"^(units|filters)_(\d+)$")
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
    "height": 380,
    # left-aligned titles stay clear of the toolbar plotly draws at the top right
    "title": {"x": 0.01, "xanchor": "left", "font": {"size": 14}},
}


def figure_dict(figure: Any) -> dict[str, Any]:
    """A plotly figure as plain JSON values (NaN as null, numpy arrays as lists)."""
    import plotly.io

    # a height a plot set for itself (the learning curves' shorter panels) wins over the default
    own_height = figure.layout.height is not None
    figure.update_layout(**{k: v for k, v in _LAYOUT.items() if not (k == "height" and own_height)})
    out: dict[str, Any] = json.loads(plotly.io.to_json(figure, validate=False, pretty=False))
    layout = out.get("layout", {})
    layout.pop("template", None)
    # Optuna sizes some plots (one panel per parameter) in pixels; the page gives them its width instead.
    layout.pop("width", None)
    for axis in ("yaxis", "xaxis"):
        if isinstance(layout.get(axis), dict):
            layout[axis]["automargin"] = True
    return out


@contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs each in-memory study it creates and warns of experimental plots: not the reader's news."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        optuna.logging.set_verbosity(level)


def score_view(
    study: optuna.Study, trials: Sequence[optuna.trial.FrozenTrial]
) -> tuple[optuna.Study, list[optuna.trial.FrozenTrial]]:
    """``study`` and ``trials`` as they are, or, for a multi-objective study, an in-memory copy of its
    finished trials valued by their first objective, the validation score (Optuna's single-objective plots
    refuse several values)."""
    import optuna
    from optuna.trial import TrialState

    if len(study.directions) == 1:
        return study, list(trials)
    finished = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    copies = []
    for trial in trials:
        if trial.state not in finished:
            continue
        copy = optuna.trial.create_trial(
            state=trial.state,
            value=trial.values[0] if trial.state is TrialState.COMPLETE and trial.values else None,
            params=trial.params,
            distributions=trial.distributions,
            user_attrs=trial.user_attrs,
            intermediate_values=trial.intermediate_values,
        )
        copy.datetime_start, copy.datetime_complete = trial.datetime_start, trial.datetime_complete
        copies.append(copy)
    with _quiet_optuna():
        view = optuna.create_study(direction=study.directions[0])
        view.add_trials(copies)
    return view, view.get_trials(deepcopy=False)


def derived_study(study: optuna.Study, trials: Sequence[optuna.trial.FrozenTrial]) -> optuna.Study | None:
    """An in-memory copy of the complete trials holding only parameters every one of them has.

    Per-layer ``units_i`` / ``filters_i`` become their sum (``total_units`` / ``total_filters``);
    conditional parameters absent from some trials are left out. None when fewer than two complete trials.
    """
    import optuna
    from optuna.distributions import IntDistribution
    from optuna.trial import TrialState

    complete = [t for t in trials if t.state is TrialState.COMPLETE and t.values]
    if len(complete) < 2:
        return None
    common = set.intersection(*(set(t.params) for t in complete))
    rows: list[tuple[dict[str, Any], dict[str, Any], float]] = []
    for trial in complete:
        params = {k: v for k, v in trial.params.items() if k in common and not _LAYERED.match(k)}
        dists = {k: trial.distributions[k] for k in params}
        for key, value in trial.params.items():
            match = _LAYERED.match(key)
            if match:
                name = f"total_{match.group(1)}"
                params[name] = int(params.get(name, 0) + int(value))
        rows.append((params, dists, float(trial.values[0])))  # the score, first in a multi-objective study
    totals = {k for params, _, _ in rows for k in params if k.startswith("total_")}
    for name in totals:
        values = [params.get(name, 0) for params, _, _ in rows]
        low, high = min(values), max(values)
        for params, dists, _ in rows:
            params.setdefault(name, 0)
            dists[name] = IntDistribution(low, max(high, low + 1))
    with _quiet_optuna():
        copy = optuna.create_study(directions=study.directions)
        copy.add_trials(
            [
                optuna.trial.create_trial(params=params, distributions=dists, value=value)
                for params, dists, value in rows
            ]
        )
    return copy


def _varying(study: optuna.Study) -> list[str]:
    trials = study.get_trials(deepcopy=False)
    names = list(dict.fromkeys(k for t in trials for k in t.params))
    return [n for n in names if len({json.dumps(t.params.get(n), default=str) for t in trials}) > 1]


def optuna_figures(
    study: optuna.Study,
    trials: Sequence[optuna.trial.FrozenTrial],
    *,
    metric: str,
    baselines: dict[str, float],
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Optuna's plots of one study: ``history``, ``importances``, ``parallel``, ``slice``, ``intermediate``.

    Returns the figures drawn and, for each one not drawn, the reason (too few trials, nothing varies…).
    A multi-objective study (the score, then weights, size or latency) is drawn by its score
    (:func:`score_view`): the trade-off has plots of its own.
    """
    import optuna.visualization as vis
    from optuna.trial import TrialState

    study, trials = score_view(study, trials)
    figures: dict[str, dict[str, Any]] = {}
    missing: dict[str, str] = {}
    complete = [t for t in trials if t.state is TrialState.COMPLETE and t.values]
    target_name = f"validation {metric}"

    def draw(name: str, make: Callable[[], Any]) -> None:
        try:
            with _quiet_optuna():
                figures[name] = figure_dict(make())
        except Exception as exc:  # a plot Optuna cannot draw must not cost the rest of the report
            log.info("report: no %s plot: %s", name, exc)
            missing[name] = f"not drawn: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"

    if not complete:
        reason = "no complete trial yet"
        return {}, dict.fromkeys(("history", "importances", "parallel", "slice", "intermediate"), reason)

    def history() -> Any:
        fig = vis.plot_optimization_history(study, target_name=target_name)
        for name, value in sorted(baselines.items()):
            if value is not None and math.isfinite(value):
                fig.add_hline(y=value, line_dash="dot", line_color="#888", annotation_text=f"baseline {name}")
        # Optuna names the best-so-far line "Best Value"; the axes already say what is scored
        fig.update_traces(selector={"name": "Best Value"}, name="best so far")
        fig.update_layout(title="best so far, over trials")
        return fig

    draw("history", history)
    derived = derived_study(study, trials)
    params = [] if derived is None else _varying(derived)
    if derived is None or not params:
        reason = "needs two complete trials with a varying parameter"
        missing.update(importances=reason, parallel=reason, slice=reason)
    else:
        if len(complete) >= 3:
            title = "parameter importances (fANOVA; per-layer widths summed)"
            draw(
                "importances",
                lambda: vis.plot_param_importances(
                    derived, params=params, target_name=target_name
                ).update_layout(title=title),
            )
        else:
            missing["importances"] = "needs three complete trials"
        draw(
            "parallel",
            lambda: vis.plot_parallel_coordinate(
                derived, params=params, target_name=target_name
            ).update_layout(title="parallel coordinates"),
        )
        keys = [p for p in KEY_PARAMS if p in params]
        if keys:
            draw(
                "slice",
                lambda: vis.plot_slice(derived, params=keys, target_name=target_name).update_layout(
                    title="score against each key parameter", height=360
                ),
            )
        else:
            missing["slice"] = "none of the key parameters varies"
    if any(t.intermediate_values for t in trials):
        draw(
            "intermediate",
            # Optuna titles the axes "Step" and "Intermediate Value" (it takes no target name here)
            lambda: vis.plot_intermediate_values(study).update_layout(
                title=f"validation {metric} per epoch (every trial; pruned ones stop early)",
                showlegend=False,
                xaxis_title="epoch",
                yaxis_title=target_name,
            ),
        )
    else:
        missing["intermediate"] = "no trial reported per-epoch scores"
    return figures, missing


def progress_over_time(
    points: Sequence[tuple[datetime, float]], *, metric: str, maximize: bool, baselines: dict[str, float]
) -> dict[str, Any] | None:
    """Best-so-far validation score against minutes since the first trial started (what Optuna lacks)."""
    import plotly.graph_objects as go

    if not points:
        return None
    ordered = sorted(points)
    start = ordered[0][0]
    minutes = [(when - start).total_seconds() / 60 for when, _ in ordered]
    best: list[float] = []
    for _, score in ordered:
        best.append(score if not best else (max if maximize else min)(best[-1], score))
    fig = go.Figure()
    fig.add_scatter(x=minutes, y=[s for _, s in ordered], mode="markers", name="trial", opacity=0.6)
    fig.add_scatter(x=minutes, y=best, mode="lines", line_shape="hv", name="best so far")
    for name, value in sorted(baselines.items()):
        if value is not None and math.isfinite(value):
            fig.add_hline(y=value, line_dash="dot", line_color="#888", annotation_text=f"baseline {name}")
    fig.update_layout(
        title="best so far, over time",
        xaxis_title="minutes since the first trial started",
        yaxis_title=f"validation {metric}",
    )
    return figure_dict(fig)


def learning_curves(
    history: Mapping[str, Sequence[Any]], *, metric: str, title: str
) -> dict[str, Any] | None:
    """Training against validation loss (left) and metric (right), per epoch."""
    from plotly.subplots import make_subplots

    if not history.get("loss"):
        return None
    train_metric = next(
        (k for k in history if not k.startswith("val_") and k not in ("loss", "lr")),
        None,
    )
    val_metric = f"val_{metric}" if f"val_{metric}" in history else None
    if val_metric is None and train_metric is not None and f"val_{train_metric}" in history:
        val_metric = f"val_{train_metric}"
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", metric if val_metric else train_metric or ""))

    def clean(values: Sequence[Any]) -> list[float | None]:
        return [None if v is None or not math.isfinite(float(v)) else float(v) for v in values]

    colours = {"train": "#1f77b4", "validation": "#ff7f0e"}
    for col, (train_key, val_key) in enumerate((("loss", "val_loss"), (train_metric, val_metric)), start=1):
        for label, key in (("train", train_key), ("validation", val_key)):
            if key is None or key not in history:
                continue
            values = clean(history[key])
            fig.add_scatter(
                x=list(range(1, len(values) + 1)),
                y=values,
                mode="lines+markers",
                name=f"{label} {key}",
                line_color=colours[label],
                legendgroup=label,
                showlegend=col == 1,
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(title=title, height=320)
    return figure_dict(fig)


#: a point of the trade-off plot: (trial, validation score, measure)
Point = tuple[int, float, float]


def pareto_scatter(
    points: Sequence[Point], front: Sequence[Point], *, metric: str, measure: str, title: str
) -> dict[str, Any] | None:
    """Validation score against ``measure`` (an axis title, drawn on a log scale) for every complete trial,
    the front's trials highlighted and joined as a staircase: from each point, what a larger budget buys.
    None without a point."""
    import plotly.graph_objects as go

    if not points:
        return None
    fig = go.Figure()
    fig.add_scatter(
        x=[m for _, _, m in points],
        y=[s for _, s, _ in points],
        customdata=[n for n, _, _ in points],
        mode="markers",
        name="trial",
        marker={"color": "#9ca3af", "size": 7},
        hovertemplate="trial %{customdata}<br>%{y:.4g} at %{x:.4g}<extra></extra>",
    )
    fig.add_scatter(
        x=[m for _, _, m in front],
        y=[s for _, s, _ in front],
        customdata=[n for n, _, _ in front],
        mode="lines+markers",
        line_shape="hv",
        name="front",
        marker={"color": "#d62728", "size": 9},
        line={"color": "#d62728"},
        hovertemplate="front: trial %{customdata}<br>%{y:.4g} at %{x:.4g}<extra></extra>",
    )
    fig.update_layout(title=title, xaxis_title=measure, yaxis_title=f"validation {metric}")
    fig.update_xaxes(type="log")
    return figure_dict(fig)
