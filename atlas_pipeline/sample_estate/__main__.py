"""Command line: ``python -m atlas_pipeline.sample_estate --out DIR [options]``.

Writes the sample estate (billing exports of three clouds and GPU telemetry) under DIR and prints
one summary line per provider.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from atlas_pipeline.sample_estate.spec import EstateSpec

_DEFAULTS = EstateSpec()


def _month(text: str) -> date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise argparse.ArgumentTypeError(f"expected a month as YYYY-MM, got {text!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected zero or a positive integer, got {text!r}")
    return value


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    """The estate's size and shape options (everything in EstateSpec the command line can set).

    `--out` is not among them: each command decides where the estate goes.
    """
    group = parser.add_argument_group("sample estate")
    group.add_argument("--seed", type=int, default=_DEFAULTS.seed, help="random seed (default %(default)s)")
    group.add_argument(
        "--start",
        type=_month,
        default=_DEFAULTS.start_month,
        metavar="YYYY-MM",
        help=f"first billing period (default {_DEFAULTS.start_month:%Y-%m})",
    )
    group.add_argument("--months", type=_positive, default=_DEFAULTS.months, help="billing periods (default %(default)s)")
    group.add_argument(
        "--line-items-per-month",
        type=_non_negative,
        default=_DEFAULTS.line_items_per_month,
        metavar="N",
        help="non-GPU billing lines per month across clouds, ~50%% AWS, 25%% GCP, 25%% Azure (default %(default)s)",
    )
    group.add_argument(
        "--telemetry-interval-seconds",
        type=_positive,
        default=_DEFAULTS.telemetry_interval_seconds,
        metavar="S",
        help="DCGM sampling interval (default %(default)s)",
    )
    group.add_argument(
        "--telemetry-days",
        type=_positive,
        default=_DEFAULTS.telemetry_days,
        metavar="N",
        help="only the last N days get DCGM samples (default: every day)",
    )


def spec_from_args(args: argparse.Namespace) -> EstateSpec:
    """The EstateSpec the parsed options describe (the GPU fleet is always the default one)."""
    return EstateSpec(
        seed=args.seed,
        start_month=args.start,
        months=args.months,
        line_items_per_month=args.line_items_per_month,
        telemetry_interval_seconds=args.telemetry_interval_seconds,
        telemetry_days=args.telemetry_days,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m atlas_pipeline.sample_estate",
        description="Generate a deterministic sample estate: AWS/GCP/Azure billing exports and GPU telemetry.",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write the estate into")
    add_cli_arguments(parser)
    args = parser.parse_args(argv)

    from atlas_pipeline.sample_estate.estate import generate_estate, summary_lines

    out_dir: Path = args.out
    summary = generate_estate(out_dir, spec_from_args(args))
    for line in summary_lines(summary, out_dir):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
