"""The test command also holds the code to its standards: ruff, and mypy strict where set."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_ruff_is_clean():
    done = _tool("ruff", "check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean_on_detectors_and_the_bundle_reader(tmp_path):
    done = _tool("mypy", "--cache-dir", str(tmp_path / "mypy"))  # files and strictness: pyproject
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout
