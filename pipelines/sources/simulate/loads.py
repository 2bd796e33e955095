"""Hourly physics of the simulated grid: weather, prices, and the load of every site and node."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.sources.simulate.world import Site, World, draw


@dataclass
class Series:
    """The hourly world: times, weather, price, each site's power and each node's load."""

    times: pd.DatetimeIndex
    temp_c: np.ndarray
    price: np.ndarray
    hall_it_mw: dict[str, np.ndarray]  # facility_id -> IT MW (data centres)
    hall_power_mw: dict[str, np.ndarray]  # facility_id -> facility power MW (heat source)
    node_mw: dict[str, np.ndarray]
    local_hour: np.ndarray
    weekday: np.ndarray


def _smooth_noise(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """AR(1) noise with stationary standard deviation sd."""
    eps = rng.normal(0, sd * np.sqrt(1 - phi**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0, sd)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + eps[i]
    return out


def temperature(rng: np.random.Generator, world: World, times: pd.DatetimeIndex,
                local_hour: np.ndarray) -> np.ndarray:
    """Air temperature in C: annual cycle by latitude, diurnal cycle and weather."""
    alat = abs(world.lat)
    mean = 28.0 - 0.42 * alat + rng.normal(0, 2.5)  # zonal climatology, roughly (NOAA normals)
    amp = max(2.0, 0.3 * alat - 1.0 + rng.normal(0, 2.0))
    coldest_doy = 15 if world.lat >= 0 else 196
    doy = times.day_of_year.to_numpy()
    annual = -amp * np.cos(2 * np.pi * (doy - coldest_doy) / 365.25)
    diurnal = rng.uniform(3, 7) * np.cos(2 * np.pi * (local_hour - 15) / 24)
    days = (np.arange(len(times)) // 24)
    weather = _smooth_noise(rng, days.max() + 2, 0.8, rng.uniform(2, 4))
    frac = (np.arange(len(times)) % 24) / 24
    weather_h = weather[days] * (1 - frac) + weather[days + 1] * frac
    return mean + annual + diurnal + weather_h


def price_series(rng: np.random.Generator, temp_c: np.ndarray, local_hour: np.ndarray,
                 weekday: np.ndarray) -> np.ndarray:
    """Wholesale price (currency/MWh): weather-driven with an evening peak and rare spikes."""
    base = rng.uniform(25, 50)
    weather = 0.6 * np.maximum(temp_c - 24, 0) ** 1.5 + 0.4 * np.maximum(2 - temp_c, 0) ** 1.5
    shape = 1 + 0.35 * np.exp(-0.5 * ((local_hour - 18.5) / 2.0) ** 2) - 0.15 * (weekday >= 5)
    price = (base + weather) * shape * rng.lognormal(0, 0.12, len(temp_c))
    stress = (weather - weather.mean()) / (weather.std() + 1e-9)
    spike_p = 0.002 * np.exp(np.clip(stress, -2, 3))
    starts = np.flatnonzero(rng.uniform(size=len(temp_c)) < spike_p)
    for s in starts:
        price[s:s + rng.integers(1, 5)] = rng.uniform(200, 2000)
    return price


def residential(rng: np.random.Generator, homes: int, temp_c: np.ndarray,
                local_hour: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    """Homes on a feeder (MW): morning and evening peaks, heating and cooling."""
    kw = 0.9 + 0.35 * np.exp(-0.5 * ((local_hour - 7.5) / 1.5) ** 2) \
        + 0.7 * np.exp(-0.5 * ((local_hour - 19) / 2.5) ** 2) - 0.3 * (local_hour < 5)
    kw = kw + 0.06 * np.maximum(temp_c - 22, 0) + 0.04 * np.maximum(12 - temp_c, 0)
    kw = kw * (1 + 0.05 * (weekday >= 5))
    return homes * kw / 1000 * rng.lognormal(0, 0.03, len(temp_c))


def business(cap_mw: float, kind: str, temp_c: np.ndarray, local_hour: np.ndarray,
             weekday: np.ndarray) -> np.ndarray:
    """Commercial and warehouse buildings: open hours on weekdays; cold stores near flat."""
    if kind == "cold_store":
        day = (local_hour > 7) & (local_hour < 19)
        return cap_mw * (0.75 + 0.01 * (temp_c - 15) + 0.05 * day)
    open_hours = ((local_hour >= 7) & (local_hour < 19)).astype(float)
    weekend = (weekday >= 5) * (0.5 if kind == "retail" else 0.8)
    return cap_mw * (0.3 + 0.7 * open_hours * (1 - weekend) + 0.008 * np.maximum(temp_c - 20, 0))


def _outages(rng: np.random.Generator, n: int) -> np.ndarray:
    """A few hours at low draw every one to four weeks: training restarts or potline outages."""
    factor = np.ones(n)
    t = int(rng.integers(0, 24 * 21))
    while t < n:
        factor[t:t + rng.integers(1, 7)] = rng.uniform(0.2, 0.6)
        t += int(rng.integers(24 * 7, 24 * 30))
    return factor


def flat_load_conduct(rng: np.random.Generator, price: np.ndarray) -> np.ndarray:
    """Outages and demand response, drawn alike for every flat load: AI, smelter, refinery.

    They happen at real sites of each kind (reference table), so in training none may tell
    one from another by them: an AI load with neither, as other generators draw it, is in range.
    """
    n = len(price)
    factor = _outages(rng, n) if rng.uniform() < draw(rng, "flat_load_outage_share") else np.ones(n)
    if rng.uniform() < draw(rng, "flat_load_demand_response_share"):
        strike = np.quantile(price, rng.uniform(0.97, 0.995))
        factor *= np.where(price > strike, 1 - draw(rng, "demand_response_depth"), 1.0)
    return factor


def ai_site(rng: np.random.Generator, site: Site, caps: list[float], temp_c: np.ndarray,
            price: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """IT MW per hall and facility MW: flat, stepped on at commissioning, PUE follows weather."""
    n = len(temp_c)
    p = site.params
    util = p["draw"] * (1 + rng.normal(0, 0.004, n)) * flat_load_conduct(rng, price)
    halls = []
    n_before = max(1, int(round(len(caps) * rng.uniform(0.3, 1.0))))
    for k, cap in enumerate(caps):
        start = -1 if k < n_before else int(rng.uniform(0.05, 0.85) * n)
        ramp = np.clip((np.arange(n) - start) / max(1, rng.integers(24 * 7, 24 * 28)), 0, 1)
        on = np.where(np.arange(n) >= start, 0.3 + 0.7 * ramp, 0.0) if start >= 0 else 1.0
        halls.append(cap * util * on)
    pue = p["pue"] * (1 + draw(rng, "pue_ai_temperature_slope") * (temp_c - temp_c.mean()))
    return halls, np.sum(halls, axis=0) * np.maximum(pue, 1.03)


def cloud_site(rng: np.random.Generator, site: Site, caps: list[float], temp_c: np.ndarray,
               local_hour: np.ndarray, weekday: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """IT MW per hall and facility MW: daily and weekly demand swings on steady growth."""
    n = len(temp_c)
    p = site.params
    shape = 1 + p["diurnal"] * np.cos(2 * np.pi * (local_hour - 14) / 24) \
        - p["weekly"] * (weekday >= 5)
    growth = 1 + p["growth"] * (np.arange(n) / 8766 - 1)
    util = p["util"] * shape * growth * rng.lognormal(0, 0.01, n)
    halls = [cap * util for cap in caps]
    pue = p["pue"] * (1 + 0.006 * (temp_c - temp_c.mean()))
    return halls, np.sum(halls, axis=0) * np.maximum(pue, 1.05)


def crypto_site(rng: np.random.Generator, site: Site, total_mw: float, price: np.ndarray,
                peak_hours: np.ndarray) -> np.ndarray:
    """Facility MW of a mine: flat but curtailed in price spikes and system-peak hours."""
    p = site.params
    level = rng.uniform(0.92, 0.98) * (1 + rng.normal(0, 0.01, len(price)))
    curtail = price > p["strike"]
    if p["curtail_peaks"]:
        curtail |= peak_hours
    return total_mw * level * np.where(curtail, rng.uniform(0.03, 0.3), 1.0)


def industry_site(rng: np.random.Generator, site: Site, total_mw: float, price: np.ndarray,
                  temp_c: np.ndarray, local_hour: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    """Facility MW of a smelter (flat), refinery, steel works (shifts) or gas plant."""
    n = len(price)
    if site.subtype == "smelter":
        auxiliaries = 1 + draw(rng, "smelter_temperature_slope") * (temp_c - temp_c.mean())
        return total_mw * rng.uniform(0.94, 0.99) * (1 + rng.normal(0, 0.005, n)) \
            * auxiliaries * flat_load_conduct(rng, price)
    if site.subtype == "refinery":
        return refinery_load(rng, total_mw, price, temp_c)
    if site.subtype == "steel":
        shift = np.where((local_hour >= 6) & (local_hour < 22) & (weekday < 5), 0.75, 0.25)
        avoid = np.where(price > np.quantile(price, 0.97), 0.5, 1.0)
        return total_mw * shift * avoid * np.clip(rng.normal(1, 0.2, n), 0.3, 1.6)
    running = price > site.params["marginal_cost"]
    return total_mw * np.where(running, 0.03, 0.004) * rng.lognormal(0, 0.05, n)


def refinery_load(rng: np.random.Generator, total_mw: float, price: np.ndarray,
                  temp_c: np.ndarray) -> np.ndarray:
    """Facility MW of a refinery: flat day and night, more in the heat, a turnaround's dip.

    Pumps, compressors and air coolers run with the crude units around the clock and work
    harder in hot weather (refinery_temperature_slope); in a turnaround year part of the
    plant stands for weeks (refinery_turnaround_share, refinery_turnaround_days).
    """
    n = len(price)
    auxiliaries = 1 + draw(rng, "refinery_temperature_slope") * (temp_c - temp_c.mean())
    load = total_mw * rng.uniform(0.85, 0.97) * (1 + rng.normal(0, 0.01, n)) * auxiliaries \
        * flat_load_conduct(rng, price)
    if rng.uniform() < draw(rng, "refinery_turnaround_share"):
        length = int(24 * draw(rng, "refinery_turnaround_days"))
        start = int(rng.integers(0, max(1, n - length)))
        load[start:start + length] *= rng.uniform(0.4, 0.8)
    return load


def gas_plant_running(site: Site, price: np.ndarray) -> np.ndarray:
    """Hours when a gas plant runs (dispatched above its marginal cost)."""
    return price > site.params["marginal_cost"]


def _feeders(rng: np.random.Generator, world: World, hall_power: dict, node_mw: dict,
             temp_c: np.ndarray, local_hour: np.ndarray, weekday: np.ndarray) -> None:
    """Homes, shops and warehouses summed onto their feeders and area substations."""
    for node in world.nodes:
        if node["kind"] == "feeder" or node.get("serves") == "area":
            node_mw[node["node_id"]] = residential(rng, node["homes"], temp_c, local_hour, weekday)
    for fac in world.facilities:
        if "feeder" in fac:
            mw = hall_power.get(fac["facility_id"])
            if mw is None:
                mw = business(fac["cap_mw"], fac["subtype"], temp_c, local_hour, weekday)
                hall_power[fac["facility_id"]] = mw
            node_mw[fac["feeder"]] = node_mw[fac["feeder"]] + mw


def simulate_series(rng: np.random.Generator, world: World, start: pd.Timestamp) -> Series:
    """Every hourly series of the world for preset.days days from start (UTC)."""
    times = pd.date_range(start, periods=24 * world.preset.days, freq="h", tz="UTC")
    local_hour = (times.hour.to_numpy() + world.lon / 15.0) % 24
    local_times = times + pd.to_timedelta(world.lon / 15.0, unit="h")
    weekday = local_times.day_of_week.to_numpy()
    temp_c = temperature(rng, world, times, local_hour)
    price = price_series(rng, temp_c, local_hour, weekday)
    base = [n for n in world.nodes if n["kind"] == "balancing_area"][0]["base_mw"]
    area = base * residential(rng, 1000, temp_c, local_hour, weekday) / 1.2
    summer = np.isin(local_times.month, [6, 7, 8, 9] if world.lat >= 0 else [12, 1, 2, 3])
    peak_hours = summer & (area >= np.quantile(area[summer], 0.97))
    facs = {f["facility_id"]: f for f in world.facilities}
    hall_it, hall_power, node_mw = {}, {}, {}
    for site in world.sites:
        caps = [facs[h]["cap_mw"] for h in site.hall_ids]
        if site.true_class == "ai_training":
            halls, total = ai_site(rng, site, caps, temp_c, price)
        elif site.true_class == "cloud_datacenter":
            halls, total = cloud_site(rng, site, caps, temp_c, local_hour, weekday)
        elif site.true_class == "crypto_mining":
            halls, total = [], crypto_site(rng, site, sum(caps), price, peak_hours)
        else:
            halls, total = [], industry_site(rng, site, sum(caps), price, temp_c,
                                                  local_hour, weekday)
        for fid, it in zip(site.hall_ids, halls):
            hall_it[fid] = it
        weights = np.asarray(caps) / sum(caps)
        for fid, w in zip(site.hall_ids, weights):
            hall_power[fid] = total * w
        if site.node_id:
            node_mw[site.node_id] = total
    _feeders(rng, world, hall_power, node_mw, temp_c, local_hour, weekday)
    node_mw["BA"] = area + sum(v for k, v in node_mw.items() if k != "BA")
    return Series(times, temp_c, price, hall_it, hall_power, node_mw, local_hour, weekday)
