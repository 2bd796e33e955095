"""Landsat C2 L2 scenes from STAC Items: Kelvin and clear masks decoded lazily on a grid."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from pipelines.errors import ProblemLog
from pipelines.paths import id_problem, show_id

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
class RasterGrid:
    """The working pixel grid: every scene is read onto it, so features line up."""

    crs: CRS
    transform: Affine
    width: int
    height: int

    @classmethod
    def for_bbox(cls, bbox: tuple[float, float, float, float], crs: CRS,
                 res: float = 30.0) -> RasterGrid:
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

    def read(self, grid: RasterGrid) -> tuple[np.ndarray, np.ndarray]:
        """Kelvin (NaN where fill) and a usable-pixel mask, both on the working grid."""
        dn = _warp(self.thermal_href, grid, ST_FILL)
        usable = _usable(dn, _warp(self.qa_href, grid, QA_FILL))
        return decode_kelvin(dn), usable

    def read_windows(self, grid: RasterGrid, windows: list[tuple[slice, slice]]
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Kelvin and usable mask of each (rows, cols) window of the working grid, read alone.

        The same pixels as slicing read(grid), at the cost of the windows, not the scene:
        what evidence chips need.
        """
        dns = _warp_windows(self.thermal_href, grid, ST_FILL, windows)
        qas = _warp_windows(self.qa_href, grid, QA_FILL, windows)
        return [(decode_kelvin(dn), _usable(dn, qa)) for dn, qa in zip(dns, qas)]


def _usable(dn: np.ndarray, qa: np.ndarray) -> np.ndarray:
    """Pixels with a temperature that QA_PIXEL does not mark as cloud, shadow, snow or fill."""
    usable: np.ndarray = (dn != ST_FILL) & ((qa & QA_UNUSABLE_MASK) == 0)
    return usable


def decode_kelvin(dn: np.ndarray, rows: int = 256) -> np.ndarray:
    """ST_B10 digital numbers to Kelvin as float32, NaN where fill.

    Decoded in float64 a block of rows at a time, then stored as float32 (Kelvin to about
    0.00003 K, far below the band's 0.0034 K step): a whole-scene float64 temporary would
    cost 16 bytes a pixel while the scene is read.
    """
    out = np.empty(dn.shape, dtype=np.float32)
    flat_in, flat_out = dn.reshape(-1, dn.shape[-1]), out.reshape(-1, dn.shape[-1])
    for r in range(0, flat_in.shape[0], rows):
        block = flat_in[r:r + rows]
        flat_out[r:r + rows] = np.where(block == ST_FILL, np.nan,
                                        block.astype(np.float64) * ST_SCALE + ST_OFFSET)
    return out


# A bundle is closed: bands are local GeoTIFFs inside it, opened by the GTiff driver only
# (no VRT or other format that could point elsewhere), with no sidecar probing, and GDAL's
# network file systems refuse every file (an allow-list of one extension nothing has).
ALLOWED_DRIVER = "GTiff"
CLOSED_GDAL_ENV = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
                   "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".computewatch-no-network",
                   "GDAL_HTTP_TIMEOUT": "1"}
BAND_DTYPE = "uint16"  # ST_B10 and QA_PIXEL are unsigned 16-bit (LSDS-1619 tables 6-1, 6-3)


@contextmanager
def open_band(path: Path) -> Iterator[rasterio.io.DatasetReader]:
    """A local band GeoTIFF of a bundle, open and read with GDAL closed to the network."""
    with rasterio.Env(**CLOSED_GDAL_ENV), rasterio.open(path, driver=ALLOWED_DRIVER) as src:
        yield src


@contextmanager
def _on_grid(href: Path, grid: RasterGrid, nodata: int) -> Iterator[Any]:
    """A band as a dataset on the working grid, to read whole or in windows.

    The file itself when it already lies on the grid, else a nearest-neighbour warp (QA bits
    must never blend).
    """
    with open_band(href) as src:
        if CRS.from_user_input(src.crs) == grid.crs and src.transform == grid.transform and \
                (src.width, src.height) == (grid.width, grid.height):
            yield src
            return
        with WarpedVRT(src, crs=grid.crs, transform=grid.transform, width=grid.width,
                       height=grid.height, resampling=Resampling.nearest, nodata=nodata,
                       src_nodata=nodata) as vrt:
            yield vrt


def _warp(href: Path, grid: RasterGrid, nodata: int) -> np.ndarray:
    """Read a band onto the working grid."""
    with _on_grid(href, grid, nodata) as ds:
        band: np.ndarray = ds.read(1)
        return band


def _warp_windows(href: Path, grid: RasterGrid, nodata: int,
                  windows: list[tuple[slice, slice]]) -> list[np.ndarray]:
    """Windows of a band on the working grid, the file opened once.

    An empty window (a facility at the grid's edge) gives an empty array, read from nothing.
    """
    with _on_grid(href, grid, nodata) as ds:
        return [ds.read(1, window=Window.from_slices(r, c)) if r.stop > r.start and
                c.stop > c.start else np.full((max(r.stop - r.start, 0),
                                               max(c.stop - c.start, 0)), nodata, np.uint16)
                for r, c in windows]


