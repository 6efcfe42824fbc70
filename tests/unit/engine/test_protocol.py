"""The engine contract: the session offers exactly what the protocol declares, and a backend written from
the protocol's docstring alone (propose → reserve → train → record → should-stop) searches correctly."""

from __future__ import annotations

import random
import typing

from stub_search import stub_space

from automl.engine import SearchSession, Session
from automl.store import TrialState, trial_seed
from automl.testing import StubTrainer


def _protocol_members() -> set[str]:
    return {
        name for name in vars(Session) if not name.startswith("_") and name not in typing.Protocol.__dict__
    }


def test_search_session_implements_every_member_of_the_protocol():
    members = _protocol_members()
    assert {"study", "space", "run_trial", "reserve_trial", "finish_trial", "should_stop"} <= members
    missing = [
        name
        for name in members
        if not hasattr(SearchSession, name) and name not in ("space", "study", "info", "run_dir")
    ]
    assert missing == []


class CoinBackend:
    """A third backend in a few lines, typed against the protocol only: it proposes dropout at random."""

    name = "coin"
    algorithm = "random"
    pruner = "none"

    def search(self, session: Session) -> None:
        rng = random.Random(0)
        from optuna.distributions import FloatDistribution

        while not session.should_stop():
            params = {"dropout": rng.uniform(0.0, 0.9), "batch_size": 16}
            config = session.space.validate_config({**params, "epochs": 3})
            reserved = session.reserve_trial(
                {"dropout": params["dropout"]}, {"dropout": FloatDistribution(0.0, 0.9)}
            )
            outcome = session.run_trial(config, number=reserved.number, params={"dropout": params["dropout"]})
            session.finish_trial(reserved, outcome.record)
            session.trial_finished(outcome.record)


def test_a_backend_written_from_the_protocol_searches_and_records(url, iris):
    from automl.engine import Budget, open_study, run_session
    from automl.store import load_records, open_storage

    storage = open_storage(url)
    backend = CoinBackend()
    space = stub_space()
    study, info = open_study(
        storage, "coin", space=space, dataset=iris, metric="accuracy", direction="maximize",
        backend=backend, seed=3, resume=False, local=True,
    )  # fmt: skip
    trainer = StubTrainer()
    session = run_session(
        backend, study, info, space, iris, Budget(trials=4), seed=3, trainer=trainer, device="stub"
    )
    records = load_records(storage, "coin")
    assert [r.number for r in records] == [0, 1, 2, 3]
    assert all(r.state is TrialState.COMPLETE for r in records)
    assert [r.seed for r in records] == [trial_seed(3, n) for n in range(4)]
    assert [r.epochs_run for r in records] == [3] * 4
    # Per-epoch validation scores are the trial's intermediate values, as Optuna's own trials have.
    frozen = study.get_trials()
    assert all(sorted(t.intermediate_values) == [1, 2, 3] for t in frozen)
    assert session.state.finished == 4 and session.state.best == max(r.score for r in records)
