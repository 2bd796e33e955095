"""Landsat Collection 2 Level-2 scenes from a STAC API, cut to the region's bbox.

Searches a catalogue (Planetary Computer's `landsat-c2-l2` by default, with its href
signing; Earth Search or any STAC API by configuration) by bbox, period and cloud cover,
keeps Landsat 8 and 9, reads only the windows of `lwir11` and `qa_pixel` that cover the
bbox (GDAL range reads of the cloud-optimised GeoTIFFs), writes them as local GeoTIFFs and
rewrites the item to point at them, so the bundle is self-contained.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from pipelines.atomic import atomic_path, atomic_write_bytes
from pipelines.errors import SourceError
from pipelines.paths import id_problem, inside, safe_name, show_id
from pipelines.redact import redact

log = logging.getLogger("computewatch")
PLATFORMS = {"landsat-8", "landsat-9"}  # TIRS: only Landsat 8 and 9 carry lwir11 (ST_B10)
# Asset keys across catalogues: Planetary Computer and Earth Search use lwir11 / qa_pixel,
# USGS LandsatLook uses the product file names.
ASSET_KEYS = {"lwir11": ("lwir11", "ST_B10.TIF", "ST_B10", "lwir"),
              "qa_pixel": ("qa_pixel", "QA_PIXEL.TIF", "QA_PIXEL", "qa_pixel.tif")}
NODATA = {"lwir11": 0, "qa_pixel": 1}  # ST_B10 fill is 0; QA_PIXEL bit 0 (value 1) is fill
REMOTE_HREF = re.compile(r"https?://", re.I)
FILE_SUFFIX = {"lwir11": "ST_B10.TIF", "qa_pixel": "QA_PIXEL.TIF"}
# No directory listing or sidecar probing on open; GDAL itself does not retry (the task does).
GDAL_ENV = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "GDAL_HTTP_MAX_RETRY": "0",
            "GDAL_HTTP_USERAGENT": "computewatch"}


@dataclass(frozen=True)
class SceneRef:
    """One search hit: the item as a dict and the hrefs of its two bands."""

    item_id: str
    item: dict
    hrefs: dict[str, str]


def platform_of(props: dict) -> str:
    """landsat-8 / landsat-9 from `platform` or USGS's `eo:platform` (LANDSAT_8)."""
    value = str(props.get("platform") or props.get("eo:platform") or "")
    return value.lower().replace("_", "-")


def asset_href(item: dict, band: str) -> str | None:
    """The href of a band under any of its known asset keys."""
    assets = item.get("assets")
    if not isinstance(assets, dict):
        return None
    for key in ASSET_KEYS[band]:
        asset = assets.get(key)
        if isinstance(asset, dict) and isinstance(asset.get("href"), str) and asset["href"]:
            return asset["href"]
    return None


def _cloud_cover(props: dict) -> float:
    """eo:cloud_cover in per cent; an unreadable value counts as fully cloudy."""
    try:
        value = float(props.get("eo:cloud_cover", 0) or 0)
    except (TypeError, ValueError):
        return 100.0
    return value if np.isfinite(value) else 100.0


