"""File-level contracts: is one landed export file fit to become part of `raw.<source>`?

Each source may declare a contract in `checks/files/<source>.yaml`:

    source: azure_cost_details_actual
    mandatory_columns: [BillingAccountId, Date, CostInBillingCurrency, BillingCurrencyCode]
    rules:
      - {expect: decimal, column: CostInBillingCurrency}
      - {expect: date, column: Date, formats: ["%m/%d/%Y", "%Y-%m-%d"]}
      - {expect: timestamp, column: Start, formats: ["%Y-%m-%dT%H:%M:%S"], allow: [Unknown, None]}
      - {expect: integer, column: gpu_count}
      - {expect: not_null, column: BillingAccountId}
      - {expect: in_set, column: ChargeType, values: [Usage, Purchase]}
      - {expect: currency_code, column: BillingCurrencyCode}         # ISO 4217 (checks/files/iso_4217.txt)
      - {expect: non_negative, column: Quantity, when: {ChargeType: [Usage]}}
      - {expect: in_billing_period, column: Date, formats: ["%m/%d/%Y", "%Y-%m-%d"]}
      - {expect: decimal, column: BilledCost, formats: [plain, us_currency]}   # "$10,000.00" too
      - {expect: timestamp, column: ChargePeriodStart, formats: [iso8601, "%m/%d/%y"]}

Date and timestamp `formats` are strptime patterns, or `iso8601`: text starting `YYYY-MM-DD`, read
with its offset (none = UTC) — DuckDB's own cast would read `5/1/25` as year 5, so it is only used
on text of that shape. Decimal `formats` name the accepted spellings: `plain` (the default) and
`us_currency` (a leading `$` and `,` thousands separators in groups of three, as a spreadsheet
writes currency; only when the `$` or a decimal point makes the grouping unambiguous).

`validate_landed_file` reads one staged file with DuckDB and returns a `FileVerdict`: rejected
(with a machine-readable reason: file, row, column, expectation, observed value) or accepted,
plus notes that do not reject — a UTF-8 byte-order mark (handled), schema drift (columns the
source's previous delivery did not have). Every verdict is recorded in `quality.file_findings`.
Rows are numbered from 1 = the first data row after the header.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from atlas_pipeline.lib.raw_relations import reader_sql
from atlas_pipeline.lib.settings import CHECKS_DIR
from atlas_pipeline.lib.sources import DeclarationError, ExportSource, read_declaration

CONTRACTS_DIR = CHECKS_DIR / "files"
RULES = (
    "decimal",
    "integer",
    "date",
    "timestamp",
    "not_null",
    "in_set",
    "currency_code",
    "non_negative",
    "in_billing_period",
)
SAMPLE = 5  # offending rows named per rule
DECIMAL_FORMATS = ("plain", "us_currency")
# The same grammar as dbt's focus_text_to_money / focus_text_to_timestamp (macros/focus_export.sql).
US_CURRENCY_REGEX = r"-?\$(\d{1,3}(,\d{3})*|\d+)(\.\d+)?|-?\d{1,3}(,\d{3})+\.\d+"
ISO8601_PREFIX_REGEX = r"^\d{4}-\d{2}-\d{2}"
_CSV_FORMATS = {"azure_cost_details_csv": ",", "csv": ",", "slurm_sacct": "|"}
# Columns landing adds to every row (hive folders, file name): not part of the delivered schema.
_LANDING_COLUMNS = {"x_period", "x_export_version", "x_source_file"}
_BOM = b"\xef\xbb\xbf"

FINDINGS_DDL = """
create schema if not exists quality;
create table if not exists quality.file_findings (
    source varchar not null,
    object_key varchar not null,
    period varchar not null,
    export_version varchar not null,
    verdict varchar not null,        -- accepted | rejected
    kind varchar not null,           -- ok | malformed | missing_column | expectation | schema_drift | utf8_bom
    rows bigint,
    details json,
    recorded_at timestamptz not null
);
"""


@dataclass(frozen=True)
class Rule:
    """One row-level expectation of a file contract."""

    expect: str
    column: str
    formats: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()  # sentinel texts that are not values (e.g. sacct's `Unknown`)
    when: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class FileContract:
    """What every file of one source must satisfy."""

    source: str
    mandatory_columns: tuple[str | tuple[str, ...], ...]
    rules: tuple[Rule, ...]
    declared_in: Path


@dataclass
class FileVerdict:
    """The outcome for one file: rejected files go to quarantine, notes are recorded either way."""

    rejected: bool = False
    problem: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    rows: int | None = None
    notes: list[dict[str, Any]] = field(default_factory=list)


# -- contracts -----------------------------------------------------------------------------------


def parse_contract(path: Path) -> FileContract:
    """Parse one `checks/files/<source>.yaml`; errors name the file and the field."""
    data = read_declaration(path)
    if not isinstance(data, dict) or not isinstance(data.get("source"), str):
        raise DeclarationError(f"{path}: field 'source' is required")
    mandatory = data.get("mandatory_columns") or []
    # An entry is a column name, or a list of alternative names (export schema variants): one must exist.
    if not (
        isinstance(mandatory, list)
        and all(isinstance(c, str) or (isinstance(c, list) and c and all(isinstance(x, str) for x in c)) for c in mandatory)
    ):
        raise DeclarationError(f"{path}: field 'mandatory_columns' must list column names (or lists of alternatives)")
    mandatory = [c if isinstance(c, str) else tuple(c) for c in mandatory]
    rules = []
    for i, item in enumerate(data.get("rules") or []):
        where = f"rules[{i}]"
        if not isinstance(item, dict) or item.get("expect") not in RULES:
            raise DeclarationError(f"{path}: field '{where}.expect' must be one of {RULES}")
        if not isinstance(item.get("column"), str):
            raise DeclarationError(f"{path}: field '{where}.column' is required")
        unknown = set(item) - {"expect", "column", "formats", "values", "allow", "when"}
        if unknown:
            raise DeclarationError(f"{path}: field '{where}.{sorted(unknown)[0]}' is not known")
        if item["expect"] == "in_set" and not item.get("values"):
            raise DeclarationError(f"{path}: field '{where}.values' is required for in_set")
        formats = [str(f) for f in item.get("formats") or ()]
        if item["expect"] in ("decimal", "integer") and not set(formats) <= set(DECIMAL_FORMATS):
            raise DeclarationError(f"{path}: field '{where}.formats' of a number rule must be among {DECIMAL_FORMATS}")
        when = item.get("when") or {}
        if not isinstance(when, dict):
            raise DeclarationError(f"{path}: field '{where}.when' must map column -> list of values")
        rules.append(
            Rule(
                expect=item["expect"],
                column=item["column"],
                formats=tuple(formats),
                values=tuple(str(v) for v in item.get("values") or ()),
                allow=tuple(str(v) for v in item.get("allow") or ()),
                when={str(k): tuple(str(x) for x in (v if isinstance(v, list) else [v])) for k, v in when.items()},
            )
        )
    return FileContract(
        source=data["source"], mandatory_columns=tuple(mandatory), rules=tuple(rules), declared_in=Path(path)
    )


@cache
def _contracts(folder: Path) -> dict[str, FileContract]:
    contracts: dict[str, FileContract] = {}
    for path in sorted(folder.glob("*.yaml")):
        contract = parse_contract(path)
        if contract.source in contracts:
            raise DeclarationError(f"{path}: source {contract.source!r} already has a contract")
        contracts[contract.source] = contract
    return contracts


def contract_for(source_name: str, folder: Path = CONTRACTS_DIR) -> FileContract | None:
    """The declared contract of a source, if any."""
    return _contracts(Path(folder)).get(source_name)


@cache
def iso_4217_codes(folder: Path = CONTRACTS_DIR) -> tuple[str, ...]:
    """Active ISO 4217 currency codes (checks/files/iso_4217.txt, one per line)."""
    lines = (Path(folder) / "iso_4217.txt").read_text().splitlines()
    return tuple(sorted({ln.split("#", 1)[0].strip() for ln in lines} - {""}))


def period_bounds(period: str) -> tuple[date, date] | None:
    """[start, end) of a landing period: 'YYYY-MM' is a month, 'YYYY-MM-DD' a day, anything else none."""
    if re.fullmatch(r"\d{4}-\d{2}", period):
        start = date(int(period[:4]), int(period[5:7]), 1)
        end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        return start, end
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", period):
        day = date.fromisoformat(period)
        return day, date.fromordinal(day.toordinal() + 1)
    return None


# -- validation ----------------------------------------------------------------------------------


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _parsed(rule: Rule, expr: str) -> str:
    """SQL parsing the text `expr` as the rule's type; NULL when it does not parse."""
    if rule.formats and rule.expect in ("decimal", "integer"):
        target = "decimal(38, 12)" if rule.expect == "decimal" else "bigint"
        spellings = []
        if "plain" in rule.formats:
            spellings.append(f"try_cast({expr} as {target})")
        if "us_currency" in rule.formats:
            spellings.append(
                f"case when regexp_full_match({expr}, {_lit(US_CURRENCY_REGEX)}) "
                f"then try_cast(replace(replace({expr}, '$', ''), ',', '') as {target}) end"
            )
        return f"coalesce({', '.join(spellings)})"
    if rule.formats:
        patterns = [f for f in rule.formats if f != "iso8601"]
        readings = []
        if "iso8601" in rule.formats:
            # With its offset, as UTC: a plain cast to timestamp would drop the offset.
            readings.append(
                f"case when regexp_matches({expr}, {_lit(ISO8601_PREFIX_REGEX)}) "
                f"then timezone('UTC', try_cast(replace({expr}, 'Z', '+00') as timestamptz)) end"
            )
        if patterns:
            readings.append(f"try_strptime({expr}, [{', '.join(_lit(f) for f in patterns)}])")
        parsed = readings[0] if len(readings) == 1 else f"coalesce({', '.join(readings)})"
        return f"cast({parsed} as date)" if rule.expect == "date" else parsed
    return {
        "decimal": f"try_cast({expr} as decimal(38, 12))",
        "integer": f"try_cast({expr} as bigint)",
        "date": f"try_cast({expr} as date)",
        "timestamp": f"try_cast({expr} as timestamp)",
        "in_billing_period": f"try_cast({expr} as timestamp)",
    }[rule.expect]


