"""The classifier's physics guards: campus gating, size caps, monotonic score, probabilities."""

import numpy as np
import pandas as pd
import pytest

from detectors.classifier import (
    CLASSES,
    FEATURE_GROUPS,
    FEATURES,
    HOT_SHARE_FLOOR,
    MONOTONE,
    SIZE_CAPS,
    SPIKE_RATIO_CAP,
    TIRS_PSF_SIGMA_M,
    Model,
    blur_coverage,
    calibrate,
    feature_matrix,
    fit_classifier,
    fit_scorer,
    gate_campus_features,
    resolve_roof_heat,
)


def frame(**cols) -> pd.DataFrame:
    base = {"footprint_m2": [20_000.0], "campus_area_m2": [260_000.0],
            "thermal_cold_season_delta_k": [1.0], "has_grid": [0.0]}
    base.update(cols)
    return pd.DataFrame(base)


@pytest.mark.parametrize("cols, keeps_campus", [
    pytest.param({}, False, id="lukewarm-unmetered-warehouse"),
    pytest.param({"thermal_cold_season_delta_k": [np.nan]}, False, id="no-thermal"),
    pytest.param({"thermal_cold_season_delta_k": [6.0]}, True, id="hot-in-the-cold-season"),
    pytest.param({"has_grid": [1.0]}, True, id="metered"),
])
def test_campus_counts_only_for_buildings_with_their_own_evidence(cols, keeps_campus):
    gated = gate_campus_features(frame(**cols))
    if keeps_campus:
        assert gated["campus_area_m2"][0] == 260_000
    else:
        assert gated["campus_area_m2"][0] == 20_000


@pytest.mark.parametrize("cols, counts", [
    pytest.param({}, False, id="lukewarm-unmetered-shed"),
    pytest.param({"thermal_cold_season_delta_k": [6.0]}, True, id="hot-with-no-meter"),
    pytest.param({"thermal_cold_season_delta_k": [6.0], "has_grid": [1.0]}, False,
                 id="hot-and-metered"),
])
def test_a_hot_yard_stands_in_for_the_meter_of_a_hot_building(cols, counts):
    gated = gate_campus_features(frame(thermal_yard_k=[12.0], **cols))
    assert gated["thermal_yard_k"][0] == (12.0 if counts else 0.0)
    assert gate_campus_features(frame(thermal_yard_k=[-1.5]))["thermal_yard_k"][0] == -1.5


def test_sizes_beyond_real_campuses_are_capped():
    f = frame(footprint_m2=[400_000.0], thermal_cold_season_delta_k=[9.0],
              campus_area_m2=[5e6])
    x = pd.DataFrame(feature_matrix(f), columns=FEATURES)
    assert x["footprint_m2"][0] == SIZE_CAPS["footprint_m2"]
    assert x["campus_area_m2"][0] == SIZE_CAPS["campus_area_m2"]


@pytest.mark.parametrize("area_m2", [2_000.0, 25_000.0, 150_000.0])
def test_blur_coverage_is_what_a_blurred_square_roof_shows(area_m2):
    from scipy import ndimage

    cell = 3.0  # m, fine enough that the box's edge is within a cell of its true place
    side = int(round(np.sqrt(area_m2) / cell))
    roof = np.zeros((side + 200, side + 200))
    roof[100:100 + side, 100:100 + side] = 1.0
    seen = ndimage.gaussian_filter(roof, TIRS_PSF_SIGMA_M / cell)
    mean_cov, peak_cov = blur_coverage(np.array([area_m2]))
    assert mean_cov[0] == pytest.approx(seen[roof > 0].mean(), abs=0.01)
    assert peak_cov[0] == pytest.approx(seen.max(), abs=0.01)


def test_a_resolved_roof_is_read_at_its_true_heat_whatever_its_size():
    areas = np.array([20_000.0, 73_000.0, 150_000.0])
    mean_cov, peak_cov = blur_coverage(areas)
    seen = pd.DataFrame({"footprint_m2": areas, "thermal_scenes_used": [12, 12, 12],
                         "thermal_delta_k": 9.0 * mean_cov,
                         "thermal_own_heat_k": 6.0 * mean_cov,
                         "thermal_hotspot_k": 20.0 * peak_cov,
                         "thermal_yard_k": [4.0, 4.0, 4.0], "thermal_persistence": [0.9] * 3})
    read = resolve_roof_heat(seen)
    assert np.allclose(read["thermal_delta_k"], 9.0)
    assert np.allclose(read["thermal_own_heat_k"], 6.0)
    assert np.allclose(read["thermal_hotspot_k"], 20.0)
    assert read["thermal_yard_k"].tolist() == [4.0] * 3  # open ground, not the roof
    assert read["thermal_persistence"].tolist() == [0.9] * 3


