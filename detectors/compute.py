"""From IT megawatts to compute: H100-equivalents, dense BF16 PFLOP/s, days to 1e25 FLOP.

Every default comes from data/reference_defaults.csv (loaded by pipelines.reference) and is
passed in as ComputeAssumptions, so this module stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ComputeAssumptions:
    """The physical defaults the estimate rests on (see the reference table for sources)."""

    h100_tdp_w: float
    h100_dense_bf16_tflops: float
    it_overhead_factor: float
    pue: float
    pue_low: float
    pue_high: float
    sustained_draw_fraction: float
    mfu: float
    efficiency_doubling_years: float
    reference_hardware_year: float
    training_flop_threshold: float
    hardware_year: float

    @property
    def it_w_per_h100(self) -> float:
        """Nameplate IT watts per H100 with its host, network and storage (about 1.27 kW)."""
        return self.h100_tdp_w * self.it_overhead_factor

    @property
    def efficiency_gain(self) -> float:
        """FLOP/s per watt of the hardware year relative to the H100's year."""
        years = self.hardware_year - self.reference_hardware_year
        return float(2.0 ** (years / self.efficiency_doubling_years))


def it_mw_from_facility(facility_mw: np.ndarray, a: ComputeAssumptions
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IT MW (estimate, low, high) from metered facility MW through the PUE and its range."""
    mw = np.asarray(facility_mw, dtype=float)
    return mw / a.pue, mw / a.pue_high, mw / a.pue_low


def compute_capacity(it_mw: np.ndarray, a: ComputeAssumptions) -> dict[str, np.ndarray]:
    """H100-equivalents, dense BF16 PFLOP/s and days to the treaty threshold at a.mfu.

    Drawn IT power is sustained_draw_fraction of nameplate; H100-equivalents count
    FLOP/s, so newer hardware (a later hardware_year) gives more per megawatt.
    """
    it_w = np.asarray(it_mw, dtype=float) * 1e6
    accelerators = it_w / a.sustained_draw_fraction / a.it_w_per_h100
    h100e = accelerators * a.efficiency_gain
    pflops = h100e * a.h100_dense_bf16_tflops / 1000.0
    with np.errstate(divide="ignore", invalid="ignore"):
        days = a.training_flop_threshold / (pflops * 1e15 * a.mfu) / 86400.0
    days = np.where(pflops > 0, days, np.nan)
    return {"est_h100_equivalents": h100e, "est_dense_bf16_pflops": pflops,
            "days_to_1e25_flop": days}
