"""Simulate a region bundle from published physics: `computewatch simulate`."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.sources.simulate.loads import simulate_series
from pipelines.sources.simulate.presets import PRESETS
from pipelines.sources.simulate.scenes import landscape, render_scene, scene_dates
from pipelines.sources.simulate.world import World, build_world, preset_ranges
from pipelines.sources.simulate.writer import (
    truth_table,
    write_grid,
    write_region_yaml,
    write_scene,
    write_vectors,
)

log = logging.getLogger("computewatch")
OPERATORS = ["Northwind Compute", "Helios Cloud", "Meridian AI", "Atlas Hosting", "Kestrel Labs"]


def _declare(rng: np.random.Generator, world: World) -> None:
    """Some operators declare their sites under the treaty; some declare less than they run."""
    for site in world.sites:
        if site.true_class == "cloud_datacenter" and rng.uniform() < 0.6:
            factor = rng.uniform(0.9, 1.2)
        elif site.true_class == "ai_training" and not site.params["off_grid"] and \
                rng.uniform() < 0.35:
            factor = rng.uniform(0.3, 1.1)
        else:
            continue
        site.declared_id = f"D-{site.site_id}"
        site.declared_it_mw = site.params["mw"] * factor
        site.params["operator"] = str(rng.choice(OPERATORS))


def simulate(out: Path | str, seed: int = 0, preset: str = "demo",
             start: str = "2025-01-01",
             ranges: dict[str, tuple[float, float]] | None = None) -> pd.DataFrame:
    """Write a complete region bundle plus truth.csv and truth.md; return the truth table.

    ranges override the preset's and the reference table's (the generalisation protocol
    trains on one part of a factor's range and evaluates on the other). The bundle is built
    in a sibling folder and swapped in whole, so out is never half new.
    """
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
        with preset_ranges(_region_ranges(preset, ranges)):
            truth = _simulate_into(Path(tmp) / "bundle", seed, preset, start)
        if out.exists():
            old = Path(tmp) / "old"
            out.rename(old)
        (Path(tmp) / "bundle").rename(out)
    return truth


def region_world(seed: int, preset: str,
                 ranges: dict[str, tuple[float, float]] | None = None) -> World:
    """The world simulate draws for (seed, preset, ranges), without writing a bundle.

    Its truth (which substation feeds which site, say) is what the bundle does not carry.
    """
    with preset_ranges(_region_ranges(preset, ranges)):
        return build_world(seed, PRESETS[preset])


def _region_ranges(preset: str, ranges: dict[str, tuple[float, float]] | None
                   ) -> dict[str, tuple[float, float]]:
    """The preset's ranges, overridden by the caller's."""
    return {**PRESETS[preset].ranges, **(ranges or {})}


def _simulate_into(out: Path, seed: int, preset: str, start: str) -> pd.DataFrame:
    world = build_world(seed, PRESETS[preset])
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    _declare(rng, world)
    series = simulate_series(rng, world, pd.Timestamp(start, tz="UTC"))
    write_region_yaml(world, series, out)
    write_vectors(world, out)
    write_grid(rng, world, series, out)
    land = landscape(rng, world)
    for date, platform in scene_dates(rng, series.times[0], world.preset.days,
                                      world.preset.scenes):
        scene = render_scene(rng, world, land, series, date, platform)
        write_scene(world, scene, out / "imagery")
    truth = truth_table(world, series)
    truth.to_csv(out / "truth.csv", index=False)
    (out / "truth.md").write_text(_truth_md(world, truth))
    return truth


def _truth_md(world: World, truth: pd.DataFrame) -> str:
    """A short human summary of what was simulated."""
    lines = [f"# Simulated region: preset {world.preset.name}, seed {world.seed}", "",
             f"Centre {world.lat:.3f}, {world.lon:.3f}; {world.preset.size_km:g} km square; "
             f"working CRS {world.crs.to_string()}; {world.preset.days} days hourly; "
             f"{world.preset.scenes} Landsat-like scenes.", "",
             "| site | class | kind | halls | IT MW (last 30 days) | on grid | declared |",
             "|---|---|---|---|---|---|---|"]
    per_site = truth.groupby("site_id").agg(true_class=("true_class", "first"),
                                            halls=("facility_id", "count"),
                                            it_mw=("it_mw", "sum"), on_grid=("on_grid", "all"),
                                            declared=("declared", "any"))
    for site in world.sites:
        row = per_site.loc[site.site_id]
        lines.append(f"| {site.site_id} | {row.true_class} | {site.subtype} | {row.halls} | "
                     f"{row.it_mw:.1f} | {row.on_grid} | {row.declared} |")
    counts = truth["true_class"].value_counts().to_dict()
    lines += ["", f"Facilities by class: {counts}.", "",
              "Physics and its sources: data/reference_defaults.csv and "
              "pipelines/sources/simulate/ (loads.py, scenes.py)."]
    return "\n".join(lines) + "\n"
