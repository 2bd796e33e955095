"""Read a whole region bundle (SPEC, input contract v1) into typed objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from rasterio.errors import RasterioError

from pipelines.bundle.imagery import RasterGrid, Scene, read_scenes
from pipelines.bundle.limits import DEFAULT_LIMITS, Limits, check_file_size, check_grid
from pipelines.bundle.power import node_limits, read_load, read_price
from pipelines.bundle.region import Region, read_region
from pipelines.bundle.vectors import (
    read_declared,
    read_facilities,
    read_infrastructure,
    read_nodes,
)
from pipelines.errors import ProblemLog


@dataclass
class RegionBundle:
    """Everything a flow needs from a region, in the working CRS, with its problems."""

    root: Path
    region: Region
    raster: RasterGrid
    facilities: gpd.GeoDataFrame
    infrastructure: gpd.GeoDataFrame
    nodes: gpd.GeoDataFrame
    load: pd.DataFrame
    price: pd.DataFrame | None
    scenes: list[Scene]
    declared: gpd.GeoDataFrame | None
    problems: ProblemLog = field(default_factory=ProblemLog)

    def read_pixels(self, scene: Scene) -> tuple[np.ndarray, np.ndarray] | None:
        """A scene's Kelvin and usable mask on the working grid, or None if unreadable.

        An unreadable scene (a truncated or corrupt GeoTIFF) is counted as a warning.
        """
        try:
            return scene.read(self.raster)
        except (RasterioError, OSError, ValueError) as exc:
            self.scene_failed(scene, exc)
            return None

    def scene_failed(self, scene: Scene, exc: BaseException) -> None:
        """Count a scene whose pixels could not be read as a warning of the run."""
        self.problems.warn(scene.item_path, scene.scene_id, f"pixels cannot be read "
                           f"({exc}); scene skipped", "the GeoTIFF may be truncated or "
                           "corrupt, or its server failed: fetch it again",
                           kind="scene_skipped")

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """(start, end) in UTC: region.yaml's period, else the span of load and scenes."""
        start, end = self.region.period_start, self.region.period_end
        stamps = list(self.load["interval_start"].agg(["min", "max"])) if len(self.load) else []
        stamps += [s.acquired for s in self.scenes]
        if start is None:
            start = min(stamps) if stamps else pd.Timestamp("1970-01-01", tz="UTC")
        if end is None:
            end = max(stamps) + pd.Timedelta(hours=1) if stamps else start
        return start, end


@dataclass
class PowerGrid:
    """The grid part of a bundle alone (regional context needs no buildings or scenes)."""

    region: Region
    nodes: gpd.GeoDataFrame
    load: pd.DataFrame
    price: pd.DataFrame | None
    problems: ProblemLog


def _grid_files(root: Path, crs: CRS, log: ProblemLog, assume_utc: bool, limits: Limits
                ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame | None]:
    """grid/: nodes, then load (size checked first, values bounded per node kind), price."""
    check_file_size(root / "grid" / "load.csv", limits.max_load_file_mb,
                    "limits.max_load_file_mb")
    nodes = read_nodes(root / "grid" / "nodes.geojson", crs, log)
    polygonal = nodes.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    load = read_load(root / "grid" / "load.csv", node_limits(nodes["kind"], polygonal), log,
                     assume_utc)
    return nodes, load, read_price(root / "grid" / "price.csv", log, assume_utc)


def read_power_grid(root: Path | str, assume_utc: bool = False,
              limits: Limits = DEFAULT_LIMITS) -> PowerGrid:
    """region.yaml, grid/nodes.geojson, grid/load.csv and grid/price.csv, checked."""
    root = Path(root)
    log = ProblemLog(root=root)
    region = read_region(root)
    nodes, load, price = _grid_files(root, region.crs, log, assume_utc, limits)
    log.raise_if_errors()
    return PowerGrid(region, nodes, load, price, log)


def read_bundle(root: Path | str, assume_utc: bool = False,
                limits: Limits = DEFAULT_LIMITS) -> RegionBundle:
    """Read every file of the bundle; raise BundleError listing every fatal problem.

    The working grid and the load file are checked against the limits before either is
    allocated or read.
    """
    root = Path(root)
    log = ProblemLog(root=root)
    region = read_region(root)
    crs = region.crs
    grid = RasterGrid.for_bbox(region.bbox, crs)
    check_grid(grid.width, grid.height, root / "region.yaml", limits)
    facilities = read_facilities(root / "facilities.geojson", crs, log)
    infrastructure = read_infrastructure(root / "infrastructure.geojson", crs, log)
    nodes, load, price = _grid_files(root, crs, log, assume_utc, limits)
    scenes = read_scenes(root, log)
    declared = read_declared(root / "declared.geojson", crs, log)
    log.raise_if_errors()
    bundle = RegionBundle(root, region, grid, facilities,
                          infrastructure, nodes, load, price, scenes, declared, log)
    start, end = bundle.period
    if len(load):
        inside = (load["interval_start"] >= start) & (load["interval_start"] < end)
        bundle.load = load[inside].reset_index(drop=True)
    return bundle
