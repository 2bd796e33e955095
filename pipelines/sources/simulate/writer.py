"""Write a simulated world as a region bundle (SPEC input contract v1) plus its truth."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
import yaml

from pipelines.bundle.imagery import QA_FILL, ST_FILL, ST_OFFSET, ST_SCALE
from pipelines.sources.simulate.loads import Series
from pipelines.sources.simulate.scenes import SceneArrays
from pipelines.sources.simulate.world import World

GEOTIFF = {"driver": "GTiff", "tiled": True, "blockxsize": 256, "blockysize": 256,
           "compress": "deflate", "predictor": 2, "dtype": "uint16", "count": 1}


def _write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    gdf.to_crs("EPSG:4326").to_file(path, driver="GeoJSON", engine="pyogrio",
                                    layer_options={"RFC7946": "YES",
                                                   "COORDINATE_PRECISION": 7})


def write_vectors(world: World, out: Path) -> None:
    """facilities, infrastructure, grid nodes and declared facilities as lon/lat GeoJSON."""
    cols = ["facility_id", "name", "building", "operator", "landuse"]
    facs = pd.DataFrame([{c: f.get(c) for c in cols} for f in world.facilities])
    _write_geojson(gpd.GeoDataFrame(facs, geometry=[f["geometry"] for f in world.facilities],
                                    crs=world.crs), out / "facilities.geojson")
    nodes = world.nodes
    geoms = [n.get("geometry") or shapely.Point(n["xy"]) for n in nodes]
    _write_geojson(gpd.GeoDataFrame({"node_id": [n["node_id"] for n in nodes],
                                     "kind": [n["kind"] for n in nodes]}, geometry=geoms,
                                    crs=world.crs), out / "grid" / "nodes.geojson")
    subs = [n for n in nodes if n["kind"] == "substation"]
    infra = gpd.GeoDataFrame(
        {"power": ["substation"] * len(subs) + ["line"] * len(world.lines),
         "voltage": [str(int(n["voltage"])) for n in subs]
         + [str(int(ln["voltage"])) for ln in world.lines]},
        geometry=[shapely.Point(n["xy"]).buffer(35, cap_style="square") for n in subs]
        + [ln["geometry"] for ln in world.lines], crs=world.crs)
    _write_geojson(infra, out / "infrastructure.geojson")
    declared = [s for s in world.sites if s.declared_id]
    if declared:
        facs_by_id = {f["facility_id"]: f for f in world.facilities}
        _write_geojson(gpd.GeoDataFrame(
            {"declared_id": [s.declared_id for s in declared],
             "operator": [s.params.get("operator") for s in declared],
             "declared_it_mw": [round(s.declared_it_mw, 1) for s in declared]},
            geometry=[shapely.union_all([facs_by_id[h]["geometry"] for h in s.hall_ids])
                      for s in declared], crs=world.crs), out / "declared.geojson")


def write_grid(rng: np.random.Generator, world: World, series: Series, out: Path) -> None:
    """load.csv with the meter faults real data has (gaps, repeated rows) and price.csv."""
    stamps = series.times.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    frames = []
    for node_id, mw in series.node_mw.items():
        keep = np.ones(len(mw), bool)
        for _ in range(rng.integers(0, 4)):
            start = rng.integers(0, len(mw))
            keep[start:start + rng.integers(2, 72)] = False
        frame = pd.DataFrame({"node_id": node_id, "timestamp": stamps[keep],
                              "mw": np.round(mw[keep], 3)})
        dup = frame.sample(frac=0.001, random_state=int(rng.integers(1 << 31)))
        frames += [frame, dup]
    load = pd.concat(frames).sort_values(["node_id", "timestamp"], kind="stable")
    (out / "grid").mkdir(parents=True, exist_ok=True)
    load.to_csv(out / "grid" / "load.csv", index=False)
    pd.DataFrame({"timestamp": stamps, "price": np.round(series.price, 2)}).to_csv(
        out / "grid" / "price.csv", index=False)


def _scene_id(world: World, scene: SceneArrays) -> str:
    sensor = "LC08" if scene.platform == "landsat-8" else "LC09"
    path_row = f"{int((world.lon + 180) * 233 / 360) + 1:03d}{int((90 - world.lat) / 0.72):03d}"
    day = scene.acquired.strftime("%Y%m%d")
    return f"{sensor}_L2SP_{path_row}_{day}_{day}_02_T1"


def write_scene(world: World, scene: SceneArrays, folder: Path) -> str:
    """ST_B10 and QA_PIXEL GeoTIFFs and a STAC Item (landsat-c2-l2 conventions)."""
    folder.mkdir(parents=True, exist_ok=True)
    sid = _scene_id(world, scene)
    g = world.raster
    profile = {**GEOTIFF, "width": g.width, "height": g.height, "crs": g.crs,
               "transform": g.transform}
    for suffix, arr, nodata in (("ST_B10", scene.st_dn, ST_FILL), ("QA_PIXEL", scene.qa, QA_FILL)):
        with rasterio.open(folder / f"{sid}_{suffix}.TIF", "w", nodata=nodata, **profile) as dst:
            dst.write(arr, 1)
    lon0, lat0, lon1, lat1 = world.bbox
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": sid,
        "collection": "landsat-c2-l2",
        "stac_extensions": ["https://stac-extensions.github.io/projection/v1.1.0/schema.json",
                            "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
                            "https://stac-extensions.github.io/eo/v1.1.0/schema.json"],
        "bbox": [lon0, lat0, lon1, lat1],
        "geometry": {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0],
                                                         [lon1, lat1], [lon0, lat1],
                                                         [lon0, lat0]]]},
        "properties": {"datetime": scene.acquired.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "platform": scene.platform, "instruments": ["oli", "tirs"],
                       "eo:cloud_cover": round(100 * scene.cloud_cover, 2),
                       "proj:epsg": g.crs.to_epsg(), "proj:shape": [g.height, g.width],
                       "proj:transform": list(g.transform)[:6],
                       "landsat:collection_category": "T1", "simulated": True},
        "assets": {
            "lwir11": {"href": f"./{sid}_ST_B10.TIF", "type":
                       "image/tiff; application=geotiff; profile=cloud-optimized",
                       "title": "Surface Temperature Band", "roles": ["data", "temperature"],
                       "raster:bands": [{"data_type": "uint16", "nodata": ST_FILL,
                                         "scale": ST_SCALE, "offset": ST_OFFSET,
                                         "unit": "kelvin", "spatial_resolution": 30}]},
            "qa_pixel": {"href": f"./{sid}_QA_PIXEL.TIF", "type":
                         "image/tiff; application=geotiff; profile=cloud-optimized",
                         "title": "Pixel Quality Assessment Band",
                         "roles": ["cloud", "cloud-shadow", "snow-ice", "water-mask"],
                         "raster:bands": [{"data_type": "uint16", "nodata": QA_FILL,
                                           "unit": "bit index"}]}},
        "links": []}
    (folder / f"{sid}.json").write_text(json.dumps(item, indent=1))
    return sid


def write_region_yaml(world: World, series: Series, out: Path) -> None:
    """region.yaml: name, bbox and the simulated period."""
    out.mkdir(parents=True, exist_ok=True)
    doc = {"name": f"simulated-{world.preset.name}-seed{world.seed}", "bbox": list(world.bbox),
           "period": {"start": series.times[0].strftime("%Y-%m-%d"),
                      "end": (series.times[-1]).strftime("%Y-%m-%d")}}
    (out / "region.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def truth_table(world: World, series: Series) -> pd.DataFrame:
    """truth.csv rows: IT MW is the mean IT draw over the last 30 days (0 if not a DC)."""
    last = series.times >= series.times[-1] - pd.Timedelta(days=30)
    sites = {s.site_id: s for s in world.sites}
    rows = []
    for f in world.facilities:
        site = sites.get(f["site_id"])
        it = series.hall_it_mw.get(f["facility_id"])
        rows.append({"facility_id": f["facility_id"], "site_id": f["site_id"],
                     "true_class": f["true_class"],
                     "it_mw": round(float(it[last].mean()), 3) if it is not None else 0.0,
                     "on_grid": bool(site is None or not site.params.get("off_grid")),
                     "declared": bool(site is not None and site.declared_id is not None)})
    return pd.DataFrame(rows)
