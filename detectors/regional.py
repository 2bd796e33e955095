"""Regional context: unexplained firm-load build-out per balancing area or zone.

Area demand is far too coarse to see one campus (100 MW is about 0.2% of ERCOT), but a
build-out of data centres or crypto mines shows as growth of the area's baseload: the low
percentile of hourly load, which weather and daily life move little. Before any growth
figure the series must pass data-quality gates (quality_gates): a reporting change, a
collapse, dropouts or a compressed distribution read as growth otherwise. Growth is taken
between calendar years (the same seasons), from a base year outside documented anomaly
windows, in MW and in per cent, so a large area that adds a gigawatt and a small one that
doubles both show.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

BASE_PCT = 5  # the baseload percentile: night troughs of mild days
# US electricity demand grew under 1% a year from 2010 to 2020 (EIA, Electric Power Annual:
# retail sales stayed near 3.7 to 3.9 PWh a year): the background trend no build-out needs.
BACKGROUND_PCT_PER_YEAR = 1.0
# Windows whose load is not the area's normal: COVID-19 lockdowns cut US demand by 3 to 7%
# from March 2020 (EIA, Today in Energy, 2020-05-12 and STEO 2021), so a base year of 2020
# inflates every later growth figure.
ANOMALY_WINDOWS = ((pd.Timestamp("2020-03-01", tz="UTC"), pd.Timestamp("2021-01-01", tz="UTC")),)
MIN_YEAR_COVERAGE = 0.9  # a year with fewer of its hours is a missing year
# Hourly EIA-930 demand of an area never halves or doubles against its own day: such hours
# are dropouts or spikes (Ruggles & Farnham 2024, Scientific Data 11: the same idea as their
# "local demand up/down" filters). Shares above DROPOUT_SHARE of a year's hours flag it.
DROPOUT_RATIO = (0.5, 2.0)
DROPOUT_SHARE = 0.02
STUCK_HOURS = 24  # a balancing area's load never holds to the MW for a whole day
# A level shift: the 28-day median of daily load percentiles jumps, against the same dates of
# the other years, by half the area's level in p05 and p95 together (weather moves these
# medians by at most about a quarter in the shipped real series; docs/evaluation.md).
STEP_DAYS = 28
STEP_FRACTION = 0.5
# A step not matched by a ramp: the fastest 12 months of year-on-year baseload growth bring a
# quarter of the area's baseload, and in the months after, growth runs at under a quarter of
# that pace. Build-out continues once it starts (an area's campus pipeline runs for years:
# in the shipped series Far West Texas, North Texas and Dominion keep 70 to 85% of their
# fastest year's pace after it); a reporting or boundary change arrives once and stops.
ONE_OFF_SHARE = 0.25
ONE_OFF_AFTER = 0.25
ONE_OFF_MIN_MONTHS_AFTER = 6
COLLAPSE_FRACTION = 0.6  # last year's median load under 60% of the base year's
# Two areas of one bundle stepping at once in opposite directions by a similar amount: the
# load moved between them (a boundary or reporting change), weather moves neighbours alike.
BOUNDARY_STEP_MW = 100.0
BOUNDARY_FRACTION = 0.3  # above the 28-day weather steps of most shipped real series
BOUNDARY_FRACTION_MIRROR = 0.1
BOUNDARY_MATCH = (0.67, 1.5)
COMPRESSION_PCT = 3.0  # p95 falls and p05 rises by more than this, base to last year
FLAGGED_SCORE = 0.5  # an area whose data failed a gate keeps half its score, never an alert
# A summer day whose lowest hour at the system peak (17-20 h local: ERCOT's 4CP intervals and
# PJM's 5CP peaks fall there, ERCOT and PJM 2023 peak reports) is 5% under both the same
# day's night median (1-5 h) and its midday median (11-14 h). A load switched off at the
# peak runs at midday; rooftop solar does the opposite, pulling midday load under the
# evening (San Diego's summer midday runs about 20% under its evening in 2024), so a solar
# area's evening dip never falls under its own midday.
PEAK_HOURS = (17, 20)
MIDDAY_HOURS = (11, 14)
NIGHT_HOURS = (1, 5)
CURTAIL_MARGIN = 0.05
CURTAIL_DAYS_FLEXIBLE = 5
SUMMER_MONTHS = (6, 7, 8, 9)
DEGREE_BASE_C = 18.0  # base temperature of heating and cooling degree-hours (ASHRAE)


@dataclass(frozen=True)
class RegionalParams:
    """What makes a regional alert; flows.yaml `regional:` carries them with their reasons."""

    base_year: int | None = None
    min_area_mw: float = 100.0
    min_growth_mw_per_year: float = 50.0
    alert_pct_per_year: float = 4.0
    alert_mw_per_year: float = 250.0


DEFAULT_PARAMS = RegionalParams()
FIELDS = ("regional_score", "regional_alert", "growth_mw_per_year", "growth_pct_per_year",
          "base_year", "last_year", "quality_flags", "local_utc_offset", "time_zone",
          "interpretation", "base_load_base_mw", "base_load_last_mw",
          "peak_growth_mw_per_year", "flat_share", "weather_normalised",
          "summer_curtailment_days", "price_spike_load_ratio", "dropout_hours",
          "level_shift")


def clean_hours(mw: pd.Series) -> tuple[pd.Series, dict[str, int]]:
    """Hourly load without dropouts, spikes and stuck runs; how many hours each removed.

    EIA-930 records gaps as 0 or 1 MW; an hour under half or over twice its own day's
    median is a dropout or a spike; a value repeated for STUCK_HOURS is a stuck meter.
    Removed hours become missing: nothing is imputed, the gates judge what is left.
    """
    mw = mw[~mw.index.duplicated()].sort_index()
    zero = ~(mw > 1.0) | ~np.isfinite(mw)
    kept = mw[~zero]
    day_median = kept.rolling("25h", center=True, min_periods=6).median()
    ratio = kept / day_median
    spikes = (ratio < DROPOUT_RATIO[0]) | (ratio > DROPOUT_RATIO[1])
    kept = kept[~spikes]
    run_id = (kept.diff() != 0).cumsum()
    run_len = run_id.map(run_id.value_counts())
    stuck = run_len >= STUCK_HOURS
    return kept[~stuck], {"zero_or_missing": int(zero.sum()), "spikes": int(spikes.sum()),
                          "stuck": int(stuck.sum())}


def year_coverage(mw: pd.Series) -> pd.Series:
    """Share of each calendar year's hours present (UTC years)."""
    years = mw.groupby(mw.index.year).size()
    hours = pd.Series({y: 24 * (366 if pd.Timestamp(y, 12, 31).day_of_year == 366 else 365)
                       for y in years.index})
    return (years / hours).clip(upper=1.0)


