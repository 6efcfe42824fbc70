"""A space's portfolio: configs that did well across the shipped datasets, and the leave-one-out pick.

``automl/portfolios/<space>.json`` is written by ``scripts/build_portfolio.py`` from real searches: the
top configs of a search on each dataset (the *candidates*), each trained again on every dataset, so the
file holds a full candidate x dataset matrix of validation scores. :meth:`Portfolio.select` picks ``k``
candidates greedily so that the mean over datasets of the best normalised regret among the picked ones
is smallest (Feurer et al.'s greedy portfolio, as in Auto-sklearn 2.0).

Leave-one-dataset-out: when the searched dataset is one of the portfolio's (same name, or same
fingerprint), its column is dropped and so are the candidates found by searching it, so a search is never
warm-started with what was learned on its own data. Regrets are normalised again over the candidates that
remain, from the raw scores.

No TensorFlow here.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl.exceptions import ConfigError, UserError
from automl.space import SearchSpace

__all__ = [
    "PORTFOLIO_FORMAT",
    "Portfolio",
    "PortfolioDataset",
    "load_portfolio",
    "portfolios_dir",
    "shipped_portfolios",
]

log = logging.getLogger("automl.warmstart")

#: the version of the portfolio file format this automl reads and writes.
PORTFOLIO_FORMAT = 1


def portfolios_dir() -> Path:
    """Where the shipped portfolios live: ``automl/portfolios/`` (package data)."""
    return Path(__file__).resolve().parent.parent / "portfolios"


@dataclass(frozen=True)
class PortfolioDataset:
    """One dataset the candidates were scored on."""

    name: str
    task: str
    metric: str
    direction: str
    fingerprint: str | None = None


@dataclass(frozen=True)
class Portfolio:
    """Candidates (searched params), the datasets and the candidate x dataset scores (None: failed)."""

    space: str
    space_hash: str
    datasets: tuple[PortfolioDataset, ...]
    candidates: tuple[dict[str, Any], ...]
    sources: tuple[str, ...]
    scores: tuple[tuple[float | None, ...], ...]
    built: Mapping[str, Any]

    @classmethod
    def from_dict(cls, data: Any, *, where: str) -> Portfolio:
        """Parse a portfolio file's content. Raises UserError (one line naming ``where``) if damaged."""
        try:
            if data.get("format") != PORTFOLIO_FORMAT:
                raise ValueError(f"format {data.get('format')!r} is not {PORTFOLIO_FORMAT}")
            datasets = tuple(
                PortfolioDataset(
                    name=str(d["name"]),
                    task=str(d["task"]),
                    metric=str(d["metric"]),
                    direction=str(d["direction"]),
                    fingerprint=d.get("fingerprint"),
                )
                for d in data["datasets"]
            )
            candidates = tuple(dict(c["params"]) for c in data["candidates"])
            sources = tuple(str(c.get("source", "")) for c in data["candidates"])
            scores = tuple(tuple(None if s is None else float(s) for s in row) for row in data["scores"])
            if len(scores) != len(candidates) or any(len(row) != len(datasets) for row in scores):
                raise ValueError("`scores` is not one row per candidate and one column per dataset")
            return cls(
                space=str(data["space"]),
                space_hash=str(data["space_hash"]),
                datasets=datasets,
                candidates=candidates,
                sources=sources,
                scores=scores,
                built=dict(data.get("built") or {}),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise UserError(
                f"{where}: damaged portfolio file ({exc}); rebuild it with scripts/build_portfolio.py"
            ) from None

    def select(
        self,
        k: int,
        space: SearchSpace,
        *,
        dataset: str | None = None,
        fingerprint: str | None = None,
    ) -> list[dict[str, Any]]:
        """Up to ``k`` candidates' params (valid for ``space``), picked greedily, leaving ``dataset`` out.

        The first pick has the lowest mean regret; each next one lowers most the mean over datasets of
        the best regret among those picked (ties: the lower own mean regret, then file order).
        """
        left_out = {
            j
            for j, d in enumerate(self.datasets)
            if d.name == dataset or (fingerprint is not None and d.fingerprint == fingerprint)
        }
        left_names = {self.datasets[j].name for j in left_out}
        columns = [j for j in range(len(self.datasets)) if j not in left_out]
        rows = [
            i
            for i, params in enumerate(self.candidates)
            if self.sources[i] not in left_names and _valid(space, params) is not None
        ]
        if not columns or not rows or k < 1:
            return []
        regret = {i: [0.0] * len(columns) for i in rows}
        for c, j in enumerate(columns):
            column = _regrets([self.scores[i][j] for i in rows], self.datasets[j].direction)
            for i, r in zip(rows, column, strict=True):
                regret[i][c] = r
        picked = greedy(regret, k)
        return [_valid(space, self.candidates[i]) or {} for i in picked]

    def mean_regret(self, picked: Sequence[dict[str, Any]], *, dataset: str | None = None) -> float:
        """Mean over datasets (all, or only ``dataset``) of the best regret among ``picked`` (all
        candidates' regrets normalised over every candidate): how good a pick is, for reports."""
        columns = [j for j, d in enumerate(self.datasets) if dataset is None or d.name == dataset]
        rows = [i for i, params in enumerate(self.candidates) if params in picked]
        if not columns or not rows:
            return math.nan
        total = 0.0
        for j in columns:
            regrets = _regrets([row[j] for row in self.scores], self.datasets[j].direction)
            total += min(regrets[i] for i in rows)
        return total / len(columns)


def greedy(regret: Mapping[int, Sequence[float]], k: int) -> list[int]:
    """Up to ``k`` keys of ``regret`` (candidate -> regret per dataset), each lowering most the mean over
    datasets of the best regret among those picked; ties: the lower own mean regret, then the lower key."""
    best = [math.inf] * len(next(iter(regret.values()), ()))
    picked: list[int] = []
    while len(picked) < min(k, len(regret)):

        def cost(i: int, best: list[float] = best) -> tuple[float, float, int]:
            cover = sum(min(b, r) for b, r in zip(best, regret[i], strict=True))
            return (round(cover, 12), round(sum(regret[i]), 12), i)

        choice = min((i for i in regret if i not in picked), key=cost)
        picked.append(choice)
        best = [min(b, r) for b, r in zip(best, regret[choice], strict=True)]
    return picked


def _regrets(scores: Sequence[float | None], direction: str) -> list[float]:
    """``(best - score) / (best - worst)`` per score, direction-aware; a failed fit (None) counts 1."""
    finite = [s for s in scores if s is not None and math.isfinite(s)]
    if not finite:
        return [1.0] * len(scores)
    best, worst = (max(finite), min(finite)) if direction == "maximize" else (min(finite), max(finite))
    span = abs(best - worst)
    return [
        1.0 if s is None or not math.isfinite(s) else (0.0 if span == 0 else abs(best - s) / span)
        for s in scores
    ]


def _valid(space: SearchSpace, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """``params`` as ``space`` searches them (canonical order), or None if they are not a config of it."""
    try:
        config, searched = space.walk(lambda p: params[p.name])
        space.validate_config(config)
    except (KeyError, ConfigError):
        return None
    if set(params) - set(searched):
        return None  # a value for a parameter the space does not search
    return dict(searched)


def load_portfolio(space: SearchSpace, directory: str | Path | None = None) -> Portfolio | None:
    """The portfolio shipped for ``space`` (by name), or None: none shipped, or one built for another
    version of the space (different content hash: ignored with one warning line).

    Raises:
        UserError: a damaged portfolio file.
    """
    path = Path(directory or portfolios_dir()) / f"{space.name}.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(
            f"{path}: cannot read the portfolio ({exc}); rebuild it with scripts/build_portfolio.py"
        ) from None
    portfolio = Portfolio.from_dict(data, where=str(path))
    if portfolio.space_hash != space.content_hash:
        log.warning(
            "portfolio %s was built for another version of space %r (hash %s, now %s): ignored; "
            "rebuild it with scripts/build_portfolio.py",
            path.name, space.name, portfolio.space_hash, space.content_hash,
        )  # fmt: skip
        return None
    return portfolio


def shipped_portfolios(directory: str | Path | None = None) -> list[str]:
    """Names of the spaces that ship a portfolio."""
    folder = Path(directory or portfolios_dir())
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
