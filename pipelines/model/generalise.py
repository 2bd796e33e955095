"""The generalisation protocol: how the detector holds on worlds it was not built on.

Leave-one-factor-out: for each factor the simulator varies, a model is trained and calibrated
on regions drawn from one part of the factor's range and judged on regions drawn from the
other part. The stress preset judges the shipped model on regions outside the training ranges
on every axis at once. A score on the simulator's own ranges says little; these say how the
evidence, not the priors, carries.

Seeds: split training regions 300000+, calibration 310000+, evaluation 320000+; stress
evaluation 950001+ (930001+ were looked at while developing the features). None is used by
`computewatch train`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line lists the splits without loading the model's stack
    from pathlib import Path

    import pandas as pd

    from detectors.classifier import Model
    from pipelines.detect.stages import DetectOptions
    from pipelines.settings import DetectSettings

log = logging.getLogger("computewatch")
SPLIT_TRAIN, SPLIT_CAL, SPLIT_EVAL, STRESS_SEED = 300_000, 310_000, 320_000, 950_001
COUNTY_SEED = 940_001
Ranges = dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Split:
    """One factor: the part of its range trained on and the part judged on."""

    factor: str
    train: Ranges
    judge: Ranges


SPLITS = {s.factor: s for s in (
    Split("hall size", {"ai_hall_area_m2": (2_000.0, 25_000.0)},
          {"ai_hall_area_m2": (25_000.0, 150_000.0)}),
    Split("climate and latitude", {"latitude": (22.0, 38.0)}, {"latitude": (40.0, 58.0)}),
    Split("cloudiness", {"scene_cloud_cover": (0.0, 0.4)}, {"scene_cloud_cover": (0.4, 0.95)}),
    Split("cooling type", {"sensible_heat_fraction": (0.07, 0.15)},
          {"sensible_heat_fraction": (0.02, 0.07)}),
    Split("substation distance", {"substation_distance_m": (50.0, 400.0)},
          {"substation_distance_m": (400.0, 2_000.0)}),
    # Trained as the shipped model is, every off-grid site beside its yard; judged where none
    # shows one: the yard is most of what finds a hall off the grid (docs/evaluation.md).
    Split("generation yard", {"off_grid_yard_share": (1.0, 1.0)},
          {"off_grid_yard_share": (0.0, 0.0)}),
    # Trained where few warehouses stand in parks and no refinery is drawn; judged where parks
    # are common and refineries stand, flat meters beside hot process areas.
    Split("confuser mix", {"logistics_park_share": (0.05, 0.1), "refinery_share": (0.0, 0.0)},
          {"logistics_park_share": (0.1, 0.2), "refinery_share": (1.0, 1.0)}),
)}


@dataclass
class SplitResult:
    """What one split (or the stress preset) measured, pooled over its judging regions."""

    name: str
    trained_on: str
    judged_on: str
    summary: dict


def run_split(split: Split, n_train: int, n_cal: int, n_eval: int, jobs: int,
              export_threshold: float, model_seed: int = 0) -> SplitResult:
    """Train on one part of a factor's range, calibrate there, judge on the other part.

    model_seed draws the model's randomness (scorers, augmentation) on the same regions: a
    change is judged at fresh model seeds, as the seed alone moves a split by a few sites.
    """
    from pipelines.detect.stages import DetectOptions
    from pipelines.model.card import summarise
    from pipelines.model.train import CACHE_DIR, build_tables, choose_alert_threshold, fit_model

    log.info("split %s: training on %s, judging on %s", split.factor, split.train, split.judge)
    train_t = build_tables([SPLIT_TRAIN + i for i in range(n_train)], "train", jobs, CACHE_DIR,
                           split.train)
    cal_t = build_tables([SPLIT_CAL + i for i in range(n_cal)], "county", jobs, CACHE_DIR,
                         split.train)
    model = fit_model(train_t, cal_t, model_seed, f"split-{split.factor}")
    opts = DetectOptions(export_threshold, choose_alert_threshold(model, cal_t))
    log.info("split %s: alert threshold %.2f from its calibration regions", split.factor,
             opts.alert_threshold)
    evals = judge_regions(model, [SPLIT_EVAL + i for i in range(n_eval)], "county", opts,
                          split.judge, jobs)
    return SplitResult(split.factor, _text(split.train), _text(split.judge),
                       {**summarise(evals), "alert_threshold": opts.alert_threshold})


def judge_regions(model: Model, seeds: list[int], preset: str, opts: DetectOptions,
                  ranges: Ranges | None, jobs: int) -> list[dict]:
    """Simulate and detect each judging region as the flow does, `jobs` regions at a time."""
    from concurrent.futures import ProcessPoolExecutor

    from pipelines.model.card import holdout_region

    n = len(seeds)
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, n))) as pool:
        return [r[0] for r in pool.map(holdout_region, [model] * n, seeds, [preset] * n,
                                       [opts] * n, [ranges] * n)]


def run_shipped(model: Model, preset: str, n_eval: int, opts: DetectOptions,
                jobs: int) -> SplitResult:
    """The shipped model on fresh regions of a preset.

    `county` lies within its training ranges, `stress` outside them on every axis.
    """
    from pipelines.model.card import summarise

    first = STRESS_SEED if preset == "stress" else COUNTY_SEED
    evals = judge_regions(model, [first + i for i in range(n_eval)], preset, opts, None, jobs)
    judged = "outside them on every axis (presets.py)" if preset == "stress" else \
        f"fresh `{preset}` regions within them"
    return SplitResult(f"shipped model, {preset} preset", "the reference table's ranges",
                       judged, {**summarise(evals), "alert_threshold": opts.alert_threshold})


def _text(ranges: Ranges) -> str:
    return "; ".join(f"{k} {lo:g} to {hi:g}" for k, (lo, hi) in ranges.items())


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.0f}%"


def table(results: list[SplitResult]) -> pd.DataFrame:
    """One row per split: the SPEC's measures on the judging regions."""
    import pandas as pd

    return pd.DataFrame([{
        "split": r.name, "trained on": r.trained_on, "judged on": r.judged_on,
        "AI sites >= 20 MW": r.summary["ai_sites_20mw"],
        "recall": _pct(r.summary["recall_ai_20mw"]),
        "MW-weighted recall": _pct(r.summary["mw_recall_ai_20mw"]),
        "alert precision": _pct(r.summary["precision_alerts_ai"]),
        "off-grid recall": _pct(r.summary["recall_off_grid"]),
        "campuses > 100 MW not exported": r.summary["campuses_over_100mw_not_exported"],
        "AI sites with their own meter": f"{r.summary['ai_meters_own']} of "
                                         f"{r.summary['ai_meters']}",
        "MW error (grid)": _pct(r.summary["mw_median_ape_on_grid"]),
        "alert threshold": r.summary["alert_threshold"]} for r in results])


