"""GeoJSON layers of a region bundle: facilities, infrastructure, grid nodes, declarations."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from shapely.errors import ShapelyError

from pipelines.errors import BundleError, ProblemLog
from pipelines.paths import id_problem, show_id

LONLAT_HINT = ("GeoJSON must be WGS84 lon/lat (RFC 7946); reproject it, "
               "e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson")


def read_geojson(path: Path, log: ProblemLog) -> gpd.GeoDataFrame:
    """Read a GeoJSON file as lon/lat; fatal if unreadable or in projected metres.

    Features whose geometry cannot be built, or whose coordinates leave the lon/lat range
    while most do not, get no geometry (with a warning) and are skipped by the callers.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gdf = gpd.read_file(path, engine="pyogrio")
        for w in caught:  # GDAL's own notes on features it could not read: counted, not shown
            log.warn(path, "", f"GDAL: {str(w.message)[:200]}", kind="geometry_skipped")
    except ShapelyError:
        gdf = _read_feature_by_feature(path, log)
    except (DataSourceError, DataLayerError, ValueError, RuntimeError) as exc:
        raise BundleError(f"{path}: not readable as GeoJSON ({exc}); "
                          "check it with `ogrinfo` or a JSON linter") from exc
    gdf.attrs.setdefault("warned", set())
    if gdf.crs is not None and CRS.from_user_input(gdf.crs).is_projected:
        log.error(path, "", f"coordinates are in a projected CRS ({gdf.crs.to_string()})",
                  LONLAT_HINT, kind="crs")
        return gdf
    return _off_range_to_none(gdf.set_crs("EPSG:4326", allow_override=True), path, log)


def _off_range_to_none(gdf: gpd.GeoDataFrame, path: Path, log: ProblemLog) -> gpd.GeoDataFrame:
    """Fatal when most features lie outside lon/lat (metres); else drop the few that do."""
    if not len(gdf):
        return gdf
    bounds = shapely.bounds(gdf.geometry.values)
    with np.errstate(invalid="ignore"):
        off = (np.abs(bounds[:, [0, 2]]) > 180).any(axis=1) | \
            (np.abs(bounds[:, [1, 3]]) > 90).any(axis=1)
    placed = int(np.isfinite(bounds).all(axis=1).sum())
    if off.any() and off.sum() * 2 > placed:
        reach = np.nanmax(np.abs(bounds[off]))
        log.error(path, "", f"coordinates reach {reach:,.1f}, outside lon/lat range: they "
                  "look like projected metres", LONLAT_HINT, kind="crs")
        return gdf
    for i in np.flatnonzero(off):
        log.warn(path, f"feature {i}", "coordinates outside lon/lat range; skipped",
                 LONLAT_HINT, kind="geometry_skipped")
        gdf.attrs["warned"].add(i)
    if off.any():
        gdf = gdf.copy()
        gdf.loc[gdf.index[off], "geometry"] = None
    return gdf


def _json_features(text: str) -> list[object] | None:
    """The `features` list of a FeatureCollection's JSON text, or None if it has none."""
    doc = json.loads(text)
    feats = doc.get("features") if isinstance(doc, dict) else None
    return feats if isinstance(feats, list) else None


def _read_feature_by_feature(path: Path, log: ProblemLog) -> gpd.GeoDataFrame:
    """The slow path when GEOS refuses one geometry of the file: build each on its own."""
    try:
        feats = _json_features(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise BundleError(f"{path}: not readable as GeoJSON ({exc})") from exc
    if feats is None:
        raise BundleError(f"{path}: not a GeoJSON FeatureCollection")
    rows, geoms, warned = [], [], set()
    for i, f in enumerate(feats):
        f = f if isinstance(f, dict) else {}
        props = f.get("properties")
        rows.append(props if isinstance(props, dict) else {})
        try:
            geoms.append(shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None)
        except (ShapelyError, ValueError, TypeError, KeyError, AttributeError,
                IndexError) as exc:
            log.warn(path, f"feature {i}", f"geometry cannot be built ({exc}); skipped",
                     "check the feature's coordinates", kind="geometry_skipped")
            geoms.append(None)
            warned.add(i)
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs="EPSG:4326")
    gdf.attrs["warned"] = warned
    return gdf


def _record(idx: int, key: object = None) -> str:
    return f"feature {idx}" + (f" ({key})" if key is not None and not pd.isna(key) else "")


