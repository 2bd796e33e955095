"""The thermal stage in tiles: each scene read window by window, the same numbers as whole.

A tile is a core of the working grid plus a halo as wide as a background ring reaches (the
ring's outer radius, the largest footprint and two ring blocks). A facility belongs to the
tile whose core holds its centroid; its weights are built on the tile's window, whose open
ground excludes every footprint touching the window. Cores start on the ring's block grid
and the scene's background samples are taken from the cores only, so every sum runs over
the same pixels in the same order as on the whole grid: the results are identical, not
close (tests/detect/test_tiles.py).

A tile is a task of its own (tile_scenes): it reads its window of every new scene and builds
its weights where it runs, so a cluster's workers share the region without any of them
holding a whole scene or every footprint's weights; merge_scene puts each scene together.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine

from detectors.thermal import (
    BACKGROUND_STRIDE,
    FACILITY_STATS,
    RING_BLOCK,
    RING_OUTER_M,
    ZoneWeights,
    background_from_samples,
    background_samples,
    batch_coverage,
    combine_weights,
    open_ground,
    scene_stats,
)
from pipelines.bundle.imagery import RasterGrid, Scene
from pipelines.errors import UsageError


@dataclass(frozen=True)
class Tile:
    """A window of the working grid, its core within it, and the facilities it computes."""

    rows: slice
    cols: slice
    core_rows: slice
    core_cols: slice
    owned: np.ndarray


def halo_pixels(footprints: gpd.GeoSeries, resolution: float) -> int:
    """How far a ring reaches beyond a core, in pixels, rounded up to whole ring blocks."""
    b = footprints.bounds
    extent = float(np.nanmax(np.maximum(b.maxx - b.minx, b.maxy - b.miny))) if len(b) else 0.0
    reach = RING_OUTER_M + extent + 2 * RING_BLOCK * resolution
    return int(math.ceil(reach / resolution / RING_BLOCK)) * RING_BLOCK


def plan_tiles(footprints: gpd.GeoSeries, grid: RasterGrid, tile_pixels: int) -> list[Tile]:
    """Square cores on the ring's block grid whose windows hold at most tile_pixels each."""
    step = math.lcm(RING_BLOCK, BACKGROUND_STRIDE)
    halo = halo_pixels(footprints, grid.transform.a)
    side = (int(math.isqrt(tile_pixels)) - 2 * halo) // step * step
    if side < step:
        need = (2 * halo + step) ** 2
        raise UsageError(f"limits.tile_pixels {tile_pixels:,} is too small for the background "
                         f"ring's overlap of {halo} pixels on each side: use at least {need:,}")
    res, t = grid.transform.a, grid.transform
    c = footprints.centroid
    col = np.clip(np.floor((c.x.to_numpy() - t.c) / res), 0, grid.width - 1).astype(int)
    row = np.clip(np.floor((t.f - c.y.to_numpy()) / res), 0, grid.height - 1).astype(int)
    tiles = []
    for r0 in range(0, grid.height, side):
        for c0 in range(0, grid.width, side):
            r1, c1 = min(r0 + side, grid.height), min(c0 + side, grid.width)
            owned = np.flatnonzero((row >= r0) & (row < r1) & (col >= c0) & (col < c1))
            if not len(owned):  # read for the scene's background samples only: no halo
                tiles.append(Tile(slice(r0, r1), slice(c0, c1), slice(0, r1 - r0),
                                  slice(0, c1 - c0), owned))
                continue
            w0, w1 = max(0, r0 - halo), min(grid.height, r1 + halo)
            v0, v1 = max(0, c0 - halo), min(grid.width, c1 + halo)
            tiles.append(Tile(slice(w0, w1), slice(v0, v1), slice(r0 - w0, r1 - w0),
                              slice(c0 - v0, c1 - v0), owned))
    return tiles


@dataclass(frozen=True)
class TileInput:
    """What one tile's task needs: its window and the footprints it measures or masks.

    touching holds every footprint touching the window, kept out of its open ground.
    """

    tile: Tile
    owned: gpd.GeoSeries
    touching: gpd.GeoSeries


