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
    d23 = compute_capacity(np.array([50.0]), compute_assumptions(2023))["days_to_1e25_flop"]
    d28 = compute_capacity(np.array([50.0]), compute_assumptions(2028))["days_to_1e25_flop"]
    assert d28[0] == pytest.approx(d23[0] / 4.0)  # two doublings of 2.5 years


def test_pue_interval_and_missing_power():
    est, low, high = it_mw_from_facility(np.array([114.0, np.nan]), compute_assumptions())
    assert est[0] == pytest.approx(100.0)
    assert low[0] < est[0] < high[0]
    assert np.isnan(est[1])
    assert np.isnan(compute_capacity(np.array([0.0]), compute_assumptions())
                    ["days_to_1e25_flop"][0])
