"""Held-out evaluation of a trained model and the model card written beside it."""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from detectors.classifier import (
    CLASSES,
    FEATURES,
    HOT_SHARE_FLOOR,
    MONOTONE,
    SIZE_FLOORS,
    Model,
)
from pipelines.atomic import atomic_write_text
from pipelines.detect.engine import region_features
from pipelines.detect.stages import DetectOptions, score_and_build
from pipelines.export.geojson import feature_collection
from pipelines.model.evaluate import candidates_frame, evaluate, meter_census
from pipelines.model.probes import probe_table
from pipelines.model.train import (
    CAL_SEED_BASE,
    EVAL_SEEDS,
    SCORER_DRAWS,
    TRAIN_SEED_BASE,
    TrainResult,
)
from pipelines.sources.simulate import region_world, simulate

if TYPE_CHECKING:
    from pipelines.settings import DetectSettings

log = logging.getLogger("computewatch")


def holdout_region(model: Model, seed: int, preset: str, opts: DetectOptions,
                   ranges: dict[str, tuple[float, float]] | None = None
                   ) -> tuple[dict, pd.DataFrame]:
    """Simulate an unseen region, detect as the flow does, evaluate against its truth."""
    with tempfile.TemporaryDirectory(prefix="cw-eval-") as tmp:
        truth = simulate(tmp, seed=seed, preset=preset, ranges=ranges).set_index("facility_id")
        bundle, features = region_features(tmp, opts.node_max_distance_m)
        scored, cands = score_and_build(bundle, features, model, opts, "holdout", "")
    result = evaluate(candidates_frame(feature_collection(cands)), truth)
    result.update(meter_census(features, truth, own_substations(seed, preset, ranges)))
    per_fac = scored[["predicted_class"]].join(truth[["true_class"]])
    return result, per_fac


def own_substations(seed: int, preset: str,
                    ranges: dict[str, tuple[float, float]] | None = None) -> dict[str, str]:
    """Each simulated site's own substation (site_id -> node_id), from the region's world.

    The same world simulate builds for (seed, preset, ranges): the truth of which meter is
    whose, which the bundle does not carry.
    """
    world = region_world(seed, preset, ranges)
    return {site.site_id: site.node_id for site in world.sites if site.node_id}


def per_class_metrics(per_fac: pd.DataFrame) -> pd.DataFrame:
    """Precision and recall of the predicted class, per true class, over all facilities."""
    rows = {}
    for c in CLASSES:
        pred, true = per_fac["predicted_class"] == c, per_fac["true_class"] == c
        rows[c] = {"support": int(true.sum()),
                   "precision": float((pred & true).sum() / max(pred.sum(), 1)),
                   "recall": float((pred & true).sum() / max(true.sum(), 1))}
    return pd.DataFrame.from_dict(rows, orient="index")


def summarise(evals: list[dict]) -> dict:
    """Pool per-region results: recall over all target sites, precision over all alerts."""
    def pooled(num: str, den: str) -> float | None:
        n = sum(e[den] for e in evals)
        return None if n == 0 else sum(e[num] for e in evals) / n

    alerts = sum(e["alerts"] for e in evals)
    hits = sum(round((e["precision_alerts_ai"] or 0) * e["alerts"]) for e in evals)
    dc_hits = sum(round((e["precision_alerts_any_datacenter"] or 0) * e["alerts"])
                  for e in evals)

    def med(key: str) -> float | None:
        vals = [e[key] for e in evals if e[key] is not None]
        return float(np.median(vals)) if vals else None

    mw = sum((e["mw_recall_ai_20mw"] or 0) * e["ai_mw_20mw"] for e in evals)
    mw_total = sum(e["ai_mw_20mw"] for e in evals)
    return {"recall_ai_20mw": pooled("ai_sites_found", "ai_sites_20mw"),
            "mw_recall_ai_20mw": mw / mw_total if mw_total else None,
            "campuses_over_100mw_not_exported": sum(
                len(e["campuses_over_100mw_not_exported"]) for e in evals),
            "ai_sites_20mw": sum(e["ai_sites_20mw"] for e in evals),
            "ai_sites_found": sum(e["ai_sites_found"] for e in evals),
            "ai_meters": sum(e["ai_meters"] for e in evals),
            "ai_meters_own": sum(e["ai_meters_own"] for e in evals),
            "recall_off_grid": pooled("ai_sites_found_off_grid", "ai_sites_20mw_off_grid"),
            "alerts": alerts, "alerts_ai": hits,
            "precision_alerts_ai": hits / alerts if alerts else None,
            "precision_alerts_any_datacenter": dc_hits / alerts if alerts else None,
            "mw_median_ape_on_grid": med("mw_median_ape_on_grid"),
            "mw_median_ape_off_grid": med("mw_median_ape_off_grid")}


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _names(sign: int) -> str:
    """The features the scorer is constrained to follow in one direction, for the card."""
    return ", ".join(f"`{f}`" for f, s in MONOTONE.items() if s == sign)


