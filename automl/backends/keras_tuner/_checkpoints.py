"""Hyperband checkpoints: which trials' weights KerasTuner's Hyperband can still promote; delete the rest.

Hyperband trains a bracket's first round briefly, then continues the best of each round for more epochs
from their saved weights. A checkpoint matters only while its trial can still be picked:

* the oracle fills round ``r + 1`` of a bracket with the best *completed, not yet picked* trials of round
  ``r``, best first, one per free place. A candidate ranked below the number of free places can never be
  picked: later candidates only push it further down, and each pick takes one from above it and one free
  place with it. So the top ``free places`` candidates keep their weights, the others lose them at once;
* a picked trial whose continuation has not ended (it was interrupted and the resumed search retries it)
  keeps its weights for the retry; once the continuation ends, the weights are obsolete. Likewise a trial
  that has not ended itself may still become a candidate;
* a trial in the last round of its bracket, a failed trial, or any trial of a complete bracket is never
  picked.

The oracle's bracket bookkeeping has no public accessor: :func:`promotable` reads ``HyperbandOracle``'s
``_brackets`` and ``_get_size`` (keras-tuner 1.4), the same state its ``populate_space`` decides with.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from automl._diskspace import writing

__all__ = ["CHECKPOINT", "checkpoint_path", "project_bytes", "promotable", "prune", "save_checkpoint"]

#: file name of a trial's weights inside KerasTuner's ``trial_<id>`` folder (Keras needs ``.weights.h5``).
CHECKPOINT = "checkpoint.weights.h5"
_TMP = "checkpoint.tmp.weights.h5"


def checkpoint_path(project_dir: Path, trial_id: str) -> Path:
    return Path(project_dir) / f"trial_{trial_id}" / CHECKPOINT


def promotable(oracle: Any) -> set[str]:
    """IDs of the trials whose weights the Hyperband ``oracle`` may still load (see module doc)."""
    keep: set[str] = set()
    maximize = oracle.objective.direction == "max"
    ended = set(oracle.end_order)
    for bracket in oracle._brackets:
        number, rounds = bracket["bracket_num"], bracket["rounds"]
        for r in range(len(rounds) - 1):
            picked = rounds[r + 1]
            keep.update(info["past_id"] for info in picked if info["id"] not in ended)
            free = oracle._get_size(number, r + 1) - len(picked)
            if free <= 0:
                continue
            taken = {info["past_id"] for info in picked}
            # A trial of this round that has not ended (interrupted; the resumed search retries or replays
            # it) may still become a candidate.
            keep.update(info["id"] for info in rounds[r] if info["id"] not in ended | taken)
            candidates = [
                oracle.trials[info["id"]]
                for info in rounds[r]
                if info["id"] not in taken and info["id"] in oracle.trials
            ]
            candidates = [t for t in candidates if t.status == "COMPLETED" and t.score is not None]
            # Same order as the oracle's pick (a stable sort of the same list), so ties agree.
            candidates.sort(key=lambda t: t.score, reverse=maximize)
            keep.update(t.trial_id for t in candidates[:free])
    return keep


def prune(project_dir: Path, keep: set[str], running: set[str] | frozenset[str] = frozenset()) -> int:
    """Delete every checkpoint under ``project_dir`` whose trial is not in ``keep``, and any half-written
    one (an interrupted save); returns the bytes freed. The folders of ``running`` trials (a worker
    process may be writing there now) are left alone."""
    freed = 0
    for trial_dir in Path(project_dir).glob("trial_*"):
        trial_id = trial_dir.name[len("trial_") :]
        if trial_id in running:
            continue
        for name in (_TMP, CHECKPOINT):
            path = trial_dir / name
            if path.exists() and (name == _TMP or trial_id not in keep):
                freed += path.stat().st_size
                path.unlink()
    return freed


def save_checkpoint(model: Any, project_dir: Path, trial_id: str) -> Path:
    """Write ``model``'s weights as ``trial_id``'s checkpoint, whole or not at all (Ctrl-C mid-write
    leaves only a temporary file, which :func:`prune` removes)."""
    final = checkpoint_path(project_dir, trial_id)
    tmp = final.with_name(_TMP)
    with writing(project_dir):  # a full disk stops the search (DiskFull), not just this trial
        final.parent.mkdir(parents=True, exist_ok=True)
        model.save_weights(str(tmp))
        os.replace(tmp, final)
    return final


def project_bytes(project_dir: Path) -> int:
    """Bytes of every file under ``project_dir`` (reported in the log after each prune)."""
    return sum(p.stat().st_size for p in Path(project_dir).rglob("*") if p.is_file())
