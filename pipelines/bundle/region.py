"""region.yaml: name, bounding box, working CRS and period of a region bundle."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml
from pyproj import CRS
from pyproj.exceptions import CRSError

from pipelines.errors import BundleError


@dataclass(frozen=True)
class Region:
    """What region.yaml declares, with the working CRS resolved."""

    name: str
    bbox: tuple[float, float, float, float]
    crs: CRS
    period_start: pd.Timestamp | None
    period_end: pd.Timestamp | None


def utm_crs_for(lon: float, lat: float) -> CRS:
    """The UTM zone CRS (WGS84) of a lon/lat point: the default working CRS."""
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _period_bound(path: Path, raw: dict[str, object], key: str) -> pd.Timestamp | None:
    value = raw.get(key)
    if value is None:
        return None
    try:
        ts = pd.Timestamp(str(value))
    except ValueError as exc:
        raise BundleError(f"{path}: period.{key} {value!r} is not an ISO date "
                          "(write it as YYYY-MM-DD)") from exc
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def is_lonlat_box(bbox: tuple[float, ...]) -> bool:
    """True for [min_lon, min_lat, max_lon, max_lat] in WGS84 degrees with min < max."""
    min_lon, min_lat, max_lon, max_lat = bbox
    return -180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90


def _bbox(path: Path, value: object) -> tuple[float, float, float, float]:
    if not isinstance(value, (list, tuple)):
        raise BundleError(f"{path}: bbox must be four numbers "
                          "[min_lon, min_lat, max_lon, max_lat]")
    try:
        bbox = tuple(float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise BundleError(f"{path}: bbox must be four numbers "
                          "[min_lon, min_lat, max_lon, max_lat]") from exc
    if len(bbox) != 4:
        raise BundleError(f"{path}: bbox must be four numbers [min_lon, min_lat, max_lon, "
                          f"max_lat], got {len(bbox)}")
    if not is_lonlat_box(bbox):
        raise BundleError(f"{path}: bbox {list(bbox)} is not a WGS84 lon/lat box with "
                          "min < max (degrees; projected metres are not accepted here)")
    return bbox[0], bbox[1], bbox[2], bbox[3]


def _working_crs(path: Path, value: object, bbox: tuple[float, float, float, float]) -> CRS:
    """The declared projected CRS, or the UTM zone of the bbox centre."""
    if value is None:
        return utm_crs_for((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)
    try:
        crs = CRS.from_user_input(value)
    except CRSError as exc:
        raise BundleError(f"{path}: crs {value!r} is not a known CRS") from exc
    if not crs.is_projected:
        raise BundleError(f"{path}: crs {value!r} must be projected in metres "
                          "(e.g. EPSG:32617); leave it out to use the UTM zone of the bbox")
    return crs


def read_region(root: Path) -> Region:
    """Read and check region.yaml; raise BundleError naming the key that is wrong."""
    path = root / "region.yaml"
    if not root.is_dir():
        raise BundleError(f"{root}: no such region bundle folder")
    if not path.is_file():
        raise BundleError(f"{path}: missing; a region bundle needs region.yaml with "
                          "name and bbox (see SPEC: region bundle)")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise BundleError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise BundleError(f"{path}: expected a mapping with name and bbox")
    unknown = sorted(set(raw) - {"name", "bbox", "crs", "period", "description"})
    if unknown:
        raise BundleError(f"{path}: unknown keys {unknown}; allowed: name, bbox, crs, period")
    if "bbox" not in raw:
        raise BundleError(f"{path}: bbox is required ([min_lon, min_lat, max_lon, max_lat])")
    bbox = _bbox(path, raw["bbox"])
    crs = _working_crs(path, raw.get("crs"), bbox)
    period = raw.get("period") or {}
    if not isinstance(period, dict):
        raise BundleError(f"{path}: period must be a mapping {{start, end}}")
    start, end = _period_bound(path, period, "start"), _period_bound(path, period, "end")
    if end is not None and len(str(period["end"])) <= 10:
        end = end + pd.Timedelta(days=1)  # a date-only end includes that whole day
    if start is not None and end is not None and end <= start:
        raise BundleError(f"{path}: period end {end.date()} is not after start {start.date()}")
    return Region(str(raw.get("name") or root.name), bbox, crs, start, end)
