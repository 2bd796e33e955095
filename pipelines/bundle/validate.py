"""`computewatch validate`: read a bundle, check every scene's pixels, and report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.bundle.reader import PowerGrid, RegionBundle, read_bundle, read_power_grid
from pipelines.errors import BundleError, ProblemLog


@dataclass
class Validation:
    """A validation outcome: the bundle (None if unusable), scene clear fractions, problems."""

    root: Path
    bundle: RegionBundle | None
    clear_fraction: dict[str, float]
    problems: ProblemLog
    fatal: str | None = None
    grid_only: PowerGrid | None = None

    @property
    def usable(self) -> bool:
        """True when the bundle can be scored, or its areas given regional context."""
        return (self.bundle is not None and self.fatal is None) or self.grid_only is not None


def check_scenes(bundle: RegionBundle) -> dict[str, float]:
    """Decode every scene onto the grid; drop unreadable ones with a warning; clear fractions."""
    fractions, kept = {}, []
    for scene in bundle.scenes:
        pixels = bundle.read_pixels(scene)
        if pixels is None:
            continue
        kelvin, usable = pixels
        if not np.isfinite(kelvin).any():
            bundle.problems.warn(scene.item_path, scene.scene_id, "scene does not cover the "
                                 "region's bbox (all fill); scene skipped", kind="scene_skipped")
            continue
        fractions[scene.scene_id] = float(usable.mean())
        kept.append(scene)
    bundle.scenes = kept
    return fractions


def validate(root: Path | str, assume_utc: bool = False) -> Validation:
    """Read and check a bundle; never raises for bad input, the outcome says what is wrong."""
    root = Path(root)
    try:
        bundle = read_bundle(root, assume_utc=assume_utc)
    except BundleError as exc:
        return Validation(root, None, {}, ProblemLog(root=root), fatal=str(exc),
                          grid_only=_regional_only(root, assume_utc))
    return Validation(root, bundle, check_scenes(bundle), bundle.problems)


def _regional_only(root: Path, assume_utc: bool) -> PowerGrid | None:
    """The bundle's grid part when it holds area load that `regional` can use, else None."""
    from pipelines.detect.areas import area_nodes

    try:
        grid = read_power_grid(root, assume_utc=assume_utc)
    except BundleError:
        return None
    areas = area_nodes(grid.nodes)
    has_load = len(areas) and grid.load["node_id"].isin(areas.index).any()
    return grid if has_load else None


def format_report(v: Validation) -> str:
    """The validation report a person reads: counts, CRS, period, scenes, problems."""
    if v.bundle is None and v.grid_only is not None:
        g = v.grid_only
        warnings = g.problems.warnings
        return "\n".join([
            f"Region bundle {v.root}: {g.region.name}",
            f"  grid nodes: {len(g.nodes)}; load rows: {len(g.load)}",
            f"  problems: {len(warnings)} warnings", *[f"    {p}" for p in warnings],
            f"  not detectable: {v.fatal}",
            "Result: usable for `computewatch regional` only (area load, nothing to detect)"]
        ) + "\n"
    if v.bundle is None:
        return f"Region bundle {v.root}: UNUSABLE\n{v.fatal}\n"
    b = v.bundle
    start, end = b.period
    nodes = b.nodes["kind"].value_counts().to_dict() if len(b.nodes) else {}
    subs = int((b.infrastructure["power"] == "substation").sum())
    lines_n = int((b.infrastructure["power"] != "substation").sum())
    out = [f"Region bundle {v.root}: {b.region.name}",
           f"  bbox (lon/lat): {list(b.region.bbox)}",
           f"  working CRS: {b.raster.crs.to_string()}; grid {b.raster.width} x {b.raster.height} "
           "pixels of 30 m",
           f"  period: {start.date()} to {(end - np.timedelta64(1, 's')).date()}",
           f"  facilities: {len(b.facilities)}",
           f"  infrastructure: {subs} substations, {lines_n} lines",
           f"  grid nodes: {len(b.nodes)} {nodes}; load rows: {len(b.load)}; "
           f"price rows: {0 if b.price is None else len(b.price)}",
           f"  declared facilities: {0 if b.declared is None else len(b.declared)}",
           f"  scenes: {len(b.scenes)}"]
    for s in b.scenes:
        out.append(f"    {s.scene_id}  {s.acquired:%Y-%m-%d %H:%M}Z  "
                   f"clear {100 * v.clear_fraction.get(s.scene_id, 0):.0f}%")
    warnings = v.problems.warnings
    out.append(f"  problems: {len(warnings)} warnings")
    out += [f"    {p}" for p in warnings]
    out.append("Result: usable" + (f" ({len(warnings)} warnings)" if warnings else ""))
    return "\n".join(out) + "\n"