def search(url: str, collection: str, bbox: tuple[float, ...], start: str, end: str,
           max_cloud: float, signing: str, timeout_s: float = 120.0
           ) -> tuple[list[SceneRef], dict[str, int]]:
    """Search a STAC API; returns usable scenes and counts of what was left out and why.

    pystac-client's own retries are off: the Prefect task retries, and only what is transient.
    """
    from pystac_client import Client
    from pystac_client.exceptions import APIError, ParametersError
    from pystac_client.stac_api_io import StacApiIO

    modifier = None
    if signing == "planetary-computer":
        import planetary_computer

        modifier = planetary_computer.sign_inplace
    try:
        client = Client.open(url, modifier=modifier,
                             stac_io=StacApiIO(timeout=timeout_s, max_retries=0))
        found = client.search(collections=[collection], bbox=list(bbox),
                              datetime=f"{start}/{end}",
                              query={"eo:cloud_cover": {"lt": max_cloud}})
        items = [i.to_dict() for i in found.items()]
    except APIError as exc:
        raise SourceError(f"STAC {redact(url)}: {redact(str(exc))[:300]}",
                          status=getattr(exc, "status_code", None)) from None
    except (OSError, ValueError, ParametersError) as exc:
        raise SourceError(f"STAC {redact(url)}: {redact(str(exc))[:300]}") from None
    scenes, left_out = [], {"not_landsat_8_or_9": 0, "too_cloudy": 0, "no_thermal_or_qa": 0,
                            "bad_id": 0, "href_not_http": 0}
    for item in items:
        if id_problem(str(item.get("id", ""))) is not None or not item.get("id"):
            left_out["bad_id"] += 1
            log.warning("stac: an item with id %s is left out (empty, too long or control "
                        "characters)", show_id(str(item.get("id", ""))))
            continue
        props = item.get("properties") if isinstance(item.get("properties"), dict) else {}
        if platform_of(props) not in PLATFORMS:
            left_out["not_landsat_8_or_9"] += 1
            continue
        if _cloud_cover(props) >= max_cloud:
            left_out["too_cloudy"] += 1
            continue
        hrefs = {band: asset_href(item, band) for band in ASSET_KEYS}
        if None in hrefs.values():
            left_out["no_thermal_or_qa"] += 1
            continue
        if not all(REMOTE_HREF.match(h) for h in hrefs.values()):
            # A catalogue serves remote COGs; a local path or a GDAL virtual file system
            # (/vsi...) would make the fetch read this machine's files.
            left_out["href_not_http"] += 1
            continue
        scenes.append(SceneRef(str(item["id"]), item, hrefs))
    log.info("stac: %d Landsat 8/9 scenes (left out: %s)", len(scenes),
             {k: v for k, v in left_out.items() if v} or "none")
    return scenes, left_out


def _window(src: rasterio.io.DatasetReader, bbox: tuple[float, ...]) -> Window | None:
    """The whole-pixel window of src covering the lon/lat bbox (None if outside)."""
    bounds = transform_bounds("EPSG:4326", src.crs, *bbox, densify_pts=21)
    win = from_bounds(*bounds, transform=src.transform)
    col0, row0 = int(np.floor(win.col_off)) - 1, int(np.floor(win.row_off)) - 1
    col1 = int(np.ceil(win.col_off + win.width)) + 1
    row1 = int(np.ceil(win.row_off + win.height)) + 1
    col0, row0 = max(col0, 0), max(row0, 0)
    col1, row1 = min(col1, src.width), min(row1, src.height)
    if col1 <= col0 or row1 <= row0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def _cut(href: str, band: str, bbox: tuple[float, ...], dest: Path) -> bool:
    """Read the bbox window of one band and write it as a local tiled GeoTIFF."""
    with rasterio.Env(**GDAL_ENV), rasterio.open(href) as src:
        win = _window(src, bbox)
        if win is None:
            return False
        data = src.read(1, window=win)
        profile = {"driver": "GTiff", "dtype": data.dtype, "count": 1, "crs": src.crs,
                   "transform": src.window_transform(win), "width": data.shape[1],
                   "height": data.shape[0], "nodata": NODATA[band], "compress": "deflate"}
    with atomic_path(dest, ".TIF") as tmp, rasterio.open(tmp, "w", **profile) as out:
        out.write(data, 1)
    return True


def fetch_scene(scene: SceneRef, bbox: tuple[float, ...], folder: Path) -> str | None:
    """Write one scene's two windows and its rewritten item; None if it misses the bbox.

    An item already fetched (its JSON and both GeoTIFFs present) is not read again.
    """
    stem = safe_name(scene.item_id)
    item_path = inside(folder, f"{stem}.json")
    names = {band: f"{stem}_{FILE_SUFFIX[band]}" for band in ASSET_KEYS}
    if item_path.is_file() and all(inside(folder, n).is_file() for n in names.values()):
        return "cached"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for band, href in scene.hrefs.items():
            if not _cut(href, band, bbox, inside(folder, names[band])):
                return None
    except rasterio.errors.RasterioIOError as exc:
        raise SourceError(f"scene {scene.item_id}: {redact(str(exc))}") from None
    item = dict(scene.item)
    item["assets"] = {band: {"href": f"./{names[band]}", "type":
                             "image/tiff; application=geotiff",
                             "computewatch:source_href": redact(scene.hrefs[band].split("?")[0])}
                      for band in ASSET_KEYS}
    links = item.get("links") if isinstance(item.get("links"), list) else []
    item["links"] = [link for link in links if isinstance(link, dict) and link.get("rel") in
                     ("self", "collection", "parent", "root")]
    atomic_write_bytes(item_path, json.dumps(item, indent=1).encode())
    return "fetched"
