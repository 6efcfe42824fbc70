"""The user's own validation and test rows: from Python (as Keras's validation_data), from the CLI and from
experiment files; recorded in the run, reloaded exactly by retrain, refused when they changed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine

from automl import AutoMLSearch
from automl.datasets import load_dataset
from automl.exceptions import UserError
from automl.store import file_sha256, read_manifest


def search(tmp_path, **kwargs) -> AutoMLSearch:
    return AutoMLSearch(
        space="tiny", n_trials=1, devices=1, pruner="none", run_dir=tmp_path / "run", **kwargs
    )


@pytest.fixture(scope="module")
def wine_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wine")
    frame = load_wine(as_frame=True).frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    frame.iloc[:110].to_csv(folder / "train.csv", index=False)
    frame.iloc[110:140].to_csv(folder / "val.csv", index=False)
    frame.iloc[140:].to_csv(folder / "test.csv", index=False)
    return folder


def test_arrays_with_validation_and_test_data_are_not_cut_and_preprocessing_sees_train_only(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(90, 3)), rng.integers(0, 2, 90)
    x_val, y_val = rng.normal(loc=5.0, size=(20, 3)), rng.integers(0, 2, 20)  # shifted on purpose
    x_test, y_test = rng.normal(size=(25, 3)), rng.integers(0, 2, 25)
    fitted = search(tmp_path).fit(x, y, validation_data=(x_val, y_val), test_data=(x_test, y_test))
    data = fitted.dataset_
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (90, 20, 25)
    # Standardised with the training rows' statistics alone: train is centred, the shifted validation is not.
    assert np.allclose(data.x_train.mean(axis=0), 0.0, atol=1e-5)
    assert np.all(data.x_val.mean(axis=0) > 3.0)
    assert data.info["validation_split"] == "given" and data.info["test_split"] == "given"


def test_a_frame_with_a_validation_frame_and_only_the_test_cut(tmp_path):
    frame = load_wine(as_frame=True).frame
    train, val = frame.iloc[:140], frame.iloc[140:]
    fitted = search(tmp_path).fit(train, target="target", validation_data=val)
    assert len(fitted.dataset_.y_val) == len(val)
    assert len(fitted.dataset_.y_train) + len(fitted.dataset_.y_test) == len(train)
    assert fitted.dataset_.info["test_split"] == "random 0.2 of the rows"


def test_the_cli_records_split_files_and_retrain_reloads_exactly_them(cli, tmp_path, wine_files):
    run = tmp_path / "run"
    code, _, err = cli([
        "search", "-d", str(wine_files / "train.csv"), "--target", "target", "-s", "tiny", "--trials", "1",
        "--workers", "1", "--run-dir", str(run), "--validation-file", str(wine_files / "val.csv"),
        "--test-file", str(wine_files / "test.csv"), "-q", "--no-report",
    ])  # fmt: skip
    assert code == 0, err
    entry = read_manifest(run).datasets[0]
    assert entry.validation_file == str((wine_files / "val.csv").resolve())
    assert entry.test_sha256 == file_sha256(wine_files / "test.csv")
    assert (entry.val_fraction, entry.test_fraction) == (0.2, 0.2)
    code, _, err = cli(["retrain", str(run)])
    assert code == 0, err
    dataset = json.loads((run / "models" / "train" / "dataset.json").read_text())
    assert (dataset["n_train"], dataset["n_val"], dataset["n_test"]) == (110, 30, 38)
    # A test file that changed since the search is refused in one line, naming it.
    (wine_files / "test.csv").write_text((wine_files / "test.csv").read_text().replace("\n1", "\n2", 1))
    code, _, err = cli(["retrain", str(run)])
    assert code == 2
    assert err.strip() == (
        f"error: the test file {(wine_files / 'test.csv').resolve()} of dataset 'train' changed since the "
        "search (its SHA-256 differs); restore the file the run was given"
    )


def test_an_ordered_split_cuts_what_is_left_from_the_end(tmp_path):
    frame = pd.DataFrame({"t": np.arange(100.0), "y": np.arange(100.0) * 2})
    frame.to_csv(tmp_path / "series.csv", index=False)
    frame.iloc[:10].assign(t=lambda f: f.t + 1000).to_csv(tmp_path / "val.csv", index=False)
    data = load_dataset(tmp_path / "series.csv", target="y", split="ordered", validation=tmp_path / "val.csv")
    assert len(data.y_val) == 10 and len(data.y_test) == 20 and len(data.y_train) == 80
    test_t = data.preprocessor.inverse_target(data.y_test) / 2
    assert np.allclose(np.sort(test_t), np.arange(80.0, 100.0))  # the last fifth of the rows, in order


def test_contradictions_are_one_line(tmp_path):
    from automl.datasets import from_arrays

    x, y = np.zeros((30, 2)), np.arange(30) % 2
    ready = from_arrays(x, y)
    with pytest.raises(UserError, match=r"a Dataset is split already: drop validation_data"):
        search(tmp_path).fit(ready, validation_data=(x, y))
    with pytest.raises(UserError, match=r"validation_data beside \(x, y\) arrays must be an \(x, y\) pair"):
        search(tmp_path).fit(x, y, validation_data=x)
    np.savez(tmp_path / "official.npz", x=x, y=y, x_test=x[:5], y_test=y[:5])
    np.savez(tmp_path / "mine.npz", x=x[:6], y=y[:6])
    with pytest.raises(UserError, match="has its own official test split; drop test="):
        load_dataset(tmp_path / "official.npz", test=tmp_path / "mine.npz")


def test_experiment_entries_take_validation_and_test_files(tmp_path, wine_files):
    from automl.experiment import parse_experiment

    text = (
        "version: 1\nname: own\ndatasets:\n"
        f"  - {{path: {wine_files / 'train.csv'}, target: target, validation: {wine_files / 'val.csv'}, "
        f"test: {wine_files / 'test.csv'}}}\n"
        "spaces: [tiny]\nbudget: {trials: 1}\n"
    )
    (tmp_path / "exp.yaml").write_text(text)
    spec = parse_experiment(tmp_path / "exp.yaml").datasets[0]
    assert spec.validation == str((wine_files / "val.csv").resolve())
    (tmp_path / "bad.yaml").write_text(text.replace("val.csv", "missing.csv"))
    with pytest.raises(
        UserError, match=r"bad.yaml:4: datasets.0.validation: validation file .*missing.csv' not found"
    ):
        parse_experiment(tmp_path / "bad.yaml")
