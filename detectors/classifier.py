"""The classifier: five site classes from thermal, power and footprint evidence.

Two HistGradientBoosting models keep a missing modality as NaN (with has_* flags), both
calibrated on regions they were not fitted on:
- the scorer, binary (an AI training cluster or not), gives `score` (training averages
  several, detectors/ensemble.py). Where physics says which way evidence points it is
  constrained monotonic (MONOTONE): more sustained heat, a flatter meter, a higher metered
  density or a larger hall (at the same roof heat) never lower the score;
- the class model gives the other four classes' shares of what the scorer leaves.
Sizes enter only within the published range of real campuses (SIZE_CAPS), and campus
features only for buildings with evidence of their own (gate_campus_features). Roof heat is
read through TIRS's blur (resolve_roof_heat), so a large hall's undiluted heat and a small
one's blurred heat are compared as the roofs hold them.
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

# Left out, though computed and shown: what only the simulator makes predictive. Growth and
# steps up (a finished campus runs flat, with no ramp); the number of clear scenes (weather,
# not the site); distances to substations and lines (off-grid campuses stand anywhere, and
# the simulator's placement rules are not the world's); the metered MW, the node's or the
# building's share (a 30 MW flat load is as much an AI hall as a 300 MW one: Colossus 1
# began at 44 MW, Meta Prometheus draws 691 MW; a model trained where halls are small
# learns "hundreds of MW = smelter" from it). Metered density carries the physics. Whether a
# hall spans one TIRS pixel: a step in size that slipped past the monotone footprint (a model
# trained on small halls marked every resolved one down; docs/evaluation.md, cw-0.5.0). The
# load's correlation with price: weather moves price and cooling alike, at AI sites and
# smelters both (docs/evaluation.md, cw-0.6.0).
FEATURE_GROUPS: dict[str, list[str]] = {
    "load_shape": ["load_factor", "diurnal_amplitude", "weekly_amplitude", "dips_per_30d"],
    "price": ["price_spike_ratio", "has_price"],
    "power_size": ["power_density_w_m2", "meter_claim_share", "has_grid"],
    "thermal": ["thermal_delta_k", "thermal_cold_season_delta_k", "thermal_warm_season_delta_k",
                "thermal_waste_k", "thermal_own_heat_k", "thermal_solar_slope_k",
                "thermal_persistence", "thermal_hotspot_k", "thermal_yard_k",
                "thermal_yard_hot_share", "has_thermal"],
    # The number of halls is left out: campuses of one hall (xAI Colossus 1) and of a dozen
    # are both real, and warehouse parks have many buildings; only the gated campus area
    # (a building with its own evidence standing among others) enters.
    "footprint": ["footprint_m2", "compactness", "campus_area_m2"],
    "tags": ["tag_data_center", "tag_industrial", "tag_named"],
}
FEATURES = [f for group in FEATURE_GROUPS.values() for f in group]
# Direction of evidence the scorer may never contradict (+1 never lowers the AI score as the
# feature grows, -1 never raises it). Physics of an AI training hall (SPEC; CONVENTIONS.md):
# heat rejected day and night in every season, a flat meter with no daily or weekly cycle,
# tens of MW per hall at kW/m2 densities, and halls as large as real campuses build. A
# flatter meter includes one without restart dips and one that holds its load in price
# spikes (curtailing is what miners do); a load that rises in spikes counts only as flat
# (SPIKE_RATIO_CAP). A hot yard beside a hall is where a campus off the grid makes its power
# (detectors/thermal.py, YARD_INNER_M): tens of MW with no meter must be generated there.
# Heat a roof holds above what the region's roofs show in the same scenes is heat of its own
# (detectors/thermal.py, common_roof_excess): a sunlit roof has none, whatever the weather.
# Open ground as warm as the roof over much of the yard is heat made outdoors (a refinery's
# process units): a hall's own heat leaves at the hall and a campus's turbines stand on a few
# hectares of it (detectors/thermal.py, YARD_INNER_M), so more of it never raises the score.
# A meter is evidence only as far as it is the building's: the share of the pull on its
# substation that the building's campus holds (detectors/power.py, attribute_with_shares) is
# how surely it is, and a surer meter never lowers the score.
MONOTONE = {"thermal_cold_season_delta_k": 1, "thermal_waste_k": 1, "thermal_persistence": 1,
            "thermal_yard_k": 1, "thermal_own_heat_k": 1, "thermal_yard_hot_share": -1,
            "load_factor": 1, "diurnal_amplitude": -1, "weekly_amplitude": -1,
            "dips_per_30d": -1, "price_spike_ratio": 1,
            "power_density_w_m2": 1, "meter_claim_share": 1, "footprint_m2": 1,
            "campus_area_m2": 1}
# A load that rises in price spikes is following hot hours through its cooling (PUE), which
# a liquid-cooled hall need not do: above a flat 1 the ratio carries no evidence. cw-0.5.0
# learned the rise as a mark of AI and scored a flat 72,000 m2 campus 0.02 (docs/evaluation.md).
SPIKE_RATIO_CAP = 1.0
# Sizes beyond the largest real ones carry no more evidence than the largest: halls up to
# 150,000 m2 (reference table ai_hall_area_m2), campuses over 1 km2 (IM3 atlas: the largest
# exceed 1 km2) capped at 1.5 km2.
SIZE_CAPS = {"footprint_m2": 150_000.0, "campus_area_m2": 1_500_000.0}
# A campus's size may raise a building's score, never lower it: one building of this size
# can hold a frontier cluster on its own (xAI Colossus 1 runs in a former factory of about
# 73,000 m2; issue 10), so a lone hall counts as a campus of that size. Without the floor the
# scorer learned "small campus, not AI" from the simulator and dismissed a metered 14,000 m2
# hall drawing a flat 2.6 kW/m2 (the demo's F000001) as a warehouse.
SIZE_FLOORS = {"campus_area_m2": 73_000.0}
# The share of the yard as warm as the roof counts only beyond what a site's own generation
# covers: turbines for hundreds of MW stand on a few hectares (xAI Colossus: about 35
# turbines, reference table turbine_mw_per_unit), up to about 5% of the 100 to 600 m yard
# (about 130 ha around a 15,000 m2 hall). Below that the share says nothing of a process
# area, and a model free to read it there learned a turbine yard hotter than the roof as a
# refinery's (a lone off-grid hall's score fell from 0.41 to 0.25 as 2% of its yard reached
# the roof's heat; docs/evaluation.md).
HOT_SHARE_FLOOR = 0.05
# A building's own evidence that lets its campus count: a cold-season roof at least this much
# above its surroundings (the heat-island floor that survives TIRS blurring; ANOMALY_K in
# detectors/thermal.py), or a metered share of a substation's load.
OWN_HEAT_K = 2.0
# IT MW from heat: the roof's heat as TIRS shows it, and its size (the regressors, trained on
# halls of every size they are used on, learn the blur with the size; heat read through the
# blur was judged for the score only, docs/evaluation.md). Not the yard's: a yard's heat says
# power is made there, not how much (the simulator draws every yard at 20 to 45 K whatever
# the site's load, so a regressor could only learn noise from it).
THERMAL_MW_FEATURES = [f for f in FEATURE_GROUPS["thermal"]
                       if f not in ("thermal_yard_k", "thermal_yard_hot_share")] + \
    FEATURE_GROUPS["footprint"]
MW_QUANTILES = (0.1, 0.5, 0.9)  # the SPEC's 80% interval and its middle
# TIRS blurs a roof's heat over its surroundings: a Gaussian point spread of FWHM about its
# 100 m native pixel (Landsat 8/9, USGS LSDS-1574), sigma = 100 / 2.355 m. A square roof of
# side L keeps, on average over the roof, m(L)^2 of its true excess and, at its centre,
# erf(L / (2 sqrt2 sigma))^2 (the hottest pixel): 15% and 16% for a 2,000 m2 hall, 62% and
# 88% for 25,000 m2, 83% and 100% for 150,000 m2. Uncorrected, a model that saw only small
# halls read a large one's undiluted heat as hotter than any AI hall it knew, a smelter's
# (docs/evaluation.md, the hall-size split).
TIRS_PSF_SIGMA_M = 100.0 / 2.355
# Heat measured as the roof's mean excess over its ring, and as its hottest pixel's.
ROOF_MEAN_HEAT = ["thermal_delta_k", "thermal_cold_season_delta_k",
                  "thermal_warm_season_delta_k", "thermal_own_heat_k", "thermal_waste_k",
                  "thermal_solar_slope_k"]
ROOF_PEAK_HEAT = ["thermal_hotspot_k"]


def blur_coverage(area_m2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of a square roof's true excess TIRS shows on average over it and at its centre.

    The mean of a Gaussian-blurred box over the box, per axis erf(a) - (1 - exp(-a^2)) /
    (a sqrt(pi)) with a = L / (sqrt2 sigma); NaN for a missing or non-positive area.
    """
    from scipy.special import erf

    side = np.sqrt(np.where(np.asarray(area_m2, float) > 0, area_m2, np.nan))
    a = side / (np.sqrt(2.0) * TIRS_PSF_SIGMA_M)
    mean_axis = erf(a) - (1.0 - np.exp(-a * a)) / (a * np.sqrt(np.pi))
    return mean_axis ** 2, erf(a / 2.0) ** 2


