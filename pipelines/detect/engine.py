"""The detect engine: every stage of a run from bundle to scored candidates, no Prefect.

One feature path for detection, training and evaluation: `DetectRun` computes evidence and
scores through a `Stages` object that decides how work runs. `LocalStages` runs it in this
process (training, the model card, tests); pipelines/orchestration/flows.py hands in Prefect
tasks so the same stages spread over threads or Dask. Failed scenes are counted and skipped
the same way whichever runs them.

Runs are incremental: every stage result is cached under a key made of the bundle's file
hashes, the code fingerprint, the model checksum and the options (pipelines/cache.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from detectors.thermal import ZoneWeights, batch_coverage, combine_weights
from pipelines.bundle.imagery import RasterGrid, Scene
from pipelines.bundle.keys import BUNDLE_FILES, BundleKeys, bundle_keys
from pipelines.bundle.limits import DEFAULT_LIMITS, Limits
from pipelines.bundle.reader import RegionBundle, read_bundle
from pipelines.cache import StageCache, code_fingerprint, key_of
from pipelines.detect.areas import regional_frame
from pipelines.detect.features import (
    SceneResult,
    assemble,
    facility_batches,
    footprint_table,
    power_table,
    scene_result,
    thermal_table,
)
from pipelines.detect.stages import DetectOptions, Scored, StageClock, score_and_build
from pipelines.detect.tiles import (
    Tile,
    TileInput,
    TileScenes,
    merge_scene,
    plan_tiles,
    tile_inputs,
    tile_scenes,
)
from pipelines.export.candidates import clean
from pipelines.model.store import load_model, model_checksum

log = logging.getLogger("computewatch")
# The code a stage's result depends on. Not the Prefect wiring (orchestration/flows.py): it
# runs these same stages, so editing it must not throw away every cached scene.
DETECT_CODE = ("detectors", "pipelines/bundle", "pipelines/detect",
               "pipelines/export/candidates.py", "pipelines/reference.py")


class NoCache:
    """A cache that keeps nothing: training and evaluation compute every stage afresh."""

    def get(self, stage: str, key: str) -> None:
        """Never a hit."""
        return None

    def put(self, stage: str, key: str, value: Any) -> None:
        """Keep nothing."""

    def prune(self) -> int:
        """Nothing to prune."""
        return 0


class Stages(Protocol):
    """How a run's stages execute: submit returns a handle, settle waits for it."""

    def read(self, region: str, assume_utc: bool, limits: Limits) -> RegionBundle:
        """Read and check the bundle."""

    def weights(self, footprints: gpd.GeoSeries, grid: RasterGrid) -> Any:
        """Start one batch's coverage weights."""

    def share(self, weights: ZoneWeights) -> Any:
        """Make the weights available to scene work once."""

    def scene(self, scene: Scene, grid: RasterGrid, weights: Any) -> Any:
        """Start one scene's measurement."""

    def tile(self, part: TileInput, grid: RasterGrid, scenes: list[Scene],
             weights: ZoneWeights | None) -> Any:
        """Start one tile's measurement of several scenes."""

    def footprint_power(self, bundle: RegionBundle, thermal: pd.DataFrame,
                        node_max_distance_m: float) -> tuple:
        """Footprint and power features."""

    def settle(self, handle: Any) -> tuple[Any, BaseException | None]:
        """(result, None) or (None, the exception) of a started stage."""

    def settle_or_raise(self, handle: Any) -> Any:
        """The result of a started stage, raising its failure."""


