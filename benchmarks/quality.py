"""Test score automl reaches against the scripts a user would otherwise write, at equal wall-clock time.

Contenders (see ``_quality_contenders.py``): ``optuna`` (TPE + MedianPruner over a Keras MLP with the knobs
of automl's ``compact`` space), ``kerastuner`` (Hyperband over the same knobs) and ``automl``
(``AutoMLSearch`` with default arguments), plus any ``--variant NAME:JSON`` of automl: the JSON's keys go
to ``AutoMLSearch(...)``, except ``retrain``, whose dict goes to ``retrain(...)``; e.g.
``--variant 'automl-cnn:{"space": "cnn"}'``. ``--deploy NAME:JSON`` scores other ``retrain(...)``
arguments on each automl run's own search (``--deploy 'no-bag:{"bag": false}'``): a deploy lever
measured without the search's noise. Each searches ``budget`` seconds of wall time,
retrains its best config on train + validation (outside the budget) and is scored once on the test split
of the dataset split with seed ``repeat``: accuracy for classification, RMSE in original units for
regression. One contender runs at a time, each in a fresh process.

Datasets (``--datasets``, names or sets): ``small``, the five tables the ``compact`` default was chosen on
(digits, wine, breast_cancer, diabetes, auto_mpg; ≤ 1,800 rows); ``midsize``, five cases it was not chosen
on (``_quality_cases.py``: multiclass_noisy, imbalanced, interactions, fair, fashion_like_10k; 5,000-10,000
rows, written once from fixed seeds into the dataset cache and loaded as user files); ``wide``, both.
``fair`` is a real table from statsmodels: ``pip install -e '.[bench]'`` (or ``pip install statsmodels``).

Seed spread (``--seeds N``): besides the repeats over splits (repeat r: split r, search seed r), each
contender searches split 0 with search seeds 0 … N-1 (seed 0 is repeat 0's run, done once); the table adds
each contender's median, min, max and spread (max − min) over those seeds, and automl's spread against the
scripts'. ``--repeats 0 --seeds 3`` runs the spread alone.

Each finished run appends a JSON line to ``--results`` (default ``results/quality.jsonl`` for the small
tables without ``--seeds``, today's table; else ``results/quality-wide.jsonl``), keyed by (dataset, budget,
repeat, search seed, contender), with its wall and CPU seconds; a rerun skips the keys present
(``--retry-errors`` runs failed ones again), so a long table runs over as many sittings as it needs. Each
sitting first prints its runs and their estimated wall time. The table (printed, and written beside the
results as ``.md``) gives the median test score per contender, automl's median minus the best plain
script's, and a verdict with a tie margin of one test row (100 / n_test accuracy points) for classification
or 1 % of the best script's RMSE for regression; then each variant against plain automl; then the seed
spread; then the CPU time of the runs. Target: automl level with or ahead of the best plain script on every
dataset and budget.

The full wide table (10 cases, 60 s and 180 s, 3 repeats and 3 seeds: 5 runs per contender, 300 runs) takes
about 12 h of wall time on 2 cores (3.4 h at 60 s, 8.4 h at 180 s; 14 h if every automl retrain takes its
whole time limit, the search's budget), so about 24-28 CPU hours at most. Run the two sittings in
the background one after the other (a run owns the machine), each resumable by running it again:

    nohup python benchmarks/quality.py --datasets wide --budgets 60 --seeds 3 > quality-60.log 2>&1 &
    nohup python benchmarks/quality.py --datasets wide --budgets 180 --seeds 3 > quality-180.log 2>&1 &

Usage: python benchmarks/quality.py [--datasets small|midsize|wide|NAME,...]
           [--budgets 60,180] [--repeats 3] [--seeds 0] [--contenders optuna,kerastuner,automl]
           [--variant NAME:JSON ...] [--deploy NAME:JSON ...]
           [--results benchmarks/results/quality.jsonl] [--table]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

BUILTIN = ("optuna", "kerastuner", "automl")
PLAIN = ("optuna", "kerastuner")
HERE = Path(__file__).parent
RESULTS = HERE / "results" / "quality.jsonl"

RESULTS_WIDE = HERE / "results" / "quality-wide.jsonl"
SPREAD_SPLIT = 0  # the seed spread's one split: repeat 0's
#: a run's wall time beyond its budget (imports, data, retrain), median over benchmarks/results/quality.jsonl
#: on the five small tables; the estimate of a sitting adds it to each run's budget.
OVERHEAD_SECONDS = {"automl": 45.0, "optuna": 10.0, "kerastuner": 10.0}

Key = tuple[str, float, int, int, str]


# ---------------------------------------------------------------------------------------- running
def parse_variant(text: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``NAME:JSON`` → (name, AutoMLSearch kwargs, retrain kwargs)."""
    name, sep, body = text.partition(":")
    if not sep or not name:
        raise ValueError(f"--variant takes NAME:JSON, e.g. 'compact:{{...}}', not {text!r}")
    if name in BUILTIN:
        raise ValueError(f"--variant name {name!r} is a built-in contender; choose another")
    kwargs = json.loads(body or "{}")
    if not isinstance(kwargs, dict) or not isinstance(kwargs.get("retrain", {}), dict):
        raise ValueError(f"--variant {name}: the JSON must be an object (and its `retrain` one too): {body}")
    return name, kwargs, kwargs.pop("retrain", {})


