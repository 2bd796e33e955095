"""Power evidence: attribute campuses to metered substations and describe each node's load."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

LAST_DAYS = 30  # SPEC: est_it_mw is the mean over the last 30 days of the period
SHAPE_DAYS = 90  # the diurnal and weekly profile is read over the last 90 days
TOP_PRICE_Q = 0.98  # the top 2% of price hours: where curtailment shows
STEP_WINDOW_DAYS = 14
# Training jobs stop and restart: hours below 75% of the surrounding three days' median
# (Llama 3 paper, arXiv 2407.21783: checkpoint restarts and interruptions every few days).
DIP_FRACTION = 0.75
# A campus with no measured heat of its own still rejects some (sensors resolve about
# 0.1 K; evaporative cooling hides most sensible heat): a hundredth of a kelvin keeps it in
# the running for a substation no warmer campus is near.
MIN_HEAT_K = 0.01
MIN_GAP_M = 50.0  # the nearest a dedicated substation stands (substation_distance_m low)


def campus_heat_k(own_heat_k: np.ndarray, waste_k: np.ndarray, area_m2: np.ndarray,
                  campus: np.ndarray, n_campuses: int) -> np.ndarray:
    """Each campus's area-weighted heat of its own (K), NaN where no roof was measured.

    Area times this is the heat the campus's roofs reject. Each roof counts the smaller of
    its two sun-independent excesses, over the region's common roof and over the sun's
    elevation (the sun fit alone where the region has too few roofs for the other): a
    large sunlit roof that one fit reads as warm must not outweigh a hall both read so.
    A sun fit at or below zero is not a reading of no heat: a roof the sun alone warms
    extrapolates to nothing, never below, and one that does is warmed by a load rising
    with the season the sun's height tracks (a hall's cooling in summer), so its excess
    over the common roof counts alone. Below zero counts as none (a roof cannot reject
    negative heat), and a mean over a park's many roofs stays near zero where their
    maximum would pick out one noisy roof.
    """
    confounded = np.isfinite(own_heat_k) & ~(waste_k > 0)
    heat = np.clip(np.where(confounded, own_heat_k, np.fmin(own_heat_k, waste_k)), 0.0, None)
    seen = np.isfinite(heat)
    weight = np.where(seen, area_m2, 0.0)
    num = np.bincount(campus, weights=np.where(seen, heat, 0.0) * weight, minlength=n_campuses)
    den = np.bincount(campus, weights=weight, minlength=n_campuses)
    out: np.ndarray = np.divide(num, den, out=np.full(n_campuses, np.nan), where=den > 0)
    return out


# Every (substation, campus) pair in reach: node index, campus index, pull, plausible.
Pulls = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def attribute_with_shares(node_geoms: gpd.GeoSeries, campus_geoms: gpd.GeoSeries,
                          campus_area: np.ndarray, max_distance_m: float,
                          campus_heat: np.ndarray | None = None,
                          node_mw: np.ndarray | None = None,
                          max_density_w_m2: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """For each metered substation, the campus it serves (index, or -1) and how surely.

    A dedicated substation serves one campus; among campuses within max_distance_m it is
    taken to feed the one with the strongest pull: the heat the campus's roofs reject
    (roof area times campus_heat, their area-weighted heat of their own, at least
    MIN_HEAT_K; 0.5 K when unmeasured) times how likely a substation of that campus stands
    where this one does. The power a substation delivers comes out as heat on the roofs it
    feeds (energy balance), so among campuses near it the one whose roofs reject the most
    heat in total is its load; a park of sun-heated warehouses rejects next to none,
    however much roof it has. A campus's substation stands a gap d from its edge, the gap
    spread evenly in log d (reference table: substation_distance_m, 50 m to 2 km) and in
    direction around a campus of radius R: a density of 1 / (d (R + d)). A campus that
    would have to draw more than max_density_w_m2 per square metre of roof to take the
    node's load cannot be its only customer, and is passed over while a plausible campus is
    in reach.

    Substations are matched jointly, strongest pull first, one to a campus: a campus whose
    load a nearer substation already meters does not take a second one while a campus in
    the second's reach has none (two campuses 800 m apart each have their own supply).
    Substations left over then join the campus that pulls them most, as a campus fed twice.

    How surely (NaN where no campus was given): the given campus's pull over the summed
    pull of every plausible campus in reach; 1 for a substation with no other claimant,
    about a half where a hotter campus stands a little farther off, the case where a
    warehouse beside an AI campus takes its meter.
    """
    pulls = _pulls(node_geoms, campus_geoms, campus_area, max_distance_m, campus_heat, node_mw,
                   max_density_w_m2)
    given = _assign(pulls, len(node_geoms), len(campus_area))
    return given, _share(pulls, given)


def _assign(pulls: Pulls, n_nodes: int, n_campuses: int) -> np.ndarray:
    """The matching, strongest plausible pull first (attribute_with_shares's docstring)."""
    out = np.full(n_nodes, -1)
    nodes_idx, camp_idx, pull, plausible = pulls
    if len(nodes_idx) == 0:
        return out
    order = np.lexsort((-pull, ~plausible))  # plausible first, then the strongest pull
    fed = np.zeros(n_campuses, dtype=bool)
    for node, campus in zip(nodes_idx[order], camp_idx[order]):
        if out[node] < 0 and not fed[campus]:
            out[node], fed[campus] = campus, True
    first = np.unique(nodes_idx[order], return_index=True)[1]
    best_node, best_campus = nodes_idx[order][first], camp_idx[order][first]
    left = out[best_node] < 0
    out[best_node[left]] = best_campus[left]
    return out


def _pulls(node_geoms: gpd.GeoSeries, campus_geoms: gpd.GeoSeries, campus_area: np.ndarray,
           max_distance_m: float, campus_heat: np.ndarray | None, node_mw: np.ndarray | None,
           max_density_w_m2: float) -> Pulls:
    """Every (substation, campus) pair within reach: indices, pull and plausibility.

    The pull and the density bound are attribute_with_shares's (its docstring gives the
    physics).
    """
    empty = np.zeros(0, dtype=int)
    if len(campus_geoms) == 0 or len(node_geoms) == 0:
        return empty, empty, np.zeros(0), np.zeros(0, dtype=bool)
    tree = shapely.STRtree(campus_geoms.values)
    nodes_idx, camp_idx = tree.query(node_geoms.values, predicate="dwithin",
                                     distance=max_distance_m)
    dist = shapely.distance(node_geoms.values[nodes_idx], campus_geoms.values[camp_idx])
    heat = np.ones(len(campus_area)) if campus_heat is None else \
        np.maximum(np.nan_to_num(campus_heat, nan=0.5), MIN_HEAT_K)
    gap = np.maximum(dist, MIN_GAP_M)
    radius = shapely.minimum_bounding_radius(campus_geoms.values)[camp_idx]
    pull = campus_area[camp_idx] * heat[camp_idx] / (gap * (radius + gap))
    mw = np.zeros(len(node_geoms)) if node_mw is None else np.nan_to_num(node_mw)
    plausible = mw[nodes_idx] * 1e6 / campus_area[camp_idx] <= max_density_w_m2
    return nodes_idx, camp_idx, pull, plausible


def _share(pulls: Pulls, node_campus: np.ndarray) -> np.ndarray:
    """How surely each substation is its given campus's, from the pairs in reach."""
    out = np.full(len(node_campus), np.nan)
    nodes_idx, camp_idx, pull, plausible = pulls
    given = node_campus[nodes_idx] == camp_idx
    counted = plausible | given
    total = np.bincount(nodes_idx[counted], weights=pull[counted], minlength=len(node_campus))
    own = np.bincount(nodes_idx[given], weights=pull[given], minlength=len(node_campus))
    has = (node_campus >= 0) & (total > 0)
    out[has] = own[has] / total[has]
    return out


def _hourly(series: pd.DataFrame, end: pd.Timestamp, days: int) -> pd.Series:
    window = series[series["interval_start"] >= end - pd.Timedelta(days=days)]
    return window.set_index("interval_start")["load_mw"].resample("1h").mean()


def _steps(daily: pd.Series) -> tuple[int, float]:
    """Upward level shifts of over 15% (commissioning), and last month over first month."""
    if len(daily) < 3 * STEP_WINDOW_DAYS:
        return 0, np.nan
    before = daily.rolling(STEP_WINDOW_DAYS, min_periods=7).median()
    after = daily[::-1].rolling(STEP_WINDOW_DAYS, min_periods=7).median()[::-1]
    jump = (after.shift(-1) - before) / max(daily.quantile(0.95), 1e-6)
    ups = (jump > 0.15).astype(int)
    count = int(((ups.diff() == 1) | ((ups == 1) & (ups.index == ups.index[0]))).sum())
    first, last = daily.iloc[:30].mean(), daily.iloc[-30:].mean()
    return count, float(last / first) if first > 0 else np.nan


def node_features(load: pd.DataFrame, price: pd.DataFrame | None, period_end: pd.Timestamp,
                  utc_offset_h: float) -> pd.DataFrame:
    """Per node: recent mean MW, load factor, diurnal and weekly swing, price response, steps."""
    rows = {}
    price_s = price.set_index("interval_start")["price"] if price is not None else None
    for node_id, series in load.groupby("node_id", sort=False):
        last = _hourly(series, period_end, LAST_DAYS)
        recent = _hourly(series, period_end, SHAPE_DAYS).dropna()
        if last.notna().sum() < 24 or len(recent) < 24 * 7:
            continue
        local = recent.index + pd.Timedelta(hours=utc_offset_h)
        mean = recent.mean()
        by_hour = recent.groupby(local.hour).mean()
        weekday = recent[local.day_of_week < 5].mean()
        weekend = recent[local.day_of_week >= 5].mean()
        daily = series.set_index("interval_start")["load_mw"].resample("1D").mean().dropna()
        steps, growth = _steps(daily)
        baseline = recent.rolling(72, center=True, min_periods=24).median()
        dipped = (recent < DIP_FRACTION * baseline).astype(int)
        dips = int((dipped.diff() == 1).sum())
        row = {"node_mean_mw": float(last.mean()),
               "load_factor": float(mean / recent.quantile(0.99)) if mean > 0 else np.nan,
               "diurnal_amplitude": float((by_hour.max() - by_hour.min()) / mean),
               "weekly_amplitude": float((weekday - weekend) / mean),
               "steps_up": steps, "growth_ratio": growth,
               "dips_per_30d": dips * 24 * 30 / len(recent),
               "hours_covered": float(last.notna().mean())}
        row.update(_price_response(series, price_s))
        rows[node_id] = row
    cols = ["node_mean_mw", "load_factor", "diurnal_amplitude", "weekly_amplitude", "steps_up",
            "growth_ratio", "dips_per_30d", "hours_covered", "price_response",
            "price_spike_ratio"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=cols)


def _price_response(series: pd.DataFrame, price: pd.Series | None) -> dict[str, float]:
    """Correlation of load with price, and load in the top-price hours over the rest."""
    if price is None:
        return {"price_response": np.nan, "price_spike_ratio": np.nan}
    joined = pd.concat([series.set_index("interval_start")["load_mw"], price], axis=1,
                       join="inner").dropna()
    if len(joined) < 24 * 14:
        return {"price_response": np.nan, "price_spike_ratio": np.nan}
    top = joined["price"] >= joined["price"].quantile(TOP_PRICE_Q)
    rest = joined.loc[~top, "load_mw"].mean()
    return {"price_response": float(joined["load_mw"].corr(joined["price"], method="spearman")),
            "price_spike_ratio": float(joined.loc[top, "load_mw"].mean() / rest)
            if rest > 0 else np.nan}


def facility_power(campus: np.ndarray, area_m2: np.ndarray, node_campus: pd.Series,
                   nodes: pd.DataFrame) -> pd.DataFrame:
    """Share each campus's metered load among its halls by footprint area; density in W/m2.

    node_campus maps node_id -> campus index; nodes holds node_features rows.
    """
    n = len(campus)
    attached = node_campus[node_campus >= 0]
    attached = attached[attached.index.isin(nodes.index)]
    out = pd.DataFrame(index=range(n), columns=nodes.columns, dtype=float)
    if len(attached) == 0:
        out["mean_mw"] = np.nan
        out["power_density_w_m2"] = np.nan
        out["node_id"] = None
        return out
    per_campus = nodes.loc[attached.index].assign(campus=attached.to_numpy())
    weights = per_campus["node_mean_mw"]
    agg = per_campus.groupby("campus").apply(
        lambda g: pd.Series({**{c: np.average(g[c].astype(float), weights=np.maximum(
            weights.loc[g.index], 1e-6)) for c in nodes.columns if c != "node_mean_mw"},
            "node_mean_mw": g["node_mean_mw"].sum(), "node_id": ";".join(g.index)}),
        include_groups=False)
    campus_area = pd.Series(area_m2).groupby(campus).transform("sum").to_numpy()
    out = agg.reindex(campus).reset_index(drop=True)
    share = area_m2 / campus_area
    out["mean_mw"] = out["node_mean_mw"].astype(float) * share
    out["power_density_w_m2"] = out["mean_mw"] * 1e6 / area_m2
    return out
