"""examples/cnn: dense and conv nets of matched weight counts, trained the same way."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def cnn(example):
    return example("cnn")


@pytest.mark.parametrize("filters", [8, 32])
def test_the_dense_width_matches_the_conv_weights(cnn, digits_dataset, filters):
    import automl

    conv = {**cnn.CONV, "filters": filters}
    width = cnn.matched_width(conv, digits_dataset)
    dense, convolutional = (
        automl.count_params({"depth": 1, "units": width}, digits_dataset),
        automl.count_params(conv, digits_dataset, family="cnn"),
    )
    assert abs(dense - convolutional) <= 0.02 * convolutional


def test_dense_and_conv_train_side_by_side(cnn, tmp_path, digits_dataset):
    dense, conv = cnn.dense_vs_conv(digits_dataset, tmp_path, epochs=3, filters=(8,))
    rows = cnn.compare(dense, conv)
    assert sorted(name.split()[0] for name, *_ in rows) == ["conv", "dense"]
    (d_weights, c_weights) = sorted(r[1] for r in rows)
    assert c_weights - d_weights <= 0.02 * c_weights
    assert all(score > 0.2 for _, _, score, _ in rows)  # both learn (chance is 0.1) in three epochs
    assert (tmp_path / "dense" / "report.html").is_file() and (tmp_path / "conv" / "report.html").is_file()


def test_full_runs_mnist_then_cifar10(cnn, monkeypatch, tmp_path):
    loaded, ran = [], []
    monkeypatch.setattr(cnn.automl, "load_dataset", lambda name, **kw: loaded.append(name) or name)
    monkeypatch.setattr(cnn, "run", lambda dataset, out, args: ran.append((dataset, out, args.full)))
    cnn.main(["--full", "--out", str(tmp_path)])
    assert loaded == ["mnist", "cifar10"]
    assert ran == [("mnist", tmp_path / "mnist", True), ("cifar10", tmp_path / "cifar10", True)]


@pytest.mark.slow
def test_conv_nets_beat_the_linear_baseline_after_a_search(cnn, common, digits_dataset, tmp_path):
    search = cnn.cnn_search(digits_dataset, tmp_path, n_trials=12, epochs=40, workers=1)
    assert search.best_score_ > common.baseline(search, "linear")
