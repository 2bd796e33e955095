"""Load features and node attribution on series whose shape is known."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from detectors.power import attribute_with_shares, campus_heat_k, facility_power, node_features


def given(*args, **kwargs) -> np.ndarray:
    """The campus each substation is given (attribute_with_shares's first answer)."""
    return attribute_with_shares(*args, **kwargs)[0]


TIMES = pd.date_range("2025-01-01", periods=24 * 120, freq="h", tz="UTC")


def _frame(node: str, mw: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"node_id": node, "interval_start": TIMES, "load_mw": mw})


def test_flat_diurnal_and_curtailing_loads():
    hours = np.arange(len(TIMES))
    rng = np.random.default_rng(0)
    price = 40 + 5 * rng.standard_normal(len(TIMES))
    spikes = rng.uniform(size=len(TIMES)) < 0.02
    price[spikes] = 800.0
    flat = 100 + rng.normal(0, 0.5, len(TIMES))
    diurnal = 50 * (1 + 0.2 * np.cos(2 * np.pi * (hours % 24 - 14) / 24))
    miner = np.where(spikes, 5.0, 60.0)
    load = pd.concat([_frame("flat", flat), _frame("day", diurnal), _frame("mine", miner)])
    feats = node_features(load, pd.DataFrame({"interval_start": TIMES, "price": price}),
                          TIMES[-1] + pd.Timedelta(hours=1), utc_offset_h=0.0)
    assert feats.loc["flat", "load_factor"] > 0.97
    assert feats.loc["flat", "diurnal_amplitude"] < 0.03
    assert abs(feats.loc["day", "diurnal_amplitude"] - 0.4) < 0.02
    assert feats.loc["mine", "price_spike_ratio"] < 0.2
    assert abs(feats.loc["flat", "price_spike_ratio"] - 1.0) < 0.02
    assert abs(feats.loc["flat", "node_mean_mw"] - 100) < 0.5


def test_commissioning_steps_are_counted():
    mw = np.where(np.arange(len(TIMES)) < 24 * 60, 40.0, 80.0)
    feats = node_features(_frame("n", mw), None, TIMES[-1], 0.0)
    assert feats.loc["n", "steps_up"] == 1
    assert feats.loc["n", "growth_ratio"] > 1.9
    assert np.isnan(feats.loc["n", "price_response"])


def test_substation_goes_to_the_big_campus_not_the_nearest_shed():
    campus = gpd.GeoSeries([shapely.box(0, 0, 400, 300), shapely.box(650, 0, 680, 30)])
    node = gpd.GeoSeries([shapely.Point(620, 50)])
    got = given(node, campus, campus.area.to_numpy(), max_distance_m=1500)
    assert got.tolist() == [0]
    far = gpd.GeoSeries([shapely.Point(5000, 5000)])
    assert given(far, campus, campus.area.to_numpy(), 1500).tolist() == [-1]


def test_campus_load_shared_by_area():
    nodes = pd.DataFrame({"node_mean_mw": [90.0], "load_factor": [0.95]}, index=["N1"])
    power = facility_power(np.array([0, 0, 1]), np.array([20_000.0, 10_000.0, 5_000.0]),
                           pd.Series([0], index=["N1"]), nodes)
    assert power["mean_mw"].round(6).tolist()[:2] == [60.0, 30.0]
    assert np.isnan(power["mean_mw"].iloc[2])
    assert power["power_density_w_m2"].iloc[0] == 3000.0


def test_job_boundary_dips_are_counted():
    mw = np.full(len(TIMES), 80.0)
    for start in range(24 * 40, len(TIMES), 24 * 10):  # a restart every ten days
        mw[start:start + 3] = 30.0
    feats = node_features(_frame("n", mw), None, TIMES[-1], 0.0)
    assert feats.loc["n", "dips_per_30d"] == pytest.approx(3.0, abs=0.4)
    smooth = 80 * (1 + 0.1 * np.cos(2 * np.pi * np.arange(len(TIMES)) / 24))
    assert node_features(_frame("s", smooth), None, TIMES[-1], 0.0).loc["s",
                                                                         "dips_per_30d"] == 0


