"""A local HTTP server that replays STAC, Overpass and EIA answers in their real formats."""

import gzip
import json
import re
import uuid
from pathlib import Path

import pandas as pd
import pytest
from werkzeug import Request, Response

DATA = Path(__file__).resolve().parents[1] / "data"
SOURCES = DATA / "sources"
LANDSAT = DATA / "landsat" / "cog"  # tiled copies: range reads see tiles
BBOX = (-67.80, -14.50, -67.70, -14.40)  # inside the real scene's footprint (Bolivia)
EIA_KEY = "test-key-123"
EIA_PAGE_CAP = 500  # the server returns fewer rows than asked, as real APIs may


def _json(obj: object, status: int = 200) -> Response:
    return Response(json.dumps(obj), status=status, content_type="application/json")


def ranged_file(path: Path):
    """Serve a file with HTTP range support (what GDAL's /vsicurl/ needs)."""
    data = path.read_bytes()

    def handler(request: Request) -> Response:
        headers = {"Accept-Ranges": "bytes", "Content-Type": "image/tiff"}
        match = re.match(r"bytes=(\d+)-(\d*)", request.headers.get("Range", ""))
        if not match:
            return Response(data, headers=headers)
        start = int(match.group(1))
        end = min(int(match.group(2)) if match.group(2) else len(data) - 1, len(data) - 1)
        return Response(data[start:end + 1], status=206, headers={
            **headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"})
    return handler


def _template(name: str, base: str) -> object:
    return json.loads((SOURCES / name).read_text().replace("{base}", base))


def _fwes() -> pd.DataFrame:
    with gzip.open(DATA / "eia930" / "ERCO-FWES.csv.gz", "rt") as fh:
        frame = pd.read_csv(fh)
    frame["period"] = pd.to_datetime(frame["date_time"]).dt.strftime("%Y-%m-%dT%H")
    return frame


class SourceServer:
    """Registers the handlers and counts what was asked."""

    def __init__(self, httpserver) -> None:
        self.server = httpserver
        # A fresh path per test: GDAL caches what it read per URL for the whole process.
        self.prefix = f"/{uuid.uuid4().hex[:8]}"
        self.base = httpserver.url_for(self.prefix)
        self.fwes = _fwes()
        self.eia_calls: list[dict] = []
        self.eia_failures: list[int] = []  # statuses to answer before serving data
        httpserver.expect_request(f"{self.prefix}/stac/", method="GET").respond_with_json(
            _template("stac_landing.json", self.base + "/stac"))
        httpserver.expect_request(f"{self.prefix}/stac/search").respond_with_handler(self._search)
        for tif in LANDSAT.glob("*.TIF"):
            httpserver.expect_request(f"{self.prefix}/stac/files/{tif.name}").respond_with_handler(
                ranged_file(tif))
        httpserver.expect_request(f"{self.prefix}/overpass/api/interpreter", method="POST"
                                  ).respond_with_handler(self._overpass)
        httpserver.expect_request(
            f"{self.prefix}/eia/v2/electricity/rto/region-sub-ba-data/data/"
        ).respond_with_handler(self._eia)

    @property
    def env(self) -> dict[str, str]:
        return {"COMPUTEWATCH_STAC_URL": f"{self.base}/stac/",
                "COMPUTEWATCH_STAC_SIGNING": "none",
                "COMPUTEWATCH_OVERPASS_URL": f"{self.base}/overpass/api/interpreter",
                "COMPUTEWATCH_EIA_URL": f"{self.base}/eia/v2", "EIA_API_KEY": EIA_KEY}

    def _search(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        assert body.get("collections") == ["landsat-c2-l2"]
        page = "stac_search_page2.json" if body.get("token") == "next:page2" else \
            "stac_search_page1.json"
        return _json(_template(page, self.base + "/stac"))

    def _overpass(self, request: Request) -> Response:
        query = request.form.get("data", "")
        assert "out geom" in query and '"building"' in query and '"power"="line"' in query
        return _json(json.loads((SOURCES / "overpass.json").read_text()))

    def _eia(self, request: Request) -> Response:
        args = request.args
        self.eia_calls.append(dict(args))
        if self.eia_failures:
            status = self.eia_failures.pop(0)
            return _json({"error": f"status {status}"}, status)
        if args.get("api_key") != EIA_KEY:
            return _json({"error": {"code": "API_KEY_INVALID", "message":
                                    "An invalid api_key was supplied."}}, 403)
        assert args.get("facets[parent][]") == "ERCO" and args.get("facets[subba][]") == "FWES"
        rows = self.fwes[(self.fwes["period"] >= args["start"]) &
                         (self.fwes["period"] <= args["end"])]
        offset, length = int(args.get("offset", 0)), min(int(args.get("length", 5000)),
                                                         EIA_PAGE_CAP)
        page = rows.iloc[offset:offset + length]
        data = [{"period": p, "subba": "FWES", "subba-name": "Far West", "parent": "ERCO",
                 "parent-name": "Electric Reliability Council of Texas, Inc.",
                 "value": str(int(v)), "value-units": "megawatthours"}
                for p, v in zip(page["period"], page["cleaned demand (MW)"])]
        return _json({"response": {"total": str(len(rows)), "dateFormat":
                                   "YYYY-MM-DD\"T\"HH24", "frequency": "hourly",
                                   "data": data, "description": "Hourly demand by subregion"},
                      "request": {"command": "/v2/electricity/rto/region-sub-ba-data/data/"},
                      "apiVersion": "2.1.8"})


@pytest.fixture
def sources(httpserver, monkeypatch, tmp_path):
    """The replaying server with the COMPUTEWATCH_* endpoints pointed at it."""
    server = SourceServer(httpserver)
    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COMPUTEWATCH_CACHE_DIR", str(tmp_path / "cache"))
    return server
