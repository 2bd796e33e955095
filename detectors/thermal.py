"""Thermal evidence: coverage-weighted roof temperature against a background ring, per scene.

Weights are sparse matrices (facility x pixel) built once per grid, so each scene is a
handful of sparse products over all facilities at once: one pass over its pixels.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.raster import NumPyRasterSource

if TYPE_CHECKING:  # scipy.sparse takes 0.15 s to load: a re-run served from cache needs none
    from scipy import sparse

# Per-scene ΔT counts as a clear anomaly above 2 K: the mean data-centre heat island
# (Marinoni et al., arXiv 2603.20897) and well above the 0.25 to 1 K ST_QA uncertainty.
ANOMALY_K = 2.0
# A roof less than 1 K above its surroundings in the cold season is within Landsat's surface
# temperature uncertainty (ST_QA: 0.25 to 1 K, USGS LSDS-1619): no evidence of heat at all.
NOISE_K = 1.0
MIN_FOOTPRINT_CLEAR = 0.6  # share of a footprint's weight that must be clear to use a scene
MIN_RING_CLEAR = 0.3
# The background ring, 300 to 800 m out from the footprint (the ring the shipped model was
# trained with): beyond a campus's own yard and cooling plant, and beyond the 100 m TIRS
# footprint whose blur spreads a roof's heat (USGS LSDS-1574).
RING_INNER_M, RING_OUTER_M = 300.0, 800.0
# The ring (about 2.7 km2 around a 100 m hall) is weighted on blocks of 4 x 4 working
# pixels (120 m): TIRS resolves about 100 m (USGS LSDS-1574), so a
# finer ring adds pixels, not information. Pixels under any footprint are still left out one
# by one (block sums of the masked scene); only the ring's edges move, by at most a block.
# 1 gives the exact per-pixel ring (docs/evaluation.md compares the two).
RING_BLOCK = 4
# A scene's common roof excess is the median over at least this many buildings seen clear in
# it: fewer, and one hot hall moves the median (simulator assumption; regions hold thousands).
MIN_COMMON_ROOFS = 20
# The yard: open ground 100 to 600 m out from the footprint, where a campus off the grid runs
# its own generation. Behind-the-meter turbines reject 1.5 to 2 W of heat per W delivered
# (simple-cycle efficiency 33 to 40%, GE LM2500XPRESS and Solar Titan 130 data sheets) and
# stand beside the halls they feed (xAI Colossus, Memphis: about 35 mobile turbines in the
# yard, Southern Environmental Law Center thermal survey, 2025). It starts beyond the 100 m
# TIRS footprint, so the roof's own blur does not count as its yard (USGS LSDS-1574).
YARD_INNER_M, YARD_OUTER_M = 100.0, 600.0
# How much of that open ground runs at least as warm as the roof (and ANOMALY_K above the
# ring) measures heat made outdoors: a hall's own heat leaves at the hall, and the warm air
# around it cools with distance, while a refinery's process units cover 10 to 100 ha
# (reference table, refinery_process_area_m2) of a yard of about 130 ha around a 100 m hall.
# The turbines that power a 100 MW campus stand on 2 to 3 ha of it (xAI Colossus, above).


@dataclass(frozen=True)
class ZoneWeights:
    """Sparse coverage weights of footprints (working pixels), rings and yards (blocks).

    background marks the working pixels under no footprint: the only ones a ring averages.
    """

    footprint: sparse.csr_matrix
    ring: sparse.csr_matrix
    yard: sparse.csr_matrix
    footprint_total: np.ndarray
    ring_total: np.ndarray
    background: np.ndarray
    shape: tuple[int, int]
    ring_block: int


def block_sums(values: np.ndarray, shape: tuple[int, int], block: int) -> np.ndarray:
    """Sums of a flat grid (numbers or booleans) over block x block tiles, as float64, flat.

    Edge tiles are padded with zeros. Each row is summed along the tile width first (into
    float64), then the rows down each tile, one strided slice at a time, in the same order
    as a reduction: numpy's reduce over an axis of four costs two to four times as much.
    """
    grid = values.reshape(shape)
    if grid.dtype == np.bool_:
        grid = grid.view(np.uint8)
    h, w = shape
    bh, bw = -(-h // block), -(-w // block)
    if (bh * block, bw * block) != shape:
        padded = np.zeros((bh * block, bw * block), dtype=grid.dtype)
        padded[:h, :w] = grid
        grid = padded
    cols = grid.reshape(bh * block, bw, block)
    across = cols[:, :, 0].astype(np.float64)
    for k in range(1, block):
        across += cols[:, :, k]
    rows = across.reshape(bh, block, bw)
    sums: np.ndarray = rows[:, 0].copy()
    for k in range(1, block):
        sums += rows[:, k]
    return sums.ravel()


class _Feature(Feature):  # type: ignore[misc]
    """One geometry handed to exactextract as WKB (its GeoPandas source goes through JSON)."""

    def __init__(self, index: int, wkb: bytes) -> None:
        super().__init__()
        self.index, self.wkb = index, wkb

    def geometry(self) -> bytes:
        return self.wkb

    def get(self, name: str) -> int:
        return self.index

    def fields(self) -> list[str]:
        return ["i"]


class _WkbSource(FeatureSource):  # type: ignore[misc]
    """Geometries for exactextract as WKB: 3.5x faster than a GeoDataFrame, same coverage."""

    def __init__(self, geoms: gpd.GeoSeries) -> None:
        super().__init__()
        self.wkb, self.crs = shapely.to_wkb(geoms.values), geoms.crs

    def count(self) -> int:
        return len(self.wkb)

    def __iter__(self) -> Iterator[_Feature]:
        return (_Feature(i, w) for i, w in enumerate(self.wkb))

    def srs_wkt(self) -> str:
        return str(self.crs.to_wkt())


def _coverage(geoms: gpd.GeoSeries, transform: Affine, shape: tuple[int, int]
              ) -> sparse.csr_matrix:
    """Exact partial-pixel coverage of each geometry as a (geometry x pixel) CSR matrix."""
    from scipy import sparse

    h, w = shape
    x0, y1 = transform.c, transform.f
    raster = NumPyRasterSource(np.zeros((h, w), dtype=np.uint8), xmin=x0,
                               ymin=y1 + transform.e * h, xmax=x0 + transform.a * w, ymax=y1,
                               srs_wkt=geoms.crs.to_wkt())
    res = exact_extract(raster, _WkbSource(geoms), ["cell_id", "coverage"], output="pandas",
                        strategy="feature-sequential")
    lengths = np.array([len(c) for c in res["cell_id"]])
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    cells = np.concatenate(res["cell_id"].to_list()).astype(np.int64) if indptr[-1] else \
        np.zeros(0, np.int64)
    cover = np.concatenate(res["coverage"].to_list()).astype(np.float32) if indptr[-1] else \
        np.zeros(0, np.float32)
    return sparse.csr_matrix((cover, cells, indptr), shape=(len(geoms), h * w))


def batch_coverage(footprints: gpd.GeoSeries, transform: Affine, shape: tuple[int, int],
                   ring_inner_m: float = RING_INNER_M, ring_outer_m: float = RING_OUTER_M,
                   ring_block: int | None = None
                   ) -> tuple[sparse.csr_matrix, sparse.csr_matrix, sparse.csr_matrix]:
    """Footprint coverage (working pixels), ring and yard coverage (blocks) of one batch."""
    block = ring_block or RING_BLOCK
    fp = _coverage(footprints, transform, shape)
    blocks = (-(-shape[0] // block), -(-shape[1] // block))

    def annulus(inner: float, outer: float) -> sparse.csr_matrix:
        zone = footprints.buffer(outer, quad_segs=8).difference(
            footprints.buffer(inner, quad_segs=8))
        return _coverage(gpd.GeoSeries(zone, crs=footprints.crs),
                         transform @ Affine.scale(block), blocks)

    return fp, annulus(ring_inner_m, ring_outer_m), annulus(YARD_INNER_M, YARD_OUTER_M)


def open_ground(footprints: gpd.GeoSeries, transform: Affine, shape: tuple[int, int]
                ) -> np.ndarray:
    """Pixels of a grid under none of the footprints (flat): the only ones a ring averages."""
    return np.asarray(_coverage(footprints, transform, shape).sum(axis=0)).ravel() <= 0


def combine_weights(parts: list[tuple[sparse.csr_matrix, sparse.csr_matrix,
                                      sparse.csr_matrix]],
                    shape: tuple[int, int], ring_block: int | None = None,
                    background: np.ndarray | None = None) -> ZoneWeights:
    """Stack batches in order; pixels under any footprint of any batch leave every ring.

    background, when given, is the open ground of the grid from every footprint touching
    it (a tile's window, where the batches are only the tile's own facilities).
    """
    from scipy import sparse

    block = ring_block or RING_BLOCK
    fp = sparse.vstack([p[0] for p in parts], format="csr")
    ring = sparse.vstack([p[1] for p in parts], format="csr")
    yard = sparse.vstack([p[2] for p in parts], format="csr")
    if background is None:
        background = np.asarray(fp.sum(axis=0)).ravel() <= 0
    ring_total = ring @ block_sums(background, shape, block)
    return ZoneWeights(fp.tocsr(), ring.tocsr(), yard.tocsr(),
                       np.asarray(fp.sum(axis=1)).ravel(), np.asarray(ring_total).ravel(),
                       background, shape, block)


def zone_weights(footprints: gpd.GeoSeries, transform: Affine, shape: tuple[int, int],
                 ring_inner_m: float = RING_INNER_M, ring_outer_m: float = RING_OUTER_M,
                 ring_block: int | None = None) -> ZoneWeights:
    """Footprint and ring weights of all facilities at once."""
    return combine_weights([batch_coverage(footprints, transform, shape, ring_inner_m,
                                           ring_outer_m, ring_block)], shape, ring_block)


def _footprint_sums(weights: ZoneWeights, values: np.ndarray, ok: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clear weight, weighted sum and maximum of each footprint, from its own pixels only.

    Footprints cover a few hundred thousand pixels of a grid of millions: gathering them
    costs far less than whole-grid float64 vectors.
    """
    fp = weights.footprint
    clear = ok[fp.indices]
    v = np.where(clear, values[fp.indices], 0.0).astype(np.float64)
    w = np.where(clear, fp.data, 0.0).astype(np.float64)
    return _row_sums(fp.indptr, w), _row_sums(fp.indptr, w * v), _row_max(fp.indptr, v, 0.0)


