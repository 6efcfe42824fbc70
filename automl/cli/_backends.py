"""`automl backends`: what each backend offers, read from the registry (no backend, no TensorFlow)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from automl.cli._console import console


def backends_command(
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, or markdown (the table of README.md).")
    ] = "table",
) -> None:
    """List the search backends: algorithms, pruners and the options of each (--option KEY=VALUE)."""
    from automl.backends import registry

    BACKENDS = registry.BACKENDS
    describe_algorithms, describe_pruners = registry.describe_algorithms, registry.describe_pruners
    markdown_table = registry.markdown_table
    from automl.exceptions import UserError

    if fmt == "markdown":
        sys.stdout.write(markdown_table())
        return
    if fmt != "table":
        raise UserError(f"--format: unknown format {fmt!r}; use table or markdown")
    table = Table(
        "backend", "algorithms", "pruners", title="Search backends (--backend, --algorithm, --pruner)"
    )
    for spec in BACKENDS.values():
        table.add_row(
            spec.name, describe_algorithms(spec, markdown=False), describe_pruners(spec, markdown=False)
        )
    console.print(table)
    for spec in BACKENDS.values():
        options = Table(title=f"{spec.name} options (--option KEY=VALUE)")
        options.add_column("option", no_wrap=True)
        options.add_column("for", overflow="fold")
        options.add_column("type", no_wrap=True)
        options.add_column("min", no_wrap=True)
        options.add_column("what it sets")
        for who, declared in spec.option_groups():
            for key, option in declared.items():
                minimum = "" if option.minimum is None else f"{option.minimum:g}"
                options.add_row(key, who, option.type_name, minimum, option.help)
        console.print(options)
