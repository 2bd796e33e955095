"""Sizes of simulated regions: how many sites of each kind, scenes and days."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    refineries: tuple[int, int]
    decoy_substations: tuple[int, int]
    towns: tuple[int, int]
    scenes: int
    days: int
    offgrid_boost: float = 1.0  # training regions over-sample off-grid clusters (rare, hard)
    # Ranges that replace the reference table's for this preset (key: (low, high)), so a
    # preset can lie outside what the model was trained on.
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    "demo": Preset("demo", 10.0, 70, (2, 2), (2, 2), (1, 1), (0, 0), (1, 1), (1, 1),
                   (0, 0), (1, 1), (1, 1), 12, 365),
    "train": Preset("train", 12.0, 160, (1, 4), (1, 3), (0, 2), (0, 1), (0, 1), (0, 1),
                    (0, 1), (1, 2), (1, 2), 16, 365, offgrid_boost=2.0),
    "county": Preset("county", 40.0, 1900, (3, 6), (4, 8), (1, 3), (0, 1), (1, 2), (1, 2),
                     (0, 1), (3, 6), (2, 4), 20, 365),
    "state": Preset("state", 120.0, 16000, (15, 25), (30, 50), (6, 12), (1, 3), (4, 8),
                    (6, 10), (1, 3), (20, 30), (10, 20), 20, 365),
    # Outside the training ranges on every axis the simulator varies: halls larger and less
    # dense than any trained on, substations farther, roofs that shed less sensible heat
    # (evaporative cooling), cloudier skies, higher latitudes. A stress test, never trained
    # on.
    "stress": Preset("stress", 40.0, 1900, (4, 7), (4, 8), (1, 3), (1, 2), (1, 2), (1, 2),
                     (1, 2), (3, 6), (2, 4), 20, 365,
                     ranges={"ai_it_density_w_m2": (350.0, 800.0),
                             "ai_hall_area_m2": (60_000.0, 220_000.0),
                             "ai_site_it_mw": (100.0, 1500.0),
                             "substation_distance_m": (1_000.0, 1_450.0),
                             "sensible_heat_fraction": (0.015, 0.03),
                             "scene_cloud_cover": (0.45, 0.95),
                             "latitude": (56.0, 64.0)}),
}
