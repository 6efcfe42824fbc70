"""Fixtures every test folder shares."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def cli(capsys) -> Callable[[list[str]], tuple[int, str, str]]:
    """Run the `automl` command in this process: ``cli([...])`` → ``(exit code, stdout, stderr)``."""
    from automl.cli import main

    def run(argv: list[str]) -> tuple[int, str, str]:
        try:
            main(argv)
            code = 0
        except SystemExit as exit:
            code = int(exit.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
