"""examples/weather: the generated table, the persistence baseline on an ordered split, the saved model
reopened with plain Keras."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def weather(example):
    return example("weather")


def test_the_generated_table(weather):
    from weather_data import generate_weather  # imported by the example from its folder

    frame = generate_weather(days=400, seed=3)
    assert len(frame) == 400 and frame.equals(generate_weather(days=400, seed=3))
    assert list(frame["date"]) == sorted(frame["date"])
    assert (frame["sunshine"] >= 0).all() and (frame["sunshine"] <= frame["day_length"]).all()
    assert np.array_equal(frame["sunshine_tomorrow"].to_numpy()[:-1], frame["sunshine"].to_numpy()[1:])
    summer, winter = frame["day_length"].iloc[170], frame["day_length"].iloc[355]
    assert summer > 15 and winter < 9
    # the weather persists from day to day, but not entirely
    assert 0.3 < frame["sunshine"].corr(frame["sunshine_tomorrow"]) < 0.9


def test_full_reads_the_workshop_csv_through_the_download_cache(weather, monkeypatch, tmp_path):
    import automl.datasets._download as download

    days = 30
    rng = np.random.default_rng(0)
    csv = tmp_path / "weather_prediction_dataset_light.csv"
    pd.DataFrame(
        {
            "DATE": [20000101 + i for i in range(days)],
            "MONTH": 1,
            "BASEL_cloud_cover": rng.integers(0, 9, days),
            "BASEL_pressure": rng.normal(1.01, 0.01, days),
            "BASEL_sunshine": rng.uniform(0, 8, days).round(1),
            "DE_BILT_sunshine": rng.uniform(0, 8, days).round(1),
        }
    ).to_csv(csv, index=False)
    asked = []
    monkeypatch.setattr(download, "fetch", lambda url, path, **kw: asked.append((url, path)) or csv)
    dataset = weather.load(True)
    assert asked[0][0] == weather.WEATHER_URL and asked[0][1].name == csv.name
    assert dataset.target == "sunshine_tomorrow" and dataset.info["split"] == "ordered"
    assert len(dataset.x_train) + len(dataset.x_val) + len(dataset.x_test) == days - 1
    assert dataset.persistence_val is not None


@pytest.mark.slow
def test_the_tuned_network_beats_persistence(weather, tmp_path):
    search = weather.node_search(weather.load(False), tmp_path, n_trials=30, workers=1)
    from examples._common import baseline

    assert search.best_score_ < baseline(search, "persistence")
    scores = weather.predict_with_keras(search)
    assert scores["model"] < scores["persistence"]


def rmse(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def test_the_script_runs_as_a_reader_runs_it(weather, tmp_path):
    """One run of a whole example from the command line, on a tiny budget: the persistence row on the
    ordered split, and the saved model reopened with plain Keras predicting what automl reported."""
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "weather"
    result = subprocess.run(
        [sys.executable, "examples/weather/run.py", "--budget", "0.01", "--workers", "1", "--out", str(out)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for study in ("early_stopping", "nodes"):
        assert (out / study / "report.html").is_file() and (out / study / "leaderboard.csv").is_file()
    assert (out / "nodes" / "models" / "weather" / "model.keras").is_file()

    # "tomorrow = today" on the validation days, which follow the training days (an ordered split)
    dataset = weather.load(False)
    assert dataset.info["split"] == "ordered"
    frame = weather.generate_weather()
    n_train, n_val = len(dataset.x_train), len(dataset.x_val)
    val, test = frame.iloc[n_train : n_train + n_val], frame.iloc[n_train + n_val :]
    board = pd.read_csv(out / "nodes" / "leaderboard.csv").set_index("trial")
    assert {"baseline:persistence", "baseline:mean", "baseline:linear"} <= set(board.index)
    expected = rmse(val["sunshine"], val["sunshine_tomorrow"])
    assert board.loc["baseline:persistence", "score"] == pytest.approx(expected, rel=1e-4)

    found = re.search(
        r"test RMSE ([\d.]+) h \(retrain reported ([\d.]+)\); on the same days persistence ([\d.]+)",
        result.stdout,
    )
    assert found, result.stdout[-2000:]
    reloaded, reported, persistence = map(float, found.groups())
    assert reloaded == pytest.approx(reported, abs=2e-3)  # plain Keras predicts what automl scored
    assert persistence == pytest.approx(rmse(test["sunshine"], test["sunshine_tomorrow"]), abs=2e-3)
