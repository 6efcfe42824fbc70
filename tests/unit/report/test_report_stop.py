"""Why a search stopped early, in the report's run summary and study headline, and in the leaderboard's
footer; the budget line says the rule."""

from __future__ import annotations

import optuna

from automl.outcomes import SearchStop
from automl.report import render, render_html, report_data, run_leaderboards
from automl.store import SearchStopped, open_storage, record_stop, storage_url_for, study_name

STOP = SearchStopped(SearchStop.STALLED, trials=15, best=0.98333, best_trial=12)


def _stop(path) -> None:
    storage = open_storage(storage_url_for(path, None), heartbeat_interval=None)
    study = optuna.load_study(study_name=study_name("hand", "wine", "tiny", "optuna", "tpe"), storage=storage)
    record_stop(study, STOP)


def test_the_report_says_why_the_search_stopped(make_run):
    path = make_run(6, pruned=0, failed=0)
    assert report_data(path)["run"]["stopped"] == []
    _stop(path)
    data = report_data(path)
    why = "no improvement over 15 trials (best 0.9833 at trial 12)"
    assert data["studies"][0]["stopped"] == why
    assert data["run"]["stopped"] == [{"study": "wine · tiny", "why": why}]
    page = render_html(data)
    assert f"<tr><th>stopped</th><td><div>{why}</div></td></tr>" in page
    assert f"· stopped: {why}" in page


def test_the_leaderboard_footer_says_it(make_run):
    from rich.console import Console

    path = make_run(4, pruned=0, failed=0)
    _stop(path)
    (frame,) = run_leaderboards(path)
    console = Console(record=True, width=120)
    console.print(render(frame, "table", width=120))
    assert "stopped: no improvement over 15 trials (best 0.9833 at trial 12)" in console.export_text()
    assert STOP.describe() == frame.attrs["stopped"]


def test_failures_and_time_read_as_words():
    assert SearchStopped(SearchStop.FAILURES, trials=5).describe() == "5 trials failed in a row"
    timed = SearchStopped(SearchStop.STALLED, seconds=600.0, best=12.5, best_trial=3)
    assert timed.describe() == "no improvement for 10m (best 12.5000 at trial 3)"
    assert SearchStopped.from_attr(timed.to_attr()) == SearchStopped(
        **{**timed.__dict__, "at": timed.to_attr()["at"]}
    )
    assert (
        SearchStopped.from_attr({"reason": "a later reason"}) is None
        and SearchStopped.from_attr(None) is None
    )
