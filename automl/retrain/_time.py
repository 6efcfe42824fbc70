"""How long a retrain may take, and which of its models fit in that time.

A search with a time budget can end with trials the budget stopped, each of them minutes or hours of
training; retraining the top configs of such a search used to take several times the search itself (a
10-minute search of the ``cnn`` space on 60,000 images, two trials stopped by the budget: 2,405 s, each
of two ensemble members early-stopped up to the space's 50 epochs). The retrain is now bounded twice:

* **Epochs.** A winner stopped by the search's budget replays the epochs it trained up to its best one,
  as a converged winner does (:mod:`._policy`): the replay costs its trial's training time, times the
  share of rows train + validation add to train (1.25 with the default 20 % validation split).
* **Time.** ``time_limit`` (:class:`~automl.store.RetrainPolicy`) bounds the whole retrain. Every model
  after the top-1 config's first (another seed, another member of an ensemble, a final fit) is trained
  only if its estimated time fits in what is left, and is skipped otherwise, with a warning and a
  ``skipped`` entry in ``metrics.json``; every fit also stops at its next batch once the limit has
  passed, keeping the epochs it trained (at least one). ``"auto"``, the default, is the time budget the
  study's search was given (``timeout``; its share of the total under an experiment's ``per: total``), so
  a search of 10 minutes retrains in at most about 10 more; a search bounded by trials alone has no
  limit (its retrain costs a few of its trials).

An estimate is the trial's own seconds per epoch times the epochs the model will train, scaled by what
the retrain measured: before any model, by the rows it adds (train + validation against train); after
one, by the ratio of that model's seconds per epoch to its trial's.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from automl.store import BudgetEntry, RetrainPolicy, TrialRecord

__all__ = ["RetrainClock", "search_budget", "time_limit_of", "trial_epoch_seconds"]


def search_budget(budget: BudgetEntry, studies: int = 1) -> float | None:
    """Seconds one study's search was given: the budget's ``timeout`` (``per: dataset``, or a search),
    else its share of the total over ``studies``; None for a search bounded by trials alone."""
    if budget.timeout is None:
        return None
    return budget.timeout if budget.per != "total" else budget.timeout / max(1, studies)


def time_limit_of(policy: RetrainPolicy, searched: float | None) -> float | None:
    """The retrain's limit in seconds: the policy's own, or with ``"auto"`` the search's time budget
    ``searched`` (None: no limit)."""
    if policy.time_limit == "auto":
        return searched
    return None if policy.time_limit is None else float(policy.time_limit)


def trial_epoch_seconds(record: TrialRecord) -> float | None:
    """Seconds the trial took per epoch it trained itself (a resumed trial's earlier epochs are not in its
    ``fit_seconds``); None where it recorded no time."""
    trained = record.epochs_run - (record.resumed_at or 0)
    if not record.fit_seconds or trained <= 0:
        return None
    return float(record.fit_seconds) / trained


class RetrainClock:
    """The retrain's clock: what is left of ``limit`` seconds (None: no limit), and what a model costs.

    ``rows`` is the factor a retrain fit's rows add to its trial's (train + validation against train), the
    scale of the estimates until a model has been measured.
    """

    def __init__(self, limit: float | None, *, rows: float = 1.0) -> None:
        self.limit = limit
        self.started = time.perf_counter()
        self.scale = rows
        self.per_epoch: float | None = None  # the last model's seconds per epoch, for trials without times

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def left(self) -> float | None:
        """Seconds left (never below zero), None without a limit."""
        return None if self.limit is None else max(0.0, self.limit - self.elapsed)

    def estimate(self, record: TrialRecord, epochs: int) -> float | None:
        """Seconds a model of ``record``'s config should take for ``epochs`` epochs (None: unknown)."""
        per_epoch = trial_epoch_seconds(record)
        if per_epoch is not None:
            return per_epoch * self.scale * epochs
        return None if self.per_epoch is None else self.per_epoch * epochs

    def fits(self, estimate: float | None) -> bool:
        """Whether a model estimated at ``estimate`` seconds fits in what is left (an unknown cost fits
        while time is left)."""
        left = self.left()
        if left is None:
            return True
        return left > 0 if estimate is None else estimate <= left

    def measured(self, record: TrialRecord, seconds: float, epochs: int) -> None:
        """A model of ``record``'s config took ``seconds`` for ``epochs`` epochs: the scale of later
        estimates."""
        if epochs <= 0 or seconds <= 0:
            return
        self.per_epoch = seconds / epochs
        per_epoch = trial_epoch_seconds(record)
        if per_epoch is not None:
            self.scale = self.per_epoch / per_epoch
