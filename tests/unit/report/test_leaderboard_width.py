"""The terminal leaderboard fits its width: one line per trial, key knobs first, the rest with --wide."""

from rich.console import Console

from automl.report import fit_config, render, study_leaderboard
from automl.store import StudyInfo, TrialRecord, TrialState

SUMMARY = "depth=2 units=102,41 act=swish bn=True dropout=0.208 l2=1.4e-05 opt=adam lr=0.00057 sched=constant batch=16"


def test_fit_config_keeps_whole_parts_key_knobs_first():
    assert fit_config(SUMMARY, len(SUMMARY)) == SUMMARY
    cut = fit_config(SUMMARY, 40)
    assert cut == "units=102,41 dropout=0.208 lr=0.00057…" and len(cut) <= 40
    assert fit_config(SUMMARY, 8) == "depth=2…"  # the short parts that fit, when a key knob does not
    assert fit_config(SUMMARY, 5) == "…"


def info():
    return StudyInfo(
        dataset="digits", dataset_fingerprint="f", space="compact", space_hash="h", task="multiclass",
        metric="accuracy", direction="maximize", backend="optuna", algorithm="tpe",
        baselines={"majority": 0.1, "linear": 0.96},
    )  # fmt: skip


def records():
    out = []
    for i in range(6):
        config = {"depth": 3, "units_0": 100 + i, "units_1": 200, "units_2": 50 + i, "activation": ("swish", "relu")[i % 2],
                  "batch_norm": True, "dropout": 0.1 + i / 100, "l2": 1e-5 * (i + 1), "optimizer": "adam",
                  "learning_rate": 0.001 * (i + 1), "lr_schedule": ("cosine", "step")[i % 2], "batch_size": 16 * (1 + i % 2)}  # fmt: skip
        state = TrialState.PRUNED if i == 5 else TrialState.COMPLETE
        out.append(TrialRecord(i, state, 0.9 + i / 100, config, config, epochs_run=10, best_epoch=8))
    return out


def lines(table, width):
    console = Console(width=width, record=True)
    console.print(table)
    return console.export_text().splitlines()


def test_table_fits_each_trial_on_one_line_at_80_columns():
    frame = study_leaderboard(records(), info())
    shown = lines(render(frame, "table", width=80), 80)
    body = [line for line in shown if line.startswith("│")]
    assert len(body) == len(frame)  # one line per row: nothing wrapped
    assert all(len(line) <= 80 for line in shown)
    assert sum("units=" in line for line in body) == 6 and "…" in "\n".join(body)
    assert "full configs: --wide" in "\n".join(shown)


def test_without_a_width_the_full_config_wraps_as_before():
    frame = study_leaderboard(records(), info())
    body = [line for line in lines(render(frame, "table"), 80) if line.startswith("│")]
    assert len(body) > 2 * len(frame)
    assert "sched=cosine" in "\n".join(body)
