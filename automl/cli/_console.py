"""Shared terminal output: one rich console for results, one for messages, and JSON printing."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

__all__ = ["console", "err_console", "print_json", "stops_handled"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """One JSON document on stdout, for scripts (no colour, no wrapping)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


@contextmanager
def stops_handled() -> Iterator[None]:
    """Ctrl-C → the resume command, exit 130; FatalError → its message, exit 1 (trials kept either way)."""
    import typer

    from automl.cli._errors import current_flags, to_flags
    from automl.exceptions import FatalError

    try:
        yield
    except KeyboardInterrupt:
        args = [a for a in sys.argv[1:] if a not in ("--overwrite", "--resume")]
        err_console.print(
            "[yellow]interrupted[/yellow]: every finished trial is kept; continue with: "
            + " ".join(["automl", *args, "--resume"]),
            soft_wrap=True,
        )
        raise typer.Exit(code=130) from None
    except FatalError as exc:
        err_console.print(
            f"[bold red]stopped:[/bold red] {to_flags(str(exc), current_flags())}", soft_wrap=True
        )
        raise typer.Exit(code=1) from None