def _row_sums(indptr: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row of a CSR matrix, the sum of values given one per stored entry."""
    n = len(indptr) - 1
    sums: np.ndarray = np.bincount(np.repeat(np.arange(n), np.diff(indptr)), weights=values,
                                   minlength=n)
    return sums


def _row_max(indptr: np.ndarray, values: np.ndarray, empty: float) -> np.ndarray:
    """Per row of a CSR matrix, the largest of its non-zeros' values (empty for none)."""
    peak = np.full(len(indptr) - 1, empty)
    filled = np.diff(indptr) > 0
    if filled.any():
        peak[filled] = np.maximum.reduceat(values, indptr[:-1][filled])
    return peak


# The per-facility statistics of one scene that aggregate_scenes combines across scenes.
FACILITY_STATS = ("delta_k", "hotspot_k", "yard_k", "yard_hot_share")


def scene_stats(weights: ZoneWeights, kelvin: np.ndarray, usable: np.ndarray) -> pd.DataFrame:
    """Per facility for one scene: footprint mean and max, ring mean, clear fractions, ΔT.

    yard_k is the hottest mostly clear open block of its yard above the ring mean;
    yard_hot_share the share of its mostly clear open blocks at least as warm as the roof
    and at least ANOMALY_K above the ring.
    """
    values = kelvin.ravel()
    ok = usable.ravel() & np.isfinite(values)
    fp_clear_w, fp_sum, fp_max = _footprint_sums(weights, values, ok)
    open_sky = ok & weights.background
    block = weights.ring_block
    open_n = block_sums(open_sky, weights.shape, block)
    open_sum = block_sums(np.where(open_sky, values, np.float32(0.0)), weights.shape, block)
    ring_clear_w = weights.ring @ open_n
    ring_sum = weights.ring @ open_sum
    with np.errstate(invalid="ignore", divide="ignore"):
        fp_mean = fp_sum / fp_clear_w
        ring_mean = ring_sum / ring_clear_w
        fp_clear = fp_clear_w / weights.footprint_total
        ring_clear = ring_clear_w / weights.ring_total
        block_mean = np.where(open_n >= block * block / 2, open_sum / open_n, -np.inf)
    fp_max = np.where(fp_max > 0, fp_max, np.nan)
    yard_max = _row_max(weights.yard.indptr, block_mean[weights.yard.indices], -np.inf)
    hot_share = _yard_hot_share(weights.yard, block_mean,
                                np.fmax(ring_mean + ANOMALY_K, fp_mean))
    usable_scene = (fp_clear >= MIN_FOOTPRINT_CLEAR) & (ring_clear >= MIN_RING_CLEAR)
    return pd.DataFrame({
        "fp_mean_k": fp_mean, "fp_max_k": fp_max, "ring_mean_k": ring_mean,
        "fp_clear": np.nan_to_num(fp_clear), "ring_clear": np.nan_to_num(ring_clear),
        "delta_k": np.where(usable_scene, fp_mean - ring_mean, np.nan),
        "hotspot_k": np.where(usable_scene, fp_max - ring_mean, np.nan),
        "yard_k": np.where(usable_scene & np.isfinite(yard_max), yard_max - ring_mean,
                           np.nan),
        "yard_hot_share": np.where(usable_scene, hot_share, np.nan)})


def _yard_hot_share(yard: sparse.csr_matrix, block_mean: np.ndarray, floor_k: np.ndarray
                    ) -> np.ndarray:
    """Per facility, the covered share of its yard's open blocks at floor_k or warmer."""
    rows = np.repeat(np.arange(yard.shape[0]), np.diff(yard.indptr))
    value = block_mean[yard.indices]
    seen = np.isfinite(value)
    weight = np.where(seen, yard.data, 0.0)
    hot = seen & (value >= floor_k[rows])
    with np.errstate(invalid="ignore", divide="ignore"):
        share: np.ndarray = _row_sums(yard.indptr, np.where(hot, weight, 0.0)) / \
            _row_sums(yard.indptr, weight)
    return share


# The scene's median is taken on every 4th pixel of every 4th row: a million pixels at state
# size, whose median lies within a few thousandths of a kelvin of the full grid's (it only
# ranks scenes by season), at a sixteenth of the cost.
BACKGROUND_STRIDE = 4


def background_samples(kelvin: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """The clear pixels of every BACKGROUND_STRIDE-th row and column, from the first."""
    k = kelvin[::BACKGROUND_STRIDE, ::BACKGROUND_STRIDE]
    samples: np.ndarray = k[usable[::BACKGROUND_STRIDE, ::BACKGROUND_STRIDE] & np.isfinite(k)]
    return samples


def background_from_samples(samples: np.ndarray) -> float:
    """The scene's background level from its samples (NaN when too few are clear)."""
    return float(np.median(samples)) if samples.size > 1000 // BACKGROUND_STRIDE**2 else np.nan


def scene_background_k(kelvin: np.ndarray, usable: np.ndarray) -> float:
    """Median clear-pixel temperature of a scene: how warm the season was (NaN if none)."""
    return background_from_samples(background_samples(kelvin, usable))


def sun_sin(lat: float, doy: np.ndarray, local_hour: np.ndarray) -> np.ndarray:
    """Sine of the sun's elevation (Cooper's declination; hour angle from local solar time)."""
    decl = np.radians(23.44) * np.sin(2 * np.pi * (284 + doy) / 365)
    hour_angle = np.radians(15 * (local_hour - 12))
    phi = np.radians(lat)
    sine: np.ndarray = np.clip(
        np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(hour_angle), 0, 1)
    return sine


def solar_elevation_sin(lat: float, lon: float, times: pd.DatetimeIndex) -> np.ndarray:
    """Sine of the sun's elevation at UTC times, in local solar time from the longitude."""
    hours = times.hour.to_numpy() + times.minute.to_numpy() / 60 + lon / 15.0
    return sun_sin(lat, times.day_of_year.to_numpy(), hours)


def waste_heat_fit(deltas: np.ndarray, driver: np.ndarray, min_scenes: int = 4
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per facility, ΔT = intercept + slope * driver by least squares over its clear scenes.

    The driver is what warms a sunlit roof in each scene: the sun's elevation, or the
    scene's common roof excess (common_roof_excess). A sun-heated roof's excess grows with
    it and vanishes without it; heat rejected by a running load does not, so the intercept
    estimates that heat.
    """
    m = np.isfinite(deltas) & np.isfinite(driver)[None, :]
    d = np.where(m, deltas, 0.0)
    x = np.where(m, driver[None, :], 0.0)
    n, sx, sy = m.sum(axis=1), x.sum(axis=1), d.sum(axis=1)
    sxx, sxy = (x * x).sum(axis=1), (x * d).sum(axis=1)
    det = n * sxx - sx * sx
    ok = (n >= min_scenes) & (det > 1e-3 * np.maximum(n, 1) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(ok, (n * sxy - sx * sy) / det, np.nan)
        intercept = np.where(ok, (sy - slope * sx) / n, np.nan)
    return intercept, slope


def common_roof_excess(deltas: np.ndarray) -> np.ndarray:
    """Per scene, the median ΔT of the buildings seen clear in it (NaN with too few).

    Sunlit roofs warm together: a scene's irradiance, wind and season move every roof's excess
    at once, so the region's ordinary roofs measure what a roof shows with no heat of its own.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(deltas, axis=0)
    return np.where(np.isfinite(deltas).sum(axis=0) >= MIN_COMMON_ROOFS, median, np.nan)


def _season_masks(used: np.ndarray, background_k: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per facility, its coldest and warmest third of its own clear scenes by background.

    Seasons are taken among the scenes that saw the facility, not the region's scenes: where
    winter scenes are mostly cloud or snow (high latitudes), the region's coldest third may
    hold none of a facility's clear views, and its cold-season heat would be unknown.
    """
    seen = used & np.isfinite(background_k)[None, :]
    key = np.where(seen, background_k[None, :], np.inf)
    rank = np.argsort(np.argsort(key, axis=1, kind="stable"), axis=1, kind="stable")
    n_seen = seen.sum(axis=1)
    third = np.where(n_seen > 0, np.ceil(n_seen / 3), 0)[:, None]
    return seen & (rank < third), seen & (rank >= n_seen[:, None] - third)


def aggregate_scenes(deltas: np.ndarray, hotspots: np.ndarray, background_k: np.ndarray,
                     sun: np.ndarray | None = None, yards: np.ndarray | None = None,
                     yard_hot: np.ndarray | None = None) -> pd.DataFrame:
    """Across scenes (facility x scene arrays): median ΔT, cold- and warm-season ΔT, persistence.

    The yard's is the median of its hottest open block (generation runs whenever the load
    does), and the median share of it running hot. The cold season is the coldest third of a
    facility's clear scenes by their background temperature, so it works in either
    hemisphere and in any climate.
    """
    n_fac = deltas.shape[0]
    used = np.isfinite(deltas)
    n_used = used.sum(axis=1)
    cold, warm = _season_masks(used, background_k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows are expected nulls
        median = np.nanmedian(deltas, axis=1) if deltas.shape[1] else np.full(n_fac, np.nan)
        cold_d = np.nanmedian(np.where(cold, deltas, np.nan), axis=1) if deltas.shape[1] \
            else np.full(n_fac, np.nan)
        warm_d = np.nanmedian(np.where(warm, deltas, np.nan), axis=1) if deltas.shape[1] \
            else np.full(n_fac, np.nan)
        hot = np.nanmax(hotspots, axis=1) if deltas.shape[1] else np.full(n_fac, np.nan)
        yard = np.nanmedian(yards, axis=1) if yards is not None and yards.shape[1] else \
            np.full(n_fac, np.nan)
        yard_share = np.nanmedian(yard_hot, axis=1) if yard_hot is not None and \
            yard_hot.shape[1] else np.full(n_fac, np.nan)
        persistence = np.where(n_used > 0, (np.nan_to_num(deltas, nan=-99) > ANOMALY_K)
                               .sum(axis=1) / np.maximum(n_used, 1), np.nan)
    waste, slope = waste_heat_fit(deltas, sun if sun is not None else
                                  np.full(deltas.shape[1], np.nan))
    own = waste_heat_fit(deltas, common_roof_excess(deltas))[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # An extrapolation to no sun (or no common roof excess) is only trusted within what
        # was observed.
        low = np.minimum(np.nanmin(deltas, axis=1, initial=np.inf), 0)
        high = np.nanmax(deltas, axis=1, initial=-np.inf)
        if deltas.shape[1]:
            waste, own = np.clip(waste, low, high), np.clip(own, low, high)
    return pd.DataFrame({
        "thermal_delta_k": median, "thermal_waste_k": waste, "thermal_solar_slope_k": slope,
        "thermal_own_heat_k": own,
        "thermal_cold_season_delta_k": cold_d,
        "thermal_warm_season_delta_k": warm_d, "thermal_persistence": persistence,
        "thermal_hotspot_k": hot, "thermal_yard_k": yard, "thermal_yard_hot_share": yard_share,
        "thermal_scenes_used": n_used.astype(int),
        "thermal_anomalous_scenes": (np.nan_to_num(deltas, nan=-99) > ANOMALY_K).sum(axis=1)})
