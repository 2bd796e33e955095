"""Regional context: unexplained flat-baseload growth per balancing area or zone.

Area demand is far too coarse to see one campus (100 MW is about 0.2% of ERCOT), but a
build-out of data centres or crypto mines shows as growth of the area's baseload: the low
percentile of hourly load, which weather and daily life move little. Growth that arrives
flat (troughs rise as much as peaks) and fast is the signal. Two things tell its kinds
apart where the data allows: flexible loads (crypto mining) curtail in system-peak and
price-spike hours, so on summer afternoons the area's load falls below its own night-time
level; data-centre load does not. With hourly temperature the baseload is first normalised
for weather (load at 18 C from a degree-hour regression).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WINDOW = pd.Timedelta(days=365)
BASE_PCT = 5  # the baseload percentile: night troughs of mild days
# US electricity demand grew under 1% a year from 2010 to 2020 (EIA, Electric Power Annual:
# retail sales stayed near 3.7 to 3.9 PWh a year). Baseload growing four times faster than
# that (4%/yr) is growth no weather or population trend explains.
FLAT_GROWTH_ALERT_PCT = 4.0
# A summer afternoon (14-19 h local) whose lowest hour is 5% under the same day's night
# median (1-5 h): in a hot season air conditioning lifts afternoon load above night load,
# so such a day is load being switched off at the peak; 5% is above hourly metering noise.
CURTAIL_MARGIN = 0.05
CURTAIL_DAYS_FLEXIBLE = 5  # curtailment days in the latest summer that mark a flexible load
SUMMER_MONTHS = (6, 7, 8, 9)
DEGREE_BASE_C = 18.0  # base temperature of heating and cooling degree-hours (ASHRAE)


FIELDS = ("first_window", "last_window", "base_load_first_mw", "base_load_last_mw",
          "base_load_growth_mw", "peak_load_growth_mw", "flat_share",
          "flat_load_growth_pct_per_year", "weather_normalised", "summer_curtailment_days",
          "price_spike_load_ratio", "regional_alert", "interpretation")


def _window_stats(mw: pd.Series) -> dict[str, float]:
    return {"p_base": float(np.percentile(mw, BASE_PCT)), "p95": float(np.percentile(mw, 95)),
            "mean": float(mw.mean()), "hours": float(len(mw))}


def _base_at_18c(mw: pd.Series, temp_c: pd.Series) -> float:
    """Load at 18 C from load = a + b*HDH + c*CDH (least squares over the window)."""
    both = pd.concat([mw.rename("mw"), temp_c.rename("t")], axis=1, join="inner").dropna()
    if len(both) < 24 * 60:
        return float("nan")
    t = both["t"].to_numpy()
    x = np.column_stack([np.ones(len(t)), np.maximum(DEGREE_BASE_C - t, 0),
                         np.maximum(t - DEGREE_BASE_C, 0)])
    coef, *_ = np.linalg.lstsq(x, both["mw"].to_numpy(), rcond=None)
    return float(coef[0])


def curtailment_days(mw: pd.Series, utc_offset_h: float) -> int:
    """Summer days whose afternoon minimum falls CURTAIL_MARGIN below the night median."""
    local = mw.copy()
    local.index = local.index + pd.Timedelta(hours=utc_offset_h)
    local = local[local.index.month.isin(SUMMER_MONTHS)]
    if local.empty:
        return 0
    hour, day = local.index.hour, local.index.normalize()
    afternoon = local[(hour >= 14) & (hour <= 19)].groupby(day[(hour >= 14) & (hour <= 19)]).min()
    night = local[(hour >= 1) & (hour <= 5)].groupby(day[(hour >= 1) & (hour <= 5)]).median()
    ratio = (afternoon / night).dropna()
    return int((ratio < 1 - CURTAIL_MARGIN).sum())


def price_dip(mw: pd.Series, price: pd.Series | None) -> float:
    """Load in the top 1% price hours over the median load (below 1: the area sheds load)."""
    if price is None or price.empty:
        return float("nan")
    both = pd.concat([mw.rename("mw"), price.rename("p")], axis=1, join="inner").dropna()
    if len(both) < 24 * 30:
        return float("nan")
    spikes = both["p"] >= both["p"].quantile(0.99)
    return float(both.loc[spikes, "mw"].median() / both["mw"].median())


def area_context(mw: pd.Series, utc_offset_h: float, price: pd.Series | None = None,
                 temp_c: pd.Series | None = None) -> dict[str, object]:
    """Flat-growth evidence for one area from its hourly load (UTC index, MW).

    Compares the first and the last 365 days of the series; needs at least two years.
    """
    mw = mw[(mw > 1.0) & np.isfinite(mw)].sort_index()  # EIA-930 records gaps as 0 or 1 MW
    out: dict[str, object] = dict.fromkeys(FIELDS)
    out["regional_alert"] = False
    if mw.empty or mw.index[-1] - mw.index[0] < 2 * WINDOW - pd.Timedelta(days=1):
        out["interpretation"] = "needs at least two years of hourly load"
        return out
    first = mw[mw.index < mw.index[0] + WINDOW]
    last = mw[mw.index > mw.index[-1] - WINDOW]
    a, b = _window_stats(first), _window_stats(last)
    years = (last.index.mean() - first.index.mean()) / pd.Timedelta(days=365.25)
    growth = (b["p_base"] / a["p_base"]) ** (1 / years) - 1
    base_growth = None
    if temp_c is not None and not temp_c.empty:
        ta, tb = _base_at_18c(first, temp_c), _base_at_18c(last, temp_c)
        if np.isfinite(ta) and np.isfinite(tb) and ta > 0:
            base_growth = ((tb / ta) ** (1 / years) - 1) * 100
    signal = base_growth if base_growth is not None else growth * 100
    peak_growth = b["p95"] - a["p95"]
    curtail = curtailment_days(last, utc_offset_h)
    dip = price_dip(last, price)
    flexible = curtail >= CURTAIL_DAYS_FLEXIBLE or (np.isfinite(dip) and dip < 0.95)
    alert = signal >= FLAT_GROWTH_ALERT_PCT
    if not alert:
        words = "no unexplained flat load growth"
    elif flexible:
        words = ("fast flat load growth that is switched off in peak hours: a flexible load "
                 "such as crypto mining or interruptible industry")
    else:
        words = ("fast flat load growth that does not curtail in peak hours: consistent with "
                 "data centres or other firm round-the-clock load")
    out.update({
        "first_window": [str(first.index[0]), str(first.index[-1])],
        "last_window": [str(last.index[0]), str(last.index[-1])],
        "base_load_first_mw": round(a["p_base"], 1), "base_load_last_mw": round(b["p_base"], 1),
        "base_load_growth_mw": round(b["p_base"] - a["p_base"], 1),
        "peak_load_growth_mw": round(peak_growth, 1),
        "flat_share": round((b["p_base"] - a["p_base"]) / peak_growth, 3)
        if abs(peak_growth) > 1e-9 else None,
        "flat_load_growth_pct_per_year": round(signal, 2),
        "weather_normalised": base_growth is not None,
        "summer_curtailment_days": curtail,
        "price_spike_load_ratio": round(dip, 3) if np.isfinite(dip) else None,
        "regional_alert": bool(alert), "interpretation": words})
    return out


def regional_table(load: pd.DataFrame, offsets: dict[str, float],
                   price: pd.DataFrame | None = None,
                   temperature: pd.DataFrame | None = None) -> pd.DataFrame:
    """area_context for every node of a long table (node_id, interval_start, load_mw), ranked."""
    price_s = price.set_index("interval_start")["price"] if price is not None else None
    rows = []
    for node, part in load.groupby("node_id", sort=True):
        mw = part.groupby("interval_start")["load_mw"].mean()
        temp = None
        if temperature is not None:
            t = temperature[temperature["node_id"] == node]
            temp = t.groupby("interval_start")["temp_c"].mean() if len(t) else None
        rows.append({"node_id": node, **area_context(mw, offsets.get(node, 0.0), price_s,
                                                     temp)})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    growth = pd.to_numeric(table["flat_load_growth_pct_per_year"], errors="coerce")
    table["rank"] = growth.rank(ascending=False, method="min").astype("Int64")
    return table.sort_values("rank", na_position="last").reset_index(drop=True)
