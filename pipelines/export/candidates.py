"""Build the candidate features of the output contract: pure, no file is written here."""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from detectors.scoring import exported
from pipelines.bundle.reader import RegionBundle

COORD_DECIMALS = 6  # RFC 7946 advice; about 0.1 m
EVIDENCE = ["thermal_delta_k", "thermal_cold_season_delta_k", "thermal_scenes_used",
            "thermal_yard_k", "mean_mw",
            "load_factor", "diurnal_amplitude", "price_response", "power_density_w_m2",
            "footprint_m2", "substation_distance_m"]
# What a frontier-capable campus's low estimate came from (detectors/scoring.py).
BASIS = {"meter": "its metered load", "heat": "its roofs' heat",
         "yard": "its roofs at the least density AI campuses draw, as it makes its own power"}
ESTIMATES = ["est_it_mw", "est_it_mw_low", "est_it_mw_high", "est_h100_equivalents",
             "est_h100_equivalents_at_hardware_year", "est_dense_bf16_pflops",
             "days_to_1e25_flop", "days_to_1e25_flop_low", "days_to_1e25_flop_high"]
DECIMALS = {"score": 4, "est_it_mw": 2, "est_it_mw_low": 2, "est_it_mw_high": 2,
            "est_h100_equivalents": 0, "est_h100_equivalents_at_hardware_year": 0,
            "est_dense_bf16_pflops": 1, "days_to_1e25_flop": 1, "days_to_1e25_flop_low": 1,
            "days_to_1e25_flop_high": 1,
            "thermal_delta_k": 2, "thermal_cold_season_delta_k": 2, "thermal_yard_k": 2,
            "mean_mw": 2,
            "load_factor": 3, "diurnal_amplitude": 3, "price_response": 3,
            "power_density_w_m2": 1, "footprint_m2": 0, "substation_distance_m": 0}


@dataclass(frozen=True)
class RunInfo:
    """Who made these candidates: the run, the model, the thresholds, when."""

    run_id: str
    model_version: str
    run_time: str
    export_threshold: float
    alert_threshold: float
    declared_within_m: float = 100.0


def clean(value: object, decimals: int | None = None) -> object:
    """JSON-ready: numpy scalars to Python, NaN to None, floats rounded."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if math.isnan(value) or math.isinf(value):
            return None
        value = float(value)
        if decimals == 0:
            return int(round(value))
        return round(value, decimals) if decimals is not None else value
    return value


def declared_matches(facilities: gpd.GeoDataFrame, declared: gpd.GeoDataFrame | None,
                     within_m: float = 100.0) -> pd.DataFrame:
    """declared_id and declared_it_mw of the declaration each facility overlaps or is near."""
    out = pd.DataFrame({"declared_id": None, "declared_it_mw": np.nan},
                       index=facilities.index)
    if declared is None or len(declared) == 0:
        return out
    tree = shapely.STRtree(declared.geometry.values)
    fac_idx, dec_idx = tree.query(facilities.geometry.values, predicate="dwithin",
                                  distance=within_m)
    if len(fac_idx):
        dist = shapely.distance(facilities.geometry.values[fac_idx],
                                declared.geometry.values[dec_idx])
        best = pd.DataFrame({"f": fac_idx, "d": dec_idx, "dist": dist}).sort_values(
            "dist").drop_duplicates("f")
        rows = facilities.index[best["f"].to_numpy()]
        out.loc[rows, "declared_id"] = declared["declared_id"].to_numpy()[best["d"]]
        out.loc[rows, "declared_it_mw"] = declared["declared_it_mw"].to_numpy()[best["d"]]
    return out


def with_states(gdf: gpd.GeoDataFrame, features: list[dict]) -> gpd.GeoDataFrame:
    """Copy alert_state, status, first_seen, last_seen and change_reason from stored Features."""
    props = {str(f["id"]): f["properties"] for f in features}
    out = gdf.copy()
    for col in ("alert_state", "status", "first_seen", "last_seen", "change_reason"):
        out[col] = [props[fid].get(col) for fid in out["facility_id"]]
    return out


def _reasons(s: pd.Series, capable: bool, declared_id: str | None) -> list[str]:
    """top_reasons, led for a frontier-capable campus by why it is exported whatever its score."""
    if not capable:
        return list(s["top_reasons"])
    days = f"its campus could reach 1e25 FLOP in {s['frontier_days']:.0f} days even on its " \
        f"low estimate of {s['frontier_it_mw']:.0f} MW IT (from {BASIS[s['frontier_basis']]}) " \
        "and the slow end of the compute assumptions"
    why = f"; it is declared ({declared_id}): exported to set against its declaration" \
        if declared_id else ", and it is not declared: exported whatever its class"
    return [days + why, *s["top_reasons"]]


def columns() -> list[str]:
    """The candidate fields in the contract's order (what an empty export still carries)."""
    return ["facility_id", "name", "score", "predicted_class", "class_probabilities", "alert",
            *ESTIMATES, "est_it_mw_basis", *EVIDENCE, "frontier_capable", "top_reasons",
            "declared",
            "declared_id", "declared_it_mw", "exceeds_declared", "alert_state", "status",
            "change_reason", "first_seen", "last_seen", "run_id", "model_version", "sources"]


