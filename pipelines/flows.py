"""Prefect wiring of the detect flow: tasks per facility batch or per scene, never per facility.

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
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NONE
from prefect.runtime import flow_run
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from detectors.thermal import ZoneWeights, batch_coverage, combine_weights
from pipelines.alerts.evidence import write_packets
from pipelines.alerts.store import Margins, open_store, record_run
from pipelines.bundle.imagery import GridSpec, Scene
from pipelines.bundle.keys import BUNDLE_FILES, BundleKeys, bundle_keys
from pipelines.bundle.limits import DEFAULT_LIMITS, Limits
from pipelines.bundle.reader import RegionBundle, read_bundle
from pipelines.cache import StageCache, code_fingerprint, key_of
from pipelines.detect import DetectOptions, Scored, StageClock, run_report, score_and_build
from pipelines.export.candidates import clean, with_states
from pipelines.export.files import write_candidates, write_report
from pipelines.export.geojson import feature_collection
from pipelines.features import (
    SceneResult,
    assemble,
    facility_batches,
    footprint_table,
    power_table,
    scene_result,
    thermal_table,
)
from pipelines.model_store import load_model, model_checksum
from pipelines.redact import with_secret
from pipelines.regional import regional_frame, write_regional
from pipelines.retry import RETRIES, retry_delays, retry_transient, settle

log = logging.getLogger("computewatch")
DETECT_CODE = ("detectors", "pipelines/bundle", "pipelines/features.py", "pipelines/detect.py",
               "pipelines/flows.py", "pipelines/regional.py", "pipelines/export/candidates.py",
               "pipelines/reference.py")


@task(name="read-bundle", cache_policy=NONE)
def read_task(region: str, assume_utc: bool, limits: Limits) -> RegionBundle:
    """Read and check the region bundle."""
    return read_bundle(region, assume_utc=assume_utc, limits=limits)


@task(name="thermal-weights", cache_policy=NONE)
def weights_task(footprints: gpd.GeoSeries, grid: GridSpec) -> tuple:
    """Footprint and raw ring coverage of one batch of facilities."""
    return batch_coverage(footprints, grid.transform, (grid.height, grid.width))


@task(name="share-weights", cache_policy=NONE)
def share_task(weights: ZoneWeights) -> ZoneWeights:
    """Hand the weights to the task runner once; scene tasks receive them by reference.

    On Dask they then stay on the cluster instead of travelling with every scene.
    """
    return weights


@task(name="thermal-scene", cache_policy=NONE, retries=RETRIES,
      retry_delay_seconds=retry_delays(), retry_jitter_factor=0.5,
      retry_condition_fn=retry_transient)
def scene_task(scene: Scene, grid: GridSpec, weights: ZoneWeights) -> SceneResult:
    """Read one scene (source I/O: retried on transient errors) and measure every facility."""
    return scene_result(scene, grid, weights)


@task(name="footprint-and-power", cache_policy=NONE)
def footprint_power_task(bundle: RegionBundle, thermal: object,
                         node_max_distance_m: float) -> tuple:
    """Footprint features, then grid attribution (helped by heat) and load features."""
    footprint = footprint_table(bundle)
    return footprint, power_table(bundle, footprint, thermal, node_max_distance_m)


def _progress(enabled: bool) -> Progress:
    return Progress(TextColumn("thermal scenes"), BarColumn(), MofNCompleteColumn(),
                    console=Console(stderr=True), transient=True, disable=not enabled)


class DetectRun:
    """One detect run's stages, each reusing the cache where its key is already there."""

    def __init__(self, region: str, opts: DetectOptions, assume_utc: bool, progress: bool,
                 cache: StageCache, limits: Limits = DEFAULT_LIMITS) -> None:
        self.region, self.opts, self.assume_utc = region, opts, assume_utc
        self.limits = limits
        self.progress, self.cache = progress, cache
        self.clock = StageClock()
        self.scene_counts = {"read": 0, "from_cache": 0, "failed": 0}
        self.keys: BundleKeys = bundle_keys(Path(region))
        self.code = code_fingerprint(DETECT_CODE)
        self.model_sha = model_checksum()
        self._bundle: RegionBundle | None = None

    @property
    def bundle(self) -> RegionBundle:
        """The region bundle, read on first use only (a fully cached run never reads it)."""
        if self._bundle is None:
            t = time.perf_counter()
            self._bundle = read_task(self.region, self.assume_utc, self.limits)
            self.clock.add("read", time.perf_counter() - t)
            b = self._bundle
            log.info("read: %d facilities, %d scenes, %d grid nodes, %d load rows",
                     len(b.facilities), len(b.scenes), len(b.nodes), len(b.load))
        return self._bundle

    def key(self, stage: str, *parts: object) -> str:
        """A stage's cache key: its name, the code, and what it depends on."""
        return key_of(stage, self.code, *parts)

    @cached_property
    def scored_key(self) -> str:
        """Everything that decides the candidates: all inputs, the model, the options."""
        return self.key("scored", self.keys.files, self.keys.scenes, self.model_sha,
                        vars(self.opts), self.assume_utc)

    @cached_property
    def weights_key(self) -> str:
        """The weights depend on the grid (region.yaml) and the footprints only."""
        return self.key("weights", self.keys.of("region.yaml", "facilities.geojson"))

    def weights(self) -> ZoneWeights:
        """Zone weights, built in facility batches (spread over the task runner)."""
        key = self.weights_key
        cached = self.cache.get("weights", key)
        if cached is not None:
            return cached
        geoms, grid = self.bundle.facilities.geometry, self.bundle.grid
        futures = [weights_task.submit(geoms.iloc[s], grid)
                   for s in facility_batches(len(geoms))]
        weights = combine_weights([f.result() for f in futures])
        self.cache.put("weights", key, weights)
        return weights

    def thermal(self) -> tuple[pd.DataFrame, list[str], bool]:
        """Per-scene statistics (only scenes not measured before are read), then the table."""
        t = time.perf_counter()
        weights = self.weights()
        bundle = self.bundle
        results: dict[str, SceneResult] = {}
        todo, shared = [], None
        for scene in bundle.scenes:
            skey = self.key("scene", self.weights_key,
                            self.keys.scenes.get(scene.item_path.name))
            hit = self.cache.get("scene", skey)
            if hit is not None:
                results[skey] = hit
            else:
                shared = shared or share_task.submit(weights)
                todo.append((skey, scene, scene_task.submit(scene, bundle.grid, shared)))
        failed = 0
        with _progress(self.progress and bool(todo)) as bar:
            job = bar.add_task("scenes", total=len(todo))
            for skey, scene, fut in todo:
                result, exc = settle(fut)
                if exc is None:
                    results[skey] = result
                    self.cache.put("scene", skey, result)
                else:
                    failed += 1
                    bundle.scene_failed(scene, exc)
                bar.advance(job)
        self.scene_counts = {"read": len(todo) - failed, "from_cache": len(results) -
                             (len(todo) - failed), "failed": failed}
        ordered = [results[k] for k in sorted(results, key=lambda k: results[k].acquired)]
        table = thermal_table(bundle, ordered)
        self.clock.add("thermal", time.perf_counter() - t)
        log.info("thermal: %d of %d scenes used (%d read now, %d from cache, %d failed)",
                 len(ordered), len(bundle.scenes), *self.scene_counts.values())
        return table, sorted(results), failed == 0

    def features(self) -> tuple[pd.DataFrame, bool, int]:
        """All evidence per facility; cached on the inputs and the scenes that were used."""
        thermal, scene_keys, complete = self.thermal()
        key = self.key("features", self.keys.of(*BUNDLE_FILES), scene_keys,
                       self.opts.node_max_distance_m, self.assume_utc)
        cached = self.cache.get("features", key)
        if cached is not None:
            log.info("footprint and power: unchanged inputs, taken from cache")
            return cached, complete, len(scene_keys)
        t = time.perf_counter()
        footprint, power = footprint_power_task(self.bundle, thermal,
                                                self.opts.node_max_distance_m)
        features = assemble(self.bundle, thermal, footprint, power)
        self.cache.put("features", key, features)
        self.clock.add("footprint_power", time.perf_counter() - t)
        log.info("footprint and power: %d campuses, %d facilities with a metered node",
                 features["campus_id"].nunique(), int(features["has_grid"].sum()))
        return features, complete, len(scene_keys)

    def scored(self, run_id: str, started: str) -> tuple[Scored, bool]:
        """The scored candidates, from cache when nothing they depend on changed."""
        cached = self.cache.get("scored", self.scored_key)
        if cached is not None:
            log.info("inputs unchanged since an earlier run: its scored candidates are reused")
            return cached, True
        features, complete, scenes_used = self.features()
        t = time.perf_counter()
        model = load_model()
        bundle = self.bundle
        _, candidates = score_and_build(bundle, features, model, self.opts, run_id, started)
        inputs = features.loc[list(candidates["facility_id"]), model.features]
        counts = {"facilities": len(bundle.facilities), "scenes": len(bundle.scenes),
                  "nodes": len(bundle.nodes), "load_rows": len(bundle.load)}
        result = Scored(candidates, {fid: {k: clean(v) for k, v in row.items()}
                                     for fid, row in inputs.iterrows()},
                        counts, bundle.period, bundle.region.name, bundle.problems,
                        scenes_used, model.version, complete,
                        regional_frame(bundle.nodes, bundle.load, bundle.price))
        if complete:
            self.cache.put("scored", self.scored_key, result)
        self.clock.add("score", time.perf_counter() - t)
        log.info("score: %d candidates, %d alerts (model %s)", len(candidates),
                 int(candidates["alert"].sum()) if len(candidates) else 0, model.version)
        return result, False


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
        log.info("regional: %d areas, flat-growth alerts: %s", len(regional),
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
                max_load_file_mb: float = Limits.max_load_file_mb) -> dict:
    """Read a region bundle, compute evidence, score, and export candidates to out.

    alert_store is a URL without its password (Prefect keeps flow parameters in its
    database): the password comes from pipelines.redact.stash_secret or the driver's own
    sources (PGPASSWORD, ~/.pgpass).
    """
    opts = DetectOptions(export_threshold, alert_threshold, hardware_year, node_max_distance_m,
                         declared_within_m)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t = time.perf_counter()
    run = DetectRun(region, opts, assume_utc, progress, StageCache(),
                    Limits(max_grid_pixels, max_load_file_mb))
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
