"""The `automl` command line: a thin typer layer over the library.

Start-up stays instant: TensorFlow, Keras and the backends are imported inside the commands that need
them, never at module level. User mistakes (:class:`automl.exceptions.UserError`) print one line and exit
with code 2; no traceback.
"""

from __future__ import annotations

import os
import signal
import sys

import typer

from automl.cli import (
    _backends,
    _datasets,
    _experiment,
    _leaderboard,
    _models,
    _report,
    _search,
    _spaces,
    _worker,
)
from automl.cli._console import HelpGroup, err_console

__all__ = ["app", "main"]

app = typer.Typer(
    name="automl",
    help="Hyperparameter search for Keras models, on KerasTuner or Optuna.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Help reads as flowing paragraphs: typer's rich mode would keep the source line breaks of docstrings.
    cls=HelpGroup,
)
app.add_typer(_spaces.app, name="spaces")
app.add_typer(_datasets.app, name="datasets")
app.command("quickstart")(_search.quickstart_command)
app.command("search")(_search.search_command)
app.command("run")(_experiment.run_command)
app.command("leaderboard")(_leaderboard.leaderboard_command)
app.command("retrain")(_models.retrain_command)
app.command("predict")(_models.predict_command)
app.command("report")(_report.report_command)
app.command("backends")(_backends.backends_command)
app.command("worker")(_worker.worker_command)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    if version:
        from automl import __version__

        typer.echo(f"automl {__version__}")
        raise typer.Exit()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `automl` console script.

    SIGTERM and SIGHUP take the Ctrl-C path for the whole command (a search turns each into a stop
    request at its next safe point); the exit status is then 128 + the signal's number. A user's mistake
    exits 2; the storage gone past its grace period 75, the disk full 74 (one line each, no traceback).
    """
    from automl import interrupts
    from automl.cli._errors import flags_of, invoked, to_flags
    from automl.cli._models import join_pick
    from automl.exceptions import Unavailable, UserError

    args = join_pick(sys.argv[1:] if argv is None else list(argv))
    stops = _stop_codes()
    previous = _stop_on_signals() if argv is None else {}
    try:
        with invoked(args):
            app(args=args, prog_name="automl")
    except UserError as exc:
        # The library names its Python arguments; whoever typed this command knows its flags.
        err_console.print(f"[bold red]error:[/bold red] {to_flags(exc, flags_of(args))}", soft_wrap=True)
        sys.exit(2)
    except Unavailable as exc:  # a command outside a search (report, retrain, leaderboard, worker)
        err_console.print(f"[bold red]error:[/bold red] {to_flags(exc, flags_of(args))}", soft_wrap=True)
        sys.exit(exc.exit_status)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        code = 128 + interrupts.last_signal()
        _exit_now_if_threads_linger(code, console_script=argv is None)
        sys.exit(code)
    except SystemExit as exc:
        if exc.code in stops:
            _exit_now_if_threads_linger(int(exc.code), console_script=argv is None)
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _stop_codes() -> set[int]:
    from automl import interrupts

    return {128 + int(signum) for signum in interrupts.STOP_SIGNALS}


def _stop_on_signals() -> dict[int, object]:
    """SIGTERM and SIGHUP raise KeyboardInterrupt, as Ctrl-C does, where nobody handles them already."""
    from automl import interrupts

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            previous[signum] = signal.signal(signum, interrupts.raise_interrupt)
    return previous


def _exit_now_if_threads_linger(code: int, *, console_script: bool) -> None:
    """After Ctrl-C, leave even if a library's non-daemon thread (e.g. a trial heartbeat) is still alive.

    Python waits for such threads at exit, so an interrupt that reached a library mid-clean-up could hang
    the command after it had already saved everything. Only for the real console script: in-process
    callers (tests, notebooks) keep their interpreter.
    """
    import threading

    if not console_script:
        return
    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon and t.is_alive() for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
