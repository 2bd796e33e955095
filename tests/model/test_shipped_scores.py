"""The shipped model on the sites issue 10 reported missed on regions made by another generator."""

from functools import cache

import numpy as np
import pandas as pd
import pytest

from detectors.classifier import blur_coverage
from pipelines.model.store import load_model
from pipelines.settings import load_config


def campus(roof_k: float, **load: float) -> pd.DataFrame:
    """Halls of 72,000 m2 on a dedicated meter drawing a flat 2.8 kW/m2 (load factor 0.91),
    roofs roof_k kelvin above their surroundings in every clear scene: issue 10's campuses of 390
    to 624 MW, by default with no job-restart dips, no rise in price spikes and a yard no
    warmer than the surroundings."""
    row = {
        "has_grid": 1.0, "has_price": 1.0, "load_factor": 0.91, "diurnal_amplitude": 0.01,
        "weekly_amplitude": 0.0, "dips_per_30d": 0.0, "price_response": 0.0,
        "price_spike_ratio": 1.0, "power_density_w_m2": 2800.0, "has_thermal": 1.0,
        "thermal_scenes_used": 14, "thermal_persistence": 1.0, "thermal_delta_k": roof_k,
        "thermal_cold_season_delta_k": roof_k, "thermal_warm_season_delta_k": roof_k + 1,
        "thermal_waste_k": 0.8 * roof_k, "thermal_own_heat_k": 0.8 * roof_k,
        "thermal_solar_slope_k": 2.0,
        "thermal_hotspot_k": 1.5 * roof_k, "thermal_yard_k": 0.0, "thermal_yard_hot_share": 0.0,
        "footprint_m2": 72_000.0,
        "compactness": 0.7, "campus_area_m2": 216_000.0, "tag_data_center": 0.0,
        "tag_industrial": 1.0, "tag_named": 0.0}
    return pd.DataFrame([{**row, **load}])


@cache
def _shipped():
    return load_model(), load_config().defaults.thresholds.alert


def alerted(features: pd.DataFrame) -> bool:
    model, threshold = _shipped()
    return bool(model.probabilities(features)["ai_training"].iloc[0] >= threshold)


MARKS = {"dips_per_30d": 1.67, "price_spike_ratio": 1.018, "price_response": 0.05}


@pytest.mark.parametrize("roof_k", [9.0, 12.0, 16.0])
def test_the_simulators_marks_never_raise_the_score(roof_k):
    """One or two job-restart dips a month, a 2% rise in price spikes and a +0.05 price
    correlation: the marks this simulator once left on every AI load (cw-0.5.0 learned them
    as the sign of AI). A flat load without them must score at least as high."""
    model, _ = _shipped()
    plain, marked = (model.probabilities(frame)["ai_training"].iloc[0]
                     for frame in (campus(roof_k), campus(roof_k, **MARKS)))
    assert marked <= plain


@pytest.mark.parametrize("roof_k", [9.0, 12.0])
def test_the_campus_is_alerted_as_another_generator_draws_it(roof_k):
    """The campus as another generator may draw it: a flat load, nothing more."""
    assert alerted(campus(roof_k))


def test_the_hottest_campus_is_alerted():
    """The same campus with roofs 16 K up and hot spots of 24 K (cw-0.6.0 read it as a
    smelter's potroom and scored it 0.36)."""
    assert alerted(campus(16.0))


OFF_GRID = {"has_grid": 0.0, "load_factor": float("nan"), "diurnal_amplitude": float("nan"),
            "weekly_amplitude": float("nan"), "dips_per_30d": float("nan"),
            "price_response": float("nan"), "price_spike_ratio": float("nan"),
            "power_density_w_m2": float("nan"), "tag_industrial": 0.0}


# Turbines for tens of MW stand on a hectare or two of the 100 to 600 m yard (about 130 ha
# around a 15,000 m2 hall; xAI Colossus, detectors/thermal.py): where they run warmer than the
# roof, that much of the yard is as warm as it.
TURBINE_YARD_SHARE = 0.02


def off_grid(roof_k: float, yard_k: float, hall_m2: float, campus_m2: float) -> pd.DataFrame:
    """Halls with no meter, roof_k above their surroundings, their yard yard_k up (turbines)."""
    return campus(roof_k, **OFF_GRID, thermal_yard_k=yard_k, footprint_m2=hall_m2,
                  campus_area_m2=campus_m2,
                  thermal_yard_hot_share=TURBINE_YARD_SHARE if yard_k >= roof_k else 0.0)


@pytest.mark.parametrize("roof_k", [6.0, 8.0])
def test_a_hotter_yard_never_lowers_an_unmetered_hot_halls_score(roof_k):
    model, _ = _shipped()
    scores = [model.probabilities(off_grid(roof_k, y, 15_000.0, 15_000.0))["ai_training"].iloc[0]
              for y in (0.0, 5.0, 10.0, 15.0)]
    assert scores == sorted(scores)
    assert scores[-1] > scores[0] + 0.2  # and the yard is read at all


