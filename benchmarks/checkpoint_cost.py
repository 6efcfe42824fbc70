"""What saving a trial's state costs: the same fit with a checkpoint after every epoch and without.

On the 60,000-image Fashion-MNIST-shaped set (generated offline, :mod:`automl.datasets._synthetic`), the
``cnn`` space's default config is fit for ``--epochs`` epochs twice, in this process, alternating
``--repeats`` times: ``none`` (no checkpoint) and ``every epoch`` (``TrialCheckpoint(every=0)``: weights
with the optimizer's state, the best weights, the counters). Prints the seconds per epoch of each, the
seconds one save takes (timed around :meth:`TrialCheckpoint.save` itself), and that save as a share of an
epoch: the default interval (:data:`automl.training.CHECKPOINT_EVERY_SECONDS`) is chosen so a trial spends
under 2 % of its time saving, whatever its epoch length (a save every ``interval`` seconds costs
``save / interval`` of the time).

Usage: python benchmarks/checkpoint_cost.py [--rows 60000] [--epochs 3] [--repeats 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from automl.datasets._synthetic import fashion_like_dataset
from automl.space import load_space
from automl.training import CHECKPOINT_EVERY_SECONDS, TrialCheckpoint, train


def _fit(config: dict, dataset, epochs: int, checkpoint: TrialCheckpoint | None) -> float:
    started = time.perf_counter()
    train(config, dataset, epochs=epochs, family="cnn", checkpoint=checkpoint, early_stopping=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    dataset = fashion_like_dataset(args.rows, 2_000, seed=0)
    config = {**load_space("cnn").default_config(), "epochs": args.epochs + 1}
    saves: list[float] = []
    original = TrialCheckpoint.save

    def timed_save(self, *a, **k):  # the save alone, without the epoch around it
        started = time.perf_counter()
        original(self, *a, **k)
        saves.append(time.perf_counter() - started)

    TrialCheckpoint.save = timed_save  # type: ignore[method-assign]
    plain, saving = [], []
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            plain.append(_fit(config, dataset, args.epochs, None))
            checkpoint = TrialCheckpoint(Path(folder) / f"trial-{repeat}", every=0)
            saving.append(_fit(config, dataset, args.epochs, checkpoint))
    epoch = statistics.median(plain) / args.epochs
    save = statistics.median(saves)
    print(f"fashion-shaped, {args.rows} rows, cnn default config, {args.epochs} epochs x {args.repeats}")
    print(f"  epoch, no checkpoint      {epoch:8.2f} s")
    print(f"  epoch, saved every epoch  {statistics.median(saving) / args.epochs:8.2f} s")
    print(f"  one save                  {save * 1000:8.1f} ms ({len(saves)} saves)")
    print(f"  a save per epoch costs    {100 * save / epoch:8.2f} % of the time")
    every = CHECKPOINT_EVERY_SECONDS
    print(f"  a save every {every:.0f} s costs   {100 * save / every:8.2f} % (target < 2 %)")


if __name__ == "__main__":
    main()
