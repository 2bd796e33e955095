"""Thermal evidence on small synthetic rasters where the right answer is known."""

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine

from detectors.thermal import (
    MIN_COMMON_ROOFS,
    aggregate_scenes,
    block_sums,
    common_roof_excess,
    scene_background_k,
    scene_stats,
    solar_elevation_sin,
    waste_heat_fit,
    zone_weights,
)

RES = 30.0
SHAPE = (100, 100)
TRANSFORM = Affine(RES, 0, 500_000, 0, -RES, 4_400_000)


def _geoms(*boxes) -> gpd.GeoSeries:
    return gpd.GeoSeries([shapely.box(*b) for b in boxes], crs="EPSG:32618")


def _xy(col: int, row: int) -> tuple[float, float]:
    return 500_000 + col * RES, 4_400_000 - row * RES


def test_hot_footprint_against_ring():
    x0, y1 = _xy(45, 45)
    x1, y0 = _xy(55, 55)
    hot = _geoms((x0, y0, x1, y1))
    kelvin = np.full(SHAPE, 290.0, dtype=np.float32)
    kelvin[45:55, 45:55] = 298.0
    w = zone_weights(hot, TRANSFORM, SHAPE)
    stats = scene_stats(w, kelvin, np.ones(SHAPE, bool))
    assert abs(stats["delta_k"].iloc[0] - 8.0) < 1e-4
    assert abs(stats["fp_max_k"].iloc[0] - 298.0) < 1e-4
    assert stats["fp_clear"].iloc[0] == 1.0



def test_a_hot_open_yard_beside_a_hall_is_its_yard_not_its_roof():
    """Turbines 300 m out on open ground: the hall's yard_k, not its ΔT; 1.2 km out, neither."""
    x0, y1 = _xy(45, 45)
    x1, y0 = _xy(55, 55)
    hall = _geoms((x0, y0, x1, y1))
    w = zone_weights(hall, TRANSFORM, SHAPE)
    kelvin = np.full(SHAPE, 290.0, dtype=np.float32)
    kelvin[45:55, 45:55] = 296.0
    quiet = scene_stats(w, kelvin, np.ones(SHAPE, bool))
    near, far = kelvin.copy(), kelvin.copy()
    near[44:56, 64:68] = 310.0  # 9 to 12 pixels east of the hall's edge: 270 to 390 m
    far[44:56, 95:99] = 310.0   # 40 pixels east: beyond the yard's 600 m
    with_yard = scene_stats(w, near, np.ones(SHAPE, bool))
    beyond = scene_stats(w, far, np.ones(SHAPE, bool))
    assert abs(quiet["yard_k"].iloc[0]) < 1e-4
    assert with_yard["yard_k"].iloc[0] > 10.0
    assert abs(with_yard["delta_k"].iloc[0] - quiet["delta_k"].iloc[0]) < 0.5
    assert beyond["yard_k"].iloc[0] < 1.0
    agg = aggregate_scenes(np.array([[6.0, 6.0]]), np.array([[6.0, 6.0]]),
                           np.array([280.0, 290.0]), yards=np.array([[12.0, 14.0]]))
    assert agg["thermal_yard_k"].iloc[0] == 13.0


def test_the_yards_hot_share_tells_a_process_area_from_a_turbine_yard():
    """Turbines on a hectare of the yard against process units over much of it, a kelvin
    warmer than the hall's roof: both yards are hot at their hottest block, only the process
    area covers the yard; the hall's own warm air, cooler than its roof, does not count."""
    x0, y1 = _xy(45, 45)
    x1, y0 = _xy(55, 55)
    w = zone_weights(_geoms((x0, y0, x1, y1)), TRANSFORM, SHAPE)
    kelvin = np.full(SHAPE, 290.0, dtype=np.float32)
    kelvin[45:55, 45:55] = 296.0
    turbines, process = kelvin.copy(), kelvin.copy()
    turbines[48:52, 64:68] = 310.0   # 120 m square, 270 to 390 m east of the hall
    process[30:70, 58:75] = 297.0    # 40 x 17 pixels (61 ha) from 90 m east of the hall
    halo = kelvin.copy()
    halo[40:60, 40:60] = np.maximum(halo[40:60, 40:60], 294.0)  # 150 m of warm air around it
    quiet, small, large, warm_air = (scene_stats(w, k, np.ones(SHAPE, bool))
                                     for k in (kelvin, turbines, process, halo))
    assert quiet["yard_hot_share"].iloc[0] == 0.0
    assert warm_air["yard_hot_share"].iloc[0] == 0.0
    assert small["yard_k"].iloc[0] > 10.0 and small["yard_hot_share"].iloc[0] < 0.05
    assert large["yard_hot_share"].iloc[0] > 0.15
    agg = aggregate_scenes(np.array([[6.0, 6.0, 6.0]]), np.array([[6.0, 6.0, 6.0]]),
                           np.array([280.0, 285.0, 290.0]), yard_hot=np.array([[0.1, 0.3, np.nan]]))
    assert abs(agg["thermal_yard_hot_share"].iloc[0] - 0.2) < 1e-9


