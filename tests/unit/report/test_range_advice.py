"""Range advice on constructed studies: best configs crowding an edge of a range, choices that never win.

Each study is a list of configs of a real :class:`SearchSpace`, best first, over 30 worse "background"
trials that spread every parameter inside its range. The pure function reads :class:`TrialRecord`; the
report and ``automl leaderboard --diagnose`` read the same trials from a real SQLite storage.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from automl.report import range_advice, render_html, report_data
from automl.space import Bool, Choice, Fixed, Float, Int, SearchSpace
from automl.store import TrialRecord, TrialState

SPACE = SearchSpace(
    name="ranges",
    family="mlp",
    parameters=[
        Int("depth", 1, 3),
        Int("units", 8, 256, log=True, per_layer="depth"),
        Choice("activation", ("relu", "tanh", "gelu", "sigmoid")),
        Bool("batch_norm"),
        Float("dropout", 0.0, 0.5),
        Choice("optimizer", ("adam", "sgd")),
        Float("momentum", 0.0, 0.9, active_if={"optimizer": ["sgd"]}),
        Float("learning_rate", 1e-4, 1e-2, log=True),
        Int("decay_every", 2, 10),
        Fixed("epochs", 3),
    ],
)

EXAMPLE = "learning_rate: 4 of the top 5 at the top edge of [1e-4, 1e-2] — widen to 1e-1"


def config(**values: Any) -> dict[str, Any]:
    """A config in the middle of every range, with ``values`` over it (inactive keys dropped)."""
    out: dict[str, Any] = {
        "depth": 2,
        "units_0": 64,
        "units_1": 64,
        "units_2": 64,
        "activation": "relu",
        "batch_norm": False,
        "dropout": 0.25,
        "optimizer": "adam",
        "momentum": 0.45,
        "learning_rate": 1e-3,
        "decay_every": 6,
        "epochs": 3,
    }
    out.update(values)
    return {k: v for k, v in out.items() if SearchSpace.is_active(SPACE[k], out)}


def background(n: int = 30) -> list[dict[str, Any]]:
    """Worse trials spreading every parameter inside its range (sigmoid tried 10×, gelu twice)."""
    return [
        config(
            depth=1 + i % 3,
            **{f"units_{k}": round(8 * 32 ** (((i * 7 + k * 3) % n) / n)) for k in range(3)},
            activation="gelu" if i in (0, 1) else ("relu", "tanh", "sigmoid")[i % 3],
            batch_norm=bool(i % 2),
            dropout=0.5 * ((i * 11) % n) / n,
            optimizer="sgd" if i % 2 == 0 else "adam",
            momentum=0.9 * ((i * 7) % n) / n,
            learning_rate=10 ** (-4 + 2 * ((i * 13) % n) / n),
            decay_every=2 + (i * 5) % 9,
        )
        for i in range(n)
    ]


def best(n: int = 5, **columns: list[Any]) -> list[dict[str, Any]]:
    """``n`` top configs, middle of every range but for ``columns`` (one value per config); they alternate
    relu/tanh, batch norm off/on and adam/sgd, so of the choices only sigmoid never wins."""
    return [
        config(
            **{
                "activation": ("relu", "tanh")[i % 2],
                "batch_norm": bool(i % 2),
                "optimizer": ("adam", "sgd")[i % 2],
                **{key: values[i] for key, values in columns.items()},
            }
        )
        for i in range(n)
    ]


def records(configs: list[dict[str, Any]], *, sign: float = 1.0) -> list[TrialRecord]:
    """Complete trials scored best first (``sign=-1``: lower scores first, for a minimised metric)."""
    return [
        TrialRecord(
            number=i,
            state=TrialState.COMPLETE,
            score=sign * (1.0 - 0.01 * i),
            params={k: v for k, v in c.items() if k != "epochs"},
            config=c,
        )
        for i, c in enumerate(configs)
    ]


def advice(configs: list[dict[str, Any]], direction: str = "maximize") -> dict[str, str]:
    found = range_advice(records(configs, sign=1.0 if direction == "maximize" else -1.0), SPACE, direction)
    return {a.parameter: a.advice for a in found}


LR_TOP = [9.5e-3, 9e-3, 8e-3, 7e-3, 2e-3]


def test_best_learning_rates_at_the_top_of_a_log_range_ask_for_a_decade_more():
    found = range_advice(records(best(learning_rate=LR_TOP) + background()), SPACE, "maximize")
    lr = next(a for a in found if a.parameter == "learning_rate")
    assert lr.advice == EXAMPLE
    assert (lr.kind, lr.edge, lr.count, lr.top, lr.scale) == ("edge", "high", 4, 5, "log")
    assert lr.bounds == (1e-4, 1e-2) and lr.proposed == pytest.approx(0.1)
    assert json.loads(json.dumps(lr.to_dict()))["proposed"] == pytest.approx(0.1)


def test_the_edge_is_the_outer_tenth_of_the_range_on_its_own_scale():
    # 10 ** -2.2 ≈ 6.31e-3 is 90 % of [1e-4, 1e-2] on a log scale (a linear scale would put it at 63 %)
    inside = [9.5e-3, 9e-3, 6.2e-3, 6.2e-3, 2e-3]
    assert "learning_rate" not in advice(best(learning_rate=inside) + background())
    at_edge = [9.5e-3, 9e-3, 6.4e-3, 6.4e-3, 2e-3]
    assert "learning_rate" in advice(best(learning_rate=at_edge) + background())


def test_a_minimised_metric_ranks_its_lowest_scores_first():
    assert advice(best(learning_rate=LR_TOP) + background(), "minimize")["learning_rate"] == EXAMPLE


def test_an_int_at_the_bottom_edge_widens_by_the_range_width_clipped_to_one():
    found = advice(best(decay_every=[2, 2, 2, 3, 6]) + background())
    # 2 - (10 - 2) = -6, but an epoch count stays >= 1
    assert found["decay_every"] == "decay_every: 3 of the top 5 at the bottom edge of [2, 10] — widen to 1"


def test_a_fraction_widens_linearly_but_stays_below_one():
    found = advice(best(dropout=[0.5, 0.49, 0.48, 0.3, 0.47]) + background())
    assert found["dropout"] == "dropout: 4 of the top 5 at the top edge of [0, 0.5] — widen to 0.99"


def test_a_bound_already_at_its_limit_says_so():
    found = advice(best(depth=[1, 1, 1, 1, 2]) + background())
    assert (
        found["depth"]
        == "depth: 4 of the top 5 at the bottom edge of [1, 3] — already the lowest value depth allows"
    )


def test_top_configs_spread_inside_their_ranges_are_not_flagged():
    spread = best(
        learning_rate=[2e-3, 5e-4, 1e-3, 3e-3, 8e-4],
        dropout=[0.1, 0.2, 0.3, 0.4, 0.25],
        decay_every=[4, 6, 8, 5, 7],
        depth=[1, 2, 3, 2, 2],
    )
    found = range_advice(records(spread + background()), SPACE, "maximize")
    assert [a.parameter for a in found if a.kind == "edge"] == []


def test_choices_never_among_the_top_are_candidates_to_prune():
    found = range_advice(records(best() + background()), SPACE, "maximize")
    prunes = {a.parameter: a for a in found if a.kind == "prune"}
    # sigmoid was tried 10 times and never won; gelu only twice (too few to judge); batch norm won both ways
    assert set(prunes) == {"activation"}
    assert prunes["activation"].values == ("sigmoid",) and prunes["activation"].tried == (10,)
    assert prunes["activation"].advice == (
        "activation: never among the top 5: sigmoid (tried 10×) — candidate to prune"
    )
    # edges come first, then the choices
    assert [a.kind for a in found] == sorted((a.kind for a in found), key=["edge", "prune"].index)


def test_a_bool_that_never_wins_is_listed_too():
    top = [{**c, "batch_norm": True} for c in best()]
    assert advice(top + background())["batch_norm"] == (
        "batch_norm: never among the top 5: false (tried 15×) — candidate to prune"
    )


def test_per_layer_values_are_pooled_over_the_active_layers_of_the_top_configs():
    layers = [[200, 256, 190], [220, 100], [250], [256, 256, 64], [200, 30]]
    top = best(depth=[len(w) for w in layers])
    for c, widths in zip(top, layers, strict=True):
        c.update({f"units_{k}": w for k, w in enumerate(widths)})
    trials = records(top + background())
    # a stale inactive layer in a record (depth 1) is not counted
    trials[2].config["units_2"] = 8
    found = {a.parameter: a for a in range_advice(trials, SPACE, "maximize")}
    units = found["units"]
    assert units.per_layer and (units.count, units.judged) == (8, 11)
    assert units.advice == (
        "units (per layer): 8 of the 11 layer values of the top 5 at the top edge of [8, 256] — widen to 2560"
    )
    assert not any(name.startswith("units_") for name in found)


def test_a_conditional_parameter_is_judged_on_the_trials_where_it_is_active():
    # the best five use adam (no momentum); the best sgd trials crowd momentum's top edge
    good_sgd = best(optimizer=["sgd"] * 5, momentum=[0.88, 0.89, 0.9, 0.85, 0.5])
    adam = best(optimizer=["adam"] * 5)
    found = advice(adam + good_sgd + background())
    assert found["momentum"] == (
        "momentum (where active): 4 of the top 5 at the top edge of [0, 0.9] — widen to 0.99"
    )
    # with fewer than 10 complete sgd trials momentum is not judged
    adam_only = [
        {k: v for k, v in c.items() if k != "momentum"} | {"optimizer": "adam"} for c in background()
    ]
    assert "momentum" not in advice(adam + good_sgd + adam_only[:20] + background()[:4])


def test_the_top_is_a_tenth_of_many_trials():
    # 65 trials: the top is 7, and 4 of 7 at the edge is short of 60 %
    many = best(learning_rate=LR_TOP) + best(2) + background(58)
    assert "learning_rate" not in advice(many)
    assert "learning_rate" in advice(best(learning_rate=LR_TOP) + background())


def test_too_few_trials_are_not_judged():
    assert range_advice(records(best(learning_rate=LR_TOP) + background(4)), SPACE, "maximize") == []


# ----------------------------------------------------------------- stored runs: the report and the CLI
def stored_run(tmp_path: Path, configs: list[dict[str, Any]]) -> Path:
    """A search run in a real SQLite storage holding ``configs`` as complete trials, best first."""
    import optuna

    from automl.backends._distributions import distribution
    from automl.store import (
        BackendEntry,
        BudgetEntry,
        DatasetEntry,
        RunDir,
        RunManifest,
        SpaceEntry,
        StudyInfo,
        open_storage,
        storage_url_for,
        study_name,
        write_manifest,
    )

    path = tmp_path / "ranges"
    path.mkdir()
    storage = open_storage(storage_url_for(path, None), heartbeat_interval=None)
    study_id = study_name("ranges", "wine", SPACE.name, "optuna", "tpe")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=study_id, storage=storage, direction="maximize")
    info = StudyInfo(
        dataset="wine", dataset_fingerprint="f", space=SPACE.name, space_hash=SPACE.content_hash,
        task="multiclass", metric="accuracy", direction="maximize", backend="optuna", algorithm="tpe",
        baselines={"majority": 0.4},
    )  # fmt: skip
    for key, value in info.to_attrs().items():
        study.set_user_attr(key, value)
    trials = []
    for record in records(configs):
        score = float(record.score or 0.0)
        record.history = {
            "loss": [1.0 - 0.1 * e for e in range(5)],
            "val_loss": [1.1 - 0.1 * e for e in range(5)],
            "val_accuracy": [score * (1 - math.exp(-(e + 1))) for e in range(5)],
        }
        record.stopped_by, record.epochs_run = "max_epochs", 5
        trials.append(
            optuna.trial.create_trial(
                state=optuna.trial.TrialState.COMPLETE,
                value=score,
                params=record.params,
                distributions={k: distribution(SPACE[k]) for k in record.params},
                user_attrs=record.user_attrs(),
            )
        )
    study.add_trials(trials)
    manifest = RunManifest(
        kind="search", name="ranges", datasets=(DatasetEntry(name="wine", task="multiclass"),),
        spaces=(SpaceEntry.of(SPACE),), backend=BackendEntry("optuna", "tpe"), studies=(study_id,),
        metric="accuracy", budget=BudgetEntry(trials=len(configs)), devices={"workers": 1},
    )  # fmt: skip
    write_manifest(RunDir(path), storage, manifest)
    return path


def test_the_report_has_a_range_advice_section_only_when_there_is_advice(tmp_path, make_run):
    data = report_data(stored_run(tmp_path, best(learning_rate=LR_TOP) + background()))
    study = data["studies"][0]
    assert [a["advice"] for a in study["range_advice"]] == [
        EXAMPLE,
        "activation: never among the top 5: sigmoid (tried 10×) — candidate to prune",
    ]
    page = render_html(data)
    assert '<h3 id="range-advice-1">Range advice</h3>' in page and EXAMPLE in page
    # a run whose space the manifest cannot rebuild (and one without advice) shows no section
    plain = report_data(make_run(12))
    assert plain["studies"][0]["range_advice"] == []
    assert "Range advice" not in render_html(plain)


def test_leaderboard_diagnose_prints_the_advice_after_the_diagnosis(tmp_path, cli):
    run = str(stored_run(tmp_path, best(learning_rate=LR_TOP) + background()))
    code, out, err = cli(["leaderboard", run, "--diagnose"])
    assert code == 0, err
    assert out.index("diagnosis of the best trials") < out.index("Range advice · wine · ranges")
    assert EXAMPLE in out and "sigmoid (tried 10×)" in out
    code, out, _ = cli(["leaderboard", run, "--diagnose", "--format", "json"])
    rows = json.loads(out)["range_advice"]
    assert code == 0 and rows[0]["advice"] == EXAMPLE and rows[0]["bounds"] == [1e-4, 1e-2]
    code, out, _ = cli(["leaderboard", run, "--diagnose", "--format", "markdown"])
    assert code == 0 and f"\n**Range advice · wine · ranges**\n\n- {EXAMPLE}\n" in out
    code, out, _ = cli(["leaderboard", run, "--diagnose", "--format", "csv"])
    assert code == 0 and f'\nparameter,kind,advice\nlearning_rate,edge,"{EXAMPLE}"\n' in out
    # without --diagnose, no advice
    code, out, _ = cli(["leaderboard", run])
    assert code == 0 and "Range advice" not in out
