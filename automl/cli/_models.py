"""`automl retrain` and `automl predict`: the best models, retrained, and what they predict."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from automl._diskspace import writing
from automl.cli._console import console, print_json
from automl.cli._report import NO_REPORT_HELP, write_run_report


def retrain_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (runs/NAME).")],
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            help="Retrain the best K configs (by validation score). Default: 5 when an ensemble is "
            "deployed (3 when each is bagged), else 1.",
        ),
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset of the run.")] = None,
    epochs: Annotated[str, typer.Option(help="'best' (the search's best epoch) or a fixed number.")] = "best",
    seeds: Annotated[int, typer.Option(help="Seeds per config; test scores are reported as mean ± std.")] = 1,
    ensemble: Annotated[
        bool | None,
        typer.Option(
            "--ensemble/--no-ensemble",
            help="Save one model averaging the --top K configs (scored on test too), or the top-1 config "
            "alone. Default: an ensemble of the top 5 (3 when each is bagged) when the search finished "
            "two or more.",
            show_default=False,
        ),
    ] = None,
    bag: Annotated[
        bool | None,
        typer.Option(
            "--bag/--no-bag",
            help="Retrain each config as the average of its K fold models (each early-stopped on its own "
            "fold), or as one model on train+validation. Default: bag when the search scored trials by "
            "K-fold cross-validation.",
            show_default=False,
        ),
    ] = None,
    final_fit: Annotated[
        bool,
        typer.Option(
            "--final-fit",
            help="After the test, refit the top config on every row (test included) and save that model.",
        ),
    ] = False,
    time_limit: Annotated[
        str,
        typer.Option(
            help="Wall-clock limit of the retrain (90, 20m, 1h), or none. auto: the search's --timeout "
            "(none after a search bounded by trials alone). The top config is always retrained; further "
            "models (seeds, ensemble members, final fit) only if they fit in what is left.",
        ),
    ] = "auto",
    pick: Annotated[
        str,
        typer.Option(
            help="Which config to deploy: best (the best validation score), smallest-within TOL or "
            "fastest-within TOL: the smallest (saved size) or fastest (latency at batch 1, measured again "
            "first) config whose validation score is within TOL of the best; TOL in the metric's units "
            "(0.005) or a percentage of the best (1%). Needs a search with that objective (--objective "
            "accuracy,size); deploys that one model unless --top K --ensemble asks for an average.",
        ),
    ] = "best",
    rescore: Annotated[
        int,
        typer.Option(
            help="Train the top N configs once more with a second seed and rank them by the mean of both "
            "validation scores before taking the --top K (against the winner's curse on noisy data). "
            "0: off.",
        ),
    ] = 0,
    ensemble_from: Annotated[
        int,
        typer.Option(
            help="Choose the ensemble's members among the top N configs by what each lowers the "
            "ensemble's validation loss (each trained once more on the search's split), instead of the "
            "top K by score. 0: off.",
        ),
    ] = 0,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help=NO_REPORT_HELP)] = False,
) -> None:
    """Retrain the best configs on train+validation, evaluate once on the test split, save the best model."""
    from automl.retrain import retrain_run
    from automl.store import RetrainPolicy

    # The policy checks every value, in the words of the Python arguments; `automl` shows them as flags.
    policy = RetrainPolicy(
        top_k=top, seeds=seeds, epochs=int(epochs) if epochs.isdigit() else epochs, final_fit=final_fit,
        ensemble="auto" if ensemble is None else ensemble, bag="auto" if bag is None else bag,
        time_limit=time_limit, pick=pick, rescore=rescore, ensemble_from=ensemble_from,
    )  # fmt: skip
    reports = retrain_run(run_dir, dataset=dataset, policy=policy)
    if not no_report:
        write_run_report(run_dir, quiet=json_output)
    if json_output:
        print_json([r.to_dict() for r in reports])
        return
    for report in reports:
        table = Table(
            "rank",
            "trial",
            f"val {report.metric}",
            f"test {report.metric}",
            "epochs",
            "policy",
            title=f"{report.dataset}: retrained on train+validation, scored once on test",
        )
        for entry in report.configs:
            spread = f" ± {entry.spread(report.metric):.4f}" if len(entry.runs) > 1 else ""
            val = "" if entry.validation_score is None else f"{entry.validation_score:.4f}"
            epochs_run = ",".join(str(r.epochs) for r in entry.runs)
            table.add_row(
                str(entry.rank),
                str(entry.trial),
                val,
                f"{entry.mean(report.metric):.4f}{spread}",
                epochs_run,
                entry.epochs_policy,
            )
        if report.ensemble is not None:
            score = report.ensemble["test"][report.metric]
            table.add_row("", "ensemble", "", f"{score:.4f}", "", "average of the above", style="bold")
        for name, value in report.test_baselines.items():
            table.add_row("", f"baseline {name}", "", f"{value:.4f}", "", "", style="bold cyan")
        console.print(table)
        saved = {"top-1": "the top config", "ensemble": "the ensemble"}.get(report.deployed)
        if report.final_fit is not None:
            saved = (
                f"the top config refitted on all {report.final_fit['rows']} rows for "
                f"{report.final_fit['epochs']} epochs (no test score of its own; the test score above is "
                "the model before)"
            )
        console.print(
            f"saved: {report.model_dir}/model.keras, {saved} (with preprocessor.joblib, metrics.json)"
        )
        if report.pick and report.pick["rule"] != "best":
            console.print(pick_line(report.pick, report.metric))
        console.print(retrain_timing(report))


def pick_line(pick: dict[str, Any], metric: str) -> str:
    """One line: the config a pick deployed beside the best one, by the measure it went by."""
    measure = pick["measure"]
    words = {"size_bytes": "saved size", "n_params": "weights", "latency_ms": "latency (batch 1)"}[measure]

    def shown(entry: dict[str, Any]) -> str:
        value = entry.get(measure)
        if value is None:
            number = "not measured"
        elif measure == "size_bytes":
            number = f"{value / 1e3:,.1f} kB"
        elif measure == "latency_ms":
            number = f"{value:.3g} ms"
        else:
            number = f"{int(value):,}"
        score = entry.get("validation_score")
        return f"trial {entry['trial']}: {words} {number}, validation {metric} {score:.4f}"

    line = f"picked by {pick['written']}: {shown(pick['picked'])} (best {shown(pick['best'])})"
    return line + "".join(f"; {note}" for note in pick.get("notes") or [])


def join_pick(argv: list[str]) -> list[str]:
    """``--pick smallest-within 0.005`` as one value, as the help writes it (the shell splits it in two)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        value_at = i + 1 if token == "--pick" else i if token.startswith("--pick=") else None
        if value_at is not None and value_at < len(argv):
            value = argv[value_at] if value_at > i else token[len("--pick=") :]
            rest = value_at + 1
            if value.endswith("-within") and rest < len(argv) and not argv[rest].startswith("--"):
                out += ["--pick", f"{value} {argv[rest]}"]
                i = rest + 1
                continue
        out.append(token)
        i += 1
    return out