def test_ring_excludes_other_footprints_and_cloud_blanks_scene():
    a = _xy(40, 40) + _xy(50, 50)
    b = _xy(60, 40) + _xy(70, 50)  # a second hot building inside A's ring
    geoms = _geoms((a[0], a[3], a[2], a[1]), (b[0], b[3], b[2], b[1]))
    kelvin = np.full(SHAPE, 290.0, dtype=np.float32)
    kelvin[40:50, 40:50] = 295.0
    kelvin[40:50, 60:70] = 320.0
    w = zone_weights(geoms, TRANSFORM, SHAPE)
    stats = scene_stats(w, kelvin, np.ones(SHAPE, bool))
    assert abs(stats["delta_k"].iloc[0] - 5.0) < 1e-4  # B's roof is not A's background
    cloudy = np.ones(SHAPE, bool)
    cloudy[38:52, 38:52] = False
    stats = scene_stats(w, kelvin, cloudy)
    assert np.isnan(stats["delta_k"].iloc[0])
    assert stats["fp_clear"].iloc[0] == 0.0


def test_block_sums_pad_the_edges_with_zeros():
    values = np.arange(1, 31, dtype=np.float64)  # a 5 x 6 grid
    sums = block_sums(values, (5, 6), 4)
    grid = values.reshape(5, 6)
    assert sums.tolist() == [grid[:4, :4].sum(), grid[:4, 4:].sum(), grid[4:, :4].sum(),
                             grid[4:, 4:].sum()]
    assert block_sums(values, (5, 6), 1).tolist() == values.tolist()


def test_the_block_ring_agrees_with_the_exact_ring_within_sensor_noise():
    """A background warming 3 K across the grid with 0.5 K pixel noise, a cloud bank and
    other hot roofs: the 120 m block ring's mean differs from the per-pixel ring's by far
    less than Landsat's 0.25 to 1 K surface temperature uncertainty."""
    rng = np.random.default_rng(3)
    rows, cols = np.mgrid[0:SHAPE[0], 0:SHAPE[1]]
    kelvin = (290 + 0.03 * cols + 0.01 * rows + rng.normal(0, 0.5, SHAPE)).astype(np.float32)
    boxes = []
    for r, c in ((45, 45), (20, 30), (60, 70), (75, 20), (48, 58)):
        kelvin[r:r + 6, c:c + 8] += 12.0
        x0, y1 = _xy(c, r)
        boxes.append((x0 + 7, y1 - 6 * RES + 4, x0 + 8 * RES - 3, y1 - 5))
    usable = np.ones(SHAPE, bool)
    usable[:, 85:] = False  # cloud over the east of the grid
    geoms = _geoms(*boxes)
    exact = scene_stats(zone_weights(geoms, TRANSFORM, SHAPE, ring_block=1), kelvin, usable)
    block = scene_stats(zone_weights(geoms, TRANSFORM, SHAPE, ring_block=4), kelvin, usable)
    assert np.allclose(exact["fp_mean_k"], block["fp_mean_k"])
    gap = np.abs(exact["ring_mean_k"] - block["ring_mean_k"])
    assert gap.max() < 0.1, gap.tolist()
    assert np.abs(exact["ring_clear"] - block["ring_clear"]).max() < 0.05
    assert (exact["ring_mean_k"] < 294).all()  # no hot roof leaks into any ring


def test_partial_pixel_coverage_is_weighted():
    x0, y1 = _xy(50, 50)
    half = _geoms((x0, y1 - RES, x0 + RES * 1.5, y1))  # one full pixel and half of the next
    kelvin = np.full(SHAPE, 290.0, dtype=np.float32)
    kelvin[50, 50], kelvin[50, 51] = 300.0, 303.0
    stats = scene_stats(zone_weights(half, TRANSFORM, SHAPE), kelvin, np.ones(SHAPE, bool))
    assert abs(stats["fp_mean_k"].iloc[0] - (300 + 0.5 * 303) / 1.5) < 1e-3


