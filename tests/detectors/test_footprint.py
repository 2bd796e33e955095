"""Footprint features, including on real data-centre outlines from the IM3 atlas."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from detectors.footprint import campus_labels, footprint_features

IM3 = Path(__file__).parents[1] / "data" / "im3" / "footprints.geojson"


def _facilities(geoms, **tags) -> gpd.GeoDataFrame:
    n = len(geoms)
    cols = {c: tags.get(c, [None] * n) for c in ("name", "building", "landuse")}
    return gpd.GeoDataFrame(cols, geometry=geoms, crs="EPSG:32618")


def test_campus_halls_compactness_and_distances():
    halls = [shapely.box(0, 0, 100, 100), shapely.box(150, 0, 250, 100),
             shapely.box(5000, 5000, 5400, 5050)]
    subs = np.array([shapely.Point(300, 50)], dtype=object)
    lines = np.array([shapely.LineString([(0, 1000), (6000, 1000)])], dtype=object)
    f = footprint_features(_facilities(halls, building=["data_center", "warehouse", None]),
                           subs, lines)
    assert f["campus_halls"].tolist() == [2, 2, 1]
    assert f["campus_area_m2"].tolist()[:2] == [20_000.0, 20_000.0]
    assert abs(f["compactness"].iloc[0] - np.pi / 4) < 1e-9
    assert f["compactness"].iloc[2] < 0.5
    assert f["substation_distance_m"].tolist()[:2] == [200.0, 50.0]
    assert f["hv_line_distance_m"].iloc[0] == 900.0
    assert f["tag_data_center"].tolist() == [1.0, 0.0, 0.0]
    assert f["tag_industrial"].tolist() == [0.0, 1.0, 0.0]


def test_no_infrastructure_gives_null_distances():
    f = footprint_features(_facilities([shapely.box(0, 0, 10, 10)]), np.array([], dtype=object),
                           np.array([], dtype=object))
    assert np.isnan(f["substation_distance_m"].iloc[0])


def test_real_im3_footprints():
    gdf = gpd.read_file(IM3)
    utm = gdf.estimate_utm_crs()
    facs = _facilities(list(gdf.to_crs(utm).geometry))
    f = footprint_features(facs.set_crs(utm, allow_override=True), np.array([], dtype=object),
                           np.array([], dtype=object))
    sqft = pd.to_numeric(gdf["sqft"], errors="coerce")
    both = sqft.notna()
    # The atlas's own sqft agrees with the computed area to within a few percent.
    ratio = f["footprint_m2"][both.to_numpy()] / (sqft[both] * 0.092903).to_numpy()
    assert np.median(ratio) == np.clip(np.median(ratio), 0.9, 1.1)
    assert (f["compactness"] > 0).all() and (f["compactness"] <= 1).all()
    assert f["campus_halls"].max() >= 2
    assert len(np.unique(campus_labels(facs.geometry))) < len(facs)
