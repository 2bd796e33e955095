"""Hostile region bundles, one case a row: each ends in a counted warning and a skip, or in a
clear error naming the file; never a traceback, never a read outside the bundle."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import yaml
from rasterio.transform import from_origin

from pipelines.bundle.limits import Limits
from pipelines.bundle.reader import read_bundle
from pipelines.bundle.validate import format_report, validate
from pipelines.errors import BundleError

from helpers import feature, load_rows, make_bundle, polygon, write_json

UTM18 = "EPSG:32618"
# The helpers' bbox (near 39 N, 77.5 W) in UTM 18N, for the tiny band rasters.
ORIGIN = (281_500.0, 4_322_500.0)


def write_band(path: Path, dtype: str = "uint16", count: int = 1, value: int = 40000) -> None:
    """A tiny GeoTIFF band over the helpers' bbox."""
    data = np.full((count, 8, 8), value, dtype=dtype)
    with rasterio.open(path, "w", driver="GTiff", width=8, height=8, count=count, dtype=dtype,
                       crs=UTM18, transform=from_origin(*ORIGIN, 500, 500)) as dst:
        dst.write(data)


def item(scene_id: str = "S1", thermal: object = "./S1_ST_B10.TIF",
         qa: object = "./S1_QA_PIXEL.TIF", when: object = "2025-03-01T15:30:00Z") -> dict:
    return {"type": "Feature", "stac_version": "1.0.0", "id": scene_id,
            "properties": {"datetime": when, "platform": "landsat-8"},
            "assets": {"lwir11": {"href": thermal}, "qa_pixel": {"href": qa}}}


def scene_bundle(root: Path, **kw: object) -> Path:
    """A valid bundle with one valid scene; keyword arguments change the item."""
    make_bundle(root)
    (root / "imagery").mkdir(exist_ok=True)
    write_band(root / "imagery" / "S1_ST_B10.TIF")
    write_band(root / "imagery" / "S1_QA_PIXEL.TIF", value=1 << 6)
    write_json(root / "imagery" / "S1.json", item(**kw))
    return root


def facilities(root: Path, feats: list[dict]) -> Path:
    return make_bundle(root, facilities=[*feats, feature("OK", polygon(-77.50, 39.00))])


def raw_facilities(root: Path, text: str) -> Path:
    make_bundle(root)
    (root / "facilities.geojson").write_text(text)
    return root


def load(root: Path, rows: list[tuple[str, object]]) -> Path:
    good = load_rows(hours=24)
    bad = pd.DataFrame({"node_id": "N1", "timestamp": [t for t, _ in rows],
                        "mw": [m for _, m in rows]})
    return make_bundle(root, load=pd.concat([good, bad], ignore_index=True))


def infrastructure(root: Path, voltage: object) -> Path:
    make_bundle(root)
    write_json(root / "infrastructure.geojson", {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"power": "substation", "voltage": voltage},
         "geometry": {"type": "Point", "coordinates": [-77.5, 39.0]}}]})
    return root


def outside_href(root: Path) -> Path:
    """An href to a real, readable GeoTIFF just outside the bundle."""
    write_band(root.parent / "outside.tif")
    return scene_bundle(root, thermal=str(root.parent / "outside.tif"))


def disguised_vrt(root: Path) -> Path:
    """A VRT (which can point at any file or URL) named like a GeoTIFF."""
    scene_bundle(root)
    (root / "imagery" / "S1_ST_B10.TIF").write_text(
        '<VRTDataset rasterXSize="8" rasterYSize="8"><VRTRasterBand dataType="UInt16" band="1">'
        '<SimpleSource><SourceFilename>/vsicurl/http://127.0.0.1:9/x.tif</SourceFilename>'
        '</SimpleSource></VRTRasterBand></VRTDataset>')
    return root


def float_band(root: Path) -> Path:
    scene_bundle(root)
    write_band(root / "imagery" / "S1_ST_B10.TIF", dtype="float32", value=300)
    return root


def two_band(root: Path) -> Path:
    scene_bundle(root)
    write_band(root / "imagery" / "S1_ST_B10.TIF", count=2)
    return root


def huge_bbox(root: Path) -> Path:
    make_bundle(root, region={"name": "huge", "bbox": [-100.0, 30.0, -80.0, 40.0]})
    return root


def assets_list(root: Path) -> Path:
    scene_bundle(root)
    bad = item()
    bad["assets"] = [bad["assets"]["lwir11"], bad["assets"]["qa_pixel"]]
    write_json(root / "imagery" / "S1.json", bad)
    return root


def deep_json(root: Path) -> Path:
    scene_bundle(root)
    (root / "imagery" / "S1.json").write_text("[" * 100_000 + "]" * 100_000)
    return root


