"""detect on a Dask cluster started as separate commands on loopback, as on real machines.

Starts `dask scheduler` and two `dask worker` processes (one thread each) on 127.0.0.1,
then runs `computewatch detect` on a simulated region three ways: the thread runner, the
cluster at --dask-address with whole scenes, and the cluster with scenes read in four-way
tiles (limits.tile_pixels). Prints the wall times and whether the candidates match the
thread runner's (first_seen and last_seen aside).

    ./run python benchmarks/bench_dask_loopback.py --preset county
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def candidates(out: Path) -> list[dict]:
    features = json.loads((out / "candidates.geojson").read_text())["features"]
    for f in features:
        for key in ("first_seen", "last_seen"):
            f["properties"].pop(key, None)
    return features


def detect(region: Path, out: Path, env: dict[str, str], *extra: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipelines.cli", "-q", "detect", str(region),
                    "--out", str(out), "--no-store", *extra], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="county")
    parser.add_argument("--seed", type=int, default=41)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    with tempfile.TemporaryDirectory(prefix="cw-bench-dask-") as tmp:
        root = Path(tmp)
        region = root / "region"
        subprocess.run([sys.executable, "-m", "pipelines.cli", "-q", "simulate", "--preset",
                        args.preset, "--seed", str(args.seed), "--out", str(region)],
                       check=True, stdout=subprocess.DEVNULL)
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from pipelines.bundle.reader import read_bundle

        from helpers import four_tiles

        tiles = four_tiles(read_bundle(region))
        (root / "tiles.yaml").write_text(f"defaults:\n  limits: {{tile_pixels: {tiles}}}\n")
        (root / "whole.yaml").write_text("defaults: {}\n")
        port = free_port()
        address = f"tcp://127.0.0.1:{port}"
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        cluster = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1",
                                     "--port", str(port), "--no-dashboard"], env=env, **quiet)]
        time.sleep(3)
        cluster += [subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1",
                                      "--no-dashboard", "--host", "127.0.0.1"], env=env,
                                     **quiet) for _ in range(2)]
        time.sleep(5)
        try:
            rows = []
            for name, config, runner in (("threads", "whole.yaml", ()),
                                         ("dask, whole scenes", "whole.yaml",
                                          ("--task-runner", "dask", "--dask-address", address)),
                                         ("dask, four tiles", "tiles.yaml",
                                          ("--task-runner", "dask", "--dask-address", address))):
                run_env = {**env, "COMPUTEWATCH_CACHE_DIR": str(root / f"cache-{len(rows)}")}
                seconds = detect(region, root / f"out-{len(rows)}", run_env, "--config",
                                 str(root / config), *runner)
                rows.append((name, seconds, candidates(root / f"out-{len(rows)}")))
        finally:
            for process in reversed(cluster):
                process.terminate()
                process.wait(30)
    print("| runner | wall time | candidates | same as threads |\n|---|---|---|---|")
    for name, seconds, found in rows:
        print(f"| {name} | {seconds:.1f} s | {len(found)} | {found == rows[0][2]} |")


if __name__ == "__main__":
    main()
