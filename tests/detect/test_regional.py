"""The regional detector on real EIA-930 series (tests/data/eia930): build-out areas alert and
rank high, slow growers do not, and every data-quality case (a collapse, a tiny area, rooftop
solar, an uncleaned pull with dropouts) is flagged or stays below alert; on synthetic series
the gates a shipped series does not show (mirrored steps, compression, missing years)."""

import gzip
import json
import re

import numpy as np
import pandas as pd
import pytest
from sources.conftest import BBOX, DATA

from detectors.regional import RegionalParams, area_context, regional_table

GROWERS = ["PJM-DOM", "ERCO-FWES", "ERCO-NRTH", "NYIS-ZONA"]
SLOW = ["SOCO", "BPAT", "DUK"]
QUALITY = ["WACM", "SPA", "CISO-SDGE", "CISO-VEA"]
CONTRACT = {"node_id", "regional_score", "regional_alert", "growth_mw_per_year",
            "growth_pct_per_year", "base_year", "quality_flags", "local_utc_offset",
            "interpretation"}


def _real(name: str) -> pd.Series:
    """A shipped series read independently of the tool: UTC hour-ending, as published."""
    with gzip.open(DATA / "eia930" / f"{name}.csv.gz", "rt") as fh:
        frame = pd.read_csv(fh)
    col = [c for c in frame.columns if c != "date_time"][0]
    return pd.Series(pd.to_numeric(frame[col], errors="coerce").to_numpy(),
                     pd.to_datetime(frame["date_time"], utc=True) - pd.Timedelta(hours=1))


@pytest.fixture(scope="module")
def regional_run(prefect_server, tmp_path_factory):
    """fetch every shipped series (and the uncleaned pull) into one bundle, run regional."""
    from pipelines.cli import main

    tmp = tmp_path_factory.mktemp("regional")
    files = [str(DATA / "eia930" / f"{a}.csv.gz") for a in GROWERS + SLOW + QUALITY]
    files.append(str(DATA / "eia930" / "LDWP.raw.csv.gz"))
    bundle = tmp / "grid-only"
    fetch = ["fetch", "--bbox", *map(str, BBOX), "--start", "2020-01-01", "--end",
             "2025-01-01", "--out", str(bundle), "--no-satellite", "--no-osm", "--eia930"]
    refused = main([*fetch, *files[:1]])
    assert main([*fetch, *files, "--assume-utc"]) == 0
    validated = main(["validate", str(bundle)])
    assert main(["regional", str(bundle), "--out", str(tmp / "out")]) == 0
    fc = json.loads((tmp / "out" / "regional.geojson").read_text())
    return {"rows": {f["id"]: f["properties"] for f in fc["features"]}, "refused": refused,
            "validated": validated}


def test_output_carries_the_contract_fields_for_every_area(regional_run):
    rows = regional_run["rows"]
    assert set(rows) == set(GROWERS + SLOW + QUALITY + ["LDWP"])
    for props in rows.values():
        assert CONTRACT <= set(props)
        assert isinstance(props["quality_flags"], list)
        assert "bbox" in props["geometry_source"]
    assert rows["PJM-DOM"]["base_year"] == 2021  # 2020, the pandemic dip, is skipped
    assert rows["PJM-DOM"]["local_utc_offset"] == -5.0
    assert rows["ERCO-FWES"]["local_utc_offset"] == -6.0
    assert rows["CISO-SDGE"]["local_utc_offset"] == -8.0


def test_offsetless_timestamps_are_refused_without_assume_utc(regional_run, capsys):
    assert regional_run["refused"] == 1


def test_a_grid_only_bundle_validates_as_usable_for_regional(regional_run):
    assert regional_run["validated"] == 0


def test_build_out_areas_alert_and_rank_above_slow_growers(regional_run):
    rows = regional_run["rows"]
    assert min(rows[a]["rank"] for a in ("PJM-DOM", "ERCO-FWES", "ERCO-NRTH")) == 1
    for area in ("PJM-DOM", "ERCO-FWES", "ERCO-NRTH"):
        assert rows[area]["regional_alert"], area
    for area in SLOW:
        assert not rows[area]["regional_alert"], area
    worst_grower = max(rows[a]["rank"] for a in ("PJM-DOM", "ERCO-FWES", "ERCO-NRTH"))
    assert worst_grower < min(rows[a]["rank"] for a in SLOW)
    assert "crypto" in rows["ERCO-FWES"]["interpretation"]
    assert "firm" in rows["PJM-DOM"]["interpretation"]


