"""The reference table of physical defaults (data/reference_defaults.csv), each with its source."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
