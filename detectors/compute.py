"""From IT megawatts to compute: H100-equivalents, dense BF16 PFLOP/s, days to 1e25 FLOP.

Two H100-equivalent figures, as the SPEC asks:
- `est_h100_equivalents` follows Epoch AI's convention: IT power capacity over the nameplate
  IT watts of one H100 with its server (700 W x 1.82), so it compares with Epoch's tables;
- `est_h100_equivalents_at_hardware_year` scales that by the FLOP/s per watt of the
  hardware year; PFLOP/s and days to the treaty threshold use it.

Intervals are the 10th and 90th percentiles over the published ranges of every assumption
(PUE, server overhead, sustained draw, hardware generation, efficiency trend, MFU) and the
IT MW interval itself, each drawn uniformly: the reference table gives ranges, not
distributions, so no value inside a range is preferred. Every default comes from
data/reference_defaults.csv (pipelines.reference) and is passed in, so this module stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Draws for the intervals: enough for stable 10th/90th percentiles (about +/-1%), few
# enough for 16,000 facilities at once. A fixed seed keeps outputs reproducible.
DRAWS = 256
SEED = 20231
Z90 = 1.2815515655446004  # standard normal 90th percentile


@dataclass(frozen=True)
class Range:
    """A central value and its published range."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class ComputeAssumptions:
    """The physical defaults the estimate rests on (see the reference table for sources)."""

    h100_tdp_w: float
    h100_dense_bf16_tflops: float
    it_overhead_factor: Range
    pue: Range
    sustained_draw_fraction: Range
    mfu: Range
    efficiency_doubling_years: Range
    reference_hardware_year: float
    training_flop_threshold: float
    hardware_year: float
    hardware_year_spread: float = 1.0

    @property
    def it_w_per_h100(self) -> float:
        """Nameplate IT watts per H100 with its host, network and storage (about 1.27 kW)."""
        return self.h100_tdp_w * self.it_overhead_factor.value

    @property
    def efficiency_gain(self) -> float:
        """FLOP/s per watt of the hardware year relative to the H100's year."""
        years = self.hardware_year - self.reference_hardware_year
        return float(2.0 ** (years / self.efficiency_doubling_years.value))


