"""`automl spaces …`: list, show and validate search spaces. Imports neither TensorFlow nor Keras."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from automl.cli._console import console, err_console, print_json

app = typer.Typer(help="List, show and validate search spaces.", no_args_is_help=True)


@app.command("list")
def list_command(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the search spaces shipped with automl."""
    from automl.space import list_spaces, load_space

    rows = []
    for name, path in list_spaces().items():
        space = load_space(path)
        rows.append(
            {
                "name": name,
                "family": space.family,
                "parameters": len(space.parameters),
                "description": space.description,
                "path": str(path),
            }
        )
    if json_output:
        print_json(rows)
        return
    table = Table("name", "family", "parameters", "description", title="Shipped search spaces")
    for row in rows:
        table.add_row(str(row["name"]), str(row["family"]), str(row["parameters"]), str(row["description"]))
    console.print(table)


@app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="A shipped space name or a path to a YAML file.")],
    yaml_output: Annotated[bool, typer.Option("--yaml", help="Print the space as YAML.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a search space: every parameter, its domain, default and condition."""
    from automl.space import load_space

    space = load_space(name)
    if yaml_output:
        console.print(space.to_yaml(), end="", markup=False)
        return
    if json_output:
        print_json({**space.to_dict(), "content_hash": space.content_hash})
        return
    title = f"{space.name} ({space.family}, objective {space.objective})"
    table = Table(
        "parameter", "domain", "default", "active if", title=title, caption=space.description or None
    )
    for p in space.declared:
        domain = p.describe() + (f" per layer of {p.per_layer}" if p.per_layer else "")
        condition = ", ".join(f"{k} in {list(v)}" for k, v in p.active_if)
        table.add_row(p.name, domain, str(p.default_value), condition)
    console.print(table)


@app.command("validate")
def validate_command(
    files: Annotated[list[Path], typer.Argument(help="Search space YAML files.")],
) -> None:
    """Check search space files; print one line per file. Exit code 2 if any is invalid."""
    from automl.exceptions import SpaceError
    from automl.space import load_space

    bad = 0
    for path in files:
        try:
            space = load_space(path)
        except SpaceError as exc:
            bad += 1
            err_console.print(f"[red]invalid[/red] {exc}", markup=True, soft_wrap=True)
            continue
        problem = space.grid_problem()
        grid = "not grid-searchable" if problem else f"grid of {space.grid_size()} configs"
        console.print(
            f"[green]ok[/green] {path}: {len(space.parameters)} parameters, family {space.family}, {grid}",
            soft_wrap=True,
        )
    if bad:
        raise typer.Exit(code=2)