def test_growth_in_mw_matches_an_independent_calculation(regional_run):
    """Annual 5th percentiles of 2021 and 2024 straight from the file, three years apart."""
    rows = regional_run["rows"]
    for area in ("PJM-DOM", "SOCO"):
        mw = _real(area)
        p05 = mw.groupby(mw.index.year).quantile(0.05)
        expected = (p05[2024] - p05[2021]) / 3
        assert rows[area]["growth_mw_per_year"] == pytest.approx(expected, rel=0.02, abs=5)


def test_quality_cases_are_flagged_or_stay_below_alert(regional_run):
    rows = regional_run["rows"]
    spa = " ".join(rows["SPA"]["quality_flags"])
    assert "level_shift" in spa and "collapse" in spa
    # WACM's +1.4 GW of 2022 (load moved from PSCO) arrives once and growth stops after it.
    assert any("step not matched by a ramp" in f for f in rows["WACM"]["quality_flags"])
    assert any(f.startswith("small_area") for f in rows["CISO-VEA"]["quality_flags"])
    # The reader repaired the uncleaned pull (its stuck runs and spikes became holes).
    assert any(f.startswith("dropouts: ") for f in rows["LDWP"]["quality_flags"])
    for area in ("WACM", "SPA", "CISO-VEA", "LDWP"):
        assert not rows[area]["regional_alert"] and "data quality" in \
            rows[area]["interpretation"]
        assert rows[area]["regional_score"] < min(rows[a]["regional_score"] for a in (
            "PJM-DOM", "ERCO-FWES"))
    # Rooftop solar pulls San Diego's midday under its night; that is not curtailment.
    assert rows["CISO-SDGE"]["summer_curtailment_days"] < 5
    assert not rows["CISO-SDGE"]["regional_alert"]


def test_uncleaned_pull_is_repaired_with_counts(caplog):
    from pipelines.sources.eia import read_eia930

    raw = _real("LDWP.raw")
    with caplog.at_level("WARNING", logger="computewatch"):
        frame = read_eia930(DATA / "eia930" / "LDWP.raw.csv.gz", assume_utc=True)
    text = caplog.text
    assert "uncleaned demand repaired" in text and "cleaned series" in text
    counts = re.search(r"(\d+) hours zero or missing, (\d+) dropouts or spikes .* (\d+) stuck "
                       r"hours", text)
    assert counts and int(counts[1]) > 0 and int(counts[3]) >= 24
    assert len(frame) < len(raw) and (frame["mw"] > 1).all()
    assert frame["interval_start"].is_monotonic_increasing


def _hours(start: str = "2021-01-01", years: int = 3) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=24 * 365 * years, freq="h", tz="UTC")


