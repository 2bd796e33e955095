"""Landsat C2 L2 scenes from STAC Items: Kelvin and clear masks decoded lazily on a grid."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.vrt import WarpedVRT

from pipelines.errors import ProblemLog

# Landsat Collection 2 Level-2 surface temperature scaling (USGS, Landsat 8-9 C2 L2
# Science Product Guide, LSDS-1619, table 6-1): K = DN * 0.00341802 + 149.0; DN 0 is fill.
ST_SCALE = 0.00341802
ST_OFFSET = 149.0
ST_FILL = 0
# QA_PIXEL bits (LSDS-1619 table 6-3): 0 fill, 1 dilated cloud, 2 cirrus, 3 cloud,
# 4 cloud shadow, 5 snow, 6 clear, 7 water. Bits 0 to 5 make a pixel unusable.
QA_UNUSABLE_MASK = 0b0011_1111
QA_FILL = 1
THERMAL_ASSET, QA_ASSET = "lwir11", "qa_pixel"


@dataclass(frozen=True)
class GridSpec:
    """The working pixel grid: every scene is read onto it, so features line up."""

    crs: CRS
    transform: Affine
    width: int
    height: int

    @classmethod
    def for_bbox(cls, bbox: tuple[float, float, float, float], crs: CRS,
                 res: float = 30.0) -> GridSpec:
        """A res-metre grid in crs covering a lon/lat bbox, snapped to whole pixels."""
        to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        lons = np.linspace(bbox[0], bbox[2], 21)
        lats = np.linspace(bbox[1], bbox[3], 21)
        edge_lon = np.concatenate([lons, lons, np.full(21, bbox[0]), np.full(21, bbox[2])])
        edge_lat = np.concatenate([np.full(21, bbox[1]), np.full(21, bbox[3]), lats, lats])
        xs, ys = to_crs.transform(edge_lon, edge_lat)
        x0, y1 = np.floor(min(xs) / res) * res, np.ceil(max(ys) / res) * res
        width = int(np.ceil((max(xs) - x0) / res))
        height = int(np.ceil((y1 - min(ys)) / res))
        return cls(crs, Affine(res, 0, x0, 0, -res, y1), width, height)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in the grid CRS."""
        x0, y1 = self.transform.c, self.transform.f
        return (x0, y1 + self.transform.e * self.height, x0 + self.transform.a * self.width, y1)


@dataclass(frozen=True)
class Scene:
    """One Landsat scene of a bundle; pixels are read only when asked for."""

    scene_id: str
    item_path: Path
    acquired: pd.Timestamp
    thermal_href: Path
    qa_href: Path
    crs: CRS

    def read(self, grid: GridSpec) -> tuple[np.ndarray, np.ndarray]:
        """Kelvin (NaN where fill) and a usable-pixel mask, both on the working grid."""
        dn = _warp(self.thermal_href, grid, ST_FILL)
        qa = _warp(self.qa_href, grid, QA_FILL)
        usable = (dn != ST_FILL) & ((qa & QA_UNUSABLE_MASK) == 0)
        return decode_kelvin(dn).astype(np.float32), usable


def decode_kelvin(dn: np.ndarray) -> np.ndarray:
    """ST_B10 digital numbers to Kelvin, NaN where fill."""
    return np.where(dn == ST_FILL, np.nan, dn.astype(np.float64) * ST_SCALE + ST_OFFSET)


def _warp(href: Path, grid: GridSpec, nodata: int) -> np.ndarray:
    """Read a band onto the working grid by nearest neighbour (QA bits must never blend)."""
    with rasterio.open(href) as src:
        if CRS.from_user_input(src.crs) == grid.crs and src.transform == grid.transform and \
                (src.width, src.height) == (grid.width, grid.height):
            return src.read(1)
        with WarpedVRT(src, crs=grid.crs, transform=grid.transform, width=grid.width,
                       height=grid.height, resampling=Resampling.nearest, nodata=nodata,
                       src_nodata=nodata) as vrt:
            return vrt.read(1)


def asset_path(item: dict, key: str, item_path: Path) -> Path | None:
    """An asset's local path; relative hrefs are taken from the item's folder."""
    href = (item.get("assets") or {}).get(key, {}).get("href")
    if not href:
        return None
    href = str(href)
    if href.startswith("file://"):
        href = href[len("file://"):]
    path = Path(href)
    return path if path.is_absolute() else (item_path.parent / path).resolve()


def read_scene(item_path: Path, log: ProblemLog) -> Scene | None:
    """Parse one STAC Item and open its bands' headers; None (with a warning) if unusable."""
    try:
        item = json.loads(item_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        log.warn(item_path, "", f"not valid JSON ({exc}); scene skipped", kind="scene_skipped")
        return None
    if not isinstance(item, dict) or item.get("type") != "Feature":
        log.warn(item_path, "", "not a STAC Item (type is not 'Feature'); scene skipped",
                 kind="scene_skipped")
        return None
    scene_id = str(item.get("id") or item_path.stem)
    hrefs = {}
    for key in (THERMAL_ASSET, QA_ASSET):
        hrefs[key] = asset_path(item, key, item_path)
        if hrefs[key] is None:
            log.warn(item_path, scene_id, f"no `{key}` asset; scene skipped",
                     "Landsat C2 L2 items need lwir11 (ST_B10) and qa_pixel",
                     kind="scene_skipped")
            return None
    try:
        acquired = pd.Timestamp((item.get("properties") or {})["datetime"])
        acquired = acquired.tz_localize("UTC") if acquired.tzinfo is None else \
            acquired.tz_convert("UTC")
    except (KeyError, ValueError, TypeError):
        log.warn(item_path, scene_id, "properties.datetime missing or not ISO 8601; "
                 "scene skipped", kind="scene_skipped")
        return None
    crs = None
    for key in (THERMAL_ASSET, QA_ASSET):
        try:
            with rasterio.open(hrefs[key]) as src:
                if src.crs is None:
                    raise RasterioError("no CRS")
                crs = src.crs
        except (RasterioError, OSError) as exc:
            log.warn(item_path, scene_id, f"asset `{key}` ({hrefs[key].name}) cannot be "
                     f"opened as a GeoTIFF ({exc}); scene skipped", kind="scene_skipped")
            return None
    return Scene(scene_id, item_path, acquired, hrefs[THERMAL_ASSET], hrefs[QA_ASSET],
                 CRS.from_user_input(crs))


def read_scenes(folder: Path, log: ProblemLog) -> list[Scene]:
    """Every usable scene of imagery/, ordered by acquisition time."""
    if not folder.is_dir():
        return []
    scenes = [s for p in sorted(folder.glob("*.json")) if (s := read_scene(p, log))]
    return sorted(scenes, key=lambda s: s.acquired)
