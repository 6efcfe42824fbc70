"""A retrain's choices in words for the report: the pick, the configs re-scored, the ensemble selected."""

from __future__ import annotations

from typing import Any

from automl.report._leaderboard import _cell

__all__ = ["pick_line", "rescore_line", "selection_line"]


def pick_line(pick: Any) -> str | None:
    """A retrain's pick in words: ``smallest-within 0.005: trial 7 (40.0 kB, 0.946) beside the best, trial 3
    (400.0 kB, 0.95)``; None for the best (or none recorded)."""
    from automl.report._pareto import human

    if not isinstance(pick, dict) or pick.get("rule") in (None, "best") or not pick.get("measure"):
        return None
    measure = str(pick["measure"])

    def entry(numbers: Any) -> str:
        numbers = numbers if isinstance(numbers, dict) else {}
        value = human(measure, numbers.get(measure)) or "not measured"
        return f"trial {numbers.get('trial')} ({value}, validation {_cell(numbers.get('validation_score'))})"

    notes = "".join(f"; {note}" for note in pick.get("notes") or [])
    picked, best = entry(pick.get("picked")), entry(pick.get("best"))
    return f"{pick.get('written')}: {picked} beside the best, {best}{notes}"


def rescore_line(rescored: Any) -> str | None:
    """The configs re-scored with a second seed, in the search's order: ``trial 7 0.95 → 0.93 (mean
    0.94)``, with those the time limit left out or whose second fit failed; None when not asked."""
    if not isinstance(rescored, list) or not rescored:
        return None

    def entry(item: dict[str, Any]) -> str:
        head = f"trial {item.get('trial')} {_cell(item.get('search_score'))}"
        if item.get("second_score") is None:
            return f"{head} → {item.get('failure') or 'not trained'}"
        return f"{head} → {_cell(item.get('second_score'))} (mean {_cell(item.get('mean'))})"

    return ", ".join(entry(item) for item in rescored if isinstance(item, dict))


def selection_line(selection: Any) -> str | None:
    """How an ensemble's members were chosen: ``trial 7 0.31, trial 2 0.35, trial 9 time limit; chose
    trials 7 (0.31), 9 (0.28)``, each member with the ensemble's loss once it joined; None when not asked."""
    if not isinstance(selection, dict):
        return None
    library = [e for e in selection.get("library") or [] if isinstance(e, dict)]
    trained = ", ".join(
        f"trial {e.get('trial')} {_cell(e.get('loss')) if e.get('loss') is not None else e.get('failure')}"
        for e in library
    )
    members = selection.get("members") or []
    losses = selection.get("losses") or []
    if not members:
        return f"{trained}; no config to choose from: the top configs by search score"
    chosen = ", ".join(f"{m} ({_cell(loss)})" for m, loss in zip(members, losses, strict=False))
    return f"{trained}; chose trials {chosen}"
