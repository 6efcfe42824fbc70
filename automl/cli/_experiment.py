"""`automl run EXPERIMENT.yaml`: many datasets and spaces, one budget, one cross-dataset table."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from automl.cli._console import KERAS_BACKEND_HELP, console, err_console, print_json, stops_handled
from automl.cli._search import CHECKPOINT_DIR_HELP, STALL_TOLERANCE_HELP, STOP_STALLED_HELP


def _summary(experiment: Any, seconds: float) -> dict[str, Any]:
    import json

    return {
        "run_dir": str(experiment.run_dir_),
        "studies": experiment.studies_,
        "trials_per_study": experiment.budgets_,
        "seconds": round(seconds, 2),
        "retrain_seconds": round(sum(r.seconds for r in experiment.retrain_), 2),
        "leaderboards": {
            dataset: {space: json.loads(frame.to_json(orient="records")) for space, frame in boards.items()}
            for dataset, boards in experiment.leaderboards_.items()
        },
        "summary": json.loads(experiment.summary_.to_json(orient="records")),
        "retrain": [r.to_dict() for r in experiment.retrain_],
    }


def _show(experiment: Any, top: int) -> None:
    from rich.table import Table

    from automl.report import render, render_across

    for boards in experiment.leaderboards_.values():
        for frame in boards.values():
            console.print(render(frame, "table", top=top, width=console.width))
    if len(experiment.studies_) > 1:
        console.print(render_across(experiment.summary_, "table"))
    if experiment.retrain_:
        table = Table(
            "dataset",
            "metric",
            "validation",
            "test",
            "best test baseline",
            "search",
            "retrain",
            title="retrained on train+validation (wall times: the search's, the retrain's)",
        )
        for report in experiment.retrain_:
            best = report.configs[0]
            pick = max if report.direction == "maximize" else min
            baselines = {k: v for k, v in report.test_baselines.items() if v is not None}
            name = pick(baselines, key=baselines.__getitem__) if baselines else None
            table.add_row(
                report.dataset,
                report.metric,
                "" if best.validation_score is None else f"{best.validation_score:.4f}",
                f"{report.deployed_test_score:.4f}" + (" (ensemble)" if report.ensemble else ""),
                "" if name is None else f"{baselines[name]:.4f} ({name})",
                "" if report.search_seconds is None else f"{report.search_seconds:.1f} s",
                f"{report.seconds:.1f} s" + (f" ({len(report.skipped)} left out)" if report.skipped else ""),
            )
        console.print(table)


def _with_stall(config: Any, stop_stalled: str | None, stall_tolerance: float | None) -> Any:
    """``config`` with the stall rule of the flags given, over the file's."""
    from dataclasses import replace

    from automl.engine import Budget, parse_stop_stalled

    budget = config.budget
    if stop_stalled is not None:
        trials, seconds = parse_stop_stalled(stop_stalled)
        budget = replace(budget, stall_trials=trials, stall_seconds=seconds)
    if stall_tolerance is not None:
        budget = replace(budget, stall_tolerance=stall_tolerance)
    Budget.of(budget, timeout=budget.timeout)  # a bad value is one line now, before the datasets load
    return replace(config, budget=budget)


def run_command(
    experiment_file: Annotated[
        Path, typer.Argument(help="An experiment YAML file (format: examples/experiments/two_backends.yaml).")
    ],
    resume: Annotated[bool, typer.Option("--resume", help="Continue every study of the run.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Delete an existing run first.")] = False,
    run_dir: Annotated[Path | None, typer.Option(help="Folder of the run (default runs/NAME).")] = None,
    checkpoint_dir: Annotated[
        Path | None,
        typer.Option(help=CHECKPOINT_DIR_HELP + " Overrides the file's checkpoint_dir."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document at the end.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the final tables.")] = False,
    top: Annotated[int, typer.Option(help="Rows of each leaderboard shown at the end.")] = 5,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Do not write report.html (overrides the file's `report:`).")
    ] = False,
    keras_backend: Annotated[str | None, typer.Option(help=KERAS_BACKEND_HELP)] = None,
    stop_stalled: Annotated[
        str | None, typer.Option(help=STOP_STALLED_HELP + " Overrides the file's budget.stop_stalled.")
    ] = None,
    stall_tolerance: Annotated[
        float | None,
        typer.Option(help=STALL_TOLERANCE_HELP + " Overrides the file's budget.stall_tolerance."),
    ] = None,
) -> None:
    """Run an experiment: every dataset × space, then leaderboards, the cross-dataset table and retraining."""
    from automl.experiment import Experiment

    progress = None
    if not json_output and not quiet:
        from automl.cli._progress import RichProgress

        def progress(_study: str) -> RichProgress:
            return RichProgress(err_console)

    experiment = Experiment.from_yaml(
        experiment_file,
        run_dir=run_dir,
        progress=progress,
        checkpoint_dir=checkpoint_dir,
        keras_backend=keras_backend,
    )
    if no_report:
        import dataclasses

        experiment.config = dataclasses.replace(experiment.config, report=False)
    if stop_stalled is not None or stall_tolerance is not None:
        experiment.config = _with_stall(experiment.config, stop_stalled, stall_tolerance)
    started = time.perf_counter()
    with stops_handled():
        experiment.run(resume=resume, overwrite=overwrite)
    seconds = time.perf_counter() - started
    if json_output:
        print_json(_summary(experiment, seconds))
        return
    _show(experiment, top)
    written = "leaderboard.csv, summary.csv" + (", report.html" if experiment.config.report else "")
    retrained = sum(r.seconds for r in experiment.retrain_)
    of_which = f" (retrain {retrained:.1f} s)" if experiment.retrain_ else ""
    console.print(
        f"run directory: {experiment.run_dir_}  ·  {written} written  ·  wall time {seconds:.1f} s{of_which}"
    )