@dataclass(frozen=True)
class TileScene:
    """A tile's part of one scene: its facilities' FACILITY_STATS, its core's samples.

    stats is None for a tile with no facility of its own.
    """

    stats: tuple[np.ndarray, ...] | None
    samples: np.ndarray


@dataclass
class TileScenes:
    """A tile's part of several scenes, and the weights it measured them with.

    Per scene, its part, or the error reading it failed with.
    """

    weights: ZoneWeights | None
    scenes: list[TileScene | Exception]


def tile_inputs(footprints: gpd.GeoSeries, grid: RasterGrid, tiles: list[Tile]
                ) -> list[TileInput]:
    """Each tile with only the footprints its task needs, so a cluster ships no more."""
    parts = []
    for tile in tiles:
        owned = footprints.iloc[tile.owned]
        if not len(tile.owned):
            parts.append(TileInput(tile, owned, owned))
            continue
        t, shape = _window(grid, tile)
        box = shapely.box(t.c, t.f - shape[0] * t.a, t.c + shape[1] * t.a, t.f)
        near = np.sort(footprints.sindex.query(box, predicate="intersects"))
        parts.append(TileInput(tile, owned, footprints.iloc[near]))
    return parts


def _window(grid: RasterGrid, tile: Tile) -> tuple[Affine, tuple[int, int]]:
    t = grid.transform @ Affine.translation(tile.cols.start, tile.rows.start)
    return t, (tile.rows.stop - tile.rows.start, tile.cols.stop - tile.cols.start)


def tile_weights(part: TileInput, grid: RasterGrid) -> ZoneWeights | None:
    """The weights of a tile's own facilities on its window; open ground from every footprint.

    None for a tile with no facility of its own.
    """
    if not len(part.owned):
        return None
    t, shape = _window(grid, part.tile)
    return combine_weights([batch_coverage(part.owned, t, shape)], shape,
                           background=open_ground(part.touching, t, shape))


def tile_scenes(part: TileInput, grid: RasterGrid, scenes: list[Scene],
                weights: ZoneWeights | None = None,
                reraise: Callable[[Exception], bool] | None = None) -> TileScenes:
    """One tile of every scene: the task a cluster runs, reading only the tile's windows.

    Weights are built here unless handed in (from an earlier run's cache). A scene that
    cannot be read is recorded and the next one read, as a failed scene task would be;
    reraise picks errors to raise instead, for the task runner to retry the tile.
    """
    w = weights if weights is not None else tile_weights(part, grid)
    tile = part.tile
    out = TileScenes(w, [])
    for scene in scenes:
        try:
            ((kelvin, usable),) = scene.read_windows(grid, [(tile.rows, tile.cols)])
            stats = scene_stats(w, kelvin, usable) if w is not None else None
            samples = background_samples(kelvin[tile.core_rows, tile.core_cols],
                                         usable[tile.core_rows, tile.core_cols])
        except Exception as exc:  # noqa: BLE001 - one unreadable scene, as a failed task
            if reraise is not None and reraise(exc):
                raise
            out.scenes.append(exc)
            continue
        out.scenes.append(TileScene(None if stats is None else
                                    tuple(stats[c].to_numpy() for c in FACILITY_STATS), samples))
    return out


def merge_scene(parts: list[TileInput], outs: list[TileScenes], i: int, facilities: int
                ) -> tuple[np.ndarray | float, ...] | Exception:
    """Scene i whole again, or the first error a tile met reading it.

    Every facility's FACILITY_STATS in order, then the scene's background from the cores'
    samples in tile order (the whole grid's order).
    """
    whole = [np.full(facilities, np.nan) for _ in FACILITY_STATS]
    samples = []
    for part, out in zip(parts, outs):
        got = out.scenes[i]
        if isinstance(got, Exception):
            return got
        if got.stats is not None:
            for merged, values in zip(whole, got.stats):
                merged[part.tile.owned] = values
        samples.append(got.samples)
    return (*whole, background_from_samples(np.concatenate(samples)))
