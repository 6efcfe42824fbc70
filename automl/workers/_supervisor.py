"""The supervisor: one worker process per device slot, watched until the search's budget is spent.

The parent process has already created the storage, the study and the run manifest (concurrent creation
races on the schema); each worker then joins the study from the storage alone
(:mod:`automl.workers._worker`). The supervisor

* starts the workers in their own process group, each with its slot's environment and its own log file
  (``<run dir>/workers/w<slot>.log``), so a terminal's Ctrl-C reaches the supervisor only;
* restarts a worker that ended while the budget is not spent: one that finished its share of trials
  (recycled, so memory stays flat), or one that died (SIGKILL, out of memory). A dead worker loses at most
  its running trial, which the storage's heartbeat marks failed and retries;
* follows the study in the storage for the progress display (trials finished by every worker);
* stops every worker on Ctrl-C (a request each honours at its next safe point, then SIGKILL after a
  grace period), on a fatal failure streak, or on a user mistake (its message, from the worker's log).

Budgets hold for the whole search: every worker stops at one absolute deadline and counts the study's
finished trials, so a replacement never gets a fresh timeout.

A backend whose proposals live in a coordinator process rather than in the study (KerasTuner's oracle:
its registry entry names a ``chief``) gets that process too, started beside the workers and stopped after
them (``<run dir>/workers/chief.log``). When a worker dies the supervisor records its running trial as
failed at once, of kind ``worker_died``, in the store; a trial whose whole machine vanished falls silent,
and the chief fails it once its heartbeat is older than the grace period (``stale_heartbeat``). The chief
ends either in its oracle. A death says nothing about the config: it does not count toward the study's
failure streak.

A worker that exits 75 or 74 found the storage or the disk gone (:class:`~automl.exceptions.Unavailable`):
every worker would, so the search stops with that line, not counted as a death.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from automl import interrupts
from automl._diskspace import writing
from automl.engine import (
    EXIT_NOTHING_LEFT,
    PARENT_VARIABLE,
    SPEC_VARIABLE,
    NullProgress,
    Progress,
    ProgressState,
    WorkerSpec,
    best_score,
)
from automl.exceptions import FatalError, StorageUnavailable
from automl.outcomes import FailureKind
from automl.store import TrialRecord, TrialState, fail_trials_of, read_stop
from automl.workers._chief import Chief, free_port
from automl.workers._slots import Slot
from automl.workers._stopping import stop_grace, wait_or_kill
from automl.workers._worker import raise_for_exit

if TYPE_CHECKING:
    import optuna

    from automl.engine import Budget
    from automl.store import StudyInfo

__all__ = ["Supervisor"]

log = logging.getLogger("automl.supervisor")

#: a slot whose worker dies this many times in a row without a trial finished in between is broken.
_MAX_DEATHS_IN_A_ROW = 3
_POLL_SECONDS = 0.5


@dataclass
class _Worker:
    slot: Slot
    process: subprocess.Popen[bytes]
    log_file: Path
    handle: IO[bytes]
    started: float = field(default_factory=time.monotonic)


class Supervisor:
    """Runs the search of one opened study on ``slots`` (see the module doc).

    Args:
        study: The study, already created in ``url``'s storage, with the run manifest recorded.
        url: The storage URL the workers open (with its password: it is passed in their spec, not logged).
        budget: The search's budget; its timeout holds for every worker, from ``deadline`` or from now.
        run_dir: The run directory the workers write trial files to (None for a worker joining from
            another machine, or the KerasTuner folder shared with the first machine).
        log_dir: Where each worker's log goes (default ``<run_dir>/workers``).
        recycle_after: Trials a worker runs before it is replaced by a fresh process (None: never).
        chief: The coordinator process the backend needs, if any (:meth:`Chief.of`).
        since: When the search began (ISO time): failures in a row count from there (default now).
        deadline: When the time budget ends (``time.time()``), if the search's clock started earlier.
        trainer: ``module:name`` of a stand-in for :func:`automl.train` the workers use (tests).
        checkpoint_dir: The folder of the trials' checkpoints the user gave (None: the workers'
            ``AUTOML_CHECKPOINT_DIR``, else ``run_dir``'s; see :func:`automl.engine.checkpoint_folder`).
    """

    def __init__(
        self,
        *,
        study: optuna.Study,
        info: StudyInfo,
        url: str,
        slots: list[Slot],
        budget: Budget,
        run_dir: Path | None,
        log_dir: Path | None = None,
        recycle_after: int | None = None,
        heartbeat_interval: int = 60,
        grace_period: int | None = None,
        dataset_file: Path | None = None,
        progress: Progress | None = None,
        chief: Chief | None = None,
        since: str | None = None,
        deadline: float | None = None,
        trainer: str | None = None,
        checkpoint_dir: Path | None = None,
        machine: int = 0,
    ) -> None:
        self.study = study
        self.info = info
        self.slots = slots
        self.budget = budget
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.log_dir = Path(log_dir) if log_dir is not None else Path(str(run_dir)) / "workers"
        self.progress = progress or NullProgress()
        self.started = time.monotonic()
        if deadline is None and budget.timeout is not None:
            deadline = time.time() + budget.timeout
        self.deadline = deadline
        self.spec = WorkerSpec.of(
            budget,
            storage=url,
            study=study.study_name,
            slot={},
            run_dir=None if self.run_dir is None else str(self.run_dir),
            deadline=self.deadline,
            recycle_after=recycle_after,
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            since=since or datetime.now().isoformat(),
            dataset_file=None if dataset_file is None else str(dataset_file),
            trainer=trainer,
            checkpoint_dir=None if checkpoint_dir is None else str(checkpoint_dir),
            machine=machine,
        )
        self.workers: dict[int, _Worker] = {}
        if chief is not None and chief.port == 0:
            chief = replace(chief, port=free_port(chief.bind))
        self.chief = chief
        self.chief_process: _Worker | None = None
        self.started_workers = 0
        #: every worker process this supervisor started (its trials are its to clean up at the end)
        self.started_pids: set[int] = set()
        self.deaths: dict[int, int] = {}
        self.shown: dict[int, str] = {}
        #: the supervisor asked its workers to stop (a signal, Ctrl-C, the deadline): a trial they leave
        #: running was stopped, not lost to a crash
        self.stopping = False
        records = self._records(self.study.get_trials(deepcopy=False))
        self.state = ProgressState.of_records(
            records, study=study.study_name, metric=info.metric, direction=info.direction,
            trial_budget=budget.trials, timeout=budget.timeout, started=self.started,
        )  # fmt: skip
        self.reported = {r.number for r in records if r.state.finished or r.state is TrialState.FAIL}

    # ------------------------------------------------------------------ the study
    @staticmethod
    def _records(trials: list[optuna.trial.FrozenTrial]) -> list[TrialRecord]:
        return [TrialRecord.from_frozen(t) for t in trials]

    def _follow(self, trials: list[optuna.trial.FrozenTrial]) -> int:
        """Report newly ended trials to the progress display; returns the study's finished count."""
        records = self._records(trials)
        finished = sum(r.state.finished for r in records)
        ended = [
            r
            for r in sorted(records, key=lambda r: r.number)
            if (r.state.finished or r.state is TrialState.FAIL) and r.number not in self.reported
        ]
        if ended:
            self.state.finished = finished
            self.state.best = best_score(records, self.info.direction)
        for record in ended:
            self.reported.add(record.number)
            if record.state is TrialState.FAIL:
                self.state.failed += 1
            self.progress.trial_finished(record, self.state)
            # A finished trial shows its worker's slot works: its deaths no longer run in a row.
            slot = _slot_of(record)
            if slot is not None:
                self.deaths[slot] = 0
        return finished

    def _show_workers(self, trials: list[optuna.trial.FrozenTrial]) -> None:
        hook = getattr(self.progress, "workers", None)
        if hook is None:
            return
        by_pid = {worker.process.pid: index for index, worker in self.workers.items()}
        running: dict[int, int] = {}
        for trial in trials:
            pid = str(trial.user_attrs.get("worker") or "").rpartition(":")[2]
            if trial.state.name == "RUNNING" and pid.isdigit() and int(pid) in by_pid:
                running[by_pid[int(pid)]] = trial.number
        states = {}
        for index in self.workers:
            states[index] = f"trial {running[index]}" if index in running else "starting"
        if states != self.shown:
            self.shown = states
            hook(states)

    def _budget_spent(self, finished: int) -> bool:
        """Whether the search is over: its trials, its time, or a stop a worker recorded in the study
        (stalled: a replacement would find the same and end at once, again and again)."""
        if self.budget.trials is not None and finished >= self.budget.trials:
            return True
        if self.deadline is not None and time.time() >= self.deadline:
            return True
        return self.budget.stops_stalled and read_stop(self.study.user_attrs) is not None

    # ------------------------------------------------------------------ workers
    def _spawn(
        self, module: str, name: str, banner: str, env: dict[str, str], spec: str
    ) -> tuple[subprocess.Popen[bytes], Path, IO[bytes]]:
        log_file = self.log_dir / f"{name}.log"
        with writing(self.log_dir):
            self.log_dir.mkdir(parents=True, exist_ok=True)
            handle = log_file.open("ab")
            try:
                handle.write(f"--- {banner}\n".encode())
                handle.flush()
            except BaseException:
                with contextlib.suppress(OSError):
                    handle.close()
                raise
        process = subprocess.Popen(
            [sys.executable, "-c", f"from {module} import main; main()"],
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # The spec holds the storage URL, password included: the environment, not the command line.
            env={**os.environ, **env, SPEC_VARIABLE: spec, PARENT_VARIABLE: str(os.getpid())},
            start_new_session=True,  # Ctrl-C at the terminal reaches the supervisor, which stops them
        )
        return process, log_file, handle

    def _start_chief(self) -> None:
        assert self.chief is not None
        slot = Slot(index=-1, threads=1)
        process, log_file, handle = self._spawn(
            self.chief.module, "chief", f"chief on {self.chief.bind}:{self.chief.port}",
            {**slot.environment(), **self.chief.environment("chief", chief=True)},
            self.spec.to_json(),
        )  # fmt: skip
        self.chief_process = _Worker(slot, process, log_file, handle)
        log.info("started the chief (pid %d) on %s:%d", process.pid, self.chief.bind, self.chief.port)

    def _stop_chief(self) -> None:
        chief, self.chief_process = self.chief_process, None
        if chief is None:
            return
        if chief.process.poll() is None:
            chief.process.send_signal(signal.SIGINT)
            wait_or_kill([chief.process], stop_grace())
        chief.handle.close()

    def _start(self, slot: Slot) -> None:
        self.started_workers += 1
        env = {**slot.environment(), "AUTOML_WORKER": str(self.started_workers)}
        if self.chief is not None:
            # Unique over every machine joining the chief: the oracle hands a tuner id its ongoing trial.
            tuner = f"tuner-{socket.gethostname()}-{os.getpid()}-{self.started_workers}"
            env.update(self.chief.environment(tuner))
        spec = replace(self.spec, slot={**slot.to_dict(), "worker": self.started_workers})
        process, log_file, handle = self._spawn(
            "automl.workers._worker", f"w{slot.index}",
            f"worker {self.started_workers} on slot {slot.index} ({slot.device})", env, spec.to_json(),
        )  # fmt: skip
        self.workers[slot.index] = _Worker(slot, process, log_file, handle)
        self.started_pids.add(process.pid)
        log.info("started worker %d (pid %d) on slot %d (%s)", self.started_workers, process.pid, slot.index,
                 slot.device)  # fmt: skip

    def _ended(self, worker: _Worker, code: int, finished: int) -> None:
        """React to a worker that exited with ``code``; raises to stop the search."""
        worker.handle.close()
        del self.workers[worker.slot.index]
        raise_for_exit(code, worker.log_file, f"worker {worker.slot.index}")
        if code == EXIT_NOTHING_LEFT:
            log.info("worker on slot %d found nothing left to try; not replaced", worker.slot.index)
            return
        if code != 0:
            died = f"signal {-code}" if code < 0 else f"exit code {code}"
            self.deaths[worker.slot.index] = self.deaths.get(worker.slot.index, 0) + 1
            if self.chief is not None:
                self._abandon_trials_of(worker.process.pid, died)
            else:
                log.warning(
                    "worker on slot %d died (%s); its running trial is failed by its heartbeat and retried",
                    worker.slot.index, died,
                )  # fmt: skip
            if self.deaths[worker.slot.index] >= _MAX_DEATHS_IN_A_ROW:
                raise FatalError(
                    f"the worker of slot {worker.slot.index} ({worker.slot.device}) died "
                    f"{_MAX_DEATHS_IN_A_ROW} times in a row ({died}); see {worker.log_file}"
                )
        if not self._budget_spent(finished):
            self._start(worker.slot)

    def _abandon_trials_of(self, pid: int, died: str) -> None:
        """Record the running trial of dead worker ``pid`` as failed, its worker died (see the module doc)."""
        label = f"{socket.gethostname()}:{pid}"
        for number in fail_trials_of(self.study, label, FailureKind.WORKER_DIED, died):
            log.warning("worker %s died (%s) in trial %d: recorded as failed", label, died, number)

    def _fail_trials_left_running(self) -> None:
        """After every worker ended, fail the trials they left RUNNING, retried where the backend proposes
        from the study: as their worker's death (killed mid-trial and not replaced), or, after the
        supervisor asked them to stop, as interrupted (a stop can land in the backend's own bookkeeping,
        such as Optuna's tell, where no automl code records it)."""
        host = socket.gethostname()
        kind = FailureKind.INTERRUPTED if self.stopping else FailureKind.WORKER_DIED
        reason = "the search was stopped mid-trial" if self.stopping else "it ended mid-trial"
        try:
            for pid in sorted(self.started_pids):
                label = f"{host}:{pid}"
                for number in fail_trials_of(
                    self.study, label, kind, reason, retry=self.chief is None
                ):  # fmt: skip
                    log.warning("trial %d of worker %s was left running: recorded as failed", number, label)
        except Exception as exc:  # the storage may be gone; the search's own outcome must not be hidden
            log.warning("could not check the workers' trials in the storage: %s", exc)

    def _check_chief(self) -> None:
        chief = self.chief_process
        if chief is not None and chief.process.poll() is not None:
            code = chief.process.returncode
            self.chief_process = None
            chief.handle.close()
            raise_for_exit(code, chief.log_file, "the chief")
            raise FatalError(
                f"the search's chief process ended (exit code {code}); see {chief.log_file}. "
                "Finished trials are kept: `--resume` continues"
            )

    def _stop_all(self, *, grace: float | None = None) -> None:
        """Ask every worker to stop at its next safe point; kill those still running after ``grace``
        (default :func:`stop_grace`), or at once on a second Ctrl-C or signal."""
        self.stopping = True
        for worker in self.workers.values():
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGINT)
        try:
            wait_or_kill([w.process for w in self.workers.values()], stop_grace() if grace is None else grace)
        finally:
            for worker in self.workers.values():
                worker.handle.close()
            self.workers.clear()

    def run(self) -> None:
        """Search until the budget is spent.

        Raises:
            FatalError: the study's failure limit, or a slot whose workers keep dying (trials kept).
            UserError: a worker refused the search (its message).
            Unavailable: a worker found the storage or the disk gone (its message), or this process did.
            KeyboardInterrupt: Ctrl-C, after every worker stopped.
        """
        from automl.interrupts import InterruptGuard

        self.progress.start(self.state)
        reachable = True
        try:
            with InterruptGuard():
                if self.chief is not None and self.chief.start:
                    self._start_chief()
                for slot in self.slots:
                    self._start(slot)
                while self.workers:
                    interrupts.check()
                    self._check_chief()
                    trials = self.study.get_trials(deepcopy=False)  # one read per poll
                    finished = self._follow(trials)
                    self._show_workers(trials)
                    for worker in list(self.workers.values()):
                        code = worker.process.poll()
                        if code is not None:
                            self._ended(worker, code, finished)
                    late = stop_grace()
                    if self.deadline is not None and time.time() > self.deadline + late:
                        # Workers stop at the first epoch end past the deadline; one stuck in a long epoch
                        # must not hold the search forever.
                        log.warning("workers still running %.0f s past the deadline: stopping them", late)
                        self._stop_all(grace=5.0)
                    time.sleep(_POLL_SECONDS)
                self._follow(self.study.get_trials(deepcopy=False))
        except BaseException as exc:
            # With the storage gone, each read would wait its grace period again: leave at once.
            reachable = not isinstance(exc, StorageUnavailable)
            self._stop_all()
            if reachable:
                self._follow(self.study.get_trials(deepcopy=False))
            raise
        finally:
            self._stop_chief()
            if reachable:
                self._fail_trials_left_running()
            self.progress.stop(self.state)


def _slot_of(record: TrialRecord) -> int | None:
    """The slot a worker recorded in the trial's device (``"cpu slot 1"``)."""
    device = record.device or ""
    marker = " slot "
    if marker not in device:
        return None
    tail = device.rsplit(marker, 1)[1]
    return int(tail) if tail.isdigit() else None
