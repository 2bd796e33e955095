"""Wall time of `detect` per stage on simulated presets of growing size.

Also times, on the same footprints and scenes, (a) a bare exactextract mean/max per scene
and (b) just reading each scene's two bands, the floor any thermal stage stands on.

    ./run python benchmarks/bench_detect.py --presets demo county [state]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench_ring import read_seconds
from exactextract import exact_extract

from pipelines.bundle.reader import read_bundle
from pipelines.process import configure_logging, configure_prefect
from pipelines.sources.simulate import simulate


def thermal_baselines(region: Path) -> dict[str, float]:
    """Seconds for a bare exactextract mean/max and for reading the bands, over all scenes."""
    bundle = read_bundle(region)
    polys = bundle.facilities[["geometry"]].reset_index(drop=True)
    t = time.perf_counter()
    for scene in bundle.scenes:
        exact_extract(str(scene.thermal_href), polys, ["mean", "max"], output="pandas",
                      strategy="raster-sequential")
    bare = time.perf_counter() - t
    return {"exactextract_mean_max": bare, "read_bands_only": read_seconds(region)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["demo", "county"])
    parser.add_argument("--seed", type=int, default=41)
    args = parser.parse_args()
    configure_logging(-1)
    configure_prefect()
    from pipelines.orchestration.flows import detect_flow
    from pipelines.settings import DetectSettings

    settings = DetectSettings().with_overrides(export=0.3, alert=0.7).model_copy(
        update={"alert_store": ""})

    rows = []
    with tempfile.TemporaryDirectory(prefix="cw-bench-") as tmp:
        for preset in args.presets:
            region, out = Path(tmp) / preset, Path(tmp) / f"{preset}-out"
            t = time.perf_counter()
            simulate(region, seed=args.seed, preset=preset)
            sim = time.perf_counter() - t
            t = time.perf_counter()
            report = detect_flow(str(region), str(out), settings)
            total = time.perf_counter() - t
            base = thermal_baselines(region)
            rows.append((preset, report["counts"]["facilities"], report["counts"]["scenes"],
                         sim, total, report["stage_seconds"], base))
    print(f"{'preset':8} {'facilities':>10} {'scenes':>6} {'simulate':>9} {'detect':>8}  "
          "stages (s)")
    for preset, n, scenes, sim, total, stages, base in rows:
        stage_text = ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
        print(f"{preset:8} {n:10d} {scenes:6d} {sim:9.1f} {total:8.1f}  {stage_text}")
        print(f"{'':8} thermal stage {stages['thermal']:.2f} s vs bare exactextract mean/max "
              f"{base['exactextract_mean_max']:.2f} s vs reading the bands "
              f"{base['read_bands_only']:.2f} s")


if __name__ == "__main__":
    main()
