"""Evidence for every facility of a bundle: the stage functions the detect engine runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from detectors.footprint import footprint_features, infrastructure_targets
from detectors.power import (
    attribute_with_shares,
    campus_heat_k,
    facility_power,
    node_features,
)
from detectors.thermal import (
    FACILITY_STATS,
    ZoneWeights,
    aggregate_scenes,
    scene_background_k,
    scene_stats,
    solar_elevation_sin,
)
from pipelines.bundle.imagery import RasterGrid, Scene
from pipelines.bundle.reader import RegionBundle
from pipelines.reference import ref

log = logging.getLogger("computewatch")
FACILITY_BATCH = 2000  # facilities per weights task: a few seconds of exactextract each
# The densest plausible load: the highest AI IT density times the highest PUE (reference
# table: ai_it_density_w_m2 and pue_ai).
MAX_DENSITY_W_M2 = ref("ai_it_density_w_m2").high * ref("pue_ai").high


@dataclass
class SceneResult:
    """One scene's contribution: its FACILITY_STATS in order, and its background level."""

    scene_id: str
    acquired: pd.Timestamp
    delta_k: np.ndarray
    hotspot_k: np.ndarray
    yard_k: np.ndarray
    yard_hot_share: np.ndarray
    background_k: float


def facility_batches(n: int, size: int = FACILITY_BATCH) -> list[slice]:
    """Consecutive slices of at most size facilities (the unit of work for scale-out)."""
    return [slice(i, min(i + size, n)) for i in range(0, max(n, 1), size)]


def scene_result(scene: Scene, grid: RasterGrid, weights: ZoneWeights) -> SceneResult:
    """Read one scene onto the grid and compute its statistics.

    Raises if the scene is unreadable.
    """
    kelvin, usable = scene.read(grid)
    return _result(scene, weights, kelvin, usable)


def _result(scene: Scene, weights: ZoneWeights, kelvin: np.ndarray, usable: np.ndarray
            ) -> SceneResult:
    stats = scene_stats(weights, kelvin, usable)
    return SceneResult(scene.scene_id, scene.acquired,
                       *(stats[c].to_numpy() for c in FACILITY_STATS),
                       scene_background_k(kelvin, usable))


def thermal_table(bundle: RegionBundle, results: list[SceneResult]) -> pd.DataFrame:
    """Thermal features across the scenes that were read."""
    n = len(bundle.facilities)
    deltas, hots, yards, yard_hot = (
        np.column_stack([getattr(r, stat) for r in results]) if results else np.empty((n, 0))
        for stat in FACILITY_STATS)
    background = np.array([r.background_k for r in results])
    lon0, lat0, lon1, lat1 = bundle.region.bbox
    sun = solar_elevation_sin((lat0 + lat1) / 2, (lon0 + lon1) / 2,
                              pd.DatetimeIndex([r.acquired for r in results]))
    table = aggregate_scenes(deltas, hots, background, sun, yards, yard_hot)
    table.index = bundle.facilities.index
    used = np.isfinite(deltas)
    ids = np.array([r.scene_id for r in results])
    table["thermal_scene_ids"] = [";".join(ids[row]) for row in used]
    return table


def footprint_table(bundle: RegionBundle) -> pd.DataFrame:
    """Footprint features of every facility."""
    subs, lines = infrastructure_targets(bundle.infrastructure, bundle.nodes)
    return footprint_features(bundle.facilities, subs, lines)


def power_table(bundle: RegionBundle, footprint: pd.DataFrame, thermal: pd.DataFrame,
                max_distance_m: float) -> pd.DataFrame:
    """Grid features: campuses attributed to metered substations, their load described."""
    end = bundle.period[1]
    offset = (bundle.region.bbox[0] + bundle.region.bbox[2]) / 2 / 15.0
    nodes = node_features(bundle.load, bundle.price, end, offset)
    campus = footprint["campus_id"].to_numpy()
    geoms = bundle.facilities.geometry.reset_index(drop=True)
    campus_geoms = gpd.GeoSeries(geoms.groupby(campus).agg(lambda s: s.union_all()).to_numpy(),
                                 crs=bundle.facilities.crs)
    campus_area = footprint.groupby("campus_id")["footprint_m2"].sum().to_numpy()
    subs = bundle.nodes[bundle.nodes["kind"] == "substation"] if len(bundle.nodes) else \
        bundle.nodes
    heat = campus_heat_k(thermal["thermal_own_heat_k"].to_numpy(),
                         thermal["thermal_waste_k"].to_numpy(),
                         footprint["footprint_m2"].to_numpy(), campus, len(campus_area))
    node_mw = nodes["node_mean_mw"].reindex(subs.index).to_numpy()
    given, share = attribute_with_shares(subs.geometry, campus_geoms, campus_area,
                                         max_distance_m, heat, node_mw, MAX_DENSITY_W_M2)
    nodes = nodes.assign(meter_claim_share=pd.Series(share, index=subs.index)
                         .reindex(nodes.index))
    table = facility_power(campus, footprint["footprint_m2"].to_numpy(),
                           pd.Series(given, index=subs.index), nodes)
    table.index = bundle.facilities.index
    return table


def assemble(bundle: RegionBundle, thermal: pd.DataFrame, footprint: pd.DataFrame,
             power: pd.DataFrame) -> pd.DataFrame:
    """One row per facility_id with all evidence and the has_* flags."""
    features = pd.concat([footprint, thermal, power], axis=1)
    features["has_grid"] = features["mean_mw"].notna().astype(float)
    features["has_thermal"] = (features["thermal_scenes_used"] > 0).astype(float)
    features["has_price"] = float(bundle.price is not None)
    return features
