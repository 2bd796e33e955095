"""Prefect wiring of the detect flow: tasks per facility batch, scene or tile, never per facility.

The run itself lives in pipelines/detect/run.py and its stages in pipelines/detect/engine.py;
here the stages become Prefect tasks, so the same run spreads over threads or Dask and shows
in a Prefect server's UI.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NONE
from prefect.runtime import flow_run

from detectors.thermal import ZoneWeights
from pipelines.bundle.imagery import RasterGrid, Scene
from pipelines.bundle.limits import Limits
from pipelines.bundle.reader import RegionBundle, read_bundle
from pipelines.detect.engine import batch_weights, footprint_and_power
from pipelines.detect.features import SceneResult, scene_result
from pipelines.detect.run import run_detect
from pipelines.detect.tiles import TileInput, TileScenes, tile_scenes
from pipelines.orchestration.retry import (
    RETRIES,
    is_transient,
    retry_delays,
    retry_transient,
    settle,
)
from pipelines.settings import DetectSettings

log = logging.getLogger("computewatch")


@task(name="read-bundle", cache_policy=NONE)
def read_task(region: str, assume_utc: bool, limits: Limits) -> RegionBundle:
    """Read and check the region bundle."""
    return read_bundle(region, assume_utc=assume_utc, limits=limits)


@task(name="thermal-weights", cache_policy=NONE)
def weights_task(footprints: gpd.GeoSeries, grid: RasterGrid) -> tuple:
    """Footprint and raw ring coverage of one batch of facilities."""
    return batch_weights(footprints, grid)


@task(name="share-weights", cache_policy=NONE)
def share_task(weights: ZoneWeights) -> ZoneWeights:
    """Hand the weights to the task runner once; scene tasks receive them by reference.

    On Dask they then stay on the cluster instead of travelling with every scene.
    """
    return weights


@task(name="thermal-scene", cache_policy=NONE, retries=RETRIES, retry_jitter_factor=0.5,
      retry_condition_fn=retry_transient)
def scene_task(scene: Scene, grid: RasterGrid, weights: ZoneWeights) -> SceneResult:
    """Read one scene (source I/O: retried on transient errors) and measure every facility."""
    return scene_result(scene, grid, weights)


@task(name="thermal-tile", cache_policy=NONE, retries=RETRIES, retry_jitter_factor=0.5,
      retry_condition_fn=retry_transient)
def tile_task(part: TileInput, grid: RasterGrid, scenes: list[Scene],
              weights: ZoneWeights | None) -> TileScenes:
    """Read one tile of every scene and measure its facilities; weights built where it runs.

    A transient read error fails the task, to be retried; any other is the scene's alone.
    """
    return tile_scenes(part, grid, scenes, weights, reraise=is_transient)


@task(name="footprint-and-power", cache_policy=NONE)
def footprint_power_task(bundle: RegionBundle, thermal: object,
                         node_max_distance_m: float) -> tuple:
    """Footprint features, then grid attribution (helped by heat) and load features."""
    return footprint_and_power(bundle, thermal, node_max_distance_m)  # type: ignore[arg-type]


class PrefectStages:
    """The engine's stages as Prefect tasks: batches and scenes go to the task runner.

    Scene reads retry with the backoff the environment asks for when the run starts.
    """

    def __init__(self) -> None:
        self.scene_task = scene_task.with_options(retry_delay_seconds=retry_delays())
        self.tile_task = tile_task.with_options(retry_delay_seconds=retry_delays())

    def read(self, region: str, assume_utc: bool, limits: Limits) -> RegionBundle:
        """Read the bundle in a task."""
        return read_task(region, assume_utc, limits)

    def weights(self, footprints: gpd.GeoSeries, grid: RasterGrid) -> Any:
        """Submit one batch of coverage weights."""
        return weights_task.submit(footprints, grid)

    def share(self, weights: ZoneWeights) -> Any:
        """Submit the weights once, for scenes to receive by reference."""
        return share_task.submit(weights)

    def scene(self, scene: Scene, grid: RasterGrid, weights: Any) -> Any:
        """Submit one scene."""
        return self.scene_task.submit(scene, grid, weights)

    def tile(self, part: TileInput, grid: RasterGrid, scenes: list[Scene],
             weights: ZoneWeights | None) -> Any:
        """Submit one tile of every scene."""
        return self.tile_task.submit(part, grid, scenes, weights)

    def footprint_power(self, bundle: RegionBundle, thermal: pd.DataFrame,
                        node_max_distance_m: float) -> tuple:
        """Footprint and power features in a task."""
        return footprint_power_task(bundle, thermal, node_max_distance_m)

    def settle(self, handle: Any) -> tuple[Any, BaseException | None]:
        """Wait for a submitted task: (result, None) or (None, its exception)."""
        return settle(handle)

    def settle_or_raise(self, handle: Any) -> Any:
        """Wait for a submitted task and return its result (raising its failure)."""
        return handle.result()


@flow(name="detect", log_prints=False, validate_parameters=True)
def detect_flow(region: str, out: str, settings: DetectSettings, assume_utc: bool = False,
                progress: bool = False, evidence: bool = True) -> dict:
    """The detect run (pipelines/detect/run.py) with its stages as Prefect tasks.

    Prefect keeps flow parameters in its database: settings come from
    DetectSettings.for_prefect, their store URL without its password (pipelines/redact.py).
    """
    return run_detect(region, Path(out), settings, assume_utc, progress, evidence,
                      PrefectStages(), str(flow_run.get_id() or "local"))