def raw_ids(path: Path, id_col: str, n: int) -> list[object] | None:
    r"""The id property of every feature as the JSON has it, in file order.

    GDAL cuts strings at a NUL character; reading the ids again from the JSON itself lets
    such an id be refused instead of silently becoming another one. JSON can only hold a NUL
    as the escape \u0000, so a file without one is not parsed twice. None when there is
    no NUL or the file is not a plain FeatureCollection of n features.
    """
    try:
        text = path.read_text(encoding="utf-8")
        if "\\u0000" not in text:
            return None
        feats = _json_features(text)
    except (OSError, ValueError, RecursionError):
        return None
    if feats is None or len(feats) != n:
        return None
    return [(f.get("properties") or {}).get(id_col) if isinstance(f, dict) and
            isinstance(f.get("properties") or {}, dict) else None for f in feats]


def drop_bad_ids(gdf: gpd.GeoDataFrame, id_col: str, path: Path,
                 log: ProblemLog, raw: list[object] | None = None) -> gpd.GeoDataFrame:
    """Skip features whose id is too long or holds control characters, each counted.

    Such ids are never altered: an altered id would silently become another facility.
    raw (from raw_ids, indexed like gdf's index) is what the file itself holds.
    """
    ids = gdf[id_col].astype(str)
    if raw is not None:
        ids = pd.Series([str(raw[i]) if isinstance(raw[i], str) else ids.loc[i]
                         for i in gdf.index], index=gdf.index)
    problems = [id_problem(v) for v in ids]
    bad = np.array([p is not None for p in problems], dtype=bool)
    for i in np.flatnonzero(bad):
        log.warn(path, f"feature {int(gdf.index[i])}", f"{id_col} {show_id(ids.iloc[i])} "
                 f"{problems[i]}; skipped", f"give it a short printable {id_col}",
                 kind="bad_id")
    return gdf[~bad]


def drop_unusable_geometries(gdf: gpd.GeoDataFrame, path: Path, log: ProblemLog,
                             id_col: str | None) -> gpd.GeoDataFrame:
    """Skip features with no geometry, an empty one, or NaN or infinite coordinates."""
    geoms = gdf.geometry.values
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    coords, owner = shapely.get_coordinates(geoms, include_z=True, return_index=True)
    nonfinite = np.zeros(len(gdf), dtype=bool)
    nonfinite[owner[~np.isfinite(coords[:, :2]).all(axis=1)]] = True
    bad = missing | empty | nonfinite
    warned = gdf.attrs.get("warned", set())
    for i in np.flatnonzero(bad & ~np.isin(np.asarray(gdf.index), list(warned))):
        what = ("has no geometry" if missing[i] else "has an empty geometry" if empty[i]
                else "has NaN or infinite coordinates")
        key = gdf[id_col].iloc[i] if id_col and id_col in gdf else None
        log.warn(path, _record(int(gdf.index[i]), key), f"{what}; skipped",
                 "give every feature a real outline in lon/lat", kind="geometry_skipped")
    return gdf[~bad]


def keep_polygons(gdf: gpd.GeoDataFrame, path: Path, log: ProblemLog,
                  id_col: str) -> gpd.GeoDataFrame:
    """Skip non-polygons and repair invalid polygons, each with a counted warning."""
    gdf = drop_unusable_geometries(gdf, path, log, id_col)
    geoms = gdf.geometry.values
    kinds = shapely.get_type_id(geoms)
    polygonal = np.isin(kinds, [3, 6])  # Polygon, MultiPolygon
    for i in np.flatnonzero(~polygonal):
        names = {0: "a Point", 1: "a LineString", 2: "a LinearRing", 4: "a MultiPoint",
                 5: "a MultiLineString", 7: "a GeometryCollection"}
        kind = "no geometry" if geoms[i] is None else names.get(int(kinds[i]), str(kinds[i]))
        log.warn(path, _record(int(gdf.index[i]), gdf[id_col].iloc[i] if id_col in gdf
                               else None),
                 f"{kind} where a Polygon is expected; skipped",
                 "draw the building outline as a Polygon", kind="geometry_skipped")
    gdf = gdf[polygonal].copy()
    invalid = ~shapely.is_valid(gdf.geometry.values)
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(gdf.geometry.values[i])
        log.warn(path, _record(int(gdf.index[i]), gdf[id_col].iloc[i]),
                 f"invalid polygon ({reason}); repaired with make_valid",
                 kind="geometry_repaired")
    if invalid.any():
        fixed = shapely.make_valid(gdf.geometry.values[invalid])
        parts = [shapely.union_all(shapely.get_parts(g)[np.isin(
            shapely.get_type_id(shapely.get_parts(g)), [3, 6])]) for g in fixed]
        gdf.loc[gdf.index[invalid], "geometry"] = parts
        empty = shapely.is_empty(gdf.geometry.values)
        for i in np.flatnonzero(empty):
            log.warn(path, _record(int(gdf.index[i]), gdf[id_col].iloc[i]),
                     "polygon has no area after repair; skipped", kind="geometry_skipped")
        gdf = gdf[~empty]
    return gdf


