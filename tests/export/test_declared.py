"""Declared-facility matching on its edge cases: touching, nearby, a MultiPolygon campus."""

import geopandas as gpd
import shapely

from pipelines.export.candidates import declared_matches


def test_declared_edge_cases():
    facs = gpd.GeoDataFrame(
        {"facility_id": ["inside", "touching", "near", "far", "hall2"]},
        geometry=[shapely.box(10, 10, 50, 50), shapely.box(100, 0, 150, 40),
                  shapely.box(0, 180, 40, 220), shapely.box(2000, 0, 2040, 40),
                  shapely.box(510, 10, 540, 40)], crs="EPSG:32618").set_index(
        "facility_id", drop=False)
    campus = shapely.MultiPolygon([shapely.box(0, 0, 100, 100), shapely.box(500, 0, 550, 50)])
    declared = gpd.GeoDataFrame({"declared_id": ["D1"], "declared_it_mw": [40.0]},
                                geometry=[campus], crs="EPSG:32618")
    got = declared_matches(facs, declared, within_m=100.0)
    assert got.loc["inside", "declared_id"] == "D1"
    assert got.loc["touching", "declared_id"] == "D1"  # shares an edge with the campus
    assert got.loc["near", "declared_id"] == "D1"  # 80 m away, within 100 m
    assert got.loc["hall2", "declared_id"] == "D1"  # second part of a MultiPolygon
    assert got.loc["far", "declared_id"] is None
    assert got.loc["inside", "declared_it_mw"] == 40.0
