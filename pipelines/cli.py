"""The `computewatch` command line: parse, call library code, print; no tracebacks."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pipelines.errors import BundleError, ComputewatchError, UsageError
from pipelines.process import configure_logging, configure_prefect
from pipelines.redact import redact
from pipelines.resources import package_version

log = logging.getLogger("computewatch")


def cmd_simulate(args: argparse.Namespace) -> int:
    """Write a simulated region bundle plus truth.csv."""
    from pipelines.sources.simulate import simulate
    from pipelines.sources.simulate.presets import PRESETS

    if args.preset not in PRESETS:
        raise UsageError(f"unknown preset {args.preset!r}; choose one of {sorted(PRESETS)}")
    truth = simulate(args.out, seed=args.seed, preset=args.preset)
    sites = truth.groupby("site_id")["true_class"].first().value_counts().to_dict()
    log.info("simulated %s (preset %s, seed %d): %d facilities; sites by class %s",
             args.out, args.preset, args.seed, len(truth), sites)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a bundle and print its report; exit 1 when it is unusable."""
    from pipelines.bundle.validate import format_report, validate

    outcome = validate(args.region, assume_utc=args.assume_utc)
    sys.stdout.write(format_report(outcome))
    return 0 if outcome.usable else 1


def _store_url(args: argparse.Namespace, configured: str) -> str:
    """--store, else flows.yaml's alert_store with a relative SQLite path from its folder."""
    from pipelines.settings import DEFAULT_CONFIG, resolve_store

    return args.store or resolve_store(configured, (args.config or DEFAULT_CONFIG).parent)


def cmd_detect(args: argparse.Namespace) -> int:
    """Run detect on a region (directly, or as a Prefect flow when a server is in play)."""
    from pipelines.orchestration.launch import detect
    from pipelines.orchestration.preflight import check_detect
    from pipelines.settings import load_config

    cfg = load_config(args.config, schedules=False).defaults.with_overrides(
        export=args.export_threshold, alert=args.alert_threshold,
        hardware_year=args.hardware_year)
    store = None if args.no_store else _store_url(args, cfg.alert_store)
    # Before any work: region.yaml and grid size, --out, the store, the model.
    check_detect(args.region, args.out, store, cfg.limits.limits())
    runner = cfg.task_runner
    if args.task_runner or args.dask_address:
        runner = runner.model_copy(update={"kind": "dask" if args.dask_address else
                                           args.task_runner, "address": args.dask_address})
    settings = cfg.model_copy(update={"alert_store": store or "", "task_runner": runner})
    report = detect(str(args.region), args.out, settings, assume_utc=args.assume_utc,
                    progress=sys.stderr.isatty() and not args.quiet)
    counts = report["counts"]
    sys.stdout.write(f"{counts['candidates']} candidates, {counts['alerts']} alerts: "
                     f"{report['outputs']['geojson']}\n")
    if report["skipped"]:
        log.warning("skipped or repaired: %s (details in %s)", report["skipped"],
                    report["outputs"]["report"])
    return 0


def _config_path(args: argparse.Namespace) -> Path:
    from pipelines.settings import DEFAULT_CONFIG

    return (args.config or DEFAULT_CONFIG).resolve()