def _in_anomaly(year: int) -> bool:
    start, end = pd.Timestamp(year, 1, 1, tz="UTC"), pd.Timestamp(year + 1, 1, 1, tz="UTC")
    return any(a < end and b > start for a, b in ANOMALY_WINDOWS)


def choose_years(coverage: pd.Series, base_year: int | None) -> tuple[int | None, int | None]:
    """Base year and last full calendar year; None where the series has no such year.

    The base year is the given one, else the first full year outside the anomaly windows,
    else the first full year.
    """
    full = [int(y) for y, c in coverage.items() if c >= MIN_YEAR_COVERAGE]
    last = full[-1] if full else None
    if base_year is None:
        clean = [y for y in full if not _in_anomaly(y)]
        base_year = (clean or full)[0] if (clean or full) else None
        if clean and last is not None and clean[0] >= last and full[0] < last:
            base_year = full[0]  # too short to skip the anomaly: say so through base_year
    return base_year, last


def step_series(mw: pd.Series, q: float) -> pd.Series:
    """Relative 28-day step of a daily load percentile, seasons removed (after/before - 1).

    The same dates' step in the other years is subtracted on a log scale, so the yearly
    swing between seasons cancels and a step of the area's own remains.
    """
    daily = np.log(mw.resample("D").quantile(q).where(lambda v: v > 0))
    before = daily.rolling(STEP_DAYS, min_periods=STEP_DAYS // 2).median()
    after = daily[::-1].rolling(STEP_DAYS, min_periods=STEP_DAYS // 2).median()[::-1].shift(-1)
    jump = after - before
    doy = np.minimum(jump.index.day_of_year, 365)
    table = pd.DataFrame({"year": jump.index.year, "doy": doy, "jump": jump.to_numpy()})
    wide = table.pivot_table(index="doy", columns="year", values="jump", aggfunc="first",
                             dropna=False)
    expected = np.full(len(table), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a day no other year saw: NaN
        for year in wide.columns:
            others = np.nanmedian(wide.drop(columns=year).to_numpy(), axis=1) \
                if wide.shape[1] > 1 else np.full(len(wide), np.nan)
            rows = (table["year"] == year).to_numpy()
            expected[rows] = pd.Series(others, wide.index).reindex(table["doy"][rows]).to_numpy()
    return pd.Series(np.expm1(jump.to_numpy() - expected), jump.index)


def level_shift(mw: pd.Series) -> tuple[float, pd.Timestamp | None]:
    """Largest season-adjusted 28-day step shared by p05 and p95 (same sign), and its day."""
    lo, hi = step_series(mw, 0.05), step_series(mw, 0.95)
    same = np.sign(lo) == np.sign(hi)
    both = pd.concat([lo.abs(), hi.abs()], axis=1).min(axis=1).where(same)
    if both.dropna().empty:
        return 0.0, None
    day = both.idxmax()
    return float(np.sign(lo[day]) * both[day]), day


def one_off_growth(mw: pd.Series) -> tuple[float, float, pd.Timestamp | None]:
    """The fastest 12 months of year-on-year baseload growth (MW) and the pace after them.

    Year-on-year differences of monthly p05; returns (pace, pace after, the window's last
    month), or (0, 0, None) when the series is too short to see what followed.
    """
    monthly = mw.resample("MS").quantile(BASE_PCT / 100)
    yoy = (monthly - monthly.shift(12)).dropna()
    best = (0.0, 0.0, None)
    for end in range(11, len(yoy) - ONE_OFF_MIN_MONTHS_AFTER):
        pace = float(yoy.iloc[end - 11:end + 1].mean())
        if best[2] is None or pace > best[0]:
            best = (pace, float(yoy.iloc[end + 1:].mean()), yoy.index[end])
    return best


def daily_steps(mw: pd.Series) -> pd.DataFrame:
    """28-day season-adjusted step of daily median load: relative (`rel`) and in MW (`mw`)."""
    rel = step_series(mw, 0.5)
    level = mw.resample("D").median().rolling(STEP_DAYS, min_periods=1).median()
    return pd.DataFrame({"rel": rel, "mw": rel * level}).dropna()


def boundary_changes(steps: dict[str, pd.DataFrame],
                     regions: dict[str, str] | None = None) -> dict[str, str]:
    """Areas whose step is mirrored by another area's opposite step within a week.

    Only areas that can share a boundary are paired: two areas of known, different grid
    regions (EIA's region of the balancing authority) cannot.

    steps: per area, its daily season-adjusted step (`rel`) and the same in MW (`mw`). One
    step must exceed BOUNDARY_FRACTION of its area, its mirror BOUNDARY_FRACTION_MIRROR of
    its own (the partner is often the larger area), both BOUNDARY_STEP_MW, and they must
    match in MW within BOUNDARY_MATCH: weather moves neighbouring areas alike, never one up
    as the other goes down by the same megawatts.
    """
    flags: dict[str, str] = {}
    usable = {n: s[s["mw"].abs() >= BOUNDARY_STEP_MW] for n, s in steps.items()}
    for a, sa in sorted(usable.items()):
        lead = sa[sa["rel"].abs() >= BOUNDARY_FRACTION]
        for b, sb in sorted(usable.items()):
            mirror = sb[sb["rel"].abs() >= BOUNDARY_FRACTION_MIRROR]["mw"]
            ra, rb = (regions or {}).get(a), (regions or {}).get(b)
            if b == a or mirror.empty or (ra and rb and ra != rb):
                continue
            for day, step_a in lead["mw"].items():
                window = mirror[(mirror.index >= day - pd.Timedelta(days=7))
                                & (mirror.index <= day + pd.Timedelta(days=7))]
                ratio = -window / step_a
                hit = window[(ratio >= BOUNDARY_MATCH[0]) & (ratio <= BOUNDARY_MATCH[1])]
                if len(hit):
                    when = f"{day:%Y-%m-%d}"
                    flags.setdefault(a, f"boundary_change: {step_a:+.0f} MW about {when}, "
                                        f"mirrored by {b}")
                    flags.setdefault(b, f"boundary_change: {float(hit.iloc[0]):+.0f} MW about "
                                        f"{when}, mirrored by {a}")
                    break
    return flags


def _year_stats(mw: pd.Series, year: int) -> dict[str, float]:
    part = mw[mw.index.year == year]
    return {"p_base": float(np.percentile(part, BASE_PCT)), "p95": float(np.percentile(part, 95)),
            "median": float(part.median())}


def _base_at_18c(mw: pd.Series, temp_c: pd.Series) -> float:
    """Load at 18 C from load = a + b*HDH + c*CDH (least squares over the year)."""
    both = pd.concat([mw.rename("mw"), temp_c.rename("t")], axis=1, join="inner").dropna()
    if len(both) < 24 * 60:
        return float("nan")
    t = both["t"].to_numpy()
    x = np.column_stack([np.ones(len(t)), np.maximum(DEGREE_BASE_C - t, 0),
                         np.maximum(t - DEGREE_BASE_C, 0)])
    coef, *_ = np.linalg.lstsq(x, both["mw"].to_numpy(), rcond=None)
    return float(coef[0])


def peak_dips(mw: pd.Series, time_zone: str | None, utc_offset_h: float) -> pd.Series:
    """Per summer day (local time), whether the peak hours dip under night and midday."""
    local = mw.copy()
    if time_zone:
        local.index = local.index.tz_convert(time_zone).tz_localize(None)
    else:
        local.index = local.index.tz_localize(None) + pd.Timedelta(hours=utc_offset_h)
    local = local[local.index.month.isin(SUMMER_MONTHS)]
    if local.empty:
        return pd.Series(dtype=bool)
    hour, day = local.index.hour, local.index.normalize()

    def per_day(hours: tuple[int, int], how: str) -> pd.Series:
        pick = (hour >= hours[0]) & (hour <= hours[1])
        return local[pick].groupby(day[pick]).agg(how)

    table = pd.concat([per_day(PEAK_HOURS, "min"), per_day(NIGHT_HOURS, "median"),
                       per_day(MIDDAY_HOURS, "median")], axis=1, join="inner")
    limit = (1 - CURTAIL_MARGIN) * table.iloc[:, 1:].min(axis=1)
    return table.iloc[:, 0] < limit


def curtailment_days(mw: pd.Series, time_zone: str | None, utc_offset_h: float) -> int:
    """Summer days whose peak hours dip CURTAIL_MARGIN under both night and midday."""
    return int(peak_dips(mw, time_zone, utc_offset_h).sum())


def price_dip(mw: pd.Series, price: pd.Series | None) -> float:
    """Load in the top 1% price hours over the median load (below 1: the area sheds load)."""
    if price is None or price.empty:
        return float("nan")
    both = pd.concat([mw.rename("mw"), price.rename("p")], axis=1, join="inner").dropna()
    if len(both) < 24 * 30:
        return float("nan")
    spikes = both["p"] >= both["p"].quantile(0.99)
    return float(both.loc[spikes, "mw"].median() / both["mw"].median())


def regional_score(growth_mw: float, growth_pct: float, base_mw: float,
                   params: RegionalParams, flagged: bool) -> float:
    """0 to 1, higher = more unexplained firm-load growth; ranks areas.

    Growth above the background trend, in units of the alert levels (MW/yr and %/yr added),
    through u / (1 + u); halved for an area whose data failed a gate.
    """
    excess_mw = growth_mw - BACKGROUND_PCT_PER_YEAR / 100 * base_mw
    excess_pct = growth_pct - BACKGROUND_PCT_PER_YEAR
    u = max(0.0, excess_mw / params.alert_mw_per_year) + max(0.0, excess_pct / (
        params.alert_pct_per_year - BACKGROUND_PCT_PER_YEAR))
    return round((u / (1 + u)) * (FLAGGED_SCORE if flagged else 1.0), 4)


def quality_gates(mw: pd.Series, removed: dict[str, int], coverage: pd.Series,
                  base_year: int, last_year: int, base: dict[str, float],
                  last: dict[str, float],
                  params: RegionalParams) -> tuple[list[str], float]:
    """Data-quality flags of one area's cleaned series; the level-shift statistic."""
    flags = []
    missing = [f"{y} ({100 * c:.0f}% of hours)" for y, c in coverage.items()
               if base_year <= y <= last_year and c < MIN_YEAR_COVERAGE]
    if missing:
        flags.append("missing_years: " + ", ".join(missing))
    for y in sorted({base_year, last_year}):
        share = 1 - float(coverage.get(y, 0.0))
        if DROPOUT_SHARE < share and not missing:
            flags.append(f"dropouts: {100 * share:.1f}% of {y}'s hours missing or implausible")
    if removed["stuck"]:
        flags.append(f"stuck_values: {removed['stuck']} hours held to the MW for a day or more")
    shift, day = level_shift(mw)
    if abs(shift) >= STEP_FRACTION and day is not None:
        flags.append(f"level_shift: {100 * shift:+.0f}% within {STEP_DAYS} days about "
                     f"{day:%Y-%m-%d} (a reporting, boundary or metering change)")
    pace, after, end = one_off_growth(mw)
    if end is not None and pace >= ONE_OFF_SHARE * base["p_base"] and after <= ONE_OFF_AFTER * pace:
        flags.append(f"level_shift: baseload ran {pace:+.0f} MW above the year before through "
                     f"the 12 months to {end:%Y-%m} ({100 * pace / base['p_base']:.0f}% of "
                     f"{base_year}'s), then growth stopped ({after:+.0f} MW a year on): a step "
                     "not matched by a ramp, as a reporting or boundary change makes")
    if last["median"] < COLLAPSE_FRACTION * base["median"]:
        flags.append(f"collapse: median load fell from {base['median']:.0f} to "
                     f"{last['median']:.0f} MW")
    p05_change = 100 * (last["p_base"] / base["p_base"] - 1)
    p95_change = 100 * (last["p95"] / base["p95"] - 1)
    if p05_change > COMPRESSION_PCT and p95_change < -COMPRESSION_PCT:
        flags.append(f"compression: p05 {p05_change:+.1f}% while p95 {p95_change:+.1f}% "
                     "(peaks lost as troughs rose: not a new flat load)")
    if base["p_base"] < params.min_area_mw:
        flags.append(f"small_area: baseload {base['p_base']:.0f} MW under "
                     f"{params.min_area_mw:.0f} MW")
    return flags, shift


def _quality_words(flags: list[str]) -> str:
    return ("data quality: " + "; ".join(f.split(":")[0] for f in flags)
            + ": growth figures are not trusted and no alert is raised")


def _interpret(alert: bool, flags: list[str], growth_mw: float | None, flexible: bool,
               curtail: int, dip: float, has_price: bool) -> str:
    if flags:
        return _quality_words(flags)
    if growth_mw is None:
        return "no growth figure"
    if not alert:
        return "no unexplained firm-load growth above the alert levels"
    if flexible:
        why = f"{curtail} summer curtailment days" if curtail >= CURTAIL_DAYS_FLEXIBLE else \
            f"load {100 * (1 - dip):.0f}% lower in price spikes"
        return (f"fast baseload growth that is switched off in peak hours ({why}): a flexible "
                "load such as crypto mining or interruptible industry")
    unseen = "" if has_price else "; without a price series, load that curtails on price " \
        "alone cannot be ruled out"
    return ("fast baseload growth that runs through peak hours: firm round-the-clock load "
            "(data centres, industry or electrification); the area's load cannot tell these "
            "apart, facility evidence (thermal, substation meters) can" + unseen)


def area_context(mw: pd.Series, utc_offset_h: float, price: pd.Series | None = None,
                 temp_c: pd.Series | None = None, params: RegionalParams = DEFAULT_PARAMS,
                 time_zone: str | None = None) -> dict[str, object]:
    """Gates, growth and interpretation for one area from its hourly load (UTC index, MW)."""
    return _context(*clean_hours(mw), utc_offset_h, price, temp_c, params, time_zone)


def _context(cleaned: pd.Series, removed: dict[str, int], utc_offset_h: float,
             price: pd.Series | None, temp_c: pd.Series | None, params: RegionalParams,
             time_zone: str | None) -> dict[str, object]:
    """area_context on hours clean_hours has already cleaned (and what it removed)."""
    out: dict[str, object] = dict.fromkeys(FIELDS)
    out.update({"regional_alert": False, "quality_flags": [], "time_zone": time_zone,
                "local_utc_offset": utc_offset_h})
    out["dropout_hours"] = removed["zero_or_missing"] + removed["spikes"] + removed["stuck"]
    if cleaned.empty:
        out["interpretation"] = "no usable hourly load"
        return out
    coverage = year_coverage(cleaned)
    base_year, last_year = choose_years(coverage, params.base_year)
    if base_year is None or last_year is None or last_year <= base_year:
        out["interpretation"] = ("needs two full calendar years of hourly load (a base year "
                                 "and a later one)")
        out["quality_flags"] = ["missing_years: fewer than two full years"]
        return out
    base, last = _year_stats(cleaned, base_year), _year_stats(cleaned, last_year)
    flags, shift = quality_gates(cleaned, removed, coverage, base_year, last_year, base, last,
                                 params)
    years = last_year - base_year
    start, end = base["p_base"], last["p_base"]
    weather = False
    if temp_c is not None and not temp_c.empty:
        ta = _base_at_18c(cleaned[cleaned.index.year == base_year], temp_c)
        tb = _base_at_18c(cleaned[cleaned.index.year == last_year], temp_c)
        if np.isfinite(ta) and np.isfinite(tb) and ta > 0:
            start, end, weather = ta, tb, True
    growth_mw = (end - start) / years
    growth_pct = ((end / start) ** (1 / years) - 1) * 100 if start > 0 else float("nan")
    peak_growth = (last["p95"] - base["p95"]) / years
    last_part = cleaned[cleaned.index.year == last_year]
    curtail = curtailment_days(last_part, time_zone, utc_offset_h)
    dip = price_dip(last_part, price)
    flexible = curtail >= CURTAIL_DAYS_FLEXIBLE or (np.isfinite(dip) and dip < 0.95)
    alert = (not flags and growth_mw >= params.min_growth_mw_per_year
             and (growth_pct >= params.alert_pct_per_year
                  or growth_mw >= params.alert_mw_per_year))
    out.update({
        "regional_score": regional_score(growth_mw, growth_pct, start, params, bool(flags)),
        "regional_alert": bool(alert), "growth_mw_per_year": round(growth_mw, 1),
        "growth_pct_per_year": round(growth_pct, 2) if np.isfinite(growth_pct) else None,
        "base_year": base_year, "last_year": last_year, "quality_flags": flags,
        "base_load_base_mw": round(start, 1), "base_load_last_mw": round(end, 1),
        "peak_growth_mw_per_year": round(peak_growth, 1),
        "flat_share": round((end - start) / (last["p95"] - base["p95"]), 3)
        if abs(last["p95"] - base["p95"]) > 1e-9 else None,
        "weather_normalised": weather, "summer_curtailment_days": curtail,
        "price_spike_load_ratio": round(dip, 3) if np.isfinite(dip) else None,
        "level_shift": round(shift, 3),
        "interpretation": _interpret(alert, flags, growth_mw, flexible, curtail, dip,
                                     price is not None and not price.empty)})
    return out


def regional_table(load: pd.DataFrame, zones: dict[str, tuple[str | None, float]],
                   price: pd.DataFrame | None = None,
                   temperature: pd.DataFrame | None = None,
                   params: RegionalParams = DEFAULT_PARAMS,
                   regions: dict[str, str] | None = None) -> pd.DataFrame:
    """area_context for every node of a long table (node_id, interval_start, load_mw).

    Ranked by regional_score; zones gives each node's (IANA time zone or None, UTC offset
    in hours); steps mirrored between two areas of one grid region (regions, where known)
    flag both (boundary_changes).
    """
    price_s = price.set_index("interval_start")["price"] if price is not None else None
    rows, steps = [], {}
    for node, part in load.groupby("node_id", sort=True):
        mw = part.groupby("interval_start")["load_mw"].mean()
        temp = None
        if temperature is not None:
            t = temperature[temperature["node_id"] == node]
            temp = t.groupby("interval_start")["temp_c"].mean() if len(t) else None
        tz, offset = zones.get(node, (None, 0.0))
        cleaned, removed = clean_hours(mw)
        rows.append({"node_id": node, **_context(cleaned, removed, offset, price_s, temp,
                                                 params, tz)})
        if len(cleaned) > 24 * 365:
            steps[node] = daily_steps(cleaned)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    for node, flag in boundary_changes(steps, regions).items():
        i = table.index[table["node_id"] == node][0]
        _flag(table, i, flag)
    score = pd.to_numeric(table["regional_score"], errors="coerce")
    table["rank"] = score.rank(ascending=False, method="min").astype("Int64")
    return table.sort_values("rank", na_position="last").reset_index(drop=True)


def _flag(table: pd.DataFrame, i: int, flag: str) -> None:
    """Add a flag found across areas: no alert, the score halved, the words say why."""
    flags = list(table.at[i, "quality_flags"]) + [flag]
    table.at[i, "quality_flags"] = flags
    if table.at[i, "growth_mw_per_year"] is not None and not pd.isna(
            table.at[i, "growth_mw_per_year"]):
        if len(flags) == 1:
            table.at[i, "regional_score"] = round(
                float(table.at[i, "regional_score"]) * FLAGGED_SCORE, 4)
        table.at[i, "regional_alert"] = False
        table.at[i, "interpretation"] = _quality_words(flags)
