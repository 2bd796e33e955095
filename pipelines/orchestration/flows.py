"""Prefect wiring of the detect flow: tasks per facility batch or per scene, never per facility.

The stages themselves live in pipelines/detect/engine.py; here they become Prefect tasks, and the
flow adds the alert store, evidence packets and the output files.

Runs are incremental and idempotent. Every stage result is cached under a key made of the
bundle's file hashes, the code fingerprint, the model checksum and the options (pipelines/
cache.py), so a scene already measured is not read again, and a run whose inputs are all
unchanged reuses the scored candidates outright. The run id is that key: re-running the same
inputs (after a crash, or on a schedule with no new data) is the same run to the alert store
and writes the same candidates.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NONE
from prefect.runtime import flow_run

from detectors.regional import RegionalParams
from detectors.thermal import ZoneWeights
from pipelines.alerts.store import Margins, open_store, record_run
from pipelines.bundle.imagery import RasterGrid, Scene
from pipelines.bundle.limits import Limits
from pipelines.bundle.reader import RegionBundle, read_bundle
from pipelines.cache import StageCache, key_of
from pipelines.detect.engine import DetectRun, batch_weights, footprint_and_power
from pipelines.detect.features import SceneResult, scene_result
from pipelines.detect.regional import write_regional
from pipelines.detect.stages import DetectOptions, run_report
from pipelines.export.candidates import with_states
from pipelines.export.evidence import write_packets
from pipelines.export.files import write_candidates, write_report
from pipelines.export.geojson import feature_collection
from pipelines.orchestration.retry import RETRIES, retry_delays, retry_transient, settle
from pipelines.redact import with_secret

log = logging.getLogger("computewatch")


@task(name="read-bundle", cache_policy=NONE)
def read_task(region: str, assume_utc: bool, limits: Limits) -> RegionBundle:
    """Read and check the region bundle."""
    return read_bundle(region, assume_utc=assume_utc, limits=limits)


@task(name="thermal-weights", cache_policy=NONE)
def weights_task(footprints: gpd.GeoSeries, grid: RasterGrid) -> tuple:
    """Footprint and raw ring coverage of one batch of facilities."""
    return batch_weights(footprints, grid)


@task(name="share-weights", cache_policy=NONE)
def share_task(weights: ZoneWeights) -> ZoneWeights:
    """Hand the weights to the task runner once; scene tasks receive them by reference.

    On Dask they then stay on the cluster instead of travelling with every scene.
    """
    return weights


@task(name="thermal-scene", cache_policy=NONE, retries=RETRIES,
      retry_delay_seconds=retry_delays(), retry_jitter_factor=0.5,
      retry_condition_fn=retry_transient)
def scene_task(scene: Scene, grid: RasterGrid, weights: ZoneWeights) -> SceneResult:
    """Read one scene (source I/O: retried on transient errors) and measure every facility."""
    return scene_result(scene, grid, weights)


@task(name="footprint-and-power", cache_policy=NONE)
def footprint_power_task(bundle: RegionBundle, thermal: object,
                         node_max_distance_m: float) -> tuple:
    """Footprint features, then grid attribution (helped by heat) and load features."""
    return footprint_and_power(bundle, thermal, node_max_distance_m)  # type: ignore[arg-type]


class PrefectStages:
    """The engine's stages as Prefect tasks: batches and scenes go to the task runner."""

    def read(self, region: str, assume_utc: bool, limits: Limits) -> RegionBundle:
        """Read the bundle in a task."""
        return read_task(region, assume_utc, limits)

    def weights(self, footprints: gpd.GeoSeries, grid: RasterGrid) -> Any:
        """Submit one batch of coverage weights."""
        return weights_task.submit(footprints, grid)

    def share(self, weights: ZoneWeights) -> Any:
        """Submit the weights once, for scenes to receive by reference."""
        return share_task.submit(weights)

    def scene(self, scene: Scene, grid: RasterGrid, weights: Any) -> Any:
        """Submit one scene."""
        return scene_task.submit(scene, grid, weights)

    def footprint_power(self, bundle: RegionBundle, thermal: pd.DataFrame,
                        node_max_distance_m: float) -> tuple:
        """Footprint and power features in a task."""
        return footprint_power_task(bundle, thermal, node_max_distance_m)

    def settle(self, handle: Any) -> tuple[Any, BaseException | None]:
        """Wait for a submitted task: (result, None) or (None, its exception)."""
        return settle(handle)

    def settle_or_raise(self, handle: Any) -> Any:
        """Wait for a submitted task and return its result (raising its failure)."""
        return handle.result()


