import pytest

from automl.datasets import load_dataset


@pytest.fixture(scope="session")
def wine():
    """178 rows, 13 features, 3 classes: a real dataset small enough for many 2-epoch trials."""
    return load_dataset("wine", seed=0)


@pytest.fixture
def space_file(tmp_path):
    """Write a small MLP space with the given parameter lines; returns its path."""

    def write(body: str, name: str = "small") -> str:
        path = tmp_path / f"{name}.yaml"
        path.write_text(f"version: 1\nname: {name}\nfamily: mlp\nparameters:\n{body}")
        return str(path)

    return write


@pytest.fixture
def timed():
    """Call ``fit()`` and time it: returns (result, wall-clock datetime at the start, seconds it took)."""
    import datetime
    import time

    def run(fit):
        started_at = datetime.datetime.now()
        started = time.perf_counter()
        result = fit()
        return result, started_at, time.perf_counter() - started

    return run


@pytest.fixture
def check_time_budget():
    """Assert that a search without a trial budget ran to its wall-clock budget, and no further.

    The budget's clock starts when ``fit()`` is called (its set-up is spent from the budget too), so the
    deadline is ``fit start + timeout``. Every trial must start before that deadline; only the trial in
    flight at the deadline may be cut by it (COMPLETE with ``stopped_by="budget"`` if it had scored an
    epoch, FAIL with a ``budget`` failure if not), and it must have ended after the deadline; the fit
    returns within one trial's length of it.
    """
    import datetime

    from automl.store import TrialState

    slack = datetime.timedelta(seconds=0.5)  # datetime.now() against time.monotonic(), and call overhead

    def check(result, *, timeout, started_at, elapsed, epochs, teardown=5.0):
        trials = sorted(result.trials_, key=lambda t: t.number)
        assert trials, "no trial ran"
        assert all(t.started is not None and t.finished is not None for t in trials)
        first = min(t.started for t in trials)
        assert started_at <= first
        deadline = started_at + datetime.timedelta(seconds=timeout)
        late = [(t.number, t.started) for t in trials if t.started > deadline + slack]
        assert not late, f"trials started after the deadline {deadline}: {late}"
        # Nothing but the clock stops a search without a trial budget: it runs until the deadline, or until
        # less time is left than its quickest epoch (a trial started then could not finish one) ...
        quickest = min(t.fit_seconds / t.epochs_run for t in trials if t.fit_seconds and t.epochs_run)
        assert elapsed >= timeout - quickest - slack.total_seconds()
        # ... and the trial in flight ends at its next epoch: at most one trial's length past the deadline.
        longest = max(t.fit_seconds or 0.0 for t in trials)
        assert elapsed <= timeout + longest + teardown, (elapsed, longest)

        assert any(t.state is TrialState.COMPLETE and t.score is not None for t in trials)
        for t in trials:
            cut = t.stopped_by == "budget" or (t.failure or "").startswith("budget")
            if cut:
                assert t is trials[-1], f"trial {t.number} was cut by the budget but is not the last"
                assert t.finished >= deadline - slack, "cut by the budget before the deadline"
            if t.state is TrialState.COMPLETE:
                assert t.stopped_by in ("early_stopping", "max_epochs", "budget"), t.stopped_by
                assert t.score is not None and 1 <= t.epochs_run <= epochs
                assert t.failure is None
                if t.stopped_by == "budget":
                    assert t.epochs_run < epochs
            elif t.state is TrialState.PRUNED:
                assert t.stopped_by == "pruned" and 1 <= t.epochs_run <= epochs
            else:
                assert t.state is TrialState.FAIL and cut, (t.number, t.state, t.failure)
        return trials

    return check


@pytest.fixture
def check_cut_at_deadline():
    """Assert that ``trial`` ran into the deadline: kept as COMPLETE with its best epoch's score."""
    from automl.store import TrialState

    def check(trial, *, timeout, epochs):
        assert trial.state is TrialState.COMPLETE and trial.stopped_by == "budget" and trial.failure is None
        assert 1 <= trial.epochs_run < epochs and len(trial.history["val_accuracy"]) == trial.epochs_run
        assert trial.score == max(trial.history["val_accuracy"])
        # Cut at the first epoch end past the deadline, which falls at most `timeout` after the trial started.
        one_epoch = trial.fit_seconds / trial.epochs_run
        assert (trial.finished - trial.started).total_seconds() <= timeout + 2 * one_epoch + 2.0

    return check