def _violation_sql(rule: Rule, bounds: tuple[date, date] | None) -> str | None:
    """A SQL predicate over `v` (the column as text, trimmed) true for offending rows."""
    col = f"nullif(trim(cast({_q(rule.column)} as varchar)), '')"
    allowed = f" and {col} not in ({', '.join(_lit(a) for a in rule.allow)})" if rule.allow else ""
    if rule.expect in ("decimal", "integer", "date", "timestamp"):
        pred = f"{col} is not null{allowed} and {_parsed(rule, col)} is null"
    elif rule.expect == "not_null":
        pred = f"{col} is null"
    elif rule.expect == "in_set":
        pred = f"{col} is not null and {col} not in ({', '.join(_lit(v) for v in rule.values)})"
    elif rule.expect == "currency_code":
        pred = f"{col} is not null and {col} not in ({', '.join(_lit(c) for c in iso_4217_codes())})"
    elif rule.expect == "non_negative":
        pred = f"try_cast({col} as decimal(38, 12)) < 0"
    else:  # in_billing_period
        if bounds is None:
            return None
        start, end = bounds
        parsed = f"cast({_parsed(rule, col)} as date)"
        outside = f"{parsed} < date {_lit(start.isoformat())} or {parsed} >= date {_lit(end.isoformat())}"
        pred = f"{col} is not null{allowed} and ({outside})"
    for column, values in rule.when.items():
        pred = f"({pred}) and cast({_q(column)} as varchar) in ({', '.join(_lit(v) for v in values)})"
    return pred


