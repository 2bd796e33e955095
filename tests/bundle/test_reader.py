"""The bundle reader: a table of good and bad inputs, each with its documented outcome."""

from __future__ import annotations

import json
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio

from pipelines.bundle.reader import read_bundle
from pipelines.bundle.validate import validate
from pipelines.errors import BundleError

from helpers import feature, make_bundle, polygon

BOWTIE = {"type": "Polygon", "coordinates": [[[-77.50, 39.00], [-77.49, 39.01],
                                              [-77.49, 39.00], [-77.50, 39.01],
                                              [-77.50, 39.00]]]}


def kinds(bundle) -> dict:
    return bundle.problems.counts()


def test_valid_bundle_reads_into_working_crs(tmp_path):
    b = read_bundle(make_bundle(tmp_path / "r"))
    assert b.raster.crs.to_epsg() == 32618
    assert list(b.facilities.index) == ["A", "B"]
    assert b.facilities.crs.to_epsg() == 32618
    assert 8_000 < b.facilities.area.iloc[0] < 10_000  # 0.001 deg square near 39 N
    assert str(b.load["interval_start"].dt.tz) == "UTC"
    assert b.problems.problems == []


@pytest.mark.parametrize("features, expectation, warning", [
    pytest.param([feature("A", BOWTIE), feature("B", polygon(-77.505, 39.005))],
                 does_not_raise(), "geometry_repaired", id="self-intersecting-repaired"),
    pytest.param([feature("A", {"type": "Point", "coordinates": [-77.5, 39.0]}),
                  feature("B", polygon(-77.505, 39.005))],
                 does_not_raise(), "geometry_skipped", id="point-skipped"),
    pytest.param([feature("A", polygon(-77.50, 39.00)), feature("A", polygon(-77.505, 39.005))],
                 pytest.raises(BundleError, match=r"feature 0, feature 1.*'A'"), None,
                 id="duplicate-id-fatal-names-both"),
    pytest.param([feature("A", {"type": "Polygon", "coordinates": [[[300000, 4300000],
                  [300100, 4300000], [300100, 4300100], [300000, 4300000]]]})],
                 pytest.raises(BundleError, match="projected metres.*ogr2ogr"), None,
                 id="projected-metres-fatal-with-hint"),
    pytest.param([], pytest.raises(BundleError, match="no facilities"), None, id="empty-bundle"),
])
def test_facility_inputs(tmp_path, features, expectation, warning):
    root = make_bundle(tmp_path / "r", facilities=features)
    with expectation:
        b = read_bundle(root)
        assert kinds(b).get(warning) == 1
        assert b.facilities.geometry.is_valid.all()
        assert b.facilities.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_missing_facility_id_column_names_existing_columns(tmp_path):
    feats = [{"type": "Feature", "properties": {"id": "A"}, "geometry": polygon(-77.5, 39.0)}]
    with pytest.raises(BundleError, match=r"missing property facility_id.*\['id'\]"):
        read_bundle(make_bundle(tmp_path / "r", facilities=feats))


