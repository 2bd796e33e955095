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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from pipelines.atomic import atomic_path, atomic_write_text
from pipelines.bundle.reader import RegionBundle
from pipelines.cache import key_of
from pipelines.paths import inside, safe_name

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

CHIP_HALF_M = 1200.0


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


def _pyplot() -> object:
    """Pyplot on matplotlib's file-only Agg backend (loaded only when a packet is drawn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    return pyplot


def _save(fig: plt.Figure, path: Path) -> None:
    try:
        with atomic_path(path, ".png") as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight")
    finally:
        _pyplot().close(fig)


def plot_thermal(bundle: RegionBundle, fid: str, chip: np.ndarray, path: Path) -> None:
    """The ΔT chip with the footprint outlined in black, neighbours in grey, a 500 m bar."""
    _, _, extent = _window(bundle, fid)
    fig, ax = _pyplot().subplots(figsize=(5.2, 4.6))
    lim = max(2.0, float(np.nanpercentile(np.abs(chip), 99))) if np.isfinite(chip).any() else 2
    im = ax.imshow(chip, extent=extent, cmap="RdBu_r", vmin=-lim, vmax=lim,
                   interpolation="nearest")
    box = shapely.box(extent[0], extent[2], extent[1], extent[3])
    near = bundle.facilities[bundle.facilities.intersects(box)]
    for other, geom in near.geometry.items():
        for poly in getattr(geom, "geoms", [geom]):
            x, y = poly.exterior.xy
            ax.plot(x, y, color="black" if other == fid else "0.45",
                    linewidth=1.6 if other == fid else 0.6)
    x0, y0 = extent[0] + 100, extent[2] + 100
    ax.plot([x0, x0 + 500], [y0, y0], color="black", linewidth=3)
    ax.text(x0 + 250, y0 + 40, "500 m", ha="center", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{fid}: median ΔT over clear scenes (K)", fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.8, label="K above the chip's median")
    _save(fig, path)


def load_by_node(load: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The load table split by node once, so each alert's chart reads only its own rows."""
    return {str(node): rows for node, rows in load.groupby("node_id", sort=False)}


def plot_load(bundle: RegionBundle, by_node: dict[str, pd.DataFrame], node_ids: list[str],
              path: Path) -> bool:
    """Last 90 days of the nodes' load (and price), and its mean weekly profile."""
    parts = [by_node[n] for n in node_ids if n in by_node]
    if not parts:
        return False
    load = pd.concat(parts)
    series = load.groupby("interval_start")["load_mw"].sum()
    end = series.index.max()
    recent = series[series.index > end - pd.Timedelta(days=90)]
    offset = pd.Timedelta(hours=(bundle.region.bbox[0] + bundle.region.bbox[2]) / 2 / 15)
    local = recent.index + offset
    weekly = recent.groupby(local.day_of_week * 24 + local.hour).mean()
    fig, (a1, a2) = _pyplot().subplots(2, 1, figsize=(7.5, 5.2))
    a1.plot(recent.index, recent.to_numpy(), linewidth=0.6, color="tab:red")
    a1.set_ylabel("MW")
    a1.set_ylim(bottom=0)
    a1.set_title(f"Load at {', '.join(node_ids)}: last 90 days", fontsize=9)
    if bundle.price is not None:
        price = bundle.price.set_index("interval_start")["price"]
        price = price[(price.index > end - pd.Timedelta(days=90)) & (price.index <= end)]
        tw = a1.twinx()
        tw.plot(price.index, price.to_numpy(), linewidth=0.4, color="0.6")
        tw.set_ylabel("price per MWh", color="0.4")
    a2.plot(weekly.index / 24, weekly.to_numpy(), color="tab:red")
    a2.set_xticks(range(7), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    a2.set_ylim(bottom=0)
    a2.set_ylabel("mean MW")
    a2.set_title("Weekly profile (local solar time)", fontsize=9)
    fig.tight_layout()
    _save(fig, path)
    return True


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
                  inputs_key: str) -> dict[str, str]:
    """A packet for every alert; returns facility_id -> relative path of its summary.

    A packet already written from the same inputs (its `.inputs` file holds the key) is kept
    as it is, so the bundle is read only when some packet must be drawn; folders of
    facilities that no longer alert are removed, so the folder matches a clean run.
    """
    root = out / "evidence"
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
            if _read(inside(out, "evidence", folders[str(f["id"])], ".inputs"))
            != stamps[str(f["id"])]]
    chips = thermal_chips(bundle(), [str(f["id"]) for f in todo]) if todo else {}
    by_node = load_by_node(bundle().load) if todo else {}
    for f in todo:
        fid, props = str(f["id"]), f["properties"]
        folder = inside(out, "evidence", folders[fid])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".inputs").unlink(missing_ok=True)
        for old in ("thermal.png", "load.png"):
            (folder / old).unlink(missing_ok=True)
        if fid in chips:
            plot_thermal(bundle(), fid, chips[fid], folder / "thermal.png")
        node = (props.get("sources") or {}).get("node")
        has_load = bool(node) and plot_load(bundle(), by_node, str(node).split(";"),
                                            folder / "load.png")
        atomic_write_text(folder / "summary.md", summary_md(props, fid in chips, has_load))
        atomic_write_text(folder / ".inputs", stamps[fid])
    return {fid: f"evidence/{name}/summary.md" for fid, name in sorted(folders.items())}


def _read(path: Path) -> str | None:
    return path.read_text() if path.is_file() and not path.is_symlink() else None
