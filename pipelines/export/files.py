"""Write one run's outputs: GeoJSON, QML style, GeoPackage, regional context.

Each file is written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd

from pipelines.atomic import atomic_path, atomic_write_text
from pipelines.export.geojson import feature_collection, write_geojson
from pipelines.export.styles import qml_style

NESTED = ("class_probabilities", "top_reasons", "sources")


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """The same rows as a GeoPackage layer `candidates` (nested fields as JSON text)."""
    flat = gdf.copy()
    for col in NESTED:
        if col in flat.columns:
            flat[col] = [json.dumps(v) for v in flat[col]]
    with atomic_path(path, ".gpkg") as tmp:
        tmp.unlink()  # GDAL creates the GeoPackage itself
        flat.to_crs("EPSG:4326").to_file(tmp, driver="GPKG", layer="candidates",
                                          engine="pyogrio")


def write_candidates(gdf: gpd.GeoDataFrame, collection: dict, out: Path) -> dict[str, str]:
    """candidates.geojson (from collection), .qml and .gpkg (from gdf) in out; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"geojson": out / "candidates.geojson", "qml": out / "candidates.qml",
             "gpkg": out / "candidates.gpkg"}
    write_geojson(collection, paths["geojson"])
    atomic_write_text(paths["qml"], qml_style())
    write_gpkg(gdf, paths["gpkg"])
    return {k: str(v) for k, v in paths.items()}


def write_regional(frame: gpd.GeoDataFrame, out: Path) -> str | None:
    """regional.geojson in out from regional_frame's result; None when there are no areas."""
    if frame.empty:
        return None
    path = out / "regional.geojson"
    write_geojson(feature_collection(frame, id_field="node_id"), path)
    return str(path)
