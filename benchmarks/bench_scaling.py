"""How a detect run scales with buildings and scenes: time per stage, peak memory, ratios.

From one region bundle (the state preset: `computewatch simulate --preset state --seed 5`)
it makes bundles with 25, 50 and 100% of its buildings (every 4th, every 2nd, all) and 10 or
20 of its scenes, runs `computewatch detect` on each as a user does (a new process, no
Prefect server, fresh cache, no store), then again with no new data, and writes the table
into docs/evaluation.md between its scaling markers:

    ./run python benchmarks/bench_scaling.py /tmp/state --write docs/evaluation.md
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_ring import read_seconds

START, END = "<!-- scaling:start -->", "<!-- scaling:end -->"


def _link(src: Path, dst: Path) -> None:
    """A hard link where the file system allows (a bundle must hold real files), else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def subset(region: Path, dst: Path, every: int, scenes: int) -> Path:
    """The bundle with every `every`th building and its first `scenes` scenes."""
    shutil.copytree(region, dst, ignore=shutil.ignore_patterns("imagery", "facilities.geojson"),
                    copy_function=_link)
    facilities = json.loads((region / "facilities.geojson").read_text())
    facilities["features"] = facilities["features"][::every]
    (dst / "facilities.geojson").write_text(json.dumps(facilities))
    (dst / "imagery").mkdir()
    for item in sorted((region / "imagery").glob("*.json"))[:scenes]:
        for part in region.joinpath("imagery").glob(item.stem + "*"):
            _link(part, dst / "imagery" / part.name)
    return dst


def detect(region: Path, out: Path, cache: Path) -> tuple[float, float, dict]:
    """Wall seconds, peak resident MB and the run report of one detect process."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["COMPUTEWATCH_CACHE_DIR"] = str(cache)
    t = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "-q", "detect",
                              str(region), "--out", str(out), "--no-store"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"detect on {region} failed")
    return wall, usage.ru_maxrss / 1024, json.loads((out / "run_report.json").read_text())


def table(region: Path, tmp: Path) -> str:
    rows = ["| buildings | scenes | first run | stages (s) | stages sum | peak MB | "
            "thermal / read | re-run | re-run / first |", "|---|---|---|---|---|---|---|---|---|"]
    for every, share in ((4, "25%"), (2, "50%"), (1, "100%")):
        for scenes in (10, 20):
            name = f"{share[:-1]}-{scenes}"
            bundle = subset(region, tmp / name, every, scenes)
            wall, peak, report = detect(bundle, tmp / f"{name}-out", tmp / f"{name}-cache")
            again, _, _ = detect(bundle, tmp / f"{name}-out", tmp / f"{name}-cache")
            stages = report["stage_seconds"]
            shown = ", ".join(f"{k} {v:.1f}" for k, v in stages.items() if v >= 0.05)
            thermal = stages.get("thermal", 0.0) / read_seconds(bundle)
            rows.append(f"| {report['counts']['facilities']:,} ({share}) | {scenes} | "
                        f"{wall:.1f} s | {shown} | {sum(stages.values()):.1f} s | {peak:,.0f} | "
                        f"{thermal:.1f}x | {again:.1f} s | {again / wall:.0%} |")
            print(rows[-1], flush=True)
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("region", type=Path, help="a large bundle (the state preset)")
    parser.add_argument("--write", type=Path, default=None,
                        help="a Markdown file whose scaling markers receive the table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cw-bench-scaling-") as tmp:
        text = table(args.region.resolve(), Path(tmp))
    if args.write:
        doc = args.write.read_text()
        if START not in doc or END not in doc:
            raise SystemExit(f"{args.write}: no {START} ... {END} markers")
        head, rest = doc.split(START, 1)
        args.write.write_text(f"{head}{START}\n{text}\n{END}{rest.split(END, 1)[1]}")


if __name__ == "__main__":
    main()
