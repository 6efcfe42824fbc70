"""A search leaves the caller's logging as it found it: Optuna's verbosity and the loggers' levels."""

from __future__ import annotations

import logging

import optuna
import pytest
from stub_search import stub_search

from automl.store import RunDir
from automl.testing import StubTrainer


@pytest.fixture
def caller_logging():
    before = optuna.logging.get_verbosity()
    levels = {name: logging.getLogger(name).level for name in ("automl", "optuna")}
    yield
    optuna.logging.set_verbosity(before)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("verbosity", [optuna.logging.DEBUG, optuna.logging.INFO, optuna.logging.CRITICAL])
def test_optuna_verbosity_is_restored_after_a_search(url, iris, caller_logging, verbosity):
    optuna.logging.set_verbosity(verbosity)
    stub_search(url, iris, StubTrainer(), trials=2)
    assert optuna.logging.get_verbosity() == verbosity
    stub_search(url, iris, StubTrainer(), trials=3, resume=True)
    assert optuna.logging.get_verbosity() == verbosity


def test_the_run_log_restores_logger_levels(tmp_path, caller_logging):
    logging.getLogger("automl").setLevel(logging.ERROR)
    logging.getLogger("optuna").setLevel(logging.NOTSET)
    run = RunDir(tmp_path)
    handler = run.attach_log()
    assert logging.getLogger("automl").level == logging.INFO
    logging.getLogger("automl.session").info("trial 0 complete")
    RunDir.detach_log(handler)
    assert logging.getLogger("automl").level == logging.ERROR
    assert logging.getLogger("optuna").level == logging.NOTSET
    assert handler not in logging.getLogger("automl").handlers
    assert "trial 0 complete" in (tmp_path / "automl.log").read_text()
