"""The report's content, assembled once from a run's manifest, storage and retrained-model files.

:func:`report_data` returns plain values only (dicts, lists, strings, numbers, and plotly figures as
dicts), so the HTML renderer (or a test, or another renderer) reads them without touching the run again.
It never loads the dataset and imports no TensorFlow. A storage password never reaches it: the manifest
holds the masked URL, and every stored message passes through :func:`automl.store.mask_password`.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.report._diagnose import diagnose, diagnose_best
from automl.report._leaderboard import _cell, compact, over_limit_share, study_leaderboard
from automl.report._pareto import report_fronts
from automl.report._ranges import range_advice
from automl.report._retrain_lines import pick_line, rescore_line, selection_line
from automl.store import (
    RunDir,
    RunManifest,
    StudyInfo,
    TrialRecord,
    TrialState,
    best_first,
    mask_password,
    open_run,
    read_quiet,
    read_stop,
    search_seconds,
    study_space,
)

if TYPE_CHECKING:
    import optuna
    import pandas as pd

__all__ = ["report_data"]

#: complete trials whose learning curves and diagnosis the report shows, per study.
TOP_CURVES = 3
#: ranked rows of each leaderboard in the report (baselines are always shown).
TOP_ROWS = 15


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat(sep=" ", timespec="seconds")


def _number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _strongest_baseline(info: StudyInfo) -> tuple[str | None, float | None]:
    values = {k: v for k, v in info.baselines.items() if v is not None and math.isfinite(v)}
    if not values:
        return None, None
    pick = max if info.direction == "maximize" else min
    name = pick(values, key=values.__getitem__)
    return name, values[name]


def _leaderboard_rows(records: list[TrialRecord], info: StudyInfo) -> tuple[list[str], list[dict[str, str]]]:
    frame = study_leaderboard(records, info, failed=False)
    frame = frame[(frame["state"] == "baseline") | (frame["rank"].fillna(TOP_ROWS + 1) <= TOP_ROWS)]
    frame = frame[frame["state"] != "pruned"]
    shown = compact(frame)
    columns = [c for c in shown.columns if c != "state"]
    rows = []
    for _, row in shown.iterrows():
        cells = {c: _cell(row[c]) for c in columns}
        cells["state"] = str(row["state"])
        rows.append(cells)
    return columns, rows


def _problems(records: list[TrialRecord]) -> list[dict[str, Any]]:
    """Pruned and failed trials, with what stopped them (and, for a failed trial tried again, its retry)."""
    retries = {r.retry_of: r for r in records if r.retry_of is not None}
    out = []
    for record in records:
        if record.state is TrialState.FAIL:
            reason = record.failure or "failed (no reason recorded)"
            retry = retries.get(record.number)
            if retry is not None:
                went_on = "" if retry.resumed_at is None else f", resumed from its epoch {retry.resumed_at}"
                reason = f"{reason}; retried as trial {retry.number}{went_on}"
        elif record.state is TrialState.PRUNED:
            score = "" if record.score is None else f" at validation score {_cell(record.score)}"
            reason = f"pruned after epoch {record.epochs_run}{score}"
        else:
            continue
        out.append(
            {
                "trial": record.number,
                "state": record.state.value,
                "epochs": record.epochs_run,
                "reason": mask_password(str(reason)),
            }
        )
    return out


def _curves(records: list[TrialRecord], info: StudyInfo, baseline: float | None) -> list[dict[str, Any]]:
    from automl.report._figures import learning_curves

    out = []
    for rank, record, diagnosis in diagnose_best(records, info, top=TOP_CURVES, baseline=baseline):
        out.append(
            {
                "rank": rank,
                "trial": record.number,
                "score": _number(record.score),
                "stopped_by": record.stopped_by,
                "diagnosis": diagnosis.to_dict(),
                "figure": learning_curves(
                    record.history, metric=info.metric, title=f"rank {rank}: trial {record.number}"
                ),
            }
        )
    return out


def _study(
    storage: optuna.storages.BaseStorage, name: str, manifest: RunManifest
) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """One study's section, and its full leaderboard for the cross-dataset table."""
    import optuna

    from automl.report._figures import optuna_figures, progress_over_time

    study = optuna.load_study(study_name=name, storage=storage)
    trials = study.get_trials(deepcopy=False)
    info = StudyInfo.from_attrs(study.user_attrs)
    if info is None:
        return {"name": name, "error": "not an automl study (no automl attributes)"}, None
    records = [TrialRecord.from_frozen(t) for t in trials]
    counts = Counter(r.state.value for r in records)
    baseline_name, baseline_value = _strongest_baseline(info)
    ranked = best_first(records, info.direction)
    figures, missing = optuna_figures(study, trials, metric=info.metric, baselines=info.baselines)
    over_time = progress_over_time(
        [(r.finished, r.score) for r in ranked if r.finished is not None and r.score is not None],
        metric=info.metric,
        maximize=info.direction == "maximize",
        baselines=info.baselines,
    )
    if over_time is not None:
        figures["over_time"] = over_time
    columns, rows = _leaderboard_rows(records, info)
    best = ranked[0] if ranked else None
    stopped = read_stop(study.user_attrs)
    frame = study_leaderboard(records, info, stopped=stopped)
    frame.attrs["study"] = name
    space = study_space(manifest, info)
    advice = [] if space is None else range_advice(records, space, info.direction)
    fronts = report_fronts(records, info, quiet=read_quiet(study.user_attrs))
    for front in fronts:
        if front["figure"] is not None:
            figures[f"pareto_{front['objective']}"] = front["figure"]
    section = {
        "name": name,
        "dataset": info.dataset,
        "space": info.space,
        "task": info.task,
        "metric": info.metric,
        "direction": info.direction,
        "backend": info.backend,
        "algorithm": info.algorithm,
        "pruner": info.pruner,
        "baselines": {k: _number(v) for k, v in sorted(info.baselines.items())},
        "strongest_baseline": {"name": baseline_name, "score": baseline_value},
        "counts": dict(sorted(counts.items())),
        "trials": len(records),
        "running": counts.get("running", 0),
        "wall_seconds": search_seconds(records),
        # why the search stopped before its budget (stalled, failures), in words; None when it did not
        "stopped": None if stopped is None else stopped.describe(),
        # proposals over a limit (max_params, max_latency_ms), never trained, in words; None when none
        "skipped": over_limit_share(records),
        "best": None
        if best is None
        else {
            "trial": best.number,
            "score": _number(best.score),
            "beats_baseline": baseline_value is None
            or (best.score is not None and _beats(best.score, baseline_value, info.direction)),
            "config": {k: _number(v) for k, v in best.config.items()},
        },
        "leaderboard": {"columns": columns, "rows": rows},
        "figures": figures,
        "missing": missing,
        "curves": _curves(records, info, baseline_value),
        "problems": _problems(records),
        "range_advice": [a.to_dict() for a in advice],
        # the trade-off fronts (score against size, latency, and weights where searched), their plots in
        # ``figures`` as ``pareto_<objective>``
        "objectives": list(info.objectives),
        "pareto": [{k: v for k, v in f.items() if k != "figure"} for f in fronts],
    }
    return section, frame


