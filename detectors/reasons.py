"""top_reasons: the evidence that moved a score most, in words an analyst can check."""

from __future__ import annotations

import math

import pandas as pd

# A yard this much above the background ring is worth a look on the map. In the simulated
# training regions nine of ten ordinary buildings' yards stay under 3 K, and nine of ten
# off-grid AI halls' (turbines beside them) exceed 7 K (docs/evaluation.md, cw-0.7.0). The
# never-drop rule reads such a yard as a campus making its own power (detectors/scoring.py).
YARD_NOTE_K = 5.0
# Open ground as warm as the roof over this share of the yard is heat made outdoors. In the
# simulated training regions 99 of 100 AI halls' shares stay under 0.11 (turbine yards
# included) and half of refinery buildings' exceed 0.22 (docs/evaluation.md, cw-0.10.0).
YARD_SHARE_NOTE = 0.15


def _num(row: pd.Series, key: str) -> float | None:
    value = row.get(key)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) \
        else float(value)


def _load_shape(row: pd.Series) -> str | None:
    lf, amp = _num(row, "load_factor"), _num(row, "diurnal_amplitude")
    if lf is None:
        return None
    steps = int(_num(row, "steps_up") or 0)
    shape = (f"flat 24/7 load (load factor {lf:.2f}, daily swing {amp:.0%})" if lf >= 0.85
             and (amp or 0) < 0.12 else
             f"load varies (load factor {lf:.2f}, daily swing {amp:.0%})")
    return shape + (f", stepped up {steps} times as halls came online" if steps else "")


def _price(row: pd.Series) -> str | None:
    ratio = _num(row, "price_spike_ratio")
    if ratio is None:
        return None
    if ratio < 0.85:
        return f"load falls to {ratio:.0%} of normal in the top price hours (curtails on price)"
    return f"no price response (load in the top price hours {ratio:.0%} of normal)"


def _power_size(row: pd.Series) -> str:
    mw, density = _num(row, "mean_mw"), _num(row, "power_density_w_m2")
    if mw is None:
        return "no grid meter attributed: thermal and footprint evidence only"
    return f"{mw:.0f} MW metered at {row.get('node_id')}, {density:,.0f} W/m2 of footprint"


def _thermal(row: pd.Series) -> str:
    used = int(_num(row, "thermal_scenes_used") or 0)
    if used == 0:
        return "no clear thermal scene"
    delta, cold = _num(row, "thermal_delta_k"), _num(row, "thermal_cold_season_delta_k")
    hot = int(_num(row, "thermal_anomalous_scenes") or 0)
    text = (f"roof {delta:+.1f} K against its surroundings, anomalous in {hot} of {used} "
            "clear scenes")
    text += f"; {cold:+.1f} K in the cold season" if cold is not None else ""
    yard = _num(row, "thermal_yard_k")
    if yard is not None and yard >= YARD_NOTE_K:
        text += f"; open ground 100 to 600 m out runs {yard:+.1f} K (power made on site?)"
    share = _num(row, "thermal_yard_hot_share")
    if share is not None and share >= YARD_SHARE_NOTE:
        text += (f"; {share:.0%} of that open ground is as warm as the roof (heat made "
                 "outdoors: a process plant?)")
    return text


def _footprint(row: pd.Series) -> str:
    halls, area = int(_num(row, "campus_halls") or 1), _num(row, "campus_area_m2") or 0
    return (f"{halls} halls on a campus of {area / 1e4:.1f} ha of roof" if halls > 1
            else f"single building of {area:,.0f} m2")


def _tags(row: pd.Series) -> str:
    tag = row.get("building")
    return f"tagged building={tag}" if isinstance(tag, str) and tag else "untagged building"


TEXT = {"load_shape": _load_shape, "price": _price, "power_size": _power_size,
        "thermal": _thermal, "footprint": _footprint, "tags": _tags}


def describe(row: pd.Series, groups: list[str]) -> list[str]:
    """Sentences for the given evidence groups, most important first, skipping empty ones."""
    return [text for g in groups if (text := TEXT[g](row))]
