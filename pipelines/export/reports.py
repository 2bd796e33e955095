"""run_report.json and fetch_report.json: typed models, written by one function.

A report says what a run did (counts, every skipped or repaired record, wall time per
stage, the sha256 of every input) so an operator can audit it without the logs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from pipelines.atomic import atomic_write_text


class Report(BaseModel):
    """Unknown fields are refused: a report's shape is what readers rely on."""

    model_config = ConfigDict(extra="forbid")


class RunReport(Report):
    """One detect run (run_report.json)."""

    run_id: str
    region: str
    region_name: str
    started: str
    finished: str
    model_version: str
    thresholds: dict[str, float]
    hardware_year: int
    period: list[str]
    counts: dict[str, int]
    complete: bool
    skipped: dict[str, int]
    warnings: list[str]
    stage_seconds: dict[str, float]
    inputs_sha256: dict[str, str]
    flow_run_id: str = "local"
    reused_results: bool = False
    scenes_this_run: dict[str, int] = {}
    model_sha256: str = ""
    code_fingerprint: str = ""
    outputs: dict[str, str | None] = {}


class FetchReport(Report):
    """One fetch of a region bundle from real sources (fetch_report.json)."""

    request: dict[str, Any]
    started: str
    endpoints: dict[str, str]
    failed: list[dict[str, Any]]
    facilities: dict[str, int] = {}  # empty when OpenStreetMap was not asked
    grid: dict[str, int] = {}
    scenes: dict[str, Any] = {}  # empty when no scenes were asked
    seconds: float = 0.0


def write_report(report: Report, path: Path) -> str:
    """The report as indented JSON at path, atomically; returns the path."""
    atomic_write_text(path, report.model_dump_json(indent=2))
    return str(path)
