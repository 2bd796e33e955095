"""Issue 10's reported sites as feature rows: what `train` scores into the card and tests check.

The sites another generator drew and an earlier model missed or falsely alerted (issue 10),
written as the feature rows `detect` would compute for them. `train` scores them into the
model card, so the card's numbers are the model's own, never edited by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from detectors.classifier import Model, blur_coverage


def campus(roof_k: float, **cols: float) -> pd.DataFrame:
    """Issue 10's campuses of 390 to 624 MW: 72,000 m2 halls on a flat meter, roofs roof_k up.

    A dedicated meter draws a flat 2.8 kW/m2 (load factor 0.91); the roofs are roof_k kelvin
    above their surroundings in every clear scene; by default no job-restart dips, no rise in
    price spikes and a yard no warmer than the surroundings. cols override any feature.
    """
    row = {
        "has_grid": 1.0, "has_price": 1.0, "load_factor": 0.91, "diurnal_amplitude": 0.01,
        "weekly_amplitude": 0.0, "dips_per_30d": 0.0, "price_response": 0.0,
        "price_spike_ratio": 1.0, "power_density_w_m2": 2800.0, "has_thermal": 1.0,
        "thermal_scenes_used": 14, "thermal_persistence": 1.0, "thermal_delta_k": roof_k,
        "thermal_cold_season_delta_k": roof_k, "thermal_warm_season_delta_k": roof_k + 1,
        "thermal_waste_k": 0.8 * roof_k, "thermal_own_heat_k": 0.8 * roof_k,
        "thermal_solar_slope_k": 2.0,
        "thermal_hotspot_k": 1.5 * roof_k, "thermal_yard_k": 0.0, "thermal_yard_hot_share": 0.0,
        "footprint_m2": 72_000.0,
        "compactness": 0.7, "campus_area_m2": 216_000.0, "tag_data_center": 0.0,
        "tag_industrial": 1.0, "tag_named": 0.0}
    return pd.DataFrame([{**row, **cols}])


OFF_GRID = {"has_grid": 0.0, "load_factor": float("nan"), "diurnal_amplitude": float("nan"),
            "weekly_amplitude": float("nan"), "dips_per_30d": float("nan"),
            "price_response": float("nan"), "price_spike_ratio": float("nan"),
            "power_density_w_m2": float("nan"), "tag_industrial": 0.0}

# Turbines for tens of MW stand on a hectare or two of the 100 to 600 m yard (about 130 ha
# around a 15,000 m2 hall; xAI Colossus, detectors/thermal.py): where they run warmer than the
# roof, that much of the yard is as warm as it.
TURBINE_YARD_SHARE = 0.02


def off_grid(roof_k: float, yard_k: float, hall_m2: float, campus_m2: float) -> pd.DataFrame:
    """Halls with no meter, roof_k above their surroundings, their yard yard_k up (turbines)."""
    return campus(roof_k, **OFF_GRID, thermal_yard_k=yard_k, footprint_m2=hall_m2,
                  campus_area_m2=campus_m2,
                  thermal_yard_hot_share=TURBINE_YARD_SHARE if yard_k >= roof_k else 0.0)


def warehouse_park(roof_k: float) -> pd.DataFrame:
    """One of issue 10's nine warehouses grouped as a campus of 26 ha of roof, roofs roof_k up.

    No meter and no yard; the roof is roof_k above its surroundings in every clear scene,
    warmed by the sun more than from within (3 K warmer in the warm season, 4 K more per unit
    of sun, little heat left once the sun or the region's roofs are fitted out).
    """
    return campus(roof_k, **OFF_GRID, footprint_m2=29_000.0, campus_area_m2=260_000.0,
                  thermal_waste_k=0.3 * roof_k, thermal_own_heat_k=0.3 * roof_k,
                  thermal_hotspot_k=1.5 * roof_k,
                  thermal_warm_season_delta_k=roof_k + 3.0, thermal_solar_slope_k=4.0)


def as_seen(true_k: float, hall_m2: float, **cols: float) -> dict[str, float]:
    """Roof heat features of a hall whose roof holds true_k, as TIRS's blur shows them."""
    mean_cov, peak_cov = (float(c[0]) for c in blur_coverage(np.array([hall_m2])))
    return {"footprint_m2": hall_m2, "campus_area_m2": 3 * hall_m2,
            "thermal_delta_k": true_k * mean_cov,
            "thermal_cold_season_delta_k": true_k * mean_cov,
            "thermal_warm_season_delta_k": (true_k + 1) * mean_cov,
            "thermal_waste_k": 0.8 * true_k * mean_cov,
            "thermal_own_heat_k": 0.8 * true_k * mean_cov,
            "thermal_solar_slope_k": 2.0 * mean_cov, "thermal_hotspot_k": 1.2 * true_k * peak_cov,
            **cols}


@dataclass(frozen=True)
class Probe:
    """One of issue 10's sites: its feature row and whether an alert is what it deserves."""

    name: str
    features: pd.DataFrame
    should_alert: bool


PROBES = (
    *(Probe(f"metered campus of 72,000 m2 halls, flat 2.8 kW/m2, roofs {k:.0f} K up",
            campus(k), True) for k in (9.0, 12.0, 16.0)),
    Probe("off-grid campus of 72,000 m2 halls (144,000 m2), roofs 8 K up, turbine yard 10 K up",
          off_grid(8.0, 10.0, 72_000.0, 144_000.0), True),
    *(Probe(f"lone off-grid hall of 15,000 m2, roof {k:.0f} K up, turbine yard 10 K up",
            off_grid(k, 10.0, 15_000.0, 15_000.0), True) for k in (6.0, 8.0)),
    Probe("lone off-grid hall of 15,000 m2, roof 8 K up, no yard to see",
          off_grid(8.0, 0.0, 15_000.0, 15_000.0), True),
    *(Probe(f"park warehouse of 29,000 m2 (26 ha of roof around it), no meter, roof {k:.0f} K up",
            warehouse_park(k), False) for k in (2.0, 3.0, 4.0)),
)


def probe_table(model: Model, alert_threshold: float) -> str:
    """The probes' scores as a Markdown table, with whether each is alerted as it should be."""
    scores = model.probabilities(pd.concat([p.features for p in PROBES], ignore_index=True))[
        "ai_training"].to_numpy()
    lines = ["| site | score | alerted | should be |", "|---|---|---|---|"]
    for probe, score in zip(PROBES, scores):
        alerted = score >= alert_threshold
        lines.append(f"| {probe.name} | {score:.2f} | {'yes' if alerted else 'no'} | "
                     f"{'yes' if probe.should_alert else 'no'} |")
    return "\n".join(lines)
