"""examples/fashion_mnist_mlp: the learning-rate sweep fails at both ends, the schedules follow their
curves, and the 3×1000 network over-fits a small training set."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def fm(example):
    return example("fashion_mnist_mlp")


def test_the_sweep_fails_at_both_ends(fm, common, digits_dataset, tmp_path):
    sweep = fm.lr_sweep(digits_dataset, tmp_path, epochs=8, learning_rates=(5.0, 0.5, 1e-6))
    by_rate = {row.config["learning_rate"]: row for row in common.diagnoses(sweep).itertuples()}
    assert by_rate[0.5].score > 0.9 > common.baseline(sweep, "majority")
    assert by_rate[5.0].score < 0.4  # the weights blow up in the first epoch: accuracy near chance
    assert by_rate[1e-6].score < 0.4 and by_rate[1e-6].diagnosis == "under-fit"  # the loss barely moves
    assert by_rate[5.0].diagnosis != "balanced"
    assert {"baseline:majority", "baseline:linear"} <= set(sweep.leaderboard_["trial"])
    assert (tmp_path / "lr_sweep" / "report.html").is_file()
    assert (tmp_path / "lr_sweep" / "leaderboard.csv").is_file()


def test_the_schedules_follow_their_curves(fm, digits_dataset, tmp_path):
    runs = fm.schedules(digits_dataset, tmp_path, learning_rate=0.5, epochs=6)
    rates = {r.config["lr_schedule"]: r.history["lr"] for r in runs.trials_}
    assert set(rates) == {"constant", "step", "piecewise", "plateau", "warmup_hold_decay"}
    assert rates["constant"] == pytest.approx([0.5] * 6)
    assert rates["step"] == pytest.approx([0.5, 0.5, 0.25, 0.25, 0.125, 0.125])
    assert rates["piecewise"] == pytest.approx([0.5, 0.5, 0.5, 0.05, 0.05, 0.005])
    # hold for a third of the epochs, then ×0.95 every epoch (the `hold_epochs` parameter)
    assert rates["warmup_hold_decay"] == pytest.approx([0.5, 0.5] + [0.5 * 0.95**k for k in range(1, 5)])
    assert all(r.epochs_run == 6 for r in runs.trials_)  # equal epochs: no early stopping


def test_the_big_network_overfits_a_small_training_set(fm, common, digits_dataset, tmp_path, capsys):
    fm.print_sizes(digits_dataset)
    printed = capsys.readouterr().out
    assert "9,610 weights" in printed and "2,077,010 weights" in printed and "MiB" in printed
    small = fm.small_training_set(digits_dataset, 100)
    assert len(small.x_train) == 100 and len(small.x_val) == len(digits_dataset.x_val)
    big = fm.overfit(small, tmp_path, epochs=40)
    (row,) = common.diagnoses(big).itertuples()
    assert row.diagnosis == "over-fit", row.advice
    assert big.trials_[0].n_params == 2_077_010


def test_full_loads_fashion_mnist(fm, monkeypatch):
    asked = []
    monkeypatch.setattr(fm.automl, "load_dataset", lambda name, **kw: asked.append(name))
    fm.load(True)
    fm.load(False)
    assert asked == ["fashion_mnist", "digits"]
    assert fm.parse_args("", "fashion_mnist_mlp", "", ["--full", "--budget", "0.5"]).full


@pytest.mark.slow
def test_l2_and_dropout_fix_the_overfitting(fm, common, digits_dataset, tmp_path):
    small = fm.small_training_set(digits_dataset, 100)
    first = common.diagnoses(fm.overfit(small, tmp_path, epochs=100))
    fixed = common.diagnoses(fm.regularise(small, tmp_path, n_trials=12, epochs=100, workers=1))
    assert first.diagnosis[0] == "over-fit"
    assert fixed.diagnosis[0] != "over-fit" and fixed.score[0] >= first.score[0]
