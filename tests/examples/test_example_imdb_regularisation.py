"""examples/imdb_regularisation: synthetic reviews with planted words; the big network over-fits first."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def imdb(example):
    return example("imdb_regularisation")


def test_synthetic_reviews_are_multi_hot_with_planted_signal(imdb):
    x, y = imdb.synthetic_reviews(600, num_words=500, seed=1)
    assert x.shape == (600, 500) and set(np.unique(x)) == {0.0, 1.0} and set(np.unique(y)) == {0, 1}
    again, _ = imdb.synthetic_reviews(600, num_words=500, seed=1)
    assert np.array_equal(x, again)
    frequency = x.mean(axis=0)
    assert frequency[0] > 5 * frequency[-1]  # Zipf: the most frequent word is far more common than rare ones
    # some words tell the classes apart: their rates differ a lot between positive and negative reviews
    gap = np.abs(x[y == 1].mean(axis=0) - x[y == 0].mean(axis=0))
    assert np.sort(gap)[-10:].min() > 0.05 and np.median(gap) < 0.03


def test_network_names(imdb):
    assert imdb.network_name({"units": 512}) == "bigger (512)"
    assert imdb.network_name({"units": 8}) == "smaller (8)"
    assert imdb.network_name({"units": 16, "l2": 0.0, "dropout": 0.0}) == "original (16)"
    assert imdb.network_name({"units": 16, "l2": 1e-3, "dropout": 0.5}) == "L2 + dropout"


def test_the_bigger_network_overfits_first(imdb, common, tmp_path):
    dataset = imdb.load(False)
    assert dataset.x_train.shape[1] == 2000 and dataset.n_classes == 2
    grid = imdb.network_grid(dataset, tmp_path, epochs=16, widths=(16, 512), variants=False)
    rows = {row.config["units"]: row for row in common.diagnoses(grid).itertuples()}
    assert rows[512].diagnosis == "over-fit", rows[512].advice
    assert rows[512].epoch < rows[16].epoch  # its validation loss turns up first
    assert {"baseline:majority", "baseline:linear"} <= set(grid.leaderboard_["trial"])


def test_full_loads_imdb(imdb, monkeypatch):
    asked = []
    monkeypatch.setattr(imdb.automl, "load_dataset", lambda name, **kw: asked.append(name))
    imdb.load(True)
    assert asked == ["imdb"]


@pytest.mark.slow
def test_the_workshop_grid_at_twenty_epochs(imdb, common, tmp_path):
    grid = imdb.network_grid(imdb.load(False), tmp_path, epochs=20)
    table = common.diagnoses(grid)
    names = {
        imdb.network_name(c): (e, d)
        for c, e, d in zip(table.config, table.epoch, table.diagnosis, strict=True)
    }
    assert names["bigger (512)"][1] == "over-fit"
    assert names["bigger (512)"][0] == min(epoch for epoch, _ in names.values())
