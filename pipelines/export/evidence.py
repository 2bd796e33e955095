"""Evidence packets per alert: a thermal chip, a load chart and a summary an analyst can check.

Written under OUT/evidence/<folder>/: thermal.png (median ΔT over the clear scenes,
footprints outlined, scale bar), load.png (the last 90 days and the weekly profile, with
price where present) and summary.md (the numbers and the top reasons). The folder is the
facility_id when it is a plain name, a hashed safe name otherwise: an id never decides a
path (pipelines/paths.py).
"""

from __future__ import annotations

import math
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from pipelines.atomic import atomic_write_text
from pipelines.bundle.reader import RegionBundle
from pipelines.cache import key_of
from pipelines.export.charts import LoadChart, ThermalChart, draw_all
from pipelines.paths import inside, safe_name

CHIP_HALF_M = 1200.0
EVIDENCE_DIR = "evidence"  # the packets' folder inside the output folder (README: what comes out)


def _window(bundle: RegionBundle, fid: str) -> tuple[slice, slice, tuple[float, ...]]:
    """Rows and columns of the working grid around a facility, and their extent in metres."""
    g = bundle.raster
    c = bundle.facilities.geometry.loc[fid].centroid
    res = g.transform.a
    col0 = int(max(0, (c.x - CHIP_HALF_M - g.transform.c) // res))
    col1 = int(min(g.width, (c.x + CHIP_HALF_M - g.transform.c) // res + 1))
    row0 = int(max(0, (g.transform.f - c.y - CHIP_HALF_M) // res))
    row1 = int(min(g.height, (g.transform.f - c.y + CHIP_HALF_M) // res + 1))
    extent = (g.transform.c + col0 * res, g.transform.c + col1 * res,
              g.transform.f - row1 * res, g.transform.f - row0 * res)
    return slice(row0, row1), slice(col0, col1), extent


def thermal_chips(bundle: RegionBundle, ids: list[str]) -> dict[str, np.ndarray]:
    """Median over clear scenes of each chip's temperature minus its clear-pixel median."""
    windows = {fid: _window(bundle, fid) for fid in ids}
    stacks: dict[str, list[np.ndarray]] = {fid: [] for fid in ids}
    for scene in bundle.scenes:
        try:  # only the chips' windows are read (issue 14: whole scenes cost 4.9 s at state)
            cut = scene.read_windows(bundle.raster, [(r, c) for r, c, _ in windows.values()])
        except (OSError, ValueError):
            continue
        for fid, (k, u) in zip(windows, cut):
            if u.mean() < 0.5:
                continue
            stacks[fid].append(np.where(u, k - np.nanmedian(k[u]), np.nan))
    out = {}
    for fid, chips in stacks.items():
        if chips:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # pixels never clear: NaN
                out[fid] = np.nanmedian(np.stack(chips), axis=0)
    return out


def thermal_chart(bundle: RegionBundle, fid: str, chip: np.ndarray) -> ThermalChart:
    """What the thermal chip shows: the chip, its extent, the outlines of the buildings on it."""
    _, _, extent = _window(bundle, fid)
    box = shapely.box(extent[0], extent[2], extent[1], extent[3])
    near = bundle.facilities[bundle.facilities.intersects(box)]
    own, others = [], []
    for other, geom in near.geometry.items():
        for poly in getattr(geom, "geoms", [geom]):
            (own if other == fid else others).append(np.asarray(poly.exterior.coords)[:, :2])
    return ThermalChart(fid, chip, extent, own, others)


def load_by_node(load: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The load table split by node once, so each alert's chart reads only its own rows."""
    return {str(node): rows for node, rows in load.groupby("node_id", sort=False)}


def load_chart(bundle: RegionBundle, by_node: dict[str, pd.DataFrame], node_ids: list[str]
               ) -> LoadChart | None:
    """Last 90 days of the nodes' load (and price) and its weekly profile; None if unmetered."""
    parts = [by_node[n] for n in node_ids if n in by_node]
    if not parts:
        return None
    load = pd.concat(parts)
    series = load.groupby("interval_start")["load_mw"].sum()
    end = series.index.max()
    recent = series[series.index > end - pd.Timedelta(days=90)]
    offset = pd.Timedelta(hours=(bundle.region.bbox[0] + bundle.region.bbox[2]) / 2 / 15)
    local = recent.index + offset
    weekly = recent.groupby(local.day_of_week * 24 + local.hour).mean()
    price_times = price = None
    if bundle.price is not None:
        p = bundle.price.set_index("interval_start")["price"]
        p = p[(p.index > end - pd.Timedelta(days=90)) & (p.index <= end)]
        price_times, price = p.index.to_numpy(), p.to_numpy()
    return LoadChart(node_ids, recent.index.to_numpy(), recent.to_numpy(), price_times, price,
                     np.asarray(weekly.index) / 24, weekly.to_numpy())


def _fmt(v: object, unit: str = "", digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "no evidence"
    return f"{v:,.{digits}f}{unit}" if isinstance(v, (int, float)) else str(v)


def summary_md(props: dict, has_chip: bool, has_load: bool) -> str:
    """The numbers and reasons of one alert, in Markdown."""
    lines = [f"# {props['facility_id']}: score {props['score']:.2f} "
             f"({props['predicted_class']})", "",
             "| evidence | value |", "|---|---|"]
    rows = [("IT power now", _fmt(props["est_it_mw"], " MW") + f" (80%: "
             f"{_fmt(props['est_it_mw_low'])} to {_fmt(props['est_it_mw_high'])} MW, "
             f"from {props.get('est_it_mw_basis')})"),
            ("H100-equivalents", _fmt(props["est_h100_equivalents"], "", 0)),
            ("days to 1e25 FLOP", _fmt(props["days_to_1e25_flop"])),
            ("roof ΔT (median, cold season)", f"{_fmt(props['thermal_delta_k'], ' K')}, "
             f"{_fmt(props['thermal_cold_season_delta_k'], ' K')}"),
            ("clear scenes", _fmt(props["thermal_scenes_used"], "", 0)),
            ("yard ΔT (open ground 100 to 600 m out)", _fmt(props.get("thermal_yard_k"), " K")),
            ("metered share, load factor", f"{_fmt(props['mean_mw'], ' MW')}, "
             f"{_fmt(props['load_factor'], '', 2)}"),
            ("daily swing, price response", f"{_fmt(props['diurnal_amplitude'], '', 2)}, "
             f"{_fmt(props['price_response'], '', 2)}"),
            ("footprint", _fmt(props["footprint_m2"], " m2", 0)),
            ("declared", f"{props['declared']} {props.get('declared_id') or ''} "
             f"{_fmt(props.get('declared_it_mw'), ' MW')}; exceeds: "
             f"{props['exceeds_declared']}")]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += ["", "Top reasons:", *[f"- {r}" for r in props["top_reasons"]], ""]
    if has_chip:
        lines.append("![thermal chip](thermal.png)")
    if has_load:
        lines.append("![load chart](load.png)")
    return "\n".join(lines) + "\n"


def write_packets(bundle: Callable[[], RegionBundle], collection: dict, out: Path,
                  inputs_key: str, workers: int = 1) -> dict[str, str]:
    """A packet for every alert; returns facility_id -> relative path of its summary.

    Charts are drawn in up to `workers` processes when there are many (charts.draw_all).

    A packet already written from the same inputs (its `.inputs` file holds the key) is kept
    as it is, so the bundle is read only when some packet must be drawn; folders of
    facilities that no longer alert are removed, so the folder matches a clean run.
    """
    root = out / EVIDENCE_DIR
    alerts = [f for f in collection["features"] if f["properties"]["alert"]]
    folders = {str(f["id"]): safe_name(str(f["id"])) for f in alerts}
    if root.is_dir() and not root.is_symlink():
        for stale in root.iterdir():
            if stale.name in folders.values():
                continue
            if stale.is_symlink() or stale.is_file():
                stale.unlink()
            elif stale.is_dir():
                shutil.rmtree(stale)
    stamps = {fid: key_of(inputs_key, fid) for fid in folders}
    todo = [f for f in alerts
            if _read(inside(out, EVIDENCE_DIR, folders[str(f["id"])], ".inputs"))
            != stamps[str(f["id"])]]
    chips = thermal_chips(bundle(), [str(f["id"]) for f in todo]) if todo else {}
    by_node = load_by_node(bundle().load) if todo else {}
    jobs: list[tuple[ThermalChart | LoadChart, Path]] = []
    drawn: dict[str, tuple[bool, bool]] = {}
    for f in todo:
        fid, props = str(f["id"]), f["properties"]
        folder = inside(out, EVIDENCE_DIR, folders[fid])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".inputs").unlink(missing_ok=True)
        for old in ("thermal.png", "load.png"):
            (folder / old).unlink(missing_ok=True)
        if fid in chips:
            jobs.append((thermal_chart(bundle(), fid, chips[fid]), folder / "thermal.png"))
        node = (props.get("sources") or {}).get("node")
        chart = load_chart(bundle(), by_node, str(node).split(";")) if node else None
        if chart is not None:
            jobs.append((chart, folder / "load.png"))
        drawn[fid] = (fid in chips, chart is not None)
    draw_all(jobs, workers)
    for f in todo:  # a packet is complete, and stamped, only once its charts are drawn
        fid = str(f["id"])
        folder = inside(out, EVIDENCE_DIR, folders[fid])
        atomic_write_text(folder / "summary.md", summary_md(f["properties"], *drawn[fid]))
        atomic_write_text(folder / ".inputs", stamps[fid])
    return {fid: f"{EVIDENCE_DIR}/{name}/summary.md" for fid, name in sorted(folders.items())}


def _read(path: Path) -> str | None:
    return path.read_text() if path.is_file() and not path.is_symlink() else None