def it_mw_from_facility(facility_mw: np.ndarray, a: ComputeAssumptions
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IT MW (estimate, low, high) from metered facility MW through the PUE and its range."""
    mw = np.asarray(facility_mw, dtype=float)
    return mw / a.pue.value, mw / a.pue.high, mw / a.pue.low


def h100_equivalents(it_capacity_mw: np.ndarray, a: ComputeAssumptions) -> np.ndarray:
    """Epoch AI's convention: IT power capacity / (700 W x 1.82) H100s."""
    return np.asarray(it_capacity_mw, dtype=float) * 1e6 / a.it_w_per_h100


def _uniform(rng: np.random.Generator, r: Range) -> np.ndarray:
    return rng.uniform(r.low, r.high, DRAWS)


def _draws(a: ComputeAssumptions) -> dict[str, np.ndarray]:
    """Joint draws of every assumption over its published range (same draws every call)."""
    rng = np.random.default_rng(SEED)
    year = a.hardware_year + rng.uniform(-a.hardware_year_spread, a.hardware_year_spread,
                                         DRAWS)
    doubling = _uniform(rng, a.efficiency_doubling_years)
    return {"pue": _uniform(rng, a.pue), "overhead": _uniform(rng, a.it_overhead_factor),
            "draw": _uniform(rng, a.sustained_draw_fraction), "mfu": _uniform(rng, a.mfu),
            "gain": 2.0 ** ((year - a.reference_hardware_year) / doubling),
            "z": rng.standard_normal(DRAWS)}


def _quantiles(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """10th and 90th percentiles per row; NaN for a row without an estimate."""
    finite = np.isfinite(samples).any(axis=1)
    low = np.full(samples.shape[0], np.nan)
    high = np.full(samples.shape[0], np.nan)
    if finite.any():
        low[finite], high[finite] = np.nanpercentile(samples[finite], [10, 90], axis=1)
    return low, high


def _point(it_capacity_mw: np.ndarray, a: ComputeAssumptions) -> dict[str, np.ndarray]:
    """The central estimates from IT power capacity."""
    h100e = h100_equivalents(it_capacity_mw, a)
    at_year = h100e * a.efficiency_gain
    pflops = at_year * a.h100_dense_bf16_tflops / 1000.0
    return {"est_h100_equivalents": h100e, "est_h100_equivalents_at_hardware_year": at_year,
            "est_dense_bf16_pflops": pflops, "days_to_1e25_flop": _days(pflops, a.mfu.value, a)}


def _intervals(h100e_s: np.ndarray, d: dict[str, np.ndarray], a: ComputeAssumptions
               ) -> dict[str, np.ndarray]:
    """10th and 90th percentiles of every figure, from drawn H100-equivalents (rows x draws)."""
    at_year_s = h100e_s * d["gain"]
    pflops_s = at_year_s * a.h100_dense_bf16_tflops / 1000.0
    out = {}
    for name, samples in (("est_h100_equivalents", h100e_s),
                          ("est_h100_equivalents_at_hardware_year", at_year_s),
                          ("est_dense_bf16_pflops", pflops_s),
                          ("days_to_1e25_flop", _days(pflops_s, d["mfu"], a))):
        out[f"{name}_low"], out[f"{name}_high"] = _quantiles(samples)
    return out


def compute_capacity(it_mw: np.ndarray, a: ComputeAssumptions,
                     it_mw_low: np.ndarray | None = None,
                     it_mw_high: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """H100-equivalents, dense BF16 PFLOP/s and days to the threshold, with 80% intervals.

    it_mw is the IT power drawn now; capacity is drawn / sustained_draw_fraction. The IT MW
    interval (10th to 90th percentile) enters the intervals as a log-normal spread.
    """
    it = np.asarray(it_mw, dtype=float)
    d = _draws(a)
    low_in = it if it_mw_low is None else np.asarray(it_mw_low, dtype=float)
    high_in = it if it_mw_high is None else np.asarray(it_mw_high, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.where((low_in > 0) & (high_in > 0), np.log(high_in / low_in) / (2 * Z90), 0)
    it_s = it[:, None] * np.exp(np.nan_to_num(sigma)[:, None] * d["z"][None, :])
    h100e_s = it_s * 1e6 / d["draw"] / (a.h100_tdp_w * d["overhead"])
    return {**_point(it / a.sustained_draw_fraction.value, a), **_intervals(h100e_s, d, a)}


def facility_capacity(facility_mw: np.ndarray, a: ComputeAssumptions) -> dict[str, np.ndarray]:
    """The estimate from facility power capacity (what Epoch AI tabulates), PUE drawn too."""
    mw = np.asarray(facility_mw, dtype=float)
    d = _draws(a)
    it_capacity = mw / a.pue.value
    h100e_s = mw[:, None] * 1e6 / d["pue"] / (a.h100_tdp_w * d["overhead"])
    return {**_point(it_capacity, a), **_intervals(h100e_s, d, a),
            "est_it_mw_capacity": it_capacity, "est_it_mw_capacity_low": mw / a.pue.high,
            "est_it_mw_capacity_high": mw / a.pue.low}


def estimate(mw: float, basis: str, a: ComputeAssumptions, drawn: bool = False
             ) -> dict[str, float]:
    """One power figure to compute, for `computewatch estimate`.

    basis "facility": power at the meter (PUE included); "it": IT power. drawn: the figure is a
    measured mean draw (as est_it_mw is), not a capacity (as Epoch AI tabulates).
    """
    if basis not in ("facility", "it"):
        raise ValueError(f"basis must be facility or it, not {basis!r}")
    value = np.array([float(mw)])
    if drawn:
        value = value / a.sustained_draw_fraction.value
    if basis == "facility":
        out = facility_capacity(value, a)
    else:
        it = value * a.sustained_draw_fraction.value
        out = compute_capacity(it, a)
        out["est_it_mw_capacity"] = value
        out["est_it_mw_capacity_low"] = out["est_it_mw_capacity_high"] = value
    return {k: float(v[0]) for k, v in out.items()}


def _days(pflops: np.ndarray, mfu: float | np.ndarray, a: ComputeAssumptions) -> np.ndarray:
    """Days to the training threshold at the given utilisation; NaN without compute."""
    with np.errstate(divide="ignore", invalid="ignore"):
        days = a.training_flop_threshold / (pflops * 1e15 * mfu) / 86400.0
    return np.where(pflops > 0, days, np.nan)
