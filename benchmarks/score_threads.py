"""Seconds to score a simulated region (score plus the reasons' batched prediction) at
several OpenMP thread limits, min/median of repeats: why pipelines/detect/stages.py scores on one.

    ./run python benchmarks/score_threads.py [--preset county] [--seed 7] [--repeats 3]

Run it idle and again with the other cores busy (e.g. a second detect): the gap between
one thread and many grows with load.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from threadpoolctl import threadpool_limits

from pipelines.detect.engine import region_features
from pipelines.model.store import load_model
from pipelines.sources.simulate import simulate


def main() -> None:
    """Featurise one region once, then time scoring at each thread limit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="county")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2, 4])
    args = parser.parse_args()
    model = load_model()
    with tempfile.TemporaryDirectory() as tmp:
        simulate(tmp, seed=args.seed, preset=args.preset)
        _, features = region_features(tmp)
    print(f"{len(features)} buildings ({args.preset}, seed {args.seed})")
    for limit in args.threads:
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            with threadpool_limits(limits=limit):
                base = model.probabilities(features)["ai_training"].to_numpy()
                model.reasons(features, base=base)
            times.append(time.perf_counter() - t)
        print(f"threads {limit}: min {min(times):.2f} s, median {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