def seed_of(record: dict[str, Any]) -> int:
    """The run's search seed; runs from before the seed spread searched with their split's (``repeat``)."""
    return int(record.get("seed", record["repeat"]))


def key_of(record: dict[str, Any]) -> Key:
    repeat, seed = int(record["repeat"]), seed_of(record)
    return (record["dataset"], float(record["budget"]), repeat, seed, record["contender"])


def run_keys(repeats: int, seeds: int) -> list[tuple[int, int]]:
    """(split, search seed) of each run of one contender on one case and budget: repeat r searches split r
    with seed r; the seed spread searches split SPREAD_SPLIT with seeds 0 … seeds-1. A pair both ask for
    runs once."""
    keys = [(r, r) for r in range(repeats)] + [(SPREAD_SPLIT, s) for s in range(seeds)]
    return list(dict.fromkeys(keys))


def expand_datasets(text: str, sets: dict[str, tuple[str, ...]]) -> list[str]:
    """Comma-separated dataset names, where a set's name (``small``, ``midsize``, ``wide``) stands for its
    cases."""
    names = [n for part in text.split(",") if part for n in sets.get(part, (part,))]
    return list(dict.fromkeys(names))


def estimate_seconds(budget: float, kind: str, *, worst: bool = False) -> float:
    """A run's wall time: its budget and the measured overhead; ``worst``: automl's retrain takes all of its
    default time limit, the search's budget."""
    usual = budget + OVERHEAD_SECONDS[kind]
    return max(usual, 2 * budget + OVERHEAD_SECONDS["optuna"]) if worst and kind == "automl" else usual


