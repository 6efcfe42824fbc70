"""Build a space's warm-start portfolio, ``automl/portfolios/<space>.json``, from real searches.

For each shipped offline dataset (digits, wine, breast_cancer, diabetes, auto_mpg) this script

1. runs a real automl search (``--trials`` trials, ``--seed``) and keeps the ``--top`` best complete
   configs as candidates;
2. trains every candidate on every dataset once more with :func:`automl.train` (same seed for all, so
   the matrix compares configs, not seeds), scoring each by its best validation score;
3. writes the candidate x dataset score matrix, each dataset's normalised regret per candidate
   (``(best - score) / (best - worst)``, direction-aware; 0 the best candidate, 1 the worst; a failed fit
   counts as the worst), and how the file was built.

``automl.warmstart`` reads the file and picks a few configs leave-one-dataset-out (see its doc).

    python scripts/build_portfolio.py --space compact
    python scripts/build_portfolio.py --space mlp --trials 20 --top 3

A search already run in ``--workdir`` is resumed up to ``--trials`` rather than run again, so an
interrupted build continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DATASETS = ("digits", "wine", "breast_cancer", "diabetes", "auto_mpg")
ROOT = Path(__file__).resolve().parent.parent


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="compact", help="shipped space name or YAML path")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated built-in datasets")
    parser.add_argument("--trials", type=int, default=30, help="trials of each dataset's search (default 30)")
    parser.add_argument("--top", type=int, default=3, help="candidates kept from each search (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the splits, searches and the matrix fits")
    parser.add_argument("--devices", default="cpu", help="devices of the searches (default cpu: all cores)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "runs" / "portfolio", help="search run dirs")
    parser.add_argument("--out", type=Path, default=None, help="default automl/portfolios/<space>.json")
    return parser.parse_args(argv)


def _search(space: str, name: str, args: argparse.Namespace) -> Any:
    import automl

    run_dir = args.workdir / f"{name}-{Path(space).stem}"
    search = automl.AutoMLSearch(
        space=space,
        n_trials=args.trials,
        seed=args.seed,
        run_dir=run_dir,
        devices=args.devices,
        resume=(run_dir / "automl.db").exists(),
    )
    return search.fit(name)


def _candidates(search: Any, name: str, top: int, space: Any) -> list[dict[str, Any]]:
    from automl.store import best_first

    fixed = space.fixed
    out: list[dict[str, Any]] = []
    for record in best_first(search.trials_, search.study_info_.direction):
        params = {k: v for k, v in space.validate_config(record.config).items() if k not in fixed}
        if any(params == c["params"] for c in out):
            continue
        out.append({"source": name, "trial": record.number, "search_score": record.score, "params": params})
        if len(out) == top:
            break
    return out


def _regret(scores: list[float | None], direction: str) -> list[float]:
    finite = [s for s in scores if s is not None]
    if not finite:
        return [1.0] * len(scores)
    best = max(finite) if direction == "maximize" else min(finite)
    worst = min(finite) if direction == "maximize" else max(finite)
    span = abs(best - worst)
    return [1.0 if s is None else (0.0 if span == 0 else round(abs(best - s) / span, 6)) for s in scores]


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    log = logging.getLogger("build_portfolio")
    import automl
    from automl.space import load_space

    started = time.perf_counter()
    space = load_space(args.space)
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    datasets: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []
    loaded: dict[str, Any] = {}
    for name in names:
        t0 = time.perf_counter()
        search = _search(args.space, name, args)
        info = search.study_info_
        found = _candidates(search, name, args.top, space)
        candidates.extend(found)
        loaded[name] = automl.load_dataset(name, seed=args.seed)
        datasets.append(
            {
                "name": name,
                "task": info.task,
                "metric": info.metric,
                "direction": info.direction,
                "fingerprint": info.dataset_fingerprint,
                "search_best": search.best_score_,
            }
        )
        log.info(
            "searched %s: %d trials in %.0f s, best %s=%.4f",
            name, len(search.trials_), time.perf_counter() - t0, info.metric, search.best_score_,
        )  # fmt: skip
    scores: list[list[float | None]] = []
    fixed = space.fixed
    for i, cand in enumerate(candidates):
        row: list[float | None] = []
        for entry in datasets:
            result = automl.train(
                {**cand["params"], **fixed}, loaded[entry["name"]], seed=args.seed, metric=entry["metric"]
            )
            score = float(result.best_score)
            row.append(round(score, 6) if result.ok and math.isfinite(score) else None)
        scores.append(row)
        log.info("candidate %d/%d (%s #%d): %s", i + 1, len(candidates), cand["source"], cand["trial"], row)
    columns = [_regret([row[j] for row in scores], d["direction"]) for j, d in enumerate(datasets)]
    regret = [[columns[j][i] for j in range(len(datasets))] for i in range(len(candidates))]
    portfolio = {
        "format": 1,
        "space": space.name,
        "space_hash": space.content_hash,
        "built": {
            "script": "scripts/build_portfolio.py",
            "trials": args.trials,
            "top": args.top,
            "seed": args.seed,
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "automl": automl.__version__,
            "seconds": round(time.perf_counter() - started),
        },
        "datasets": datasets,
        "candidates": candidates,
        "scores": scores,
        "regret": regret,
    }
    out = args.out or ROOT / "automl" / "portfolios" / f"{space.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(portfolio, indent=1) + "\n", encoding="utf-8")
    log.info("wrote %s: %d candidates x %d datasets in %.0f s", out, len(candidates), len(datasets),
             time.perf_counter() - started)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
