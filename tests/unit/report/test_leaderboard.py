import json

from automl.report import render, study_leaderboard, varying_params
from automl.store import StudyInfo, TrialRecord, TrialState


def info(direction="maximize", baselines=None):
    return StudyInfo(
        dataset="wine",
        dataset_fingerprint="f",
        space="tiny",
        space_hash="h",
        task="multiclass",
        metric="accuracy" if direction == "maximize" else "rmse",
        direction=direction,
        backend="optuna",
        algorithm="tpe",
        baselines=baselines if baselines is not None else {"majority": 0.4, "linear": 0.93},
    )


def rec(number, state, score, **config):
    return TrialRecord(
        number=number,
        state=state,
        score=score,
        params=dict(config),
        config={"epochs": 3, **config},
        epochs_run=3,
        failure="nan_loss" if state is TrialState.FAIL else None,
    )


RECORDS = [
    rec(0, TrialState.COMPLETE, 0.90, depth=1, activation="relu"),
    rec(1, TrialState.FAIL, None, depth=2, activation="tanh"),
    rec(2, TrialState.COMPLETE, 0.97, depth=2, activation="relu"),
    rec(3, TrialState.PRUNED, 0.50, depth=1, activation="gelu"),
    rec(4, TrialState.COMPLETE, 0.80, depth=1, activation="tanh"),
]


def test_ranks_complete_trials_and_places_baselines_among_them():
    frame = study_leaderboard(RECORDS, info())
    assert list(frame["trial"]) == ["2", "baseline:linear", "0", "4", "baseline:majority", "3", "1"]
    assert list(frame["rank"].astype(object).where(frame["rank"].notna(), None)) == [
        1,
        None,
        2,
        3,
        None,
        None,
        None,
    ]
    assert list(frame["state"]) == [
        "complete",
        "baseline",
        "complete",
        "complete",
        "baseline",
        "pruned",
        "fail",
    ]
    assert frame.loc[frame["trial"] == "1", "failure"].item() == "nan_loss"
    assert frame.attrs["metric"] == "accuracy"


def test_minimised_metric_ranks_low_scores_first():
    records = [rec(0, TrialState.COMPLETE, 3.0, depth=1), rec(1, TrialState.COMPLETE, 2.0, depth=2)]
    frame = study_leaderboard(records, info("minimize", {"mean": 7.5}))
    assert list(frame["trial"]) == ["1", "0", "baseline:mean"]


def test_only_varying_params_become_columns():
    assert varying_params(RECORDS) == ["depth", "activation"]
    frame = study_leaderboard(RECORDS, info())
    assert "epochs" not in frame.columns and "activation" in frame.columns


def test_renderers_agree_on_content():
    frame = study_leaderboard(RECORDS, info())
    csv = render(frame, "csv")
    assert csv.splitlines()[0].startswith("rank,trial,state,score")
    assert len(csv.strip().splitlines()) == 1 + len(frame)
    data = json.loads(render(frame, "json"))
    assert data["metric"] == "accuracy" and data["rows"][0]["trial"] == "2"
    markdown = render(frame, "markdown")
    assert markdown.splitlines()[1].startswith("|---")
    assert "| 1 | 2 | complete | 0.97 |" in markdown


def test_top_keeps_best_k_and_every_baseline():
    frame = study_leaderboard(RECORDS, info())
    top = render(frame, "csv", top=2)
    trials = [line.split(",")[1] for line in top.strip().splitlines()[1:]]
    assert trials == ["2", "baseline:linear", "0", "baseline:majority"]


def test_rich_table_renders_to_text():
    from io import StringIO

    from rich.console import Console

    buffer = StringIO()
    Console(file=buffer, width=200).print(render(study_leaderboard(RECORDS, info()), "table"))
    text = buffer.getvalue()
    assert "baseline linear" in text and "higher is better" in text and "nan_loss" in text
    assert "1 fail" in text and "3 pruned" in text


def test_a_trial_resumed_from_a_checkpoint_shows_where_it_went_on_from():
    from dataclasses import replace
    from io import StringIO

    from rich.console import Console

    from automl.report import RESUMED_COLUMNS, compact

    assert not set(RESUMED_COLUMNS) & set(
        study_leaderboard(RECORDS, info()).columns
    )  # none resumed: no column
    # Trial 5 retried trial 1 (killed) from its checkpoint at epoch 2; trial 6 retried one that saved nothing.
    resumed = [
        *RECORDS,
        replace(rec(5, TrialState.COMPLETE, 0.95, depth=2, activation="tanh"), retry_of=1, resumed_at=2),
        replace(rec(6, TrialState.COMPLETE, 0.85, depth=1, activation="relu"), retry_of=3),
    ]
    frame = study_leaderboard(resumed, info())
    assert list(frame.columns[9:12]) == ["retry_of", "resumed_at", "failure"]
    row = frame.set_index("trial").loc["5"]
    assert (row["retry_of"], row["resumed_at"]) == (1, 2)
    shown = compact(frame).set_index("trial")["resumed"]
    assert (shown["5"], shown["6"], shown["0"]) == ("2 (trial 1)", "", "")
    buffer = StringIO()
    Console(file=buffer, width=200).print(render(frame, "table"))
    text = buffer.getvalue()
    assert "resumed" in text and "2 (trial 1)" in text and "resumed = epoch a retry went on from" in text
    assert json.loads(render(frame, "json"))["rows"][1]["resumed_at"] == 2
