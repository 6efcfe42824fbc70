"""Retraining a run from its directory: the datasets reloaded exactly as searched, each one's best study."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from automl.exceptions import UserError
from automl.retrain._pick import check_pick, quiet_for
from automl.retrain._policy import policy_of, retrain_study
from automl.retrain._report import DatasetRetrain
from automl.retrain._rescore import check_rescore
from automl.retrain._select import check_selection
from automl.retrain._time import search_budget
from automl.store import RetrainPolicy, StudyInfo, TrialRecord, best_first, reload_dataset, study_space

if TYPE_CHECKING:
    from automl.datasets import Dataset

__all__ = ["retrain_run"]


def retrain_run(
    run_dir: str | Path,
    *,
    top_k: int | None = None,
    seeds: int = 1,
    epochs: str | int = "best",
    dataset: str | None = None,
    data: Dataset | None = None,
    final_fit: bool = False,
    ensemble: bool | str = "auto",
    bag: bool | str = "auto",
    time_limit: float | str | None = "auto",
    pick: str = "best",
    rescore: int = 0,
    ensemble_from: int = 0,
    policy: RetrainPolicy | None = None,
) -> list[DatasetRetrain]:
    """Retrain the best model of every dataset of a run (or of ``dataset``) into ``<run>/models/<dataset>/``.

    When several spaces searched a dataset, the study with the best validation score is retrained.
    The retrain values make a :class:`~automl.store.RetrainPolicy` (checked before the run is opened),
    which may be given whole as ``policy`` instead. Each dataset's retrain has its own ``time_limit``;
    ``"auto"`` is the time budget its search was given (the manifest's ``timeout``, or its share of an
    experiment's total; none for a search bounded by trials alone).

    ``data`` supplies the dataset in memory (the Python API), instead of reloading it from the run.
    A ``pick`` the chosen study cannot answer, or a ``rescore`` or ``ensemble_from`` of a cross-validated
    one, is refused before any dataset is loaded; a pick of the fastest config first measures the study's
    fronts again in this process (:func:`automl.retrain.quiet_for`).
    """
    from automl.keras_backend import resumed_keras_backend
    from automl.store import load_records, load_study_info, open_run

    policy = policy_of(
        policy, top_k=top_k, seeds=seeds, epochs=epochs, final_fit=final_fit, ensemble=ensemble, bag=bag,
        time_limit=time_limit, pick=pick, rescore=rescore, ensemble_from=ensemble_from,
    )  # fmt: skip
    run, manifest, storage = open_run(run_dir)
    resumed_keras_backend(manifest.keras_backend, None)  # the run's models train and save on its backend
    entries = {d.name: d for d in manifest.datasets}
    if dataset is not None and dataset not in entries:
        raise UserError(f"the run has no dataset {dataset!r}; it searched: {', '.join(entries) or 'none'}")
    seed = manifest.seed
    # Several spaces may have searched one dataset: the study with the best validation score wins it,
    # so models/<dataset>/ holds the dataset's best model (one model per dataset).
    chosen: dict[str, tuple[str, StudyInfo, list[TrialRecord], float]] = {}
    for name in manifest.studies:
        info = load_study_info(storage, name)
        if dataset is not None and info.dataset != dataset:
            continue
        records = load_records(storage, name)
        ranked = best_first(records, info.direction)
        top = ranked[0].score if ranked else None
        # Compared on one scale whatever the direction: higher is better.
        best = -math.inf if top is None else (top if info.direction == "maximize" else -top)
        if info.dataset not in chosen or best > chosen[info.dataset][3]:
            chosen[info.dataset] = (name, info, records, best)
    for _, info, _, _ in chosen.values():
        check_pick(info, policy.pick)  # before any dataset is loaded
        check_rescore(info, policy.rescore)
        check_selection(info, policy.ensemble_from)
    reports = []
    for name_of_dataset, (name, info, records, _) in chosen.items():
        loaded = (
            data
            if data is not None and data.name == name_of_dataset
            else reload_dataset(entries[name_of_dataset], seed)
        )
        space = study_space(manifest, info)
        quiet = quiet_for(policy, storage, name, loaded, space)
        report, _ = retrain_study(
            loaded,
            records,
            info,
            run.models_dir / name_of_dataset,
            base_seed=seed,
            policy=policy,
            search_budget=search_budget(manifest.budget, len(manifest.studies)),
            quiet=quiet,
        )
        reports.append(report)
    if not reports:
        raise UserError(f"{run_dir}: nothing to retrain (no study yet); run a search first")
    return reports
