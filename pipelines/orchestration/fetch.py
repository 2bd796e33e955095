"""The fetch flow: a region bundle from real sources (STAC Landsat, Overpass, EIA, meters).

Source calls are Prefect tasks that retry transient failures (timeouts, 5xx, 429) with
backoff and jitter and never a 4xx. A scene or a grid node that still fails is reported in
fetch_report.json and left out; footprints are essential, so an Overpass failure fails the
run. Scenes already in the bundle are not fetched again; finished months of EIA data come
from the stage cache.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import yaml
from prefect import flow, task
from prefect.cache_policies import NONE

from pipelines.atomic import atomic_write_text
from pipelines.bundle.region import utm_crs_for
from pipelines.cache import StageCache
from pipelines.detect.areas import area_zone
from pipelines.errors import SourceError
from pipelines.export.geojson import feature_collection, write_geojson
from pipelines.export.reports import FetchReport, write_report
from pipelines.orchestration.retry import RETRIES, retry_delays, retry_transient, settle
from pipelines.redact import redact
from pipelines.settings import SourceSettings
from pipelines.sources.eia import fetch_months, read_eia930
from pipelines.sources.http import PoliteClient
from pipelines.sources.meters import gridstatus_load, read_meter_nodes, read_meters
from pipelines.sources.overpass import OsmLayers, fetch_osm
from pipelines.sources.stac import SceneRef, fetch_scene, search

log = logging.getLogger("computewatch")
# Retry delays are given when a flow runs (retrying), not when this module is imported, so
# COMPUTEWATCH_RETRY_BASE_SECONDS is read at run time.
SOURCE_TASK = dict(cache_policy=NONE, retries=RETRIES, retry_jitter_factor=0.5,
                   retry_condition_fn=retry_transient)


def retrying(source_task: Any) -> Any:
    """A source task with the backoff the environment asks for now (orchestration/retry.py)."""
    return source_task.with_options(retry_delay_seconds=retry_delays())


@dataclass
class FetchRequest:
    """What to fetch: where, when, and from which grid sources."""

    name: str
    bbox: tuple[float, float, float, float]
    start: str
    end: str
    out: str
    satellite: bool = True
    osm: bool = True
    eia: list[str] = field(default_factory=list)
    eia930: list[str] = field(default_factory=list)
    meters: str | None = None
    meter_nodes: str | None = None
    gridstatus: list[str] = field(default_factory=list)
    assume_utc: bool = False


@task(name="stac-search", **SOURCE_TASK)
def stac_search_task(s: SourceSettings, req: FetchRequest) -> tuple[list[SceneRef], dict]:
    """Search the catalogue for the region's scenes."""
    return search(s.stac_url, s.stac_collection, req.bbox, req.start, req.end,
                  s.max_cloud_cover, s.stac_signing, s.timeout_s)


@task(name="fetch-scene", **SOURCE_TASK)
def scene_fetch_task(scene: SceneRef, bbox: tuple[float, ...], folder: Path) -> str | None:
    """Range-read one scene's windows into the bundle."""
    return fetch_scene(scene, bbox, folder)


@task(name="overpass", **SOURCE_TASK)
def osm_task(s: SourceSettings, req: FetchRequest, crs: object) -> OsmLayers:
    """Buildings and power infrastructure from Overpass."""
    client = PoliteClient("Overpass", s.request_interval_s, s.timeout_s)
    try:
        return fetch_osm(s.overpass_url, req.bbox, crs, s.min_building_m2, client)
    finally:
        client.close()


@task(name="eia", **SOURCE_TASK)
def eia_task(s: SourceSettings, code: str, start: str, end: str) -> pd.DataFrame:
    """Hourly demand of one respondent or sub-BA from the EIA API v2."""
    client = PoliteClient("EIA", s.request_interval_s, s.timeout_s)
    try:
        return fetch_months(client, s.eia_url, code, pd.Timestamp(start, tz="UTC"),
                            pd.Timestamp(end, tz="UTC"), StageCache())
    finally:
        client.close()


def _area_node(node_id: str, bbox: tuple[float, ...], kind: str | None = None) -> dict:
    """An area node drawn as the region's bbox (EIA and ISOs give no geometry).

    geometry_source says so; time_zone comes from EIA's balancing-authority table. A code
    with a dash (PJM-DOM) is a sub-BA, one without a balancing area.
    """
    zone, _, _ = area_zone(node_id, None, 0.0)
    return {"node_id": node_id, "kind": kind or ("sub_ba" if "-" in node_id else
                                                 "balancing_area"),
            "time_zone": zone,
            "geometry_source": "bundle bbox: no area boundary is shipped or fetched",
            "geometry": shapely.box(*bbox)}


