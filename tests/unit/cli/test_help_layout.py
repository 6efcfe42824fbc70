"""Help reads as flowing paragraphs at the terminal width: no sentence broken where the source wrapped it."""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise
from typing import Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from automl.cli import app
from automl.cli._console import HelpGroup, reflow_help

WIDTH = 100


def command_paths() -> list[list[str]]:
    """The path of every command and group of the CLI, the root's ([]) included."""
    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():  # typer's own click: no click.Group
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def render_help(target: typer.Typer, path: list[str]) -> str:
    """``--help`` as a terminal WIDTH columns wide shows it (trailing spaces cut)."""
    env = {"COLUMNS": str(WIDTH), "TERMINAL_WIDTH": str(WIDTH)}
    result = CliRunner().invoke(target, [*path, "--help"], env=env, terminal_width=WIDTH)
    assert result.exit_code == 0, result.output
    return "\n".join(line.rstrip() for line in result.output.splitlines())


def early_breaks_in_description(output: str) -> list[tuple[str, str]]:
    """Pairs of lines of one description paragraph where the next line's first word would have fit."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Usage:")) + 1
    end = next((i for i, line in enumerate(lines) if line.lstrip().startswith("╭")), len(lines))
    text = [line.rstrip() for line in lines[start:end]]
    room = WIDTH - 2  # one column of padding on each side
    breaks = []
    for above, below in pairwise(text):
        if not above.strip() or not below.strip():
            continue  # a paragraph break
        word = below.split()[0]
        intended = word in ("-", "*", "•") or word.rstrip(".)").isdigit() or below.startswith("   ")
        if not intended and len(above) - 1 + 1 + len(word) <= room:
            breaks.append((above, below))
    return breaks


def early_breaks_in_panels(output: str) -> list[tuple[str, str]]:
    """Same, for the help cells of the options and arguments panels (typer's "[default: …]" lines aside)."""
    breaks = []
    panel: list[str] = []
    for line in output.splitlines():
        if line.startswith("╭"):
            panel = []
        elif line.startswith("│"):
            panel.append(line)
        elif line.startswith("╰") and panel:
            breaks += _panel_breaks(panel)
    return breaks


def _panel_breaks(rows: list[str]) -> list[tuple[str, str]]:
    # the help column starts where most rows' last cell starts (cells are two or more spaces apart)
    starts = [m.start() for r in rows for m in list(re.finditer(r"(?<=  )\S", r[: r.rindex("│")]))[-1:]]
    if not starts:
        return []
    help_x = Counter(starts).most_common(1)[0][0]
    room = rows[0].rindex("│") - 1 - help_x
    breaks = []
    for above, below in pairwise(rows):
        if below[1:help_x].strip():
            continue  # the next option's row
        above_text, below_text = above[help_x:].rstrip(" │"), below[help_x:].rstrip(" │").strip()
        if not above_text or not below_text or below_text.startswith("["):
            continue
        if len(above_text) + 1 + len(below_text.split()[0]) <= room:
            breaks.append((above, below))
    return breaks


PATHS = command_paths()


def test_every_command_is_checked():
    names = {" ".join(p) for p in PATHS}
    assert {"", "worker", "search", "run", "report", "leaderboard", "spaces", "spaces list"} <= names


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "automl")
def test_help_paragraphs_flow_at_the_terminal_width(path):
    output = render_help(app, path)
    assert early_breaks_in_description(output) == []
    assert early_breaks_in_panels(output) == []


def test_worker_help_keeps_its_paragraphs_and_flows_them():
    output = render_help(app, ["worker"])
    description = output.split("╭")[0]
    assert "Work on a study of a shared storage" in description
    # the second paragraph, wrapped in the source after "the dataset", now flows on
    assert "budget); the dataset" in " ".join(description.split()) and "\n dataset\n" not in output
    paragraphs = [p for p in description.split("\n \n") if p.strip()]
    assert any("Without --study" in " ".join(p.split()) for p in paragraphs)


def test_an_early_break_is_caught():
    """The check itself: the help as typer rendered it before (source line breaks kept) fails it."""
    broken = typer.Typer(add_completion=False)

    @broken.command()
    def first() -> None:
        """Summary.

        A sentence wrapped in the source, although the terminal is much wider than this short
        line, continues here.
        """

    @broken.command()
    def second() -> None:
        """Second."""

    assert early_breaks_in_description(render_help(broken, ["first"])) != []


def test_an_early_break_in_a_panel_is_caught():
    rows = [
        "│ --seed     <int>  Seed of the split.                                       │",
        "│                   [default: 0]                                             │",
        "│ --name     <str>  A short line                                             │",
        "│                   broken early.                                            │",
    ]
    assert _panel_breaks(rows) == [(rows[2], rows[3])]


def test_lists_and_examples_keep_their_lines():
    demo = typer.Typer(cls=HelpGroup, add_completion=False)

    @demo.command()
    def first(
        level: int = typer.Option(0, help="How loud:\n\n\b\n0 quiet\n1 chatty"),
    ) -> None:
        """Summary of the command, wrapped in the source
        on two lines.

        A paragraph wrapped in the source
        on two lines, then a list:
        - one item that is long and
          wraps in the source
        - two

        Example:

            automl search -d iris
            automl report runs/iris
        """

    @demo.command()
    def second() -> None:
        """Second."""

    output = render_help(demo, ["first"])
    assert "Summary of the command, wrapped in the source on two lines." in output
    assert "A paragraph wrapped in the source on two lines, then a list:\n" in output
    assert "\n - one item that is long and wraps in the source" in output
    assert "\n - two" in output
    assert "\n     automl search -d iris" in output and "\n     automl report runs/iris" in output
    assert "0 quiet" in output and "1 chatty" in output
    assert early_breaks_in_description(output) == []


def test_reflow_help_rules():
    assert reflow_help(None) is None
    assert reflow_help("One line.") == "One line."
    assert reflow_help("A\n    b c.\n\n    Next\n    one.") == "A b c.\n\nNext one."
    assert reflow_help("Intro:\n- a\n  a2\n1. b\n\nEnd.") == "\bIntro:\n- a a2\n1. b\n\nEnd."
    assert reflow_help("S.\n\nText:\n    code  kept\n    more") == "S.\n\nText:\n    code  kept\n    more"
    assert reflow_help("S.\n\n\b\nkept\nas is") == "S.\n\nkept\nas is"
    assert reflow_help("S.\n\nshown\nhere\f\nhidden\nlines") == "S.\n\nshown here\f\nhidden\nlines"
    # an option's paragraph that keeps its lines is marked for typer, which joins the others
    assert reflow_help("Pick:\n- a\n- b", option=True) == "\b\nPick:\n- a\n- b"
    # reflowing twice changes nothing (the app may be built more than once)
    text = "Intro\nmore:\n- a\n- b\n\nP\nq."
    assert reflow_help(reflow_help(text)) == reflow_help(text)
