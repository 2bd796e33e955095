"""`computewatch evaluate`: recall, precision and MW error of candidates against truth.csv."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.errors import BundleError

LARGE_MW = 20.0  # SPEC: recall is measured on AI training clusters of 20 MW IT or more
CAMPUS_MW = 100.0  # SPEC: no campus over 100 MW IT may be left out of candidates.geojson
TRUTH_COLUMNS = ["facility_id", "site_id", "true_class", "it_mw", "on_grid", "declared"]


def read_truth(path: Path) -> pd.DataFrame:
    """truth.csv with its columns checked."""
    try:
        truth = pd.read_csv(path, dtype={"facility_id": str, "site_id": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BundleError(f"{path}: not readable as CSV ({exc})") from exc
    missing = [c for c in TRUTH_COLUMNS if c not in truth.columns]
    if missing:
        raise BundleError(f"{path}: missing columns {missing}; existing: {list(truth.columns)}")
    truth["on_grid"] = truth["on_grid"].astype(str).str.lower().isin(["true", "1"])
    return truth.set_index("facility_id")


def read_candidates(path: Path) -> pd.DataFrame:
    """The properties of candidates.geojson as a frame indexed by facility_id."""
    try:
        collection = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path}: not readable as GeoJSON ({exc})") from exc
    return candidates_frame(collection)


def candidates_frame(collection: dict) -> pd.DataFrame:
    """Feature properties of a FeatureCollection, indexed by Feature id."""
    rows = [{**f["properties"], "facility_id": str(f.get("id", f["properties"].get(
        "facility_id")))} for f in collection.get("features", [])]
    cols = ["facility_id", "alert", "predicted_class", "est_it_mw", "score"]
    return pd.DataFrame(rows, columns=None if rows else cols).set_index("facility_id")


def _ape_median(values: pd.Series) -> float | None:
    return None if values.empty else round(float(values.median()), 4)


def _sites(truth: pd.DataFrame) -> pd.DataFrame:
    """One row per site: its class, its IT MW summed over its buildings, on the grid or not."""
    return truth.groupby("site_id").agg(true_class=("true_class", "first"),
                                        it_mw=("it_mw", "sum"), on_grid=("on_grid", "all"))


def meter_census(features: pd.DataFrame, truth: pd.DataFrame,
                 own_substation: dict[str, str]) -> dict:
    """How many AI sites of 20 MW or more on the grid carry their own substation's meter.

    own_substation maps a site to the substation that feeds it (the simulator's world); a
    site counts when that node is among the nodes attributed to any of its buildings.
    """
    sites = _sites(truth)
    targets = sites[(sites["true_class"] == "ai_training") & (sites["it_mw"] >= LARGE_MW)
                    & sites["on_grid"] & sites.index.isin(list(own_substation))]
    nodes = features["node_id"].reindex(truth.index).fillna("").astype(str).str.split(";")
    held = nodes.groupby(truth["site_id"]).agg(lambda s: {n for ids in s for n in ids if n})
    own = sum(own_substation[site] in held.get(site, set()) for site in targets.index)
    return {"ai_meters": int(len(targets)), "ai_meters_own": int(own)}


def evaluate(candidates: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Per-site recall, per-alert precision, MW error and a confusion table."""
    sites = _sites(truth)
    joined = truth.join(candidates[["alert", "predicted_class", "est_it_mw"]], how="left")
    joined["alert"] = joined["alert"].fillna(False).astype(bool)
    alerted_sites = set(joined.loc[joined["alert"], "site_id"])
    exported_sites = set(joined.loc[joined["predicted_class"].notna(), "site_id"])
    targets = sites[(sites["true_class"] == "ai_training") & (sites["it_mw"] >= LARGE_MW)]
    found = targets.index.isin(list(alerted_sites))
    alerts = joined[joined["alert"]]
    est = joined.groupby("site_id")["est_it_mw"].sum(min_count=1)
    detected = targets[found].assign(est_it_mw=est.reindex(targets[found].index))
    ape = ((detected["est_it_mw"] - detected["it_mw"]).abs() / detected["it_mw"]).dropna()
    confusion = pd.crosstab(joined["true_class"],
                            joined["predicted_class"].fillna("not_exported"))
    return {
        "ai_sites_20mw": int(len(targets)), "ai_sites_found": int(found.sum()),
        "ai_mw_20mw": round(float(targets["it_mw"].sum()), 2),
        "ai_sites_20mw_off_grid": int((~targets["on_grid"]).sum()),
        "ai_sites_found_off_grid": int(found[~targets["on_grid"].to_numpy()].sum()),
        "recall_ai_20mw": round(float(found.mean()), 4) if len(targets) else None,
        "mw_recall_ai_20mw": round(float(targets["it_mw"][found].sum() / targets["it_mw"].sum()),
                                   4) if len(targets) else None,
        "campuses_over_100mw_not_exported": sorted(
            s for s in targets.index[targets["it_mw"] > CAMPUS_MW] if s not in exported_sites),
        "recall_ai_20mw_on_grid": _rate(found[targets["on_grid"].to_numpy()]),
        "recall_ai_20mw_off_grid": _rate(found[~targets["on_grid"].to_numpy()]),
        "alerts": int(len(alerts)),
        "precision_alerts_ai": _rate((alerts["true_class"] == "ai_training").to_numpy()),
        "precision_alerts_any_datacenter": _rate(alerts["true_class"].isin(
            ["ai_training", "cloud_datacenter"]).to_numpy()),
        "mw_median_ape_on_grid": _ape_median(ape[detected.loc[ape.index, "on_grid"]]),
        "mw_median_ape_off_grid": _ape_median(ape[~detected.loc[ape.index, "on_grid"]]),
        "missed_sites": [{"site_id": s, "it_mw": round(float(r.it_mw), 1),
                          "on_grid": bool(r.on_grid)} for s, r in targets[~found].iterrows()],
        "confusion": {t: {p: int(n) for p, n in row.items() if n} for t, row in
                      confusion.iterrows()}}


def _rate(hits: np.ndarray) -> float | None:
    return round(float(np.mean(hits)), 4) if len(hits) else None


def format_evaluation(result: dict) -> str:
    """A table for the terminal."""
    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{100 * v:.1f}%"

    lines = [
        f"AI training sites >= {LARGE_MW:g} MW: {result['ai_sites_found']} of "
        f"{result['ai_sites_20mw']} found",
        f"  recall                      {pct(result['recall_ai_20mw'])}",
        f"  share of their MW found     {pct(result['mw_recall_ai_20mw'])}",
        f"  campuses > {CAMPUS_MW:g} MW not exported: "
        f"{', '.join(result['campuses_over_100mw_not_exported']) or 'none'}",
        f"  recall, grid-connected      {pct(result['recall_ai_20mw_on_grid'])}",
        f"  recall, off-grid            {pct(result['recall_ai_20mw_off_grid'])}",
        f"Alerts: {result['alerts']}",
        f"  precision (ai_training)     {pct(result['precision_alerts_ai'])}",
        f"  precision (any data centre) {pct(result['precision_alerts_any_datacenter'])}",
        "est_it_mw median absolute error of detected sites",
        f"  grid-connected              {pct(result['mw_median_ape_on_grid'])}",
        f"  off-grid                    {pct(result['mw_median_ape_off_grid'])}",
        "Confusion (true class -> predicted class of exported candidates):"]
    for true_class, row in result["confusion"].items():
        lines.append(f"  {true_class:20s} " + ", ".join(f"{k}: {v}" for k, v in row.items()))
    return "\n".join(lines) + "\n"
