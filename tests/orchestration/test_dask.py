"""Scale-out: detect on a Dask LocalCluster with two worker processes writes exactly what the
default thread runner writes."""

import json

from helpers import detect_settings


def test_dask_local_cluster_matches_default_runner(prefect_server, tmp_path, monkeypatch):
    from prefect_dask import DaskTaskRunner

    from pipelines.orchestration.flows import detect_flow

    from helpers import copy_demo

    region = copy_demo(tmp_path / "region")
    monkeypatch.setenv("COMPUTEWATCH_CACHE_DIR", str(tmp_path / "cache-threads"))
    default = detect_flow(str(region), str(tmp_path / "threads"), detect_settings())

    monkeypatch.setenv("COMPUTEWATCH_CACHE_DIR", str(tmp_path / "cache-dask"))
    runner = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1,
                                            "processes": True, "dashboard_address": None})
    dask = detect_flow.with_options(task_runner=runner)(str(region), str(tmp_path / "dask"),
                                                        detect_settings())
    assert dask["scenes_this_run"] == {"read": 12, "from_cache": 0, "failed": 0}
    assert dask["reused_results"] is False and default["reused_results"] is False
    threads, dask = (_without_times(tmp_path / name / "candidates.geojson")
                     for name in ("threads", "dask"))
    assert threads["features"], "the demo has candidates to compare"
    assert dask == threads

    # Scenes read in four tiles on the cluster (limits.tile_pixels): still the same file.
    from pipelines.bundle.reader import read_bundle

    from helpers import four_tiles

    settings = detect_settings()
    tiled = settings.model_copy(update={"limits": settings.limits.model_copy(
        update={"tile_pixels": four_tiles(read_bundle(region))})})
    monkeypatch.setenv("COMPUTEWATCH_CACHE_DIR", str(tmp_path / "cache-dask-tiles"))
    runner = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1,
                                            "processes": True, "dashboard_address": None})
    report = detect_flow.with_options(task_runner=runner)(str(region), str(tmp_path / "tiles"),
                                                          tiled)
    assert _without_times(tmp_path / "tiles" / "candidates.geojson") == threads
    assert _task_names(report["flow_run_id"]) == {"thermal-tile": 4}  # a task a tile


def _task_names(flow_run_id: str) -> dict[str, int]:
    """How many of the flow run's thermal tasks ran, by task name.

    Task runs reach the server as events, shortly after they end: asked again until there.
    """
    import time
    from collections import Counter

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    runs_of = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    names: Counter = Counter()
    with get_client(sync_client=True) as client:
        for _ in range(50):
            runs = client.read_task_runs(flow_run_filter=runs_of)
            names = Counter(r.name.rsplit("-", 1)[0] for r in runs
                            if r.name.startswith("thermal"))
            if sum(names.values()) >= 4:
                break
            time.sleep(0.2)
    return dict(names)


def _without_times(path) -> dict:
    """The collection without first_seen and last_seen (when each run happened)."""
    collection = json.loads(path.read_text())
    for f in collection["features"]:
        f["properties"].pop("first_seen")
        f["properties"].pop("last_seen")
    return collection