def test_hot_campus_beats_a_bigger_sun_heated_warehouse():
    campus = gpd.GeoSeries([shapely.box(0, 0, 120, 120), shapely.box(400, 0, 700, 250)])
    node = gpd.GeoSeries([shapely.Point(260, 60)])
    area = campus.area.to_numpy()
    assert given(node, campus, area, 1500).tolist() == [1]  # area alone: warehouse
    waste = np.array([6.0, 0.1])  # the hall rejects heat, the warehouse only bakes in the sun
    assert given(node, campus, area, 1500, waste).tolist() == [0]


def test_a_load_too_dense_for_a_small_roof_goes_to_the_campus_that_can_hold_it():
    campus = gpd.GeoSeries([shapely.box(0, 0, 40, 40), shapely.box(900, 0, 1600, 600)])
    node = gpd.GeoSeries([shapely.Point(60, 20)])
    area = campus.area.to_numpy()
    waste = np.array([5.0, 5.0])
    assert given(node, campus, area, 1500, waste).tolist() == [0]
    got = given(node, campus, area, 1500, waste, np.array([600.0]), 7000.0)
    assert got.tolist() == [1]  # 600 MW on 1,600 m2 would be 375 kW/m2


def test_a_campus_already_metered_does_not_take_its_neighbours_substation():
    # A large hot campus and, 800 m east, a smaller one whose own substation stands between
    # them: alone, that substation pulls hardest toward the big campus.
    campus = gpd.GeoSeries([shapely.box(0, 0, 500, 400), shapely.box(1300, 0, 1450, 150)])
    area = campus.area.to_numpy()
    waste = np.array([8.0, 6.0])
    own_supply = gpd.GeoSeries([shapely.Point(250, -100)])
    between = gpd.GeoSeries([shapely.Point(900, 75)])
    assert given(between, campus, area, 2000, waste).tolist() == [0]
    both = pd.concat([own_supply, between], ignore_index=True)
    assert given(both, campus, area, 2000, waste).tolist() == [0, 1]


def test_a_second_substation_with_no_other_campus_in_reach_feeds_the_same_campus():
    campus = gpd.GeoSeries([shapely.box(0, 0, 500, 400)])
    nodes = gpd.GeoSeries([shapely.Point(250, -100), shapely.Point(600, 200)])
    got = given(nodes, campus, campus.area.to_numpy(), 2000, np.array([8.0]))
    assert got.tolist() == [0, 0]


def test_a_sun_fit_below_zero_leaves_the_common_roof_excess_to_count_alone():
    # A hall 9.8 K over the region's roofs whose excess rises with the summer's sun faster
    # than a sunlit roof's (its sun fit extrapolates below zero, stored at 0 or under);
    # a warehouse the sun alone warms (both fits near zero).
    own = np.array([9.8, 9.8, 0.1])
    waste = np.array([0.0, -0.7, 0.05])
    got = campus_heat_k(own, waste, np.full(3, 20_000.0), np.array([0, 1, 2]), 3)
    assert got.tolist() == [9.8, 9.8, 0.05]


def test_campus_heat_is_area_weighted_never_negative_and_both_fits_must_agree():
    own = np.array([6.0, 6.0, 2.0, -3.0, 0.0, np.nan, np.nan, 2.1])
    waste = np.array([5.0, 7.0, 2.5, -1.0, 0.0, 4.0, np.nan, 0.05])
    area = np.array([10_000.0, 30_000.0, 25_000.0, 25_000.0, 250_000.0, 5_000.0, 8_000.0,
                     73_000.0])
    campus = np.array([0, 0, 1, 1, 1, 2, 3, 4])
    got = campus_heat_k(own, waste, area, campus, 5)
    assert got[0] == pytest.approx((5.0 * 10_000 + 6.0 * 30_000) / 40_000)
    assert got[1] == pytest.approx(2.0 * 25_000 / 300_000)  # one warm roof in a park of cold
    assert got[2] == 4.0  # too few roofs for the common-roof fit: the sun fit stands in
    assert np.isnan(got[3])
    assert got[4] == 0.05  # a large roof only one fit reads as warm


