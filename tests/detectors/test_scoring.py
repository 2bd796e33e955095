"""Scoring's compute-side rules: IT MW basis and the never-drop rule for frontier campuses."""

import numpy as np
import pandas as pd

from detectors.scoring import campus_low_it_mw, estimate_it_mw, frontier_capable
from pipelines.reference import compute_assumptions

A = compute_assumptions(2025)


def scored_rows(basis: list[str], low: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"est_it_mw_basis": basis, "est_it_mw_low": low})


def days_of(features: pd.DataFrame, scored: pd.DataFrame, a=A, horizon: float = 90
            ) -> pd.Series:
    """The never-drop rule's days to 1e25 FLOP, per facility (NaN: not frontier-capable)."""
    return frontier_capable(campus_low_it_mw(features, scored), a, horizon, 20)


def test_metered_halls_of_a_campus_add_up():
    features = pd.DataFrame({"campus_id": [0, 0, 0, 1]})
    scored = scored_rows(["grid", "grid", "grid", "grid"], [8.0, 8.0, 8.0, 8.0])
    days = days_of(features, scored)
    assert days[:3].notna().all()  # 24 MW together
    assert np.isnan(days[3])  # 8 MW alone: under the 20 MW floor


def test_heat_estimates_add_up_only_over_halls_with_heat_of_their_own():
    features = pd.DataFrame({"campus_id": [0] * 9 + [1] + [2] * 3,
                             "thermal_cold_season_delta_k": [1.5] * 10 + [4.0] * 3})
    scored = scored_rows(["thermal"] * 13, [4.0] * 9 + [40.0] + [8.0] * 3)
    days = days_of(features, scored)
    assert days[:9].isna().all()  # nine lukewarm warehouses are not a 36 MW campus
    assert days[9] > 0  # one lukewarm hall counts alone
    assert days[10:].notna().all()  # three halls 4 K above their surroundings in the cold
    # season: a 24 MW campus, though none reaches the floor alone


def test_a_heat_estimate_counts_only_for_a_roof_warmer_than_the_sensor_noise():
    features = pd.DataFrame({"campus_id": [0, 1, 2],
                             "thermal_cold_season_delta_k": [-0.3, 0.5, 1.5]})
    scored = scored_rows(["thermal"] * 3, [40.0] * 3)  # big footprints: big size priors
    days = days_of(features, scored)
    assert days[:2].isna().all()  # a cold roof's estimate is its size, not its heat
    assert days[2] > 0


def test_the_horizon_and_the_hardware_year_decide():
    features = pd.DataFrame({"campus_id": [0]})
    scored = scored_rows(["grid"], [25.0])
    assert days_of(features, scored, compute_assumptions(2025)).notna()[0]
    old = days_of(features, scored, compute_assumptions(2018), 1)
    assert old.isna()[0]


def test_it_mw_from_the_meter_first_then_heat():
    features = pd.DataFrame({"mean_mw": [114.0, np.nan, np.nan]})
    thermal = pd.DataFrame({"q10": [5.0, 20.0, np.nan], "q50": [9.0, 30.0, np.nan],
                            "q90": [14.0, 45.0, np.nan]})
    out = estimate_it_mw(features, thermal, A)
    assert list(out["est_it_mw_basis"]) == ["grid", "thermal", "none"]
    assert out["est_it_mw"][0] == 114.0 / A.pue.value
    assert out["est_it_mw_low"][1] == 20.0 and np.isnan(out["est_it_mw"][2])
