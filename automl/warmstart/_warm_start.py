"""Warm start: configs a search tries first, before its algorithm proposes any.

``warm_start`` takes:

* ``"portfolio"``: the space's shipped portfolio (:mod:`._portfolio`), picked leave-one-dataset-out;
* ``"none"``: the algorithm proposes every config;
* a run directory of the same space: its best complete configs, best first;
* ``"auto"`` (the default): ``"portfolio"`` when :data:`AUTO_PORTFOLIO` is on, the space ships one and
  the backend's algorithm can take a warm start, else ``"none"``, silently. It is off: measured at 60 s
  (``benchmarks/results/lever_warm_start.md``), the shipped portfolio was behind on digits (paired median
  −0.56 points) and on breast_cancer (−1.77, all three repeats).

At most :data:`MAX_CONFIGS` configs, and never more than a quarter of a trial budget. An explicit
``"portfolio"`` or run directory that cannot apply (grid search, KerasTuner's Hyperband, a space without a
portfolio, a run of another space) is a :class:`~automl.exceptions.UserError` before any work.

:func:`warm_start_study` hands the configs to the backend (``Backend.enqueue``) once, when the study is
new, and records them in the study's user attribute :data:`WARM_START_ATTR`, so a resumed run or a
worker joining later never enqueues them again. No TensorFlow here.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.exceptions import Argument, UserError
from automl.warmstart._portfolio import Portfolio, _valid, load_portfolio, shipped_portfolios

if TYPE_CHECKING:
    import optuna

    from automl.space import SearchSpace

__all__ = [
    "MAX_CONFIGS",
    "WARM_START_ATTR",
    "WarmStart",
    "check_warm_start",
    "plan_warm_start",
    "resumed_warm_start",
    "warm_start_size",
    "warm_start_study",
]

log = logging.getLogger("automl.warmstart")

#: the study user attribute recording the warm start (``{"setting": …, "configs": [params, …]}``).
WARM_START_ATTR = "automl.warm_start"
#: the most configs a warm start tries first.
MAX_CONFIGS = 5
_WORDS = ("auto", "portfolio", "none")
#: whether ``"auto"`` tries the shipped portfolio (see the module doc for why not, for now).
AUTO_PORTFOLIO = False


def warm_start_size(n_trials: int | None) -> int:
    """How many configs a warm start tries: :data:`MAX_CONFIGS`, at most a quarter of ``n_trials``."""
    return MAX_CONFIGS if n_trials is None else max(0, min(MAX_CONFIGS, n_trials // 4))


def check_warm_start(value: Any) -> str:
    """``value`` as a setting (``auto``, ``portfolio``, ``none`` or a run directory's absolute path).

    Raises:
        UserError: anything else, in one line naming the choices.
    """
    if value is None:
        return "none"
    if isinstance(value, str) and value.strip().lower() in _WORDS:
        return value.strip().lower()
    if isinstance(value, str | os.PathLike) and str(value).strip():
        path = Path(value).expanduser()
        if path.is_dir() and ((path / "run.yaml").exists() or (path / "experiment.yaml").exists()):
            return str(path.resolve())
    given = str(value) if isinstance(value, os.PathLike) else value
    raise UserError(
        "{warm_start} takes 'auto', 'portfolio', 'none' or the directory of an earlier run, "
        "not {given!r}{there}",
        warm_start=Argument("warm_start"),
        given=given,
        there=" (no run there)" if isinstance(value, str | os.PathLike) and str(value).strip() else "",
    )


@dataclass(frozen=True)
class WarmStart:
    """A resolved warm start: its ``setting`` (``portfolio``, ``none`` or a run directory) and where its
    configs come from (a portfolio, or a run's params ranked best first)."""

    setting: str = "none"
    portfolio: Portfolio | None = None
    ranked: tuple[dict[str, Any], ...] = field(default=())

    def configs(
        self, space: SearchSpace, *, dataset: str, fingerprint: str | None, n_trials: int | None
    ) -> list[dict[str, Any]]:
        """The searched params to try first on ``dataset``, in order (leave-one-dataset-out for a
        portfolio)."""
        k = warm_start_size(n_trials)
        if self.portfolio is not None:
            return self.portfolio.select(k, space, dataset=dataset, fingerprint=fingerprint)
        return [dict(p) for p in self.ranked[:k]]


def plan_warm_start(value: Any, space: SearchSpace, backend: Any) -> WarmStart:
    """Resolve ``warm_start=value`` for ``space`` on ``backend`` (see the module doc).

    Raises:
        UserError: a bad value; an explicit warm start the backend's algorithm cannot take, a space
            without a portfolio, a run of another space or without a complete trial.
    """
    setting = check_warm_start(value)
    if setting == "none":
        return WarmStart()
    problem = _backend_problem(backend)
    if setting == "auto":
        if not AUTO_PORTFOLIO:
            return WarmStart()
        if problem is not None:
            log.debug("no warm start: %s", problem)
            return WarmStart()
        portfolio = load_portfolio(space)
        return WarmStart() if portfolio is None else WarmStart("portfolio", portfolio)
    if problem is not None:
        raise UserError(
            "{asked} cannot apply: {problem}; use {none} instead",
            asked=Argument("warm_start", value, literal=False),
            problem=problem,
            none=Argument("warm_start", "none"),
        )
    if setting == "portfolio":
        portfolio = load_portfolio(space)
        shipped = shipped_portfolios()
        if portfolio is None and space.name in shipped:
            return WarmStart()  # built for another version of the space: ignored with a warning line
        if portfolio is None:
            raise UserError(
                "{portfolio}: space {space!r} ships no portfolio (spaces with one: {shipped}); "
                "use {none} or the directory of an earlier run",
                portfolio=Argument("warm_start", "portfolio"),
                space=space.name,
                shipped=", ".join(shipped) or "none",
                none=Argument("warm_start", "none"),
            )
        return WarmStart("portfolio", portfolio)
    return WarmStart(setting, ranked=tuple(_ranked_from_run(setting, space)))


def resumed_warm_start(recorded: str, given: Any) -> str:
    """The warm-start setting of a resumed run: the ``recorded`` one (its configs are in its studies).

    Raises:
        UserError: ``given`` explicitly asks for another one.
    """
    asked = check_warm_start(given)
    if asked not in ("auto", recorded):
        raise UserError(
            "{resume} with another {warm_start}: the run started with {recorded!r}, not {asked!r}; "
            "drop {warm_start}, or start a new run with another {name}",
            resume=Argument("resume"),
            warm_start=Argument("warm_start"),
            recorded=recorded,
            asked=asked,
            name=Argument("name"),
        )
    return recorded


def _backend_problem(backend: Any) -> str | None:
    hook = getattr(backend, "warm_start_problem", None)
    if hook is None:
        return f"the {getattr(backend, 'name', 'given')} backend cannot try given configs first"
    problem: str | None = hook()
    return problem


def _ranked_from_run(path: str, space: SearchSpace) -> list[dict[str, Any]]:
    """The complete trials' params of the run at ``path`` on ``space``, best first, without repeats."""
    from automl.store import best_first, load_records, load_study_info, open_run

    run, manifest, storage = open_run(path)
    searched = [s for s in manifest.spaces if s.name == space.name and s.hash == space.content_hash]
    if not searched:
        spaces = ", ".join(f"{s.name} (hash {s.hash})" for s in manifest.spaces) or "none"
        raise UserError(
            "{warm_start}: run {path} searched {spaces}, not space {space!r} (hash {hash}); "
            "give a run of the same space",
            warm_start=Argument("warm_start"),
            path=run.path,
            spaces=spaces,
            space=space.name,
            hash=space.content_hash,
        )
    lists: list[list[dict[str, Any]]] = []
    for name in manifest.studies:
        info = load_study_info(storage, name)
        if info.space == space.name and info.space_hash == space.content_hash:
            lists.append([r.params for r in best_first(load_records(storage, name), info.direction)])
    ranked: list[dict[str, Any]] = []
    # Several studies (an experiment over datasets): their best configs in turn.
    for depth in range(max((len(items) for items in lists), default=0)):
        for items in lists:
            params = _valid(space, items[depth]) if depth < len(items) else None
            if params is not None and params not in ranked:
                ranked.append(params)
    if not ranked:
        raise UserError(
            "{warm_start}: run {path} has no complete trial of space {space!r} yet",
            warm_start=Argument("warm_start"),
            path=run.path,
            space=space.name,
        )
    return ranked


def warm_start_study(
    study: optuna.Study,
    backend: Any,
    space: SearchSpace,
    warm: WarmStart,
    *,
    dataset: str,
    fingerprint: str | None = None,
    n_trials: int | None = None,
) -> list[dict[str, Any]]:
    """Enqueue ``warm``'s configs into a new ``study`` through ``backend.enqueue``, once; returns them.

    Nothing happens to a study that holds trials or a warm-start record already (a resumed run, or a
    run started before warm starts existed), or when ``warm`` is ``none``. Call it in the process that
    opened the study, before any worker searches it (concurrent enqueues race).
    """
    if warm.setting == "none" or WARM_START_ATTR in study.user_attrs or study.get_trials(deepcopy=False):
        return []
    configs = warm.configs(space, dataset=dataset, fingerprint=fingerprint, n_trials=n_trials)
    if configs:
        backend.enqueue(study, space, configs)
    study.set_user_attr(WARM_START_ATTR, {"setting": warm.setting, "configs": configs})
    log.info("warm start (%s): %d config(s) tried first", warm.setting, len(configs))
    return configs
