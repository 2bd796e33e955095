"""Checks before any work: a run that cannot finish should fail in a second, not after scoring.

detect checks its region.yaml and grid size, its output folder (a writable folder with room),
its alert store (opens and migrates) and the model (file and checksum agree) before any work.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from pipelines.bundle.imagery import RasterGrid
from pipelines.bundle.limits import Limits, check_grid
from pipelines.bundle.region import read_region
from pipelines.errors import PreflightError

# Room an output folder needs: a county run writes about 20 MB (candidates, GeoPackage,
# evidence PNGs); 100 MB leaves margin without refusing a nearly full disk too early.
MIN_FREE_MB = 100.0


def check_output_folder(out: Path, min_free_mb: float = MIN_FREE_MB) -> Path:
    """Create out if needed and prove it takes a file; refuse a file, read-only or full disk."""
    if out.exists() and not out.is_dir():
        raise PreflightError(f"--out {out}: exists and is not a folder; name a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".preflight-"):
            pass
    except OSError as exc:
        raise PreflightError(f"--out {out}: cannot write there ({exc.strerror or exc}); "
                             "choose a folder you may write to") from None
    free_mb = shutil.disk_usage(out).free / 1e6
    if free_mb < min_free_mb:
        raise PreflightError(f"--out {out}: only {free_mb:,.0f} MB free on its disk (a run "
                             f"needs about {min_free_mb:,.0f} MB); free some room or choose "
                             "another disk")
    return out


def check_output_file(path: Path) -> Path:
    """A file to write: its folder must already exist and be writable (never created)."""
    parent = path.parent
    if not parent.is_dir():
        raise PreflightError(f"{path}: folder {parent} does not exist; create it first")
    if path.is_dir():
        raise PreflightError(f"{path}: is a folder; name a file")
    if not os.access(parent, os.W_OK):
        raise PreflightError(f"{path}: folder {parent} is not writable")
    return path


def check_region(region: Path, limits: Limits) -> None:
    """region.yaml is readable and its working grid fits the limits."""
    info = read_region(region)
    grid = RasterGrid.for_bbox(info.bbox, info.crs)
    check_grid(grid.width, grid.height, region / "region.yaml", limits)


def check_detect(region: Path, out: Path, store_url: str | None, limits: Limits) -> None:
    """Everything a detect run needs, in the order a person would fix it."""
    check_region(region, limits)
    check_output_folder(out)
    if store_url:
        from pipelines.alerts.store import open_store

        open_store(store_url).dispose()
    from pipelines.model.store import verify_model

    verify_model()  # loading (about 3 s) waits for a run with something to score
