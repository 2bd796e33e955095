"""OpenStreetMap through the Overpass API: building footprints and power infrastructure.

One query per region (`out geom`, so ways carry their coordinates). Buildings become
facilities with a stable id from OSM's own key (`osm-way-123`); power=substation and
power=line with a voltage become infrastructure, OSM tags kept as they are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from pipelines.errors import SourceError
from pipelines.sources.http import PoliteClient

log = logging.getLogger("computewatch")
FACILITY_TAGS = ("name", "building", "operator", "landuse")


def overpass_query(bbox: tuple[float, float, float, float], timeout_s: int = 180) -> str:
    """Overpass QL for buildings, substations and tagged power lines in a lon/lat bbox."""
    lon0, lat0, lon1, lat1 = bbox
    b = f"({lat0},{lon0},{lat1},{lon1})"
    return (f"[out:json][timeout:{timeout_s}];\n(\n"
            f'  way["building"]{b};\n'
            f'  relation["building"]["type"="multipolygon"]{b};\n'
            f'  node["power"="substation"]{b};\n'
            f'  way["power"="substation"]{b};\n'
            f'  way["power"="line"]["voltage"]{b};\n'
            ");\nout geom;\n")


def _ring(geometry: list[dict]) -> list[tuple[float, float]]:
    return [(p["lon"], p["lat"]) for p in geometry or [] if p]


def _way_geometry(el: dict) -> shapely.Geometry | None:
    coords = _ring(el.get("geometry"))
    if len(coords) < 2:
        return None
    closed = len(coords) >= 4 and coords[0] == coords[-1]
    return shapely.Polygon(coords) if closed else shapely.LineString(coords)


def _relation_geometry(el: dict) -> shapely.Geometry | None:
    """A multipolygon relation: its outer ways polygonised, inner ways cut out."""
    outer, inner = [], []
    for member in el.get("members", []):
        coords = _ring(member.get("geometry"))
        if member.get("type") == "way" and len(coords) >= 2:
            (inner if member.get("role") == "inner" else outer).append(
                shapely.LineString(coords))
    if not outer:
        return None
    shell = shapely.union_all(shapely.polygonize(outer).geoms)
    holes = shapely.union_all(shapely.polygonize(inner).geoms) if inner else None
    geom = shell.difference(holes) if holes is not None else shell
    return None if geom.is_empty else geom


@dataclass
class OsmLayers:
    """What one Overpass answer gives a bundle."""

    facilities: gpd.GeoDataFrame
    infrastructure: gpd.GeoDataFrame
    skipped_small: int
    skipped_invalid: int


def parse_overpass(payload: dict, work_crs: CRS, min_building_m2: float) -> OsmLayers:
    """Overpass JSON to facilities (buildings at or above min_building_m2) and infrastructure."""
    if not isinstance(payload, dict) or "elements" not in payload:
        raise SourceError("Overpass: the answer has no `elements` (not Overpass JSON)")
    remark = str(payload.get("remark") or "")
    if "error" in remark.lower():  # e.g. "runtime error: Query timed out": the answer is partial
        raise SourceError(f"Overpass: incomplete answer ({remark}); the server may be busy")
    if remark:
        log.warning("Overpass remark: %s", remark)
    buildings, infra, invalid = [], [], 0
    for el in payload["elements"]:
        tags = el.get("tags") or {}
        kind = el.get("type")
        if kind == "node":
            geom = shapely.Point(el["lon"], el["lat"]) if "lon" in el else None
        elif kind == "way":
            geom = _way_geometry(el)
        elif kind == "relation":
            geom = _relation_geometry(el)
        else:
            continue
        if geom is None:
            invalid += 1
            continue
        key = f"osm-{kind}-{el['id']}"
        if tags.get("power") in ("substation", "line"):
            infra.append({"osm_id": key, "power": tags["power"],
                          "voltage": tags.get("voltage"), "name": tags.get("name"),
                          "operator": tags.get("operator"), "geometry": geom})
        elif "building" in tags and geom.geom_type in ("Polygon", "MultiPolygon"):
            buildings.append({"facility_id": key, **{t: tags.get(t) for t in FACILITY_TAGS},
                              "geometry": shapely.make_valid(geom)})
        else:
            invalid += 1
    facilities = gpd.GeoDataFrame(buildings or None, columns=["facility_id", *FACILITY_TAGS,
                                                              "geometry"], crs="EPSG:4326")
    area = facilities.to_crs(work_crs).area.to_numpy() if len(facilities) else np.zeros(0)
    keep = area >= min_building_m2
    infrastructure = gpd.GeoDataFrame(infra or None, columns=["osm_id", "power", "voltage",
                                                              "name", "operator", "geometry"],
                                      crs="EPSG:4326")
    return OsmLayers(facilities[keep].reset_index(drop=True), infrastructure,
                     int((~keep).sum()), invalid)


def fetch_osm(url: str, bbox: tuple[float, float, float, float], work_crs: CRS,
              min_building_m2: float, client: PoliteClient) -> OsmLayers:
    """POST the query to an Overpass endpoint and parse the answer."""
    response = client.request("POST", url, hint="check COMPUTEWATCH_OVERPASS_URL",
                              data={"data": overpass_query(bbox)})
    try:
        payload = response.json()
    except ValueError:
        raise SourceError(f"Overpass: {url} did not return JSON (starts "
                          f"{response.text[:80]!r}); the server may be overloaded") from None
    layers = parse_overpass(payload, work_crs, min_building_m2)
    log.info("osm: %d buildings of %.0f m2 or more (%d smaller skipped), %d power features",
             len(layers.facilities), min_building_m2, layers.skipped_small,
             len(layers.infrastructure))
    return layers
