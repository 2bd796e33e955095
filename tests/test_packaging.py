"""Packaging: the package list covers the tree, and a built wheel runs the demo on its own.

The wheel is built offline from a copy of the sources (setuptools from the dev extra, no build
isolation), installed without dependencies into a folder of its own, and run by the base
interpreter with that folder ahead of the environment's site-packages: the environment's
editable install is never consulted, so the run proves the wheel carries its code and data.
"""

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from helpers import DEMO

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "demo_outputs" / "candidates.geojson"


def _configured() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_of_the_tree_is_listed():
    tree = {".".join(p.parent.relative_to(ROOT).parts)
            for top in ("pipelines", "detectors") for p in (ROOT / top).rglob("__init__.py")}
    listed = set(_configured()["packages"])
    assert tree | {"computewatch_data"} == listed
    assert _configured()["package-dir"] == {"computewatch_data": "data"}


def test_requires_python_has_no_upper_cap():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"


def _site_packages() -> str:
    return next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())


@pytest.mark.slow
def test_wheel_installs_and_detects_on_the_demo(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).is_file():
            shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "demo")
    for name in ("pipelines", "detectors", "data"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(tmp_path / "dist"), str(src)], check=True)
    wheel = next((tmp_path / "dist").glob("computewatch-*.whl"))
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--target", str(target), str(wheel)], check=True)
    with zipfile.ZipFile(wheel) as z:  # the web app's pages, scripts and vendored map library
        shipped = set(z.namelist())
    for name in ("templates/index.html", "templates/login.html", "static/app.js",
                 "static/app.css", "static/vendor/leaflet/leaflet.js",
                 "static/vendor/leaflet/LICENSE", "static/vendor/leaflet/images/layers.png"):
        assert f"pipelines/ui/{name}" in shipped, name

    work = tmp_path / "work"  # an operator's folder: their flows.yaml, store and caches
    work.mkdir()
    shutil.copy(ROOT / "flows.yaml", work / "flows.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PYTHON"))}
    env.update(PYTHONPATH=f"{target}{os.pathsep}{_site_packages()}",
               PREFECT_HOME=str(work / ".prefect"), COMPUTEWATCH_CACHE_DIR="")
    run = ("import sys\nfrom importlib.metadata import entry_points\n"
           "import pipelines, computewatch_data\n"
           "print('code:', pipelines.__file__, computewatch_data.__file__, file=sys.stderr)\n"
           "main = entry_points(group='console_scripts', name='computewatch')\n"
           "sys.exit(next(iter(main)).load()(sys.argv[1:]))\n")
    out = work / "out"
    done = subprocess.run([sys._base_executable, "-c", run, "detect", str(DEMO), "--out", str(out),
                           "--config", str(work / "flows.yaml")], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"code: {target}" in done.stderr
    assert f"{target / 'computewatch_data'}" in done.stderr
    assert "Traceback" not in done.stderr
    ours = json.loads((out / "candidates.geojson").read_text())["features"]
    recorded = json.loads(GOLDEN.read_text())["features"]
    assert [f["id"] for f in ours] == [f["id"] for f in recorded]
    assert (work / ".computewatch" / "alerts.sqlite").is_file()  # the store in the workspace


def test_version_comes_from_the_installed_metadata(capsys):
    from pipelines.cli import main
    from pipelines.sources.http import USER_AGENT

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"computewatch {version}"
    assert USER_AGENT.startswith(f"computewatch/{version} ")