PROBES_HEADING = "## Issue 10's sites"
GENERALISATION_HEADING = "## Generalisation (leave-one-factor-out and stress preset)"


def put_generalisation(card: Path, table_md: str) -> None:
    """Replace the card's generalisation section with a fresh table."""
    text = card.read_text()
    head, _, rest = text.partition(GENERALISATION_HEADING)
    tail = rest[rest.find("\n## "):] if "\n## " in rest else ""
    atomic_write_text(card, head.rstrip() + "\n\n" + GENERALISATION_HEADING + "\n\n" +
                      table_md.rstrip() + "\n" + tail)


def probes_section(model: Model, alert_threshold: float) -> list[str]:
    """The card's lines on issue 10's sites (pipelines/model/probes.py) as the model scores them."""
    return [PROBES_HEADING, "",
            "The sites issue 10 reported, written as the features `detect` computes "
            "(pipelines/model/probes.py), scored by this model at its alert threshold "
            f"{alert_threshold}:", "", probe_table(model, alert_threshold), ""]


def write_model_card(path: Path, result: TrainResult, checksum: str, evals: list[dict],
                     per_class: pd.DataFrame, opts: DetectOptions, preset: str) -> str:
    """model_card.md: data, features, held-out metrics against the targets, failure modes."""
    s = summarise(evals)
    target = [("Recall, AI training sites >= 20 MW", _fmt(s["recall_ai_20mw"]), ">= 95%"),
              ("Share of their MW found", _fmt(s["mw_recall_ai_20mw"]), ">= 98%"),
              ("Campuses over 100 MW not exported", str(s["campuses_over_100mw_not_exported"]),
               "0"),
              ("Precision of alerts (ai_training)", _fmt(s["precision_alerts_ai"]), ">= 90%"),
              ("Precision of alerts (any data centre)", _fmt(s["precision_alerts_any_datacenter"]),
               "(context)"),
              ("Median abs. error of est_it_mw, grid-connected", _fmt(s["mw_median_ape_on_grid"]),
               "<= 20%"),
              ("Median abs. error of est_it_mw, off-grid", _fmt(s["mw_median_ape_off_grid"]),
               "(context)"),
              ("Recall, off-grid clusters", _fmt(s["recall_off_grid"]), ">= 80%")]
    missed = [m for e in evals for m in e["missed_sites"]]
    lines = [
        f"# Model card: computewatch classifier {result.model.version}", "",
        f"Built {datetime.now(timezone.utc):%Y-%m-%d} by `computewatch train`. "
        f"File `classifier.skops` (sha256 `{checksum}`), loaded only after the checksum and "
        "an explicit type allow-list (pipelines/model/store.py).", "",
        "## What it does",
        "Two calibrated HistGradientBoosting models. The scorer (binary) gives `score`, the "
        "probability that a building hosts an AI training cluster; it averages "
        f"{SCORER_DRAWS} scorers, each fitted on its own draw of the augmented copies (so "
        "one draw's luck does not set the threshold), calibrated together; each is constrained "
        "monotonic where physics knows the direction (as they grow, "
        f"{_names(1)} never lower it; {_names(-1)} never raise it). The class "
        f"model ({', '.join(CLASSES)}) shares what the scorer leaves among the other four. "
        "Missing evidence stays NaN with has_grid / has_thermal / has_price flags; sizes are "
        "capped at the largest real halls and campuses; campus area counts only for "
        "buildings that are hot in the cold season or metered, and never below one "
        f"frontier building's {SIZE_FLOORS['campus_area_m2']:,.0f} m2 (a lone hall is not "
        "penalised for standing alone). A hot yard (open ground 100 to 600 m out, where a "
        "site off the grid makes its power) stands in for the meter: it counts only for a "
        "building hot itself with no meter attributed. A meter counts as far as it is surely "
        "the building's: the share of the pull on its substation that the building's campus "
        "holds among every campus within reach (meter_claim_share). "
        "Open ground as warm as the roof "
        f"lowers a score only beyond the {HOT_SHARE_FLOOR:.0%} of the yard a site's turbines "
        "cover. Roof heat is read through TIRS's "
        "blur: divided by the share of a roof's excess a 100 m sensor shows of it, so "
        "halls of every size are compared at the heat their roofs hold (multiplied by at "
        "most the square root of the clear scenes behind it, so no reading is noisier "
        "than one scene's). Three quantile regressors (10%, 50%, 90%) "
        "give IT MW from heat as TIRS shows it and footprint alone, used for sites with "
        "no grid meter.", "",
        "## Training data",
        f"- {result.train_regions} simulated regions (preset `train`, seeds {TRAIN_SEED_BASE} to "
        f"{TRAIN_SEED_BASE + result.train_regions - 1}): {result.train_rows} facilities, "
        "augmented with copies that lose their thermal, price or grid evidence, "
        "copies of buildings of every class standing alone (campus area their own footprint), "
        "and copies of metered buildings of every class under a random warehouse's roof (an "
        "evaporatively cooled hall sheds its heat as vapour, so its roof may look ordinary).",
        f"- Calibration (sigmoid) and the alert threshold on {result.cal_regions} other regions "
        f"of preset `{result.cal_preset}` (seeds {CAL_SEED_BASE} to "
        f"{CAL_SEED_BASE + result.cal_regions - 1}): {result.cal_rows} facilities, so "
        "probabilities reflect how rare clusters are among a real region's buildings.",
        f"- Analyst labels: {result.label_rows} rows.",
        "- Every physical constant of the simulator is drawn per region within its published "
        "range (data/reference_defaults.csv): climate by latitude, roof albedo, cloud cover, "
        "meter gaps, campus layouts, PUE, sensible-heat share, confusers (crypto mines, "
        "smelters, steel works, refineries, gas plants, warehouses alone and in logistics "
        "parks, cold stores, decoy substations).", "",
        "## Features", ", ".join(f"`{f}`" for f in FEATURES), "",
        f"## Held-out evaluation ({len(evals)} regions, preset `{preset}`, seeds "
        f"{', '.join(map(str, EVAL_SEEDS[:len(evals)]))}; never used in training)",
        f"Thresholds: export {opts.export_threshold}, alert {opts.alert_threshold} (the lowest "
        "threshold reaching 92% alert precision on the calibration regions; flows.yaml "
        "should carry it).", "",
        "| measure | held-out | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in target]
    lines += ["", f"{s['ai_sites_20mw']} AI sites of 20 MW or more; {s['alerts']} alerts.", "",
              "Per-class precision and recall of the predicted class, all facilities:", "",
              "| class | support | precision | recall |", "|---|---|---|---|"]
    lines += [f"| {c} | {int(r.support)} | {r.precision:.3f} | {r.recall:.3f} |"
              for c, r in per_class.iterrows()]
    lines += ["", "Missed sites: " + (", ".join(f"{m['site_id']} ({m['it_mw']} MW, "
                                                 f"{'on' if m['on_grid'] else 'off'} grid)"
                                                 for m in missed) or "none"), "",
              *probes_section(result.model, opts.alert_threshold),
              "## Known failure modes",
              "- Trained on simulated physics only: real scenes, real meters and real tags may "
              "differ in ways the simulator does not know; recalibrate with analyst labels "
              "(`computewatch train --labels`).",
              "- est_it_mw assumes PUE 1.14 (range 1.1 to 1.4): a site at PUE 1.4 is "
              "overestimated by about 20%.",
              "- Off-grid sites are sized from heat alone; their intervals are wide.",
              "- A substation placed nearer to another large building than to the campus it "
              "feeds can be attributed to the wrong campus; a campus that loses its meter "
              "this way and rejects little sensible heat is missed. The generalisation "
              "table's column \"AI sites with their own meter\" counts, on each row's judging "
              "regions, the AI sites of 20 MW or more on the grid whose own substation reached "
              "one of their buildings; most of the rest go to a nearer warehouse or warehouse "
              "park, which then carries a flat meter that is not its own (docs/evaluation.md).",
              "- Outside its training ranges recall falls well below the 95% target: large "
              "sparse halls, evaporative cooling, cold climates and distant substations are "
              "the weak axes (the generalisation table below, and docs/evaluation.md).",
              "- Off-grid halls are told by heat alone: a hot yard beside them (turbines) "
              "raises them, but a miner on gas gensets has one too, and a lone unmetered hall "
              "of 15,000 m2 6 or 8 K up may score under the alert threshold even with a yard "
              "10 K up (the table of issue 10's sites above). A site whose "
              "generation shows no open yard (turbines within the hall's own 100 m blur, "
              "power from a plant farther away) is seldom alerted: see the off-grid recall of "
              "the generation-yard split, which judges regions where no off-grid site shows "
              "one (the generalisation table below).",
              "- False alerts outside the training ranges include crypto mines on a flat meter "
              "(load factor 0.98), warehouses attributed a flat meter that is not theirs "
              "(500 W/m2 against a warehouse's 8 to 25) and refinery buildings: a flat meter "
              "at an AI hall's density, a roof warmed by the process area beside it. Open "
              "ground as warm as the roof over much of the yard lowers them (the split models "
              "alert on 5 of 22 refineries, 16 buildings; 9 and 49 without that feature).",
              "- Roofs under about 13,400 m2 are not resolved by TIRS (100 m): their heat is "
              "read at no more than the square root of their clear scenes times what TIRS "
              "shows of it, so a small hot hall seen in few scenes counts for less than it "
              "holds.", "",
              GENERALISATION_HEADING, "",
              "Not yet measured for this model: run `computewatch generalise --card`.", ""]
    text = "\n".join(lines)
    atomic_write_text(path, text)
    return text


def train_and_card(settings: DetectSettings, regions: int, cal_regions: int, jobs: int,
                   seed: int, version: str, labels: Path | None, cal_preset: str,
                   eval_preset: str, eval_regions: int) -> str:
    """`computewatch train`: rebuild, ship and judge the model; returns its card's text.

    The card is written beside the model, from held-out regions of eval_preset.
    """
    from pipelines.model.store import MODEL_PATH, save_model
    from pipelines.model.train import train

    result = train(regions, cal_regions, jobs, seed, version, labels=labels,
                   cal_preset=cal_preset)
    checksum = save_model(result.model, MODEL_PATH)
    log.info("model saved to %s (sha256 %s)", MODEL_PATH, checksum[:12])
    if result.alert_threshold != settings.thresholds.alert:
        log.warning("flows.yaml has alert threshold %s; the calibration regions suggest %s "
                    "(precision 0.92): the card is evaluated at the suggestion",
                    settings.thresholds.alert, result.alert_threshold)
    opts = DetectOptions(settings.thresholds.export, result.alert_threshold,
                         settings.hardware_year)
    evals, per_fac = [], []
    for region_seed in EVAL_SEEDS[:eval_regions]:
        log.info("held-out evaluation on %s seed %d", eval_preset, region_seed)
        res, fac = holdout_region(result.model, region_seed, eval_preset, opts)
        evals.append(res)
        per_fac.append(fac)
    return write_model_card(MODEL_PATH.with_name("model_card.md"), result, checksum, evals,
                            per_class_metrics(pd.concat(per_fac)) if per_fac else
                            pd.DataFrame(), opts, eval_preset)
