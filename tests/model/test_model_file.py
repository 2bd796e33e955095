"""A trained model survives skops: saved, checked and loaded, it scores as it did."""

import numpy as np

from detectors.ensemble import MeanScorer
from pipelines.model.store import load_model, save_model
from pipelines.model.train import SCORER_DRAWS, fit_model

from helpers import feature_table


def test_a_fitted_model_round_trips_through_the_allow_list(tmp_path):
    rng = np.random.default_rng(1)
    train, cal = feature_table(rng, 500), feature_table(rng, 250)
    train["thermal_delta_k"] += np.where(train["true_class"] == "ai_training", 5.0, 0.0)
    model = fit_model(train, cal, 0, "t")
    mean = model.scorer.calibrated_classifiers_[0].estimator.estimator
    assert isinstance(mean, MeanScorer) and len(mean.members) == SCORER_DRAWS
    path = tmp_path / "classifier.skops"
    save_model(model, path)
    loaded = load_model(path)
    probe = feature_table(rng, 50)
    assert np.allclose(loaded.probabilities(probe), model.probabilities(probe))
    assert loaded.version == "t"
