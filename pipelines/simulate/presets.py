"""Sizes of simulated regions: how many sites of each kind, scenes and days."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """How big a simulated region is and what it holds (ranges are drawn per seed)."""

    name: str
    size_km: float
    background_buildings: int
    ai_sites: tuple[int, int]
    cloud_sites: tuple[int, int]
    crypto_sites: tuple[int, int]
    smelters: tuple[int, int]
    steel_works: tuple[int, int]
    gas_plants: tuple[int, int]
    decoy_substations: tuple[int, int]
    towns: tuple[int, int]
    scenes: int
    days: int
    offgrid_boost: float = 1.0  # training regions over-sample off-grid clusters (rare, hard)


PRESETS: dict[str, Preset] = {
    "demo": Preset("demo", 10.0, 70, (2, 2), (2, 2), (1, 1), (0, 0), (1, 1), (1, 1),
                   (1, 1), (1, 1), 12, 365),
    "train": Preset("train", 12.0, 160, (1, 4), (1, 3), (0, 2), (0, 1), (0, 1), (0, 1),
                    (1, 2), (1, 2), 16, 365, offgrid_boost=2.0),
    "county": Preset("county", 40.0, 1900, (3, 6), (4, 8), (1, 3), (0, 1), (1, 2), (1, 2),
                     (3, 6), (2, 4), 20, 365),
    "state": Preset("state", 120.0, 16000, (15, 25), (30, 50), (6, 12), (1, 3), (4, 8),
                    (6, 10), (20, 30), (10, 20), 20, 365),
}
