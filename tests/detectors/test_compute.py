"""The compute estimate against hand arithmetic from the reference table."""

import numpy as np
import pytest

from detectors.compute import compute_capacity, it_mw_from_facility
from pipelines.reference import compute_assumptions, reference_table


def test_every_default_has_a_source():
    for ref in reference_table().values():
        assert len(ref.source) > 20, ref.key
        assert ref.low <= ref.value <= ref.high, ref.key


def test_h100_arithmetic_in_the_reference_year():
    a = compute_assumptions(2023)
    assert a.it_w_per_h100 == pytest.approx(1274.0)
    out = compute_capacity(np.array([100.0]), a)
    h100 = 100e6 / 0.8 / 1274.0
    assert out["est_h100_equivalents"][0] == pytest.approx(h100)
    assert out["est_dense_bf16_pflops"][0] == pytest.approx(h100 * 0.989)
    days = 1e25 / (h100 * 989e12 * 0.4) / 86400
    assert out["days_to_1e25_flop"][0] == pytest.approx(days)


def test_later_hardware_reaches_the_threshold_sooner():
    e23 = compute_capacity(np.array([50.0]), compute_assumptions(2023))
    e28 = compute_capacity(np.array([50.0]), compute_assumptions(2028))
    assert e28["days_to_1e25_flop"][0] == pytest.approx(e23["days_to_1e25_flop"][0] / 4.0)
    # Epoch's convention counts capacity, not FLOP/s: the same in every hardware year.
    assert e28["est_h100_equivalents"][0] == pytest.approx(e23["est_h100_equivalents"][0])
    assert e28["est_h100_equivalents_at_hardware_year"][0] == pytest.approx(
        4.0 * e23["est_h100_equivalents_at_hardware_year"][0])


def test_intervals_cover_utilisation_and_hardware_generation():
    a = compute_assumptions(2025)
    out = compute_capacity(np.array([100.0, 100.0]), a, np.array([100.0, 60.0]),
                           np.array([100.0, 160.0]))
    for key in ("est_h100_equivalents", "est_dense_bf16_pflops", "days_to_1e25_flop"):
        assert np.all(out[f"{key}_low"] < out[key]) and np.all(out[key] < out[f"{key}_high"])
    days = out["days_to_1e25_flop"][0]
    # MFU alone spans 0.30 to 0.45 around 0.40: the interval is wider than that.
    assert out["days_to_1e25_flop_high"][0] > days * 0.40 / 0.45 * 1.05
    # A wider IT MW interval widens every compute interval.
    width = out["days_to_1e25_flop_high"] / out["days_to_1e25_flop_low"]
    assert width[1] > width[0] * 1.3


def test_pue_interval_and_missing_power():
    est, low, high = it_mw_from_facility(np.array([114.0, np.nan]), compute_assumptions())
    assert est[0] == pytest.approx(100.0)
    assert low[0] < est[0] < high[0]
    assert np.isnan(est[1])
    assert np.isnan(compute_capacity(np.array([0.0]), compute_assumptions())
                    ["days_to_1e25_flop"][0])
