"""Size limits a bundle must respect, checked before anything is allocated for it.

A region bigger than one machine can hold should fail at once with a message naming the
file and the limit, not after minutes with a MemoryError.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import BundleError


@dataclass(frozen=True)
class Limits:
    """`limits:` of flows.yaml.

    max_grid_pixels: pixels of the 30 m working grid. A scene in flight holds about 45 bytes
    a pixel of temporaries (measured on the `state` preset, 16.4 M pixels), so the default
    of 60 M pixels (a region of about 230 x 230 km) keeps two scenes in flight under 6 GB.
    max_load_file_mb: grid/load.csv is read whole; 2 GB of CSV is about 60 M rows.
    tile_pixels: when set, the thermal stage reads each scene in tiles of at most this many
    pixels (overlapping by the background ring's reach) instead of whole: memory follows
    the tile, not the region (pipelines/detect/tiles.py); the results are the same.
    """

    max_grid_pixels: int = 60_000_000
    max_load_file_mb: float = 2048.0
    tile_pixels: int | None = None


DEFAULT_LIMITS = Limits()


def check_grid(width: int, height: int, region_yaml: Path, limits: Limits) -> None:
    """Refuse a working grid above the limit, naming region.yaml and the setting."""
    pixels = width * height
    if pixels > limits.max_grid_pixels:
        raise BundleError(
            f"{region_yaml}: the bbox needs a working grid of {width:,} x {height:,} = "
            f"{pixels:,} pixels of 30 m, above limits.max_grid_pixels "
            f"({limits.max_grid_pixels:,}) in flows.yaml; split the region into smaller "
            "bundles, or raise the limit if the machine has the memory (about 45 bytes a "
            "pixel for each scene in flight)")


def check_file_size(path: Path, limit_mb: float, setting: str) -> None:
    """Refuse a file above limit_mb megabytes before it is read."""
    if path.is_file():
        size_mb = path.stat().st_size / 1e6
        if size_mb > limit_mb:
            raise BundleError(f"{path}: {size_mb:,.0f} MB, above {setting} ({limit_mb:,.0f} MB) "
                              "in flows.yaml; trim the period or raise the limit")
