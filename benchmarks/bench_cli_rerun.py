"""A re-run with no new data against the first run, measured from the command line.

Runs `computewatch detect` as a user would (a new process each time, no Prefect server in
play, so the engine runs directly) on a simulated region, twice, and prints both wall times
and their ratio (issue 14 asks for at most 10%).

    ./run python benchmarks/bench_cli_rerun.py --preset county --repeats 3
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one command, which must succeed."""
    t = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="county")
    parser.add_argument("--seed", type=int, default=77)
    parser.add_argument("--repeats", type=int, default=3, help="first runs (fresh caches)")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "pipelines.cli", "-q"]
    firsts, reruns = [], []
    with tempfile.TemporaryDirectory(prefix="cw-bench-cli-") as tmp:
        region = Path(tmp) / "region"
        subprocess.run([*cli, "simulate", "--out", str(region), "--seed", str(args.seed),
                        "--preset", args.preset], check=True, stdout=subprocess.DEVNULL)
        for i in range(args.repeats):
            env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
            env.update(COMPUTEWATCH_CACHE_DIR=f"{tmp}/cache-{i}", PREFECT_HOME=f"{tmp}/prefect")
            argv = [*cli, "detect", str(region), "--out", f"{tmp}/out-{i}",
                    "--store", f"sqlite:///{tmp}/alerts-{i}.sqlite"]
            firsts.append(timed(argv, env))
            reruns.append(timed(argv, env))
    first, rerun = statistics.median(firsts), statistics.median(reruns)
    print(f"preset {args.preset} seed {args.seed}, median of {args.repeats}: first run "
          f"{first:.1f} s (min {min(firsts):.1f}), re-run with no new data {rerun:.2f} s "
          f"(min {min(reruns):.2f}): {rerun / first:.1%} of the first run")


if __name__ == "__main__":
    main()