def _seconds(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.1f} s"


def retrain_timing(report: Any) -> str:
    """One line: the search's wall time beside the retrain's, its limit, and what the limit left out."""
    limit = "no limit" if report.time_limit is None else f"limit {report.time_limit:.0f} s"
    line = (
        f"wall time: search {_seconds(report.search_seconds)}, retrain {_seconds(report.seconds)} ({limit})"
    )
    if report.skipped:
        left = ", ".join(
            "final fit" if s["trial"] is None else f"trial {s['trial']} seed {s['seed']}"
            for s in report.skipped
        )
        line += f"; left out by the time limit: {left} (raise --time-limit to train them)"
    return line


def predict_command(
    run_dir: Annotated[Path, typer.Argument(help="A run directory with retrained models.")],
    dataset: Annotated[str, typer.Option(help="Which dataset's model.")],
    input_file: Annotated[
        Path, typer.Option("--input", "-i", help="CSV of raw rows (same columns as training).")
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write CSV here (default stdout).")
    ] = None,
    proba: Annotated[bool, typer.Option("--proba", help="Add class probabilities.")] = False,
) -> None:
    """Predict raw rows with a retrained model (labels, or values in the target's units)."""
    import pandas as pd

    from automl.exceptions import UserError
    from automl.retrain import load_model

    if not input_file.exists():
        raise UserError(f"{input_file}: input file not found")
    predictor = load_model(run_dir, dataset)
    frame = pd.read_csv(input_file)
    if frame.empty:
        raise UserError(f"{input_file}: no rows to predict")
    out = pd.DataFrame({"prediction": predictor.predict(frame)})
    if proba and predictor.task != "regression":
        probabilities = predictor.predict_proba(frame)
        names = predictor.classes_ or tuple(str(i) for i in range(probabilities.shape[1]))
        for i, name in enumerate(names):
            out[f"p_{name}"] = probabilities[:, i]
    text = out.to_csv(index=False)
    if output is None:
        sys.stdout.write(text)
    else:
        with writing(output.parent, resume=False):
            output.write_text(text)
        console.print(f"{len(out)} predictions written to {output}")
