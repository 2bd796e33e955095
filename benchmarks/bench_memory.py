"""Peak memory of `computewatch detect` against the memory model in README "Memory and threads".

Runs detect as a user does (a new process, no Prefect server, fresh cache, no store) on
existing region bundles, once per worker count, and prints each run's measured peak
resident set beside the model's prediction:

    peak = base + per_facility x facilities + weights + workers x per_pixel x grid pixels

with the weights measured from the bundle (12 bytes per non-zero: float32 coverage and int64
column index of the footprint and ring matrices, and the byte-per-pixel mask of open ground
the rings average), `base` fitted on the first region (the
demo) and `per_facility` on the second (one worker); every further region checks the model.

    ./run python benchmarks/bench_memory.py data/demo /tmp/county /tmp/state --workers 1 2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Per working-grid pixel while one scene task runs: 20 bytes by account (both uint16 bands 4,
# the usable, finite, clear and open-ground masks 4, Kelvin as float32 4, the masked float32
# scene the ring's block sums read 4, its padded copy at the grid's edge up to 4; the block
# sums themselves are a sixteenth; pipelines/bundle/imagery.py, detectors/thermal.py). GDAL's
# read buffers come on top; a second worker added 56 MB on the 16.4 M-pixel state grid.
BYTES_PER_PIXEL = 20


def grid_and_weights(region: Path) -> tuple[int, int, int]:
    """(facilities, working-grid pixels, bytes of the footprint and ring weights)."""
    from detectors.thermal import zone_weights
    from pipelines.bundle.reader import read_bundle

    bundle = read_bundle(region)
    g = bundle.raster
    w = zone_weights(bundle.facilities.geometry, g.transform, (g.height, g.width))
    nnz = w.footprint.nnz + w.ring.nnz
    return len(bundle.facilities), g.width * g.height, nnz * 12 + w.background.nbytes


def peak_mb(region: Path, workers: int, tmp: Path) -> float:
    """The detect child's peak resident set in MB."""
    config = tmp / f"flows-{workers}.yaml"
    config.write_text(f"defaults:\n  task_runner: {{kind: threads, max_workers: {workers}}}\n")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["COMPUTEWATCH_CACHE_DIR"] = str(tmp / f"cache-{region.name}-{workers}")
    child = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "-q", "detect", str(region),
                              "--out", str(tmp / f"out-{region.name}-{workers}"), "--no-store",
                              "--config", str(config)], env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, in KB on Linux
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"detect on {region} failed ({child.returncode})")
    return usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("regions", type=Path, nargs="+",
                        help="bundles; the first (the demo) sets the fixed cost")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cw-bench-mem-") as tmp:
        fitted: list[tuple[int, float]] = []  # (facilities, MB not explained by pixels)
        print("| region | facilities | pixels | weights MB | workers | peak MB | model MB |")
        print("|---|---|---|---|---|---|---|")
        for region in args.regions:
            facilities, pixels, weights = grid_and_weights(region)
            for workers in sorted(args.workers):
                peak = peak_mb(region, workers, Path(tmp))
                rest = peak - (weights + workers * BYTES_PER_PIXEL * pixels) / 2**20
                if len(fitted) < 2 and workers == min(args.workers):
                    fitted.append((facilities, rest))
                base = fitted[0][1]
                per_facility = (fitted[1][1] - base) / (fitted[1][0] - fitted[0][0]) \
                    if len(fitted) == 2 else 0.0
                model = base + per_facility * (facilities - fitted[0][0]) + \
                    (weights + workers * BYTES_PER_PIXEL * pixels) / 2**20
                print(f"| {region.name} | {facilities:,} | {pixels:,} | {weights / 2**20:,.0f} "
                      f"| {workers} | {peak:,.0f} | {model:,.0f} |")
        if len(fitted) == 2:
            print(f"fitted: base {fitted[0][1]:,.0f} MB, "
                  f"{(fitted[1][1] - fitted[0][1]) / (fitted[1][0] - fitted[0][0]) * 1024:,.1f} "
                  f"KB per facility; {BYTES_PER_PIXEL} bytes per pixel per worker")

if __name__ == "__main__":
    main()
