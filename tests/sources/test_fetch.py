"""The fetch flow against the replaying server: what each source contributes, range reads,
incremental re-fetches, key handling and retries; then fetch -> validate -> detect by CLI."""

import json
import re

import pandas as pd
import pytest

from pipelines.errors import SourceError
from pipelines.redact import redact
from pipelines.settings import SourceSettings
from sources.conftest import BBOX, EIA_KEY, LANDSAT

SETTINGS = SourceSettings(max_cloud_cover=80, request_interval_s=0)


def _fetch(tmp_path, **kwargs):
    from pipelines.orchestration.fetch import FetchRequest, fetch_flow

    req = FetchRequest("t", BBOX, kwargs.pop("start", "2019-01-01"),
                       kwargs.pop("end", "2021-01-01"), str(tmp_path / "bundle"), **kwargs)
    return fetch_flow(req, SETTINGS)


def _tif_bytes(server, name: str) -> int:
    """Bytes GDAL asked for: the sum of its Range requests (a GET without one is the file)."""
    total = 0
    for req, _ in server.server.log:
        if req.path.endswith(name) and req.method == "GET":
            match = re.match(r"bytes=(\d+)-(\d+)", req.headers.get("Range", ""))
            total += int(match.group(2)) - int(match.group(1)) + 1 if match else \
                (LANDSAT / name).stat().st_size
    return total


def test_stac_windows_are_range_reads_and_refetch_is_incremental(sources, prefect_server,
                                                                 tmp_path):
    report = _fetch(tmp_path, osm=True)
    assert report["scenes"]["found"] == 3  # Landsat 7 left out
    assert report["scenes"]["left_out"]["not_landsat_8_or_9"] == 1
    assert report["scenes"]["fetched"] == 3
    name = "LC08_L2SP_001070_20190114_20200830_02_T2_ST_B10.TIF"
    size = (LANDSAT / name).stat().st_size
    served = _tif_bytes(sources, name)
    assert 0 < served < size / 2, "the windows of three scenes, not the whole file"
    assert any(req.headers.get("Range") for req, _ in sources.server.log
               if req.path.endswith(name))
    import rasterio

    with rasterio.open(tmp_path / "bundle" / "imagery" /
                       "LC08_L2SP_001070_20190114_02_T2_ST_B10.TIF") as src:
        assert src.width < 60 and src.height < 60 and src.nodata == 0
    item = json.loads((tmp_path / "bundle" / "imagery" /
                       "LC08_L2SP_001070_20190114_20200830_02_T2_USGS.json").read_text())
    assert item["assets"]["lwir11"]["href"].startswith("./")  # USGS keys mapped to lwir11

    again = _fetch(tmp_path, osm=True)
    assert again["scenes"]["already_there"] == 3 and again["scenes"]["fetched"] == 0
    assert _tif_bytes(sources, name) == served


def test_overpass_buildings_and_power(sources, prefect_server, tmp_path):
    report = _fetch(tmp_path, satellite=False)
    assert report["facilities"] == {"written": 3, "smaller_than_minimum": 1,
                                    "without_usable_geometry": 1, "infrastructure": 2}
    infra = json.loads((tmp_path / "bundle" / "infrastructure.geojson").read_text())
    kinds = {f["properties"]["power"]: f for f in infra["features"]}
    assert kinds["line"]["properties"]["voltage"] == "230000;115000"
    assert kinds["substation"]["geometry"]["type"] == "Point"
    fac = json.loads((tmp_path / "bundle" / "facilities.geojson").read_text())
    relation = next(f for f in fac["features"] if f["id"] == "osm-relation-2001")
    assert len(relation["geometry"]["coordinates"]) == 2, "the inner ring is a hole"


def test_eia_pages_months_and_cache(sources, prefect_server, tmp_path):
    _fetch(tmp_path, satellite=False, eia=["ERCO-FWES"], start="2020-03-01",
           end="2020-05-01")
    calls = len(sources.eia_calls)
    assert calls == 4, "two months of about 740 rows, in pages of 500"
    load = pd.read_csv(tmp_path / "bundle" / "grid" / "load.csv")
    assert load["timestamp"].iloc[0] == "2020-03-01T00:00:00+00:00"  # hour ending 01 UTC
    assert len(load) == 61 * 24
    _fetch(tmp_path, satellite=False, eia=["ERCO-FWES"], start="2020-03-01",
           end="2020-05-01")
    assert len(sources.eia_calls) == calls, "finished months come from the cache"


def test_eia_transient_error_is_retried_and_a_400_is_not(sources, prefect_server, tmp_path):
    sources.eia_failures[:] = [503]
    _fetch(tmp_path, satellite=False, eia=["ERCO-FWES"], start="2020-03-01",
           end="2020-04-01")
    assert len(sources.eia_calls) == 3  # 503, then two pages
    sources.eia_failures[:] = [400]
    report = _fetch(tmp_path / "b", satellite=False, eia=["ERCO-FWES"], start="2020-06-01",
                    end="2020-07-01")
    assert len(sources.eia_calls) == 4
    assert report["failed"][0]["source"] == "eia" and "400" in report["failed"][0]["error"]