def _beats(score: float, baseline: float, direction: str) -> bool:
    return score > baseline if direction == "maximize" else score < baseline


def _retrained(run: RunDir, dataset: str) -> dict[str, Any] | None:
    """The retrained model of ``dataset`` from its ``metrics.json`` and ``history.json``, if any."""
    from automl.report._figures import learning_curves

    folder = run.models_dir / dataset
    try:
        metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        history = json.loads((folder / "history.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        history = {}
    metric = str(metrics.get("metric", ""))
    if "val_loss" in history:
        diagnosis = diagnose(history, metric=metric, direction=str(metrics.get("direction", "maximize")))
        verdict = diagnosis.to_dict()
    else:
        verdict = {
            "label": "unknown",
            "advice": "trained on train + validation for the search's best epoch count: no validation curve "
            "to judge (the search trial's curves are above)",
            "epoch": None,
            "evidence": {},
        }
    configs = metrics.get("configs") or []
    return {
        "metric": metric,
        "direction": metrics.get("direction"),
        "saved": metrics.get("saved"),
        "validation_score": _number(metrics.get("validation_score")),
        "test_score": _number(metrics.get("test_score")),
        "test_score_std": _number(metrics.get("test_score_std")),
        "ensemble": metrics.get("ensemble"),
        "ensemble_test": _number(((metrics.get("ensemble") or {}).get("test") or {}).get(metric)),
        "test_baselines": {k: _number(v) for k, v in (metrics.get("test_baselines") or {}).items()},
        # wall times (a model retrained before they were recorded has none)
        "search_seconds": _number(metrics.get("search_seconds")),
        "retrain_seconds": _number(metrics.get("retrain_seconds")),
        "time_limit": _number(metrics.get("time_limit")),
        "skipped": [
            "final fit" if s.get("trial") is None else f"trial {s.get('trial')} seed {s.get('seed')}"
            for s in metrics.get("skipped") or []
        ],
        "configs": [
            {
                "rank": c.get("rank"),
                "trial": c.get("trial"),
                "validation_score": _number(c.get("validation_score")),
                "test_mean": _number(c.get("test_mean")),
                "test_std": _number(c.get("test_std")),
                "epochs_policy": c.get("epochs_policy"),
                "seeds": len(c.get("runs") or []),
            }
            for c in configs
        ],
        "diagnosis": verdict,
        # how the deployed config was picked (a pick other than best: the picked and the best config's
        # score and footprint), in words; None for the best, and for a model retrained before picks
        "pick": pick_line(metrics.get("pick")),
        "rescored": rescore_line(metrics.get("rescored")),
        "selection": selection_line(metrics.get("selection")),
        "figure": learning_curves(history, metric=metric, title="retrained model (train + validation)")
        if history
        else None,
    }


def _across(frames: list[pd.DataFrame]) -> list[dict[str, str]]:
    from automl.report._across import across_datasets

    if len(frames) < 2:
        return []
    table = across_datasets(frames)
    shown = ["dataset", "search", "metric", "score", "baseline", "baseline_score", "normalised", "rank"]
    shown += ["mean_rank", "config"]
    return [{c: _cell(row[c]) for c in shown} for _, row in table.iterrows()]


def _device_text(value: Any) -> Any:
    """A devices entry for people: a list of slot records as one short line per slot."""
    if isinstance(value, list):
        return "; ".join(
            ", ".join(f"{k}={v}" for k, v in item.items() if v is not None)
            if isinstance(item, dict)
            else str(item)
            for item in value
        )
    return value


def _summary(manifest: RunManifest, studies: list[dict[str, Any]]) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    for study in studies:
        counts.update(study.get("counts", {}))
    walls = [s["wall_seconds"] for s in studies if s.get("wall_seconds") is not None]
    budget, retrain = manifest.budget, manifest.retrain
    return {
        "kind": manifest.kind,
        "name": manifest.name,
        "source": manifest.source,
        "datasets": [
            {
                "name": d.name,
                "source": d.source,
                "target": d.target,
                "task": d.task,
                "split": d.split,
                "persistence": d.persistence,
            }
            for d in manifest.datasets
        ],
        "spaces": [{"name": s.name, "hash": s.hash, "source": s.source} for s in manifest.spaces],
        "backend": {
            "name": manifest.backend.name,
            "algorithm": manifest.backend.algorithm,
            "pruner": manifest.backend.pruner,
            "options": {k: _number(v) for k, v in manifest.backend.options.items()},
        },
        "metric": manifest.metric,
        "budget": {
            "trials": budget.trials,
            "timeout": budget.timeout,
            "per": budget.per,
            "trial_timeout": budget.trial_timeout,
            "max_consecutive_failures": budget.max_consecutive_failures,
            "stall_trials": budget.stall_trials,
            "stall_seconds": budget.stall_seconds,
            "stall_tolerance": budget.stall_tolerance,
        },
        "devices": {k: _device_text(v) for k, v in manifest.devices.items()},
        "storage": mask_password(manifest.storage),
        "seed": manifest.seed,
        "retrain": None
        if retrain is None
        else {
            "top_k": retrain.top_k,
            "seeds": retrain.seeds,
            "epochs": retrain.epochs,
            "pick": retrain.pick,
            "rescore": retrain.rescore,
            "ensemble_from": retrain.ensemble_from,
        },
        "versions": dict(manifest.environment.versions),
        "python": manifest.environment.python,
        "hardware": {k: v for k, v in manifest.environment.hardware.items() if v is not None},
        "trials": dict(sorted(counts.items())),
        # an experiment's searches run one after another
        "wall_seconds": sum(walls) if walls else None,
        # each search that stopped before its budget, and why
        "stopped": [
            {"study": f"{s['dataset']} · {s['space']}", "why": s["stopped"]}
            for s in studies
            if s.get("stopped")
        ],
    }


def report_data(run_dir: str | Path) -> dict[str, Any]:
    """Everything the report shows, as plain values: ``run``, ``studies``, ``across``, ``retrained``.

    ``partial`` is true while a trial is still running (a search in progress, or one that died without
    a resume to close its trials). Reads the run's storage and files only.

    Raises:
        UserError: ``run_dir`` is not a run directory, or its manifest or storage cannot be read.
    """
    from automl import __version__

    started = time.perf_counter()
    run, manifest, storage = open_run(run_dir)
    studies, frames = [], []
    for name in manifest.studies:
        section, frame = _study(storage, name, manifest)
        studies.append(section)
        if frame is not None:
            frames.append(frame)
    retrained = {}
    for entry in manifest.datasets:
        model = _retrained(run, entry.name)
        if model is not None:
            retrained[entry.name] = model
    for study in studies:
        study["retrained"] = retrained.get(study.get("dataset", ""))
    running = sum(s.get("running", 0) for s in studies)
    summary = _summary(manifest, studies)
    retrain_walls = [r["retrain_seconds"] for r in retrained.values() if r["retrain_seconds"] is not None]
    summary["retrain_seconds"] = sum(retrain_walls) if retrain_walls else None
    return {
        "run": summary,
        "studies": studies,
        "across": _across(frames),
        "partial": running > 0,
        "running": running,
        "generated": datetime.now().isoformat(sep=" ", timespec="seconds"),
        "automl_version": __version__,
        "run_dir": str(run.path),
        "assembly_seconds": round(time.perf_counter() - started, 3),
    }
