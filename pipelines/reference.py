"""The reference table of physical defaults (data/reference_defaults.csv), each with its source."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from detectors.compute import ComputeAssumptions

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
REFERENCE_TABLE = DATA_DIR / "reference_defaults.csv"


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


def compute_assumptions(hardware_year: float | None = None) -> ComputeAssumptions:
    """The compute estimate's defaults from the reference table; hardware year overridable."""
    r = reference_table()
    return ComputeAssumptions(
        h100_tdp_w=r["h100_tdp_w"].value, h100_dense_bf16_tflops=r["h100_dense_bf16_tflops"].value,
        it_overhead_factor=r["it_overhead_factor"].value, pue=r["pue_ai"].value,
        pue_low=r["pue_ai"].low, pue_high=r["pue_ai"].high,
        sustained_draw_fraction=r["sustained_draw_fraction"].value, mfu=r["mfu"].value,
        efficiency_doubling_years=r["efficiency_doubling_years"].value,
        reference_hardware_year=r["reference_hardware_year"].value,
        training_flop_threshold=r["training_flop_threshold"].value,
        hardware_year=hardware_year if hardware_year is not None
        else r["reference_hardware_year"].value)
