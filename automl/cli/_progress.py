"""The rich progress display of a search: trials done / budget, best so far, elapsed, ETA."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from automl.engine import ProgressState
from automl.store import TrialRecord, TrialState


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


class RichProgress:
    """Progress bar on stderr plus one line per finished trial (unless ``quiet``)."""

    def __init__(self, console: Console, *, trial_lines: bool = True) -> None:
        self.console = console
        self.trial_lines = trial_lines
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[done]}"),
            TextColumn("best {task.fields[best]}"),
            TimeElapsedColumn(),
            TextColumn("ETA {task.fields[eta]}"),
            console=console,
            transient=True,
        )
        self.task: TaskID | None = None

    def _fields(self, state: ProgressState, finished_here: int = 0) -> dict[str, Any]:
        budget = "∞" if state.trial_budget is None else str(state.trial_budget)
        best = "—" if state.best is None else f"{state.best:.4f} {state.metric}"
        return {
            "done": f"{state.finished}/{budget} trials",
            "best": best,
            "eta": _fmt(state.eta(finished_here)),
        }

    def start(self, state: ProgressState) -> None:
        self.finished_here = 0
        self.bar.start()
        total = state.trial_budget
        self.task = self.bar.add_task(
            "searching", total=total, completed=state.finished, **self._fields(state)
        )

    def trial_started(self, number: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, description=f"trial {number}")

    def workers(self, states: dict[int, str]) -> None:
        """One word per worker process in the bar's description: ``w0 trial 7 · w1 starting``."""
        if self.task is not None:
            text = " · ".join(f"w{slot} {state}" for slot, state in sorted(states.items()))
            self.bar.update(self.task, description=text)

    def trial_finished(self, record: TrialRecord, state: ProgressState) -> None:
        if record.state is not TrialState.FAIL:
            self.finished_here += 1
        if self.trial_lines:
            if record.state is TrialState.FAIL:
                text = f"[red]failed[/red]   {record.failure}"
            else:
                colour = "green" if record.state is TrialState.COMPLETE else "yellow"
                score = "—" if record.score is None else f"{record.score:.4f}"
                text = (
                    f"[{colour}]{record.state.value:8s}[/{colour}] {state.metric}={score}  "
                    f"epochs={record.epochs_run}  {record.fit_seconds or 0:.1f}s"
                )
            self.bar.console.print(f"trial {record.number:3d} {text}", highlight=False, soft_wrap=True)
        if self.task is not None:
            self.bar.update(self.task, completed=state.finished, **self._fields(state, self.finished_here))

    def stop(self, state: ProgressState) -> None:
        self.bar.stop()