def read_facilities(path: Path, crs: CRS, log: ProblemLog) -> gpd.GeoDataFrame:
    """Candidate buildings in the working CRS, indexed by their unique facility_id."""
    if not path.is_file():
        raise BundleError(f"{path}: missing; every region bundle lists its candidate "
                          "buildings in facilities.geojson")
    gdf = read_geojson(path, log)
    if log.errors:
        return gpd.GeoDataFrame({"facility_id": []}, geometry=[], crs=crs)
    if len(gdf) == 0:
        raise BundleError(f"{path}: the region has no facilities: nothing to score "
                          "(an empty bundle; check the fetch or simulate step)")
    if "facility_id" not in gdf.columns:
        raise BundleError(f"{path}: missing property facility_id; existing properties: "
                          f"{sorted(c for c in gdf.columns if c != 'geometry')}")
    gdf = gdf.reset_index(drop=True)
    missing = gdf["facility_id"].isna() | (gdf["facility_id"].astype(str).str.strip() == "")
    for i in np.flatnonzero(missing):
        log.warn(path, _record(int(i)), "facility_id is empty; skipped",
                 "give every building a unique facility_id", kind="missing_id")
    raw = raw_ids(path, "facility_id", len(gdf))
    gdf = gdf[~missing].copy()
    gdf["facility_id"] = gdf["facility_id"].astype(str)
    gdf = drop_bad_ids(gdf, "facility_id", path, log, raw)
    dup = gdf["facility_id"].duplicated(keep=False)
    for fid, rows in gdf[dup].groupby("facility_id").groups.items():
        log.error(path, ", ".join(f"feature {r}" for r in rows),
                  f"facility_id {fid!r} is used by more than one feature",
                  "facility_id must be unique: alerts and human decisions are keyed on it",
                  kind="duplicate_id")
    gdf = keep_polygons(gdf, path, log, "facility_id")
    for col in ("name", "building", "operator", "landuse"):
        if col not in gdf.columns:
            gdf[col] = None
    gdf = gdf[["facility_id", "name", "building", "operator", "landuse", "geometry"]]
    return gdf.to_crs(crs).set_index("facility_id", drop=False)


# The highest transmission voltage in service is 1,100 kV (State Grid Changji-Guquan UHVDC);
# a tag above 2 MV is a typo or a unit slip, not a line.
MAX_VOLTAGE_V = 2_000_000.0


