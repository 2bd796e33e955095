"""Fuzzing the bundle reader: random geometries, coordinates, ids, timestamps and JSON shapes.

Whatever the files hold, reading ends in a bundle (bad records skipped and counted) or a
BundleError that names a file; never another exception, never a read outside the bundle.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.bundle.reader import read_bundle
from pipelines.bundle.validate import validate
from pipelines.errors import BundleError

from helpers import BBOX, load_rows, make_bundle, write_json

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                    st.floats(min_value=-77.52, max_value=-77.48),
                    st.integers(min_value=-10**6, max_value=10**6))
lats = st.one_of(numbers, st.floats(min_value=38.98, max_value=39.02))
points = st.lists(st.one_of(st.tuples(numbers, lats), st.tuples(numbers),
                            st.tuples(numbers, lats, numbers)), max_size=6)
geometry = st.one_of(
    st.none(),
    st.builds(lambda r: {"type": "Polygon", "coordinates": [[list(p) for p in r]]}, points),
    st.builds(lambda r: {"type": "Polygon", "coordinates": [[list(p) for p in r + r[:1]]]},
              points),
    st.builds(lambda p: {"type": "Point", "coordinates": list(p)}, st.tuples(numbers, lats)),
    st.builds(lambda r: {"type": "MultiPolygon", "coordinates": [[[list(p) for p in r]]]},
              points),
    st.builds(lambda t: {"type": t, "coordinates": []},
              st.sampled_from(["Polygon", "LineString", "GeometryCollection", "Nonsense"])),
)
ids = st.one_of(st.text(max_size=30), st.text(min_size=190, max_size=260),
                st.sampled_from(["..", ".", "/tmp/x", "../../x", "a\x00b", "a\nb", "F1"]),
                st.integers(), st.none(), st.floats(allow_nan=True))
features = st.lists(st.builds(lambda fid, geom, name: {
    "type": "Feature", "properties": {"facility_id": fid, "name": name}, "geometry": geom},
    ids, geometry, st.one_of(st.none(), st.text(max_size=10), st.integers())), max_size=8)
timestamps = st.one_of(
    st.datetimes(min_value=pd.Timestamp("2024-01-01").to_pydatetime(),
                 max_value=pd.Timestamp("2026-01-01").to_pydatetime()).map(
        lambda d: d.isoformat() + "+00:00"),
    st.text(max_size=25), st.sampled_from(["2025-03-01T00:00:00", "NaT", "", "2025-13-45Z"]))
mw = st.one_of(numbers, st.text(max_size=6), st.sampled_from(["inf", "-inf", "nan", "1e300"]))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12),
              st.floats(allow_nan=False, allow_infinity=False)),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=8), children, max_size=3)),
    max_leaves=12)
items = st.one_of(
    json_values,
    st.fixed_dictionaries({"type": st.just("Feature"), "id": ids,
                           "properties": st.one_of(json_values, st.fixed_dictionaries(
                               {"datetime": st.one_of(timestamps, json_values)})),
                           "assets": st.one_of(json_values, st.fixed_dictionaries({
                               "lwir11": st.one_of(json_values, st.fixed_dictionaries(
                                   {"href": st.one_of(json_values, st.sampled_from([
                                       "/etc/passwd", "../../x.tif", "/vsicurl/http://127.0.0"
                                       ".1:9/x.tif", "http://127.0.0.1:9/x.tif", "./none.tif",
                                       "file:///etc/hostname"]))})),
                               "qa_pixel": json_values}))}))


@contextmanager
def fresh_bundle(**parts: object) -> Iterator[Path]:
    """A valid bundle in a folder of its own for one example (Hypothesis reuses tmp_path)."""
    with tempfile.TemporaryDirectory() as tmp:
        yield make_bundle(Path(tmp) / "b", **parts)


def check(root: Path) -> None:
    """The property: a bundle or a BundleError naming a file; validate never raises."""
    try:
        bundle = read_bundle(root)
    except BundleError as exc:
        assert str(root) in str(exc) or "region bundle is unusable" in str(exc)
    else:
        assert bundle.facilities.index.is_unique
        assert all(isinstance(i, str) and len(i) <= 200 and "\x00" not in i
                   for i in bundle.facilities.index)
        assert not bundle.facilities.geometry.is_empty.any()
        load = bundle.load["load_mw"]
        assert load.map(math.isfinite).all() and (load >= 0).all()
    validate(root)


@FUZZ
@given(feats=features)
def test_fuzz_facilities(feats):
    with fresh_bundle() as root:
        (root / "facilities.geojson").write_text(json.dumps(
            {"type": "FeatureCollection", "features": feats}))
        check(root)


@FUZZ
@given(rows=st.lists(st.tuples(st.sampled_from(["N1", "N2", "", "N1 "]), timestamps, mw),
                     max_size=12))
def test_fuzz_load(rows):
    extra = pd.DataFrame(rows, columns=["node_id", "timestamp", "mw"])
    with fresh_bundle(load=pd.concat([load_rows(hours=6), extra], ignore_index=True)) as root:
        check(root)


@FUZZ
@given(item=items)
def test_fuzz_scene_items(item):
    with fresh_bundle() as root:
        write_json(root / "imagery" / "scene.json", item)
        bundle = read_bundle(root)
        assert bundle.scenes == []
        validate(root)


@FUZZ
@given(doc=json_values)
def test_fuzz_region_yaml_and_geojson_shapes(doc):
    with fresh_bundle() as root:
        (root / "grid" / "nodes.geojson").write_text(json.dumps(doc))
        check(root)
        (root / "region.yaml").write_text(json.dumps({"name": "x", "bbox": BBOX,
                                                      "period": doc}))
        check(root)
