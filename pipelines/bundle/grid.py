"""grid/load.csv and grid/price.csv as tidy UTC frames, every fault counted."""

from __future__ import annotations

from pathlib import Path

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
    """ISO 8601 timestamps to UTC; no offset is fatal unless assume_utc; unparsable rows NaT."""
    raw = frame["timestamp"].fillna("").str.strip()
    no_offset = ~raw.str.contains(OFFSET_RE, regex=True) & (raw != "")
    if no_offset.any():
        if not assume_utc:
            log.error(path, _rows(frame.index[no_offset]),
                      f"{int(no_offset.sum())} timestamps have no UTC offset "
                      f"(e.g. {raw[no_offset].iloc[0]!r})",
                      "write them as 2025-01-01T00:00:00Z or +01:00, or pass --assume-utc "
                      "if they are UTC", kind="timestamp_offset")
            return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
        log.warn(path, _rows(frame.index[no_offset]),
                 f"{int(no_offset.sum())} timestamps without offset taken as UTC (--assume-utc)",
                 kind="timestamp_assumed_utc")
    parsed = pd.to_datetime(raw, utc=True, errors="coerce", format="ISO8601")
    bad = parsed.isna()
    if bad.any():
        log.warn(path, _rows(frame.index[bad]), f"{int(bad.sum())} rows with an unreadable "
                 f"timestamp (e.g. {raw[bad].iloc[0]!r}); dropped", kind="bad_timestamp")
    converted = ~raw.str.contains(r"(?:Z|[+-]00:?00)$", regex=True) & ~no_offset & ~bad
    if converted.any():
        log.warn(path, _rows(frame.index[converted]),
                 f"{int(converted.sum())} timestamps with a non-UTC offset converted to UTC",
                 kind="timestamp_converted")
    return parsed


def _values(frame: pd.DataFrame, col: str, path: Path, log: ProblemLog,
            allow_negative: bool) -> pd.Series:
    values = pd.to_numeric(frame[col], errors="coerce")
    bad = values.isna() if allow_negative else values.isna() | (values < 0)
    if bad.any():
        what = "missing or non-numeric" if allow_negative else "negative, missing or NaN"
        log.warn(path, _rows(frame.index[bad]), f"{int(bad.sum())} rows with {what} {col}; "
                 "dropped", kind="bad_value")
    return values.where(~bad)


def _dedupe_sort(frame: pd.DataFrame, keys: list[str], path: Path,
                 log: ProblemLog) -> pd.DataFrame:
    ordered = frame.sort_values(keys, kind="stable")
    if (ordered.index != frame.index).any():
        log.warn(path, "", "rows are not in timestamp order; sorted", kind="unordered")
    dup = ordered.duplicated(keys, keep=False)
    if dup.any():
        n = int(ordered.duplicated(keys).sum())
        log.warn(path, _rows(ordered.index[dup].sort_values()),
                 f"{n} duplicate timestamps; values averaged", kind="duplicates")
        ordered = ordered.groupby(keys, as_index=False, sort=True).mean(numeric_only=True)
    return ordered.reset_index(drop=True)


def read_load(path: Path, known_nodes: set[str], log: ProblemLog,
              assume_utc: bool = False) -> pd.DataFrame:
    """Load as node_id, interval_start (UTC), load_mw; sorted, deduplicated, faults counted."""
    empty = pd.DataFrame({"node_id": pd.Series(dtype=str),
                          "interval_start": pd.Series(dtype="datetime64[ns, UTC]"),
                          "load_mw": pd.Series(dtype=float)})
    if not path.is_file():
        return empty
    frame = _read_csv(path, ["node_id", "timestamp", "mw"])
    frame["interval_start"] = parse_timestamps(frame, path, log, assume_utc)
    frame["load_mw"] = _values(frame, "mw", path, log, allow_negative=False)
    frame["node_id"] = frame["node_id"].fillna("").str.strip()
    unknown = ~frame["node_id"].isin(known_nodes)
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
    frame["price"] = _values(frame, "price", path, log, allow_negative=True)
    frame = frame.dropna(subset=["interval_start", "price"])[["interval_start", "price"]]
    return _dedupe_sort(frame, ["interval_start"], path, log) if len(frame) else None


def read_temperature(path: Path, log: ProblemLog, assume_utc: bool = False) -> pd.DataFrame:
    """Hourly temperature per area as node_id, interval_start (UTC), temp_c; faults counted.

    Not part of the bundle: `computewatch regional --temperature` reads it to normalise
    baseload for weather.
    """
    frame = _read_csv(path, ["node_id", "timestamp", "temp_c"])
    frame["interval_start"] = parse_timestamps(frame, path, log, assume_utc)
    frame["temp_c"] = _values(frame, "temp_c", path, log, allow_negative=True)
    frame = frame.dropna(subset=["interval_start", "temp_c"])
    return _dedupe_sort(frame[["node_id", "interval_start", "temp_c"]],
                        ["node_id", "interval_start"], path, log)