def parse_voltage(value: object) -> float:
    """Highest voltage in volts of an OSM voltage tag ("345000;138000"), NaN if unknown.

    Values that are not finite, not positive or above MAX_VOLTAGE_V are not voltages.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    volts = []
    for part in str(value).replace(",", ";").split(";"):
        try:
            v = float(part.strip())
        except ValueError:
            continue
        if np.isfinite(v) and 0 < v <= MAX_VOLTAGE_V:
            volts.append(v)
    return max(volts) if volts else np.nan


def read_infrastructure(path: Path, crs: CRS, log: ProblemLog) -> gpd.GeoDataFrame:
    """Substations and lines with voltage in volts; empty when the file is absent."""
    empty = gpd.GeoDataFrame({"power": [], "voltage_v": []}, geometry=[], crs=crs)
    if not path.is_file():
        return empty
    gdf = read_geojson(path, log)
    if log.errors or len(gdf) == 0:
        return empty
    if "power" not in gdf.columns:
        log.warn(path, "", "no `power` property: nothing read",
                 "tag features power=substation or power=line", kind="infrastructure")
        return empty
    gdf = drop_unusable_geometries(gdf.reset_index(drop=True), path, log, None).copy()
    known = gdf["power"].isin(["substation", "line", "minor_line", "cable", "plant"])
    for i in np.flatnonzero(~known.values):
        log.warn(path, _record(int(gdf.index[i])), f"power={gdf['power'].iloc[i]!r} is not "
                 "used; skipped", kind="infrastructure")
    gdf = gdf[known]
    volts = gdf["voltage"] if "voltage" in gdf.columns else pd.Series(None, index=gdf.index)
    parsed = np.array([parse_voltage(v) for v in volts], dtype=float)
    unreadable = np.isnan(parsed) & volts.notna().to_numpy() & (volts.astype(str) != "")
    for i in np.flatnonzero(unreadable):
        log.warn(path, _record(int(gdf.index[i])), f"voltage {str(volts.iloc[i])[:40]!r} is "
                 f"not a voltage in volts (0 to {MAX_VOLTAGE_V:,.0f}); taken as unknown",
                 kind="bad_value")
    gdf = gdf.assign(voltage_v=parsed)[["power", "voltage_v", "geometry"]]
    return gdf.to_crs(crs).reset_index(drop=True)


# Optional text properties of an area node that regional context reads: its IANA time zone
# and where its geometry came from (a fetched area drawn as the bundle's bbox says so).
NODE_OPTIONAL = ("time_zone", "geometry_source")


def read_nodes(path: Path, crs: CRS, log: ProblemLog) -> gpd.GeoDataFrame:
    """Metering points and areas; empty when the bundle has no grid data.

    Columns node_id and kind, and the optional NODE_OPTIONAL text properties.
    """
    empty = gpd.GeoDataFrame({"node_id": [], "kind": []}, geometry=[], crs=crs)
    if not path.is_file():
        return empty
    gdf = read_geojson(path, log)
    if log.errors or len(gdf) == 0:
        return empty
    if "node_id" not in gdf.columns:
        log.error(path, "", "missing property node_id; existing properties: "
                  f"{sorted(c for c in gdf.columns if c != 'geometry')}", kind="columns")
        return empty
    gdf = gdf.reset_index(drop=True)
    raw = raw_ids(path, "node_id", len(gdf))
    bad = gdf["node_id"].isna()
    for i in np.flatnonzero(bad):
        log.warn(path, _record(int(i)), "node without node_id; skipped", kind="node")
    gdf = drop_unusable_geometries(gdf[~bad], path, log, "node_id").copy()
    gdf["node_id"] = gdf["node_id"].astype(str)
    gdf = drop_bad_ids(gdf, "node_id", path, log, raw)
    dup = gdf["node_id"].duplicated()
    for i in np.flatnonzero(dup):
        log.warn(path, _record(int(gdf.index[i]), gdf["node_id"].iloc[i]),
                 "node_id repeats an earlier node; skipped", kind="node")
    gdf = gdf[~dup]
    if "kind" not in gdf.columns:
        gdf["kind"] = None
    gdf["kind"] = gdf["kind"].fillna("unknown").astype(str)
    keep = ["node_id", "kind"] + [c for c in NODE_OPTIONAL if c in gdf.columns]
    for col in keep[2:]:
        gdf[col] = gdf[col].where(gdf[col].map(lambda v: isinstance(v, str)), None)
    return gdf[[*keep, "geometry"]].to_crs(crs).set_index("node_id", drop=False)


def read_declared(path: Path, crs: CRS, log: ProblemLog) -> gpd.GeoDataFrame | None:
    """Facilities declared under a compute treaty, or None when the file is absent."""
    if not path.is_file():
        return None
    gdf = read_geojson(path, log)
    if log.errors:
        return None
    missing = {"declared_id", "declared_it_mw"} - set(gdf.columns)
    if missing:
        log.error(path, "", f"missing properties {sorted(missing)}; existing: "
                  f"{sorted(c for c in gdf.columns if c != 'geometry')}", kind="columns")
        return None
    gdf = gdf.reset_index(drop=True)
    gdf = drop_bad_ids(gdf, "declared_id", path, log, raw_ids(path, "declared_id", len(gdf)))
    gdf = keep_polygons(gdf, path, log, "declared_id")
    gdf["declared_it_mw"] = pd.to_numeric(gdf["declared_it_mw"], errors="coerce")
    if "operator" not in gdf.columns:
        gdf["operator"] = None
    return gdf[["declared_id", "operator", "declared_it_mw", "geometry"]].to_crs(crs)
