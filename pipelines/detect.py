"""The detect pipeline's stages as plain functions: read, features, score, export, report."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from detectors.classifier import Model
from detectors.scoring import score
from pipelines.bundle.reader import RegionBundle
from pipelines.export.candidates import RunInfo, candidate_frame
from pipelines.reference import compute_assumptions

INPUT_GLOBS = ["region.yaml", "facilities.geojson", "infrastructure.geojson", "declared.geojson",
               "grid/*", "imagery/*.json"]


@dataclass
class DetectOptions:
    """What a detect run needs beyond the bundle."""

    export_threshold: float
    alert_threshold: float
    hardware_year: int | None = None
    node_max_distance_m: float = 1500.0
    declared_within_m: float = 100.0


@dataclass
class StageClock:
    """Wall time per stage, for the run report and the benchmark."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, elapsed: float) -> None:
        """Accumulate time spent in a stage."""
        self.seconds[stage] = round(self.seconds.get(stage, 0.0) + elapsed, 3)


def input_hashes(root: Path) -> dict[str, str]:
    """sha256 of the bundle's files (pixels are identified by their STAC items)."""
    out = {}
    for pattern in INPUT_GLOBS:
        for path in sorted(root.glob(pattern)):
            if path.is_file():
                out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def score_and_build(bundle: RegionBundle, features: pd.DataFrame, model: Model,
                    opts: DetectOptions, run_id: str, run_time: str
                    ) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Score assembled features and turn them into candidate rows."""
    hardware_year = opts.hardware_year or bundle.period[1].year
    scored = score(features, model, compute_assumptions(hardware_year))
    info = RunInfo(run_id, model.version, run_time, opts.export_threshold, opts.alert_threshold,
                   opts.declared_within_m)
    return scored, candidate_frame(bundle, features, scored, info)


def run_report(bundle: RegionBundle, candidates: pd.DataFrame, scenes_used: int, run_id: str,
               model: Model, opts: DetectOptions, clock: StageClock, started: str,
               finished: str) -> dict:
    """What happened in a run: counts, every skipped record, stage timings, inputs."""
    problems = bundle.problems
    alerts = int(candidates["alert"].sum()) if len(candidates) else 0
    return {
        "run_id": run_id, "region": str(bundle.root), "region_name": bundle.region.name,
        "started": started, "finished": finished, "model_version": model.version,
        "thresholds": {"export": opts.export_threshold, "alert": opts.alert_threshold},
        "hardware_year": opts.hardware_year or bundle.period[1].year,
        "period": [str(bundle.period[0]), str(bundle.period[1])],
        "counts": {"facilities": len(bundle.facilities), "scenes": len(bundle.scenes),
                   "scenes_used": scenes_used, "nodes": len(bundle.nodes),
                   "load_rows": len(bundle.load), "candidates": len(candidates),
                   "alerts": alerts},
        "skipped": problems.counts(), "warnings": [str(p) for p in problems.warnings],
        "stage_seconds": clock.seconds, "inputs_sha256": input_hashes(bundle.root)}
