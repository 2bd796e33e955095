"""Record the demo run's outputs for tests/export/test_demo_outputs.py (run from the root)."""

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from pipelines.process import configure_prefect  # noqa: E402

from helpers import DEMO  # noqa: E402


def main() -> None:
    """Run the detect flow on the demo as the demo_run fixture does; keep its outputs."""
    with tempfile.TemporaryDirectory() as tmp:
        configure_prefect(home=Path(tmp) / "prefect")
        os.environ.pop("PREFECT_API_URL", None)
        from prefect.testing.utilities import prefect_test_harness

        from pipelines.orchestration.flows import detect_flow
        from pipelines.settings import load_config

        thresholds = load_config().defaults.thresholds
        out = Path(tmp) / "out"
        with prefect_test_harness(server_startup_timeout=180):
            detect_flow(str(DEMO), str(out), export_threshold=thresholds.export,
                        alert_threshold=thresholds.alert)
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
