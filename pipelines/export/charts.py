"""Drawing evidence charts from plain data, in this process or in a pool of processes.

The data (a ΔT chip with outlines, a load series) is prepared by pipelines/export/evidence.py
from the bundle; this module needs only numpy and matplotlib, so a worker process starts in
about a second. Matplotlib is not thread-safe and drawing holds the GIL, hence processes.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.atomic import atomic_path

# A worker process costs about a second to start (imports) and a chart about 0.3 s to draw:
# below this many charts per worker, drawing in this process is faster.
MIN_CHARTS_PER_WORKER = 8


@dataclass(frozen=True)
class ThermalChart:
    """A ΔT chip (K) on its extent (metres), the facility's outline and its neighbours'."""

    fid: str
    chip: np.ndarray
    extent: tuple[float, float, float, float]
    own: list[np.ndarray]
    others: list[np.ndarray]


@dataclass(frozen=True)
class LoadChart:
    """The last 90 days of the nodes' load (and price), and the mean weekly profile."""

    nodes: list[str]
    times: np.ndarray
    mw: np.ndarray
    price_times: np.ndarray | None
    price: np.ndarray | None
    week_days: np.ndarray
    week_mw: np.ndarray


def _figure(size: tuple[float, float], rows: int = 1) -> tuple[object, list]:
    """A figure on matplotlib's file-only Agg canvas, without pyplot's global state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig, [fig.add_subplot(rows, 1, i + 1) for i in range(rows)]


def _save(fig: object, path: Path) -> None:
    with atomic_path(path, ".png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")  # type: ignore[attr-defined]


def draw_thermal(chart: ThermalChart, path: Path) -> None:
    """The ΔT chip with the footprint outlined in black, neighbours in grey, a 500 m bar."""
    fig, (ax,) = _figure((5.2, 4.6))
    chip, extent = chart.chip, chart.extent
    lim = max(2.0, float(np.nanpercentile(np.abs(chip), 99))) if np.isfinite(chip).any() else 2
    im = ax.imshow(chip, extent=extent, cmap="RdBu_r", vmin=-lim, vmax=lim,
                   interpolation="nearest")
    for ring in chart.others:
        ax.plot(ring[:, 0], ring[:, 1], color="0.45", linewidth=0.6)
    for ring in chart.own:
        ax.plot(ring[:, 0], ring[:, 1], color="black", linewidth=1.6)
    x0, y0 = extent[0] + 100, extent[2] + 100
    ax.plot([x0, x0 + 500], [y0, y0], color="black", linewidth=3)
    ax.text(x0 + 250, y0 + 40, "500 m", ha="center", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{chart.fid}: median ΔT over clear scenes (K)", fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.8, label="K above the chip's median")  # type: ignore[attr-defined]
    _save(fig, path)


def draw_load(chart: LoadChart, path: Path) -> None:
    """Last 90 days of the nodes' load (and price), and its mean weekly profile."""
    fig, (a1, a2) = _figure((7.5, 5.2), rows=2)
    a1.plot(chart.times, chart.mw, linewidth=0.6, color="tab:red")
    a1.set_ylabel("MW")
    a1.set_ylim(bottom=0)
    a1.set_title(f"Load at {', '.join(chart.nodes)}: last 90 days", fontsize=9)
    if chart.price is not None:
        tw = a1.twinx()
        tw.plot(chart.price_times, chart.price, linewidth=0.4, color="0.6")
        tw.set_ylabel("price per MWh", color="0.4")
    a2.plot(chart.week_days, chart.week_mw, color="tab:red")
    a2.set_xticks(range(7), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    a2.set_ylim(bottom=0)
    a2.set_ylabel("mean MW")
    a2.set_title("Weekly profile (local solar time)", fontsize=9)
    fig.tight_layout()  # type: ignore[attr-defined]
    _save(fig, path)


def _draw(jobs: list[tuple[ThermalChart | LoadChart, Path]]) -> None:
    for chart, path in jobs:
        if isinstance(chart, ThermalChart):
            draw_thermal(chart, path)
        else:
            draw_load(chart, path)


def draw_all(jobs: list[tuple[ThermalChart | LoadChart, Path]], workers: int) -> None:
    """Draw every chart to its path: in up to `workers` processes when there are enough.

    The charts are split into one batch per worker (a batch pickles a few chips and series,
    never the bundle); the files are the same as drawn here, byte for byte. Workers are
    `python -m pipelines.export.charts BATCH` processes, not multiprocessing's: those import
    the caller's main script again, which breaks any script that calls detect unguarded.
    """
    workers = min(workers, len(jobs) // MIN_CHARTS_PER_WORKER)
    if workers <= 1:
        _draw(jobs)
        return
    with tempfile.TemporaryDirectory(prefix="cw-charts-") as tmp:
        children = []
        for i in range(workers):
            batch = Path(tmp) / f"batch-{i}.pickle"
            batch.write_bytes(pickle.dumps(jobs[i::workers]))
            children.append(subprocess.Popen([sys.executable, "-m", __name__, str(batch)],
                                             stdout=subprocess.DEVNULL,
                                             stderr=subprocess.PIPE, text=True))
        failed = [(child, child.communicate()[1]) for child in children]
        failed = [(c, err) for c, err in failed if c.returncode != 0]
    if failed:
        child, err = failed[0]
        raise RuntimeError(f"an evidence chart worker failed ({child.returncode}): "
                           f"{err.strip().splitlines()[-1] if err.strip() else 'no message'}")


if __name__ == "__main__":
    # The batch holds pipelines.export.charts' classes, not this __main__ copy's: draw with
    # the module's own function so that its isinstance checks see the same classes.
    from pipelines.export import charts

    charts._draw(pickle.loads(Path(sys.argv[1]).read_bytes()))
