"""candidates.geojson: RFC 7946, lon/lat, CCW rings, 6 decimals, written atomically."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from pipelines.atomic import atomic_write_text
from pipelines.export.candidates import COORD_DECIMALS, clean


def lonlat_geometries(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Geometries in lon/lat with exterior rings counter-clockwise (RFC 7946, 3.1.6)."""
    return shapely.orient_polygons(gdf.to_crs("EPSG:4326").geometry.values, exterior_cw=False)


def _coords(geom: shapely.Geometry) -> dict:
    mapping = shapely.geometry.mapping(geom)

    def rnd(obj: object) -> object:
        if isinstance(obj, (list, tuple)):
            if obj and isinstance(obj[0], (int, float)):
                return [round(float(v), COORD_DECIMALS) for v in obj]
            return [rnd(o) for o in obj]
        return obj

    return {"type": mapping["type"], "coordinates": rnd(mapping["coordinates"])}


def feature_collection(gdf: gpd.GeoDataFrame, id_field: str = "facility_id") -> dict:
    """The FeatureCollection dict: Feature id = the id field, properties as built."""
    geoms = lonlat_geometries(gdf) if len(gdf) else []
    # A frame turns None into NaN in numeric columns: the contract wants null.
    props = [{k: clean(v) for k, v in rec.items()}
             for rec in gdf.drop(columns="geometry").to_dict(orient="records")]
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "id": p[id_field], "geometry": _coords(g),
                          "properties": p} for p, g in zip(props, geoms)]}


def write_geojson(collection: dict, path: Path) -> None:
    """Serialise a FeatureCollection atomically (NaN is refused: nulls must be None)."""
    atomic_write_text(path, json.dumps(collection, allow_nan=False, separators=(",", ":")))