def as_seen(true_k: float, hall_m2: float, **cols: float) -> dict[str, float]:
    """Roof heat features of a hall whose roof holds true_k, as TIRS's blur shows them."""
    mean_cov, peak_cov = (float(c[0]) for c in blur_coverage(np.array([hall_m2])))
    return {"footprint_m2": hall_m2, "campus_area_m2": 3 * hall_m2,
            "thermal_delta_k": true_k * mean_cov,
            "thermal_cold_season_delta_k": true_k * mean_cov,
            "thermal_warm_season_delta_k": (true_k + 1) * mean_cov,
            "thermal_waste_k": 0.8 * true_k * mean_cov,
            "thermal_own_heat_k": 0.8 * true_k * mean_cov,
            "thermal_solar_slope_k": 2.0 * mean_cov, "thermal_hotspot_k": 1.2 * true_k * peak_cov,
            **cols}


@pytest.mark.parametrize("true_k", [6.0, 10.0])
@pytest.mark.parametrize("metered", [True, False])
def test_a_larger_hall_at_the_same_roof_heat_never_scores_lower(true_k, metered):
    """Read through the blur, a larger roof shows more of its heat; at the heat the roof
    holds, size alone never lowers the score (issue 10)."""
    model, _ = _shipped()
    extra = {} if metered else {**OFF_GRID, "thermal_yard_k": 10.0,
                                "thermal_yard_hot_share": TURBINE_YARD_SHARE}
    scores = [model.probabilities(pd.DataFrame([{**campus(true_k).iloc[0].to_dict(),
                                                 **as_seen(true_k, a, **extra)}]))
              ["ai_training"].iloc[0] for a in (14_000.0, 30_000.0, 72_000.0, 150_000.0)]
    assert scores == sorted(scores)


def test_a_metered_campus_is_scored_on_its_meter_not_its_yard():
    model, _ = _shipped()
    cool, hot = (model.probabilities(campus(12.0, thermal_yard_k=y))["ai_training"].iloc[0]
                 for y in (0.0, 10.0))
    assert cool == hot


def test_a_large_off_grid_campus_with_turbines_beside_it_is_alerted():
    """Halls of 72,000 m2 (144,000 m2 of campus) with no meter, 8 K up, turbines 10 K up."""
    assert alerted(off_grid(8.0, 10.0, 72_000.0, 144_000.0))


# A known failure, kept strict so that the model that fixes it must say so here.
@pytest.mark.xfail(strict=True, reason="cw-0.15.0 scores the lone unmetered 15,000 m2 hall 0.53 "
                   "6 K up and 0.24 8 K up with its turbines' yard 10 K up, under its alert "
                   "threshold of 0.54 (cw-0.14.0: 0.50 and 0.23); its class model reads it as "
                   "heavy industry (0.32) or a miner on gensets (0.60) (docs/evaluation.md)")
@pytest.mark.parametrize("roof_k", [6.0, 8.0])
def test_issue_10s_off_grid_hall_is_alerted(roof_k):
    """Issue 10's off-grid halls of 37 to 44 MW: about 15,000 m2 at 2.5 to 3 kW/m2, roofs 5
    to 8 K up; here with a turbine yard 10 K up beside them."""
    assert alerted(off_grid(roof_k, 10.0, 15_000.0, 15_000.0))


@pytest.mark.xfail(strict=True, reason="cw-0.15.0 scores an unmetered hall with no yard 0.02 "
                   "to 0.29 at roof temperatures of 3 to 12 K and sizes of 15,000 and 72,000 m2 "
                   "(cw-0.14.0: 0.03 to 0.28); 8 K up, its class model reads it as a warehouse "
                   "(0.68) or a miner (0.29) (docs/evaluation.md)")
def test_issue_10s_off_grid_hall_without_a_yard_is_alerted():
    """The same hall 8 K up with no yard beside it: the issue names none, and the protocol's
    generation-yard split judges regions where off-grid sites show none."""
    assert alerted(off_grid(8.0, 0.0, 15_000.0, 15_000.0))


def warehouse_park(roof_k: float) -> pd.DataFrame:
    """One of issue 10's nine warehouses grouped as a campus of 26 ha of roof: no meter, roofs
    roof_k above their surroundings in every clear scene, warmed by the sun more than from
    within (3 K warmer in the warm season, 4 K more per unit of sun, little heat left
    once the sun or the region's roofs are fitted out), no yard."""
    return campus(roof_k, **OFF_GRID, footprint_m2=29_000.0, campus_area_m2=260_000.0,
                  thermal_waste_k=0.3 * roof_k, thermal_own_heat_k=0.3 * roof_k,
                  thermal_hotspot_k=1.5 * roof_k,
                  thermal_warm_season_delta_k=roof_k + 3.0, thermal_solar_slope_k=4.0)


@pytest.mark.parametrize("roof_k", [2.0, 3.0, 4.0])
def test_issue_10s_warehouse_park_is_not_alerted(roof_k):
    """Issue 10's second failure: such buildings scored 0.88 to 0.99 in its hold-out regions,
    and 0.38 to 0.62 with cw-0.7.0, whose simulator never grouped warehouses into a campus."""
    assert not alerted(warehouse_park(roof_k))
