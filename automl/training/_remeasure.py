"""The front measured again, in one quiet process, after the search.

A trial's latency is timed in its own process right after training, while other workers may be training
beside it (:mod:`._footprint`). Once they are gone, :func:`remeasure_front` builds the configs of the
study's fronts again (untrained: the weights' values change neither number), times them one after another
in this process, and records the numbers as the study's :class:`~automl.store.QuietFootprint`, which the
leaderboard's front, the report and ``pick='fastest-within …'`` use. The search calls it when it ends, the
retrain before a pick of the fastest config.

Keras is imported on first use (by :func:`footprint_of`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from automl.exceptions import UserError
from automl.store import (
    QuietFootprint,
    TrialState,
    load_records,
    load_study_info,
    record_quiet,
    remeasured_configs,
)
from automl.training._footprint import FOOTPRINT_SECONDS, footprint_of

if TYPE_CHECKING:
    import optuna

    from automl.datasets import Dataset
    from automl.space import SearchSpace

__all__ = ["remeasure_front"]

log = logging.getLogger("automl.training")


def remeasure_front(
    storage: optuna.storages.BaseStorage | str,
    study_name: str,
    dataset: Dataset,
    space: SearchSpace | None = None,
    *,
    where: str = "after the search",
    seconds: float = FOOTPRINT_SECONDS,
) -> QuietFootprint:
    """Measure the fronts' configs of study ``study_name`` again in this process, record and return them.

    The configs are those on the front of any measure the trials hold (weights, saved size, latency:
    :func:`automl.store.remeasured_configs`), each built from its config on ``dataset`` (the data the
    study searched) with ``space``'s model family (None: inferred from the config) and timed as
    :func:`~automl.training.footprint_of` times it. ``where`` names this process in the record
    (``"after the search"``, ``"the retrain"``). A config that fails to build or time is left out with one
    warning line. The record replaces the study's earlier one; its latencies compare with each other (one
    process, one after another), not with the trials' own.

    Call it with the search's workers gone, in a process set up as they were (the Keras backend, device and
    precision: :func:`automl._keras.configure_process`).

    Raises:
        UserError: no such study, or ``dataset`` is not the data it searched (its fingerprint differs).
    """
    info = load_study_info(storage, study_name)
    if info.dataset_fingerprint and dataset.fingerprint != info.dataset_fingerprint:
        raise UserError(
            f"dataset {dataset.name!r} is not the data study {study_name!r} searched (fingerprint changed); "
            "measure its configs on the same dataset, target and seed"
        )
    records = load_records(storage, study_name)
    family = None if space is None else space.family
    measured: dict[int, dict[str, float]] = {}
    for record in remeasured_configs(records, info):
        try:
            footprint = footprint_of(record.config, dataset, family=family, seconds=seconds)
        except Exception as exc:  # one config that cannot be measured must not cost the others
            log.warning("trial %d: not measured again (%s: %s)", record.number, type(exc).__name__, exc)
            continue
        measured[record.number] = {
            "size_bytes": footprint.size_bytes,
            "latency_ms": footprint.latency_ms,
            "latency_ms_256": footprint.latency_ms_256,
        }
    complete = [r.number for r in records if r.state is TrialState.COMPLETE]
    quiet = QuietFootprint(
        trials=measured,
        last_trial=max(complete, default=-1),
        at=datetime.now().isoformat(sep=" ", timespec="seconds"),
        where=where,
    )
    record_quiet(storage, study_name, quiet)
    return quiet