def cmd_deployments(args: argparse.Namespace) -> int:
    """List flows.yaml's deployments with their schedules and next run times."""
    from pipelines.orchestration.schedule import deployment_rows
    from pipelines.settings import load_config

    rows = deployment_rows(load_config(_config_path(args)))
    cols = ("name", "region", "output", "schedule", "next_run", "task_runner")
    widths = {c: max([len(c)] + [len(str(r[c])) for r in rows]) for c in cols}
    sys.stdout.write("  ".join(c.ljust(widths[c]) for c in cols).rstrip() + "\n")
    for r in rows:
        sys.stdout.write("  ".join(str(r[c]).ljust(widths[c]) for c in cols).rstrip() + "\n")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve every deployment on its schedule until Ctrl-C or SIGTERM."""
    from pipelines.orchestration.server import prefect_api, serve_lock, stop_serving

    if args.stop:
        sys.stdout.write(stop_serving() + "\n")
        return 0
    from pipelines.settings import load_config

    config = _config_path(args)
    load_config(config)
    with serve_lock(), prefect_api(start=True, port=args.port):
        from pipelines.orchestration.schedule import serve_deployments

        serve_deployments(config)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run one deployment now: on the served server if one is up, else in this process."""
    from pipelines.orchestration.server import running_api_url, use_api
    from pipelines.settings import load_config

    config = _config_path(args)
    dep = load_config(config).deployment(args.deployment)
    url = None if args.here else running_api_url()
    if url is not None:
        from pipelines.orchestration.schedule import trigger

        with use_api(url):
            log.info("triggering %s on %s; waiting for the served run", dep.name, url)
            result = trigger(dep.name, config, args.timeout)
        sys.stdout.write(f"{dep.name}: {result['state']} (flow run {result['flow_run_id']})\n")
        if result["state"] in ("Scheduled", "Pending", "Running"):
            raise ComputewatchError(f"deployment {dep.name} is still {result['state']} after "
                                    f"{args.timeout:.0f} s: follow it in the Prefect UI at "
                                    f"{url.removesuffix('/api')}")
        if result["state"] != "Completed":
            raise ComputewatchError(f"deployment {dep.name} ended {result['state']}: "
                                    f"{result['message']}")
        return 0
    from pipelines.orchestration.schedule import deployment_flow

    report = deployment_flow(dep.name, str(config))
    counts = report["counts"]
    sys.stdout.write(f"{dep.name}: {counts['candidates']} candidates, {counts['alerts']} "
                     f"alerts: {report['outputs']['geojson']}\n")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    """Write a region bundle from real sources (STAC, Overpass, EIA, meter files)."""
    import datetime as dt

    from pipelines.settings import load_config

    settings = load_config(_config_path(args)).sources
    try:
        start, end = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    except ValueError as exc:
        raise UsageError(f"--start and --end must be ISO dates (YYYY-MM-DD): {exc}") from None
    if end <= start:
        raise UsageError(f"--end {end} must be after --start {start}")
    from pipelines.bundle.region import is_lonlat_box

    if not is_lonlat_box(tuple(args.bbox)):
        raise UsageError(f"--bbox {args.bbox} must be MIN_LON MIN_LAT MAX_LON MAX_LAT")
    from pipelines.orchestration.fetch import FetchRequest, fetch_flow

    req = FetchRequest(args.name or args.out.name, tuple(args.bbox), str(start), str(end),
                       str(args.out), satellite=not args.no_satellite, osm=not args.no_osm,
                       eia=args.eia, eia930=[str(p) for p in args.eia930],
                       meters=str(args.meters) if args.meters else None,
                       meter_nodes=str(args.meter_nodes) if args.meter_nodes else None,
                       gridstatus=args.gridstatus, assume_utc=args.assume_utc)
    report = fetch_flow(req, settings)
    scenes = report["scenes"]
    sys.stdout.write(f"{args.out}: {report['facilities'].get('written', 0)} buildings, "
                     f"{scenes.get('fetched', 0) + scenes.get('already_there', 0)} scenes, "
                     f"{report['grid']['nodes']} grid nodes; check it with "
                     f"`computewatch validate {args.out}`\n")
    for failure in report["failed"]:
        log.warning("left out: %s %s (%s)", failure["source"], failure["id"], failure["error"])
    return 0


def cmd_regional(args: argparse.Namespace) -> int:
    """Firm-load growth of a bundle's balancing areas: a ranked table and GeoJSON."""
    from pipelines.detect.areas import regional_run
    from pipelines.settings import load_config

    settings = load_config(_config_path(args), schedules=False).defaults.regional
    if args.base_year is not None:
        settings = settings.model_copy(update={"base_year": args.base_year})
    table, path = regional_run(args.region, args.out, settings.params(), args.temperature,
                               args.assume_utc)
    cols = ["rank", "node_id", "regional_score", "growth_mw_per_year", "growth_pct_per_year",
            "base_year", "summer_curtailment_days", "regional_alert"]
    sys.stdout.write(table[cols].to_string(index=False) + "\n")
    for _, row in table.iterrows():
        flags = f" [{'; '.join(row['quality_flags'])}]" if row["quality_flags"] else ""
        sys.stdout.write(f"{row['node_id']}: {row['interpretation']}{flags}\n")
    log.info("regional alerts written to %s", path)
    return 0


