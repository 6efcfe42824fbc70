"""train(): one fit path for trials, Hyperband rounds and retraining; scores in original units."""

from __future__ import annotations

import math

import numpy as np
import pytest

from automl import metrics
from automl._keras import keras
from automl.exceptions import UserError
from automl.model import learning_rate_at
from automl.training import StopReason, train


class Pruned(Exception):
    """What a pruning callback raises (Optuna's TrialPruned, say): it passes through train()."""


MLP = {
    "depth": 1,
    "units_0": 16,
    "activation": "relu",
    "optimizer": "adam",
    "learning_rate": 0.01,
    "batch_size": 32,
    "epochs": 3,
    "patience": 5,
}
MODEL_KINDS = (
    # Each activation, optimizer and schedule at least once.
    ("relu", "adam", "constant"),
    ("elu", "adamw", "step"),
    ("selu", "sgd", "piecewise"),
    ("gelu", "rmsprop", "exponential"),
    ("swish", "adam", "cosine"),
    ("tanh", "sgd", "warmup_hold_decay"),
    ("leaky_relu", "rmsprop", "plateau"),
)


@pytest.mark.parametrize(("activation", "optimizer", "schedule"), MODEL_KINDS)
def test_every_activation_optimizer_and_schedule_trains(cancer, activation, optimizer, schedule) -> None:
    config = {
        **MLP,
        "activation": activation,
        "optimizer": optimizer,
        "lr_schedule": schedule,
        "momentum": 0.9,
        "batch_norm": activation == "tanh",
        "dropout": 0.1,
        "l1": 1e-6,
        "l2": 1e-5,
    }
    result = train(config, cancer, epochs=1)
    assert result.ok and result.epochs_run == 1
    assert math.isfinite(result.history["loss"][0]) and 0.0 <= result.best_score <= 1.0
    assert result.history["lr"][0] == pytest.approx(learning_rate_at(config, 0, 3), rel=1e-6)


def test_history_keys_and_scores_from_one_prediction(digits) -> None:
    result = train(MLP, digits)
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert all(len(v) == 3 for v in result.history.values())
    assert (result.metric, result.direction, result.stopped_by) == ("accuracy", "maximize", "max_epochs")
    assert result.stopped_by is StopReason.MAX_EPOCHS
    best = result.history["val_accuracy"][result.best_epoch - 1]
    assert best == result.best_score == max(result.history["val_accuracy"])
    # The model holds the best epoch's weights; val_loss uses the compiled loss's formula.
    loss, accuracy = result.model.evaluate(digits.x_val, digits.y_val, verbose=0)
    assert accuracy == pytest.approx(result.best_score, abs=1e-6)
    assert loss == pytest.approx(result.history["val_loss"][result.best_epoch - 1], rel=1e-4)
    assert result.n_params == result.model.count_params() and result.effective_batch_size == 32


def test_regression_scores_are_in_original_units(diabetes) -> None:
    result = train({**MLP, "learning_rate": 0.003}, diabetes)
    assert set(result.history) == {"loss", "rmse", "val_loss", "val_rmse", "lr"}
    output = result.model.predict(diabetes.x_val, verbose=0)
    expected = metrics.score(
        "rmse", diabetes.task, diabetes.to_original_units(diabetes.y_val), diabetes.to_original_units(output)
    )
    assert result.best_score == pytest.approx(expected, rel=1e-5)
    # No penalty in this config: val_loss is the standardised MSE, val_rmse its root in target units.
    val_loss = result.history["val_loss"][result.best_epoch - 1]
    assert result.best_score == pytest.approx(math.sqrt(val_loss) * diabetes.target_std, rel=1e-5)
    assert result.history["rmse"][0] > 10  # training RMSE also in target units (std ≈ 77)


def test_another_objective_is_scored_beside_the_task_metric(cancer) -> None:
    result = train(MLP, cancer, metric="auc", epochs=2)
    assert {"val_auc", "val_accuracy"} <= set(result.history)
    assert result.metric == "auc" and result.best_score == max(result.history["val_auc"])
    with pytest.raises(UserError, match="rmse"):
        train(MLP, cancer, metric="rmse")


def test_validation_scores_reach_later_callbacks_through_logs(cancer) -> None:
    seen: list[dict[str, float]] = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(dict(logs))

    calls: list[tuple[int, float]] = []
    result = train(MLP, cancer, epochs=2, callbacks=[Spy()], on_epoch=lambda e, s: calls.append((e, s)))
    assert [s["val_accuracy"] for s in seen] == result.history["val_accuracy"]
    assert [s["val_loss"] for s in seen] == result.history["val_loss"]
    assert calls == [(1, result.history["val_accuracy"][0]), (2, result.history["val_accuracy"][1])]


