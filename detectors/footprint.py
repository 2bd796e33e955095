"""Footprint evidence: size, shape, campus grouping, distance to substations and lines, tags."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

CAMPUS_GAP_M = 100.0  # halls of one campus stand within a service road of each other
HV_VOLTS = 100_000.0  # transmission lines (100 kV and up) feed large loads directly
DATA_CENTER_TAGS = {"data_center", "datacenter", "data_centre"}
INDUSTRIAL_TAGS = {"industrial", "warehouse", "container", "factory", "manufacture"}


def campus_labels(geoms: gpd.GeoSeries, gap_m: float = CAMPUS_GAP_M) -> np.ndarray:
    """Group footprints within gap_m of each other into campuses (connected components)."""
    from scipy import sparse  # 0.15 s to import: only when features are computed
    from scipy.sparse.csgraph import connected_components

    tree = shapely.STRtree(geoms.values)
    left, right = tree.query(geoms.values, predicate="dwithin", distance=gap_m)
    n = len(geoms)
    graph = sparse.coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    labels: np.ndarray = connected_components(graph, directed=False)[1]
    return labels


def nearest_distance(geoms: gpd.GeoSeries, targets: np.ndarray) -> np.ndarray:
    """Distance (m) from each geometry to the nearest target geometry; NaN if none."""
    if len(targets) == 0:
        return np.full(len(geoms), np.nan)
    tree = shapely.STRtree(targets)
    idx, dist = tree.query_nearest(geoms.values, return_distance=True, all_matches=False)
    out = np.full(len(geoms), np.nan)
    out[idx[0]] = dist
    return out


def _tag_flags(facilities: pd.DataFrame) -> pd.DataFrame:
    tags = facilities[["building", "landuse"]].astype("string").fillna("").apply(
        lambda s: s.str.lower().str.strip())
    return pd.DataFrame({
        "tag_data_center": tags["building"].isin(DATA_CENTER_TAGS).astype(float),
        "tag_industrial": (tags["building"].isin(INDUSTRIAL_TAGS)
                           | (tags["landuse"] == "industrial")).astype(float),
        "tag_named": facilities["name"].notna().astype(float)}, index=facilities.index)


def footprint_features(facilities: gpd.GeoDataFrame, substations: np.ndarray,
                       hv_lines: np.ndarray) -> pd.DataFrame:
    """Per facility: area, compactness, campus, halls, nearest substation and HV line, tags."""
    geoms = facilities.geometry
    area = geoms.area.to_numpy()
    perimeter = geoms.length.to_numpy()
    campus = campus_labels(geoms)
    campus_area = pd.Series(area).groupby(campus).transform("sum").to_numpy()
    halls = pd.Series(campus).map(pd.Series(campus).value_counts()).to_numpy()
    return pd.concat([pd.DataFrame({
        "footprint_m2": area,
        # Polsby-Popper compactness: 1 for a circle, about 0.785 for a square.
        "compactness": 4 * np.pi * area / np.maximum(perimeter, 1e-9) ** 2,
        "campus_id": campus, "campus_halls": halls, "campus_area_m2": campus_area,
        "substation_distance_m": nearest_distance(geoms, substations),
        "hv_line_distance_m": nearest_distance(geoms, hv_lines)}, index=facilities.index),
        _tag_flags(facilities)], axis=1)


def infrastructure_targets(infrastructure: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Substation geometries (tagged or metered) and lines of 100 kV and up."""
    subs = infrastructure.geometry[infrastructure["power"] == "substation"].to_numpy()
    metered = nodes.geometry[nodes["kind"] == "substation"].to_numpy() if len(nodes) else []
    lines = infrastructure.geometry[(infrastructure["power"] != "substation")
                                    & (infrastructure["voltage_v"] >= HV_VOLTS)].to_numpy()
    return np.concatenate([subs, np.asarray(metered, dtype=object)]), lines
