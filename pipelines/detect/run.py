"""One whole detect run without Prefect: evidence, scores, alert store, evidence packets, files.

The command line calls it directly when no Prefect server is in play; the Prefect flow
(pipelines/orchestration/flows.py) calls the same function with its task-backed stages, so
both write the same outputs from the same settings.

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
from typing import TYPE_CHECKING

import geopandas as gpd

from pipelines.alerts.store import Margins, open_store, record_run
from pipelines.cache import StageCache, key_of
from pipelines.detect.engine import DetectRun, Stages
from pipelines.detect.stages import run_report
from pipelines.export.candidates import with_states
from pipelines.export.evidence import EVIDENCE_DIR, write_packets
from pipelines.export.files import write_candidates, write_regional
from pipelines.export.geojson import feature_collection
from pipelines.export.reports import write_report
from pipelines.redact import with_secret

if TYPE_CHECKING:
    from pipelines.settings import DetectSettings

log = logging.getLogger("computewatch")


def _publish(run: DetectRun, candidates: gpd.GeoDataFrame, out: Path, evidence: bool,
             regional: gpd.GeoDataFrame | None, workers: int) -> dict[str, str]:
    """Evidence packets for the alerts (only those whose inputs changed), then the files.

    The GeoJSON form is made once; each packet's path joins the frame and the collection.
    Charts are drawn in up to `workers` processes (the run's thread cap).
    """
    t = time.perf_counter()
    collection = feature_collection(candidates)
    packets = write_packets(lambda: run.bundle, collection, out, run.scored_key,
                            workers) if evidence else {}
    candidates["evidence"] = [packets.get(fid) for fid in candidates["facility_id"]]
    for feature in collection["features"]:
        feature["properties"]["evidence"] = packets.get(feature["id"])
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


def run_detect(region: str, out: Path, settings: DetectSettings, assume_utc: bool = False,
               progress: bool = False, evidence: bool = True, stages: Stages | None = None,
               flow_run_id: str = "local") -> dict:
    """Read a region bundle, compute evidence, score, record alerts and write the outputs.

    settings.alert_store is the store's resolved URL ("": no store), without its password
    when it came through Prefect (DetectSettings.for_prefect); stages decide where work
    runs (this process, in order, by default). Returns the run report (run_report.json) as
    a dict, the form a Prefect flow result keeps.
    """
    alert_store = settings.alert_store
    opts = settings.options()
    margins = (settings.change_margins.score, settings.change_margins.it_mw_fraction)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t = time.perf_counter()
    run = DetectRun(region, opts, assume_utc, progress, StageCache(), settings.limits.limits(),
                    stages)
    run.clock.add("hash_inputs", time.perf_counter() - t)
    run_id = "cw-" + key_of(run.scored_key, margins)[:20]
    log.info("run %s on %s (flow run %s)", run_id, region, flow_run_id)
    scored, reused = run.scored(run_id, started)
    candidates = scored.candidates.copy()
    candidates["run_id"] = run_id

    t = time.perf_counter()
    if alert_store:
        stored = record_run(open_store(with_secret(alert_store)), scored.region_name, run_id,
                            started, feature_collection(candidates)["features"],
                            Margins(*margins), scored.model_inputs,
                            str((out / EVIDENCE_DIR).resolve()) if evidence else None)
        candidates = with_states(candidates, stored)
        log.info("alert store: %s",
                 candidates["alert_state"].value_counts().to_dict() or "no candidates")
    run.clock.add("alert_store", time.perf_counter() - t)
    outputs = _publish(run, candidates, out, evidence, scored.regional,
                       settings.task_runner.threads())
    finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
    outputs["report"] = str(out / "run_report.json")
    report = run_report(scored, candidates, run_id, opts, run.clock, started, finished,
                        run.keys.all_inputs, region).model_copy(update={
                            "flow_run_id": flow_run_id, "reused_results": reused,
                            "scenes_this_run": run.scene_counts, "model_sha256": run.model_sha,
                            "code_fingerprint": run.code, "outputs": outputs})
    write_report(report, out / "run_report.json")
    pruned = run.cache.prune()
    if pruned:
        log.info("cache: %d entries unused for 30 days removed", pruned)
    log.info("export: %d candidates (%d alerts) to %s", report.counts["candidates"],
             report.counts["alerts"], out)
    return report.model_dump()