def test_on_epoch_returning_true_stops_the_fit(cancer) -> None:
    result = train(MLP, cancer, epochs=3, on_epoch=lambda epoch, score: True)
    assert result.epochs_run == 1 and result.stopped_by == "callback" and result.ok


def test_callback_exceptions_propagate_and_stop_requests_are_reported(cancer) -> None:
    class Prune(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise Pruned(f"pruned at {epoch}")

    with pytest.raises(Pruned):
        train(MLP, cancer, callbacks=[Prune()])

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    assert train(MLP, cancer, callbacks=[Stop()]).stopped_by == "callback"


def test_early_stopping_restores_the_best_weights(digits) -> None:
    class Wreck(keras.callbacks.Callback):
        """Zero every weight from epoch 3 on: ReLU units die (plain SGD cannot revive them), so validation
        accuracy falls to a majority guess and never recovers."""

        def on_epoch_begin(self, epoch, logs=None):
            if epoch >= 2:
                self.model.set_weights([np.zeros_like(w) for w in self.model.get_weights()])

    config = {**MLP, "optimizer": "sgd", "learning_rate": 0.2, "epochs": 8, "patience": 2}
    result = train(config, digits, callbacks=[Wreck()])
    assert result.stopped_by == "early_stopping" and result.best_epoch == 2 and result.epochs_run == 4
    predicted = result.model.predict(digits.x_val, verbose=0)
    assert metrics.score("accuracy", digits.task, digits.y_val, predicted) == pytest.approx(result.best_score)
    assert result.best_score > 0.5 > result.history["val_accuracy"][-1]


def test_same_seed_same_history(cancer) -> None:
    config = {**MLP, "dropout": 0.2, "epochs": 2}
    first, second = train(config, cancer, seed=5), train(config, cancer, seed=5)
    assert first.history == second.history
    assert train(config, cancer, seed=6).history != first.history


def test_hyperband_round_resumes_the_epoch_numbering(cancer) -> None:
    config = {**MLP, "lr_schedule": "cosine", "epochs": 6}
    first = train(config, cancer, epochs=2)
    epochs_seen: list[int] = []

    class Count(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            epochs_seen.append(epoch)

    second = train(config, cancer, model=first.model, initial_epoch=2, epochs=4, callbacks=[Count()])
    assert second.model is first.model and second.initial_epoch == 2
    assert epochs_seen == [2, 3] and second.epochs_run == 2 and second.best_epoch in (3, 4)
    assert second.history["lr"] == pytest.approx([learning_rate_at(config, e, 6) for e in (2, 3)], rel=1e-6)
    with pytest.raises(UserError, match="initial_epoch"):
        train(config, cancer, model=first.model, initial_epoch=4, epochs=4)


def _steps(result_holder: list[int]) -> keras.callbacks.Callback:
    class Steps(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            result_holder.append(self.params["steps"])

    return Steps()


def test_train_val_fits_on_both_splits_minus_a_seeded_holdout(cancer) -> None:
    steps: list[int] = []
    n = len(cancer.x_train) + len(cancer.x_val)  # 450
    result = train(
        MLP, cancer, fit_on="train_val", validation_fraction=0.2, epochs=1, callbacks=[_steps(steps)]
    )
    assert steps == [math.ceil((n - 90) / 32)] and "val_accuracy" in result.history
    fixed = train(MLP, cancer, fit_on="train_val", early_stopping=False, epochs=2, callbacks=[_steps(steps)])
    assert steps[-1] == math.ceil(n / 32)
    assert set(fixed.history) == {"loss", "accuracy", "lr"} and math.isnan(fixed.best_score)
    assert fixed.best_epoch == 2 and fixed.stopped_by == "max_epochs"


def test_balanced_class_weights(cancer) -> None:
    keep = np.concatenate([np.flatnonzero(cancer.y_train == 0)[:30], np.flatnonzero(cancer.y_train == 1)])
    from dataclasses import replace

    skewed = replace(cancer, x_train=cancer.x_train[keep], y_train=cancer.y_train[keep])
    assert train({**MLP, "class_weight": "balanced"}, skewed, epochs=1).ok
    assert train(MLP, skewed, epochs=1, class_weight={0: 5.0, 1: 1.0}).ok
    with pytest.raises(UserError, match="class_weight"):
        train(MLP, cancer, class_weight="inverse")


def test_user_errors_come_before_any_work(cancer, diabetes) -> None:
    with pytest.raises(UserError, match="classification"):
        train(MLP, diabetes, class_weight="balanced")
    with pytest.raises(UserError, match="fit_on"):
        train(MLP, cancer, fit_on="everything")  # type: ignore[arg-type]
