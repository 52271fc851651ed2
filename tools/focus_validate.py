"""Run the FinOps Foundation's focus-validator over Atlas's FOCUS table, as a report.

The validator needs Python >= 3.12 (Atlas runs on 3.11), so it runs in its own throw-away
environment made by uv (`uv run --no-project --python 3.12 --with focus-validator ...`, pinned
`pyarrow<20`), with `--block-download`: it validates against the FOCUS 1.2 rule model bundled in
the package, never fetching rules from the network. Steps:

1. export `main.focus_cost_and_usage` from the warehouse to parquet (FOCUS + x_ columns;
   JSON columns as text, as the validator reads them);
2. run the validator on it; the full console report goes to
   `$ATLAS_HOME/focus_validate/report.txt`, the counts and every failure are printed.

It is a report, not a gate: the exit code is 0 whenever the validator ran. Usage:
`make focus-validate` (or `.venv/bin/python tools/focus_validate.py [--warehouse PATH]`).
Set ATLAS_FOCUS_VALIDATOR_PYTHON to a Python 3.12+ interpreter if uv cannot find one.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

VALIDATOR = "focus-validator==2.2.1"
FOCUS_VERSION = "1.2.0.1"  # the rule model shipped in focus-validator 2.2.1

# The validator reads ISO currency codes from a path relative to the working directory; run it
# from a folder where that path exists (copied from the installed package).
_SHIM = """
import os, shutil, sys
import focus_validator
rules = os.path.join(os.path.dirname(focus_validator.__file__), "rules", "currency_codes.csv")
os.makedirs("focus_validator/rules", exist_ok=True)
shutil.copy(rules, "focus_validator/rules/currency_codes.csv")
from focus_validator.main import main
sys.argv = ["focus-validator"] + sys.argv[1:]
main()
"""


def _python312() -> str:
    """A Python >= 3.12 interpreter for uv: the env var, one on PATH that runs, a pyenv one, else '3.12'."""
    if os.environ.get("ATLAS_FOCUS_VALIDATOR_PYTHON"):
        return os.environ["ATLAS_FOCUS_VALIDATOR_PYTHON"]
    candidates = [shutil.which(n) for n in ("python3.13", "python3.12")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[2-9]*/bin/python3")))
    candidates += sorted(glob.glob("/root/.pyenv/versions/3.1[2-9]*/bin/python3"))
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "import sys; assert sys.version_info >= (3, 12)"],
                          capture_output=True, check=False).returncode == 0:
            return candidate
    return "3.12"


def _uv() -> str:
    local = Path(sys.executable).parent / "uv"
    return str(local) if local.exists() else (shutil.which("uv") or "uv")


def export_focus_table(warehouse: Path, out: Path) -> int:
    """Write focus_cost_and_usage to parquet; returns the row count."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = [r[0] for r in con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'main' and table_name = 'focus_cost_and_usage' order by ordinal_position"
        ).fetchall()]
        select = ", ".join(f'cast("{c}" as varchar) as "{c}"' if c in {
            "Tags", "SkuPriceDetails", "AllocatedTags", "AllocatedMethodDetails", "ContractApplied", "x_tags"}
            else f'"{c}"' for c in columns)
        con.execute(f"copy (select {select} from main.focus_cost_and_usage) to '{out}' (format parquet)")
        return con.execute(f"select count(*) from read_parquet('{out}')").fetchone()[0]
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    from atlas_pipeline.lib.settings import AtlasPaths

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=None)
    args = parser.parse_args(argv)
    paths = AtlasPaths.from_env()
    warehouse = args.warehouse or paths.warehouse
    workdir = paths.home / "focus_validate"
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "focus_cost_and_usage.parquet"
    rows = export_focus_table(warehouse, data)
    print(f"exported {rows:,} rows of focus_cost_and_usage to {data}")
    command = [
        _uv(), "run", "--no-project", "--python", _python312(), "--with", VALIDATOR, "--with", "pyarrow<20",
        "python", "-c", _SHIM, "--data-file", str(data), "--data-format", "parquet",
        "--validate-version", FOCUS_VERSION, "--block-download", "--show-violations",
    ]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False)
    report = workdir / "report.txt"
    report.write_text(result.stdout + result.stderr)
    totals = re.search(r"Total: (\d+) \| Pass: (\d+) \| Fail: (\d+) \| Skipped: (\d+)", result.stdout)
    if not totals:
        print(f"focus-validator did not run (exit {result.returncode}); see {report}:")
        print((result.stdout + result.stderr)[-3000:])
        return 1
    total, passed, failed, skipped = totals.groups()
    print(f"focus-validator {VALIDATOR.split('==')[1]}, FOCUS {FOCUS_VERSION}: "
          f"{total} rules, {passed} passed, {failed} failed, {skipped} skipped (report: {report})")
    failures = result.stdout.split("--- Failures ---", 1)
    if len(failures) == 2:
        print("--- Failures ---" + failures[1].rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
