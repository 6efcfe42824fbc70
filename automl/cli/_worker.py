"""`automl worker`: join a search on a shared storage from this machine (or list the storage's studies)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from automl import interrupts
from automl.cli._console import console, err_console, print_json
from automl.workers import RECYCLE_AFTER


def worker_command(
    storage: Annotated[
        str,
        typer.Option(
            help="The search's storage URL, e.g. postgresql+psycopg2://user@db-host/automl (the password "
            "may come from PGPASSWORD or ~/.pgpass instead of the URL)."
        ),
    ],
    study: Annotated[
        str | None, typer.Option(help="The study to work on; without it, list the storage's studies.")
    ] = None,
    workers: Annotated[
        str | None, typer.Option(help="CPU worker processes on this machine: a number, or auto.")
    ] = None,
    gpus: Annotated[str | None, typer.Option(help="Train on this machine's GPUs: all, or how many.")] = None,
    gpu_ids: Annotated[str | None, typer.Option(help="Which GPUs, e.g. 0,2 (instead of --gpus).")] = None,
    trials_per_gpu: Annotated[int, typer.Option(help="Worker processes per GPU.")] = 1,
    precision: Annotated[str, typer.Option(help="auto, float32 or mixed.")] = "auto",
    oracle: Annotated[
        str | None,
        typer.Option(help="keras_tuner studies: HOST:PORT of the chief (`automl search --oracle-port`)."),
    ] = None,
    shared_dir: Annotated[
        Path | None,
        typer.Option(
            help="keras_tuner hyperband: the first machine's run directory as mounted here (checkpoints)."
        ),
    ] = None,
    checkpoint_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder of running trials' checkpoints: the search's --checkpoint-dir as mounted here, so "
            "a trial retried on any machine resumes (default: AUTOML_CHECKPOINT_DIR, else none: a trial "
            "retried elsewhere starts again)."
        ),
    ] = None,
    log_dir: Annotated[Path, typer.Option(help="Where each worker process logs.")] = Path(
        "automl-worker-logs"
    ),
    recycle_after: Annotated[
        int, typer.Option(help="Trials a worker process runs before a fresh one replaces it.")
    ] = RECYCLE_AFTER,
    wait: Annotated[
        str | None,
        typer.Option(
            help="How long to wait for the study to appear (a job started before the search): 90, 5m."
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="The study list as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Work on a study of a shared storage from this machine until its search's budget is spent.

    The study's manifest in the storage says what to search (space, dataset, backend, budget); the dataset
    must load here (a built-in, a URL, or a path that exists on this machine). Without --study, list the
    studies of the storage.
    """
    from automl.cli._progress import RichProgress
    from automl.cli._search import device_request, parse_duration
    from automl.exceptions import FatalError
    from automl.store import mask_password, open_storage
    from automl.workers import join, list_studies

    if study is None:
        rows = list_studies(open_storage(storage, heartbeat_interval=None))
        if json_output:
            print_json(rows)
            return
        _show_studies(rows, mask_password(storage))
        return
    devices = device_request(
        gpus=gpus, gpu_ids=gpu_ids, trials_per_gpu=trials_per_gpu, workers=workers, precision=precision
    )
    try:
        joined = join(
            storage,
            study,
            devices=devices,
            oracle=oracle,
            shared_dir=shared_dir,
            log_dir=log_dir,
            recycle_after=recycle_after,
            progress=None if quiet else RichProgress(err_console),
            wait=parse_duration(wait, "--wait") or 0.0,
            checkpoint_dir=checkpoint_dir,
        )
    except KeyboardInterrupt:
        err_console.print(
            "[yellow]interrupted[/yellow]: this machine's workers stopped; finished trials are kept"
        )
        raise typer.Exit(code=128 + interrupts.last_signal()) from None
    except FatalError as exc:
        err_console.print(f"[bold red]stopped:[/bold red] {exc}", soft_wrap=True)
        raise typer.Exit(code=1) from None
    if not joined:
        console.print(
            f"study {study}: its search is over (the deadline passed); nothing to do", soft_wrap=True
        )
        return
    console.print(f"study {study}: this machine's share is done; logs in {log_dir}", soft_wrap=True)


def _show_studies(rows: list[dict], label: str) -> None:
    from rich.table import Column, Table

    if not rows:
        console.print(f"{label} holds no study yet")
        return
    table = Table("dataset", "space", "backend", "trials", "best", "open", title=label)
    # The name is what `--study` takes: never cut short.
    table.columns.insert(0, Column("study", overflow="fold", no_wrap=False, min_width=12))
    for row in rows:
        best = "" if row["best"] is None else f"{row['best']:.4f}"
        table.add_row(
            row["study"], row["dataset"], row["space"], row["backend"], str(row["trials"]), best,
            "yes" if row["open"] else "ended",
        )  # fmt: skip
    console.print(table)
