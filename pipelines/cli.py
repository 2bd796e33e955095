"""The `computewatch` command line: parse, call library code, print; no tracebacks."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pipelines.errors import BundleError, ComputewatchError, UsageError
from pipelines.settings import configure_logging, configure_prefect

log = logging.getLogger("computewatch")


def cmd_simulate(args: argparse.Namespace) -> int:
    """Write a simulated region bundle plus truth.csv."""
    from pipelines.simulate import simulate
    from pipelines.simulate.presets import PRESETS

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


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their arguments."""
    parser = argparse.ArgumentParser(
        prog="computewatch", description="Find buildings hosting large AI training clusters "
        "from grid load and satellite heat.")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more detail on stderr (-vv includes Prefect's own logs)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; exit 0 ok, 1 unusable input, 2 usage error."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    configure_logging(-1 if args.quiet else args.verbose)
    configure_prefect()
    try:
        return args.func(args)
    except UsageError as exc:
        log.error("computewatch: %s", exc)
        return 2
    except (BundleError, ComputewatchError) as exc:
        log.error("computewatch: %s", exc)
        return 1
    except KeyboardInterrupt:
        log.error("computewatch: interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if args.verbose:
            raise
        log.error("computewatch: unexpected error: %s: %s (run with -v for the traceback)",
                  type(exc).__name__, exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
