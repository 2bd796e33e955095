"""The thermal stage read tile by tile gives the same numbers as whole scenes, exactly."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from detectors.thermal import RING_BLOCK, zone_weights
from pipelines.bundle.reader import read_bundle
from pipelines.detect.features import scene_result
from pipelines.detect.tiles import merge_scene, plan_tiles, tile_inputs, tile_scenes
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


def _tiles(bundle):
    geoms, grid = bundle.facilities.geometry, bundle.raster
    return tile_inputs(geoms, grid, plan_tiles(geoms, grid, four_tiles(bundle)))


def test_every_scene_read_in_four_tile_tasks_gives_the_whole_scenes_numbers_exactly():
    bundle = read_bundle(DEMO)
    geoms, grid = bundle.facilities.geometry, bundle.raster
    whole = zone_weights(geoms, grid.transform, (grid.height, grid.width))
    parts = _tiles(bundle)
    assert len(parts) == 4
    outs = [tile_scenes(part, grid, bundle.scenes) for part in parts]
    for i, scene in enumerate(bundle.scenes):
        a = scene_result(scene, grid, whole)
        delta, hot, yard, yard_hot, background = merge_scene(parts, outs, i, len(geoms))
        assert np.array_equal(a.delta_k, delta, equal_nan=True), scene.scene_id
        assert np.array_equal(a.hotspot_k, hot, equal_nan=True), scene.scene_id
        assert np.array_equal(a.yard_k, yard, equal_nan=True), scene.scene_id
        assert np.array_equal(a.yard_hot_share, yard_hot, equal_nan=True), scene.scene_id
        assert a.background_k == background or (np.isnan(a.background_k)
                                                and np.isnan(background))
    assert np.isfinite(a.delta_k).sum() > 10  # the comparison covered real numbers
    assert np.isfinite(a.yard_k).sum() > 10
    # Weights handed back in (an earlier run's, from the cache) give the same numbers.
    again = tile_scenes(parts[0], grid, bundle.scenes[:1], outs[0].weights)
    assert np.array_equal(again.scenes[0].stats[0], outs[0].scenes[0].stats[0], equal_nan=True)


class _Unreadable:
    scene_id = "broken"

    def read_windows(self, grid, windows):
        raise OSError("TIFFReadEncodedTile() failed")


def test_an_unreadable_scene_fails_alone_unless_the_runner_should_retry_the_tile():
    bundle = read_bundle(DEMO)
    grid = bundle.raster
    parts = _tiles(bundle)
    scenes = [bundle.scenes[0], _Unreadable(), bundle.scenes[1]]
    outs = [tile_scenes(part, grid, scenes) for part in parts]
    assert isinstance(merge_scene(parts, outs, 1, len(bundle.facilities)), OSError)
    for i in (0, 2):
        delta, *_ = merge_scene(parts, outs, i, len(bundle.facilities))
        assert np.isfinite(delta).any()
    with pytest.raises(OSError, match="TIFFReadEncodedTile"):
        tile_scenes(parts[0], grid, scenes, reraise=lambda exc: True)


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
    # Scenes new to a later run are read by tiles handed their weights from the cache.
    cache = tmp_path / "cache-tiled"
    assert list((cache / "weights").glob("*.pkl"))
    for stage in ("scene", "features", "scored"):
        shutil.rmtree(cache / stage)
    again = run_detect(str(region), tmp_path / "again", tiled)
    assert again["scenes_this_run"]["read"] == report["scenes_this_run"]["read"] > 0
    assert features(tmp_path / "again") == features(tmp_path / "whole")
