"""Meter data shared under agreement (node CSV or Parquet) and an optional gridstatus adapter.

Node-level load file (CSV or Parquet), one row per node and interval:
  node_id    the meter's id (string)
  timestamp  interval start, ISO 8601 with a UTC offset (or a tz-aware Parquet column)
  mw         mean power over the interval, MW
Node locations file (CSV): node_id, kind (substation, feeder, balancing_area, ...), lon, lat
(WGS84 degrees); or a GeoJSON of Points/Polygons with node_id and kind.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipelines.errors import SourceError

log = logging.getLogger("computewatch")
METER_COLUMNS = ("node_id", "timestamp", "mw")


def read_meters(path: Path) -> pd.DataFrame:
    """A node load file as node_id, interval_start (UTC), mw."""
    try:
        raw = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else \
            pd.read_csv(path, dtype={"node_id": str})
    except (OSError, ValueError, ImportError) as exc:
        raise SourceError(f"{path}: cannot be read ({exc})") from None
    missing = [c for c in METER_COLUMNS if c not in raw.columns]
    if missing:
        raise SourceError(f"{path}: missing columns {missing}; a meter file needs "
                          f"{list(METER_COLUMNS)}")
    try:
        stamps = pd.to_datetime(raw["timestamp"], utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise SourceError(f"{path}: timestamp must be ISO 8601 with a UTC offset ({exc})") \
            from None
    return pd.DataFrame({"node_id": raw["node_id"].astype(str), "interval_start": stamps,
                         "mw": pd.to_numeric(raw["mw"], errors="coerce")})


def read_meter_nodes(path: Path) -> gpd.GeoDataFrame:
    """Node locations (CSV with lon, lat, or GeoJSON) as node_id, kind, geometry in lon/lat."""
    if path.suffix.lower() in (".geojson", ".json"):
        gdf = gpd.read_file(path, engine="pyogrio")
    else:
        raw = pd.read_csv(path, dtype={"node_id": str})
        missing = [c for c in ("node_id", "lon", "lat") if c not in raw.columns]
        if missing:
            raise SourceError(f"{path}: missing columns {missing}; node locations need "
                              "node_id, kind, lon, lat")
        gdf = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["lon"], raw["lat"]),
                               crs="EPSG:4326")
    if "kind" not in gdf.columns:
        gdf["kind"] = "substation"
    return gdf[["node_id", "kind", "geometry"]].to_crs("EPSG:4326")


def gridstatus_load(iso: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """System load of an ISO through gridstatus (an optional extra); the node is the ISO.

    Install with `pip install 'computewatch[gridstatus]'`.
    """
    try:
        import gridstatus
    except ImportError:
        raise SourceError("gridstatus is not installed: pip install 'computewatch[gridstatus]'"
                          ) from None
    frame = gridstatus.get_iso(iso)().get_load(start=start, end=end)
    if not {"Interval Start", "Load"} <= set(frame.columns):
        raise SourceError(f"gridstatus {iso}: expected `Interval Start` and `Load` columns, "
                          f"got {list(frame.columns)}")
    return pd.DataFrame({"node_id": iso, "interval_start":
                         pd.to_datetime(frame["Interval Start"], utc=True),
                         "mw": pd.to_numeric(frame["Load"], errors="coerce")})
