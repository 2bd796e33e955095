"""Task runners for the detect flow: threads on this machine, or a Dask cluster.

Only submitted tasks (facility batches of the thermal weights, thermal scenes) go to the
runner; the flow body stays in the calling process.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipelines.errors import UsageError


class RunnerSettings(BaseModel):
    """`task_runner:` in flows.yaml: kind, and for Dask a scheduler address or a local size."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["threads", "dask"] = "threads"
    max_workers: int | None = Field(None, ge=1, description="threads: tasks at once "
                                    "(default: the core count)")
    address: str | None = Field(None, description="tcp://host:8786 of a running scheduler")
    workers: int = Field(2, ge=1, description="local cluster size when no address is given")
    threads_per_worker: int = Field(1, ge=1)

    def threads(self) -> int:
        """Thread tasks at once: max_workers, else the core count.

        Prefect's default pool is unbounded: every scene of a run is decoded at once and
        memory grows with the number of scenes (issue 14: 16 GB at the state preset, 2.7 GB
        with two workers, same wall time). More workers than cores buys no speed.
        """
        return self.max_workers or os.cpu_count() or 1


def build_runner(settings: RunnerSettings) -> Any:
    """The Prefect task runner these settings ask for."""
    if settings.kind == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=settings.threads())
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise UsageError("task_runner kind dask needs the dask extra: "
                         "pip install 'computewatch[dask]' (prefect-dask)") from None

    if settings.address:
        return DaskTaskRunner(address=settings.address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": settings.workers,
                                          "threads_per_worker": settings.threads_per_worker,
                                          "processes": True, "dashboard_address": None})
