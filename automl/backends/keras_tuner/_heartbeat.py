"""A KerasTuner trial's heartbeat in the store, so a trial whose machine vanished is seen as abandoned.

Optuna beats for the trials its own loop runs (``study.optimize``); a KerasTuner worker creates its trials
itself (``session.reserve_trial``), so it beats for them here, as Optuna's ``HeartbeatThread`` does: the
storage's ``record_heartbeat`` once per heartbeat interval, on a daemon thread, from the moment the trial
is reserved until it is finished. The chief (:mod:`._chief`) fails a trial whose heartbeat is older than
the storage's grace period and ends it in its oracle.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

__all__ = ["TrialHeartbeat"]

log = logging.getLogger("automl.keras_tuner")


class TrialHeartbeat:
    """Beats for trial ``trial_id`` of ``storage`` between :meth:`start` and :meth:`stop` (or as a
    context manager). Does nothing when the storage has heartbeats off.

    A beat that fails (the storage briefly unreachable) is logged and the next one tries again: only a
    silence longer than the grace period fails the trial.
    """

    def __init__(self, storage: Any, trial_id: int) -> None:
        self.storage = storage
        self.trial_id = trial_id
        interval = storage.get_heartbeat_interval() if hasattr(storage, "record_heartbeat") else None
        #: seconds between beats; None when the storage keeps no heartbeats
        self.interval: int | None = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval is None or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._beat, name=f"automl-heartbeat-{self.trial_id}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop beating; returns once the last beat is written (none comes after)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        assert self.interval is not None
        failing = False
        while True:
            try:
                self.storage.record_heartbeat(self.trial_id)
                failing = False
            except Exception as exc:
                if not failing:
                    log.warning("could not record the heartbeat of trial id %d: %s", self.trial_id, exc)
                failing = True
            if self._stopped.wait(self.interval):
                return

    def __enter__(self) -> TrialHeartbeat:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
