"""Score facilities and estimate their compute: the table behind candidates.geojson."""

from __future__ import annotations

import numpy as np
import pandas as pd

from detectors.classifier import CLASSES, OWN_HEAT_K, Model
from detectors.compute import ComputeAssumptions, compute_capacity, it_mw_from_facility
from detectors.reasons import YARD_NOTE_K, describe
from detectors.thermal import NOISE_K


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
                                                              "none")),
        # The heat-only low end for metered halls too: a meter attributed to the wrong campus
        # must not hide a hall whose roofs say it is big (the never-drop rule reads both).
        "heat_it_mw_low": q[:, 0]}, index=features.index)


def campus_low_it_mw(features: pd.DataFrame, scored: pd.DataFrame,
                     yard_density_w_m2: float) -> pd.DataFrame:
    """Per facility, its campus's conservative IT MW and its basis: what never-drop judges.

    The metered halls' est_it_mw_low summed, or the heat-only low estimates of halls with
    heat of their own in the cold season (OWN_HEAT_K, as the campus gate asks), whichever is
    more, metered halls included: a substation attributed to the wrong campus (a shared
    feeder, a nearer warehouse park) leaves a hot campus a small meter, and issue 10 asks
    for the metered or the thermal estimate. A hall only warmer than the sensor's noise
    counts alone, since a learned heat-to-MW model sums to noise over many lukewarm roofs,
    and a colder one not at all (its estimate is the footprint's size prior, not evidence).

    A campus with no meter that makes its own power (a building of it past the noise in the
    cold season beside a yard YARD_NOTE_K up: turbines) counts its roofs at
    yard_density_w_m2, the least IT density real AI campuses draw, where that says more than
    its heat: a yard says power is made there but not how much, and halls that hide their
    heat (evaporative cooling, cloudy years) still bound what they could hold.
    Returns frontier_it_mw and frontier_basis ("meter", "heat" or "yard"; None without any).
    """
    low = scored["est_it_mw_low"].where(scored["est_it_mw_basis"] == "grid")
    campus = features["campus_id"]
    metered = campus.map(low.groupby(campus).sum(min_count=1))
    cold_k, yard_k = (np.nan_to_num(features.get(col, pd.Series(np.nan, index=features.index))
                                    .to_numpy(dtype=float), nan=-np.inf)
                      for col in ("thermal_cold_season_delta_k", "thermal_yard_k"))
    heat_low = scored["heat_it_mw_low"]
    alone = heat_low.where(cold_k >= NOISE_K)
    hot = heat_low.where(cold_k >= OWN_HEAT_K)
    heat = pd.concat([alone, campus.map(hot.groupby(campus).sum(min_count=1))],
                     axis=1).max(axis=1)
    makes_power = pd.Series((cold_k >= NOISE_K) & (yard_k >= YARD_NOTE_K), index=features.index)
    own_power = campus.map(makes_power.groupby(campus).any()).astype(bool) & metered.isna()
    area = features.get("campus_area_m2", pd.Series(np.nan, index=features.index))
    roofs = (area * yard_density_w_m2 / 1e6).where(own_power)
    from_yard = roofs.fillna(-np.inf) > heat.fillna(-np.inf)
    heat_or_yard = roofs.where(from_yard, heat)
    over_meter = heat_or_yard.fillna(-np.inf) > metered.fillna(-np.inf)
    meter = pd.Series("meter", index=features.index).where(metered.notna())
    return pd.DataFrame({
        "frontier_it_mw": np.where(over_meter, heat_or_yard, metered),
        "frontier_basis": pd.Series(np.where(from_yard, "yard", "heat"), index=features.index)
        .where(over_meter, meter)}, index=features.index)


def frontier_capable(campus_mw: pd.Series, a: ComputeAssumptions, horizon_days: float,
                     floor_it_mw: float) -> pd.Series:
    """Days for a campus of campus_mw IT (campus_low_it_mw) to train a frontier model.

    It must reach the threshold FLOP within horizon_days at the slow end of the compute
    interval, and reach floor_it_mw: below that, heat and a shared meter cannot tell compute
    from other load. Returns, per facility, the days where capable, else NaN.
    """
    mw = campus_mw.to_numpy(dtype=float)
    days = compute_capacity(mw, a, mw, mw)["days_to_1e25_flop_high"]
    ok = (mw >= floor_it_mw) & (days <= horizon_days)
    return pd.Series(np.where(ok, days, np.nan), index=campus_mw.index)


def exported(scored: pd.DataFrame, export_threshold: float) -> pd.Series:
    """What goes to candidates.geojson: a score at the threshold, or a frontier-capable campus.

    Never drop what could train a frontier model: such a campus is exported whatever the
    classifier says (declared or not; candidates.py flags which).
    """
    capable = scored["frontier_days"].notna() if "frontier_days" in scored else False
    keep: pd.Series = (scored["score"] >= export_threshold) | capable
    return keep


def explain(features: pd.DataFrame, model: Model, scores: pd.Series) -> list[list[str]]:
    """top_reasons of some facilities: the evidence groups whose hiding moves the score most.

    Eight predictions a facility: done only for what is exported (a few hundred of a
    state's 16,000 buildings).
    """
    if not len(features):
        return []
    groups = model.reasons(features, base=scores.to_numpy())
    return [describe(row, g) for (_, row), g in zip(features.iterrows(), groups)]


def score(features: pd.DataFrame, model: Model, a: ComputeAssumptions) -> pd.DataFrame:
    """Class probabilities, score, IT MW and compute for every facility (reasons: explain)."""
    proba = model.probabilities(features)
    out = pd.DataFrame(index=features.index)
    out["score"] = proba["ai_training"]
    out["predicted_class"] = proba.idxmax(axis=1)
    out["class_probabilities"] = [dict(zip(CLASSES, map(float, row)))
                                  for row in proba[CLASSES].to_numpy()]
    mw = estimate_it_mw(features, model.thermal_mw(features), a)
    out = out.join(mw)
    out = out.join(pd.DataFrame(compute_capacity(out["est_it_mw"].to_numpy(), a,
                                                 out["est_it_mw_low"].to_numpy(),
                                                 out["est_it_mw_high"].to_numpy()),
                                index=features.index))
    return out
