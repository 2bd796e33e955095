"""Prefect wiring of the detect flow: one task per stage or per scene, never per facility."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NONE
from prefect.runtime import flow_run
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from pipelines.alerts.evidence import write_packets
from pipelines.alerts.store import Margins, open_store, record_run
from pipelines.bundle.reader import RegionBundle, read_bundle
from pipelines.detect import DetectOptions, StageClock, run_report, score_and_build
from pipelines.export.candidates import clean, with_states
from pipelines.export.files import write_candidates, write_report
from pipelines.export.geojson import feature_collection
from pipelines.features import (
    SceneResult,
    assemble,
    footprint_table,
    power_table,
    thermal_scene,
    thermal_table,
    thermal_weights,
)
from pipelines.model_store import load_model

log = logging.getLogger("computewatch")


@task(name="read-bundle", cache_policy=NONE)
def read_task(region: str, assume_utc: bool) -> RegionBundle:
    """Read and check the region bundle."""
    return read_bundle(region, assume_utc=assume_utc)


@task(name="thermal-weights", cache_policy=NONE)
def weights_task(bundle: RegionBundle) -> object:
    """Footprint and ring weights on the working grid."""
    return thermal_weights(bundle)


@task(name="thermal-scene", cache_policy=NONE)
def scene_task(bundle: RegionBundle, index: int, weights: object) -> SceneResult | None:
    """One scene's statistics over every facility."""
    return thermal_scene(bundle, bundle.scenes[index], weights)


@task(name="footprint-and-power", cache_policy=NONE)
def footprint_power_task(bundle: RegionBundle, thermal: object,
                         node_max_distance_m: float) -> tuple:
    """Footprint features, then grid attribution (helped by heat) and load features."""
    footprint = footprint_table(bundle)
    return footprint, power_table(bundle, footprint, thermal, node_max_distance_m)


def _progress(enabled: bool) -> Progress:
    return Progress(TextColumn("thermal scenes"), BarColumn(), MofNCompleteColumn(),
                    console=Console(stderr=True), transient=True, disable=not enabled)


def _publish(bundle: RegionBundle, candidates: object, collection: dict, out: Path,
             evidence: bool, clock: StageClock) -> dict[str, str]:
    """Evidence packets for the alerts, then the candidate files."""
    t = time.perf_counter()
    packets = write_packets(bundle, collection, out) if evidence else {}
    for f in collection["features"]:
        f["properties"]["evidence"] = packets.get(str(f["id"]))
    candidates["evidence"] = [packets.get(fid) for fid in candidates["facility_id"]]
    clock.add("evidence", time.perf_counter() - t)
    t = time.perf_counter()
    outputs = write_candidates(candidates, collection, out)
    clock.add("export", time.perf_counter() - t)
    return outputs


@flow(name="detect", log_prints=False, validate_parameters=True)
def detect_flow(region: str, out: str, export_threshold: float, alert_threshold: float,
                hardware_year: int | None = None, node_max_distance_m: float = 1500.0,
                assume_utc: bool = False, progress: bool = False,
                alert_store: str | None = None, evidence: bool = True,
                change_margins: tuple[float, float] = (0.1, 0.2),
                declared_within_m: float = 100.0) -> dict:
    """Read a region bundle, compute evidence, score, and export candidates to out."""
    opts = DetectOptions(export_threshold, alert_threshold, hardware_year, node_max_distance_m,
                         declared_within_m)
    clock, started = StageClock(), datetime.now(timezone.utc).isoformat(timespec="seconds")
    run_id = str(flow_run.get_id() or "local")
    t = time.perf_counter()
    bundle = read_task(region, assume_utc)
    model = load_model()
    clock.add("read", time.perf_counter() - t)
    log.info("read %s: %d facilities, %d scenes, %d grid nodes", region,
             len(bundle.facilities), len(bundle.scenes), len(bundle.nodes))

    t = time.perf_counter()
    weights = weights_task(bundle)
    futures = [scene_task.submit(bundle, i, weights) for i in range(len(bundle.scenes))]
    results = []
    with _progress(progress) as bar:
        job = bar.add_task("scenes", total=len(futures))
        for fut in futures:
            results.append(fut.result())
            bar.advance(job)
    results = [r for r in results if r is not None]
    thermal = thermal_table(bundle, results)
    clock.add("thermal", time.perf_counter() - t)
    log.info("thermal: %d of %d scenes used", len(results), len(bundle.scenes))

    t = time.perf_counter()
    footprint, power = footprint_power_task(bundle, thermal, node_max_distance_m)
    clock.add("footprint_power", time.perf_counter() - t)

    t = time.perf_counter()
    features = assemble(bundle, thermal, footprint, power)
    _, candidates = score_and_build(bundle, features, model, opts, run_id, started)
    clock.add("score", time.perf_counter() - t)

    t = time.perf_counter()
    collection = feature_collection(candidates)
    if alert_store:
        inputs = features.loc[list(candidates["facility_id"]), model.features]
        collection["features"] = record_run(
            open_store(alert_store), bundle.region.name, run_id, started,
            collection["features"], Margins(*change_margins),
            {fid: {k: clean(v) for k, v in row.items()} for fid, row in inputs.iterrows()})
        candidates = with_states(candidates, collection["features"])
    clock.add("alert_store", time.perf_counter() - t)
    outputs = _publish(bundle, candidates, collection, Path(out), evidence, clock)
    finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
    report = run_report(bundle, candidates, len(results), run_id, model, opts, clock, started,
                        finished)
    outputs["report"] = write_report({**report, "outputs": outputs}, Path(out))
    report["outputs"] = outputs
    log.info("exported %d candidates (%d alerts) to %s", report["counts"]["candidates"],
             report["counts"]["alerts"], out)
    return report