def resolve_roof_heat(features: pd.DataFrame) -> pd.DataFrame:
    """Roof heat as the roof holds it, not as TIRS's blur dilutes it over a small roof.

    Each roof-born heat feature is divided by the share of excess its roof keeps after the
    blur (blur_coverage), floored at 1 / sqrt(clear scenes) so that no reading is made
    noisier than one scene's, and halls of every size are read on one scale (issue 10:
    evidence in K, scale-free).
    """
    if "footprint_m2" not in features:
        return features
    # Dividing by the coverage divides the noise too: a median over n clear scenes carries
    # 1/sqrt(n) of one scene's noise, so the heat is multiplied by at most sqrt(n) and is never
    # noisier than one clear scene's reading as TIRS shows it. One scene: no correction; four:
    # at most twofold; sixteen: fourfold. A fixed twofold cap (cw-0.12.0) gave up most of what
    # the correction bought for large halls (docs/evaluation.md).
    scenes = features.get("thermal_scenes_used", pd.Series(np.nan, features.index)) \
        .to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = np.where(scenes >= 1, 1.0 / np.sqrt(scenes), 1.0)
    mean_cov, peak_cov = (np.fmax(c, floor)
                          for c in blur_coverage(features["footprint_m2"].to_numpy()))
    out = features.copy()
    for cols, cov in ((ROOF_MEAN_HEAT, mean_cov), (ROOF_PEAK_HEAT, peak_cov)):
        for col in cols:
            if col in out:
                out[col] = out[col].to_numpy(float) / cov
    return out


