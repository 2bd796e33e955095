"""Where a detect run from the command line runs: directly, or as a Prefect flow.

With no Prefect server in play (no PREFECT_API_URL, no `computewatch serve` running) and
threads as the task runner, the engine runs in this process on a bounded thread pool: no
Prefect import, no temporary server (about 10 s of a re-run's 28 s on a county region,
issue 14). With a server, the run is a flow run it records and shows; with Dask, a flow on
the cluster (its workers need a server they can reach, so one is started if none runs).
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipelines.orchestration.server import running_api_url
from pipelines.settings import DetectSettings

log = logging.getLogger("computewatch")


def uses_prefect(settings: DetectSettings) -> bool:
    """True when the run goes through Prefect: a server is in play or Dask runs the tasks."""
    return settings.task_runner.kind == "dask" or running_api_url() is not None


def detect(region: str, out: Path, settings: DetectSettings, assume_utc: bool = False,
           progress: bool = False) -> dict:
    """Run detect on a region with these settings (store URL resolved, "" for none)."""
    if not uses_prefect(settings):
        from pipelines.detect.engine import ThreadStages
        from pipelines.detect.run import run_detect

        stages = ThreadStages(settings.task_runner.threads())
        try:
            return run_detect(region, out, settings, assume_utc, progress, stages=stages)
        finally:
            stages.close()
    from pipelines.orchestration.flows import detect_flow
    from pipelines.orchestration.runners import build_runner
    from pipelines.orchestration.server import prefect_api

    flow_fn = detect_flow.with_options(task_runner=build_runner(settings.task_runner))
    with prefect_api(start=settings.task_runner.kind == "dask"):
        return flow_fn(region, str(out), settings.for_prefect(settings.alert_store or None),
                       assume_utc=assume_utc, progress=progress)
