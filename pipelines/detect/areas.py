"""Regional context for a bundle: its balancing areas and zones, their local time, their growth.

Written as regional.geojson (SPEC regional output, v1) by pipelines/export/files.py: the
area's polygon or point, RFC 7946, one Feature per area. Each area is judged in its own
local time: the node's `time_zone` property (an IANA name) where the bundle gives one, else
EIA's balancing-authority table (data/eia930_balancing_authorities.csv; a sub-area such as
PJM-DOM takes its parent's zone), else the longitude (15 degrees per hour), which is flagged.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from zoneinfo import available_timezones

import geopandas as gpd
import pandas as pd

from detectors.regional import DEFAULT_PARAMS, RegionalParams, regional_table
from pipelines.bundle.power import AREA_KINDS
from pipelines.errors import ComputewatchError
from pipelines.resources import data_path

BA_TABLE = data_path("eia930_balancing_authorities.csv")
# EIA's zone names as IANA zones (EIA-930 "Time Zone" column; Arizona keeps standard time).
EIA_ZONES = {"Eastern": "America/New_York", "Central": "America/Chicago",
             "Mountain": "America/Denver", "Arizona": "America/Phoenix",
             "Pacific": "America/Los_Angeles"}


@lru_cache(maxsize=1)
def _ba_rows(path: Path = BA_TABLE) -> tuple[dict[str, str], ...]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        lines = [line for line in fh if not line.startswith("SOURCE:")]
    return tuple({k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(lines))


@lru_cache(maxsize=1)
def ba_time_zones() -> dict[str, str]:
    """Balancing-authority code -> IANA time zone, from EIA's acronyms table."""
    return {r["Code"]: EIA_ZONES[r["Time Zone"]] for r in _ba_rows()
            if r.get("Time Zone") in EIA_ZONES}


@lru_cache(maxsize=1)
def _ba_regions() -> dict[str, str]:
    return {r["Code"]: r["Region"] for r in _ba_rows() if r.get("Region")}


def ba_region(node_id: str) -> str | None:
    """EIA's grid region of an area (a sub-area takes its parent's), None when unknown."""
    regions = _ba_regions()
    return regions.get(node_id) or regions.get(node_id.split("-")[0])


@lru_cache(maxsize=1)
def _iana_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def standard_offset_h(zone: str) -> float:
    """The zone's UTC offset in hours in January (standard time)."""
    return pd.Timestamp("2024-01-15", tz=zone).utcoffset().total_seconds() / 3600


def area_zone(node_id: str, given: object, lon: float) -> tuple[str | None, float, str | None]:
    """(IANA zone or None, standard UTC offset in hours, a flag or None) for one area."""
    # A bundle's property is data: only a name in the IANA database is used, so no string
    # reaches the file system (ZoneInfo would open a path built from it).
    if isinstance(given, str) and given.strip() in _iana_zones():
        return given.strip(), standard_offset_h(given.strip()), None
    table = ba_time_zones()
    for code in (node_id, node_id.split("-")[0]):
        if code in table:
            return table[code], standard_offset_h(table[code]), None
    offset = round(lon / 15.0, 2)
    return None, offset, (f"time_zone_from_longitude: no time zone for {node_id}; local solar "
                          f"time from the longitude (UTC{offset:+.1f} h)")


def area_nodes(nodes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Nodes that meter an area (by kind, or drawn as a polygon), not a substation."""
    if nodes.empty:
        return nodes
    polygonal = nodes.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    return nodes[nodes["kind"].str.lower().isin(AREA_KINDS) | polygonal]


def regional_frame(nodes: gpd.GeoDataFrame, load: pd.DataFrame,
                   price: pd.DataFrame | None, temperature: pd.DataFrame | None = None,
                   params: RegionalParams = DEFAULT_PARAMS) -> gpd.GeoDataFrame:
    """Gates, growth and score per area node, ranked, with the node's geometry."""
    areas = area_nodes(nodes)
    empty = gpd.GeoDataFrame({"node_id": []}, geometry=[], crs=nodes.crs)
    if areas.empty:
        return empty
    load = load[load["node_id"].isin(areas.index)]
    if load.empty:
        return empty
    lon = areas.geometry.centroid.to_crs("EPSG:4326").x
    given = areas["time_zone"] if "time_zone" in areas else pd.Series(None, areas.index)
    zones = {n: area_zone(n, given.get(n), float(lon[n])) for n in areas.index}
    regions = {n: r for n in areas.index if (r := ba_region(n))}
    table = regional_table(load, {n: z[:2] for n, z in zones.items()}, price, temperature,
                           params, regions)
    for i, node in table["node_id"].items():
        flag = zones[node][2]
        if flag:
            table.at[i, "quality_flags"] = [*table.at[i, "quality_flags"], flag]
    table.insert(1, "kind", table["node_id"].map(areas["kind"].to_dict()))
    source = areas["geometry_source"] if "geometry_source" in areas else pd.Series(
        "bundle", areas.index)
    table["geometry_source"] = table["node_id"].map(source.fillna("bundle").to_dict())
    return gpd.GeoDataFrame(table, geometry=areas.geometry.loc[table["node_id"]].values,
                            crs=areas.crs)


def regional_run(region: Path, out: Path, params: RegionalParams,
                 temperature: Path | None = None, assume_utc: bool = False
                 ) -> tuple[pd.DataFrame, str]:
    """`computewatch regional`: read a bundle's grid files, judge its areas, write the GeoJSON.

    Returns the areas' table (no geometry) and the path of regional.geojson; a bundle with
    no balancing-area or zone nodes with load is an error naming the folder.
    """
    from pipelines.bundle.power import read_temperature
    from pipelines.bundle.reader import read_power_grid
    from pipelines.export.files import write_regional

    grid = read_power_grid(region, assume_utc=assume_utc)
    hourly_temperature = None
    if temperature:
        hourly_temperature = read_temperature(temperature, grid.problems, assume_utc)
        grid.problems.raise_if_errors()
    frame = regional_frame(grid.nodes, grid.load, grid.price, hourly_temperature, params)
    out.mkdir(parents=True, exist_ok=True)
    path = write_regional(frame, out)
    if path is None:
        raise ComputewatchError(f"{region}: no balancing-area or zone nodes with load "
                                "(nodes of kind balancing_area, sub_ba, zone, or polygons)")
    return frame.drop(columns="geometry"), path
