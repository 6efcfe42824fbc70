"""The contenders of ``benchmarks/quality.py``, each run once in its own process by ``run_contender``.

``optuna`` and ``kerastuner`` are the scripts a competent user writes without automl: an MLP from the
knobs of automl's ``compact`` space (depth 1-3, 32-256 units per layer, activation, dropout, L2, adam or
adamw, a constant learning rate 3e-4..3e-2, batch size 16/32/64), trained up to 60 epochs with
``EarlyStopping(patience=8)`` on the validation loss. ``automl`` is ``AutoMLSearch`` with the variant's
arguments. Each searches for ``budget`` seconds, then retrains its best config on train + validation (outside
the budget) and is scored once on the test split. The data is a built-in (``automl.load_dataset(name)``)
or a mid-size case of ``_quality_cases.py`` (a file in the dataset cache, ``automl.load_dataset(path)``).

A plain script's clock starts after its imports and the data load; automl's at ``fit()``. Every contender
stops training at the first epoch end past the deadline and keeps that trial's score, as automl does.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any

from _quality_cases import load_case

import automl
from automl.metrics import score

MAX_EPOCHS = 60
PATIENCE = 8
BATCH_SIZES = (16, 32, 64)
ACTIVATIONS = ("relu", "gelu", "swish", "tanh")
PLAIN = ("optuna", "kerastuner")


def metric_of(dataset: automl.Dataset) -> str:
    """The benchmark's score: accuracy for classification, RMSE in original units for regression."""
    return "accuracy" if dataset.task.is_classification else "rmse"


def test_score(dataset: automl.Dataset, output: Any) -> float:
    """``metric_of(dataset)`` of a model output on the test split, in original units."""
    truth = dataset.y_test
    if not dataset.task.is_classification:
        output, truth = dataset.to_original_units(output), dataset.to_original_units(truth)
    return score(metric_of(dataset), dataset.task, truth, output)


def run_contender(
    contender: str,
    dataset_name: str,
    budget: float,
    repeat: int,
    kwargs: dict[str, Any] | None = None,
    retrain: dict[str, Any] | None = None,
    deploy: dict[str, dict[str, Any]] | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """Search, retrain and test one contender; returns the fields of its result line. The data is split with
    seed ``repeat``; the search (sampler, weights, retrain) is seeded with ``seed``, default ``repeat``.
    ``deploy``: for automl, other ``retrain(...)`` arguments by name, each scored on the same search
    (``deploy_scores``)."""
    import keras  # TensorFlow's import is outside every clock

    seed = repeat if seed is None else seed
    dataset = load_case(dataset_name, seed=repeat)
    keras.utils.set_random_seed(seed)
    facts = {"metric": metric_of(dataset), "task": dataset.task.value, "n_test": len(dataset.y_test)}
    if contender in PLAIN:
        # A script feeds Keras pixels scaled to [0, 1], as every Keras tutorial does; automl keeps uint8
        # images and divides inside its model. The tables are float32 already and stay as they are.
        dataset = dataset.with_float_inputs()
    if contender == "optuna":
        return facts | _optuna(dataset, budget, seed)
    if contender == "kerastuner":
        return facts | _kerastuner(dataset, budget, seed)
    return facts | _automl(dataset, budget, seed, kwargs or {}, retrain or {}, deploy or {})


# ---------------------------------------------------------------------------------------- plain scripts
def build_mlp(params: dict[str, Any], dataset: automl.Dataset) -> Any:
    """The plain scripts' model: a compiled Keras MLP for the dataset's task."""
    import keras

    l2 = keras.regularizers.L2(params["l2"])
    model = keras.Sequential([keras.Input(dataset.input_shape)])
    if len(dataset.input_shape) > 1:
        model.add(keras.layers.Flatten())
    for i in range(params["depth"]):
        model.add(keras.layers.Dense(params[f"units_{i}"], params["activation"], kernel_regularizer=l2))
        if params["dropout"] > 0:
            model.add(keras.layers.Dropout(params["dropout"]))
    if dataset.task is automl.Task.MULTICLASS:
        head, loss = keras.layers.Dense(dataset.n_outputs, "softmax"), "sparse_categorical_crossentropy"
        metric = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    elif dataset.task is automl.Task.BINARY:
        head, loss = keras.layers.Dense(1, "sigmoid"), "binary_crossentropy"
        metric = keras.metrics.BinaryAccuracy(name="accuracy")
    else:
        head, loss = keras.layers.Dense(1), "mse"
        metric = keras.metrics.RootMeanSquaredError(name="rmse")
    model.add(head)
    optimizer = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW}[params["optimizer"]]
    model.compile(optimizer(params["learning_rate"]), loss=loss, metrics=[metric])
    return model