def _describe(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [r[0] for r in con.execute(f"describe select * from {relation}").fetchall()]


def _csv_header(path: Path, fmt: str) -> list[str]:
    """The header row as written (BOM stripped): DuckDB's sniffer would take the widest row as header."""
    import csv

    with open(path, encoding="utf-8-sig", newline="") as handle:
        first = handle.readline().rstrip("\r\n")
    if not first:
        return []
    if fmt == "slurm_sacct":
        return first.split("|")
    return next(csv.reader([first]))


def _strict_csv_sql(path: Path, fmt: str, header: list[str], rejects: bool = False) -> str:
    """read_csv with the header's columns, all VARCHAR, strict: a row with too many or too few fields is an error."""
    columns = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in header) + "}"
    quoting = "quote = '', escape = ''" if fmt == "slurm_sacct" else "quote = '\"', escape = '\"'"
    extra = (
        ", store_rejects = true, rejects_table = 'atlas_reject_errors', rejects_scan = 'atlas_reject_scans'"
        if rejects
        else ""
    )
    return (
        f"read_csv({_lit(str(path))}, columns = {columns}, header = true, auto_detect = false, "
        f"delim = {_lit(_CSV_FORMATS[fmt])}, {quoting}, strict_mode = true{extra})"
    )


_DROP_REJECTS = "drop table if exists atlas_reject_errors; drop table if exists atlas_reject_scans"