ESTIMATE_ROWS = (("IT power capacity", "est_it_mw_capacity", "MW", 1),
                 ("H100-equivalents (Epoch AI convention)", "est_h100_equivalents", "", 0),
                 ("H100-equivalents at the hardware year", "est_h100_equivalents_at_hardware_year",
                  "", 0),
                 ("dense BF16 compute", "est_dense_bf16_pflops", "PFLOP/s", 0),
                 ("days to 1e25 FLOP", "days_to_1e25_flop", "days", 1))


def cmd_estimate(args: argparse.Namespace) -> int:
    """What compute a power figure can run: H100e, PFLOP/s, days to 1e25 FLOP, intervals."""
    import json

    from detectors.compute import estimate
    from pipelines.reference import compute_assumptions

    if not (0 < args.mw < 1e6):
        raise UsageError(f"--mw {args.mw} must be a power in MW between 0 and 1,000,000")
    if not (2000 <= args.year <= 2040):
        raise UsageError(f"--year {args.year} must lie between 2000 and 2040")
    a = compute_assumptions(args.year)
    result = estimate(args.mw, args.basis, a, drawn=args.drawn)
    result.update({"mw": args.mw, "basis": args.basis, "drawn": args.drawn,
                   "hardware_year": args.year, "pue": a.pue.value, "mfu": a.mfu.value})
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return 0
    what = "measured mean draw" if args.drawn else "capacity"
    sys.stdout.write(f"{args.mw:,.1f} MW of {args.basis} power ({what}), hardware year "
                     f"{args.year}; 80% intervals over PUE, server overhead, sustained draw, "
                     "hardware generation and MFU:\n")
    for label, key, unit, digits in ESTIMATE_ROWS:
        v, lo, hi = result[key], result.get(f"{key}_low"), result.get(f"{key}_high")
        sys.stdout.write(f"  {label:40} {v:>14,.{digits}f} {unit:8}"
                         f"({lo:,.{digits}f} to {hi:,.{digits}f})\n")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Compare candidates with truth.csv; print a table, write JSON."""
    import json

    from pipelines.model.evaluate import evaluate, format_evaluation, read_candidates, read_truth

    result = evaluate(read_candidates(args.candidates), read_truth(args.truth))
    sys.stdout.write(format_evaluation(result))
    out = args.json or args.candidates.with_name("evaluation.json")
    out.write_text(json.dumps(result, indent=2))
    log.info("evaluation written to %s", out)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Rebuild the shipped model, evaluate it on held-out regions, write its card."""
    from pipelines.model.card import train_and_card
    from pipelines.settings import load_config

    sys.stdout.write(train_and_card(
        load_config(args.config, schedules=False).defaults, args.regions,
        args.calibration_regions, args.jobs, args.seed, args.version, args.labels,
        args.calibration_preset, args.eval_preset, args.eval_regions))
    return 0


