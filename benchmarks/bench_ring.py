"""The background ring on 120 m blocks against the exact per-pixel ring, and its speed.

On simulated regions (fresh seeds, never trained on), detect runs twice: with the exact ring
(RING_BLOCK = 1, every 30 m pixel weighted by its exact coverage) and with the shipped block
ring. Reports the difference of the ring mean in K over every facility and clear scene, the
difference of the scores and which alerts and candidates change, and the thermal stage's time
against just reading both bands of every scene.

    ./run python benchmarks/bench_ring.py --presets county --seeds 41 42 [--presets state]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio

import detectors.thermal as thermal
from pipelines.bundle.reader import read_bundle
from pipelines.detect.run import run_detect
from pipelines.process import configure_logging
from pipelines.settings import load_config
from pipelines.sources.simulate import simulate


def read_seconds(region: Path) -> float:
    """Reading both bands of every scene whole: the floor under any thermal stage."""
    bundle = read_bundle(region)
    t = time.perf_counter()
    for scene in bundle.scenes:
        for href in (scene.thermal_href, scene.qa_href):
            with rasterio.open(href) as src:
                src.read(1)
    return time.perf_counter() - t


def ring_gaps(region: Path) -> np.ndarray:
    """|block ring mean - exact ring mean| in K, every facility and usable scene."""
    bundle = read_bundle(region)
    grid, geoms = bundle.raster, bundle.facilities.geometry
    shape = (grid.height, grid.width)
    exact = thermal.zone_weights(geoms, grid.transform, shape, ring_block=1)
    block = thermal.zone_weights(geoms, grid.transform, shape)
    gaps = []
    for scene in bundle.scenes:
        kelvin, usable = scene.read(grid)
        a = thermal.scene_stats(exact, kelvin, usable)
        b = thermal.scene_stats(block, kelvin, usable)
        both = a["delta_k"].notna() & b["delta_k"].notna()
        gaps.append(np.abs(a["ring_mean_k"] - b["ring_mean_k"])[both].to_numpy())
    return np.concatenate(gaps)


def detect(region: Path, out: Path, block: int) -> tuple[dict, dict]:
    """One detect run with the given ring block, on its own cache; report and candidates."""
    thermal.RING_BLOCK = block
    os.environ["COMPUTEWATCH_CACHE_DIR"] = str(out / "cache")
    settings = load_config().defaults.model_copy(update={"alert_store": ""})
    report = run_detect(str(region), out, settings, evidence=False)
    features = json.loads((out / "candidates.geojson").read_text())["features"]
    return report, {f["id"]: f["properties"] for f in features}


def compare(region: Path, tmp: Path) -> dict:
    shipped = thermal.RING_BLOCK
    exact_report, exact = detect(region, tmp / "exact", 1)
    block_report, block = detect(region, tmp / "block", shipped)
    thermal.RING_BLOCK = shipped
    common = sorted(set(exact) & set(block))
    score_gap = max((abs(exact[i]["score"] - block[i]["score"]) for i in common), default=0.0)
    alerts = ({i for i, p in exact.items() if p["alert"]},
              {i for i, p in block.items() if p["alert"]})
    gaps = ring_gaps(region)
    read = read_seconds(region)
    return {
        "facilities": block_report["counts"]["facilities"],
        "scenes": block_report["counts"]["scenes"],
        "ring_gap_k_median": float(np.median(gaps)), "ring_gap_k_p99": float(
            np.percentile(gaps, 99)), "ring_gap_k_max": float(gaps.max()),
        "max_score_gap": score_gap,
        "alerts_exact": len(alerts[0]), "alerts_block": len(alerts[1]),
        "alerts_changed": sorted(alerts[0] ^ alerts[1]),
        "candidates_changed": sorted(set(exact) ^ set(block)),
        "thermal_s_exact": exact_report["stage_seconds"]["thermal"],
        "thermal_s_block": block_report["stage_seconds"]["thermal"], "read_s": read}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["county"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[41])
    args = parser.parse_args()
    configure_logging(-1)
    print("| preset | seed | facilities | scenes | ring gap median / p99 / max (K) | "
          "largest score gap | alerts exact / block (changed) | candidates changed | "
          "thermal exact / block / read (s) | block / read |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for preset in args.presets:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory(prefix="cw-ring-") as tmp:
                region = Path(tmp) / "region"
                simulate(region, seed=seed, preset=preset)
                r = compare(region, Path(tmp))
            print(f"| {preset} | {seed} | {r['facilities']:,} | {r['scenes']} | "
                  f"{r['ring_gap_k_median']:.3f} / {r['ring_gap_k_p99']:.3f} / "
                  f"{r['ring_gap_k_max']:.3f} | {r['max_score_gap']:.4f} | "
                  f"{r['alerts_exact']} / {r['alerts_block']} ({len(r['alerts_changed'])}) | "
                  f"{len(r['candidates_changed'])} | {r['thermal_s_exact']:.2f} / "
                  f"{r['thermal_s_block']:.2f} / {r['read_s']:.2f} | "
                  f"{r['thermal_s_block'] / r['read_s']:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
