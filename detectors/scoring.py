"""Score facilities and estimate their compute: the table behind candidates.geojson."""

from __future__ import annotations

import numpy as np
import pandas as pd

from detectors.classifier import CLASSES, Model
from detectors.compute import ComputeAssumptions, compute_capacity, it_mw_from_facility
from detectors.reasons import describe


def estimate_it_mw(features: pd.DataFrame, thermal_mw: pd.DataFrame,
                   a: ComputeAssumptions) -> pd.DataFrame:
    """IT MW now and its 80% interval: metered power through PUE, else from heat (wider)."""
    est, low, high = it_mw_from_facility(features["mean_mw"].to_numpy(), a)
    metered = np.isfinite(est)
    q = np.sort(thermal_mw[["q10", "q50", "q90"]].to_numpy(), axis=1)
    return pd.DataFrame({
        "est_it_mw": np.where(metered, est, q[:, 1]),
        "est_it_mw_low": np.where(metered, low, q[:, 0]),
        "est_it_mw_high": np.where(metered, high, q[:, 2]),
        "est_it_mw_basis": np.where(metered, "grid", np.where(np.isfinite(q[:, 1]), "thermal",
                                                              "none"))}, index=features.index)


def score(features: pd.DataFrame, model: Model, a: ComputeAssumptions) -> pd.DataFrame:
    """Class probabilities, score, IT MW, compute and reasons for every facility."""
    proba = model.probabilities(features)
    out = pd.DataFrame(index=features.index)
    out["score"] = proba["ai_training"]
    out["predicted_class"] = proba.idxmax(axis=1)
    out["class_probabilities"] = [dict(zip(CLASSES, map(float, row)))
                                  for row in proba[CLASSES].to_numpy()]
    mw = estimate_it_mw(features, model.thermal_mw(features), a)
    out = out.join(mw)
    out = out.join(pd.DataFrame(compute_capacity(out["est_it_mw"].to_numpy(), a),
                                index=features.index))
    groups = model.reasons(features)
    out["top_reasons"] = [describe(row, g) for (_, row), g in zip(features.iterrows(), groups)]
    return out
