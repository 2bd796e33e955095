"""The regional flat-baseload detector: on the real EIA-930 series it must put Dominion and
Far West Texas far above SOCO, BPAT and DUK, and tell curtailing from firm growth; on
synthetic series its weather normalisation and its two-year minimum behave."""

import json

import numpy as np
import pandas as pd

from detectors.regional import area_context
from sources.conftest import BBOX, DATA

BAS = ["PJM-DOM", "ERCO-FWES", "SOCO", "BPAT", "DUK"]


def test_real_eia930_ranking_from_the_command_line(prefect_server, tmp_path, capsys):
    from pipelines.cli import main

    files = [str(DATA / "eia930" / f"{ba}.csv.gz") for ba in BAS]
    bundle = tmp_path / "grid-only"
    assert main(["fetch", "--bbox", *map(str, BBOX), "--start", "2020-01-01", "--end",
                 "2025-01-01", "--out", str(bundle), "--no-satellite", "--no-osm",
                 "--eia930", *files]) == 0
    capsys.readouterr()
    from pipelines.bundle.region import read_region

    # --end is exclusive; the bundle's period ends with the last hour of 2024.
    assert read_region(bundle).period_end == pd.Timestamp("2025-01-01", tz="UTC")
    assert main(["regional", str(bundle), "--out", str(tmp_path / "out")]) == 0
    fc = json.loads((tmp_path / "out" / "regional.geojson").read_text())
    rows = {f["id"]: f["properties"] for f in fc["features"]}
    growth = {ba: rows[ba]["flat_load_growth_pct_per_year"] for ba in BAS}
    assert {rows["PJM-DOM"]["rank"], rows["ERCO-FWES"]["rank"]} == {1, 2}
    contrast = max(growth[b] for b in ("SOCO", "BPAT", "DUK"))
    assert min(growth["PJM-DOM"], growth["ERCO-FWES"]) > 2 * contrast
    assert rows["PJM-DOM"]["regional_alert"] and rows["ERCO-FWES"]["regional_alert"]
    assert not any(rows[b]["regional_alert"] for b in ("SOCO", "BPAT", "DUK"))
    assert rows["ERCO-FWES"]["summer_curtailment_days"] >= 5
    assert rows["PJM-DOM"]["summer_curtailment_days"] == 0
    assert "crypto" in rows["ERCO-FWES"]["interpretation"]
    assert "data centres" in rows["PJM-DOM"]["interpretation"]
    assert 10000 < rows["PJM-DOM"]["base_load_last_mw"] < 12000  # about 11.0 GW in 2024


def _hours(years: int = 3) -> pd.DatetimeIndex:
    return pd.date_range("2021-01-01", periods=24 * 365 * years, freq="h", tz="UTC")


def test_weather_driven_growth_is_normalised_away():
    t = _hours()
    rng = np.random.default_rng(3)
    season = 15 + 12 * np.sin(2 * np.pi * (t.day_of_year - 110) / 365)
    temp = season + 5 * np.sin(2 * np.pi * (t.hour - 9) / 24) + rng.normal(0, 1, len(t))
    trend = np.linspace(0, 1, len(t))  # the summers get hotter; base load stays at 1000 MW
    temp = temp + 6 * trend * (temp > 18)
    mw = 1000 + 40 * np.maximum(temp - 18, 0) + 15 * np.maximum(18 - temp, 0)
    raw = area_context(pd.Series(mw, t), 0.0)
    normalised = area_context(pd.Series(mw, t), 0.0, temp_c=pd.Series(temp, t))
    assert normalised["weather_normalised"] is True
    assert abs(normalised["flat_load_growth_pct_per_year"]) < 1.0
    assert not normalised["regional_alert"]
    assert raw["weather_normalised"] is False


def test_flat_step_is_flagged_and_short_series_is_not_judged():
    t = _hours()
    afternoon_peak = 300 * np.cos(2 * np.pi * (t.hour - 16) / 24)
    mw = 2000 + afternoon_peak + np.where(t >= t[len(t) // 2], 400, 0)
    ctx = area_context(pd.Series(mw, t), 0.0)
    assert ctx["regional_alert"] and ctx["summer_curtailment_days"] == 0
    assert ctx["flat_share"] > 0.9
    short = area_context(pd.Series(mw[:24 * 400], t[:24 * 400]), 0.0)
    assert short["flat_load_growth_pct_per_year"] is None and not short["regional_alert"]


def test_temperature_file_is_read_and_checked(tmp_path):
    import pytest

    from pipelines.bundle.grid import read_temperature
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
