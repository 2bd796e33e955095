"""The mean of scorers: averaged probabilities, monotone where each member is, calibratable."""

import numpy as np
import pandas as pd
import pytest

from detectors.classifier import FEATURES, MONOTONE, calibrate, feature_matrix, fit_scorer
from detectors.ensemble import MeanScorer


@pytest.fixture(scope="module")
def draws():
    """Three scorers, each on its own bootstrap draw of one noisy table where heat means AI."""
    rng = np.random.default_rng(3)
    n = 900
    x = pd.DataFrame({c: rng.normal(size=n) for c in FEATURES})
    ai = x["thermal_cold_season_delta_k"] + x["load_factor"] + rng.normal(scale=1.5, size=n) > 1
    members = []
    for k in range(3):
        rows = rng.integers(0, n, n)
        members.append(fit_scorer(feature_matrix(x.iloc[rows]), ai.to_numpy()[rows],
                                  np.ones(n), seed=k))
    return x, ai.to_numpy(), members


def test_the_mean_is_the_members_average(draws):
    x, _, members = draws
    m = feature_matrix(x.head(100))
    mean = MeanScorer(members).fit()
    expected = np.mean([s.predict_proba(m) for s in members], axis=0)
    assert np.allclose(mean.predict_proba(m), expected)
    assert list(mean.classes_) == [False, True]
    assert np.array_equal(mean.predict(m), expected.argmax(axis=1) == 1)
    assert not np.allclose(members[0].predict_proba(m), members[1].predict_proba(m))


def test_the_mean_never_falls_as_physical_evidence_grows(draws):
    x, _, members = draws
    mean = MeanScorer(members).fit()
    probe = x.sample(150, random_state=1).reset_index(drop=True)
    for col, sign in MONOTONE.items():
        lo, hi = probe.copy(), probe.copy()
        lo[col], hi[col] = -2.0, 2.0
        step = mean.predict_proba(feature_matrix(hi))[:, 1] - \
            mean.predict_proba(feature_matrix(lo))[:, 1]
        assert np.all(sign * step >= -1e-12), col


def test_the_mean_calibrates_like_one_scorer(draws):
    x, ai, members = draws
    m = feature_matrix(x)
    calibrated = calibrate(MeanScorer(members).fit(), m, ai)
    p = calibrated.predict_proba(m)[:, 1]
    assert p[ai].mean() > p[~ai].mean() + 0.3


def test_members_must_exist_and_agree_on_their_classes(draws):
    x, ai, members = draws
    with pytest.raises(ValueError, match="at least one"):
        MeanScorer([]).fit()
    other = fit_scorer(feature_matrix(x), np.where(ai, "ai", "not"), np.ones(len(ai)), seed=0)
    with pytest.raises(ValueError, match="disagree"):
        MeanScorer([members[0], other]).fit()