def _area(t: pd.DatetimeIndex, level: float, seed: int) -> np.ndarray:
    """A plausible area: daily and seasonal cycles and weather noise around level."""
    rng = np.random.default_rng(seed)
    season = 0.12 * np.cos(2 * np.pi * (t.day_of_year - 200) / 365)
    daily = 0.1 * np.cos(2 * np.pi * (t.hour - 20) / 24)
    weather = np.repeat(rng.normal(0, 0.02, len(t) // 24 + 1), 24)[:len(t)]
    return level * (1 + season + daily + weather).to_numpy()


def test_weather_driven_growth_is_normalised_away():
    t = _hours()
    rng = np.random.default_rng(3)
    season = 15 + 12 * np.sin(2 * np.pi * (t.day_of_year - 110) / 365)
    temp = season + 5 * np.sin(2 * np.pi * (t.hour - 9) / 24) + rng.normal(0, 1, len(t))
    trend = np.linspace(0, 1, len(t))  # the summers get hotter; base load stays at 1000 MW
    temp = temp + 6 * trend * (temp > 18)
    mw = 1000 + 40 * np.maximum(temp - 18, 0) + 15 * np.maximum(18 - temp, 0)
    normalised = area_context(pd.Series(mw, t), 0.0, temp_c=pd.Series(temp, t))
    assert normalised["weather_normalised"] is True
    assert abs(normalised["growth_pct_per_year"]) < 1.0
    assert not normalised["regional_alert"]
    assert area_context(pd.Series(mw, t), 0.0)["weather_normalised"] is False


def test_flat_growth_alerts_in_mw_and_short_series_is_not_judged():
    t = _hours()
    mw = _area(t, 2000, 1) + np.where(t >= t[len(t) // 2], 400, 0)
    ctx = area_context(pd.Series(mw, t), 0.0)
    assert ctx["base_year"] == 2021 and ctx["quality_flags"] == []
    assert ctx["regional_alert"] and ctx["growth_mw_per_year"] == pytest.approx(200, rel=0.15)
    assert ctx["flat_share"] > 0.8
    short = area_context(pd.Series(mw[:24 * 400], t[:24 * 400]), 0.0)
    assert short["growth_mw_per_year"] is None and not short["regional_alert"]
    assert short["quality_flags"]


def test_large_area_alerts_on_absolute_growth_and_tiny_area_does_not():
    t = _hours(years=4)
    ramp = np.linspace(0, 1, len(t))
    big = _area(t, 20_000, 2) + 1_200 * ramp  # +300 MW a year: 1.5%/yr of a large area
    ctx = area_context(pd.Series(big, t), -5.0)
    assert ctx["growth_pct_per_year"] < 4 and ctx["regional_alert"]
    tiny = _area(t, 40, 3) + 8 * ramp  # a 40 MW area gaining 8 MW
    ctx = area_context(pd.Series(tiny, t), -5.0)
    assert not ctx["regional_alert"]
    assert any(f.startswith("small_area") for f in ctx["quality_flags"])


def test_base_year_can_be_set():
    t = _hours("2020-01-01", years=5)
    mw = _area(t, 3000, 4)
    assert area_context(pd.Series(mw, t), 0.0)["base_year"] == 2021
    ctx = area_context(pd.Series(mw, t), 0.0, params=RegionalParams(base_year=2022))
    assert ctx["base_year"] == 2022


def test_mirrored_steps_in_two_areas_flag_both_as_a_boundary_change():
    t = _hours(years=4)
    moved = np.where(t >= pd.Timestamp("2022-10-01", tz="UTC"), 600.0, 0.0)
    load = pd.concat([
        pd.DataFrame({"node_id": "A", "interval_start": t, "load_mw": _area(t, 1500, 5) + moved}),
        pd.DataFrame({"node_id": "B", "interval_start": t, "load_mw": _area(t, 2500, 6) - moved}),
        pd.DataFrame({"node_id": "D", "interval_start": t, "load_mw": _area(t, 1500, 7)}),
    ])
    table = regional_table(load, {}).set_index("node_id")
    for node, partner in (("A", "B"), ("B", "A")):
        flags = [f for f in table.loc[node, "quality_flags"] if f.startswith("boundary")]
        assert len(flags) == 1 and f"mirrored by {partner}" in flags[0]
        assert not table.loc[node, "regional_alert"]
    assert table.loc["D", "quality_flags"] == []
    # Without its partner the step is still one that growth does not follow.
    alone = regional_table(load[load["node_id"] != "B"], {}).set_index("node_id")
    flags = alone.loc["A", "quality_flags"]
    assert [f for f in flags if f.startswith("level_shift")] and not [
        f for f in flags if f.startswith("boundary")]


def test_compressed_distribution_and_missing_year_are_flagged():
    t = _hours(years=3)
    mw = _area(t, 2000, 8)
    mean = mw.mean()
    squeeze = np.where(t.year == 2023, 0.7, 1.0)
    squeezed = mean + (mw - mean) * squeeze
    ctx = area_context(pd.Series(squeezed, t), 0.0)
    assert any(f.startswith("compression") for f in ctx["quality_flags"])
    assert not ctx["regional_alert"]
    soco = _real("SOCO")
    holed = soco[~((soco.index.year == 2023) & (soco.index.month <= 6))]
    ctx = area_context(holed, -6.0)
    assert any(f.startswith("missing_years: 2023") for f in ctx["quality_flags"])


def test_temperature_file_is_read_and_checked(tmp_path):
    from pipelines.bundle.power import read_temperature
    from pipelines.errors import ComputewatchError, ProblemLog

    good = tmp_path / "t.csv"
    good.write_text("node_id,timestamp,temp_c\nDOM,2024-07-01T18:00:00-04:00,33.5\n")
    frame = read_temperature(good, ProblemLog(root=tmp_path))
    assert frame["interval_start"].iloc[0] == pd.Timestamp("2024-07-01T22:00:00Z")
    assert frame["temp_c"].iloc[0] == 33.5
    bad = tmp_path / "bad.csv"
    bad.write_text("node_id,time,temperature\nDOM,2024-07-01T18:00:00Z,30\n")
    with pytest.raises(ComputewatchError, match=r"bad.csv: missing columns \['timestamp', "
                       r"'temp_c'\]"):
        read_temperature(bad, ProblemLog(root=tmp_path))


@pytest.mark.parametrize("given", ["America", "a" * 5000, "../../etc/passwd", "/etc/localtime",
                                   "Europe/Paris\x00", 7])
def test_a_hostile_time_zone_property_falls_back_to_the_eia_table(given):
    from pipelines.detect.areas import area_zone

    assert area_zone("PJM-DOM", given, 0.0) == ("America/New_York", -5.0, None)
    assert area_zone("XYZ", given, -90.0)[:2] == (None, -6.0)
    assert area_zone("XYZ", "Europe/Paris", 0.0) == ("Europe/Paris", 1.0, None)