def _publish(run: DetectRun, candidates: gpd.GeoDataFrame, collection: dict, out: Path,
             evidence: bool, regional: gpd.GeoDataFrame | None) -> dict[str, str]:
    """Evidence packets for the alerts (only those whose inputs changed), then the files."""
    t = time.perf_counter()
    packets = write_packets(lambda: run.bundle, collection, out, run.scored_key) \
        if evidence else {}
    for f in collection["features"]:
        f["properties"]["evidence"] = packets.get(str(f["id"]))
    candidates["evidence"] = [packets.get(fid) for fid in candidates["facility_id"]]
    run.clock.add("evidence", time.perf_counter() - t)
    t = time.perf_counter()
    outputs = write_candidates(candidates, collection, out)
    if regional is not None and len(regional):
        outputs["regional"] = write_regional(regional, out)
        flagged = regional.loc[regional["regional_alert"].astype(bool), "node_id"]
        log.info("regional: %d areas, regional alerts: %s", len(regional),
                 ", ".join(flagged) or "none")
    run.clock.add("export", time.perf_counter() - t)
    return outputs


@flow(name="detect", log_prints=False, validate_parameters=True)
def detect_flow(region: str, out: str, export_threshold: float, alert_threshold: float,
                hardware_year: int | None = None, node_max_distance_m: float = 1500.0,
                assume_utc: bool = False, progress: bool = False,
                alert_store: str | None = None, evidence: bool = True,
                change_margins: tuple[float, float] = (0.1, 0.2),
                declared_within_m: float = 100.0,
                max_grid_pixels: int = Limits.max_grid_pixels,
                max_load_file_mb: float = Limits.max_load_file_mb,
                regional: dict | None = None) -> dict:
    """Read a region bundle, compute evidence, score, and export candidates to out.

    alert_store is a URL without its password (Prefect keeps flow parameters in its
    database): the password comes from pipelines.redact.stash_secret or the driver's own
    sources (PGPASSWORD, ~/.pgpass).
    """
    opts = DetectOptions(export_threshold, alert_threshold, hardware_year, node_max_distance_m,
                         declared_within_m, RegionalParams(**(regional or {})))
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t = time.perf_counter()
    run = DetectRun(region, opts, assume_utc, progress, StageCache(),
                    Limits(max_grid_pixels, max_load_file_mb), PrefectStages())
    run.clock.add("hash_inputs", time.perf_counter() - t)
    run_id = "cw-" + key_of(run.scored_key, change_margins)[:20]
    log.info("run %s on %s (flow run %s)", run_id, region, flow_run.get_id() or "local")
    scored, reused = run.scored(run_id, started)
    candidates = scored.candidates.copy()
    candidates["run_id"] = run_id

    t = time.perf_counter()
    collection = feature_collection(candidates)
    if alert_store:
        collection["features"] = record_run(
            open_store(with_secret(alert_store)), scored.region_name, run_id, started,
            collection["features"], Margins(*change_margins), scored.model_inputs)
        candidates = with_states(candidates, collection["features"])
        states = pd.Series([f["properties"]["alert_state"] for f in collection["features"]])
        log.info("alert store: %s", states.value_counts().to_dict() or "no candidates")
    run.clock.add("alert_store", time.perf_counter() - t)
    outputs = _publish(run, candidates, collection, Path(out), evidence, scored.regional)
    finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
    report = run_report(scored, candidates, run_id, opts, run.clock, started, finished,
                        run.keys.all_inputs, region)
    report.update({"flow_run_id": str(flow_run.get_id() or "local"), "reused_results": reused,
                   "scenes_this_run": run.scene_counts,
                   "model_sha256": run.model_sha, "code_fingerprint": run.code})
    outputs["report"] = write_report({**report, "outputs": outputs}, Path(out))
    report["outputs"] = outputs
    pruned = run.cache.prune()
    if pruned:
        log.info("cache: %d entries unused for 30 days removed", pruned)
    log.info("export: %d candidates (%d alerts) to %s", report["counts"]["candidates"],
             report["counts"]["alerts"], out)
    return report
