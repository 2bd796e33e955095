"""The reference table of physical defaults (data/reference_defaults.csv), each with its source."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from detectors.compute import ComputeAssumptions, Range
from pipelines.resources import data_path

REFERENCE_TABLE = data_path("reference_defaults.csv")


@dataclass(frozen=True)
class Reference:
    """One default: central value, published range, unit and source."""

    key: str
    value: float
    low: float
    high: float
    unit: str
    source: str


@lru_cache(maxsize=1)
def reference_table(path: Path = REFERENCE_TABLE) -> dict[str, Reference]:
    """Every default of the table, keyed by name."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    table = {}
    for row in rows:
        value = row["value"]
        central = float(value) if "-" not in value else float(row["low"])
        table[row["key"]] = Reference(row["key"], central, float(row["low"]),
                                      float(row["high"]), row["unit"], row["source"])
    return table


def ref(key: str) -> Reference:
    """One default by name (KeyError names the missing key)."""
    return reference_table()[key]


def node_max_distance_m() -> float:
    """How far a dedicated substation may stand from its campus: the table's farthest gap."""
    return ref("substation_distance_m").high


def _range(key: str) -> Range:
    r = ref(key)
    return Range(r.value, r.low, r.high)


def compute_assumptions(hardware_year: float | None = None) -> ComputeAssumptions:
    """The compute estimate's defaults from the reference table; hardware year overridable."""
    r = reference_table()
    return ComputeAssumptions(
        h100_tdp_w=r["h100_tdp_w"].value, h100_dense_bf16_tflops=r["h100_dense_bf16_tflops"].value,
        it_overhead_factor=_range("it_overhead_factor"), pue=_range("pue_ai"),
        sustained_draw_fraction=_range("sustained_draw_fraction"), mfu=_range("mfu"),
        efficiency_doubling_years=_range("efficiency_doubling_years"),
        reference_hardware_year=r["reference_hardware_year"].value,
        training_flop_threshold=r["training_flop_threshold"].value,
        hardware_year=hardware_year if hardware_year is not None
        else r["reference_hardware_year"].value,
        hardware_year_spread=r["hardware_year_spread"].value)
