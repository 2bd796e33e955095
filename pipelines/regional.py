"""Regional context for a bundle: flat-baseload growth of its balancing areas and zones.

Written as regional.geojson: the area's polygon or point, RFC 7946, one Feature per area.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from detectors.regional import regional_table
from pipelines.bundle.grid import AREA_KINDS
from pipelines.export.geojson import feature_collection, write_geojson


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


def write_regional(frame: gpd.GeoDataFrame, out: Path) -> str | None:
    """regional.geojson in out from regional_frame's result; None when there are no areas."""
    if frame.empty:
        return None
    path = out / "regional.geojson"
    write_geojson(feature_collection(frame, id_field="node_id"), path)
    return str(path)
