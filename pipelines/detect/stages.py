"""Scoring a bundle's features into candidates, and the run report: options, results, clock."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from detectors.classifier import Model
from detectors.regional import RegionalParams
from detectors.scoring import campus_low_it_mw, explain, exported, frontier_capable, score
from pipelines.bundle.reader import RegionBundle
from pipelines.errors import ProblemLog
from pipelines.export.candidates import RunInfo, candidate_frame
from pipelines.export.reports import RunReport
from pipelines.reference import compute_assumptions, node_max_distance_m, ref

# The gradient-boosted trees predict in OpenMP threads. Scoring a county region (about
# 2,000 buildings, the score plus the reasons' batched prediction) took 2.8 to 3.1 s on one
# thread and 3.7 to 37 s on two while the other core was busy (benchmarks/score_threads.py):
# per-tree thread synchronisation costs more than it saves at this size, so one thread.
SCORE_THREADS = 1


@dataclass
class DetectOptions:
    """What a detect run needs beyond the bundle."""

    export_threshold: float
    alert_threshold: float
    hardware_year: int | None = None
    node_max_distance_m: float = field(default_factory=node_max_distance_m)
    declared_within_m: float = 100.0
    regional: RegionalParams = field(default_factory=RegionalParams)


@dataclass
class Scored:
    """What scoring a bundle produced: the cacheable part of a run."""

    candidates: gpd.GeoDataFrame
    model_inputs: dict[str, dict]
    counts: dict[str, int]
    period: tuple[pd.Timestamp, pd.Timestamp]
    region_name: str
    problems: ProblemLog
    scenes_used: int
    model_version: str
    complete: bool = True
    regional: gpd.GeoDataFrame | None = None


@dataclass
class StageClock:
    """Wall time per stage, for the run report and the benchmark."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, elapsed: float) -> None:
        """Accumulate time spent in a stage."""
        self.seconds[stage] = round(self.seconds.get(stage, 0.0) + elapsed, 3)


def score_and_build(bundle: RegionBundle, features: pd.DataFrame, model: Model,
                    opts: DetectOptions, run_id: str, run_time: str
                    ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Score assembled features and turn them into candidate rows."""
    from threadpoolctl import threadpool_limits

    hardware_year = opts.hardware_year or bundle.period[1].year
    a = compute_assumptions(hardware_year)
    with threadpool_limits(limits=SCORE_THREADS):
        scored = score(features, model, a)
    scored[["frontier_it_mw", "frontier_basis"]] = campus_low_it_mw(
        features, scored, ref("ai_it_density_w_m2").low)
    scored["frontier_days"] = frontier_capable(scored["frontier_it_mw"], a,
                                               ref("frontier_horizon_days").value,
                                               ref("frontier_floor_it_mw").value)
    keep = exported(scored, opts.export_threshold)
    with threadpool_limits(limits=SCORE_THREADS):
        reasons = explain(features[keep], model, scored.loc[keep, "score"])
    scored["top_reasons"] = pd.Series(reasons, index=scored.index[keep], dtype=object) \
        .reindex(scored.index)
    info = RunInfo(run_id, model.version, run_time, opts.export_threshold, opts.alert_threshold,
                   opts.declared_within_m)
    return scored, candidate_frame(bundle, features, scored, info)


def run_report(scored: Scored, candidates: pd.DataFrame, run_id: str, opts: DetectOptions,
               clock: StageClock, started: str, finished: str, inputs: dict[str, str],
               region: str) -> RunReport:
    """What happened in a run: counts, every skipped record, stage timings, input hashes."""
    problems = scored.problems
    alerts = int(candidates["alert"].sum()) if len(candidates) else 0
    return RunReport.model_validate({
        "run_id": run_id, "region": region, "region_name": scored.region_name,
        "started": started, "finished": finished, "model_version": scored.model_version,
        "thresholds": {"export": opts.export_threshold, "alert": opts.alert_threshold},
        "hardware_year": opts.hardware_year or scored.period[1].year,
        "period": [str(scored.period[0]), str(scored.period[1])],
        "counts": {**scored.counts, "scenes_used": scored.scenes_used,
                   "candidates": len(candidates), "alerts": alerts},
        "complete": scored.complete,
        "skipped": problems.counts(), "warnings": [str(p) for p in problems.warnings],
        "stage_seconds": clock.seconds, "inputs_sha256": inputs})