def _grid(s: SourceSettings, req: FetchRequest, report: dict
          ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Nodes and load from every grid source asked for."""
    nodes, loads = [], []
    futures = [(code, retrying(eia_task).submit(s, code, req.start, req.end)) for code in req.eia]
    for code, fut in futures:
        frame, exc = settle(fut)
        if exc is None:
            loads.append(frame)
            nodes.append(_area_node(code, req.bbox))
            continue
        if getattr(exc, "status", None) in (401, 403) or "no API key" in str(exc):
            raise SourceError(f"EIA refused the request for {code}: {exc}")
        report["failed"].append({"source": "eia", "id": code, "error": redact(str(exc))})
        log.warning("eia: %s failed and is left out: %s", code, redact(str(exc)))
    for path in req.eia930:
        frame = read_eia930(Path(path), assume_utc=req.assume_utc)
        loads.append(frame)
        nodes += [_area_node(n, req.bbox) for n in sorted(frame["node_id"].unique())]
    for iso in req.gridstatus:
        loads.append(gridstatus_load(iso, pd.Timestamp(req.start, tz="UTC"),
                                     pd.Timestamp(req.end, tz="UTC")))
        nodes.append(_area_node(iso, req.bbox, kind="iso"))
    if req.meters:
        loads.append(read_meters(Path(req.meters)))
        if not req.meter_nodes:
            raise SourceError("--meters needs --meter-nodes (node_id, kind, lon, lat)")
        located = read_meter_nodes(Path(req.meter_nodes))
        nodes += located.to_dict(orient="records")
    node_frame = gpd.GeoDataFrame(nodes or None, columns=["node_id", "kind", "time_zone",
                                                          "geometry_source", "geometry"],
                                  crs="EPSG:4326").drop_duplicates("node_id")
    load = pd.concat(loads, ignore_index=True) if loads else pd.DataFrame(
        columns=["node_id", "interval_start", "mw"])
    start, end = pd.Timestamp(req.start, tz="UTC"), pd.Timestamp(req.end, tz="UTC")
    load = load[(load["interval_start"] >= start) & (load["interval_start"] < end)]
    return node_frame, load.sort_values(["node_id", "interval_start"])


def _imagery(s: SourceSettings, req: FetchRequest, report: dict) -> None:
    """Search, then fetch every scene not in the bundle yet (one task per scene)."""
    scenes, left_out = retrying(stac_search_task)(s, req)
    report["scenes"] = {"found": len(scenes), "left_out": left_out, "fetched": 0,
                        "already_there": 0, "outside_bbox": 0}
    folder = Path(req.out) / "imagery"
    fetch_one = retrying(scene_fetch_task)
    futures = [(sc, fetch_one.submit(sc, req.bbox, folder)) for sc in scenes]
    for scene, fut in futures:
        outcome, exc = settle(fut)
        if exc is not None:
            report["failed"].append({"source": "stac", "id": scene.item_id,
                                     "error": redact(str(exc))})
            log.warning("scene %s failed and is left out: %s", scene.item_id, redact(str(exc)))
            continue
        report["scenes"][{"fetched": "fetched", "cached": "already_there"}.get(
            outcome, "outside_bbox")] += 1
    log.info("imagery: %s", {k: v for k, v in report["scenes"].items() if k != "left_out"})


def _write_vectors(out: Path, osm: OsmLayers | None, nodes: gpd.GeoDataFrame,
                   load: pd.DataFrame) -> None:
    if osm is not None:
        write_geojson(feature_collection(osm.facilities), out / "facilities.geojson")
        write_geojson(feature_collection(osm.infrastructure, id_field="osm_id"),
                      out / "infrastructure.geojson")
    if len(nodes):
        write_geojson(feature_collection(nodes, id_field="node_id"),
                      out / "grid" / "nodes.geojson")
        text = load.assign(timestamp=load["interval_start"].map(
            lambda t: t.isoformat()))[["node_id", "timestamp", "mw"]].to_csv(index=False)
        atomic_write_text(out / "grid" / "load.csv", text)


@flow(name="fetch", log_prints=False, validate_parameters=False)
def fetch_flow(request: FetchRequest, settings: SourceSettings | None = None) -> dict:
    """Write (or bring up to date) a region bundle from real sources."""
    s = (settings or SourceSettings()).with_env()
    req, out = request, Path(request.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    report: dict = {"request": asdict(req), "failed": [], "started":
                    datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "endpoints": {"stac": redact(s.stac_url), "overpass": redact(s.overpass_url),
                                  "eia": redact(s.eia_url)}}
    crs = utm_crs_for((req.bbox[0] + req.bbox[2]) / 2, (req.bbox[1] + req.bbox[3]) / 2)
    osm = retrying(osm_task)(s, req, crs) if req.osm else None
    if osm is not None:
        report["facilities"] = {"written": len(osm.facilities),
                                "smaller_than_minimum": osm.skipped_small,
                                "without_usable_geometry": osm.skipped_invalid,
                                "infrastructure": len(osm.infrastructure)}
    nodes, load = _grid(s, req, report)
    report["grid"] = {"nodes": len(nodes), "load_rows": len(load)}
    if req.satellite:
        _imagery(s, req, report)
    _write_vectors(out, osm, nodes, load)
    # --end is the day after the last; region.yaml's date-only end is the last day included.
    last_day = (pd.Timestamp(req.end) - pd.Timedelta(days=1)).date().isoformat()
    atomic_write_text(out / "region.yaml", yaml.safe_dump({
        "name": req.name, "bbox": list(req.bbox),
        "period": {"start": req.start, "end": last_day}}, sort_keys=False))
    report["seconds"] = round(time.perf_counter() - t0, 2)
    typed = FetchReport.model_validate(report)
    write_report(typed, out / "fetch_report.json")
    log.info("fetch: bundle %s written (%s)", out, typed.facilities)
    return typed.model_dump()