WARN, ERROR, CLEAN = "warning", "error", "clean"
# (id, build the bundle, outcome, problem kind or message fragment, fragment of the record)
CASES: list[tuple[str, Callable[[Path], Path], str, str, str]] = [
    ("facility-empty-polygon", lambda r: facilities(r, [feature("E", {"type": "Polygon",
     "coordinates": []})]), WARN, "geometry_skipped", "(E)"),
    ("facility-nan-coordinate", lambda r: facilities(r, [feature("N", {"type": "Polygon",
     "coordinates": [[[-77.5, 39.0], [float("nan"), 39.0], [-77.49, 39.01],
                      [-77.5, 39.0]]]})]), WARN, "geometry_skipped", "(N)"),
    ("facility-null-geometry", lambda r: facilities(r, [{"type": "Feature", "properties":
     {"facility_id": "G"}, "geometry": None}]), WARN, "geometry_skipped", "(G)"),
    ("facility-point", lambda r: facilities(r, [feature("P", {"type": "Point", "coordinates":
     [-77.5, 39.0]})]), WARN, "geometry_skipped", "(P)"),
    ("facility-id-5000-chars", lambda r: facilities(r, [feature("x" * 5000,
     polygon(-77.49, 39.0))]), WARN, "bad_id", "feature 0"),
    ("facility-id-nul", lambda r: facilities(r, [feature("a\x00b", polygon(-77.49, 39.0))]),
     WARN, "bad_id", "feature 0"),
    ("facility-id-newline", lambda r: facilities(r, [feature("a\nb", polygon(-77.49, 39.0))]),
     WARN, "bad_id", "feature 0"),
    ("facility-id-path", lambda r: facilities(r, [feature("../../../tmp/x",
     polygon(-77.49, 39.0)), feature("/tmp/y", polygon(-77.48, 39.0)),
     feature("..", polygon(-77.485, 39.01))]), CLEAN, "", ""),
    ("facility-id-empty", lambda r: facilities(r, [feature("", polygon(-77.49, 39.0))]),
     WARN, "missing_id", "feature 0"),
    ("facility-duplicate-id", lambda r: facilities(r, [feature("OK", polygon(-77.49, 39.0))]),
     ERROR, "used by more than one feature", "facilities.geojson"),
    ("facilities-malformed-json", lambda r: raw_facilities(r, '{"type": "FeatureColl'),
     ERROR, "not readable as GeoJSON", "facilities.geojson"),
    ("facilities-projected", lambda r: raw_facilities(r, json.dumps({
        "type": "FeatureCollection", "features": [feature("A", {"type": "Polygon",
        "coordinates": [[[256000, 4323000], [256100, 4323000], [256100, 4323100],
                         [256000, 4323000]]]})]})), ERROR, "projected", "facilities.geojson"),
    ("facilities-no-id-column", lambda r: raw_facilities(r, json.dumps({
        "type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                                                  "geometry": polygon(-77.5, 39.0)}]})),
     ERROR, "missing property facility_id", "facilities.geojson"),
    ("facilities-empty", lambda r: raw_facilities(r, '{"type": "FeatureCollection", '
     '"features": []}'), ERROR, "no facilities", "facilities.geojson"),
    ("load-inf", lambda r: load(r, [("2025-03-02T00:00:00Z", "inf")]), WARN, "bad_value",
     "line 26"),
    ("load-1e300", lambda r: load(r, [("2025-03-02T00:00:00Z", 1e300)]), WARN, "bad_value",
     "line 26"),
    ("load-negative", lambda r: load(r, [("2025-03-02T00:00:00Z", -5)]), WARN, "bad_value",
     "line 26"),
    ("load-nan", lambda r: load(r, [("2025-03-02T00:00:00Z", "NaN")]), WARN, "bad_value",
     "line 26"),
    ("load-one-unparseable-timestamp", lambda r: load(r, [("yesterday at noon", 50)]), WARN,
     "bad_timestamp", "line 26"),
    ("load-one-timestamp-without-offset", lambda r: load(r, [("2025-03-02T00:00:00", 50)]),
     WARN, "bad_timestamp", "line 26"),
    ("load-duplicate-timestamp", lambda r: load(r, [("2025-03-01T00:00:00+00:00", 60)]), WARN,
     "duplicates", "line"),
    ("load-unordered", lambda r: load(r, [("2025-02-28T00:00:00Z", 50)]), WARN, "unordered",
     ""),
    ("load-missing-column", lambda r: make_bundle(r, load=pd.DataFrame({"node": ["N1"]})),
     ERROR, "missing columns", "load.csv"),
    ("voltage-inf", lambda r: infrastructure(r, "inf"), WARN, "bad_value", "feature 0"),
    ("voltage-absurd", lambda r: infrastructure(r, "9e12"), WARN, "bad_value", "feature 0"),
    ("bbox-too-large", huge_bbox, ERROR, "max_grid_pixels", "region.yaml"),
    ("scene-href-absolute-outside", outside_href, WARN, "scene_skipped", "S1"),
    ("scene-href-dotdot", lambda r: (write_band(r.parent / "x.tif"), scene_bundle(
        r, thermal="../../x.tif"))[1], WARN, "scene_skipped", "S1"),
    ("scene-href-vsicurl", lambda r: scene_bundle(r, thermal="/vsicurl/http://127.0.0.1:9/x.tif"),
     WARN, "scene_skipped", "S1"),
    ("scene-href-http", lambda r: scene_bundle(r, thermal="http://127.0.0.1:9/x.tif"), WARN,
     "scene_skipped", "S1"),
    ("scene-href-file-url-outside", lambda r: scene_bundle(r, thermal="file:///etc/passwd"),
     WARN, "scene_skipped", "S1"),
    ("scene-href-not-a-string", lambda r: scene_bundle(r, thermal=["a"]), WARN,
     "scene_skipped", "S1"),
    ("scene-vrt-disguised", disguised_vrt, WARN, "scene_skipped", "S1"),
    ("scene-float32-band", float_band, WARN, "scene_skipped", "S1"),
    ("scene-two-bands", two_band, WARN, "scene_skipped", "S1"),
    ("scene-assets-list", assets_list, WARN, "scene_skipped", "S1"),
    ("scene-datetime-null", lambda r: scene_bundle(r, when=None), WARN, "scene_skipped", "S1"),
    ("scene-datetime-garbage", lambda r: scene_bundle(r, when="soon"), WARN, "scene_skipped",
     "S1"),
    ("scene-id-newline", lambda r: scene_bundle(r, scene_id="S\n1"), WARN, "scene_skipped",
     "S1.json"),
    ("scene-id-5000-chars", lambda r: scene_bundle(r, scene_id="s" * 5000), WARN,
     "scene_skipped", "S1.json"),
    ("scene-deeply-nested-json", deep_json, WARN, "scene_skipped", "S1.json"),
    ("scene-truncated-geotiff", lambda r: (scene_bundle(r), (r / "imagery" / "S1_ST_B10.TIF")
     .write_bytes(b"II*\x00" + b"\x00" * 20))[0], WARN, "scene_skipped", "S1"),
]


@pytest.mark.parametrize("build, outcome, what, where",
                         [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_hostile_bundle(tmp_path, build, outcome, what, where):
    root = build(tmp_path / "bundle")
    if outcome == ERROR:
        with pytest.raises(BundleError) as info:
            read_bundle(root)
        assert what in str(info.value) and where in str(info.value)
        report = format_report(validate(root))
        assert "UNUSABLE" in report and what in report
        return
    bundle = read_bundle(root)
    kinds = [p.kind for p in bundle.problems.warnings]
    if outcome == CLEAN:
        assert not bundle.problems.warnings, bundle.problems.warnings
        return
    matching = [p for p in bundle.problems.warnings if p.kind == what]
    assert matching, f"expected a {what} warning, got {kinds}"
    assert any(where in f"{p.file} {p.record}" for p in matching), matching
    assert bundle.problems.counts()[what] >= 1
    report = format_report(validate(root))
    assert "Result: usable" in report and "WARNING" in report


def test_hostile_ids_are_kept_as_data_not_altered(tmp_path):
    root = facilities(tmp_path / "b", [feature("../../../tmp/x", polygon(-77.49, 39.0))])
    assert "../../../tmp/x" in read_bundle(root).facilities.index


def test_closed_bundle_never_opens_the_outside_file(tmp_path, monkeypatch):
    """An href outside the bundle is refused before GDAL is asked to open it."""
    root = outside_href(tmp_path / "bundle")
    opened = []
    real_open = rasterio.open
    monkeypatch.setattr(rasterio, "open", lambda p, *a, **k: (opened.append(str(p)),
                                                               real_open(p, *a, **k))[1])
    read_bundle(root)
    assert not any("outside.tif" in p for p in opened)


def test_grid_limit_comes_from_the_limits(tmp_path):
    root = make_bundle(tmp_path / "b")
    read_bundle(root)
    with pytest.raises(BundleError, match="max_grid_pixels"):
        read_bundle(root, limits=Limits(max_grid_pixels=100))


def test_load_file_limit(tmp_path):
    root = make_bundle(tmp_path / "b")
    with pytest.raises(BundleError, match="max_load_file_mb"):
        read_bundle(root, limits=Limits(max_load_file_mb=1e-4))


def test_region_yaml_with_python_tag_is_refused(tmp_path):
    root = make_bundle(tmp_path / "b")
    (root / "region.yaml").write_text("name: !!python/object/apply:os.system ['touch x']\n"
                                      f"bbox: {yaml.safe_dump([-77.52, 38.98, -77.48, 39.02])}")
    with pytest.raises(BundleError, match="not valid YAML"):
        read_bundle(root)