def test_cold_season_uses_coldest_third_of_scenes():
    deltas = np.array([[6.0, 6.5, 7.0, 12.0, 14.0, 13.0], [0.0, 0.5, 0.2, 9.0, 10.0, 8.0]])
    background = np.array([270.0, 272.0, 271.0, 300.0, 305.0, 302.0])
    agg = aggregate_scenes(deltas, deltas + 2, background)
    assert agg["thermal_cold_season_delta_k"].tolist() == [6.5, 0.1]  # scenes 0 and 2
    assert agg["thermal_warm_season_delta_k"].tolist() == [13.5, 9.0]  # scenes 4 and 5
    assert agg["thermal_scenes_used"].tolist() == [6, 6]
    assert agg["thermal_persistence"].tolist() == [1.0, 0.5]


def test_cold_season_is_the_facilitys_own_coldest_clear_scenes():
    """A facility cloudy in the region's coldest scenes still has a cold season of its own."""
    nan = np.nan
    deltas = np.array([[nan, nan, 8.0, 9.0, 15.0, 16.0], [3.0, 3.5, 4.0, 5.0, 9.0, 10.0]])
    background = np.array([260.0, 262.0, 275.0, 280.0, 300.0, 302.0])
    agg = aggregate_scenes(deltas, deltas, background)
    assert agg["thermal_cold_season_delta_k"].tolist() == [8.5, 3.25]
    assert agg["thermal_warm_season_delta_k"].tolist() == [15.5, 9.5]


def test_no_clear_scene_gives_nulls_not_zeros():
    deltas = np.full((2, 3), np.nan)
    agg = aggregate_scenes(deltas, deltas, np.array([280.0, 281.0, np.nan]))
    assert agg["thermal_delta_k"].isna().all()
    assert agg["thermal_persistence"].isna().all()
    assert agg["thermal_scenes_used"].tolist() == [0, 0]


def test_background_needs_enough_clear_pixels():
    k = np.full(SHAPE, 280.0, dtype=np.float32)
    assert scene_background_k(k, np.ones(SHAPE, bool)) == 280.0
    assert np.isnan(scene_background_k(k, np.zeros(SHAPE, bool)))


def test_waste_heat_separates_from_sun_heated_roof():
    sun = np.array([0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    roof = 10 * sun  # dark roof: hot only in sun
    hall = 5 + 4 * sun  # a running load plus some sun
    clouded = hall.copy()
    clouded[[0, 2, 4]] = np.nan
    waste, slope = waste_heat_fit(np.vstack([roof, hall, clouded]), sun)
    assert np.allclose(waste[:2], [0.0, 5.0]) and np.allclose(slope[:2], [10.0, 4.0])
    assert np.isnan(waste[2])  # three clear scenes are too few for a fit


def test_own_heat_is_what_a_roof_holds_above_the_regions_roofs():
    """Forty sunlit roofs whose excess follows each scene's irradiance and wind, not only the
    sun's elevation, and one hall with 10 K of its own: the fit against the sun reads heat
    into plain roofs; the fit against the scene's common roof excess does not."""
    rng = np.random.default_rng(3)
    sun = np.linspace(0.5, 0.9, 12)
    gain = rng.uniform(4.0, 8.0, 12)  # per scene, independent of the sun's elevation
    albedo_share = rng.uniform(0.2, 1.0, 40)
    roofs = albedo_share[:, None] * gain[None, :]
    hall = 10.0 + 0.3 * gain
    deltas = np.vstack([roofs, hall])
    agg = aggregate_scenes(deltas, deltas, np.linspace(275.0, 295.0, 12), sun)
    own = agg["thermal_own_heat_k"].to_numpy()
    assert np.allclose(own[:40], 0.0, atol=1e-9) and abs(own[40] - 10.0) < 1e-9
    assert np.abs(agg["thermal_waste_k"].to_numpy()[:40]).max() > 1.0


def test_own_heat_needs_enough_roofs_in_a_scene():
    deltas = np.random.default_rng(0).uniform(0.0, 5.0, (MIN_COMMON_ROOFS - 1, 6))
    assert np.isnan(common_roof_excess(deltas)).all()
    agg = aggregate_scenes(deltas, deltas, np.arange(6.0), np.linspace(0.4, 0.9, 6))
    assert agg["thermal_own_heat_k"].isna().all()


def test_sun_is_higher_in_summer_noon():
    import pandas as pd

    t = pd.DatetimeIndex(["2025-06-21T17:00Z", "2025-12-21T17:00Z", "2025-06-21T05:00Z"])
    s = solar_elevation_sin(39.0, -77.5, t)
    assert s[0] > 0.9 and 0.3 < s[1] < 0.5 and s[2] == 0.0