def load_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """One contender in a fresh process (its own TensorFlow, memory and threads); the result line."""
    started, cpu = time.monotonic(), _children_cpu()
    with tempfile.TemporaryDirectory() as folder:
        out, log = Path(folder) / "result.json", Path(folder) / "output.log"
        command = [sys.executable, __file__, "--one", json.dumps(job), "--out", str(out)]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        with log.open("wb") as handle:
            limit = 3 * job["budget"] + 600  # a run that hangs is recorded as an error
            with contextlib.suppress(subprocess.TimeoutExpired):
                subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, env=env, timeout=limit)
        if out.exists():
            result = json.loads(out.read_text(encoding="utf-8"))
        else:
            tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
            result = {"error": f"the run's process ended without a result; its output ended:\n{tail}"}
    return {
        **job,
        **result,
        "wall_seconds": time.monotonic() - started,
        "cpu_seconds": _children_cpu() - cpu,  # the run's process and its workers, user + system
        "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "commit": _commit(),
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _commit() -> str | None:
    """The checkout's commit (with ``+`` when it has changes): what plain ``automl`` meant for this run."""
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


def child(job: dict[str, Any], out: Path) -> None:
    """``--one``: run the job in this process and write its result (or its error) to ``out``."""
    from _quality_contenders import run_contender

    try:
        result = run_contender(
            job["kind"], job["dataset"], job["budget"], job["repeat"], job["kwargs"], job["retrain"],
            job.get("deploy"), seed=job.get("seed"),
        )  # fmt: skip
    except Exception as error:  # any failure is this run's result, not the benchmark's end
        result = {"error": f"{type(error).__name__}: {error}"}
    out.write_text(json.dumps(result, default=str), encoding="utf-8")


def _first_line(error: str) -> str:
    return (error.splitlines() or [""])[0][:200]


def _where(record: dict[str, Any]) -> str:
    seed = "" if seed_of(record) == record["repeat"] else f" seed {seed_of(record)}"
    return f"{record['dataset']} {record['budget']:g}s r{record['repeat']}{seed} {record['contender']}"


def describe(record: dict[str, Any]) -> str:
    where = _where(record)
    if "error" in record:
        return f"{where}: ERROR {_first_line(record['error'])}"
    val = record.get("val_score")
    return (
        f"{where}: test {record['test_score']:.4f}  val {math.nan if val is None else val:.4f}  "
        f"trials {record.get('n_trials')}  search {record['search_seconds']:.1f}s  "
        f"retrain {record['retrain_seconds']:.1f}s"
    )


# ---------------------------------------------------------------------------------------- table
def _median(records: Iterable[dict[str, Any]], field: str = "test_score") -> float | None:
    values = [r.get(field) for r in records if "error" not in r]
    values = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(values) if values else None


def _fmt(value: float | None, metric: str, signed: bool = False) -> str:
    if value is None:
        return "-"
    shown = 100 * value if metric == "accuracy" else value
    return f"{shown:+.2f}" if signed else f"{shown:.2f}"


def _verdict(delta: float, margin: float, higher_is_better: bool) -> str:
    gain = delta if higher_is_better else -delta
    return "level" if abs(gain) <= margin + 1e-12 else "ahead" if gain > 0 else "behind"


def _margin(metric: str, n_test: int, reference: float) -> float:
    """Tie margin in score units: one test row of accuracy, or 1 % of the reference RMSE."""
    return 1.0 / n_test if metric == "accuracy" else 0.01 * reference


def _paired_delta(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> float | None:
    """Median over the repeats both ran of (ours − theirs) on the same split."""
    base = {r["repeat"]: r["test_score"] for r in theirs}
    diffs = [r["test_score"] - base[r["repeat"]] for r in ours if r["repeat"] in base]
    return statistics.median(diffs) if diffs else None


def _against_scripts(
    by: dict[str, list[dict[str, Any]]], metric: str, n_test: int
) -> tuple[float | None, list[str]]:
    """The best plain script's median, and automl's cells against it: Δ, margin, verdict, then the paired
    Δ against each script and the verdict against the one automl does worst against."""
    higher = metric == "accuracy"
    plain = [m for m in (_median(by.get(c, [])) for c in PLAIN) if m is not None]
    ours = _median(by.get("automl", []))
    if not plain or ours is None:
        return None, ["-"] * 5
    best = (max if higher else min)(plain)
    margin, delta = _margin(metric, n_test, best), ours - best
    cells = [_fmt(delta, metric, True), _fmt(margin, metric), _verdict(delta, margin, higher)]
    paired = {c: _paired_delta(by.get("automl", []), by.get(c, [])) for c in PLAIN}
    known = [d for d in paired.values() if d is not None]
    if not known:
        return best, [*cells, "-", "-"]
    worst = min(known) if higher else max(known)
    shown = ", ".join(_fmt(paired[c], metric, True) for c in PLAIN)
    return best, [*cells, shown, _verdict(worst, margin, higher)]


def _short_against_long(groups: dict[tuple[str, float], list[dict[str, Any]]]) -> list[str]:
    """automl at each dataset's shortest budget against the plain scripts at its longest."""
    rows = []
    for dataset in sorted({d for d, _ in groups}):
        budgets = sorted(b for d, b in groups if d == dataset)
        if len(budgets) < 2:
            continue
        short = [r for r in groups[dataset, budgets[0]] if "error" not in r and r["contender"] == "automl"]
        long = [r for r in groups[dataset, budgets[-1]] if "error" not in r]
        if not short:
            continue
        metric = short[0]["metric"]
        by = {"automl": short, **{c: [r for r in long if r["contender"] == c] for c in PLAIN}}
        best, tail = _against_scripts(by, metric, int(short[0]["n_test"]))
        if best is None:
            continue
        cells = [_fmt(_median(short), metric), _fmt(best, metric), *tail]
        rows.append(f"| {dataset} | {budgets[0]:g} | {budgets[-1]:g} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    return [
        "",
        "## automl's short budget against the scripts' long one",
        "",
        "Target: automl's score at the short budget level with the best plain script's at the long one.",
        "",
        "| dataset | automl s | scripts s | automl | best script | Δ | margin | verdict "
        "| paired Δ vs optuna, kerastuner | paired verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---|",
        *rows,
    ]


def _deploy_levers(groups: dict[tuple[str, float], list[dict[str, Any]]]) -> list[str]:
    """Each ``--deploy`` alternative against what the run deployed, on the same search."""
    rows = []
    for (dataset, budget), group in sorted(groups.items()):
        for contender, runs in _by_contender([r for r in group if r.get("deploy_scores")]):
            metric, n_test = runs[0]["metric"], int(runs[0]["n_test"])
            for name in sorted({n for r in runs for n in r["deploy_scores"]}):
                scored = [r for r in runs if name in r["deploy_scores"]]
                pairs = [(r["deploy_scores"][name], r["test_score"]) for r in scored]
                delta = statistics.median(a - b for a, b in pairs)
                deployed = statistics.median(b for _, b in pairs)
                margin = _margin(metric, n_test, deployed)
                # retrain seconds, the default's and the alternative's (runs before they were recorded: -)
                timed = [r for r in scored if name in (r.get("deploy_seconds") or {})]
                seconds = (
                    f"{statistics.median(r['retrain_seconds'] for r in timed):.1f} / "
                    f"{statistics.median(r['deploy_seconds'][name] for r in timed):.1f}"
                    if timed
                    else "-"
                )
                cells = [
                    dataset, f"{budget:g}", contender, name,
                    f"{_fmt(statistics.median(a for a, _ in pairs), metric)} ({len(pairs)})",
                    _fmt(deployed, metric), _fmt(delta, metric, True), _fmt(margin, metric),
                    _verdict(delta, margin, metric == "accuracy"), seconds,
                ]  # fmt: skip
                rows.append("| " + " | ".join(cells) + " |")
    if not rows:
        return []
    return [
        "",
        "## What to deploy, on the same search",
        "",
        "Other retrain arguments scored on each run's own search: Δ = median over repeats of (alternative − "
        "the default deployed model); margin as above; retrain s: median seconds of the default's retrain "
        "and of the alternative's.",
        "",
        "| dataset | budget s | contender | alternative | alternative | default | Δ | margin | verdict "
        "| retrain s |",
        "|---|---:|---|---|---:|---:|---:|---:|---|---:|",
        *rows,
    ]


def _seed_spread(records: list[dict[str, Any]]) -> list[str]:
    """Each contender's test scores over search seeds on one split: median, min, max and spread (max − min);
    automl's (and each variant's) spread against each plain script's, with the tie margin of the main table.
    Only for the cases and budgets where a run searched with a seed other than its split's (``--seeds``)."""
    groups: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for record in records:
        if record["repeat"] == SPREAD_SPLIT and "error" not in record:
            groups.setdefault((record["dataset"], float(record["budget"])), []).append(record)
    rows = []
    for (dataset, budget), group in sorted(groups.items()):
        if all(seed_of(r) == SPREAD_SPLIT for r in group):
            continue  # repeat 0 alone: no spread was asked for this case
        metric, n_test = group[0]["metric"], int(group[0]["n_test"])
        by = dict(_by_contender(group))
        spreads = {c: _spread(rs) for c, rs in by.items() if len(rs) > 1}
        plain = [m for m in (_median(by.get(c, [])) for c in PLAIN) if m is not None]
        margin = _margin(metric, n_test, (max if metric == "accuracy" else min)(plain)) if plain else None
        for contender in [c for c in BUILTIN if c in by] + sorted(set(by) - set(BUILTIN)):
            runs = by[contender]
            scores = [r["test_score"] for r in runs]
            judged = "-"
            known = [c for c in PLAIN if c in spreads]
            if contender not in PLAIN and contender in spreads and known and margin is not None:
                wider = [c for c in known if spreads[contender] > spreads[c] + margin + 1e-12]
                judged = "> " + ", ".join(wider) if wider else "≤ scripts'"
            seconds = [_median(runs, f) for f in ("search_seconds", "retrain_seconds")]
            cells = [
                dataset, f"{budget:g}", metric, contender, str(len(runs)),
                *(_fmt(v, metric) for v in (statistics.median(scores), min(scores), max(scores))),
                _fmt(spreads.get(contender), metric), *("-" if v is None else f"{v:.1f}" for v in seconds),
                judged,
            ]  # fmt: skip
            rows.append("| " + " | ".join(cells) + " |")
    if not rows:
        return []
    return [
        "",
        f"## Seed spread: search seeds on one split (repeat {SPREAD_SPLIT}'s)",
        "",
        "Test score of each search seed on the same split (accuracy in %, RMSE in original units): median, "
        "min, max and spread = max − min; medians of search and retrain seconds. Last column: automl's "
        "spread against each plain script's (target: ≤), with the tie margin of the first table.",
        "",
        "| dataset | budget s | metric | contender | seeds | median | min | max | spread | search s "
        "| retrain s | spread vs scripts' |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
        *rows,
    ]


def _spread(records: list[dict[str, Any]]) -> float:
    scores = [r["test_score"] for r in records]
    return max(scores) - min(scores)


def _by_contender(records: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    names = sorted({r["contender"] for r in records})
    return [(n, [r for r in records if r["contender"] == n]) for n in names]


def render(records: list[dict[str, Any]], against: str = "automl") -> str:
    """The markdown tables of the results (pure: records in, text out); variants are compared with the
    contender ``against`` (plain automl, or one variant: the lever's off side)."""
    latest = {key_of(r): r for r in records}  # a retried key's last line wins
    groups: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for record in (r for r in latest.values() if seed_of(r) == r["repeat"]):  # the repeats over splits
        groups.setdefault((record["dataset"], float(record["budget"])), []).append(record)
    variants = sorted({r["contender"] for r in records} - set(BUILTIN) - {against})
    lines = [
        "## automl against plain scripts, equal wall-clock budget",
        "",
        "Median test score over repeats (n): accuracy in % for classification, RMSE in original units for "
        "regression (lower is better). Δ = automl − best plain script; tie margin: one test row (100 / "
        "n_test points) or 1 % of the best script's RMSE. Paired: the median over repeats of automl − "
        "script on the same split (a repeat's split moves every contender's score alike, so this removes "
        "the split's noise), against each script; its verdict is the one against the script automl does "
        "worst against.",
        "",
        "| dataset | budget s | metric | optuna | kerastuner | automl | Δ automl − best script | margin "
        "| verdict | paired Δ vs optuna, kerastuner | paired verdict |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    levers, effort = [], []
    for (dataset, budget), group in sorted(groups.items()):
        scored = [r for r in group if "error" not in r]
        if not scored:
            continue
        metric, n_test = scored[0]["metric"], int(scored[0]["n_test"])
        higher = metric == "accuracy"
        by = {c: [r for r in scored if r["contender"] == c] for c in {r["contender"] for r in group}}
        medians = {c: _median(rs) for c, rs in by.items()}
        cells = [f"{_fmt(medians.get(c), metric)} ({len(by.get(c, []))})" for c in BUILTIN]
        _, tail = _against_scripts(by, metric, n_test)
        lines.append(f"| {dataset} | {budget:g} | {metric} | " + " | ".join(cells + tail) + " |")
        for variant in variants:
            if variant not in by:
                continue
            paired = _paired_delta(by[variant], by.get(against, []))
            off = medians.get(against)
            row = [dataset, f"{budget:g}", variant, f"{_fmt(medians[variant], metric)} ({len(by[variant])})"]
            row.append(f"{_fmt(off, metric)} ({len(by.get(against, []))})")
            if paired is not None and off is not None:
                margin = _margin(metric, n_test, off)
                row += [_fmt(paired, metric, True), _fmt(margin, metric), _verdict(paired, margin, higher)]
            else:
                row += ["-", "-", "-"]
            levers.append("| " + " | ".join(row) + " |")
        for contender in [c for c in BUILTIN if c in by] + sorted(set(by) - set(BUILTIN)):
            runs = [r for r in group if r["contender"] == contender]
            ok = by.get(contender, [])
            numbers = [(_median(ok, f), s) for f, s in (("n_trials", "g"), ("search_seconds", ".1f"))]
            numbers.append((_median(ok, "retrain_seconds"), ".1f"))
            trials, search, retrain = ("-" if v is None else format(v, spec) for v, spec in numbers)
            val = _fmt(_median(ok, "val_score"), metric)
            effort.append(
                f"| {dataset} | {budget:g} | {contender} | {trials} | {val} | {search} | {retrain} "
                f"| {len(runs) - len(ok)} |"
            )
    if levers:
        lines += [
            "",
            f"## automl variants against {against} (lever on vs off)",
            "",
            f"Δ = median over repeats of (variant − {against}) on the same split; margin as above, of "
            f"{against}'s score.",
            "",
            f"| dataset | budget s | variant | variant | {against} | Δ variant − {against} | margin "
            "| verdict |",
            "|---|---:|---|---:|---:|---:|---:|---|",
            *levers,
        ]
    lines += _deploy_levers(groups)
    lines += _short_against_long(groups)
    lines += _seed_spread(list(latest.values()))
    lines += [
        "",
        "## Runs",
        "",
        "Medians over repeats: finished trials (complete + pruned), validation score of the best trial, "
        "search and retrain seconds; failed runs.",
        "",
        "| dataset | budget s | contender | trials | best val | search s | retrain s | errors |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
        *effort,
    ]
    timed = [r for r in latest.values() if r.get("cpu_seconds") is not None]
    if timed:
        cpu, wall = (sum(r[f] for r in timed) for f in ("cpu_seconds", "wall_seconds"))
        lines += [
            "",
            f"CPU time of the {len(timed)} runs that measured it (user + system, every process of a run): "
            f"{_duration(cpu)}, in {_duration(wall)} of wall time.",
        ]
    errors = [r for r in latest.values() if "error" in r]
    if errors:
        lines += ["", "Errors:", ""]
        lines += [f"- {_where(r)}: {_first_line(r['error'])}" for r in errors]
    return "\n".join(lines) + "\n"


def _estimate(planned: list[dict[str, Any]], todo: list[dict[str, Any]]) -> str:
    """One line: the runs of this sitting and their wall time (OVERHEAD_SECONDS; or with every automl
    retrain taking its whole time limit), left and in all."""

    def time_of(jobs: list[dict[str, Any]], worst: bool = False) -> str:
        return _duration(sum(estimate_seconds(j["budget"], j["kind"], worst=worst) for j in jobs))

    return (
        f"{len(todo)} of {len(planned)} runs to do: about {time_of(todo)} of wall time ("
        f"{time_of(todo, worst=True)} if every automl retrain takes its whole time limit) of "
        f"{time_of(planned)} in all; a run uses up to all {os.cpu_count()} cores"
    )


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


# ---------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--datasets", default="small", help="names, or sets: small (the default), midsize, wide (both)"
    )
    parser.add_argument("--budgets", default="60,180", help="search seconds, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="repeat r: split r, search seed r")
    parser.add_argument(
        "--seeds", type=int, default=0, help=f"the seed spread: search seeds 0..N-1 on split {SPREAD_SPLIT}"
    )
    parser.add_argument("--contenders", default=",".join(BUILTIN))
    parser.add_argument("--variant", action="append", default=[], help="NAME:JSON of automl arguments")
    parser.add_argument(
        "--deploy", action="append", default=[], help="NAME:JSON of retrain arguments, on automl's search"
    )
    parser.add_argument(
        "--results", type=Path, help="default quality.jsonl for the small set alone, else quality-wide.jsonl"
    )
    parser.add_argument("--retry-errors", action="store_true", help="run failed keys again")
    parser.add_argument("--table", action="store_true", help="only print the table of the results file")
    parser.add_argument("--against", default="automl", help="the contender variants are compared with")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        child(json.loads(args.one), args.out)
        return

    from _quality_cases import CASES, SETS, SMALL, case_file

    datasets = expand_datasets(args.datasets, SETS)
    if args.results is None:
        args.results = RESULTS if set(datasets) <= set(SMALL) and not args.seeds else RESULTS_WIDE
    table_file = args.results.with_suffix(".md")
    if not args.table:
        jobs = []
        for name in (c for c in args.contenders.split(",") if c):
            if name not in BUILTIN:
                parser.error(f"unknown contender {name!r}; use {', '.join(BUILTIN)} or --variant NAME:JSON")
            jobs.append((name, name, {}, {}))
        try:
            variants = [parse_variant(text) for text in args.variant]
        except ValueError as error:  # json.JSONDecodeError too
            parser.error(str(error))
        jobs += [(name, "automl", kwargs, retrain) for name, kwargs, retrain in variants]
        try:
            deploy = {name: json.loads(body) for name, _, body in (t.partition(":") for t in args.deploy)}
        except json.JSONDecodeError as error:
            parser.error(f"--deploy takes NAME:JSON: {error}")
        if not all(name and isinstance(value, dict) for name, value in deploy.items()):
            parser.error("--deploy takes NAME:JSON with a JSON object of retrain arguments")
        if len({name for name, *_ in jobs}) < len(jobs):
            parser.error("contender and variant names must differ")
        for dataset in (d for d in datasets if d in CASES):
            try:  # each case's file, written here once rather than in a run's clock or as its error
                case_file(dataset)
            except ImportError as error:
                parser.error(str(error))
        records = load_records(args.results)
        done = {key_of(r) for r in records if not (args.retry_errors and "error" in r)}
        planned = [
            {
                "dataset": dataset, "budget": budget, "repeat": repeat, "seed": seed, "contender": name,
                "kind": kind, "kwargs": kwargs, "retrain": retrain,
                "deploy": deploy if kind == "automl" else {},
            }
            for dataset in datasets
            for budget in (float(b) for b in args.budgets.split(","))
            for repeat, seed in run_keys(args.repeats, args.seeds)
            for name, kind, kwargs, retrain in jobs
        ]  # fmt: skip
        todo = [job for job in planned if key_of(job) not in done]
        print(_estimate(planned, todo), flush=True)
        args.results.parent.mkdir(parents=True, exist_ok=True)
        for job in todo:
            record = run_one(job)
            with args.results.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, default=str) + "\n")
            print(describe(record), flush=True)
    table = render(load_records(args.results), args.against)
    print()
    print(table, end="")
    if not args.table:
        table_file.write_text(table, encoding="utf-8")
        print(f"\ntable written to {table_file}")


if __name__ == "__main__":
    main()
