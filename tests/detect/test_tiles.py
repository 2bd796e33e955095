"""The thermal stage read tile by tile gives the same numbers as whole scenes, exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from detectors.thermal import RING_BLOCK, zone_weights
from pipelines.bundle.reader import read_bundle
from pipelines.detect.features import scene_result
from pipelines.detect.tiles import plan_tiles, tiled_weights
from pipelines.errors import UsageError

from helpers import DEMO, copy_demo, four_tiles


def test_tiles_own_every_facility_once_and_refuse_a_tile_smaller_than_the_ring():
    bundle = read_bundle(DEMO)
    geoms, grid = bundle.facilities.geometry, bundle.raster
    tiles = plan_tiles(geoms, grid, four_tiles(bundle))
    assert len(tiles) == 4
    owned = np.concatenate([t.owned for t in tiles])
    assert sorted(owned.tolist()) == list(range(len(geoms)))
    assert all(t.core_rows.start % RING_BLOCK == 0 for t in tiles)
    with pytest.raises(UsageError, match="too small for the background ring"):
        plan_tiles(geoms, grid, 10_000)


def test_every_scene_read_in_four_tiles_gives_the_whole_scenes_numbers_exactly():
    bundle = read_bundle(DEMO)
    geoms, grid = bundle.facilities.geometry, bundle.raster
    whole = zone_weights(geoms, grid.transform, (grid.height, grid.width))
    tiled = tiled_weights(geoms, grid, four_tiles(bundle))
    assert len(tiled.tiles) == 4
    for scene in bundle.scenes:
        a, b = scene_result(scene, grid, whole), scene_result(scene, grid, tiled)
        assert np.array_equal(a.delta_k, b.delta_k, equal_nan=True), scene.scene_id
        assert np.array_equal(a.hotspot_k, b.hotspot_k, equal_nan=True), scene.scene_id
        assert a.background_k == b.background_k or (np.isnan(a.background_k)
                                                     and np.isnan(b.background_k))
    assert np.isfinite(a.delta_k).sum() > 10  # the comparison covered real numbers


def test_detect_in_tiles_exports_the_same_candidates(tmp_path, monkeypatch):
    from pipelines.detect.run import run_detect
    from pipelines.settings import load_config

    region = copy_demo(tmp_path / "demo")
    base = load_config().defaults.model_copy(update={"alert_store": ""})
    tile = four_tiles(read_bundle(region))
    tiled = base.model_copy(update={"limits": base.limits.model_copy(
        update={"tile_pixels": tile})})
    monkeypatch.setenv("COMPUTEWATCH_CACHE_DIR", str(tmp_path / "cache-whole"))
    run_detect(str(region), tmp_path / "whole", base)
    monkeypatch.setenv("COMPUTEWATCH_CACHE_DIR", str(tmp_path / "cache-tiled"))
    report = run_detect(str(region), tmp_path / "tiled", tiled)
    assert report["stage_seconds"]["thermal"] > 0  # computed here, in tiles, not reused

    def features(out):
        data = json.loads((out / "candidates.geojson").read_text())["features"]
        for f in data:
            for key in ("first_seen", "last_seen"):
                f["properties"].pop(key)
        return data

    assert features(tmp_path / "whole") == features(tmp_path / "tiled")
    assert report["counts"]["alerts"] >= 1
