"""Trials the stall rule saves at equal final score (#29): ``stop_stalled=N`` replayed on full searches.

Each (dataset, seed) is searched once without the rule: ``AutoMLSearch(n_trials=T, devices=1, seed=seed)``
with the default space (``compact``) and warm start, on the built-in table split with the same seed. The
rule's own decision (``automl.engine._stall.stalled``) is then asked of that study's finished trials in
the order they finished, one more each time, as a one-worker search asks it before each next trial: the
first count k at which it says stop is where ``stop_stalled=N`` would have ended the search. So one
search serves every N (``--stalls``). For each N the table gives k against T, the best validation score
among the first k trials against the best of all T, and the test score of the best config retrained at
each: ``search.retrain(**RETRAIN)`` on all T trials, and the same retrain on a copy of the search holding
only the trials finished by the stop (the same retrain path; a stop that picks the same configs reuses
the T model's score, as the retrain is seeded by the search's seed, not the trial). The retrain deploys the
top-1 config by default (``--retrain '{"ensemble": false}'``): the best config at each point, not the
top-3 ensemble ``retrain()`` deploys by default.

Verdicts use ``quality.py``'s tie margin: one row (of the test split for test scores, of the validation
split for validation accuracy) or 1 % of the RMSE at T. The summary gives, per N, the median share of
the T trials saved and how often the stop's score is equal, worse or better than T's.

The check (``--check``, default ``auto``: the case whose replay stopped earliest at N = ``--check-stall``)
runs one real search with ``stop_stalled=N`` and compares its finished trials with the replay: on the full
search's trials, and on its own.

Each (dataset, seed) and the check append a JSON line to ``--results`` (default ``results/stall.jsonl``);
a rerun skips the ones present. The table is printed and written beside it (``stall.md``). T=40, seeds 0,1
and the five small tables (400 trials, 20 retrains) and the check: 15 min of wall time on 2 shared cores.

Usage: python benchmarks/stall.py [--datasets digits,wine,breast_cancer,diabetes,auto_mpg] [--trials 40]
           [--seeds 0,1] [--stalls 10,15,20] [--tolerance 1e-3] [--retrain JSON]
           [--check auto|none|DATASET:SEED] [--check-stall 15] [--results benchmarks/results/stall.jsonl]
           [--table]
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import math
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _quality_cases import SMALL

HERE = Path(__file__).parent
RESULTS = HERE / "results" / "stall.jsonl"
RETRAIN = {"ensemble": False}


# ---------------------------------------------------------------------------------------- replay
def finish_order(records: list[Any]) -> list[Any]:
    """The trials the stall rule counts (complete and pruned; not failed, not skipped over a limit), in
    the order they finished."""
    finished = [r for r in records if r.state.finished and r.finished is not None]
    return sorted(finished, key=lambda r: (r.finished, r.number))


def replay_stop(records: list[Any], stall: int, *, maximize: bool, tolerance: float) -> int | None:
    """The count of finished trials at which ``stop_stalled=stall`` ends the search (the rule asked after
    each one, as before a one-worker search's next trial), or None when it never does on these trials."""
    from automl.engine._stall import FinishedTrial, stalled
    from automl.store import TrialState

    seen = [
        FinishedTrial(r.number, r.finished, r.score if r.state is TrialState.COMPLETE else None)
        for r in finish_order(records)
    ]
    for count in range(1, len(seen) + 1):
        verdict = stalled(
            seen[:count], maximize=maximize, since=datetime.datetime.min, now=seen[count - 1].finished,
            stall_trials=stall, tolerance=tolerance,
        )  # fmt: skip
        if verdict is not None:
            return count
    return None


def first_trials(records: list[Any], count: int) -> list[Any]:
    """The records of a search that had ended with its first ``count`` finished trials: those and every
    trial that ended (failed) before the last of them."""
    ordered = finish_order(records)
    if count >= len(ordered):
        return list(records)
    last = ordered[count - 1]
    return [
        r
        for r in records
        if r.finished is not None and (r.finished, r.number) <= (last.finished, last.number)
    ]


# ---------------------------------------------------------------------------------------- running
def _deployed(search: Any, records: list[Any], retrain: dict[str, Any]) -> tuple[int, ...]:
    """The trials the retrain deploys from ``records`` (its top configs): equal tuples, equal models."""
    from automl.retrain import deploy_plan, policy_of
    from automl.store import best_first

    top_k, _ = deploy_plan(records, search.study_info_, policy_of(None, **retrain))
    return tuple(r.number for r in best_first(records, search.study_info_.direction)[:top_k])


def _retrained(search: Any, records: list[Any], retrain: dict[str, Any], metric: str) -> float:
    """The test score of ``search.retrain(**retrain)`` had the search ended with ``records``: a copy of the
    fitted search holding only them goes through the same retrain."""
    early = copy.copy(search)
    early.trials_ = records
    early.retrain(**retrain)
    return float(early.test_metrics_[metric])


def _best_val(records: list[Any], direction: str) -> tuple[int, float]:
    from automl.store import best_first

    best = best_first(records, direction)[0]
    return best.number, float(best.score)


def search_case(
    dataset: str, seed: int, trials: int, retrain: dict[str, Any], stop_stalled: int | None = None,
    tolerance: float | None = None,
) -> tuple[Any, dict[str, Any]]:  # fmt: skip
    """One search and its retrain; (the fitted search, the record's common fields)."""
    from automl import AutoMLSearch

    folder = tempfile.mkdtemp(prefix="stall-")
    search = AutoMLSearch(
        n_trials=trials, devices=1, seed=seed, run_dir=Path(folder) / "run", stop_stalled=stop_stalled,
        stall_tolerance=tolerance,
    )  # fmt: skip
    started = time.monotonic()
    search.fit(dataset)
    search_seconds = time.monotonic() - started
    info, data = search.study_info_, search.dataset_
    metric = info.metric
    search.retrain(**retrain)
    number, val = _best_val(search.trials_, info.direction)
    ordered = finish_order(search.trials_)
    return search, {
        "dataset": dataset,
        "seed": seed,
        "metric": metric,
        "direction": info.direction,
        "n_val": len(data.y_val),
        "n_test": len(data.y_test),
        "finished": len(ordered),
        "failed": sum(1 for r in search.trials_ if not r.state.finished),
        "scores": [[r.number, r.state.value, r.score] for r in ordered],
        "best_trial": number,
        "val": val,
        "test": float(search.test_metrics_[metric]),
        "search_seconds": search_seconds,
        "stopped": None if search.stopped_ is None else search.stopped_.describe(),
        "folder": folder,
    }


def run_case(
    dataset: str, seed: int, trials: int, stalls: list[int], tolerance: float, retrain: dict[str, Any]
) -> dict[str, Any]:
    """The full search of (dataset, seed) and, for each N of ``stalls``, where the rule stops it and what
    the stop would have deployed."""
    started = time.monotonic()
    search, record = search_case(dataset, seed, trials, retrain)
    maximize, metric = record["direction"] == "maximize", record["metric"]
    tested = {_deployed(search, search.trials_, retrain): record["test"]}
    stops = {}
    for stall in stalls:
        count = replay_stop(search.trials_, stall, maximize=maximize, tolerance=tolerance)
        used = record["finished"] if count is None else count
        early = first_trials(search.trials_, used)
        chosen = _deployed(search, early, retrain)
        if chosen not in tested:
            tested[chosen] = _retrained(search, early, retrain, metric)
        number, val = _best_val(early, record["direction"])
        stops[str(stall)] = {
            "stopped": count is not None, "trials": used, "best_trial": number, "val": val,
            "test": tested[chosen], "retrained": list(chosen),
        }  # fmt: skip
    _remove(record.pop("folder"))
    return {
        **record, "trials": trials, "tolerance": tolerance, "retrain": retrain, "stops": stops,
        "wall_seconds": time.monotonic() - started, "commit": _commit(),
    }  # fmt: skip


def run_check(full: dict[str, Any], stall: int, tolerance: float, retrain: dict[str, Any]) -> dict[str, Any]:
    """One real search of ``full``'s (dataset, seed) with ``stop_stalled=stall``, against the replay."""
    from automl.store import TrialState

    started = time.monotonic()
    search, record = search_case(
        full["dataset"], full["seed"], full["trials"], retrain, stop_stalled=stall, tolerance=tolerance
    )
    own = replay_stop(search.trials_, stall, maximize=record["direction"] == "maximize", tolerance=tolerance)
    _remove(record.pop("folder"))
    real = record["scores"]
    same = [row[:2] for row in real] == [row[:2] for row in full["scores"][: len(real)]] and all(
        a[1] != TrialState.COMPLETE.value or math.isclose(a[2], b[2], rel_tol=1e-9)
        for a, b in zip(real, full["scores"], strict=False)
    )
    return {
        **record, "check": True, "stall": stall, "trials": full["trials"], "tolerance": tolerance,
        "retrain": retrain, "replay_full": full["stops"].get(str(stall), {}).get("trials"),
        "replay_own": own, "same_trials": same, "wall_seconds": time.monotonic() - started,
        "commit": _commit(),
    }  # fmt: skip


def _remove(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _commit() -> str | None:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, cwd=HERE
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "automl"], capture_output=True, text=True, cwd=HERE
        )
        return head + ("+" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return None


# ---------------------------------------------------------------------------------------- table
def _fmt(value: float | None, metric: str, signed: bool = False) -> str:
    if value is None:
        return "-"
    shown = 100 * value if metric == "accuracy" else value
    return f"{shown:+.2f}" if signed else f"{shown:.2f}"


def margin(metric: str, rows: int, reference: float) -> float:
    """quality.py's tie margin in score units: one row of accuracy, or 1 % of the reference (an RMSE)."""
    return 1.0 / rows if metric == "accuracy" else 0.01 * abs(reference)


def verdict(stop: float, full: float, tie: float, maximize: bool) -> str:
    """``equal`` within the margin, else ``worse`` or ``better`` (the score at the stop against T's)."""
    gain = (stop - full) if maximize else (full - stop)
    return "equal" if abs(gain) <= tie + 1e-12 else "better" if gain > 0 else "worse"


def render(records: list[dict[str, Any]]) -> str:
    """The markdown of the results (pure: records in, text out)."""
    cases = {(r["dataset"], r["seed"]): r for r in records if not r.get("check")}
    checks = [r for r in records if r.get("check")]
    stalls = sorted({int(n) for r in cases.values() for n in r["stops"]})
    rows, judged = [], {n: [] for n in stalls}
    for (dataset, seed), case in sorted(cases.items()):
        metric, maximize = case["metric"], case["direction"] == "maximize"
        test_tie = margin(metric, case["n_test"], case["test"])
        val_tie = margin(metric, case["n_val"], case["val"])
        for stall in stalls:
            stop = case["stops"].get(str(stall))
            if stop is None:
                continue
            saved = 1 - stop["trials"] / case["finished"]
            test = verdict(stop["test"], case["test"], test_tie, maximize)
            val = verdict(stop["val"], case["val"], val_tie, maximize)
            judged[stall].append((saved, test, val))
            used = f"{stop['trials']}" + ("" if stop["stopped"] else " (no stop)")
            rows.append(
                f"| {dataset} | {seed} | {metric} | {stall} | {used} / {case['finished']} | {saved:.0%} "
                f"| {_fmt(stop['val'], metric)} | {_fmt(case['val'], metric)} | {val} "
                f"| {_fmt(stop['test'], metric)} | {_fmt(case['test'], metric)} | {test} |"
            )
    first = next(iter(cases.values()), {})
    lines = [
        "## Trials the stall rule saves (#29)",
        "",
        f"Each (dataset, seed): one search of {first.get('trials', 'T')} trials without the rule "
        "(`compact`, `devices=1`, default warm start, split and search seeded by the seed); `stop_stalled=N` "
        f"(tolerance {first.get('tolerance', '-')}) replayed on its finished trials in finish order by the "
        "rule's own function. Trials: where the rule stops / trials of the full search. Val: best validation "
        "score of the trials finished by the stop / of all. Test: the best config retrained "
        f"(`retrain(**{json.dumps(first.get('retrain', RETRAIN))})`) at the stop / at the end, scored once "
        "on the test split. Accuracy in %, RMSE in original units (lower is better). Verdict of the stop "
        "against the end: equal within one row (validation rows for val, test rows for test) or 1 % of the "
        "RMSE.",
        "",
        "| dataset | seed | metric | N | trials | saved | val at stop | val at T | val | test at stop "
        "| test at T | test |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---|",
        *rows,
        "",
        "## Summary per N",
        "",
        "| N | cases | stopped early | median saved | test equal / worse / better | val equal / worse |",
        "|---:|---:|---:|---:|---|---|",
    ]
    for stall in stalls:
        marks = judged[stall]
        if not marks:
            continue
        median = statistics.median(saved for saved, _, _ in marks)
        early = sum(1 for saved, _, _ in marks if saved > 0)
        tests = " / ".join(str(sum(1 for _, t, _ in marks if t == v)) for v in ("equal", "worse", "better"))
        vals = " / ".join(str(sum(1 for *_, v in marks if v == w)) for w in ("equal", "worse"))
        lines.append(f"| {stall} | {len(marks)} | {early} | {median:.0%} | {tests} | {vals} |")
    for check in checks:
        replay = check["replay_full"]
        match = "matches" if replay == check["finished"] else "does NOT match"
        lines += [
            "",
            f"## Check: a real search with `stop_stalled={check['stall']}`",
            "",
            f"{check['dataset']} seed {check['seed']}: the real search finished {check['finished']} trials "
            f"({check['stopped'] or 'not stopped by the rule'}); the replay on the full search's trials "
            f"stops at {replay}: it {match}. The replay on the real search's own trials stops at "
            f"{check['replay_own']}. Its trials are "
            + ("the same" if check["same_trials"] else "NOT the same")
            + " as the full search's first ones (numbers, states and scores). Real stop: best val "
            f"{_fmt(check['val'], check['metric'])}, test {_fmt(check['test'], check['metric'])}.",
        ]
    wall = sum(r["wall_seconds"] for r in records)
    commits = sorted({str(r.get("commit")) for r in records})
    lines += [
        "",
        f"Wall time: {wall / 60:.1f} min for {len(cases)} searches and {len(checks)} check(s), retrains "
        f"included (commit {', '.join(commits)}).",
    ]
    return "\n".join(lines) + "\n"


def load_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _append(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, default=str) + "\n")


