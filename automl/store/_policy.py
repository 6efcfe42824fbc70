"""The retrain policy: what retraining a search does, as one checked record.

:class:`RetrainPolicy` holds the values a user gives retraining (``top_k``, ``seeds``, ``epochs``,
``final_fit``, ``ensemble``, ``bag``, ``time_limit``, ``pick``, ``rescore``, ``ensemble_from``) and owns
every rule about them, alone or together; it checks them once, when it is made, wherever it is made:
``AutoMLSearch.retrain()``, ``automl.retrain.retrain_run()``, ``automl retrain`` or an experiment file's
``retrain:`` section. The
rules that need the search (how many configs finished, whether it cross-validated, its time budget) are in
:func:`automl.retrain.deploy_plan`, :func:`automl.retrain._bag.bag_folds` and :mod:`automl.retrain._time`.
It lives in the store because a run's manifest records it as its ``retrain`` entry. No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from automl._durations import parse_duration
from automl.exceptions import Argument, UserError
from automl.store._pick import Pick, parse_pick

__all__ = ["Choice", "RetrainPolicy", "RetrainPolicyError"]

#: ``ensemble`` and ``bag``: always, never, or as :func:`automl.retrain.deploy_plan` and ``bag_folds`` decide.
Choice = bool | Literal["auto"]


class RetrainPolicyError(UserError):
    """A retrain value refused by :class:`RetrainPolicy`.

    ``key`` is the value at fault (``None`` for two values that contradict each other, both named in the
    message). ``in_file`` is the message as an experiment file words it after ``retrain.<key>:``: it names
    the key as a key, not as the Python argument in backticks (which the command line would show as a
    flag); by default the message with the argument ``key`` written bare. ``message`` and ``fields`` are
    those of :class:`~automl.exceptions.UserError`.
    """

    def __init__(
        self, message: str, *, key: str | None = None, in_file: str | None = None, **fields: Any
    ) -> None:
        super().__init__(message, **fields)
        self.key = key
        if in_file is None:
            in_file = self.render(lambda argument: argument.name if argument.name == key else None)
        self.in_file = in_file


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _choice(value: object, key: str) -> None:
    if not (isinstance(value, bool) or value == "auto"):
        raise RetrainPolicyError(
            "{argument} takes true, false or 'auto', not {value!r}",
            argument=Argument(key),
            value=value,
            key=key,
            in_file=f"give true, false or auto, not {value!r}",
        )


def _time_limit(value: object) -> float | str | None:
    """``time_limit`` as the policy keeps it: ``"auto"``, None (also written ``none``), or seconds."""
    if value is None or value == "auto":
        return value
    if isinstance(value, str) and value.strip().lower() in ("auto", "none"):
        return None if value.strip().lower() == "none" else "auto"
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            return parse_duration(value, name="time_limit")
        except UserError:
            pass
    raise RetrainPolicyError(
        "{time_limit} takes a duration (90, 20m, 1h), 'auto' or 'none', not {got!r}",
        time_limit=Argument("time_limit"),
        got=value,
        key="time_limit",
        in_file=f"give a duration (90, 20m, 1h), auto or none, not {value!r}",
    )


def _pick(value: object) -> str:
    """``pick`` as the policy keeps it: its canonical words (``smallest-within 0.005``), which the
    manifest writes and :func:`~automl.store.parse_pick` reads back."""
    try:
        return str(parse_pick(value))
    except ValueError as exc:
        raise RetrainPolicyError(
            "{pick}: " + str(exc).replace("{", "{{").replace("}", "}}"),
            pick=Argument("pick"),
            key="pick",
            in_file=f"{exc}",
        ) from None


@dataclass(frozen=True)
class RetrainPolicy:
    """How to retrain a search's best configs (README "Retraining"); refused in one line if contradictory.

    ``top_k``: configs retrained (``None``: 5 for an ensemble, 3 of bags, else 1); ``seeds``: seeds per
    config;
    ``epochs``: ``"best"`` (the search's best epoch) or a fixed number; ``final_fit``: deploy the top-1
    config refitted on every row; ``ensemble``: deploy the average of the top configs; ``bag``: retrain
    each config as the average of its fold models; ``time_limit``: seconds the whole retrain may take
    (a duration such as ``"20m"`` is read as one), ``None`` for no limit, or ``"auto"`` (the default) for
    the time budget the search was given (see :mod:`automl.retrain._time`); ``pick``: which config is
    deployed, ``"best"`` (the default: the best validation score, as ``ensemble`` and ``bag`` say), or
    ``"smallest-within TOL"`` / ``"fastest-within TOL"``: the smallest (saved size) or fastest (latency at
    batch 1) config whose validation score is within TOL of the best, TOL in the metric's units (``0.005``)
    or a percentage of the best score (``"1%"``); see :mod:`automl.store._pick`. Such a pick deploys one
    model: an ensemble or a bag multiplies the size and latency it minimises, so ``ensemble`` and ``bag``
    ``"auto"`` mean no, ``bag=True`` is refused, and an ensemble needs ``top_k`` and ``ensemble=True``
    both (the K smallest or fastest configs within TOL, averaged). ``rescore``: 0 (the default), or how
    many top configs are trained again with a second seed and ranked by the mean of both validation
    scores before the top K are taken (see :mod:`automl.retrain._rescore`; with a pick of ``best`` only).
    ``ensemble_from``: 0 (the default), or how many top configs the ensemble's members are chosen from by
    what each adds to the ensemble's validation loss (see :mod:`automl.retrain._select`).

    Raises:
        RetrainPolicyError: (a :class:`UserError`) a value out of its range, or two values that contradict
            each other (``final_fit`` with ``ensemble`` or ``bag``, an ensemble of ``top_k`` 1, a pick of
            the smallest or fastest with ``bag``, with ``rescore``, or with ``ensemble`` but no ``top_k``;
            ``ensemble_from`` with no ensemble, with ``rescore``, or with such a pick).
    """

    top_k: int | None = None
    seeds: int = 1
    epochs: str | int = "best"
    final_fit: bool = False
    ensemble: Choice = "auto"
    bag: Choice = "auto"
    time_limit: float | str | None = "auto"
    pick: str = "best"
    rescore: int = 0
    ensemble_from: int = 0

    @property
    def parsed_pick(self) -> Pick:
        """``pick`` as a :class:`~automl.store.Pick` (rule, tolerance)."""
        return parse_pick(self.pick)

    def __post_init__(self) -> None:
        object.__setattr__(self, "time_limit", _time_limit(self.time_limit))
        object.__setattr__(self, "pick", _pick(self.pick))
        if self.top_k is not None and not (_whole(self.top_k) and self.top_k >= 1):
            raise RetrainPolicyError(
                "{top_k} must be at least 1, but got {got!r}",
                top_k=Argument("top_k"),
                got=self.top_k,
                key="top_k",
            )
        if not (_whole(self.seeds) and self.seeds >= 1):
            raise RetrainPolicyError(
                "{seeds} must be at least 1, but got {got!r}",
                seeds=Argument("seeds"),
                got=self.seeds,
                key="seeds",
            )
        if not (self.epochs == "best" or (_whole(self.epochs) and int(self.epochs) >= 1)):
            raise RetrainPolicyError(
                "{epochs} must be 'best' or a positive number of epochs, but got {got!r}",
                epochs=Argument("epochs"),
                got=self.epochs,
                key="epochs",
            )
        if not isinstance(self.final_fit, bool):
            raise RetrainPolicyError(
                "{final_fit} takes true or false, not {got!r}",
                final_fit=Argument("final_fit"),
                got=self.final_fit,
                key="final_fit",
                in_file=f"give true or false, not {self.final_fit!r}",
            )
        _choice(self.ensemble, "ensemble")
        _choice(self.bag, "bag")
        for other in ("ensemble", "bag"):
            if self.final_fit and getattr(self, other) is True:
                raise RetrainPolicyError(
                    "{final_fit} and {other} deploy different models: choose one",
                    final_fit=Argument("final_fit"),
                    other=Argument(other),
                )
        if self.ensemble is True and self.top_k == 1:
            raise RetrainPolicyError(
                "an ensemble needs at least 2 configs: retrain with {top_k} of 2 or more",
                top_k=Argument("top_k"),
                key="ensemble",
                in_file="an ensemble needs `top_k` of 2 or more",
            )
        if not (_whole(self.rescore) and (self.rescore == 0 or self.rescore >= 2)):
            raise RetrainPolicyError(
                "{rescore} takes 0 (off) or the number of top configs to re-score, at least 2, not {got!r}",
                rescore=Argument("rescore"),
                got=self.rescore,
                key="rescore",
                in_file=f"give 0 (off) or a number of configs, at least 2, not {self.rescore!r}",
            )
        if self.ensemble_from:
            self._check_ensemble_from()
        if self.pick != "best":
            self._check_pick()

    def _check_ensemble_from(self) -> None:
        """Ensemble selection chooses an ensemble's members: it needs an ensemble, and it ranks by
        validation loss, which re-scoring and a pick of the smallest or fastest rank otherwise."""
        if not (_whole(self.ensemble_from) and self.ensemble_from >= 2):
            raise RetrainPolicyError(
                "{ensemble_from} takes 0 (off) or the number of top configs to choose members from, at "
                "least 2, not {got!r}",
                ensemble_from=Argument("ensemble_from"),
                got=self.ensemble_from,
                key="ensemble_from",
                in_file=f"give 0 (off) or a number of configs, at least 2, not {self.ensemble_from!r}",
            )
        for other, value, why in (
            ("ensemble", self.ensemble is False, "it deploys no ensemble"),
            ("final_fit", self.final_fit, "it deploys the top-1 config alone"),
            ("top_k", self.top_k == 1, "an ensemble needs 2 or more"),
            ("rescore", bool(self.rescore), "both rank the top configs again: choose one"),
            ("pick", self.pick != "best", "it ranks by size or latency: pick 'best'"),
        ):
            if value:
                raise RetrainPolicyError(
                    "{ensemble_from} chooses an ensemble's members, but {other}: " + why,
                    ensemble_from=Argument("ensemble_from"),
                    other=Argument(other, getattr(self, other)),
                    in_file=f"ensemble_from chooses an ensemble's members, but {other} is "
                    f"{getattr(self, other)!r}: {why}",
                )

    def _check_pick(self) -> None:
        """A pick of the smallest or fastest config deploys one model unless an ensemble is asked whole;
        re-scoring orders by validation score, which such a pick does not."""
        if self.rescore:
            raise RetrainPolicyError(
                "{rescore} ranks the top configs by validation score again, and {pick} ranks them by "
                "{measure}: drop {rescore}, or pick 'best'",
                rescore=Argument("rescore"),
                pick=Argument("pick", self.pick),
                measure="size" if self.pick.startswith("smallest") else "latency",
                in_file="rescore ranks by validation score, which a pick of the smallest or fastest does "
                "not: drop rescore, or pick best",
            )
        if self.bag is True:
            raise RetrainPolicyError(
                "{pick} deploys one small or fast model, and {bag} averages K fold models (K times its "
                "size and latency): drop {bag}, or pick 'best'",
                pick=Argument("pick", self.pick),
                bag=Argument("bag"),
                in_file="a bag of fold models multiplies the size and latency a pick minimises: "
                "drop bag, or pick best",
            )
        if self.ensemble is True and self.top_k is None:
            raise RetrainPolicyError(
                "{pick} with {ensemble} averages several configs (their sizes and latencies add up): "
                "say how many with {top_k}, or drop {ensemble}",
                pick=Argument("pick", self.pick),
                ensemble=Argument("ensemble"),
                top_k=Argument("top_k"),
                in_file="an ensemble of picked configs needs top_k (their sizes and latencies add up), "
                "or drop ensemble",
            )
