"""Portfolio files and the leave-one-dataset-out greedy pick: pure Python, no TensorFlow."""

import json
import logging

import pytest

from automl.exceptions import UserError
from automl.space import load_space
from automl.warmstart import Portfolio, load_portfolio, portfolios_dir, shipped_portfolios
from automl.warmstart._portfolio import greedy


def _params(tiny, i):
    """A valid config of the tiny space, different for each i."""
    return {
        "depth": 1, "units_0": 8 + i, "activation": "relu", "batch_norm": False, "dropout": 0.0,
        "l2": 1e-5, "optimizer": "adam", "learning_rate": 0.01, "lr_schedule": "constant", "batch_size": 32,
    }  # fmt: skip


def _portfolio(tiny, scores, sources, names=("a", "b", "c"), directions=None):
    directions = directions or ["maximize"] * len(names)
    return {
        "format": 1,
        "space": tiny.name,
        "space_hash": tiny.content_hash,
        "built": {"trials": 2, "seed": 0},
        "datasets": [
            {"name": n, "task": "binary", "metric": "accuracy", "direction": d, "fingerprint": f"fp-{n}"}
            for n, d in zip(names, directions, strict=True)
        ],
        "candidates": [{"source": s, "params": _params(tiny, i)} for i, s in enumerate(sources)],
        "scores": scores,
    }


@pytest.fixture
def tiny():
    return load_space("tiny")


def test_greedy_first_takes_the_best_on_average_then_covers_what_it_misses():
    regret = {0: [0.0, 1.0, 0.0], 1: [0.5, 0.5, 0.5], 2: [1.0, 0.0, 1.0]}
    # 0 alone: mean 1/3, 1 alone: 1/2; then 2 covers dataset 1, which 0 misses.
    assert greedy(regret, 2) == [0, 2]
    assert greedy(regret, 10) == [0, 2, 1]
    assert greedy(regret, 0) == []


def test_select_picks_in_greedy_order(tiny):
    scores = [[0.9, 0.5, 0.9], [0.6, 0.6, 0.6], [0.5, 0.9, 0.5]]
    portfolio = Portfolio.from_dict(_portfolio(tiny, scores, ["a", "b", "c"]), where="test")
    picked = portfolio.select(2, tiny)
    assert picked == [_params(tiny, 0), _params(tiny, 2)]


def test_the_searched_dataset_is_left_out_with_the_candidates_found_on_it(tiny):
    # Candidate 0, found on "a", is best everywhere; searching "a" must neither use it nor a's column.
    scores = [[1.0, 1.0, 1.0], [0.9, 0.2, 0.9], [0.1, 0.9, 0.2]]
    portfolio = Portfolio.from_dict(_portfolio(tiny, scores, ["a", "b", "c"]), where="test")
    assert portfolio.select(1, tiny)[0] == _params(tiny, 0)
    on_a = portfolio.select(3, tiny, dataset="a")
    assert _params(tiny, 0) not in on_a and len(on_a) == 2
    # Without a's column, candidate 1 (b, c: 0.2, 0.9) and 2 (0.9, 0.2) tie on their own; 1 comes first.
    assert on_a == [_params(tiny, 1), _params(tiny, 2)]
    # The same dataset under another name is recognised by its fingerprint.
    assert portfolio.select(3, tiny, dataset="renamed", fingerprint="fp-a") == on_a


def test_regret_follows_the_direction_and_a_failed_fit_counts_as_worst(tiny):
    # An rmse column: lower is better. Candidate 1 failed there (None).
    scores = [[3.0], [None], [2.0]]
    data = _portfolio(tiny, scores, ["x", "y", "z"], names=("a",), directions=["minimize"])
    portfolio = Portfolio.from_dict(data, where="test")
    assert portfolio.select(3, tiny) == [_params(tiny, 2), _params(tiny, 0), _params(tiny, 1)]


def test_configs_that_do_not_fit_the_space_are_skipped(tiny):
    data = _portfolio(tiny, [[0.9], [0.5]], ["x", "y"], names=("a",))
    data["candidates"][0]["params"]["units_0"] = 10_000  # outside 8..64
    portfolio = Portfolio.from_dict(data, where="test")
    assert portfolio.select(5, tiny) == [_params(tiny, 1)]


def test_nothing_left_when_the_portfolio_knows_only_the_searched_dataset(tiny):
    portfolio = Portfolio.from_dict(_portfolio(tiny, [[0.9]], ["a"], names=("a",)), where="test")
    assert portfolio.select(5, tiny, dataset="a") == []


def test_a_portfolio_of_another_version_of_the_space_is_ignored_with_one_warning(tmp_path, tiny, caplog):
    data = _portfolio(tiny, [[0.9]], ["a"], names=("a",))
    data["space_hash"] = "0123456789abcdef"
    (tmp_path / "tiny.json").write_text(json.dumps(data))
    with caplog.at_level(logging.WARNING, logger="automl.warmstart"):
        assert load_portfolio(tiny, tmp_path) is None
    (record,) = caplog.records
    assert "another version of space 'tiny'" in record.getMessage() and "\n" not in record.getMessage()


def test_a_damaged_portfolio_is_one_line(tmp_path, tiny):
    (tmp_path / "tiny.json").write_text(json.dumps({"format": 1, "space": "tiny"}))
    with pytest.raises(UserError, match=r"tiny.json: damaged portfolio file .*build_portfolio.py$"):
        load_portfolio(tiny, tmp_path)
    assert load_portfolio(load_space("mlp"), tmp_path) is None  # none shipped there


@pytest.mark.parametrize("name", shipped_portfolios())
def test_shipped_portfolios_match_their_space(name):
    """A space edited without rebuilding its portfolio loses its warm start: rebuild it with
    ``python scripts/build_portfolio.py --space NAME``."""
    space = load_space(name)
    portfolio = load_portfolio(space)
    assert portfolio is not None, f"rebuild automl/portfolios/{name}.json"
    assert len(portfolio.datasets) >= 2 and len(portfolio.candidates) >= 2
    for dataset in portfolio.datasets:
        picked = portfolio.select(5, space, dataset=dataset.name)
        assert 1 <= len(picked) <= 5
        assert all(space.validate_config({**p, **space.fixed}) for p in picked)
    assert (portfolios_dir() / f"{name}.json").is_file()
