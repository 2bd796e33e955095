"""Every connector, through its real HTTP or file path, writes a valid region bundle.

The contract class runs once per connector: STAC + Overpass + EIA API v2 over HTTP, EIA-930
files, a meter file shared under agreement, and the gridstatus adapter (with a stand-in
module, since gridstatus itself calls live ISO sites).
"""

import json
import sys
import types

import pandas as pd
import pytest

from pipelines.bundle.reader import read_bundle
from pipelines.bundle.validate import validate
from pipelines.settings import SourceSettings
from sources.conftest import BBOX, DATA

SETTINGS = SourceSettings(max_cloud_cover=80, request_interval_s=0)  # the scene is 76% cloud
START, END = "2019-01-01", "2021-01-01"


def _meters(tmp_path):
    times = pd.date_range("2020-01-01", periods=24 * 60, freq="h", tz="UTC")
    pd.DataFrame({"node_id": "SUB-7", "timestamp": [t.isoformat() for t in times],
                  "mw": 42.0}).to_csv(tmp_path / "meters.csv", index=False)
    pd.DataFrame({"node_id": ["SUB-7"], "kind": ["substation"], "lon": [-67.7735],
                  "lat": [-14.4665]}).to_csv(tmp_path / "meter_nodes.csv", index=False)
    return {"meters": str(tmp_path / "meters.csv"),
            "meter_nodes": str(tmp_path / "meter_nodes.csv")}


def _gridstatus(monkeypatch):
    class FakeISO:
        def get_load(self, start, end):
            times = pd.date_range(start, end, freq="h", inclusive="left")
            return pd.DataFrame({"Time": times, "Interval Start": times,
                                 "Interval End": times + pd.Timedelta(hours=1),
                                 "Load": 50000.0})

    module = types.SimpleNamespace(get_iso=lambda name: FakeISO)
    monkeypatch.setitem(sys.modules, "gridstatus", module)
    return {"gridstatus": ["ERCOT"]}


CONNECTORS = {
    "stac+overpass+eia-api": lambda tmp, mp: {"eia": ["ERCO-FWES"]},
    "eia930-file": lambda tmp, mp: {"satellite": False,
                                    "eia930": [str(DATA / "eia930" / "ERCO-FWES.csv.gz")],
                                    "assume_utc": True},
    "meter-file": lambda tmp, mp: {"satellite": False, **_meters(tmp)},
    "gridstatus": lambda tmp, mp: {"satellite": False, **_gridstatus(mp)},
}


@pytest.mark.parametrize("connector", sorted(CONNECTORS))
class TestConnectorContract:
    """What every connector must hand over: a bundle the reader accepts, ids that are stable,
    load that belongs to declared nodes, scenes whose files are in the bundle."""

    @pytest.fixture
    def bundle(self, connector, sources, prefect_server, tmp_path, monkeypatch):
        from pipelines.orchestration.fetch import FetchRequest, fetch_flow

        extra = CONNECTORS[connector](tmp_path, monkeypatch)
        req = FetchRequest("contract", BBOX, START, END, str(tmp_path / "bundle"), **extra)
        report = fetch_flow(req, SETTINGS)
        return tmp_path / "bundle", report

    def test_bundle_is_valid(self, bundle):
        root, report = bundle
        outcome = validate(root)
        assert outcome.usable, outcome
        assert not report["failed"]
        b = read_bundle(root)
        assert len(b.facilities) == 3
        assert tuple(b.region.bbox) == BBOX
        assert len(b.load) > 0 and set(b.load["node_id"]) <= set(b.nodes["node_id"])

    def test_ids_are_the_sources_own_keys(self, bundle):
        root, _ = bundle
        fc = json.loads((root / "facilities.geojson").read_text())
        ids = [f["id"] for f in fc["features"]]
        assert sorted(ids) == ["osm-relation-2001", "osm-way-1001", "osm-way-1002"]
        assert all(f["properties"]["facility_id"] == f["id"] for f in fc["features"])
        assert "crs" not in fc

    def test_load_is_utc_interval_start(self, bundle):
        root, _ = bundle
        load = pd.read_csv(root / "grid" / "load.csv")
        assert list(load.columns) == ["node_id", "timestamp", "mw"]
        assert load["timestamp"].str.endswith("+00:00").all()
        assert load["timestamp"].min() >= START

    def test_scenes_point_inside_the_bundle(self, bundle):
        root, _ = bundle
        for item_path in (root / "imagery").glob("*.json"):
            item = json.loads(item_path.read_text())
            for asset in ("lwir11", "qa_pixel"):
                href = item["assets"][asset]["href"]
                assert href.startswith("./") and (root / "imagery" / href).is_file()
