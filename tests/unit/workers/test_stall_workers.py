"""``stop_stalled`` over two worker processes: one study-wide decision, and no worker replaced after it.

Real worker processes under the real supervisor with a stand-in trainer (tenth-of-a-second trials whose
score stops improving after trial 2): the search stops once the study's finished trials, in the order they
finished, hold N in a row that brought nothing; the other worker's trial in flight may still finish; the
supervisor does not start replacements that would stop at once; the stop is recorded and shown.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import optuna
import pytest
from stub_study import stub_study

from automl.engine._stall import FinishedTrial, stalled
from automl.store import BudgetEntry, load_stop
from automl.workers import Slot, run_study

HERE = Path(__file__).resolve().parent
STALL = 4


@pytest.mark.parametrize("backend_name", ["optuna", "keras_tuner"])
def test_two_workers_stop_together_once_the_study_stalls(tmp_path, monkeypatch, cli, backend_name):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    record = BudgetEntry(trials=100, timeout=120, stall_trials=STALL)
    prepared, launch, backend = stub_study(tmp_path, backend_name, record, epochs=2)
    started = time.monotonic()
    run_study(
        launch, backend, prepared=prepared, slots=[Slot(index=i, threads=1) for i in range(2)], seed=0,
        started=time.time(), heartbeat_interval=1, trainer="stub_trainers:plateau_after_two",
    )  # fmt: skip
    assert time.monotonic() - started < 60

    study = optuna.load_study(study_name=launch.name, storage=prepared.url)
    done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert {t.user_attrs["device"] for t in done} == {"cpu slot 0", "cpu slot 1"}  # both worked
    ordered = [
        FinishedTrial(t.number, t.datetime_complete, t.value)
        for t in sorted(done, key=lambda t: (t.datetime_complete, t.number))
    ]
    since = min(t.datetime_start for t in done)
    verdicts = [
        stalled(ordered[:k], maximize=True, since=since, now=ordered[k - 1].finished, stall_trials=STALL)
        for k in range(1, len(ordered) + 1)
    ]
    first = next(k for k, verdict in enumerate(verdicts, start=1) if verdict is not None)
    # Stopped at the first finished trial that completed N in a row; the other worker's trial in flight
    # then may finish too, but no trial started after the stop.
    assert first <= len(ordered) <= first + 1, [(t.number, t.score) for t in ordered]
    assert 2 + STALL <= first <= 3 + 2 * STALL
    stop = load_stop(prepared.url, launch.name)
    # The best is the first trial to finish with 0.6: trial 2, or trial 3 where the other worker's trial 3
    # (scored alike) finished first on a loaded machine.
    best = next(t.number for t in ordered if t.score == pytest.approx(0.6))
    assert stop is not None and (stop.trials, stop.best, stop.best_trial) == (STALL, 0.6, best)
    # No replacement worker was started to find the stop and end at once, again and again.
    banners = sum(p.read_text().count("--- worker") for p in (prepared.path / "workers").glob("w*.log"))
    assert banners == 2

    code, out, err = cli(["leaderboard", str(prepared.path)])
    assert code == 0, err
    assert f"stopped: no improvement over 4 trials (best 0.6000 at trial {best})" in " ".join(out.split())
