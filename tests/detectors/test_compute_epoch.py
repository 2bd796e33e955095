"""The compute estimate against Epoch AI's published H100-equivalents (tests/data/epoch).

Epoch tabulates facility power and H100-equivalents per campus. Rows of the H100 era are
chosen by rules fixed before comparing, from the data alone:
- dated 2024-01-01 to 2025-06-30 (after H100 volume shipments, before GB200 volume);
- at a campus whose first operational row is in 2024 or later (older campuses keep older
  accelerators);
- with at least 700 W x 1.82 = 1,274 W of facility power per H100-equivalent: less than
  that cannot be an H100 with its server at any PUE, so the hardware is a later generation.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detectors.compute import facility_capacity
from pipelines.reference import compute_assumptions

EPOCH = Path(__file__).resolve().parents[1] / "data" / "epoch"


def h100_era_rows() -> pd.DataFrame:
    t = pd.read_csv(EPOCH / "data_center_timelines.csv", parse_dates=["Date"])
    t = t[(t["Power (MW)"] > 0) & (t["H100 equivalents"] > 0)]
    first = t.groupby("Data center")["Date"].transform("min")
    watts = t["Power (MW)"] * 1e6 / t["H100 equivalents"]
    a = compute_assumptions()
    keep = (t["Date"] >= "2024-01-01") & (t["Date"] <= "2025-06-30") & \
        (first >= "2024-01-01") & (watts >= a.h100_tdp_w * a.it_overhead_factor.value)
    return t[keep].reset_index(drop=True)


def test_selection_is_ten_rows_of_four_campuses():
    rows = h100_era_rows()
    assert len(rows) == 10
    assert rows["Data center"].nunique() == 4


def test_h100_equivalents_within_25_percent_of_epoch():
    rows = h100_era_rows()
    est = facility_capacity(rows["Power (MW)"].to_numpy(), compute_assumptions(2024))
    ratio = est["est_h100_equivalents"] / rows["H100 equivalents"].to_numpy()
    assert np.all(np.abs(ratio - 1) <= 0.25), dict(zip(rows["Data center"], ratio.round(3)))


def test_epoch_figure_inside_the_80_percent_interval_for_8_of_10():
    rows = h100_era_rows()
    est = facility_capacity(rows["Power (MW)"].to_numpy(), compute_assumptions(2024))
    epoch = rows["H100 equivalents"].to_numpy()
    inside = (est["est_h100_equivalents_low"] <= epoch) & \
        (epoch <= est["est_h100_equivalents_high"])
    assert inside.sum() >= 0.8 * len(rows), dict(zip(rows["Data center"], inside))


def test_epoch_convention_ignores_the_hardware_year():
    a24, a28 = compute_assumptions(2024), compute_assumptions(2028)
    e24, e28 = facility_capacity(np.array([100.0]), a24), facility_capacity(np.array([100.0]),
                                                                              a28)
    assert e24["est_h100_equivalents"][0] == pytest.approx(e28["est_h100_equivalents"][0])
    assert e28["est_h100_equivalents_at_hardware_year"][0] > \
        e24["est_h100_equivalents_at_hardware_year"][0]
    assert e28["days_to_1e25_flop"][0] < e24["days_to_1e25_flop"][0]