def _load(rows: list[tuple[str, str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["node_id", "timestamp", "mw"])


@pytest.mark.parametrize("rows, assume_utc, expectation, check", [
    pytest.param([("N1", "2025-03-01T00:00:00", 5), ("N1", "2025-03-01T01:00:00", 6)], False,
                 pytest.raises(BundleError, match="no UTC offset.*--assume-utc"), None,
                 id="no-offset-fatal"),
    pytest.param([("N1", "2025-03-01T00:00:00", 5), ("N1", "2025-03-01T01:00:00", 6)], True,
                 does_not_raise(), ("timestamp_assumed_utc", [5.0, 6.0]), id="no-offset-utc"),
    pytest.param([("N1", "2025-03-01T02:00:00+02:00", 5), ("N1", "2025-03-01T01:00:00Z", 6)],
                 False, does_not_raise(), ("timestamp_converted", [5.0, 6.0]),
                 id="offset-converted"),
    pytest.param([("N1", "2025-03-01T00:00:00Z", 4), ("N1", "2025-03-01T00:00:00Z", 6)], False,
                 does_not_raise(), ("duplicates", [5.0]), id="duplicates-averaged"),
    pytest.param([("N1", "2025-03-01T01:00:00Z", 6), ("N1", "2025-03-01T00:00:00Z", 5)], False,
                 does_not_raise(), ("unordered", [5.0, 6.0]), id="unordered-sorted"),
    pytest.param([("N1", "2025-03-01T00:00:00Z", -3), ("N1", "2025-03-01T01:00:00Z", "nan"),
                  ("N1", "2025-03-01T02:00:00Z", 7)], False, does_not_raise(),
                 ("bad_value", [7.0]), id="negative-and-nan-dropped"),
    pytest.param([("N1", "2025-03-01T00:00:00Z", 5), ("ZZ", "2025-03-01T00:00:00Z", 9)], False,
                 does_not_raise(), ("unknown_node", [5.0]), id="unknown-node-warned"),
])
def test_load_inputs(tmp_path, rows, assume_utc, expectation, check):
    root = make_bundle(tmp_path / "r", load=_load(rows))
    with expectation:
        b = read_bundle(root, assume_utc=assume_utc)
        kind, values = check
        assert kind in kinds(b)
        assert b.load["load_mw"].tolist() == values
        assert b.load["interval_start"].is_monotonic_increasing


def test_offset_conversion_is_exact(tmp_path):
    root = make_bundle(tmp_path / "r", load=_load([("N1", "2025-03-01T02:00:00+02:00", 5)]))
    b = read_bundle(root)
    assert b.load["interval_start"].iloc[0] == pd.Timestamp("2025-03-01T00:00:00Z")


def test_missing_load_columns(tmp_path):
    root = make_bundle(tmp_path / "r", load=pd.DataFrame({"node": ["N1"], "time": ["x"]}))
    with pytest.raises(BundleError, match=r"missing columns \['node_id', 'timestamp', 'mw'\]"):
        read_bundle(root)




@pytest.fixture()
def demo_bundle(tmp_path):
    from helpers import copy_demo

    return copy_demo(tmp_path / "demo")


def test_item_without_lwir11_is_skipped(demo_bundle):
    item_path = sorted((demo_bundle / "imagery").glob("*.json"))[0]
    item = json.loads(item_path.read_text())
    del item["assets"]["lwir11"]
    item_path.write_text(json.dumps(item))
    b = read_bundle(demo_bundle)
    assert kinds(b)["scene_skipped"] == 1
    assert any("no `lwir11` asset" in str(p) and item_path.name in str(p)
               for p in b.problems.warnings)


def test_real_usgs_item_with_old_asset_keys_is_skipped(demo_bundle):
    src = Path(__file__).parents[1] / "data" / "landsat"
    (demo_bundle / "imagery" / "usgs.json").write_text(
        (src / "LC08_L2SP_001070_20190114_20200830_02_T2_ST_stac.json").read_text())
    b = read_bundle(demo_bundle)
    assert kinds(b)["scene_skipped"] == 1


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_geotiff_is_skipped_not_fatal(demo_bundle, damage):
    tif = sorted((demo_bundle / "imagery").glob("*_ST_B10.TIF"))[0]
    data = tif.read_bytes()
    tif.write_bytes(data[: len(data) // 3] if damage == "truncate" else b"not a tiff" * 50)
    v = validate(demo_bundle)
    assert v.usable
    assert v.problems.counts()["scene_skipped"] == 1
    assert len(v.bundle.scenes) == 11


def test_scene_in_other_utm_zone_is_reprojected(demo_bundle):
    """A scene written in the next UTM zone reads back onto the working grid."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    b = read_bundle(demo_bundle)
    scene = max(b.scenes, key=lambda s: s.read(b.raster)[1].mean())
    before, usable = scene.read(b.raster)
    zone = b.raster.crs.to_epsg() + 1
    for href in (scene.thermal_href, scene.qa_href):
        with rasterio.open(href) as src:
            arr, profile = src.read(1), src.profile
            transform, w, h = calculate_default_transform(src.crs, f"EPSG:{zone}", src.width,
                                                          src.height, *src.bounds)
            out = np.zeros((h, w), dtype=arr.dtype)
            reproject(arr, out, src_transform=src.transform, src_crs=src.crs,
                      dst_transform=transform, dst_crs=f"EPSG:{zone}",
                      resampling=Resampling.nearest, src_nodata=src.nodata,
                      dst_nodata=src.nodata)
        profile.update(crs=f"EPSG:{zone}", transform=transform, width=w, height=h)
        with rasterio.open(href, "w", **profile) as dst:
            dst.write(out, 1)
    b2 = read_bundle(demo_bundle)
    moved = [s for s in b2.scenes if s.scene_id == scene.scene_id][0]
    assert moved.crs.to_epsg() == zone
    after, usable2 = moved.read(b2.raster)
    assert after.shape == before.shape
    both = usable & usable2 & np.isfinite(after) & np.isfinite(before)
    assert both.mean() > 0.3
    assert np.median(np.abs(after[both] - before[both])) < 0.5
    _windows_match_the_whole_read(moved, b2.raster)  # warped through a VRT
    _windows_match_the_whole_read(scene, b.raster)  # already on the working grid


def _windows_match_the_whole_read(scene, grid):
    """Reading windows alone gives exactly the pixels of the whole read, edges included."""
    kelvin, usable = scene.read(grid)
    windows = [(slice(0, 40), slice(0, 50)), (slice(grid.height - 30, grid.height),
                                               slice(grid.width // 2, grid.width // 2 + 60)),
               (slice(10, 10), slice(5, 20))]  # an empty one, as at the grid's edge
    for (rows, cols), (k, u) in zip(windows, scene.read_windows(grid, windows)):
        assert k.shape == kelvin[rows, cols].shape
        np.testing.assert_array_equal(k, kelvin[rows, cols])
        np.testing.assert_array_equal(u, usable[rows, cols])


def test_validate_report_lists_counts_and_problems(demo_bundle):
    from pipelines.bundle.validate import format_report

    text = format_report(validate(demo_bundle))
    assert "working CRS: EPSG:" in text
    assert f"facilities: {len(read_bundle(demo_bundle).facilities)}" in text
    assert "scenes: 12" in text and "clear" in text
    assert "Result: usable" in text