def _deadline_callback(deadline: float) -> Any:
    import keras

    class Deadline(keras.callbacks.Callback):
        """Stops training at the first epoch end past the search's deadline."""

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if time.monotonic() >= deadline:
                self.model.stop_training = True

    return Deadline()


def _early_stopping(restore: bool) -> Any:
    import keras

    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=PATIENCE, restore_best_weights=restore)


def _val_score(dataset: automl.Dataset, value: float) -> float:
    """A logged validation value in the benchmark's units (Keras's RMSE is of standardised targets)."""
    return value if dataset.task.is_classification else value * dataset.target_std


def _retrain(params: dict[str, Any], epochs: int, dataset: automl.Dataset, seed: int) -> tuple[float, float]:
    """Best params fitted on train + validation for ``epochs``; (test score, seconds)."""
    import keras

    started = time.monotonic()
    keras.utils.set_random_seed(seed)
    x, y = dataset.train_val()
    model = build_mlp(params, dataset)
    model.fit(x, y, batch_size=params["batch_size"], epochs=epochs, verbose=0)
    result = test_score(dataset, model.predict(dataset.x_test, verbose=0))
    return result, time.monotonic() - started


def _optuna(dataset: automl.Dataset, budget: float, seed: int) -> dict[str, Any]:
    import keras
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    classify = dataset.task.is_classification
    monitor = "val_accuracy" if classify else "val_rmse"

    class Report(keras.callbacks.Callback):
        def __init__(self, trial: optuna.Trial) -> None:
            super().__init__()
            self.trial = trial

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.trial.report(_val_score(dataset, float((logs or {})[monitor])), epoch)
            if self.trial.should_prune():
                raise optuna.TrialPruned()

    def objective(trial: optuna.Trial) -> float:
        depth = trial.suggest_int("depth", 1, 3)
        params = {
            "depth": depth,
            **{f"units_{i}": trial.suggest_int(f"units_{i}", 32, 256, log=True) for i in range(depth)},
            "activation": trial.suggest_categorical("activation", ACTIVATIONS),
            "dropout": trial.suggest_float("dropout", 0.0, 0.3),
            "l2": trial.suggest_float("l2", 1e-6, 1e-3, log=True),
            "optimizer": trial.suggest_categorical("optimizer", ["adam", "adamw"]),
            "learning_rate": trial.suggest_float("learning_rate", 3e-4, 3e-2, log=True),
            "batch_size": trial.suggest_categorical("batch_size", BATCH_SIZES),
        }
        keras.backend.clear_session()
        model = build_mlp(params, dataset)
        stop = _early_stopping(restore=True)
        model.fit(
            dataset.x_train, dataset.y_train, validation_data=(dataset.x_val, dataset.y_val),
            batch_size=params["batch_size"], epochs=MAX_EPOCHS, verbose=0,
            callbacks=[stop, Report(trial), _deadline_callback(deadline)],
        )  # fmt: skip
        trial.set_user_attr("epochs", stop.best_epoch + 1)
        logs = model.evaluate(dataset.x_val, dataset.y_val, verbose=0, return_dict=True)
        return _val_score(dataset, float(logs[monitor.removeprefix("val_")]))

    started = time.monotonic()
    deadline = started + budget
    study = optuna.create_study(
        direction="maximize" if classify else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5),
    )
    study.optimize(objective, timeout=budget)
    search_seconds = time.monotonic() - started
    best = study.best_trial
    params = {**best.params, "batch_size": int(best.params["batch_size"])}
    epochs = int(best.user_attrs["epochs"])
    result, retrain_seconds = _retrain(params, epochs, dataset, seed)
    states = [t.state for t in study.trials]
    return {
        "search_seconds": search_seconds,
        "retrain_seconds": retrain_seconds,
        "n_trials": sum(s.is_finished() for s in states),
        "n_complete": sum(s == optuna.trial.TrialState.COMPLETE for s in states),
        "val_score": best.value,
        "test_score": result,
        "epochs": epochs,
        "config": params,
    }


class _OutOfTime(Exception):
    """Ends KerasTuner's search, which has no timeout of its own, once the budget is spent."""


