"""A search on data of real size: the 60,000-image Fashion-MNIST-shaped set, the ``cnn`` space, a wall-clock
budget, then the retrain of the winner, each timed, through the command line a user types.

The set is generated offline (:func:`automl.datasets._synthetic.fashion_like`: uint8 60,000 x 28 x 28 and
10,000 test images) and written as an NPZ file, then

    automl search --dataset FILE --space cnn --timeout 10m --run-dir RUN --quiet --no-report
    automl retrain RUN

run one after the other. Prints the search's wall time against its budget, its trials (finished, pruned,
failed) and epochs trained, and the retrain's wall time (outside the budget) and peak RSS with what it
trained (its ``metrics.json``), and appends one JSON line to ``benchmarks/results/large_search.jsonl`` with
a Markdown table in ``large_search.md``.

Usage: python benchmarks/large_search.py [--timeout 10m] [--workers auto] [--keep RUN_DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


def run(command: list[str]) -> tuple[float, float]:
    """Run ``command``; its wall seconds and its own peak RSS in MB (not its children's)."""
    started = time.perf_counter()
    print("$", " ".join(command), flush=True)
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def trials_of(run_dir: Path) -> dict[str, int]:
    import optuna

    from automl.store import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(f"sqlite:///{run_dir / 'automl.db'}")
    counts = {"complete": 0, "pruned": 0, "failed": 0, "epochs": 0}
    for summary in optuna.get_all_study_summaries(storage):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        for trial in study.get_trials(deepcopy=False):
            state = trial.state.name.lower()
            key = {"complete": "complete", "pruned": "pruned", "fail": "failed"}.get(state)
            if key:
                counts[key] += 1
            counts["epochs"] += int(trial.user_attrs.get("epochs_run", 0) or 0)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timeout", default="10m")
    parser.add_argument("--workers", default=None, help="CPU worker processes (default: automl's)")
    parser.add_argument("--keep", type=Path, help="run directory to keep (default: a temporary one)")
    parser.add_argument("--note", default="", help="what this run measured (a code version, a change)")
    args = parser.parse_args()
    from automl._durations import parse_duration
    from automl.datasets._synthetic import fashion_like

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "fashion_like.npz"
        x, y, x_test, y_test = fashion_like()
        np.savez(data, x=x, y=y, x_test=x_test, y_test=y_test)
        run_dir = args.keep or Path(tmp) / "run"
        automl_cli = [sys.executable, "-m", "automl"]
        search = [*automl_cli, "search", "--dataset", str(data), "--space", "cnn", "--timeout", args.timeout,
                  "--run-dir", str(run_dir), "--quiet", "--no-report", "--overwrite"]  # fmt: skip
        if args.workers:
            search += ["--workers", args.workers]
        search_seconds, _ = run(search)
        retrain_rss: float | None = None
        try:
            retrain_seconds, retrain_rss = run([*automl_cli, "retrain", str(run_dir)])
        except subprocess.CalledProcessError:  # no complete trial: nothing to retrain (said above)
            retrain_seconds = None
        counts = trials_of(run_dir)
        metrics_files = sorted(run_dir.glob("models/*/metrics.json"))
        test = json.loads(metrics_files[0].read_text()) if metrics_files else {}

    budget = parse_duration(args.timeout, name="timeout")
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "dataset": "fashion_like 60000x28x28 uint8 + 10000 test",
        "space": "cnn",
        "budget_s": budget,
        "search_s": round(search_seconds, 1),
        "retrain_s": None if retrain_seconds is None else round(retrain_seconds, 1),
        "retrain_rss_mb": None if retrain_rss is None else round(retrain_rss),
        "note": args.note,
        **counts,
        # what the retrain did (its metrics.json): each config's epochs and policy, what the limit left out
        "retrain": {
            "deployed": test.get("deployed"),
            "test_score": test.get("deployed_test_score"),
            "time_limit": test.get("time_limit"),
            "fit_seconds": test.get("retrain_seconds"),
            "configs": [
                {
                    "trial": c["trial"],
                    "epochs": [r["epochs"] for r in c["runs"]],
                    "policy": c["epochs_policy"],
                }
                for c in test.get("configs", [])
            ],
            "skipped": [s["trial"] for s in test.get("skipped", [])],
        },
    }
    print(
        f"search: {search_seconds:.0f} s for a {budget:.0f} s budget ({search_seconds / budget:.2f}x); "
        f"{counts['complete']} complete, {counts['pruned']} pruned, {counts['failed']} failed trials; "
        f"{counts['epochs']} epochs"
    )
    print(
        "retrain (outside the budget): "
        + (
            "impossible"
            if retrain_seconds is None
            else f"{retrain_seconds:.0f} s, peak RSS {retrain_rss:.0f} MB; {json.dumps(result['retrain'])}"
        )
    )
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / "large_search.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(result) + "\n")
    write_table()


def write_table() -> None:
    """``large_search.md`` from every line of ``large_search.jsonl``."""
    lines = [
        "| date | machine | budget | search wall | trials complete/pruned/failed | epochs | retrain | "
        "retrain peak RSS | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for line in (RESULTS / "large_search.jsonl").read_text().splitlines():
        r = json.loads(line)
        rss = r.get("retrain_rss_mb")
        lines.append(
            f"| {r['date']} | {r['machine']} | {r['budget_s']:.0f} s | {r['search_s']:.0f} s | "
            f"{r['complete']}/{r['pruned']}/{r['failed']} | {r['epochs']} | "
            + ("none (no complete trial)" if r["retrain_s"] is None else f"{r['retrain_s']:.0f} s")
            + f" | {'–' if rss is None else f'{rss:,} MB'} | {r.get('note', '')} |"
        )
    (RESULTS / "large_search.md").write_text(
        "# Large search: 60,000 generated Fashion-MNIST-shaped images, cnn space\n\n"
        "`python benchmarks/large_search.py` (search budget `--timeout`; the retrain runs after it).\n\n"
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