def footprint_and_power(bundle: RegionBundle, thermal: pd.DataFrame,
                        node_max_distance_m: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Footprint features, then grid attribution (helped by heat) and load features."""
    footprint = footprint_table(bundle)
    return footprint, power_table(bundle, footprint, thermal, node_max_distance_m)


def batch_weights(footprints: gpd.GeoSeries, grid: RasterGrid) -> tuple:
    """Footprint, raw ring and yard coverage of one batch of facilities."""
    return batch_coverage(footprints, grid.transform, (grid.height, grid.width))


class LocalStages:
    """Every stage in this process, in order; a failure is kept to be settled, as Prefect's."""

    def read(self, region: str, assume_utc: bool, limits: Limits) -> RegionBundle:
        """Read and check the bundle."""
        return read_bundle(region, assume_utc=assume_utc, limits=limits)

    def _run(self, fn: Callable, *args: Any) -> tuple[Any, BaseException | None]:
        try:
            return fn(*args), None
        except Exception as exc:  # noqa: BLE001 - settled by the caller, as a task's state
            return None, exc

    def weights(self, footprints: gpd.GeoSeries, grid: RasterGrid) -> Any:
        """One batch's coverage weights."""
        return self._run(batch_weights, footprints, grid)

    def share(self, weights: ZoneWeights) -> Any:
        """In one process the weights are already shared."""
        return weights

    def scene(self, scene: Scene, grid: RasterGrid, weights: Any) -> Any:
        """Read one scene and measure every facility."""
        return self._run(scene_result, scene, grid, weights)

    def tile(self, part: TileInput, grid: RasterGrid, scenes: list[Scene],
             weights: ZoneWeights | None) -> Any:
        """Read one tile of each scene and measure its facilities."""
        return self._run(tile_scenes, part, grid, scenes, weights)

    def footprint_power(self, bundle: RegionBundle, thermal: pd.DataFrame,
                        node_max_distance_m: float) -> tuple:
        """Footprint and power features."""
        return footprint_and_power(bundle, thermal, node_max_distance_m)

    def settle(self, handle: Any) -> tuple[Any, BaseException | None]:
        """The (result, exception) pair the stage produced."""
        return handle

    def settle_or_raise(self, handle: Any) -> Any:
        """The result, or the stage's exception raised."""
        result, exc = handle
        if exc is not None:
            raise exc
        return result


class ThreadStages(LocalStages):
    """Facility batches and scenes on a bounded pool of threads in this process (no Prefect).

    At most max_workers scenes are decoded at once, as with the flow's thread runner: memory
    grows with the workers, not with the number of scenes (issue 14).
    """

    def __init__(self, max_workers: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="cw-stage")

    def weights(self, footprints: gpd.GeoSeries, grid: RasterGrid) -> Any:
        """Submit one batch's coverage weights."""
        return self.pool.submit(batch_weights, footprints, grid)

    def scene(self, scene: Scene, grid: RasterGrid, weights: Any) -> Any:
        """Submit one scene."""
        return self.pool.submit(scene_result, scene, grid, weights)

    def tile(self, part: TileInput, grid: RasterGrid, scenes: list[Scene],
             weights: ZoneWeights | None) -> Any:
        """Submit one tile of every scene."""
        return self.pool.submit(tile_scenes, part, grid, scenes, weights)

    def settle(self, handle: Any) -> tuple[Any, BaseException | None]:
        """Wait for a submitted stage: (result, None) or (None, its exception)."""
        exc = handle.exception()
        return (None, exc) if exc is not None else (handle.result(), None)

    def settle_or_raise(self, handle: Any) -> Any:
        """Wait for a submitted stage and return its result (raising its failure)."""
        return handle.result()

    def close(self) -> None:
        """Let the pool's threads go."""
        self.pool.shutdown(wait=True, cancel_futures=True)


def _progress(enabled: bool, what: str) -> Progress:
    return Progress(TextColumn(f"thermal {what}"), BarColumn(), MofNCompleteColumn(),
                    console=Console(stderr=True), transient=True, disable=not enabled)


class DetectRun:
    """One detect run's stages, each reusing the cache where its key is already there."""

    def __init__(self, region: str, opts: DetectOptions, assume_utc: bool, progress: bool,
                 cache: StageCache | NoCache, limits: Limits = DEFAULT_LIMITS,
                 stages: Stages | None = None) -> None:
        self.region, self.opts, self.assume_utc = region, opts, assume_utc
        self.limits = limits
        self.progress, self.cache = progress, cache
        self.stages = stages or LocalStages()
        self.clock = StageClock()
        self.scene_counts = {"read": 0, "from_cache": 0, "failed": 0}
        self.keys: BundleKeys = bundle_keys(Path(region))
        self.code = code_fingerprint(DETECT_CODE)
        self.model_sha = model_checksum()
        self._bundle: RegionBundle | None = None

    @property
    def bundle(self) -> RegionBundle:
        """The region bundle, read on first use only (a fully cached run never reads it)."""
        if self._bundle is None:
            t = time.perf_counter()
            self._bundle = self.stages.read(self.region, self.assume_utc, self.limits)
            self.clock.add("read", time.perf_counter() - t)
            b = self._bundle
            log.info("read: %d facilities, %d scenes, %d grid nodes, %d load rows",
                     len(b.facilities), len(b.scenes), len(b.nodes), len(b.load))
        return self._bundle

    def key(self, stage: str, *parts: object) -> str:
        """A stage's cache key: its name, the code, and what it depends on."""
        return key_of(stage, self.code, *parts)

    @cached_property
    def scored_key(self) -> str:
        """Everything that decides the candidates: all inputs, the model, the options."""
        return self.key("scored", self.keys.files, self.keys.scenes, self.model_sha,
                        vars(self.opts), self.assume_utc)

    @cached_property
    def weights_key(self) -> str:
        """The weights depend on the grid (region.yaml), the footprints and the tiling."""
        return self.key("weights", self.keys.of("region.yaml", "facilities.geojson"),
                        self.limits.tile_pixels)

    @cached_property
    def tiles(self) -> list[Tile] | None:
        """The thermal stage's tiles when limits.tile_pixels is smaller than the grid."""
        grid, tile = self.bundle.raster, self.limits.tile_pixels
        if not tile or grid.width * grid.height <= tile:
            return None
        tiles = plan_tiles(self.bundle.facilities.geometry, grid, tile)
        log.info("thermal: %d tiles of at most %s pixels", len(tiles), f"{tile:,}")
        return tiles

    def weights(self) -> ZoneWeights:
        """Zone weights of the whole grid, in facility batches over the task runner."""
        key = self.weights_key
        cached = self.cache.get("weights", key)
        if cached is not None:
            return cached
        geoms, grid = self.bundle.facilities.geometry, self.bundle.raster
        futures = [self.stages.weights(geoms.iloc[s], grid)
                   for s in facility_batches(len(geoms))]
        weights = combine_weights([self.stages.settle_or_raise(f) for f in futures],
                                  (grid.height, grid.width))
        self.cache.put("weights", key, weights)
        return weights

    def measure(self, scenes: list[Scene]) -> list[tuple[Any, BaseException | None]]:
        """(SceneResult, None) or (None, why it failed) for each scene, a task per scene."""
        if not scenes:
            return []
        if self.tiles is not None:
            return self.measure_tiles(self.tiles, scenes)
        grid = self.bundle.raster
        shared = self.stages.share(self.weights())
        handles = [self.stages.scene(scene, grid, shared) for scene in scenes]
        done = []
        with _progress(self.progress, "scenes") as bar:
            job = bar.add_task("scenes", total=len(handles))
            for handle in handles:
                done.append(self.stages.settle(handle))
                bar.advance(job)
        return done

    def measure_tiles(self, tiles: list[Tile], scenes: list[Scene]
                      ) -> list[tuple[Any, BaseException | None]]:
        """The same, a task per tile: each reads its window of every scene, merged after.

        A tile that fails outright fails every scene it was to read. The tiles' weights are
        cached as a list in tile order (the weights key covers the tiling).
        """
        bundle, grid = self.bundle, self.bundle.raster
        cached: list[ZoneWeights | None] | None = self.cache.get("weights", self.weights_key)
        parts = tile_inputs(bundle.facilities.geometry, grid, tiles)
        handles = [self.stages.tile(part, grid, scenes, None if cached is None else cached[i])
                   for i, part in enumerate(parts)]
        outs: list[TileScenes] = []
        broken: BaseException | None = None
        with _progress(self.progress, "tiles") as bar:
            job = bar.add_task("tiles", total=len(handles))
            for handle in handles:
                out, exc = self.stages.settle(handle)
                broken = broken or exc
                outs.append(out)
                bar.advance(job)
        if broken is not None:
            return [(None, broken)] * len(scenes)
        if cached is None:
            self.cache.put("weights", self.weights_key, [o.weights for o in outs])
        done: list[tuple[Any, BaseException | None]] = []
        for i, scene in enumerate(scenes):
            merged = merge_scene(parts, outs, i, len(bundle.facilities))
            done.append((None, merged) if isinstance(merged, Exception) else
                        (SceneResult(scene.scene_id, scene.acquired, *merged), None))
        return done

    def thermal(self) -> tuple[pd.DataFrame, list[str], bool]:
        """Per-scene statistics (only scenes not measured before are read), then the table."""
        bundle = self.bundle  # read first, on its own clock: the thermal time excludes it
        t = time.perf_counter()
        results: dict[str, SceneResult] = {}
        todo = []
        for scene in bundle.scenes:
            skey = self.key("scene", self.weights_key,
                            self.keys.scenes.get(scene.item_path.name))
            hit = self.cache.get("scene", skey)
            if hit is not None:
                results[skey] = hit
            else:
                todo.append((skey, scene))
        failed = 0
        for (skey, scene), (result, exc) in zip(todo, self.measure([s for _, s in todo])):
            if exc is None:
                results[skey] = result
                self.cache.put("scene", skey, result)
            else:
                failed += 1
                bundle.scene_failed(scene, exc)
        self.scene_counts = {"read": len(todo) - failed, "from_cache": len(results) -
                             (len(todo) - failed), "failed": failed}
        ordered = [results[k] for k in sorted(results, key=lambda k: results[k].acquired)]
        table = thermal_table(bundle, ordered)
        self.clock.add("thermal", time.perf_counter() - t)
        log.info("thermal: %d of %d scenes used (%d read now, %d from cache, %d failed)",
                 len(ordered), len(bundle.scenes), *self.scene_counts.values())
        return table, sorted(results), failed == 0

    def features(self) -> tuple[pd.DataFrame, bool, int]:
        """All evidence per facility; cached on the inputs and the scenes that were used."""
        thermal, scene_keys, complete = self.thermal()
        key = self.key("features", self.keys.of(*BUNDLE_FILES), scene_keys,
                       self.opts.node_max_distance_m, self.assume_utc)
        cached = self.cache.get("features", key)
        if cached is not None:
            log.info("footprint and power: unchanged inputs, taken from cache")
            return cached, complete, len(scene_keys)
        t = time.perf_counter()
        footprint, power = self.stages.footprint_power(self.bundle, thermal,
                                                       self.opts.node_max_distance_m)
        features = assemble(self.bundle, thermal, footprint, power)
        self.cache.put("features", key, features)
        self.clock.add("footprint_power", time.perf_counter() - t)
        log.info("footprint and power: %d campuses, %d facilities with a metered node",
                 features["campus_id"].nunique(), int(features["has_grid"].sum()))
        return features, complete, len(scene_keys)

    def scored(self, run_id: str, started: str) -> tuple[Scored, bool]:
        """The scored candidates, from cache when nothing they depend on changed."""
        cached = self.cache.get("scored", self.scored_key)
        if cached is not None:
            log.info("inputs unchanged since an earlier run: its scored candidates are reused")
            return cached, True
        features, complete, scenes_used = self.features()
        t = time.perf_counter()
        model = load_model()
        bundle = self.bundle
        _, candidates = score_and_build(bundle, features, model, self.opts, run_id, started)
        inputs = features.loc[list(candidates["facility_id"]), model.features]
        counts = {"facilities": len(bundle.facilities), "scenes": len(bundle.scenes),
                  "nodes": len(bundle.nodes), "load_rows": len(bundle.load)}
        result = Scored(candidates, {fid: {k: clean(v) for k, v in row.items()}
                                     for fid, row in inputs.iterrows()},
                        counts, bundle.period, bundle.region.name, bundle.problems,
                        scenes_used, model.version, complete,
                        regional_frame(bundle.nodes, bundle.load, bundle.price,
                                       params=self.opts.regional))
        if complete:
            self.cache.put("scored", self.scored_key, result)
        self.clock.add("score", time.perf_counter() - t)
        log.info("score: %d candidates, %d alerts (model %s)", len(candidates),
                 int(candidates["alert"].sum()) if len(candidates) else 0, model.version)
        return result, False


def region_features(region: str | Path, node_max_distance_m: float | None = None
                    ) -> tuple[RegionBundle, pd.DataFrame]:
    """A bundle and every facility's features through the detect engine, in this process.

    What training and held-out evaluation use, so they see exactly what `detect` sees.
    """
    opts = DetectOptions(0.0, 0.0, None)
    if node_max_distance_m is not None:
        opts.node_max_distance_m = node_max_distance_m
    run = DetectRun(str(region), opts, False, False, NoCache())
    level = log.level
    log.setLevel(max(level, logging.WARNING))  # hundreds of regions: no line per stage
    try:
        features, _, _ = run.features()
    finally:
        log.setLevel(level)
    return run.bundle, features
