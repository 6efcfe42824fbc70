"""`automl retrain --pick`: the pick written as the help writes it, and every contradiction one line (exit 2,
no traceback) before any dataset is loaded or model trained."""

from __future__ import annotations

import pytest
from pareto_runs import pareto_run

from automl.cli._models import join_pick


def test_the_pick_and_its_tolerance_are_one_value_however_the_shell_split_them():
    assert join_pick(["retrain", "r", "--pick", "smallest-within", "0.005"]) == [
        "retrain", "r", "--pick", "smallest-within 0.005",
    ]  # fmt: skip
    assert join_pick(["retrain", "--pick=fastest-within", "1%", "r"]) == [
        "retrain",
        "--pick",
        "fastest-within 1%",
        "r",
    ]
    assert join_pick(["retrain", "--pick", "fastest-within 1%", "r"]) == [
        "retrain",
        "--pick",
        "fastest-within 1%",
        "r",
    ]
    assert join_pick(["retrain", "--pick", "best", "r"]) == ["retrain", "--pick", "best", "r"]
    assert join_pick(["retrain", "r", "--pick", "smallest-within", "--top", "2"])[-3:] == [
        "smallest-within",
        "--top",
        "2",
    ]


@pytest.mark.parametrize(
    ("objectives", "pick", "says"),
    [
        ((), "smallest-within 0.01", "error: --pick smallest-within 0.01 needs a search that traded the score "
         "against size or params, but the iris study recorded no size or params objective (its objectives "
         "beyond accuracy: none): search with `objectives=accuracy,size`, or pick 'best'"),
        (("size",), "fastest-within 1%", "recorded no latency objective (its objectives beyond accuracy: size)"),
    ],
)  # fmt: skip
def test_a_pick_the_study_cannot_answer_is_one_line(cli, tmp_path, objectives, pick, says):
    run = pareto_run(tmp_path / "run", objectives=objectives)
    code, _, err = cli(["retrain", str(run), "--pick", *pick.split(" ")])
    assert code == 2 and says in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not (run / "models").exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--pick", "smallest-within", "0.5pt"], "error: --pick: smallest-within takes a tolerance of 0 or more, "
         "such as 0.005 or 1%, not '0.5pt'"),
        (["--pick", "smallest"], "error: --pick: give best, smallest-within TOL or fastest-within TOL"),
        (["--pick", "fastest-within"], "error: --pick: fastest-within needs a tolerance"),
        (["--pick", "smallest-within", "0.01", "--bag"], "error: --pick smallest-within 0.01 deploys one small "
         "or fast model, and --bag averages K fold models"),
        (["--pick", "smallest-within", "0.01", "--ensemble"], "say how many with --top, or drop --ensemble"),
    ],
)  # fmt: skip
def test_a_malformed_or_contradictory_pick_is_one_line(cli, tmp_path, args, says):
    run = pareto_run(tmp_path / "run")
    code, _, err = cli(["retrain", str(run), *args])
    assert code == 2 and says in " ".join(err.split()) and len(err.strip().splitlines()) == 1
