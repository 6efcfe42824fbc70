"""Library messages in the words of the command line.

The library names the Python arguments its caller wrote, in backticks: "`n_trials` must be at least 1",
"or choose `algorithm='tpe'`". Someone at the `automl` command wrote flags, so the messages they read
name those: "--trials must be at least 1", "or choose --algorithm tpe". The library's errors carry the
arguments they name as data (:class:`automl.exceptions.Argument`); :func:`to_flags` words each through
:data:`FLAGS`, and leaves the message's text alone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from automl.exceptions import NO_VALUE, Argument, AutoMLError

__all__ = ["FLAGS", "command_flags", "current_flags", "flags_of", "invoked", "to_flags"]

#: Python argument of the library -> the flag that sets it.
FLAGS = {
    "n_trials": "--trials",
    "timeout": "--timeout",
    "trial_timeout": "--trial-timeout",
    "stop_stalled": "--stop-stalled",
    "stall_tolerance": "--stall-tolerance",
    "max_params": "--max-params",
    "max_latency_ms": "--max-latency-ms",
    "objectives": "--objective",
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
    "keras_backend": "--keras-backend",
    "study_name": "--study",
    "validation_data": "--validation-file",
    "test_data": "--test-file",
    "final_fit": "--final-fit",
    "ensemble": "--ensemble",
    "bag": "--bag",
    "cv": "--cv",
    "time_limit": "--time-limit",
    "pick": "--pick",
    "rescore": "--rescore",
    "ensemble_from": "--ensemble-from",
    "checkpoint_dir": "--checkpoint-dir",
}


def to_flags(error: BaseException | str, flags: Collection[str] | None = None) -> str:
    """The message of ``error`` with each argument it names written as its flag, ``name=value`` as
    ``--flag value``; anything but an automl error (a plain string included) as it is.

    With ``flags`` (those of the command that ran), an argument is written as a flag only if the command
    has it: a flag the command lacks would send the user looking for it, so it keeps its Python name.
    """
    if not isinstance(error, AutoMLError):
        return str(error)

    def flag_of(argument: Argument) -> str | None:
        flag = FLAGS.get(argument.name)
        if flag is None or (flags is not None and flag not in flags):
            return None
        if argument.value is NO_VALUE or argument.value is True:
            return flag
        if argument.value is False:  # a switch turned off: --no-ensemble
            return f"--no-{flag.removeprefix('--')}"
        return f"{flag} {argument.value}"

    return error.render(flag_of)


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
