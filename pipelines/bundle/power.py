"""grid/load.csv and grid/price.csv as tidy UTC frames, every fault counted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.errors import BundleError, ProblemLog

OFFSET_RE = r"(?:Z|[+-]\d{2}:?\d{2})$"


def _read_csv(path: Path, required: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: not readable as CSV ({exc})") from exc
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise BundleError(f"{path}: missing columns {missing}; existing columns: "
                          f"{list(frame.columns)}; expected header: {','.join(required)}")
    return frame


def _rows(index: pd.Index, limit: int = 5) -> str:
    """CSV line numbers (header is line 1) of the first few rows."""
    lines = [str(int(i) + 2) for i in index[:limit]]
    more = f" and {len(index) - limit} more" if len(index) > limit else ""
    return "line " + ", ".join(lines) + more


def parse_timestamps(frame: pd.DataFrame, path: Path, log: ProblemLog,
                     assume_utc: bool) -> pd.Series:
    """ISO 8601 timestamps to UTC; unreadable rows NaT, each kind of fault counted.

    A file whose timestamps mostly lack a UTC offset is fatal unless assume_utc (local time
    cannot be guessed); a few such rows among offset ones are dropped with a warning.
    """
    # Each distinct string is parsed and checked once: a grid file repeats every hour's
    # timestamp for every node (4.4 M rows, 8,760 strings at the state preset).
    codes, distinct = pd.factorize(frame["timestamp"].fillna(""), sort=False)
    text = pd.Series(distinct, dtype=object).str.strip()
    when = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    offset = text.str.contains(OFFSET_RE, regex=True).to_numpy()
    utc = text.str.contains(r"(?:Z|[+-]00:?00)$", regex=True).to_numpy()
    raw = pd.Series(text.to_numpy()[codes], index=frame.index, dtype=object)
    parsed = pd.Series(when.array.take(codes), index=frame.index)
    no_offset = ~pd.Series(offset[codes], index=frame.index) & parsed.notna()
    if no_offset.any() and not assume_utc:
        if no_offset.sum() * 2 > parsed.notna().sum():
            log.error(path, _rows(frame.index[no_offset]),
                      f"{int(no_offset.sum())} timestamps have no UTC offset "
                      f"(e.g. {raw[no_offset].iloc[0]!r})",
                      "write them as 2025-01-01T00:00:00Z or +01:00, or pass --assume-utc "
                      "if they are UTC", kind="timestamp_offset")
            return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
        log.warn(path, _rows(frame.index[no_offset]),
                 f"{int(no_offset.sum())} timestamps without a UTC offset among timestamps "
                 f"with one (e.g. {raw[no_offset].iloc[0]!r}); dropped", kind="bad_timestamp")
        parsed = parsed.where(~no_offset)
    elif no_offset.any():
        log.warn(path, _rows(frame.index[no_offset]),
                 f"{int(no_offset.sum())} timestamps without offset taken as UTC (--assume-utc)",
                 kind="timestamp_assumed_utc")
    unreadable = parsed.isna() & ~no_offset
    if unreadable.any():
        log.warn(path, _rows(frame.index[unreadable]), f"{int(unreadable.sum())} rows with an "
                 f"unreadable timestamp (e.g. {raw[unreadable].iloc[0][:40]!r}); dropped",
                 "write timestamps as ISO 8601 with an offset, e.g. 2025-01-01T00:00:00Z",
                 kind="bad_timestamp")
    converted = ~pd.Series(utc[codes], index=frame.index) & parsed.notna() & ~no_offset
    if converted.any():
        log.warn(path, _rows(frame.index[converted]),
                 f"{int(converted.sum())} timestamps with a non-UTC offset converted to UTC",
                 kind="timestamp_converted")
    return parsed


# A metering point (substation, feeder) above 10 GW is not one: the largest smelter and
# steel complexes draw 1 to 2 GW, the largest AI campuses announced about 5 GW (Epoch AI,
# Frontier AI Data Centers). An area node (balancing area, zone) may carry a whole grid: the
# largest, China's State Grid, peaked near 1.45 TW in 2024 (CEC); 2 TW bounds every area.
MAX_NODE_MW = 10_000.0
MAX_AREA_MW = 2_000_000.0
AREA_KINDS = {"balancing_area", "sub_ba", "zone", "area", "iso", "rto"}


def node_limits(kinds: pd.Series, polygonal: pd.Series) -> dict[str, float]:
    """The largest believable load of each node id: an area's, or a metering point's."""
    area = kinds.astype(str).str.lower().isin(AREA_KINDS) | polygonal.astype(bool)
    return {str(n): MAX_AREA_MW if a else MAX_NODE_MW for n, a in area.items()}


def _values(frame: pd.DataFrame, col: str, path: Path, log: ProblemLog,
            limit: float | pd.Series | None) -> pd.Series:
    """Numbers of a column; missing, non-finite, and (with a limit) out-of-range rows NaN.

    limit None allows any finite value (prices go negative); otherwise values must lie in
    [0, limit] (a number, or one per row).
    """
    values = pd.to_numeric(frame[col], errors="coerce").astype(float)
    bad = ~np.isfinite(values)
    what = "missing, non-numeric or infinite"
    if limit is not None:
        bad |= (values < 0) | (values > limit)
        what = "missing, negative, infinite or physically impossible"
    if bad.any():
        log.warn(path, _rows(frame.index[bad]), f"{int(bad.sum())} rows with {what} {col} "
                 f"(e.g. {frame[col][bad].iloc[0]!r}); dropped", kind="bad_value")
    return values.where(~bad)


def _dedupe_sort(frame: pd.DataFrame, keys: list[str], path: Path,
                 log: ProblemLog) -> pd.DataFrame:
    """Rows sorted by keys (stably); rows sharing all keys averaged into the first, counted.

    Keys are sorted and compared as integer codes (pd.factorize, sorted): a state's 4.4 M
    load rows sort in a second instead of four, and only duplicated rows are grouped.
    """
    codes = [pd.factorize(frame[k], sort=True)[0] for k in keys]
    order = np.lexsort(codes[::-1])
    if (order != np.arange(len(order))).any():
        log.warn(path, "", "rows are not in timestamp order; sorted", kind="unordered")
    ordered = frame.iloc[order]
    sorted_codes = [c[order] for c in codes]
    same = np.zeros(len(order), dtype=bool)  # the row repeats the keys of the one before
    if len(order) > 1:
        same[1:] = np.logical_and.reduce([c[1:] == c[:-1] for c in sorted_codes])
    if same.any():
        grouped = same | np.append(same[1:], False)
        log.warn(path, _rows(ordered.index[grouped].sort_values()),
                 f"{int(same.sum())} duplicate timestamps; values averaged", kind="duplicates")
        group = np.cumsum(~same) - 1
        numeric = [c for c in ordered.select_dtypes("number").columns if c not in keys]
        means = ordered.loc[grouped, numeric].groupby(group[grouped]).mean()
        ordered = ordered.loc[~same, keys + numeric].copy()
        first = group[~same]
        averaged = np.isin(first, means.index)
        ordered.loc[averaged, numeric] = means.loc[first[averaged]].to_numpy()
    return ordered.reset_index(drop=True)


def read_load(path: Path, limits: dict[str, float], log: ProblemLog,
              assume_utc: bool = False) -> pd.DataFrame:
    """Load as node_id, interval_start (UTC), load_mw; sorted, deduplicated, faults counted.

    limits maps every known node id to its largest believable MW (node_limits).
    """
    empty = pd.DataFrame({"node_id": pd.Series(dtype=str),
                          "interval_start": pd.Series(dtype="datetime64[ns, UTC]"),
                          "load_mw": pd.Series(dtype=float)})
    if not path.is_file():
        return empty
    frame = _read_csv(path, ["node_id", "timestamp", "mw"])
    frame["interval_start"] = parse_timestamps(frame, path, log, assume_utc)
    frame["node_id"] = frame["node_id"].fillna("").str.strip()
    unknown = ~frame["node_id"].isin(limits.keys())
    frame["load_mw"] = _values(frame, "mw", path, log,
                               limit=frame["node_id"].map(limits).fillna(MAX_NODE_MW))
    for node, rows in frame[unknown].groupby("node_id").groups.items():
        log.warn(path, _rows(rows), f"node_id {node!r} is not in grid/nodes.geojson; its "
                 f"{len(rows)} rows are not used", "add the node to grid/nodes.geojson",
                 kind="unknown_node")
    frame = frame[~unknown].dropna(subset=["interval_start", "load_mw"])
    frame = frame[["node_id", "interval_start", "load_mw"]]
    return _dedupe_sort(frame, ["node_id", "interval_start"], path, log) if len(frame) else empty


def read_price(path: Path, log: ProblemLog, assume_utc: bool = False) -> pd.DataFrame | None:
    """Price as interval_start (UTC), price; None when the bundle has no price file."""
    if not path.is_file():
        return None
    frame = _read_csv(path, ["timestamp", "price"])
    frame["interval_start"] = parse_timestamps(frame, path, log, assume_utc)
    frame["price"] = _values(frame, "price", path, log, limit=None)
    frame = frame.dropna(subset=["interval_start", "price"])[["interval_start", "price"]]
    return _dedupe_sort(frame, ["interval_start"], path, log) if len(frame) else None


def read_temperature(path: Path, log: ProblemLog, assume_utc: bool = False) -> pd.DataFrame:
    """Hourly temperature per area as node_id, interval_start (UTC), temp_c; faults counted.

    Not part of the bundle: `computewatch regional --temperature` reads it to normalise
    baseload for weather.
    """
    frame = _read_csv(path, ["node_id", "timestamp", "temp_c"])
    frame["interval_start"] = parse_timestamps(frame, path, log, assume_utc)
    frame["temp_c"] = _values(frame, "temp_c", path, log, limit=None)
    frame = frame.dropna(subset=["interval_start", "temp_c"])
    return _dedupe_sort(frame[["node_id", "interval_start", "temp_c"]],
                        ["node_id", "interval_start"], path, log)
