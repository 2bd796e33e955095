"""The classifier: five site classes from thermal, power and footprint evidence.

A HistGradientBoosting model keeps a missing modality as NaN (with has_* flags) and is
calibrated on regions it was not fitted on, so `score` reads as a probability.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # scikit-learn loads in about 1.5 s: only fitting and scoring need it
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

CLASSES = ["ai_training", "cloud_datacenter", "crypto_mining", "heavy_industry",
           "warehouse_or_other"]

FEATURE_GROUPS: dict[str, list[str]] = {
    "load_shape": ["load_factor", "diurnal_amplitude", "weekly_amplitude", "steps_up",
                   "growth_ratio", "dips_per_30d"],
    "price": ["price_response", "price_spike_ratio", "has_price"],
    "power_size": ["node_mean_mw", "mean_mw", "power_density_w_m2", "has_grid"],
    "thermal": ["thermal_delta_k", "thermal_cold_season_delta_k", "thermal_warm_season_delta_k",
                "thermal_waste_k", "thermal_solar_slope_k",
                "thermal_persistence", "thermal_hotspot_k", "thermal_scenes_used",
                "thermal_resolved", "has_thermal"],
    "footprint": ["footprint_m2", "compactness", "campus_halls", "campus_area_m2"],
    "infrastructure": ["substation_distance_m", "hv_line_distance_m"],
    "tags": ["tag_data_center", "tag_industrial", "tag_named"],
}
FEATURES = [f for group in FEATURE_GROUPS.values() for f in group]
THERMAL_MW_FEATURES = FEATURE_GROUPS["thermal"] + FEATURE_GROUPS["footprint"]
MW_QUANTILES = (0.1, 0.5, 0.9)  # the SPEC's 80% interval and its middle


def feature_matrix(features: pd.DataFrame, columns: list[str] = FEATURES) -> np.ndarray:
    """The model's input in a fixed column order; missing evidence stays NaN."""
    return features.reindex(columns=columns).astype(float).to_numpy()


def fit_classifier(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray,
                   seed: int) -> HistGradientBoostingClassifier:
    """Gradient-boosted trees; no internal early stopping (its random split leaks regions)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=400, learning_rate=0.06, max_leaf_nodes=31, min_samples_leaf=20,
        l2_regularization=1.0, early_stopping=False, random_state=seed)
    return model.fit(x, y, sample_weight=sample_weight)


def calibrate(model: HistGradientBoostingClassifier, x_cal: np.ndarray,
              y_cal: np.ndarray) -> CalibratedClassifierCV:
    """Sigmoid calibration on held-out regions, the fitted model frozen."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    return CalibratedClassifierCV(FrozenEstimator(model), method="sigmoid").fit(x_cal, y_cal)


def fit_mw_regressors(x: np.ndarray, log_mw: np.ndarray, seed: int
                      ) -> dict[str, HistGradientBoostingRegressor]:
    """Quantile models of log IT MW from thermal and footprint evidence (for off-grid sites)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    return {f"q{int(q * 100)}": HistGradientBoostingRegressor(
        loss="quantile", quantile=q, max_iter=300, learning_rate=0.05, min_samples_leaf=10,
        random_state=seed).fit(x, log_mw) for q in MW_QUANTILES}


@dataclass
class Model:
    """What ships in data/models: the calibrated classifier and the thermal MW regressors."""

    classifier: CalibratedClassifierCV
    mw_regressors: dict[str, HistGradientBoostingRegressor]
    version: str
    features: list[str] = field(default_factory=lambda: list(FEATURES))

    def probabilities(self, features: pd.DataFrame) -> pd.DataFrame:
        """Calibrated class probabilities, one column per class of CLASSES."""
        proba = self.classifier.predict_proba(feature_matrix(features, self.features))
        cols = list(self.classifier.classes_)
        return pd.DataFrame(proba, index=features.index, columns=cols).reindex(
            columns=CLASSES, fill_value=0.0)

    def thermal_mw(self, features: pd.DataFrame) -> pd.DataFrame:
        """IT MW quantiles (q10, q50, q90) from heat alone; NaN without thermal evidence."""
        x = feature_matrix(features, THERMAL_MW_FEATURES)
        out = pd.DataFrame({k: np.exp(r.predict(x)) for k, r in self.mw_regressors.items()},
                           index=features.index)
        out[features["thermal_scenes_used"].fillna(0).to_numpy() == 0] = np.nan
        return out

    def reasons(self, features: pd.DataFrame, top: int = 3) -> list[list[str]]:
        """Evidence groups that moved each score most: the score drop when a group is hidden."""
        base = self.probabilities(features)["ai_training"].to_numpy()
        effects = {}
        for group, cols in FEATURE_GROUPS.items():
            hidden = features.copy()
            hidden[[c for c in cols if c in hidden.columns]] = np.nan
            effects[group] = base - self.probabilities(hidden)["ai_training"].to_numpy()
        table = pd.DataFrame(effects)
        return [list(row.abs().sort_values(ascending=False).index[:top])
                for _, row in table.iterrows()]