def _kerastuner(dataset: automl.Dataset, budget: float, seed: int) -> dict[str, Any]:
    import keras_tuner as kt

    classify = dataset.task.is_classification

    class MLP(kt.HyperModel):
        def build(self, hp: kt.HyperParameters) -> Any:
            depth = hp.Int("depth", 1, 3)
            params = {
                "depth": depth,
                **{f"units_{i}": hp.Int(f"units_{i}", 32, 256, sampling="log") for i in range(depth)},
                "activation": hp.Choice("activation", list(ACTIVATIONS)),
                "dropout": hp.Float("dropout", 0.0, 0.3),
                "l2": hp.Float("l2", 1e-6, 1e-3, sampling="log"),
                "optimizer": hp.Choice("optimizer", ["adam", "adamw"]),
                "learning_rate": hp.Float("learning_rate", 3e-4, 3e-2, sampling="log"),
            }
            return build_mlp(params, dataset)

        def fit(self, hp: kt.HyperParameters, model: Any, *args: Any, **kwargs: Any) -> Any:
            return model.fit(*args, batch_size=hp.Choice("batch_size", list(BATCH_SIZES)), **kwargs)

    class TimedHyperband(kt.Hyperband):
        def on_trial_end(self, trial: Any) -> None:
            super().on_trial_end(trial)
            if time.monotonic() >= deadline:
                raise _OutOfTime

    with tempfile.TemporaryDirectory() as folder:
        started = time.monotonic()
        deadline = started + budget
        tuner = TimedHyperband(
            MLP(),
            objective=kt.Objective("val_accuracy", "max") if classify else kt.Objective("val_loss", "min"),
            max_epochs=MAX_EPOCHS,
            hyperband_iterations=100,  # brackets again and again until the deadline ends the search
            seed=seed,
            directory=folder,
            project_name="quality",
            overwrite=True,
        )
        with contextlib.suppress(_OutOfTime):
            tuner.search(
                dataset.x_train, dataset.y_train, validation_data=(dataset.x_val, dataset.y_val),
                epochs=MAX_EPOCHS, verbose=0,
                callbacks=[_early_stopping(restore=False), _deadline_callback(deadline)],
            )  # fmt: skip
        search_seconds = time.monotonic() - started
        best = tuner.oracle.get_best_trials(1)[0]
        trials = list(tuner.oracle.trials.values())
    values = best.hyperparameters.values
    params = {k: v for k, v in values.items() if not k.startswith("tuner/")}
    params = {k: v for k, v in params.items() if not k.startswith("units_") or int(k[6:]) < params["depth"]}
    # Hyperband continues a trial from its parent's checkpoint: its epochs count from tuner/initial_epoch.
    epochs = int(values.get("tuner/initial_epoch", 0)) + int(best.best_step) + 1
    val = best.score if classify else best.metrics.get_best_value("val_rmse")
    result, retrain_seconds = _retrain(params, epochs, dataset, seed)
    return {
        "search_seconds": search_seconds,
        "retrain_seconds": retrain_seconds,
        "n_trials": len(trials),
        "n_complete": sum(t.status == "COMPLETED" for t in trials),
        "val_score": _val_score(dataset, float(val)),
        "test_score": result,
        "epochs": epochs,
        "config": params,
    }


# ---------------------------------------------------------------------------------------- automl
def _deployed_score(search: automl.AutoMLSearch, metric: str) -> float:
    """The deployed model's test score: the ensemble's when one is deployed. A final fit has no honest
    test score; test_metrics_ then holds the top-1 config's before it."""
    report = search.retrain_report_
    return float((report.ensemble["test"] if report.ensemble else search.test_metrics_)[metric])


def _automl(
    dataset: automl.Dataset,
    budget: float,
    seed: int,
    kwargs: dict[str, Any],
    retrain: dict[str, Any],
    deploy: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    from automl.store import TrialState

    metric = metric_of(dataset)
    with tempfile.TemporaryDirectory() as folder:
        search = automl.AutoMLSearch(
            **{"timeout": budget, "seed": seed, "run_dir": Path(folder) / "run", **kwargs}
        )
        started = time.monotonic()
        search.fit(dataset)
        search_seconds = time.monotonic() - started
        search.retrain(**retrain)
        retrain_seconds = time.monotonic() - started - search_seconds
        report, tested = search.retrain_report_, _deployed_score(search, metric)
        alternatives, alternative_seconds = {}, {}
        for name, arguments in deploy.items():
            started = time.monotonic()
            search.retrain(**arguments)
            alternative_seconds[name] = time.monotonic() - started
            alternatives[name] = _deployed_score(search, metric)
    best = search.best_trial_
    return {
        "search_seconds": search_seconds,
        "retrain_seconds": retrain_seconds,
        "n_trials": sum(t.state.finished for t in search.trials_),
        "n_complete": sum(t.state is TrialState.COMPLETE for t in search.trials_),
        "val_score": search.best_score_ if search.study_info_.metric == metric else None,
        "val_metric": search.study_info_.metric,
        "test_score": tested,
        "epochs": None if best is None else best.best_epoch,
        "config": search.best_config_,
        "deployed": "ensemble" if report.ensemble else "final fit" if report.final_fit else "top-1",
        "bag": report.bag,
        "deploy_scores": alternatives,
        "deploy_seconds": alternative_seconds,
    }
