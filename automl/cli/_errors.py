"""Library messages in the words of the command line.

The library names the Python arguments its caller wrote, in backticks: "`n_trials` must be at least 1",
"or choose `algorithm='tpe'`". Someone at the `automl` command wrote flags, so the messages they read
name those: "--trials must be at least 1", "or choose --algorithm tpe".
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["FLAGS", "command_flags", "current_flags", "flags_of", "invoked", "to_flags"]

#: Python argument of the library -> the flag that sets it.
FLAGS = {
    "n_trials": "--trials",
    "timeout": "--timeout",
    "trial_timeout": "--trial-timeout",
    "resume": "--resume",
    "overwrite": "--overwrite",
    "name": "--name",
    "run_dir": "--run-dir",
    "storage": "--storage",
    "top_k": "--top",
    "seeds": "--seeds",
    "epochs": "--epochs",
    "backend": "--backend",
    "algorithm": "--algorithm",
    "pruner": "--pruner",
    "backend_options": "--option",
    "space": "--space",
    "seed": "--seed",
    "metric": "--metric",
    "target": "--target",
    "task": "--task",
    "split": "--split",
    "persistence": "--persistence",
    "output": "--output",
    "log_dir": "--tensorboard",
    "gpus": "--gpus",
    "gpu_ids": "--gpu-ids",
    "trials_per_gpu": "--trials-per-gpu",
    "workers": "--workers",
    "precision": "--precision",
    "recycle_after": "--recycle-after",
    "oracle_port": "--oracle-port",
    "warm_start": "--warm-start",
    "study_name": "--study",
    "validation_data": "--validation-file",
    "test_data": "--test-file",
    "final_fit": "--final-fit",
    "ensemble": "--ensemble",
    "bag": "--bag",
}

_ARGUMENT = re.compile(r"`([a-z_]+)(?:=([^`]*))?`")
_QUOTES = "'\""


def to_flags(message: str, flags: Collection[str] | None = None) -> str:
    """``message`` with each backticked argument written as its flag, ``name=value`` as ``--flag value``.

    With ``flags`` (those of the command that ran), an argument is translated only if the command has its
    flag: elsewhere a backticked word may be something else (a space's ``epochs`` parameter under
    ``automl search``), and a flag the command lacks would send the user looking for it.
    """

    def swap(match: re.Match[str]) -> str:
        flag = FLAGS.get(match.group(1))
        if flag is None or (flags is not None and flag not in flags):
            return match.group(0)
        value = match.group(2)
        return flag if value is None else f"{flag} {value.strip(_QUOTES)}"

    return _ARGUMENT.sub(swap, message)


def command_flags(command: Any) -> set[str]:
    """The long flags (``--trials``, ``--resume``, …) of a command of the typer app."""
    return {
        opt
        for param in command.params
        for opt in (*param.opts, *param.secondary_opts)
        if opt.startswith("--")
    }


#: the arguments of the `automl` invocation in progress (several may run in one process, e.g. tests).
_ARGV: ContextVar[Sequence[str] | None] = ContextVar("automl_cli_argv", default=None)


@contextmanager
def invoked(argv: Sequence[str]) -> Iterator[None]:
    """Remember ``argv`` while the command runs, for :func:`current_flags`."""
    token = _ARGV.set(list(argv))
    try:
        yield
    finally:
        _ARGV.reset(token)


def current_flags() -> set[str] | None:
    """The flags of the (sub)command being run, or None outside :func:`invoked`."""
    argv = _ARGV.get()
    return None if argv is None else flags_of(argv)


def flags_of(argv: Sequence[str]) -> set[str]:
    """The flags of the (sub)command that ``argv`` runs."""
    import typer

    from automl.cli import app

    command = typer.main.get_command(app)
    for token in argv:
        commands = getattr(command, "commands", None)
        if commands is None:
            break
        if token.startswith("-"):
            continue
        if token not in commands:
            break
        command = commands[token]
    return command_flags(command)
