"""Grid load from EIA: the API v2 (balancing-area and sub-BA hourly demand) and EIA-930 files.

EIA periods are UTC hours named by their end (EIA-930 convention): the interval starts one
hour earlier. The API is read in calendar-month pieces of at most 5,000 rows a call
(paginated with `offset`); a month that is over is kept in the stage cache, so a scheduled
run asks EIA only for the months it has not seen complete.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd

from pipelines.cache import StageCache, key_of
from pipelines.sources.http import PoliteClient, SourceError

log = logging.getLogger("computewatch")
PAGE_ROWS = 5000  # the API's maximum rows per call
ROUTES = {"ba": "electricity/rto/region-data/data/",
          "subba": "electricity/rto/region-sub-ba-data/data/"}
HOUR_ENDING = pd.Timedelta(hours=1)
KEY_HINT = ("set EIA_API_KEY to a key from https://www.eia.gov/opendata/register.php; "
            "it is read from the environment only")


def api_key() -> str:
    """EIA_API_KEY from the environment, or a clear error."""
    key = os.environ.get("EIA_API_KEY", "").strip()
    if not key:
        raise SourceError(f"EIA: no API key: {KEY_HINT}")
    return key


def _facets(code: str) -> tuple[str, list[tuple[str, str]]]:
    """Route and facet parameters of a respondent (PJM) or a sub-BA (PJM-DOM)."""
    if "-" in code:
        parent, sub = code.split("-", 1)
        return ROUTES["subba"], [("facets[parent][]", parent), ("facets[subba][]", sub)]
    return ROUTES["ba"], [("facets[respondent][]", code), ("facets[type][]", "D")]


def _months(start: pd.Timestamp, end: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    edges = pd.date_range(start.normalize().replace(day=1), end, freq="MS", tz="UTC")
    bounds = [max(start, e) for e in edges] + [end]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _page_rows(payload: object, url: str) -> tuple[list[dict], int]:
    if not isinstance(payload, dict) or "response" not in payload:
        message = payload.get("error") if isinstance(payload, dict) else None
        raise SourceError(f"EIA: unexpected answer from {url}: {message or 'no `response`'}")
    response = payload["response"]
    return list(response.get("data") or []), int(response.get("total") or 0)


def fetch_months(client: PoliteClient, base_url: str, code: str, start: pd.Timestamp,
                 end: pd.Timestamp, cache: StageCache) -> pd.DataFrame:
    """Hourly demand of one respondent or sub-BA: node_id, interval_start, mw."""
    route, facets = _facets(code)
    url = f"{base_url.rstrip('/')}/{route}"
    key = api_key()
    settled = pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=7)  # EIA revises recent hours
    frames, asked = [], 0
    for a, b in _months(start, end):
        ckey = key_of("eia", url, facets, str(a), str(b))
        rows = cache.get("eia", ckey)
        if rows is None:
            rows, offset, asked = [], 0, asked + 1
            while True:
                params = [("api_key", key), ("frequency", "hourly"), ("data[0]", "value"),
                          *facets, ("start", (a + HOUR_ENDING).strftime("%Y-%m-%dT%H")),
                          ("end", b.strftime("%Y-%m-%dT%H")),
                          ("sort[0][column]", "period"), ("sort[0][direction]", "asc"),
                          ("offset", str(offset)), ("length", str(PAGE_ROWS))]
                page, total = _page_rows(client.get_json(
                    url, hint=KEY_HINT, params=params), url)
                rows += page
                offset += len(page)
                if not page or offset >= total:
                    break
            if b <= settled:
                cache.put("eia", ckey, rows)
        frames.append(pd.DataFrame(rows))
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    log.info("eia: %s: %d hourly rows (%d months asked, the rest from cache)", code, len(data),
             asked)
    if data.empty:
        return pd.DataFrame({"node_id": [], "interval_start": [], "mw": []})
    period = pd.to_datetime(data["period"], format="%Y-%m-%dT%H", utc=True)
    units = set(data.get("value-units", pd.Series(dtype=str)).dropna().str.lower())
    if units - {"megawatthours", "megawatthour", "mwh"}:
        raise SourceError(f"EIA: {code} values come in {sorted(units)}, not megawatthours")
    out = pd.DataFrame({"node_id": code, "interval_start": period - HOUR_ENDING,
                        "mw": pd.to_numeric(data["value"], errors="coerce")})
    return out[(out["interval_start"] >= start) & (out["interval_start"] < end)]


def read_eia930(path: Path, node: str | None = None) -> pd.DataFrame:
    """An EIA-930 file as node_id, interval_start, mw.

    Accepts the bulk files (EIA930_BALANCE_*.csv: `Balancing Authority`, `UTC Time at End
    of Hour`, `Demand (MW)` with thousands separators; EIA930_SUBREGION_*.csv adds
    `Sub-Region`) and the cleaned series of Ruggles & Farnham (`date_time`, `cleaned demand
    (MW)`; the node is the file name, e.g. PJM-DOM.csv).
    """
    try:
        raw = pd.read_csv(path, thousands=",", low_memory=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot be read as CSV ({exc})") from None
    cols = set(raw.columns)
    if {"UTC Time at End of Hour", "Demand (MW)"} <= cols:
        ends = pd.to_datetime(raw["UTC Time at End of Hour"], format="mixed", utc=True)
        if "Sub-Region" in cols:
            ids = raw["Balancing Authority"].astype(str) + "-" + raw["Sub-Region"].astype(str)
        else:
            ids = raw["Balancing Authority"].astype(str)
        mw = raw["Demand (MW)"]
    elif {"date_time", "cleaned demand (MW)"} <= cols:
        ends = pd.to_datetime(raw["date_time"], utc=True)
        ids = pd.Series(node or path.name.split(".")[0], index=raw.index)
        mw = raw["cleaned demand (MW)"]
    else:
        raise SourceError(f"{path}: not an EIA-930 file: expected `UTC Time at End of Hour` "
                          f"and `Demand (MW)` (bulk) or `date_time` and `cleaned demand (MW)` "
                          f"(cleaned); found {sorted(cols)[:8]}")
    out = pd.DataFrame({"node_id": ids, "interval_start": ends - HOUR_ENDING,
                        "mw": pd.to_numeric(mw, errors="coerce")})
    if node is not None:
        out = out[out["node_id"] == node]
    return out.dropna(subset=["interval_start"])