def cmd_generalise(args: argparse.Namespace) -> int:
    """The generalisation protocol: leave-one-factor-out splits and the stress preset."""
    from pipelines.model.generalise import generalise
    from pipelines.settings import load_config

    command = "computewatch generalise " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 \
        else "computewatch generalise"
    sys.stdout.write(generalise(
        load_config(args.config, schedules=False).defaults, args.splits, args.regions,
        args.calibration_regions, args.eval_regions, args.county_regions, args.stress_regions,
        args.jobs, command, args.out, args.card, args.model_seed))
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    """The persistent alert queue: list, show, set a status, export."""
    import json

    from pipelines.alerts import store as st
    from pipelines.export.geojson import write_geojson
    from pipelines.settings import load_config

    engine = st.open_store(_store_url(args, load_config(args.config).defaults.alert_store))
    if args.action == "list":
        rows = st.list_alerts(engine, args.status, args.min_score)
        sys.stdout.write(f"{'facility_id':14} {'score':>6} {'IT MW':>8} {'class':18} "
                         f"{'state':10} {'status':13} last_seen\n")
        for r in rows:
            mw = "" if r["est_it_mw"] is None else f"{r['est_it_mw']:.0f}"
            sys.stdout.write(f"{r['facility_id']:14} {r['score'] or 0:6.3f} {mw:>8} "
                             f"{r['predicted_class'] or '':18} {r['alert_state']:10} "
                             f"{r['status']:13} {r['last_seen']}\n")
    elif args.action == "show":
        detail = st.alert_detail(engine, args.id, args.region)
        detail["feature"] = json.loads(detail["feature"])
        sys.stdout.write(json.dumps(detail, indent=2) + "\n")
    elif args.action == "set":
        st.set_status(engine, args.id, args.status_value, args.note, args.by, args.region,
                      args.true_class)
        log.info("%s is now %s", args.id, args.status_value)
    elif args.action == "labels":
        import pandas as pd

        from pipelines.orchestration.preflight import check_output_file

        check_output_file(args.out)
        rows = st.labelled_examples(engine)
        pd.DataFrame(rows).to_csv(args.out, index=False)
        log.info("%d labelled examples written to %s (train with --labels)", len(rows),
                 args.out)
    else:
        from pipelines.orchestration.preflight import check_output_file

        write_geojson(st.queue_collection(engine), check_output_file(args.out))
        log.info("alert queue written to %s", args.out)
    return 0


def _store_options(command: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """--store on a command and, through the parent returned, after any of its actions.

    The actions' copy defaults to SUPPRESS, so a --store given before the action is kept.
    """
    command.add_argument("--store", default=None, help="alert store URL (default: flows.yaml)")
    after = argparse.ArgumentParser(add_help=False)
    after.add_argument("--store", default=argparse.SUPPRESS, help="alert store URL")
    return after


def _alerts_parser(sub: argparse._SubParsersAction, config: argparse.ArgumentParser) -> None:
    p = sub.add_parser("alerts", parents=[config],
                       help="the persistent alert queue and people's decisions")
    store = _store_options(p)
    acts = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = acts.add_parser("list", parents=[store], help="alerts, best first")
    a.add_argument("--status", default=None, help="only this status")
    a.add_argument("--min-score", type=float, default=None)
    a = acts.add_parser("show", parents=[store], help="one alert with its history and decisions")
    a.add_argument("id", help="facility_id")
    a.add_argument("--region", default=None, help="region name, if the id is in several")
    a = acts.add_parser("set", parents=[store], help="record a decision: new, investigating, "
                        "confirmed, dismissed or declared")
    a.add_argument("id", help="facility_id")
    a.add_argument("status_value", metavar="STATUS")
    a.add_argument("--note", required=True, help="why")
    a.add_argument("--by", required=True, help="who decided")
    a.add_argument("--region", default=None, help="region name, if the id is in several")
    a.add_argument("--true-class", default=None,
                   help="what the site turned out to be; makes the decision a training label")
    a = acts.add_parser("labels", parents=[store],
                        help="decisions with a class, as training examples (CSV)")
    a.add_argument("out", type=Path, help="output .csv for `computewatch train --labels`")
    a = acts.add_parser("export", parents=[store], help="the queue with its statuses as GeoJSON")
    a.add_argument("out", type=Path, help="output .geojson")
    p.set_defaults(func=cmd_alerts)


def cmd_ui(args: argparse.Namespace) -> int:
    """Serve the triage web app over the alert store."""
    from pipelines.alerts.store import open_store
    from pipelines.settings import DEFAULT_CONFIG, load_config
    from pipelines.ui.serve import serve

    cfg = load_config(args.config, schedules=False)
    engine = open_store(_store_url(args, cfg.defaults.alert_store))
    serve(engine, cfg.ui, (args.config or DEFAULT_CONFIG).resolve().parent,
          args.host or cfg.ui.host, args.port or cfg.ui.port, args.forwarded_allow_ips,
          access_log=args.verbose > 0)
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    """People of the triage app: add, list, change role, disable, reset a password."""
    from pipelines.alerts import accounts
    from pipelines.alerts.store import open_store
    from pipelines.settings import load_config
    from pipelines.ui.serve import read_password

    engine = open_store(_store_url(args, load_config(args.config,
                                                     schedules=False).defaults.alert_store))
    if args.action == "list":
        for u in accounts.list_users(engine):
            sys.stdout.write(f"{u['name']:24} {u['role']:8} "
                             f"{'disabled' if u['disabled'] else 'active':8} "
                             f"{u['created_at']}\n")
    elif args.action == "add":
        accounts.add_user(engine, args.name, read_password(), args.role)
        log.info("user %s added as %s", args.name, args.role)
    else:
        disabled = {"disable": True, "enable": False}.get(args.state or "")
        accounts.update_user(engine, args.name, "cli", args.role, disabled,
                             read_password() if args.password else None)
        log.info("user %s updated (their sessions are closed)", args.name)
    return 0


def _ui_parsers(sub: argparse._SubParsersAction, config: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ui", parents=[config],
                       help="serve the triage web app (README: Triage in the browser)")
    p.add_argument("--store", default=None, help="alert store URL (default: flows.yaml)")
    p.add_argument("--host", default=None, help="address to listen on (default: flows.yaml "
                   "ui.host, 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="default: flows.yaml ui.port, 8080")
    p.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                   help="proxies whose X-Forwarded-For/-Proto are trusted (default 127.0.0.1)")
    p.set_defaults(func=cmd_ui)
    p = sub.add_parser("users", help="people of the triage web app")
    store = _store_options(p)
    acts = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    acts.add_parser("list", parents=[config, store], help="users with their roles")
    a = acts.add_parser("add", parents=[config, store], help="add a user; the password is "
                        "prompted for (twice) or read from the first line of stdin")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=["viewer", "analyst", "admin"],
                   help="viewers read, analysts decide, admins also manage users")
    a = acts.add_parser("set", parents=[config, store], help="change a user's role, password "
                        "or whether they may sign in (their open sessions end)")
    a.add_argument("name")
    a.add_argument("--role", default=None, choices=["viewer", "analyst", "admin"])
    a.add_argument("--password", action="store_true", help="set a new password (prompted)")
    a.add_argument("--state", choices=["disable", "enable"], default=None)
    p.set_defaults(func=cmd_users)


