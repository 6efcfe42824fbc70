"""Why a trial stopped, what kind of failure ended it, and why a whole search stopped early: one vocabulary
for training, engine and store.

:class:`StopReason` is stored as a trial's ``stopped_by``; :class:`FailureKind` as its ``failure_kind``,
beside the human-readable ``failure`` message. Policy reads the kind, never the message: only kinds that
say something about the config count toward "N failures in a row" (:attr:`FailureKind.counts_toward_streak`);
a dead process, a stale heartbeat, a storage outage or an interruption say nothing about it.

:class:`SearchStop` is why a search stopped before its budget was spent (the stall rule, the failure
streak), recorded once in the study.

Runs written before kinds were stored keep reading: :meth:`FailureKind.infer` reads the kind from the
message's old prefix.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FailureKind", "SearchStop", "StopReason"]


class StopReason(StrEnum):
    """Why a fit or a trial ended (compares equal to its string value)."""

    EARLY_STOPPING = "early_stopping"
    MAX_EPOCHS = "max_epochs"
    #: a caller's per-epoch hook (or a user callback setting ``model.stop_training``) asked to stop
    CALLBACK = "callback"
    PRUNED = "pruned"
    #: the search's time budget ended the trial after it had a score
    BUDGET = "budget"
    FAILURE = "failure"
    #: proposed over a limit of the search (``max_params``, ``max_latency_ms``): not trained, not counted
    OVER_LIMIT = "over_limit"


class SearchStop(StrEnum):
    """Why a whole search stopped before its budget was spent (recorded in its study, see
    :class:`automl.store.SearchStopped`)."""

    #: ``stop_stalled``: no improvement of the best score over N finished trials, or for a while
    STALLED = "stalled"
    #: ``max_consecutive_failures`` trials failed in a row
    FAILURES = "failures"
    #: the sampler kept proposing configs over a limit (``max_params``, ``max_latency_ms``), none within it
    OVER_LIMIT = "over_limit"


class FailureKind(StrEnum):
    """What ended a failed trial. The values of the config's kinds are the prefixes of their messages."""

    #: training raised (a bug, a TensorFlow error inside one config)
    ERROR = "error"
    #: the loss became NaN or infinite
    NOT_A_NUMBER = "nan_loss"
    #: out of memory even after the retry at half the batch size
    OUT_OF_MEMORY = "out_of_memory"
    #: the per-trial time limit (``trial_timeout``)
    TIMEOUT = "timeout"
    #: training ended without a finite validation score
    NO_SCORE = "no_score"
    #: Ctrl-C or a stop request reached the trial's process mid-trial
    INTERRUPTED = "interrupted"
    #: the worker process running the trial died (killed, out of host memory)
    WORKER_DIED = "worker_died"
    #: the trial's heartbeat went silent: Optuna failed it (and retried its config)
    STALE_HEARTBEAT = "stale_heartbeat"
    #: the storage failed under the trial (a lost connection, a database restart)
    STORAGE = "storage"
    #: the search's time budget ran out before the first epoch ended
    BUDGET = "budget"

    @property
    def counts_toward_streak(self) -> bool:
        """Whether the failure speaks about the config, so that a run of them means the space is broken."""
        return self in _CONFIG_KINDS

    @classmethod
    def infer(cls, message: str | None) -> FailureKind:
        """The kind of a failure recorded before kinds were stored, read from its message.

        A failed trial without a message was failed by Optuna's heartbeat check.
        """
        text = (message or "").strip()
        if not text:
            return cls.STALE_HEARTBEAT
        head = text.split(":", 1)[0].strip()
        if head == "worker died":
            return cls.WORKER_DIED
        try:
            return cls(head)
        except ValueError:
            return cls.ERROR


_CONFIG_KINDS = frozenset(
    {
        FailureKind.ERROR,
        FailureKind.NOT_A_NUMBER,
        FailureKind.OUT_OF_MEMORY,
        FailureKind.TIMEOUT,
        FailureKind.NO_SCORE,
    }
)
