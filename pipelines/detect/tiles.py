"""The thermal stage in tiles: each scene read window by window, the same numbers as whole.

A tile is a core of the working grid plus a halo as wide as a background ring reaches (the
ring's outer radius, the largest footprint and two ring blocks). A facility belongs to the
tile whose core holds its centroid; its weights are built on the tile's window, whose open
ground excludes every footprint touching the window. Cores start on the ring's block grid
and the scene's background samples are taken from the cores only, so every sum runs over
the same pixels in the same order as on the whole grid: the results are identical, not
close (tests/detect/test_tiles.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine

from detectors.thermal import (
    BACKGROUND_STRIDE,
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


@dataclass(frozen=True)
class TiledWeights:
    """Zone weights per tile, for scenes read tile by tile."""

    tiles: list[Tile]
    weights: list[ZoneWeights | None]
    facilities: int


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


def tile_weights(footprints: gpd.GeoSeries, grid: RasterGrid, tile: Tile
                 ) -> ZoneWeights | None:
    """The weights of a tile's own facilities on its window; open ground from every footprint.

    None for a tile with no facility of its own.
    """
    if not len(tile.owned):
        return None
    t = grid.transform @ Affine.translation(tile.cols.start, tile.rows.start)
    shape = (tile.rows.stop - tile.rows.start, tile.cols.stop - tile.cols.start)
    x0, y1 = t.c, t.f
    box = shapely.box(x0, y1 - shape[0] * t.a, x0 + shape[1] * t.a, y1)
    touching = footprints[footprints.intersects(box)]
    return combine_weights([batch_coverage(footprints.iloc[tile.owned], t, shape)], shape,
                           background=open_ground(touching, t, shape))


def tiled_weights(footprints: gpd.GeoSeries, grid: RasterGrid, tile_pixels: int
                  ) -> TiledWeights:
    """Every tile's weights."""
    tiles = plan_tiles(footprints, grid, tile_pixels)
    return TiledWeights(tiles, [tile_weights(footprints, grid, t) for t in tiles],
                        len(footprints))


def tiled_scene(scene: Scene, grid: RasterGrid, weights: TiledWeights
                ) -> tuple[np.ndarray, np.ndarray, float]:
    """ΔT and hot spot of every facility and the scene's background, reading tile by tile."""
    delta = np.full(weights.facilities, np.nan)
    hot = np.full(weights.facilities, np.nan)
    samples = []
    for tile, w in zip(weights.tiles, weights.weights):
        ((kelvin, usable),) = scene.read_windows(grid, [(tile.rows, tile.cols)])
        if w is not None:
            stats = scene_stats(w, kelvin, usable)
            delta[tile.owned] = stats["delta_k"].to_numpy()
            hot[tile.owned] = stats["hotspot_k"].to_numpy()
        samples.append(background_samples(kelvin[tile.core_rows, tile.core_cols],
                                          usable[tile.core_rows, tile.core_cols]))
    return delta, hot, background_from_samples(np.concatenate(samples))
