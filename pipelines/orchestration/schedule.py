"""flows.yaml deployments on Prefect: the flow a deployment runs, serving them, running one.

Each deployment runs `scheduled-detect` with two parameters, its name and the flows.yaml
path; settings are read from flows.yaml when the run starts, so a changed threshold applies
at the next run (a changed schedule needs `computewatch serve` to be restarted).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path

from prefect import flow

from pipelines.orchestration.flows import detect_flow
from pipelines.orchestration.runners import build_runner
from pipelines.settings import (
    DetectSettings,
    FetchSpec,
    FlowsConfig,
    SourceSettings,
    load_config,
    resolve_store,
)

log = logging.getLogger("computewatch")
FLOW_NAME = "scheduled-detect"


def resolve_path(value: str, base: Path) -> str:
    """A path from flows.yaml, taken from flows.yaml's folder when relative."""
    path = Path(value)
    return str(path if path.is_absolute() else (base / path).resolve())


def detect_parameters(region: str, output: str, settings: DetectSettings, base: Path) -> dict:
    """detect_flow's parameters for one deployment (the store URL without its password)."""
    return {"region": resolve_path(region, base), "out": resolve_path(output, base),
            "settings": settings.for_prefect(resolve_store(settings.alert_store, base))}


def _forward_logs_to_prefect() -> None:
    """In a served run, computewatch's INFO lines also go to the run's log in the Prefect UI."""
    from prefect.logging.handlers import APILogHandler

    logger = logging.getLogger("computewatch")
    if not any(isinstance(h, APILogHandler) for h in logger.handlers):
        handler = APILogHandler()
        handler.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.setLevel(min(logger.level or logging.INFO, logging.INFO))


@flow(name=FLOW_NAME, log_prints=False, validate_parameters=True)
def deployment_flow(deployment: str, config: str) -> dict:
    """Run one deployment of flows.yaml with its settings and task runner."""
    _forward_logs_to_prefect()
    path = Path(config)
    cfg = load_config(path)
    dep = cfg.deployment(deployment)
    settings = cfg.settings_for(dep)
    region = dep.region
    if isinstance(region, FetchSpec):
        region = fetch_region(region, cfg.sources, path.parent)
    params = detect_parameters(region, dep.output, settings, path.parent)
    log.info("deployment %s: %s -> %s (task runner %s)", dep.name, params["region"],
             params["out"], settings.task_runner.kind)
    runner = build_runner(settings.task_runner)
    return detect_flow.with_options(task_runner=runner)(**params)


def fetch_region(spec: FetchSpec, sources: SourceSettings, base: Path) -> str:
    """Bring a deployment's fetched bundle up to date: the last `days` days to today."""
    from pipelines.orchestration.fetch import FetchRequest, fetch_flow

    end = date.today()
    start = end - timedelta(days=spec.days)
    bundle = resolve_path(spec.bundle, base)
    fetch_flow(FetchRequest(spec.name, spec.bbox, str(start), str(end), bundle,
                            satellite=spec.satellite, osm=spec.osm,
                            eia=[*spec.eia_respondents, *spec.eia_subregions]), sources)
    return bundle


def region_label(region: str | FetchSpec) -> str:
    """How a deployment's region reads in listings."""
    if isinstance(region, FetchSpec):
        return f"fetch {region.name} ({region.days} d) -> {region.bundle}"
    return region


def runner_deployments(cfg: FlowsConfig, config: Path) -> list:
    """One Prefect RunnerDeployment per flows.yaml entry, with its cron schedule."""
    from prefect.schedules import Cron

    out = []
    for dep in cfg.deployments:
        schedules = [Cron(dep.schedule.cron, timezone=dep.schedule.timezone)] \
            if dep.schedule else None
        out.append(deployment_flow.to_deployment(
            name=dep.name, schedules=schedules,
            parameters={"deployment": dep.name, "config": str(config.resolve())},
            description=f"computewatch detect on {region_label(dep.region)} -> {dep.output}",
            tags=["computewatch"]))
    return out


def serve_deployments(config: Path) -> None:
    """Serve every deployment until interrupted (Ctrl-C or SIGTERM); schedules then pause."""
    from prefect import serve

    cfg = load_config(config)
    if not cfg.deployments:
        log.warning("%s declares no deployments: nothing to serve", config)
        return
    deployments = runner_deployments(cfg, config)
    for dep in cfg.deployments:
        when = dep.schedule.next_runs(1)[0].isoformat() if dep.schedule else "on demand only"
        log.info("serving %s/%s: next run %s", FLOW_NAME, dep.name, when)
    serve(*deployments, print_starting_message=False)
    log.info("stopped serving")


def trigger(name: str, config: Path, timeout_s: float | None = None) -> dict:
    """Run a deployment now on the served server and wait; returns its id, state, message."""
    from prefect.deployments import run_deployment

    load_config(config).deployment(name)
    run = run_deployment(f"{FLOW_NAME}/{name}", timeout=timeout_s)
    return {"flow_run_id": str(run.id), "state": run.state.name if run.state else "unknown",
            "message": run.state.message if run.state else None}


def deployment_rows(cfg: FlowsConfig, now: datetime | None = None) -> list[dict]:
    """Each deployment with its region, output, schedule and next run time."""
    rows = []
    for dep in cfg.deployments:
        settings = cfg.settings_for(dep)
        rows.append({"name": dep.name, "flow": dep.flow, "region": region_label(dep.region),
                     "output": dep.output,
                     "schedule": f"{dep.schedule.cron} ({dep.schedule.timezone})"
                     if dep.schedule else "none",
                     "next_run": dep.schedule.next_runs(1)[0].isoformat()
                     if dep.schedule else "on demand",
                     "task_runner": settings.task_runner.kind})
    return rows