# Twelve county regions, not six: the alert threshold is the lowest reaching 92% precision on
# them, and on six it moved from 0.5 to 0.82 between variants and seeds (docs/evaluation.md).
CAL_HELP = "calibration regions (they set probabilities and the alert threshold)"


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their arguments."""
    parser = argparse.ArgumentParser(
        prog="computewatch", description="Find buildings hosting large AI training clusters "
        "from grid load and satellite heat.")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more detail on stderr (-vv includes Prefect's own logs)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument("--version", action="version",
                        version=f"computewatch {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # flows.yaml, for every command that reads settings (declared once)
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", type=Path, default=None,
                        help="flows.yaml (default: the working folder's)")

    p = sub.add_parser("simulate", help="write a simulated region bundle plus truth.csv")
    p.add_argument("--out", type=Path, required=True, help="folder to write the bundle to")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bundle)")
    p.add_argument("--preset", default="demo", help="demo | county | state | train")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("validate", help="check a region bundle and print a report")
    p.add_argument("region", type=Path, help="region bundle folder")
    p.add_argument("--assume-utc", action="store_true",
                   help="take timestamps without an offset as UTC instead of failing")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("detect", parents=[config],
                       help="detect AI clusters in a region; write candidates and a report")
    p.add_argument("region", type=Path, help="region bundle folder")
    p.add_argument("--out", type=Path, default=Path("out"), help="output folder (default out)")
    p.add_argument("--export-threshold", type=float, default=None)
    p.add_argument("--alert-threshold", type=float, default=None)
    p.add_argument("--hardware-year", type=int, default=None,
                   help="accelerator generation for the compute estimate (default: flows.yaml, "
                   "else the period's last year)")
    p.add_argument("--assume-utc", action="store_true",
                   help="take timestamps without an offset as UTC instead of failing")
    p.add_argument("--store", default=None,
                   help="alert store URL (default: flows.yaml; sqlite:///... or postgresql://...)")
    p.add_argument("--no-store", action="store_true",
                   help="do not record this run in the alert queue (every alert is new)")
    p.add_argument("--task-runner", choices=("threads", "dask"), default=None,
                   help="where tasks run (default: flows.yaml; dask starts a local cluster)")
    p.add_argument("--dask-address", default=None,
                   help="tcp://host:8786 of a running Dask scheduler (implies dask)")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("evaluate", help="recall, precision and MW error against truth.csv")
    p.add_argument("candidates", type=Path, help="candidates.geojson")
    p.add_argument("truth", type=Path, help="truth.csv")
    p.add_argument("--json", type=Path, default=None,
                   help="where to write the JSON (default: evaluation.json beside candidates)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("estimate", help="compute a power figure can run: H100-equivalents, "
                       "PFLOP/s, days to 1e25 FLOP, with intervals")
    p.add_argument("--mw", type=float, required=True, help="power in MW")
    p.add_argument("--year", type=int, default=2025,
                   help="hardware year of the accelerators (default 2025)")
    p.add_argument("--basis", choices=("facility", "it"), default="facility",
                   help="facility: power at the meter, PUE included (as Epoch AI reports); "
                   "it: IT power")
    p.add_argument("--drawn", action="store_true",
                   help="the figure is a measured mean draw (like est_it_mw), not a capacity")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_estimate)

    p = sub.add_parser("train", parents=[config],
                       help="rebuild the shipped model from simulated regions")
    p.add_argument("--regions", type=int, default=64, help="training regions")
    p.add_argument("--calibration-regions", type=int, default=12, help=CAL_HELP)
    p.add_argument("--calibration-preset", default="county",
                   help="size of calibration regions (their base rate sets the threshold)")
    p.add_argument("--eval-regions", type=int, default=3, help="held-out county regions")
    p.add_argument("--eval-preset", default="county")
    p.add_argument("--jobs", type=int, default=2, help="parallel simulation processes")
    p.add_argument("--seed", type=int, default=0, help="model random seed")
    p.add_argument("--version", default="cw-0.18.0",
                   help="model version written into the model and its card")
    p.add_argument("--labels", type=Path, default=None,
                   help="CSV of analyst-labelled examples (features plus true_class)")
    p.set_defaults(func=cmd_train)
    _alerts_parser(sub, config)
    _ui_parsers(sub, config)

    from pipelines.model.generalise import SPLITS

    p = sub.add_parser("generalise", parents=[config],
                       help="leave-one-factor-out splits and the stress preset: "
                       "how detection holds outside its training ranges")
    p.add_argument("--splits", nargs="*", default=sorted(SPLITS), metavar="FACTOR",
                   help=f"factors to split on (default all: {', '.join(sorted(SPLITS))}; "
                   "'none' for only the stress preset)")
    p.add_argument("--regions", type=int, default=64,
                   help="training regions per split (as many as the shipped model's)")
    p.add_argument("--calibration-regions", type=int, default=12, help=CAL_HELP)
    p.add_argument("--eval-regions", type=int, default=6, help="judging regions per split")
    p.add_argument("--county-regions", type=int, default=6,
                   help="fresh county regions for the shipped model (0: none)")
    p.add_argument("--stress-regions", type=int, default=6,
                   help="stress-preset regions for the shipped model (0: none)")
    p.add_argument("--model-seed", type=int, default=0,
                   help="seed of the split models' own randomness (default 0, as the card's); "
                   "judge a change at fresh seeds")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", type=Path, default=None, help="also write the Markdown table here")
    p.add_argument("--card", action="store_true",
                   help="also put the table in the shipped model's card")
    p.set_defaults(func=cmd_generalise)

    p = sub.add_parser("fetch", parents=[config],
                       help="build a region bundle from real sources: Landsat (STAC),"
                       " OpenStreetMap (Overpass), EIA grid data, meter files")
    p.add_argument("--bbox", type=float, nargs=4, required=True,
                   metavar=("MIN_LON", "MIN_LAT", "MAX_LON", "MAX_LAT"))
    p.add_argument("--start", required=True, help="first day (YYYY-MM-DD)")
    p.add_argument("--end", required=True, help="day after the last (YYYY-MM-DD)")
    p.add_argument("--out", type=Path, required=True, help="bundle folder (updated in place)")
    p.add_argument("--name", default=None, help="region name (default: the folder's name)")
    p.add_argument("--eia", nargs="*", default=[], metavar="CODE",
                   help="EIA respondents (ERCO) or sub-BAs (PJM-DOM) via the API v2 "
                   "(key in EIA_API_KEY)")
    p.add_argument("--eia930", nargs="*", type=Path, default=[], metavar="CSV",
                   help="EIA-930 bulk, cleaned or uncleaned CSV files to import")
    p.add_argument("--assume-utc", action="store_true",
                   help="read timestamps without a UTC offset (the cleaned EIA-930 series) "
                   "as UTC")
    p.add_argument("--meters", type=Path, default=None,
                   help="node load file (CSV/Parquet: node_id, timestamp, mw)")
    p.add_argument("--meter-nodes", type=Path, default=None,
                   help="node locations (CSV: node_id, kind, lon, lat; or GeoJSON)")
    p.add_argument("--gridstatus", nargs="*", default=[], metavar="ISO",
                   help="ISO system load through gridstatus (optional extra)")
    p.add_argument("--no-satellite", action="store_true", help="skip the STAC scenes")
    p.add_argument("--no-osm", action="store_true", help="skip Overpass (keep facilities)")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("regional", parents=[config],
                       help="flat-baseload growth of a bundle's balancing areas")
    p.add_argument("region", type=Path, help="region bundle folder")
    p.add_argument("--out", type=Path, default=Path("out"), help="folder for regional.geojson")
    p.add_argument("--temperature", type=Path, default=None,
                   help="hourly temperature per area (CSV: node_id, timestamp, temp_c): "
                   "normalises the baseload for weather")
    p.add_argument("--base-year", type=int, default=None,
                   help="calendar year growth is measured from (default: flows.yaml "
                   "regional.base_year, else the first full year after the 2020 pandemic dip)")
    p.add_argument("--assume-utc", action="store_true")
    p.set_defaults(func=cmd_regional)

    p = sub.add_parser("deployments", parents=[config],
                       help="list flows.yaml's deployments and next run times")
    p.set_defaults(func=cmd_deployments)

    p = sub.add_parser("serve", parents=[config],
                       help="serve flows.yaml's deployments on their schedules "
                       "(starts a local Prefect server unless PREFECT_API_URL is set)")
    p.add_argument("--port", type=int, default=None,
                   help="port of the local Prefect server (default: a free one)")
    p.add_argument("--stop", action="store_true",
                   help="stop this project's serve and its Prefect server, then exit")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("run", parents=[config],
                       help="run one deployment now (on the served server if it is up)")
    p.add_argument("deployment", help="deployment name in flows.yaml")
    p.add_argument("--here", action="store_true",
                   help="run in this process even if a served server is up")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds to wait for a served run (default: until it ends)")
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; exit 0 ok, 1 unusable input, 2 usage error."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    verbosity = -1 if args.quiet else args.verbose
    configure_logging(verbosity)
    configure_prefect(verbosity=verbosity)
    try:
        return args.func(args)
    except UsageError as exc:
        log.error("computewatch: %s", redact(str(exc)))
        return 2
    except (BundleError, ComputewatchError) as exc:
        log.error("computewatch: %s", redact(str(exc)))
        return 1
    except KeyboardInterrupt:
        log.error("computewatch: interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if args.verbose:
            raise
        log.error("computewatch: unexpected error: %s: %s (run with -v for the traceback)",
                  type(exc).__name__, redact(str(exc)))
        return 1


if __name__ == "__main__":
    sys.exit(main())