def gate_campus_features(features: pd.DataFrame) -> pd.DataFrame:
    """Campus size and yard heat only for buildings with evidence of their own.

    A cluster of ordinary warehouses is a campus of many hectares of roof; that may raise a
    building's score only when the building itself is hot in the cold season or metered.
    A hot yard says where power is made on site, so it stands in for the meter: it counts
    only for a building hot itself with no meter attributed (a shed beside a power plant has
    a hot yard too). Else the yard counts as no warmer than the surroundings.
    """
    hot = (features.get("thermal_cold_season_delta_k", pd.Series(np.nan, features.index))
           .fillna(-np.inf) >= OWN_HEAT_K).to_numpy()
    metered = features.get("has_grid", pd.Series(0.0, features.index)).fillna(0) \
        .astype(bool).to_numpy()
    out = features.copy()
    if "campus_area_m2" in out and "footprint_m2" in out:
        out["campus_area_m2"] = np.where(hot | metered, out["campus_area_m2"],
                                         out["footprint_m2"])
    if "thermal_yard_k" in out:
        out["thermal_yard_k"] = np.where(hot & ~metered, out["thermal_yard_k"],
                                         np.minimum(out["thermal_yard_k"], 0.0))
    return out


def feature_matrix(features: pd.DataFrame, columns: list[str] = FEATURES,
                   resolve_heat: bool = True) -> np.ndarray:
    """The model's input in a fixed column order; missing evidence stays NaN.

    Campus features are gated by the building's own evidence, roof heat is read through
    TIRS's blur (resolve_roof_heat, unless resolve_heat is False), sizes are capped at the
    largest real ones (campus area floored at one frontier building's), the price-spike
    ratio at a flat load's and the yard's hot share floored at what turbines cover, for
    training and scoring alike.
    """
    gated = gate_campus_features(features)
    frame = (resolve_roof_heat(gated) if resolve_heat else gated).reindex(columns=columns) \
        .astype(float)
    bounds = {**{col: (SIZE_FLOORS.get(col), cap) for col, cap in SIZE_CAPS.items()},
              "price_spike_ratio": (None, SPIKE_RATIO_CAP),
              "thermal_yard_hot_share": (HOT_SHARE_FLOOR, None)}
    for col, (low, high) in bounds.items():
        if col in frame:
            frame[col] = frame[col].clip(lower=low, upper=high)
    matrix: np.ndarray = frame.to_numpy()
    return matrix