def test_missing_or_refused_key_is_a_clear_error_without_the_key(sources, prefect_server,
                                                                 tmp_path, monkeypatch):
    monkeypatch.delenv("EIA_API_KEY")
    with pytest.raises(SourceError, match="EIA_API_KEY"):
        _fetch(tmp_path, satellite=False, eia=["ERCO-FWES"], start="2020-03-01",
               end="2020-04-01")
    monkeypatch.setenv("EIA_API_KEY", "wrong-secret-999")
    with pytest.raises(SourceError, match="refused") as err:
        _fetch(tmp_path, satellite=False, eia=["ERCO-FWES"], start="2020-03-01",
               end="2020-04-01")
    assert "wrong-secret-999" not in str(err.value) and "403" in str(err.value)


def test_redact_hides_keys_and_signatures():
    text = redact(f"https://x/v2?api_key={EIA_KEY}&a=1 https://y/b.tif?st=1&se=2&sig=abc")
    assert EIA_KEY not in text and "abc" not in text and "a=1" in text


def test_fetch_validate_detect_from_the_command_line(sources, prefect_server, tmp_path,
                                                     capsys):
    from pipelines.cli import main

    bundle, out = tmp_path / "bundle", tmp_path / "out"
    config = tmp_path / "flows.yaml"
    config.write_text("sources:\n  max_cloud_cover: 80\n  request_interval_s: 0\n")
    assert main(["fetch", "--bbox", *map(str, BBOX), "--start", "2019-01-01", "--end",
                 "2021-01-01", "--out", str(bundle), "--eia", "ERCO-FWES",
                 "--config", str(config)]) == 0
    assert "3 buildings, 3 scenes, 1 grid nodes" in capsys.readouterr().out
    assert main(["validate", str(bundle)]) == 0
    assert main(["detect", str(bundle), "--out", str(out), "--no-store"]) == 0
    report = json.loads((out / "run_report.json").read_text())
    assert report["counts"]["facilities"] == 3 and report["counts"]["scenes_used"] >= 1
    assert json.loads((out / "candidates.geojson").read_text())["type"] == "FeatureCollection"


def test_fetch_usage_errors(capsys):
    from pipelines.cli import main

    assert main(["fetch", "--bbox", "10", "0", "5", "1", "--start", "2020-01-01", "--end",
                 "2020-02-01", "--out", "/tmp/x"]) == 2
    assert main(["fetch", "--bbox", *map(str, BBOX), "--start", "2020-02-01", "--end",
                 "2020-01-01", "--out", "/tmp/x"]) == 2
    assert "must be after" in capsys.readouterr().err


def test_a_deployment_with_a_fetch_spec_fetches_then_detects(sources, prefect_server,
                                                             tmp_path, capsys):
    import yaml

    from pipelines.cli import main

    config = tmp_path / "flows.yaml"
    config.write_text(yaml.safe_dump({
        "sources": {"max_cloud_cover": 80, "request_interval_s": 0},
        "defaults": {"alert_store": "sqlite:///alerts.sqlite"},
        "deployments": [{"name": "bolivia", "output": "out", "region": {
            "name": "bolivia-test", "bbox": list(BBOX), "bundle": "regions/bolivia",
            "days": 3000, "eia_subregions": ["ERCO-FWES"]},
            "schedule": {"cron": "0 4 * * 1"}}]}))
    assert main(["deployments", "--config", str(config)]) == 0
    assert "fetch bolivia-test (3000 d) -> regions/bolivia" in capsys.readouterr().out
    assert main(["run", "bolivia", "--here", "--config", str(config)]) == 0
    from pipelines.export.reports import FetchReport

    fetched = FetchReport.model_validate_json(
        (tmp_path / "regions" / "bolivia" / "fetch_report.json").read_text())
    assert fetched.grid["nodes"] >= 1
    report = json.loads((tmp_path / "out" / "run_report.json").read_text())
    assert report["counts"]["facilities"] == 3 and report["counts"]["scenes"] == 3


def test_a_partial_overpass_answer_is_an_error_worth_retrying():
    from pyproj import CRS

    from pipelines.orchestration.retry import is_transient
    from pipelines.sources.overpass import parse_overpass

    partial = {"elements": [], "remark": "runtime error: Query timed out in \"query\" at "
               "line 3 after 181 seconds."}
    with pytest.raises(SourceError, match="incomplete") as err:
        parse_overpass(partial, CRS.from_epsg(32719), 2000)
    assert is_transient(err.value)
