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

from detectors.regional import clean_hours
from pipelines.bundle.power import OFFSET_RE
from pipelines.cache import StageCache, key_of
from pipelines.errors import SourceError
from pipelines.sources.http import PoliteClient

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


def _stamps(values: pd.Series, path: Path, assume_utc: bool) -> pd.Series:
    """Timestamps as UTC; ones without an offset only when the user says they are UTC."""
    text = values.astype(str)
    offset = text.str.contains(OFFSET_RE, regex=True)
    if not offset.all() and not assume_utc:
        raise SourceError(f"{path}: {int((~offset).sum())} timestamps have no UTC offset "
                          "(e.g. {!r}); the cleaned EIA-930 series of Ruggles & Farnham are "
                          "UTC: pass --assume-utc to read them so".format(
                              text[~offset].iloc[0]))
    return pd.to_datetime(text, format="mixed", utc=True, errors="coerce")


def repair_raw(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Uncleaned demand: dropouts, spikes and stuck runs become missing hours, counted.

    Nothing is imputed (detectors/regional.py clean_hours says what is removed); the warning
    recommends the cleaned series, whose imputation is documented (Ruggles & Farnham 2024).
    """
    kept, totals = [], {"zero_or_missing": 0, "spikes": 0, "stuck": 0}
    for node, part in frame.groupby("node_id", sort=True):
        series = part.set_index("interval_start")["mw"]
        cleaned, removed = clean_hours(series)
        for k, v in removed.items():
            totals[k] += v
        kept.append(pd.DataFrame({"node_id": node, "interval_start": cleaned.index,
                                  "mw": cleaned.to_numpy()}))
    if sum(totals.values()):
        log.warning("%s: uncleaned demand repaired: %d hours zero or missing, %d dropouts or "
                    "spikes (under half or over twice their day's median), %d stuck hours "
                    "set to missing, none imputed; the cleaned series (Ruggles & Farnham, "
                    "doi:10.5281/zenodo.3517197) is recommended", path, totals["zero_or_missing"],
                    totals["spikes"], totals["stuck"])
    return pd.concat(kept, ignore_index=True) if kept else frame


def read_eia930(path: Path, node: str | None = None, assume_utc: bool = False
                ) -> pd.DataFrame:
    """An EIA-930 file as node_id, interval_start, mw.

    Accepts the bulk files (EIA930_BALANCE_*.csv: `Balancing Authority`, `UTC Time at End
    of Hour`, `Demand (MW)` with thousands separators; EIA930_SUBREGION_*.csv adds
    `Sub-Region`), the cleaned series of Ruggles & Farnham (`date_time`, `cleaned demand
    (MW)`; the node is the file name, e.g. PJM-DOM.csv) and their uncleaned pulls
    (`date_time`, `demand (MW)`). Uncleaned demand (bulk and raw pulls) is repaired with
    counts (repair_raw). The Ruggles & Farnham files carry no offset: they are read only
    with assume_utc.
    """
    try:
        raw = pd.read_csv(path, thousands=",", low_memory=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot be read as CSV ({exc})") from None
    cols = set(raw.columns)
    name = node or path.name.split(".")[0]
    if {"UTC Time at End of Hour", "Demand (MW)"} <= cols:
        ends = pd.to_datetime(raw["UTC Time at End of Hour"], format="mixed", utc=True,
                              errors="coerce")
        if "Sub-Region" in cols:
            ids = raw["Balancing Authority"].astype(str) + "-" + raw["Sub-Region"].astype(str)
        else:
            ids = raw["Balancing Authority"].astype(str)
        mw, cleaned = raw["Demand (MW)"], False
    elif "date_time" in cols and ({"cleaned demand (MW)", "demand (MW)"} & cols):
        ends = _stamps(raw["date_time"], path, assume_utc)
        ids = pd.Series(name, index=raw.index)
        cleaned = "cleaned demand (MW)" in cols
        mw = raw["cleaned demand (MW)" if cleaned else "demand (MW)"]
    else:
        raise SourceError(f"{path}: not an EIA-930 file: expected `UTC Time at End of Hour` "
                          f"and `Demand (MW)` (bulk), `date_time` and `cleaned demand (MW)` "
                          f"(cleaned) or `date_time` and `demand (MW)` (uncleaned); found "
                          f"{sorted(cols)[:8]}")
    out = pd.DataFrame({"node_id": ids, "interval_start": ends - HOUR_ENDING,
                        "mw": pd.to_numeric(mw, errors="coerce")})
    if node is not None:
        out = out[out["node_id"] == node]
    bad = int(out["interval_start"].isna().sum())
    if bad:
        log.warning("%s: %d rows with unreadable timestamps skipped", path, bad)
    out = out.dropna(subset=["interval_start"])
    return out if cleaned else repair_raw(out, path)