def candidate_frame(bundle: RegionBundle, features: pd.DataFrame, scored: pd.DataFrame,
                    info: RunInfo) -> gpd.GeoDataFrame:
    """One row per facility at or above the export threshold, in the contract's field order."""
    decl = declared_matches(bundle.facilities, bundle.declared, info.declared_within_m)
    capable = scored["frontier_days"].notna() if "frontier_days" in scored else pd.Series(
        False, index=scored.index)
    frontier = capable & decl["declared_id"].isna()
    # Never drop what could train a frontier model: exported whatever the classifier says;
    # a declared one too (flagged declared, not frontier_capable), so a verification team
    # can set what it sees against what was declared (SPEC: no campus over 100 MW left out).
    keep = exported(scored, info.export_threshold)
    ids = scored.index[keep]
    facs = bundle.facilities.loc[ids]
    # A declaration covers a campus: compare its halls' summed low estimate with it.
    declared_low = scored["est_it_mw_low"].groupby(decl["declared_id"]).sum(min_count=1)
    rows = []
    for fid in ids:
        f, s, d = features.loc[fid], scored.loc[fid], decl.loc[fid]
        declared = d["declared_id"] is not None
        site_low = declared_low.get(d["declared_id"], np.nan) if d["declared_id"] else np.nan
        rows.append({
            "facility_id": fid, "name": clean(facs.at[fid, "name"]),
            "score": clean(s["score"], 4), "predicted_class": s["predicted_class"],
            "class_probabilities": {k: round(v, 4) for k, v in s["class_probabilities"].items()},
            "alert": bool(s["score"] >= info.alert_threshold),
            **{k: clean(s[k], DECIMALS[k]) for k in ESTIMATES},
            "est_it_mw_basis": s["est_it_mw_basis"],
            **{k: clean(f[k], DECIMALS.get(k)) for k in EVIDENCE},
            "frontier_capable": bool(frontier[fid]),
            "top_reasons": _reasons(s, bool(capable[fid]), d["declared_id"]),
            "declared": declared, "declared_id": d["declared_id"],
            "declared_it_mw": clean(d["declared_it_mw"], 2),
            "exceeds_declared": bool(declared and site_low > d["declared_it_mw"]),
            "alert_state": "new", "status": "new", "change_reason": None,
            "first_seen": info.run_time,
            "last_seen": info.run_time, "run_id": info.run_id,
            "model_version": info.model_version,
            "sources": {"scenes": [x for x in str(f.get("thermal_scene_ids") or "").split(";")
                                   if x],
                        "node": clean(f.get("node_id")) if isinstance(f.get("node_id"), str)
                        else None}})
    frame = pd.DataFrame(rows, columns=None if rows else columns())
    gdf = gpd.GeoDataFrame(frame, geometry=list(facs.geometry.values), crs=bundle.facilities.crs)
    return gdf.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