def _rejected_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Rows the strict CSV reader rejected in the last scan, with line, column and error (DuckDB's rejects tables)."""
    try:
        found = con.execute(
            "select line, column_name, error_type, csv_line, error_message from atlas_reject_errors "
            "order by line, column_name nulls first"
        ).fetchall()
    except duckdb.CatalogException:  # DuckDB creates the rejects tables only when a scan rejects something
        return []
    out, seen = [], set()
    for line, col, kind, text, msg in found:
        if line in seen:  # one entry per line (DuckDB may report a long row once per extra field)
            continue
        seen.add(line)
        out.append(
            {
                "row": int(line) - 1,
                "line": int(line),
                "column": col,
                "expectation": "well-formed CSV row",
                "observed": text,
                "error": f"{kind}: {msg.splitlines()[0]}",
            }
        )
    return out


def _previous_columns(con: duckdb.DuckDBPyConnection, source: ExportSource) -> list[str] | None:
    """The columns of the newest file of `source` already landed, or None for a first delivery."""
    try:
        row = con.execute(
            "select landed_path from landing.manifest where source = ? and status = 'landed' and landed_path is not null "
            "order by landed_at desc, landed_path desc limit 1",
            [source.name],
        ).fetchone()
    except duckdb.CatalogException:
        return None
    if row is None or not Path(row[0]).exists():
        return None
    try:
        return _describe(con, reader_sql(source.format, [row[0]]))
    except duckdb.Error:
        return None


def validate_landed_file(
    con: duckdb.DuckDBPyConnection,
    source: ExportSource,
    period: str,
    version: str,
    key: str,
    path: Path,
) -> FileVerdict:
    """Check one staged file against its source's contract and record the verdict (see module doc)."""
    verdict = _judge(con, source, period, key, Path(path))
    record_verdict(con, source.name, key, period, version, verdict)
    return verdict


def _unreadable(verdict: FileVerdict, fmt: str, key: str, exc: duckdb.Error) -> FileVerdict:
    first = str(exc).strip().splitlines()[0]
    verdict.rejected = True
    verdict.problem = f"unreadable as {fmt}: {first}"
    verdict.details = {
        "kind": "malformed",
        "file": key,
        "violations": [{"row": None, "column": None, "expectation": f"readable as {fmt}", "observed": first}],
    }
    return verdict


def _judge(con: duckdb.DuckDBPyConnection, source: ExportSource, period: str, key: str, path: Path) -> FileVerdict:
    verdict = FileVerdict()
    if source.format == "prometheus_text":
        return verdict  # one VARCHAR per line: nothing column-shaped to check here (staging parses it)
    with open(path, "rb") as handle:
        head = handle.read(3)
    if head == _BOM:
        verdict.notes.append({"kind": "utf8_bom", "file": key, "note": "UTF-8 byte-order mark at start; stripped on read"})
    contract = contract_for(source.name)
    header = None
    if source.format in _CSV_FORMATS:
        header = _csv_header(path, source.format)
        if not header:
            return verdict  # zero-byte file: landing records it as empty
        relation = _strict_csv_sql(path, source.format, header)
    else:
        relation = reader_sql(source.format, [str(path)])
    try:
        columns = [c for c in _describe(con, relation) if c not in _LANDING_COLUMNS]
    except duckdb.Error as exc:
        return _unreadable(verdict, source.format, key, exc)
    present = {c.lower() for c in columns}
    bounds = period_bounds(period)
    checked = [
        (rule, pred)
        for rule in (contract.rules if contract else ())
        if rule.column.lower() in present
        and all(c.lower() in present for c in rule.when)
        and (pred := _violation_sql(rule, bounds)) is not None
    ]
    # One scan of the file counts its rows and every rule's violations (and, for CSV, collects the
    # rows that do not match the header): large exports are read once. Only a rule that has
    # violations pays for a second, numbered scan to sample them.
    tallies = ", ".join(["count(*)", *(f"count(*) filter (where {pred})" for _, pred in checked)])
    scanned = _strict_csv_sql(path, source.format, header, rejects=True) if header else relation
    malformed: list[dict[str, Any]] = []
    try:
        if header:
            con.execute(_DROP_REJECTS)
        # fetchall, not fetchone: the rejects tables are written only once the scan has been drained
        [(verdict.rows, *violating)] = con.execute(f"select {tallies} from {scanned}").fetchall()
        if header:
            malformed = _rejected_rows(con)
    except duckdb.Error as exc:
        return _unreadable(verdict, source.format, key, exc)
    finally:
        if header:
            con.execute(_DROP_REJECTS)
    if malformed:
        verdict.rejected = True
        verdict.problem = (
            f"malformed {source.format}: {len(malformed)} row(s) do not match the header "
            f"(first at line {malformed[0]['line']}: {malformed[0]['error']})"
        )
        verdict.details = {"kind": "malformed", "file": key, "violations": malformed[:SAMPLE]}
        with open(path, "rb") as handle:  # rows held back = data lines of the file (header excluded)
            verdict.rows = max(sum(1 for line in handle if line.strip()) - 1, 0)
        return verdict
    if contract is None:
        return verdict
    missing = [
        c if isinstance(c, str) else " or ".join(c)
        for c in contract.mandatory_columns
        if not any(alt.lower() in present for alt in ((c,) if isinstance(c, str) else c))
    ]
    if missing:
        verdict.rejected = True
        verdict.problem = f"missing mandatory column(s) {', '.join(missing)} (declared in {contract.declared_in.name})"
        verdict.details = {
            "kind": "missing_column",
            "file": key,
            "violations": [
                {"row": None, "column": c, "expectation": "mandatory column present", "observed": "absent"} for c in missing
            ],
        }
        return verdict
    previous = _previous_columns(con, source)
    if previous is not None:
        known = {c.lower() for c in previous}
        new = [c for c in columns if c.lower() not in known]
        if new:
            verdict.notes.append(
                {
                    "kind": "schema_drift",
                    "file": key,
                    "new_columns": new,
                    "note": f"new column(s) {', '.join(new)}: recorded and tolerated",
                }
            )
    violations, counts = [], {}
    numbered = f"(select row_number() over () as __row, * from {relation})"
    for (rule, pred), n in zip(checked, violating, strict=True):
        if not n:
            continue
        found = con.execute(
            f"select __row, cast({_q(rule.column)} as varchar) from {numbered} where {pred} order by __row limit {SAMPLE}"
        ).fetchall()
        label = f"{rule.expect}({rule.column})"
        counts[label] = n
        expectation = rule.expect + (f" when {rule.when}" if rule.when else "")
        if rule.expect == "in_billing_period" and bounds:
            expectation += f" [{bounds[0]}, {bounds[1]})"
        violations += [{"row": int(r), "column": rule.column, "expectation": expectation, "observed": v} for r, v in found]
    if violations:
        verdict.rejected = True
        verdict.problem = "failed file contract: " + ", ".join(f"{k} on {n} row(s)" for k, n in counts.items())
        verdict.details = {"kind": "expectation", "file": key, "violations": violations, "violating_rows": counts}
    return verdict


def record_verdict(
    con: duckdb.DuckDBPyConnection, source: str, key: str, period: str, version: str, verdict: FileVerdict
) -> None:
    """Append the verdict and its notes to `quality.file_findings`."""
    con.execute(FINDINGS_DDL)
    now = datetime.now(UTC)
    state = "rejected" if verdict.rejected else "accepted"
    entries = [(verdict.details.get("kind", "rejected") if verdict.rejected else "ok", verdict.details)]
    entries += [(note["kind"], note) for note in verdict.notes]
    con.executemany(
        "insert into quality.file_findings values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (source, key, period, version, state, kind, verdict.rows, json.dumps(details, default=str), now)
            for kind, details in entries
        ],
    )