def markdown(results: list[SplitResult], command: str) -> str:
    """The table as Markdown, with the command that made it and the targets."""
    frame = table(results)
    cols = list(frame.columns)
    lines = [f"Made by `{command}`. Targets (SPEC): recall >= 95%, MW-weighted recall >= 98%, "
             "alert precision >= 90%, off-grid recall >= 80%, no campus over 100 MW left out.",
             "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.to_numpy()]
    pooled = pooled_splits([r for r in results if r.name in SPLITS])
    if pooled:
        lines += ["", pooled]
    return "\n".join(lines) + "\n"


def pooled_splits(results: list[SplitResult]) -> str:
    """The split rows' sites and alerts summed: what a change is judged on, as counts.

    Each row is a handful of sites, so a change shows in the pooled counts first.
    """
    sites = sum(r.summary["ai_sites_20mw"] for r in results)
    if not sites:
        return ""
    found = sum(r.summary["ai_sites_found"] for r in results)
    alerts = sum(r.summary["alerts"] for r in results)
    hits = sum(r.summary["alerts_ai"] for r in results)
    share = f" ({100 * hits / alerts:.1f}%)" if alerts else ""
    return (f"Over the split rows: {found} of {sites} AI sites of 20 MW or more found, "
            f"{hits} of {alerts} alerted buildings AI{share}.")


def generalise(settings: DetectSettings, splits: list[str], n_train: int, n_cal: int,
               n_eval: int, county_regions: int, stress_regions: int, jobs: int, command: str,
               out: Path | None = None, card: bool = False, model_seed: int = 0) -> str:
    """`computewatch generalise`: the splits and the shipped model's fresh regions, in Markdown.

    The split models are fitted at model_seed; the shipped model is judged on fresh county
    and stress regions; the table is also written to out, and into the model card when card
    is set.
    """
    from pipelines.atomic import atomic_write_text
    from pipelines.detect.stages import DetectOptions
    from pipelines.errors import UsageError
    from pipelines.model.card import put_generalisation
    from pipelines.model.store import MODEL_PATH, load_model

    unknown = sorted(set(splits) - set(SPLITS) - {"none"})
    if unknown:
        raise UsageError(f"unknown split(s) {unknown}; choose from {sorted(SPLITS)}")
    results = [run_split(SPLITS[name], n_train, n_cal, n_eval, jobs,
                         settings.thresholds.export, model_seed)
               for name in splits if name != "none"]
    opts = DetectOptions(settings.thresholds.export, settings.thresholds.alert,
                         settings.hardware_year)
    for preset, n in (("county", county_regions), ("stress", stress_regions)):
        if n:
            results.append(run_shipped(load_model(), preset, n, opts, jobs))
    text = markdown(results, command)
    if out:
        atomic_write_text(out, text)
        log.info("written to %s", out)
    if card:
        put_generalisation(MODEL_PATH.with_name("model_card.md"), text)
        log.info("model card updated")
    return text
