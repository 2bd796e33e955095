"""Scheduled-operation costs: first run, re-run with no new data, one new scene, and Dask.

Runs the detect flow against a real local Prefect server (as `computewatch serve` does), so
every runner pays the same API costs:

    ./run python benchmarks/bench_schedule.py --preset county [--seed 41]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from pipelines.process import configure_logging, configure_prefect
from pipelines.sources.simulate import simulate


def timed(fn, *args, **kwargs) -> tuple[float, dict]:
    """Wall seconds of one call and its result."""
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t, out


def add_scene(region: Path) -> None:
    """A further acquisition: the last scene's pixels under a new id, three days later."""
    items = sorted((region / "imagery").glob("*.json"))
    item = json.loads(items[-1].read_text())
    item["id"] += "_NEXT"
    when = item["properties"]["datetime"]
    item["properties"]["datetime"] = when[:8] + f"{int(when[8:10]) % 25 + 3:02d}" + when[10:]
    (region / "imagery" / f"{item['id']}.json").write_text(json.dumps(item))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="county")
    parser.add_argument("--seed", type=int, default=41)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    configure_logging(-1)
    with tempfile.TemporaryDirectory(prefix="cw-bench-sched-") as tmp:
        tmp = Path(tmp)
        configure_prefect(home=tmp / "prefect")
        from pipelines.orchestration.server import start_server

        server = start_server()
        try:
            from prefect.settings import PREFECT_API_URL, temporary_settings
            from prefect_dask import DaskTaskRunner

            from pipelines.orchestration.flows import detect_flow
            from pipelines.settings import DetectSettings

            os.environ["PREFECT_API_URL"] = server.api_url
            region = tmp / "region"
            simulate(region, seed=args.seed, preset=args.preset)
            settings = DetectSettings().with_overrides(export=0.3, alert=0.5).model_copy(
                update={"alert_store": f"sqlite:///{tmp / 'alerts.sqlite'}"})
            rows = {}
            with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
                os.environ["COMPUTEWATCH_CACHE_DIR"] = str(tmp / "cache-threads")
                rows["first run (threads)"], first = timed(detect_flow, str(region),
                                                           str(tmp / "out"), settings)
                rows["re-run, no new data"], again = timed(detect_flow, str(region),
                                                           str(tmp / "out"), settings)
                add_scene(region)
                rows["re-run, one new scene"], _ = timed(detect_flow, str(region),
                                                         str(tmp / "out"), settings)
                os.environ["COMPUTEWATCH_CACHE_DIR"] = str(tmp / "cache-dask")
                runner = DaskTaskRunner(cluster_kwargs={
                    "n_workers": args.workers, "threads_per_worker": 1, "processes": True,
                    "dashboard_address": None})
                rows[f"first run (dask, {args.workers} workers)"], dask = timed(
                    detect_flow.with_options(task_runner=runner), str(region),
                    str(tmp / "out-dask"),
                    settings.model_copy(update={"alert_store": ""}))
        finally:
            server.stop()
    base = rows["first run (threads)"]
    print(f"preset {args.preset} seed {args.seed}: {first['counts']['facilities']} facilities, "
          f"{first['counts']['scenes']} scenes, {os.cpu_count()} cores")
    for name, seconds in rows.items():
        print(f"  {name:32s} {seconds:7.1f} s  ({seconds / base:6.1%} of the first run)")
    print(f"  thermal stage: threads {first['stage_seconds']['thermal']:.1f} s, "
          f"dask {dask['stage_seconds']['thermal']:.1f} s")
    print(f"  no-new-data re-run reused results: {again['reused_results']}")


if __name__ == "__main__":
    main()
