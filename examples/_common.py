"""What every example of the hand-tuning workflows shares: its command line, one study, and how it is shown.

Each example runs a few *studies*, each an :class:`automl.AutoMLSearch` in its own run folder under
``--out`` (``<out>/<study>/``: ``automl.db``, ``leaderboard.csv``, ``report.html``). A comparison of
fixed models is a grid search over a space whose searched parameters are exactly the knobs compared;
a tuning step is a TPE search. Every leaderboard shows the dataset's baselines beside the models, and
every finished trial gets :func:`automl.diagnose`'s label for its learning curves.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

import automl
from automl.report import diagnose_trials, render
from automl.space import Fixed, Parameter, SearchSpace


def parse_args(
    description: str, name: str, full_help: str, argv: Sequence[str] | None = None
) -> argparse.Namespace:
    """The switches every example takes: ``--out``, ``--budget``, ``--full``, ``--workers``, ``--seed``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=Path("runs/examples") / name, help="output folder")
    parser.add_argument(
        "--budget",
        type=float,
        default=1.0,
        help="scale of trials and epochs (1 = the default study; 0.1 = a quick smoke run)",
    )
    parser.add_argument("--full", action="store_true", help=full_help)
    parser.add_argument("--workers", default="auto", help="automl devices: auto, 1 (this process), 2, …")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.budget > 0:
        parser.error(f"--budget must be positive, got {args.budget}")
    args.workers = int(args.workers) if str(args.workers).isdigit() else args.workers
    return args


def scaled(value: int, budget: float, minimum: int = 1) -> int:
    """``value`` scaled by the budget, never below ``minimum``."""
    return max(minimum, math.ceil(value * budget))


def space(
    name: str, parameters: Sequence[Parameter], *, family: str = "mlp", objective: str = "auto", **fixed: Any
) -> SearchSpace:
    """A search space of ``parameters`` plus fixed values (``epochs=40, optimizer="sgd"``…)."""
    params = [*parameters, *(Fixed(key, value) for key, value in fixed.items())]
    return SearchSpace(name=name, family=family, parameters=params, objective=objective)


def with_fixed(base: SearchSpace, **fixed: Any) -> SearchSpace:
    """A copy of ``base`` (e.g. a shipped space) with some parameters replaced by fixed values."""
    kept = [p for p in base.declared if p.name not in fixed]
    return SearchSpace(
        name=base.name,
        family=base.family,
        objective=base.objective,
        description=base.description,
        parameters=[*kept, *(Fixed(key, value) for key, value in fixed.items())],
    )


def study(
    out: Path,
    name: str,
    data: Any,
    search_space: SearchSpace,
    *,
    algorithm: str = "grid",
    n_trials: int | None = None,
    workers: Any = 1,
    seed: int = 0,
    **fit_args: Any,
) -> automl.AutoMLSearch:
    """Run one study into ``out/name`` (replacing an earlier one) and write its report.

    ``data`` is a :class:`automl.Dataset` or a dataset's name; a large downloaded dataset is best given by
    name, so that worker processes load it themselves instead of receiving a copy through a file.

    ``algorithm="grid"`` tries every config of the space once (``n_trials`` defaults to their number);
    ``"tpe"`` searches ``n_trials`` configs. ``fit_args`` go to :meth:`automl.AutoMLSearch.fit`
    (``persistence=``, ``split=``, ``target=``).
    """
    if algorithm == "grid" and n_trials is None:
        n_trials = search_space.grid_size()
    search = automl.AutoMLSearch(
        space=search_space,
        backend="optuna",
        algorithm=algorithm,
        pruner="none",
        n_trials=n_trials,
        run_dir=out / name,
        overwrite=True,
        seed=seed,
        devices=workers,
    )
    search.fit(data, **fit_args)
    search.report()
    return search


def diagnoses(search: automl.AutoMLSearch) -> pd.DataFrame:
    """Every finished trial of a study with its score, best epoch, diagnosis and advice, best first."""
    rows = diagnose_trials(search.trials_, search.study_info_, top=len(search.trials_))
    frame = pd.DataFrame(rows, columns=["rank", "trial", "score", "diagnosis", "epoch", "advice"])
    configs = {record.number: record.config for record in search.trials_}
    frame["config"] = [configs[t] for t in frame["trial"]]
    return frame


def show(search: automl.AutoMLSearch, title: str, *, top: int | None = None) -> pd.DataFrame:
    """Print a study's leaderboard (baselines included) and the diagnosis of each trial; return the latter."""
    print(f"\n## {title}  ({search.run_dir_}/report.html)\n")
    print(render(search.leaderboard_, "markdown", top=top))
    table = diagnoses(search)
    print()
    for row in table.itertuples():
        print(f"  trial {row.trial:>2}  {row.score:.4g}  {row.diagnosis:<9}  {row.advice}")
    return table


def baseline(search: automl.AutoMLSearch, name: str) -> float:
    """A baseline's validation score in the study (``mean``, ``linear``, ``majority``, ``persistence``)."""
    return float(search.study_info_.baselines[name])