def fit_scorer(x: np.ndarray, is_ai: np.ndarray, sample_weight: np.ndarray, seed: int,
               columns: list[str] = FEATURES) -> HistGradientBoostingClassifier:
    """The binary AI-cluster model, monotonic where MONOTONE says physics is known."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=400, learning_rate=0.06, max_leaf_nodes=31, min_samples_leaf=20,
        l2_regularization=1.0, early_stopping=False, random_state=seed,
        monotonic_cst=[MONOTONE.get(c, 0) for c in columns])
    return model.fit(x, is_ai, sample_weight=sample_weight)


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
    scorer: CalibratedClassifierCV | None = None

    def probabilities(self, features: pd.DataFrame) -> pd.DataFrame:
        """Calibrated class probabilities, one column per class of CLASSES.

        With a scorer, ai_training is the scorer's probability and the other classes share
        the rest in the class model's proportions.
        """
        x = feature_matrix(features, self.features)
        proba = self.classifier.predict_proba(x)
        cols = list(self.classifier.classes_)
        out = pd.DataFrame(proba, index=features.index, columns=cols).reindex(
            columns=CLASSES, fill_value=0.0)
        if self.scorer is None:
            return out
        score = self.scorer.predict_proba(x)[:, list(self.scorer.classes_).index(True)]
        others = out.drop(columns="ai_training")
        total = others.sum(axis=1).to_numpy()
        shares = np.where(total[:, None] > 1e-9, others.to_numpy() / np.maximum(
            total[:, None], 1e-9), 1.0 / others.shape[1])
        out[others.columns] = shares * (1.0 - score)[:, None]
        out["ai_training"] = score
        return out

    def thermal_mw(self, features: pd.DataFrame) -> pd.DataFrame:
        """IT MW quantiles (q10, q50, q90) from heat alone; NaN without thermal evidence."""
        x = feature_matrix(features, THERMAL_MW_FEATURES, resolve_heat=False)
        out = pd.DataFrame({k: np.exp(r.predict(x)) for k, r in self.mw_regressors.items()},
                           index=features.index)
        out[features["thermal_scenes_used"].fillna(0).to_numpy() == 0] = np.nan
        return out

    def reasons(self, features: pd.DataFrame, top: int = 3,
                base: np.ndarray | None = None) -> list[list[str]]:
        """Evidence groups that moved each score most: the score drop when a group is hidden.

        One batched prediction over the features with each group hidden in turn (and the
        features as they are, unless base gives their scores already).
        """
        frames = [] if base is not None else [features]
        for cols in FEATURE_GROUPS.values():
            hidden = features.copy()
            hidden[[c for c in cols if c in hidden.columns]] = np.nan
            frames.append(hidden)
        scores = self.probabilities(pd.concat(frames, ignore_index=True))[
            "ai_training"].to_numpy().reshape(len(frames), len(features))
        if base is None:
            base, scores = scores[0], scores[1:]
        table = pd.DataFrame(np.asarray(base)[None, :] - scores, index=list(FEATURE_GROUPS)).T
        return [list(row.abs().sort_values(ascending=False).index[:top])
                for _, row in table.iterrows()]
