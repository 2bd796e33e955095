"""Record the demo run's outputs for tests/export/test_demo_outputs.py (run from the root)."""

import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


from helpers import DEMO  # noqa: E402


def main() -> None:
    """Run detect on the demo as the demo_run fixture does (shipped settings, no store)."""
    with tempfile.TemporaryDirectory() as tmp:
        from pipelines.detect.run import run_detect
        from pipelines.settings import load_config

        out = Path(tmp) / "out"
        run_detect(str(DEMO), out, load_config().defaults.model_copy(update={"alert_store": ""}))
        for name in ("candidates.geojson", "regional.geojson", "candidates.qml"):
            shutil.copy(out / name, HERE / name)
        shutil.rmtree(HERE / "evidence", ignore_errors=True)
        for summary in out.glob("evidence/*/summary.md"):
            target = HERE / summary.relative_to(out)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(summary, target)
        charts = sorted(p.relative_to(out).as_posix() for p in out.glob("evidence/*/*.png"))
        (HERE / "charts.json").write_text(json.dumps(charts, indent=1) + "\n")


if __name__ == "__main__":
    main()