def asset_path(item: dict[str, Any], key: str, item_path: Path, root: Path
               ) -> tuple[Path | None, str]:
    """An asset's local path inside the bundle root, or None and why it cannot be used.

    Relative hrefs are taken from the item's folder; `file://` is accepted; any other
    scheme, GDAL virtual file system (/vsicurl/ and the like) or a path leaving the bundle
    is refused, so a bundle cannot make the tool read elsewhere or reach the network.
    """
    assets = item.get("assets")
    asset = assets.get(key) if isinstance(assets, dict) else None
    href = asset.get("href") if isinstance(asset, dict) else None
    if not isinstance(href, str) or not href.strip():
        return None, f"no `{key}` asset with an href"
    href = href.strip()
    if href.startswith("file://"):
        href = href[len("file://"):]
    if "://" in href or href.startswith("/vsi") or "\x00" in href:
        return None, (f"asset `{key}` href {href[:80]!r} is not a local file; a bundle's "
                      "bands must be files inside it")
    path = Path(href)
    path = (path if path.is_absolute() else item_path.parent / path).resolve()
    base = root.resolve()
    if base not in path.parents:
        return None, (f"asset `{key}` href {href[:80]!r} lies outside the bundle folder; a "
                      "bundle's bands must be files inside it")
    return path, ""


def _item_time(item: dict[str, Any]) -> pd.Timestamp | None:
    """properties.datetime in UTC, or None if missing or not ISO 8601."""
    props = item.get("properties")
    value = props.get("datetime") if isinstance(props, dict) else None
    if not isinstance(value, str):
        return None
    try:
        acquired = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if pd.isna(acquired):
        return None
    return acquired.tz_localize("UTC") if acquired.tzinfo is None else acquired.tz_convert("UTC")


def _band_problem(path: Path, key: str) -> tuple[str | None, CRS | None]:
    """Why a band cannot be used (unreadable, no CRS, wrong dtype or band count), and its CRS."""
    try:
        with open_band(path) as src:
            if src.crs is None:
                return "has no CRS", None
            if src.count != 1 or src.dtypes[0] != BAND_DTYPE:
                return (f"has {src.count} band(s) of {src.dtypes[0]}, expected one "
                        f"{BAND_DTYPE} band (Landsat C2 L2 {key})"), None
            return None, CRS.from_user_input(src.crs)
    except (RasterioError, OSError) as exc:
        return f"cannot be opened as a GeoTIFF ({exc})", None


def read_scene(item_path: Path, log: ProblemLog, root: Path | None = None) -> Scene | None:
    """Parse one STAC Item and open its bands' headers; None (with a warning) if unusable."""
    root = root or item_path.parent.parent
    try:
        item = json.loads(item_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        log.warn(item_path, "", f"not valid JSON ({str(exc)[:120]}); scene skipped",
                 kind="scene_skipped")
        return None
    if not isinstance(item, dict) or item.get("type") != "Feature":
        log.warn(item_path, "", "not a STAC Item (type is not 'Feature'); scene skipped",
                 kind="scene_skipped")
        return None
    scene_id = str(item.get("id") or item_path.stem)
    if (problem := id_problem(scene_id)) is not None:
        log.warn(item_path, "", f"item id {show_id(scene_id)} {problem}; scene skipped",
                 kind="scene_skipped")
        return None
    hrefs: dict[str, Path] = {}
    for key in (THERMAL_ASSET, QA_ASSET):
        path, why = asset_path(item, key, item_path, root)
        if path is None:
            log.warn(item_path, scene_id, f"{why}; scene skipped",
                     "Landsat C2 L2 items need lwir11 (ST_B10) and qa_pixel as local GeoTIFFs "
                     "inside the bundle", kind="scene_skipped")
            return None
        hrefs[key] = path
    acquired = _item_time(item)
    if acquired is None:
        log.warn(item_path, scene_id, "properties.datetime missing or not ISO 8601; "
                 "scene skipped", kind="scene_skipped")
        return None
    crs = None
    for key in (THERMAL_ASSET, QA_ASSET):
        problem, crs = _band_problem(hrefs[key], key)
        if problem is not None:
            log.warn(item_path, scene_id, f"asset `{key}` ({hrefs[key].name}) {problem}; "
                     "scene skipped", kind="scene_skipped")
            return None
    return Scene(scene_id, item_path, acquired, hrefs[THERMAL_ASSET], hrefs[QA_ASSET],
                 CRS.from_user_input(crs))


def read_scenes(root: Path, log: ProblemLog) -> list[Scene]:
    """Every usable scene of the bundle's imagery/, ordered by acquisition time."""
    folder = root / "imagery"
    if not folder.is_dir():
        return []
    scenes = [s for p in sorted(folder.glob("*.json")) if (s := read_scene(p, log, root))]
    return sorted(scenes, key=lambda s: s.acquired)