@pytest.mark.parametrize("scenes", [1, 4, 16, np.nan])
def test_heat_is_never_multiplied_beyond_what_its_scenes_support(scenes):
    """A median of n clear scenes, multiplied by at most sqrt(n), is never noisier than one
    scene's reading; a roof of 500 m2 keeps 4% of its excess, so the cap is what binds."""
    seen = pd.DataFrame({"footprint_m2": [500.0], "thermal_scenes_used": [scenes],
                         "thermal_cold_season_delta_k": [1.5]})
    read = resolve_roof_heat(seen)["thermal_cold_season_delta_k"][0]
    assert read == pytest.approx(1.5 * (np.sqrt(scenes) if np.isfinite(scenes) else 1.0))
    col = FEATURES.index("thermal_cold_season_delta_k")
    assert feature_matrix(seen)[0, col] == pytest.approx(read)


def test_heat_to_mw_reads_heat_as_tirs_shows_it():
    seen = frame(footprint_m2=[150_000.0], thermal_delta_k=[8.0], thermal_scenes_used=[12])
    col = FEATURES.index("thermal_delta_k")
    assert feature_matrix(seen, resolve_heat=False)[0, col] == 8.0
    assert feature_matrix(seen)[0, col] == pytest.approx(8.0 / blur_coverage(
        np.array([150_000.0]))[0][0])


def test_a_load_rising_in_price_spikes_counts_as_flat():
    spike = FEATURES.index("price_spike_ratio")
    assert feature_matrix(frame(price_spike_ratio=[1.04]))[0, spike] == SPIKE_RATIO_CAP
    assert feature_matrix(frame(price_spike_ratio=[0.9]))[0, spike] == 0.9


def test_a_yard_only_as_hot_as_turbines_make_it_reads_as_no_process_area():
    share = FEATURES.index("thermal_yard_hot_share")
    read = [feature_matrix(frame(thermal_yard_hot_share=[v]))[0, share]
            for v in (0.0, 0.02, HOT_SHARE_FLOOR, 0.3)]
    assert read == [HOT_SHARE_FLOOR] * 3 + [0.3]
    assert np.isnan(feature_matrix(frame(thermal_yard_hot_share=[np.nan]))[0, share])


@pytest.fixture(scope="module")
def synthetic():
    """A small labelled table where heat, flatness and size all point to AI, with noise."""
    rng = np.random.default_rng(0)
    n = 1200
    x = pd.DataFrame({c: rng.normal(size=n) for c in FEATURES})
    signal = x["thermal_cold_season_delta_k"] + x["load_factor"] - x["diurnal_amplitude"]
    ai = signal + rng.normal(scale=1.5, size=n) > 1.5
    y = np.where(ai, "ai_training", rng.choice(CLASSES[1:], size=n))
    return x, y


def test_score_never_falls_as_physical_evidence_grows(synthetic):
    x, y = synthetic
    scorer = fit_scorer(feature_matrix(x), y == "ai_training", np.ones(len(y)), seed=0)
    probe = x.sample(200, random_state=1).reset_index(drop=True)
    for col, sign in MONOTONE.items():
        lo, hi = probe.copy(), probe.copy()
        lo[col], hi[col] = -2.0, 2.0
        p_lo = scorer.predict_proba(feature_matrix(lo))[:, 1]
        p_hi = scorer.predict_proba(feature_matrix(hi))[:, 1]
        assert np.all(sign * (p_hi - p_lo) >= -1e-12), col


@pytest.fixture(scope="module")
def fitted(synthetic):
    """The class model and the scorer, calibrated, on the synthetic table."""
    x, y = synthetic
    m = feature_matrix(x)
    clf = calibrate(fit_classifier(m, y, np.ones(len(y)), seed=0), m, y)
    scorer = calibrate(fit_scorer(m, y == "ai_training", np.ones(len(y)), seed=0), m,
                       y == "ai_training")
    return clf, scorer


def test_probabilities_take_the_score_from_the_scorer(synthetic, fitted):
    x, _ = synthetic
    m = feature_matrix(x)
    clf, scorer = fitted
    model = Model(clf, {}, "t", list(FEATURES), scorer)
    proba = model.probabilities(x.head(50))
    assert list(proba.columns) == CLASSES
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert np.allclose(proba["ai_training"], scorer.predict_proba(m[:50])[:, 1])
    without = Model(clf, {}, "t", list(FEATURES)).probabilities(x.head(50))
    assert np.allclose(without.sum(axis=1), 1.0)


def test_batched_reasons_match_hiding_each_group_in_turn(synthetic, fitted):
    """One batched prediction gives the ranking that eight separate ones gave."""
    x, _ = synthetic
    clf, scorer = fitted
    model = Model(clf, {}, "t", list(FEATURES), scorer)
    probe = x.head(40)
    base = model.probabilities(probe)["ai_training"].to_numpy()
    drops = {}
    for group, cols in FEATURE_GROUPS.items():
        hidden = probe.copy()
        hidden[cols] = np.nan
        drops[group] = np.abs(base - model.probabilities(hidden)["ai_training"].to_numpy())
    expected = [sorted(drops, key=lambda g: -drops[g][i])[:3] for i in range(len(probe))]
    got = model.reasons(probe)
    assert got == model.reasons(probe, base=base)
    for want, have, i in zip(expected, got, range(len(probe))):
        assert [drops[g][i] for g in have] == pytest.approx([drops[g][i] for g in want])
