"""The contract every backend passes: subclass :class:`BackendContract` in a test module.

    from automl.testing import BackendContract

    class TestMyBackend(BackendContract):
        backend = "my_backend"
        algorithm = "random"          # an algorithm whose proposals are reproducible for a seed

Each test runs real (tiny) searches through :class:`automl.AutoMLSearch`, so a backend is judged by
what users see: valid configs, budgets kept, failures recorded, resume, the leaderboard's columns and
determinism. Needs pytest (``pip install automl[dev]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from automl.exceptions import FatalError
from automl.report import BASE_COLUMNS
from automl.search import AutoMLSearch
from automl.store import TrialState
from automl.testing._fixtures import diverging_dataset, tiny_dataset, tiny_space

__all__ = ["LEADERBOARD_COLUMNS", "BackendContract"]

#: the leaderboard columns every backend's runs share (parameter columns follow them).
LEADERBOARD_COLUMNS = [*BASE_COLUMNS, "failure"]


class BackendContract:
    """Tests every backend must pass; subclasses set :attr:`backend` and :attr:`algorithm`."""

    backend: ClassVar[str]
    algorithm: ClassVar[str | None] = None
    #: whether the same seed must give the same configs (True unless the algorithm is not reproducible).
    deterministic: ClassVar[bool] = True

    def search(self, run_dir: Path, **kwargs: Any) -> AutoMLSearch:
        options: dict[str, Any] = dict(
            space=tiny_space(),
            backend=self.backend,
            algorithm=self.algorithm,
            n_trials=3,
            run_dir=run_dir,
            seed=0,
        )
        options.update(kwargs)
        return AutoMLSearch(**options)

    def test_samples_only_valid_configs(self, tmp_path: Path) -> None:
        space = tiny_space()
        result = self.search(tmp_path / "run", n_trials=4).fit(tiny_dataset())
        assert result.trials_, "no trial ran"
        for record in result.trials_:
            # Every active parameter present and in range, no inactive one: validate_config checks both.
            assert space.validate_config(record.config) == record.config
            for name, value in record.params.items():
                assert record.config[name] == value, f"param {name} differs from the trained config"
            assert not set(record.params) & set(space.fixed), "fixed values are not searched"

    def test_respects_the_trial_budget(self, tmp_path: Path) -> None:
        result = self.search(tmp_path / "run", n_trials=3).fit(tiny_dataset())
        assert sum(r.state.finished for r in result.trials_) == 3

    def test_respects_the_wall_clock_budget(self, tmp_path: Path) -> None:
        import time

        started = time.monotonic()
        result = self.search(tmp_path / "run", n_trials=None, timeout=5).fit(tiny_dataset())
        elapsed = time.monotonic() - started
        finished = [r for r in result.trials_ if r.state.finished]
        assert finished, "no trial finished within 5 s"
        # Only time stops this search: it ran until the deadline, or until less time was left than its
        # quickest epoch (a trial started then could not finish one), and a trial in flight at the
        # deadline ends at its next epoch.
        quickest = min(r.fit_seconds / r.epochs_run for r in finished if r.fit_seconds and r.epochs_run)
        assert 5 - quickest <= elapsed < 5 + 15
        first = min(r.started for r in result.trials_ if r.started is not None)
        for record in result.trials_:
            assert record.started is not None and (record.started - first).total_seconds() < 5
            if record.stopped_by == "budget":
                assert record.state is TrialState.COMPLETE and record.score is not None
            if record.state is TrialState.FAIL:
                assert record.failure and record.failure.startswith("budget")

    def test_records_failures_and_stops_after_too_many(self, tmp_path: Path) -> None:
        search = self.search(tmp_path / "run", n_trials=4, max_consecutive_failures=2)
        with pytest.raises(FatalError):
            search.fit(diverging_dataset())
        failed = [r for r in search.trials_ if r.state is TrialState.FAIL]
        assert len(failed) >= 2
        assert all(r.failure and r.failure.startswith("nan_loss") for r in failed)

    def test_resumes_up_to_the_budget(self, tmp_path: Path) -> None:
        run = tmp_path / "run"
        self.search(run, n_trials=2).fit(tiny_dataset())
        resumed = self.search(run, n_trials=4, resume=True).fit(tiny_dataset())
        assert sum(r.state.finished for r in resumed.trials_) == 4
        numbers = [r.number for r in resumed.trials_]
        assert len(numbers) == len(set(numbers))

    def test_leaderboard_has_the_shared_columns(self, tmp_path: Path) -> None:
        result = self.search(tmp_path / "run", n_trials=2).fit(tiny_dataset())
        columns = list(result.leaderboard_.columns)
        assert columns[: len(LEADERBOARD_COLUMNS)] == LEADERBOARD_COLUMNS
        assert {"baseline:majority", "baseline:linear"} <= set(result.leaderboard_["trial"])

    def test_same_seed_same_configs(self, tmp_path: Path) -> None:
        if not self.deterministic:
            pytest.skip(f"{self.backend}/{self.algorithm} is not reproducible for a seed")
        first = self.search(tmp_path / "a", n_trials=3).fit(tiny_dataset())
        second = self.search(tmp_path / "b", n_trials=3).fit(tiny_dataset())
        assert [r.config for r in first.trials_] == [r.config for r in second.trials_]
