"""Shared terminal output: one rich console for results, one for messages, JSON printing, and help text."""

from __future__ import annotations

import inspect
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from typer.core import TyperGroup

__all__ = ["HelpGroup", "console", "err_console", "print_json", "reflow_help", "stops_handled"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """One JSON document on stdout, for scripts (no colour, no wrapping)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


@contextmanager
def stops_handled() -> Iterator[None]:
    """Ctrl-C, SIGTERM or SIGHUP → the resume command, exit 128 + the signal's number (130, 143, 129);
    FatalError → its message, exit 1; the storage or the disk gone (Unavailable) → its message and the resume
    command, exit 75 or 74 (trials kept in every case)."""
    import typer

    from automl import interrupts
    from automl.cli._errors import current_flags, to_flags
    from automl.exceptions import FatalError, Unavailable

    try:
        yield
    except KeyboardInterrupt:
        err_console.print(
            "[yellow]interrupted[/yellow]: every finished trial is kept; continue with: " + _resume_command(),
            soft_wrap=True,
        )
        raise typer.Exit(code=128 + interrupts.last_signal()) from None
    except FatalError as exc:
        err_console.print(f"[bold red]stopped:[/bold red] {to_flags(exc, current_flags())}", soft_wrap=True)
        raise typer.Exit(code=1) from None
    except Unavailable as exc:
        err_console.print(
            f"[bold red]stopped:[/bold red] {to_flags(exc, current_flags())}; every finished trial is kept; "
            "once it is back, continue with: " + _resume_command(),
            soft_wrap=True,
        )
        raise typer.Exit(code=exc.exit_status) from None


def _resume_command() -> str:
    """The command to go on with: this one with --resume, a storage URL's password masked (the line may
    reach a log; ``AUTOML_STORAGE`` gives the URL back, password included)."""
    from automl.store import mask_password

    args = [a for a in sys.argv[1:] if a not in ("--overwrite", "--resume")]
    shown = [mask_password(a) if "://" in a else a for a in args]
    command = " ".join(["automl", *shown, "--resume"])
    if shown != args:
        command += " (with AUTOML_STORAGE set to the storage's URL, password included)"
    return command


KERAS_BACKEND_HELP = (
    "Keras backend trials train on: tensorflow, jax or torch (default: KERAS_BACKEND, else tensorflow). "
    "A resumed run, its workers and retrain keep the run's."
)


# A line that starts a list item: "- x", "* x", "• x", "1. x", "2) x".
_LIST_ITEM = re.compile(r"(?:[-*•]|\d+[.)])\s")
# Click's marker for a paragraph to keep exactly as written.
_VERBATIM = "\b"


def reflow_help(text: str | None, *, option: bool = False) -> str | None:
    """Help text as typer's rich mode should show it: each paragraph one flowing line.

    In rich markup mode typer keeps the single line breaks of a command's docstring after its first
    paragraph, so a sentence wrapped in the source is broken mid-line in the terminal. Here the lines of
    each paragraph (paragraphs are separated by a blank line) are joined with spaces, and rich wraps them at
    the terminal width. Kept on their own line: list items ("- ", "* ", "1. "; an item's continuation lines
    join the item) and indented lines that do not continue an item (examples, indentation kept). A paragraph
    that starts with click's "\\b" marker is kept as written. Whatever follows "\\f" is left as is.

    A paragraph that keeps line breaks is marked "\\b" where typer would otherwise join its lines: the
    first paragraph of a command's help, and every paragraph of an option's help (``option=True``).
    """
    if not text:
        return text
    shown, marker, hidden = inspect.cleandoc(text).partition("\f")
    out = []
    for index, paragraph in enumerate(p for p in re.split(r"\n[ \t]*\n", shown.strip("\n")) if p.strip()):
        if paragraph.startswith(_VERBATIM):
            lines = paragraph.removeprefix(_VERBATIM).lstrip(" \t").removeprefix("\n").split("\n")
        else:
            lines = _reflow_paragraph(paragraph.split("\n"))
        joined = "\n".join(lines)
        if len(lines) > 1 and option:
            joined = _VERBATIM + "\n" + joined
        elif len(lines) > 1 and index == 0:
            # No newline after the marker: rich drops the control character, the text starts on line one.
            joined = _VERBATIM + joined
        out.append(joined)
    return "\n\n".join(out) + marker + hidden


def _reflow_paragraph(lines: list[str]) -> list[str]:
    """A paragraph's lines joined into flowing ones; list items and example lines kept on their own."""
    blocks: list[list] = []  # [text, indent, kind] with kind "text", "item" or "example"
    for raw in lines:
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        if not blocks:
            kind = "item" if _LIST_ITEM.match(stripped) else ("example" if indent else "text")
            blocks.append([stripped if kind != "example" else raw.rstrip(), indent, kind])
            continue
        last = blocks[-1]
        if _LIST_ITEM.match(stripped):
            blocks.append([stripped, indent, "item"])
        elif last[2] == "item" and indent > last[1]:
            last[0] += " " + stripped
        elif indent:
            blocks.append([raw.rstrip(), indent, "example"])
        elif last[2] == "example":
            blocks.append([stripped, 0, "text"])
        else:
            last[0] += " " + stripped
    return [(" " * indent if kind == "item" else "") + text for text, indent, kind in blocks]


class HelpGroup(TyperGroup):
    """The root command group: it reflows the help of every command, group and option below it.

    One place for the whole CLI: typer builds the subcommands before the root group, so the root sees
    them all (sub-apps' commands included) and rewrites their help once.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _reflow_tree(self, seen=set())


def _reflow_tree(command: Any, seen: set[int]) -> None:
    if id(command) in seen:
        return
    seen.add(id(command))
    command.help = reflow_help(command.help)
    command.epilog = reflow_help(command.epilog)
    if command.short_help:
        command.short_help = reflow_help(command.short_help)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = reflow_help(param.help, option=True)
    for sub in getattr(command, "commands", {}).values():
        _reflow_tree(sub, seen)
