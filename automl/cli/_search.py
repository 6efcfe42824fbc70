"""`automl search` and `automl quickstart`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from automl.backends import registry
from automl.cli._console import KERAS_BACKEND_HELP, console, err_console, print_json, stops_handled
from automl.cli._report import NO_REPORT_HELP
from automl.space import DEFAULT_SPACE
from automl.workers import RECYCLE_AFTER


def _per_backend(describe: Any) -> str:
    return "; ".join(f"{spec.name}: {describe(spec, markdown=False)}" for spec in registry.BACKENDS.values())


STOP_STALLED_HELP = (
    "Stop once the best score stops improving: N (that many finished trials in a row without an "
    "improvement) or a duration such as 10m (none for that long), over every worker. A resumed run keeps it."
)
STALL_TOLERANCE_HELP = (
    "The least improvement that counts for --stop-stalled, as a fraction of the best score (default 0.001)."
)

CHECKPOINT_DIR_HELP = (
    "Folder of running trials' checkpoints, one every worker reaches (default: AUTOML_CHECKPOINT_DIR, else "
    "RUN_DIR/checkpoints). A resumed run keeps the folder it recorded."
)

# From the registry, so the help follows every algorithm or option added there.
_BACKEND_HELP = f"{' or '.join(registry.BACKENDS)}; `automl backends` shows what each offers."
_ALGORITHM_HELP = _per_backend(registry.describe_algorithms) + "."
_PRUNER_HELP = _per_backend(registry.describe_pruners) + "."
_OPTION_HELP = (
    "KEY=VALUE setting of the algorithm or pruner, repeatable. "
    + "; ".join(
        f"{spec.name} ({registry.describe_options(spec, markdown=False)})"
        for spec in registry.BACKENDS.values()
    )
    + "."
)


def parse_duration(text: str | None, option: str) -> float | None:
    """Seconds from the value of flag ``option`` (``90``, ``90s``, ``20m`` or ``1.5h``), None if not given.

    Zero passes (``--wait 0``); the library refuses it where a duration must be positive.
    """
    from automl._durations import parse_duration as seconds

    return None if text is None else seconds(text, name=option, positive=False)


def parse_options(items: list[str] | None) -> dict[str, Any]:
    """``["factor=2", "alpha=1e-3"]`` → ``{"factor": 2, "alpha": 0.001}`` (numbers where they read as one)."""
    from automl.exceptions import UserError

    options: dict[str, Any] = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip() or not text.strip():
            raise UserError(f"--option: cannot read {item!r}; write KEY=VALUE, e.g. --option factor=2")
        value: Any = text.strip()
        for kind in (int, float):
            try:
                value = kind(value)
                break
            except ValueError:
                continue
        options[key.strip()] = value
    return options


def device_request(
    *, gpus: str | None, gpu_ids: str | None, trials_per_gpu: int, workers: str | None, precision: str
) -> dict[str, Any]:
    """The ``devices=`` mapping of the device flags, as typed: the library checks the values and names
    them as arguments, which the CLI turns back into these flags."""
    request: dict[str, Any] = {"trials_per_gpu": trials_per_gpu, "precision": precision}
    optional = {"gpus": gpus, "gpu_ids": gpu_ids, "workers": workers}
    request.update({key: value for key, value in optional.items() if value is not None})
    return request


def _summary(search: Any, seconds: float) -> dict[str, Any]:
    import json

    counts: dict[str, int] = {}
    for record in search.trials_:
        counts[record.state.value] = counts.get(record.state.value, 0) + 1
    rows = json.loads(search.leaderboard_.to_json(orient="records"))
    best = search.best_trial_
    return {
        "run_dir": str(search.run_dir_),
        "study": search.study_name_,
        "metric": search.study_info_.metric,
        "direction": search.study_info_.direction,
        "objectives": [search.study_info_.metric, *search.study_info_.objectives],
        "best": None if best is None else {"trial": best.number, "score": best.score, "config": best.config},
        "trials": counts,
        "stopped": None if search.stopped_ is None else search.stopped_.describe(),
        "baselines": search.study_info_.baselines,
        "seconds": round(seconds, 2),
        "leaderboard": rows,
    }


def run_search(
    search: Any,
    data: Any,
    *,
    target: str | None,
    task: str | None,
    json_output: bool,
    quiet: bool,
    top: int,
    persistence: str | None = None,
    split: str = "random",
    report: bool = True,
    validation_file: Path | None = None,
    test_file: Path | None = None,
) -> Any:
    """Run ``search.fit`` with progress, Ctrl-C and fatal-error handling, then show the leaderboard.

    With ``report``, ``report.html`` in the run directory is refreshed at the end.
    """
    from automl.cli._progress import RichProgress
    from automl.report import render

    if not json_output and not quiet:
        search.progress = RichProgress(err_console)
    started = time.perf_counter()
    with stops_handled():
        search.fit(
            data, target=target, task=task, persistence=persistence, split=split,
            validation_data=validation_file, test_data=test_file,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    if report:
        from automl.cli._report import write_run_report

        write_run_report(search.run_dir_, quiet=True)
    if json_output:
        print_json(_summary(search, seconds))
        return search
    console.print(render(search.leaderboard_, "table", top=top, width=console.width))
    best = search.best_trial_
    if best is not None:
        console.print(f"best: trial {best.number}, validation {search.study_info_.metric} = {best.score:.4f}")
    written = "leaderboard.csv, report.html" if report else "leaderboard.csv"
    console.print(f"run directory: {search.run_dir_}  ·  {written} written  ·  wall time {seconds:.1f} s")
    return search


def search_command(
    dataset: Annotated[
        str, typer.Option("--dataset", "-d", help="Built-in name, file path (CSV/Parquet/NPZ) or URL.")
    ],
    space: Annotated[
        str,
        typer.Option(
            "--space", "-s", help="Shipped space name or YAML path (compact: short searches; mlp: long)."
        ),
    ] = DEFAULT_SPACE,
    target: Annotated[str | None, typer.Option(help="Target column of a table.")] = None,
    persistence: Annotated[
        str | None,
        typer.Option(help="Column holding the target's last known value: adds the persistence baseline."),
    ] = None,
    split: Annotated[
        str,
        typer.Option(
            help="random (seeded, stratified) or ordered: rows in file order, train first, then "
            "validation, then test (data in time order)."
        ),
    ] = "random",
    task: Annotated[
        str | None, typer.Option(help="binary, multiclass, regression (default: inferred).")
    ] = None,
    validation_file: Annotated[
        Path | None,
        typer.Option(
            help="Your own validation rows (same format and columns as the data): none are cut from the data."
        ),
    ] = None,
    test_file: Annotated[
        Path | None,
        typer.Option(help="Your own test rows, scored once by retrain: none are cut from the data."),
    ] = None,
    backend: Annotated[str, typer.Option(help=_BACKEND_HELP)] = "optuna",
    algorithm: Annotated[str | None, typer.Option(help=_ALGORITHM_HELP)] = None,
    pruner: Annotated[str | None, typer.Option(help=_PRUNER_HELP)] = None,
    option: Annotated[list[str] | None, typer.Option("--option", help=_OPTION_HELP)] = None,
    trials: Annotated[
        int | None,
        typer.Option(
            help="Finished trials the study should hold (default: 20, or with --timeout alone as many as "
            "the time allows). The budget covers the search, not the retrain."
        ),
    ] = None,
    timeout: Annotated[
        str | None,
        typer.Option(help="Wall-clock budget from the call, set-up included (not the retrain): 90, 20m, 1h."),
    ] = None,
    trial_timeout: Annotated[str | None, typer.Option(help="End a trial as failed after this long.")] = None,
    stop_stalled: Annotated[str | None, typer.Option(help=STOP_STALLED_HELP)] = None,
    stall_tolerance: Annotated[float | None, typer.Option(help=STALL_TOLERANCE_HELP)] = None,
    max_params: Annotated[
        int | None,
        typer.Option(
            help="The most weights a model may have (instead of the space's max_params): a config over it "
            "is not trained nor counted as a trial, and the sampler learns to avoid it.",
            min=1,
        ),
    ] = None,
    max_latency_ms: Annotated[
        float | None,
        typer.Option(
            help="The most milliseconds per row (batch 1) a model may take on the trial's device (instead of "
            "the space's max_latency_ms): each proposal is built untrained and timed before it trains.",
            min=0.001,
        ),
    ] = None,
    cv: Annotated[
        str,
        typer.Option(
            help="Score each trial by K-fold cross-validation on train + validation: K, 0 for the "
            "validation split, or auto (5 folds under --timeout on data of at most 500 train + validation "
            "rows)."
        ),
    ] = "auto",
    warm_start: Annotated[
        str,
        typer.Option(
            help="Configs tried first: portfolio (configs good across the shipped datasets), none, or "
            "RUN_DIR (an earlier run of the space: its best configs). auto: portfolio where the space "
            "ships one and the algorithm takes it."
        ),
    ] = "auto",
    run_dir: Annotated[Path | None, typer.Option(help="Folder of the run (default runs/NAME).")] = None,
    checkpoint_dir: Annotated[Path | None, typer.Option(help=CHECKPOINT_DIR_HELP)] = None,
    name: Annotated[str | None, typer.Option(help="Run name (default DATASET-SPACE-BACKEND).")] = None,
    storage: Annotated[
        str | None, typer.Option(help="Optuna storage URL (default the run's SQLite file).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split, the sampler and the trials.")] = 0,
    metric: Annotated[
        str | None, typer.Option(help="accuracy, balanced_accuracy, auc, f1, log_loss; rmse, mae, r2.")
    ] = None,
    objective: Annotated[
        str | None,
        typer.Option(
            help="The score and what to minimise beside it, e.g. accuracy,size: any of params, size "
            "(bytes saved), latency (ms per row, batch 1). Searches the trade-off (optuna backend); the "
            "score part is --metric's."
        ),
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an existing run.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Delete an existing run first.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document at the end.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also log each trial to the terminal.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the final leaderboard.")] = False,
    top: Annotated[int, typer.Option(help="Rows of the leaderboard shown at the end.")] = 10,
    no_report: Annotated[bool, typer.Option("--no-report", help=NO_REPORT_HELP)] = False,
    gpus: Annotated[
        str | None, typer.Option(help="Train on GPUs: all, or how many (one worker process per GPU).")
    ] = None,
    gpu_ids: Annotated[str | None, typer.Option(help="Which GPUs, e.g. 0,2 (instead of --gpus).")] = None,
    trials_per_gpu: Annotated[int, typer.Option(help="Worker processes per GPU (memory split evenly).")] = 1,
    workers: Annotated[
        str | None,
        typer.Option(
            help="CPU worker processes: a number, or auto (default: one per core when the budget is long "
            "enough to pay for their start-up, else this process)."
        ),
    ] = None,
    precision: Annotated[
        str, typer.Option(help="auto (mixed on GPUs that gain from it), float32 or mixed.")
    ] = "auto",
    recycle_after: Annotated[
        int, typer.Option(help="Trials a worker process runs before a fresh one replaces it.")
    ] = RECYCLE_AFTER,
    oracle_port: Annotated[
        int | None,
        typer.Option(
            help="keras_tuner: the port its chief listens on, so workers on other machines join with "
            "`automl worker --oracle HOST:PORT` (default: a free port of this machine only)."
        ),
    ] = None,
    keras_backend: Annotated[str | None, typer.Option(help=KERAS_BACKEND_HELP)] = None,
) -> None:
    """Search hyperparameters of Keras models on one dataset and show the leaderboard."""
    import logging

    from automl.search import AutoMLSearch

    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    backend_options = parse_options(option)
    # A mistyped algorithm or option fails now, before the search's imports and the dataset's loading.
    registry.check_backend(backend, algorithm=algorithm, pruner=pruner, options=backend_options)
    search = AutoMLSearch(
        space=space,
        backend=backend,
        algorithm=algorithm,
        pruner=pruner,
        backend_options=backend_options,
        metric=metric,
        objectives=objective,
        n_trials="auto" if trials is None else trials,
        timeout=parse_duration(timeout, "--timeout"),
        trial_timeout=parse_duration(trial_timeout, "--trial-timeout"),
        stop_stalled=stop_stalled,
        stall_tolerance=stall_tolerance,
        max_params=max_params,
        max_latency_ms=max_latency_ms,
        cv=cv,
        storage=storage,
        run_dir=run_dir,
        name=name,
        seed=seed,
        resume=resume,
        overwrite=overwrite,
        devices=device_request(
            gpus=gpus, gpu_ids=gpu_ids, trials_per_gpu=trials_per_gpu, workers=workers, precision=precision
        ),
        recycle_after=recycle_after,
        oracle_port=oracle_port,
        warm_start=warm_start,
        checkpoint_dir=checkpoint_dir,
        keras_backend=keras_backend,
    )
    run_search(
        search,
        dataset,
        target=target,
        task=task,
        json_output=json_output,
        quiet=quiet,
        top=top,
        persistence=persistence,
        split=split,
        report=not no_report,
        validation_file=validation_file,
        test_file=test_file,
    )


def quickstart_command(
    trials: Annotated[int, typer.Option(help="Trials to run.")] = 20,
    # The search's budget; with start-up and the baselines the command ends within 90 s on 2 CPU cores.
    timeout: Annotated[str, typer.Option(help="Wall-clock budget of the search.")] = "75s",
    run_dir: Annotated[Path, typer.Option(help="Folder of the run (replaced if it exists).")] = Path(
        "runs/quickstart"
    ),
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document at the end.")] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help=NO_REPORT_HELP)] = False,
    keras_backend: Annotated[str | None, typer.Option(help=KERAS_BACKEND_HELP)] = None,
) -> None:
    """A real search on the embedded digits dataset (compact MLP space, Optuna TPE + median pruning)."""
    from automl.search import AutoMLSearch

    if not json_output:
        console.print(
            "[bold]automl quickstart[/bold]: searching MLPs for the 8x8 digits dataset "
            f"({trials} trials, at most {timeout})…"
        )
    search = AutoMLSearch(
        space="compact",
        backend="optuna",
        n_trials=trials,
        timeout=parse_duration(timeout, "--timeout"),
        run_dir=run_dir,
        overwrite=True,
        seed=0,
        keras_backend=keras_backend,
    )
    run_search(
        search,
        "digits",
        target=None,
        task=None,
        json_output=json_output,
        quiet=False,
        top=10,
        report=not no_report,
    )
    if not json_output:
        opened = "" if no_report else f"open {run_dir}/report.html  ·  "
        console.print(
            f"next: {opened}automl leaderboard {run_dir}  ·  "
            "automl search --dataset wine --space mlp --trials 30"
        )
