"""`automl report`: the run's HTML report, and the report step that ends a search, a run or a retrain."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from automl.cli._console import console, err_console

__all__ = ["NO_REPORT_HELP", "report_command", "write_run_report"]

NO_REPORT_HELP = "Do not write report.html into the run directory at the end."


def write_run_report(run_dir: Any, *, quiet: bool = False) -> Path | None:
    """Refresh ``run_dir/report.html`` after a command; a report that fails warns, never fails the command.

    The search, run or retrain it follows has already saved its results, so a report problem (a plot
    Optuna cannot draw, a full disk) is worth a line, not an exit code.
    """
    from automl.report import write_report

    try:
        path = write_report(run_dir)
    except Exception as exc:
        err_console.print(
            f"[yellow]warning:[/yellow] no report written: {type(exc).__name__}: {exc}; "
            f"retry with `automl report {run_dir}`",
            soft_wrap=True,
        )
        return None
    if not quiet:
        console.print(f"report: {path}")
    return path


def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (runs/NAME).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the HTML here (default RUN_DIR/report.html)."),
    ] = None,
    tensorboard: Annotated[
        Path | None,
        typer.Option(
            "--tensorboard",
            help="Also write each trial's curves and hyperparameters as TensorBoard logs here (HParams "
            "dashboard; from the stored histories, nothing is retrained).",
        ),
    ] = None,
) -> None:
    """Write the run's HTML report: one offline file with leaderboards, plots and learning-curve diagnosis.

    Reads only the run's storage and files (no TensorFlow); works on a search still running (a partial
    report) and on experiments.
    """
    from automl.report import write_report

    started = time.perf_counter()
    path = write_report(run_dir, output)
    size = path.stat().st_size / 1e6
    console.print(f"report: {path} ({size:.1f} MB, {time.perf_counter() - started:.1f} s)")
    if tensorboard is not None:
        from automl.report import export_tensorboard

        folders = export_tensorboard(run_dir, tensorboard)
        console.print(
            f"TensorBoard logs of {len(folders)} stud{'y' if len(folders) == 1 else 'ies'}: "
            f"tensorboard --logdir {tensorboard}"
        )


def study_diagnoses(run_dir: Path, studies: list[str], top: int) -> dict[str, list[dict[str, Any]]]:
    """The diagnosis rows of each study's best ``top`` trials (:func:`automl.report.diagnose_trials`)."""
    from automl.report import diagnose_trials
    from automl.store import load_records, load_study_info, open_run

    storage = open_run(run_dir).storage
    return {
        name: diagnose_trials(load_records(storage, name), load_study_info(storage, name), top=top)
        for name in studies
    }
