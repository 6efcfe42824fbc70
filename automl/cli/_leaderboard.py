"""`automl leaderboard`: a run's leaderboards, read from its store (no TensorFlow, no Keras)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from automl._diskspace import writing
from automl.cli._console import console


def stdout_folder() -> Path:
    """The folder of the file standard output is redirected to (Linux), or the current one."""
    try:
        target = Path(os.readlink("/proc/self/fd/1"))
    except OSError:
        return Path.cwd()
    return target.parent if target.is_absolute() else Path.cwd()


def leaderboard_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (runs/NAME).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv, json or markdown.")] = "table",
    top: Annotated[
        int | None, typer.Option(help="Keep the best K trials (and baselines among them).")
    ] = None,
    all_columns: Annotated[
        bool, typer.Option("--all-columns", help="Show every column in the table.")
    ] = False,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide", help="Show each trial's full config (wrapped); by default the table fits the terminal."
        ),
    ] = False,
    dataset: Annotated[str | None, typer.Option(help="Only the studies of this dataset.")] = None,
    diagnose: Annotated[
        bool,
        typer.Option(
            "--diagnose",
            help="Also label the best trials (--top, default 5) under-fit, over-fit, unstable or balanced "
            "from their learning curves, with advice; then range advice: parameters whose best configs crowd "
            "an edge of their range (with a widened bound) and choices never among them.",
        ),
    ] = False,
    pareto: Annotated[
        bool,
        typer.Option(
            "--pareto",
            help="Show the trade-off front instead: per study and per secondary objective it searched "
            "(--objective accuracy,size), the trials no other trial beats on both the score and the "
            "measure, smallest first, with their score, weights, saved size and latency (measured again "
            "after the search where it was). A single-objective study shows its front on weights.",
        ),
    ] = False,
) -> None:
    """Show the leaderboard of a run (reads the store; no TensorFlow).

    A run with several studies (an experiment) shows each study's table, then the cross-dataset table.
    ``--format json`` then prints one document ``{"leaderboards": [...], "across": {...}}``; ``csv`` prints
    the tables one after another, separated by a blank line. ``--pareto`` shows the fronts instead
    (``--format json``: ``{"fronts": [...]}``).
    """
    import json

    from rich.text import Text

    from automl.exceptions import UserError
    from automl.report import across_datasets, render, render_across, run_leaderboards

    if fmt not in ("table", "csv", "json", "markdown"):
        raise UserError(f"--format: unknown format {fmt!r}; use table, csv, json or markdown")
    if pareto:
        _fronts(run_dir, fmt, dataset=dataset, top=top, diagnose=diagnose, all_columns=all_columns, wide=wide)
        return
    frames = _of_dataset(run_leaderboards(run_dir), run_dir, dataset)
    across = across_datasets(frames) if len(frames) > 1 else None
    diagnoses: dict[str, Any] = {}
    advice: dict[str, Any] = {}
    if diagnose:
        from automl.cli._report import study_diagnoses
        from automl.report import render_diagnosis, render_range_advice, run_range_advice

        studies = [f.attrs["study"] for f in frames]
        diagnoses = study_diagnoses(run_dir, studies, top or 5)
        advice = run_range_advice(run_dir, studies)

    def document(frame: Any) -> dict[str, Any]:
        doc = json.loads(render(frame, "json", top=top))
        if diagnose:
            doc["diagnosis"] = diagnoses[frame.attrs["study"]]
            doc["range_advice"] = [a.to_dict() for a in advice[frame.attrs["study"]]]
        return doc

    if fmt == "json" and across is not None:
        sys.stdout.write(
            json.dumps(
                {
                    "leaderboards": [document(f) for f in frames],
                    "across": json.loads(render_across(across, "json")),
                },
                indent=2,
            )
            + "\n"
        )
        return
    outputs: list[Any] = []
    for frame in frames:
        if fmt == "json":
            outputs.append(json.dumps(document(frame), indent=2) + "\n")
            continue
        fitted = None if wide else console.width
        outputs.append(render(frame, fmt, top=top, all_columns=all_columns, width=fitted))
        if diagnose:
            title = f"{frame.attrs['dataset']} · {frame.attrs['space']} · diagnosis of the best trials"
            outputs.append(render_diagnosis(diagnoses[frame.attrs["study"]], fmt, title))
            heading = f"Range advice · {frame.attrs['dataset']} · {frame.attrs['space']}"
            lines = render_range_advice(advice[frame.attrs["study"]], fmt, heading)
            if lines:
                outputs.append(Text(lines.rstrip("\n")) if fmt == "table" else lines)
    if across is not None:
        outputs.append(render_across(across, fmt))
    with writing(stdout_folder(), resume=False):  # redirected to a file on a full disk: one line
        for i, out in enumerate(outputs):
            if fmt == "table":
                console.print(out, soft_wrap=isinstance(out, Text))  # advice lines: one line each
            else:
                sys.stdout.write(("\n" if i and fmt == "csv" else "") + out)
        sys.stdout.flush()


def _fronts(
    run_dir: Path,
    fmt: str,
    *,
    dataset: str | None,
    top: int | None,
    diagnose: bool,
    all_columns: bool,
    wide: bool,
) -> None:
    """``--pareto``: each study's front tables (see :mod:`automl.report._pareto`)."""
    import json

    from automl.exceptions import UserError
    from automl.report import render_front, run_fronts

    if top is not None:
        raise UserError("--pareto shows each front whole: drop --top")
    if diagnose:
        raise UserError("--pareto and --diagnose are two views of a run: ask for one at a time")
    frames = _of_dataset(run_fronts(run_dir), run_dir, dataset)
    with writing(stdout_folder(), resume=False):
        if fmt == "json":
            fronts = [json.loads(render_front(f, "json")) for f in frames]
            sys.stdout.write(json.dumps({"fronts": fronts}, indent=2) + "\n")
        for i, frame in enumerate(frames if fmt != "json" else []):
            if fmt == "table":
                console.print(
                    render_front(frame, fmt, all_columns=all_columns, width=None if wide else console.width)
                )
            else:
                sys.stdout.write(("\n" if i else "") + render_front(frame, fmt, all_columns=all_columns))
        sys.stdout.flush()


def _of_dataset(frames: list[Any], run_dir: Path, dataset: str | None) -> list[Any]:
    """The run's tables (leaderboards or fronts) of ``dataset`` (None: all); one line for none."""
    from automl.exceptions import UserError

    if not frames:
        raise UserError(f"{run_dir}: the run holds no study yet; start one with automl search")
    if dataset is None:
        return frames
    chosen = [f for f in frames if f.attrs["dataset"] == dataset]
    if not chosen:
        names = list(dict.fromkeys(f.attrs["dataset"] for f in frames))
        raise UserError(f"--dataset: the run has no dataset {dataset!r}; it searched: {', '.join(names)}")
    return chosen
