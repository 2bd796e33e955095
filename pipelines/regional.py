"""Regional context for a bundle: flat-baseload growth of its balancing areas and zones.

Written as regional.geojson: the area's polygon or point, RFC 7946, one Feature per area.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from detectors.regional import regional_table
from pipelines.bundle.reader import GridData
from pipelines.errors import ComputewatchError
from pipelines.export.geojson import feature_collection, write_geojson

AREA_KINDS = {"balancing_area", "sub_ba", "zone", "area", "iso", "rto"}


def area_nodes(nodes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Nodes that meter an area (by kind, or drawn as a polygon), not a substation."""
    if nodes.empty:
        return nodes
    polygonal = nodes.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    return nodes[nodes["kind"].str.lower().isin(AREA_KINDS) | polygonal]


def regional_frame(nodes: gpd.GeoDataFrame, load: pd.DataFrame,
                   price: pd.DataFrame | None,
                   temperature: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Flat-growth evidence per area node, ranked, with the node's geometry."""
    areas = area_nodes(nodes)
    empty = gpd.GeoDataFrame({"node_id": []}, geometry=[], crs=nodes.crs)
    if areas.empty:
        return empty
    lon = areas.geometry.centroid.to_crs("EPSG:4326").x
    offsets = (lon / 15.0).to_dict()  # local solar time: 15 degrees of longitude per hour
    load = load[load["node_id"].isin(areas.index)]
    if load.empty:
        return empty
    table = regional_table(load, offsets, price, temperature)
    kinds = areas["kind"].to_dict()
    table.insert(1, "kind", table["node_id"].map(kinds))
    return gpd.GeoDataFrame(table, geometry=areas.geometry.loc[table["node_id"]].values,
                            crs=areas.crs)


def read_temperature(path: Path) -> pd.DataFrame:
    """Hourly temperature per area: node_id, timestamp (ISO 8601 with offset), temp_c."""
    raw = pd.read_csv(path, dtype={"node_id": str})
    missing = [c for c in ("node_id", "timestamp", "temp_c") if c not in raw.columns]
    if missing:
        raise ComputewatchError(f"{path}: missing columns {missing}; a temperature file needs "
                                "node_id, timestamp, temp_c")
    try:
        stamps = pd.to_datetime(raw["timestamp"], utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ComputewatchError(f"{path}: timestamp must be ISO 8601 with an offset ({exc})"
                                ) from None
    return pd.DataFrame({"node_id": raw["node_id"], "interval_start": stamps,
                         "temp_c": pd.to_numeric(raw["temp_c"], errors="coerce")})


def write_regional(grid: GridData, out: Path, temperature: pd.DataFrame | None = None
                   ) -> tuple[str | None, pd.DataFrame]:
    """regional.geojson in out when the bundle has area nodes; its path and the table."""
    frame = regional_frame(grid.nodes, grid.load, grid.price, temperature)
    if frame.empty:
        return None, pd.DataFrame(frame.drop(columns="geometry"))
    path = out / "regional.geojson"
    write_geojson(feature_collection(frame, id_field="node_id"), path)
    return str(path), pd.DataFrame(frame.drop(columns="geometry"))