def test_a_warehouse_park_with_one_warm_roof_does_not_take_a_hot_campus_substation():
    # Twelve sheds (300,000 m2 of roof) 600 m from the substation, one of them 2 K warm;
    # a hot 60,000 m2 AI campus 1.5 km away on the other side.
    sheds = [shapely.box(x, y, x + 150, y + 166) for x in range(600, 1400, 200)
             for y in range(-250, 250, 170)]
    park = shapely.union_all(sheds)
    campus = gpd.GeoSeries([shapely.box(-1700, -120, -1500, 180), park])
    area = np.array([60_000.0, 300_000.0])
    node = gpd.GeoSeries([shapely.Point(0, 0)])
    own = np.array([6.0] + [2.0] + [0.0] * 11)
    heat = campus_heat_k(own, own, np.array([60_000.0] + [25_000.0] * 12),
                         np.array([0] + [1] * 12), 2)
    assert given(node, campus, area, 2000, heat).tolist() == [0]
    hottest = np.array([6.0, 2.0])  # the park's warmest roof standing for all of it
    assert given(node, campus, area, 2000, hottest).tolist() == [1]


def test_a_large_roof_only_one_fit_reads_as_warm_does_not_take_a_halls_substation():
    # A 14,300 m2 hall 485 m from a substation (heat of its own 2.7 K, sun fit 1.4 K) and
    # a 73,000 m2 warehouse 302 m from it (2.1 K over the region's roofs, 0.05 K by the sun
    # fit): read by one fit alone, the warehouse rejects seven times the hall's heat.
    campus = gpd.GeoSeries([shapely.box(-605, -60, -485, 60), shapely.box(302, -135, 572, 135)])
    area = np.array([14_300.0, 73_000.0])
    node = gpd.GeoSeries([shapely.Point(0, 0)])
    heat = campus_heat_k(np.array([2.7, 2.1]), np.array([1.4, 0.05]), area, np.array([0, 1]), 2)
    assert given(node, campus, area, 2000, heat).tolist() == [0]
    own_only = np.array([2.7, 2.1])
    assert given(node, campus, area, 2000, own_only).tolist() == [1]


def test_a_meter_with_a_hotter_claimant_nearby_is_less_surely_the_buildings():
    # A warm hall 100 m from a substation, a larger campus 300 m off, a lone hall far away
    # with a substation of its own, and a substation beyond everyone's reach.
    campus = gpd.GeoSeries([shapely.box(0, 0, 150, 150), shapely.box(550, 0, 850, 300),
                            shapely.box(9000, 0, 9150, 150)])
    nodes = gpd.GeoSeries([shapely.Point(250, 75), shapely.Point(9250, 75),
                           shapely.Point(30_000, 0)])
    area, heat = campus.area.to_numpy(), np.array([1.0, 1.5, 1.0])
    to, share = attribute_with_shares(nodes, campus, area, 1500, heat)
    assert to.tolist() == [0, 2, -1]
    assert share[1] == 1.0  # no other campus in its reach
    assert np.isnan(share[2])  # given to no one
    gap = np.array([100.0, 300.0])
    radius = shapely.minimum_bounding_radius(campus.values[:2])
    pull = area[:2] * heat[:2] / (gap * (radius + gap))
    assert share[0] == pytest.approx(pull[0] / pull.sum())
    assert 0.2 < share[0] < 0.8
    # The farther campus far hotter: the meter is its, and surely so.
    to, hotter = attribute_with_shares(nodes, campus, area, 1500, np.array([1.0, 30.0, 1.0]))
    assert to[0] == 1 and share[0] < hotter[0] < 1.0


def test_an_implausible_claimant_does_not_dilute_the_share():
    # The far campus could not hold the substation's 600 MW on its roof: it does not count.
    campus = gpd.GeoSeries([shapely.box(0, 0, 700, 600), shapely.box(900, 0, 940, 40)])
    nodes = gpd.GeoSeries([shapely.Point(800, 20)])
    area = campus.area.to_numpy()
    to, share = attribute_with_shares(nodes, campus, area, 1500, np.array([5.0, 5.0]),
                                      np.array([600.0]), 7000.0)
    assert to.tolist() == [0] and share.tolist() == [1.0]
