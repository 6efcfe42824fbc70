"""`automl datasets …`: list the known datasets and show one (sizes, task, baselines)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from automl.cli._console import console, print_json

app = typer.Typer(help="List and inspect datasets.", no_args_is_help=True)


@app.command("list")
def list_command(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the built-in datasets (offline ones need no download)."""
    from automl.datasets import list_datasets

    rows = [info.to_dict() for info in list_datasets()]
    if json_output:
        print_json(rows)
        return
    table = Table("name", "task", "offline", "description", title="Built-in datasets")
    for row in rows:
        table.add_row(row["name"], row["task"], "yes" if row["offline"] else "download", row["description"])
    console.print(table)
    console.print("Any CSV, Parquet or NPZ file works too: pass its path (and --target COLUMN for tables).")


@app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="A built-in dataset name, a file path or a URL.")],
    target: Annotated[str | None, typer.Option(help="Target column of a table.")] = None,
    task: Annotated[
        str | None, typer.Option(help="binary, multiclass or regression (default: inferred).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the train/validation/test split.")] = 0,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Load a dataset and show its splits, input shape, task and validation baselines."""
    from automl.datasets import load_dataset
    from automl.metrics import default_metric

    dataset = load_dataset(name, target=target, task=task, seed=seed)
    metric = default_metric(dataset.task).name
    baselines = dataset.baselines(metric)
    summary = {**dataset.summary(), "metric": metric, "baselines": baselines}
    if json_output:
        print_json(summary)
        return
    table = Table("", "", title=f"dataset {dataset.name}", show_header=False)
    for key in ("task", "kind", "input_shape", "n_train", "n_val", "n_test", "n_classes", "target", "source"):
        if summary.get(key) is not None:
            table.add_row(key, str(summary[key]))
    for base, value in baselines.items():
        table.add_row(f"baseline {base} (val {metric})", f"{value:.4f}")
    console.print(table)