def _check_case(text: str, cases: dict[tuple[str, int], dict[str, Any]], stall: int) -> dict[str, Any] | None:
    """The full search the check repeats with the rule: ``DATASET:SEED``, or ``auto``, the one whose replay
    stopped earliest at ``stall``."""
    if text == "none" or not cases:
        return None
    if text == "auto":
        stopping = [c for c in cases.values() if c["stops"].get(str(stall), {}).get("stopped")]
        pool = stopping or list(cases.values())
        return min(pool, key=lambda c: (c["stops"].get(str(stall), {}).get("trials", math.inf), c["seed"]))
    dataset, _, seed = text.partition(":")
    return cases.get((dataset, int(seed or 0)))


# ---------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", default=",".join(SMALL))
    parser.add_argument("--trials", type=int, default=40, help="T: finished trials of each full search")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--stalls", default="10,15,20", help="the values N of stop_stalled replayed")
    parser.add_argument("--tolerance", type=float, default=None, help="stall_tolerance; default automl's")
    parser.add_argument("--retrain", default=json.dumps(RETRAIN), help="JSON of retrain() arguments")
    parser.add_argument("--check", default="auto", help="auto, none or DATASET:SEED")
    parser.add_argument("--check-stall", type=int, default=15, help="the N of the check's real search")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--table", action="store_true", help="only print the table of the results file")
    args = parser.parse_args()

    if not args.table:
        from automl.engine import STALL_TOLERANCE, parse_stop_stalled

        stalls = [parse_stop_stalled(n, argument="--stalls")[0] for n in args.stalls.split(",") if n]
        tolerance = STALL_TOLERANCE if args.tolerance is None else args.tolerance
        retrain = json.loads(args.retrain)
        records = load_records(args.results)
        done = {(r["dataset"], r["seed"]) for r in records if not r.get("check")}
        for dataset in (d for d in args.datasets.split(",") if d):
            for seed in (int(s) for s in args.seeds.split(",") if s):
                if (dataset, seed) in done:
                    continue
                record = run_case(dataset, seed, args.trials, stalls, tolerance, retrain)  # type: ignore[arg-type]
                _append(args.results, record)
                used = ", ".join(f"N={n}: {s['trials']}" for n, s in record["stops"].items())
                print(
                    f"{dataset} seed {seed}: {record['finished']} trials, val {record['val']:.4f}, test "
                    f"{record['test']:.4f}; stops {used} ({record['wall_seconds']:.0f} s)",
                    flush=True,
                )
        records = load_records(args.results)
        cases = {(r["dataset"], r["seed"]): r for r in records if not r.get("check")}
        checked = {(r["dataset"], r["seed"], r["stall"]) for r in records if r.get("check")}
        full = _check_case(args.check, cases, args.check_stall)
        if full is not None and (full["dataset"], full["seed"], args.check_stall) not in checked:
            record = run_check(full, args.check_stall, tolerance, retrain)
            _append(args.results, record)
            print(
                f"check {record['dataset']} seed {record['seed']}: real stop after {record['finished']} "
                f"trials, replay {record['replay_full']} (own {record['replay_own']})",
                flush=True,
            )
    table = render(load_records(args.results))
    print()
    print(table, end="")
    if not args.table:
        args.results.with_suffix(".md").write_text(table, encoding="utf-8")
        print(f"\ntable written to {args.results.with_suffix('.md')}")


if __name__ == "__main__":
    main()
