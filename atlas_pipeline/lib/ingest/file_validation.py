"""Landing one delivered file: read it once, type it as its contract declares, check every rule in the
same pass, and write it as parquet — or reject it with the file, row and column named.

`land_file` reads the file with its format's reader (lib/ingest/raw_relations.py), renames the columns a
provider spells differently to the contract's names, types the declared columns
(lib/ingest/typed_columns.py) and writes `<landed file>.parquet`, its rows in the delivered order,
with the lineage columns `x_source_file`, `x_period`, `x_export_version` (`x_source_row` is a row's
position in that file: raw_relations.landed_rows_sql). The rules (the contract's row rules, and
"each typed value parses as its type") guard that one pass: the first offending row stops it, and
only then a second scan, which numbers the rows, counts every offender and samples them for the
quarantine reason. So nothing that lands can fail a later build on a value, and a good file is read once.

A `FileVerdict` is rejected (with a machine-readable reason: file, row, column, expectation,
observed value) or accepted, plus notes that do not reject: a UTF-8 byte-order mark (handled),
columns renamed from a provider's variant spelling, schema drift (columns the source's previous
delivery did not have). Every verdict is recorded in `quality.file_findings`. Rows are numbered
from 1 = the first data row after the header.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from atlas_pipeline.lib.ingest.bulk_insert import insert_rows
from atlas_pipeline.lib.ingest.contracts import SCALAR_TYPES, ColumnSpec, FileContract, contract_for
from atlas_pipeline.lib.ingest.raw_relations import (
    CSV_DELIMITERS,
    LINEAGE_COLUMNS,
    PARQUET_FORMATS,
    delivered_file_sql,
    is_gzip,
    quote_identifier,
    sql_literal,
)
from atlas_pipeline.lib.ingest.sources import ExportSource
from atlas_pipeline.lib.ingest.typed_columns import Check, cleaned, parsed, rule_check, type_checks
from atlas_pipeline.lib.periods import key_period

SAMPLE = 5  # offending rows named per rule
_BOM = b"\xef\xbb\xbf"
_GUARD = "atlas file contract: "

FINDINGS_DDL = """
create schema if not exists quality;
create table if not exists quality.file_findings (
    source varchar not null,
    object_key varchar not null,
    period varchar not null,
    export_version varchar not null,
    verdict varchar not null,        -- accepted | rejected
    kind varchar not null,           -- ok | malformed | missing_column | reserved_column | expectation
                                     -- | schema_drift | utf8_bom | renamed_columns
    rows bigint,
    details json,
    recorded_at timestamptz not null
);
"""


@dataclass
class FileVerdict:
    """The outcome for one file: rejected files go to quarantine, notes are recorded either way."""

    rejected: bool = False
    problem: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    rows: int | None = None
    notes: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, kind: str, key: str, problem: str, violations: list[dict[str, Any]], **extra: Any) -> FileVerdict:
        self.rejected, self.problem = True, problem
        self.details = {"kind": kind, "file": key, "violations": violations, **extra}
        return self




def _open_text(path: Path) -> io.TextIOWrapper:
    raw = gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")  # noqa: SIM115 (closed by the wrapper)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def csv_header(path: Path, fmt: str) -> list[str]:
    """The header row as written (gzip read, BOM stripped, a quoted newline kept inside its field):
    DuckDB's sniffer would take the widest row as the header."""
    try:
        with _open_text(path) as handle:
            if fmt == "slurm_sacct":
                first = handle.readline().rstrip("\r\n")
                return first.split("|") if first else []
            return next(csv.reader(handle), [])
    except (OSError, EOFError, UnicodeDecodeError, csv.Error):
        return []  # unreadable: the reader's own error names the problem


def _starts_with_bom(path: Path) -> bool:
    try:
        with (gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")) as handle:
            return handle.read(3) == _BOM
    except (OSError, EOFError):
        return False


def _describe(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"describe select * from {relation}").fetchall()]


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0]


def _unreadable(verdict: FileVerdict, fmt: str, key: str, message: str) -> FileVerdict:
    return verdict.reject(
        "malformed", key, f"unreadable as {fmt}: {message}",
        [{"row": None, "column": None, "expectation": f"readable as {fmt}", "observed": message}],
    )


def _previous_columns(con: duckdb.DuckDBPyConnection, source: ExportSource) -> set[str] | None:
    """The (contract-named) columns of the newest landed file of `source`, or None for a first delivery."""
    try:
        row = con.execute(
            "select landed_path from landing.manifest where source = ? and status = 'landed' and landed_path is not null "
            "order by landed_at desc, landed_path desc limit 1",
            [source.name],
        ).fetchone()
    except duckdb.CatalogException:
        return None
    if row is None or not Path(row[0]).exists() or not row[0].endswith(".parquet"):
        return None
    try:
        return {c.lower() for c, _ in _describe(con, f"read_parquet({sql_literal(row[0])})")} - set(LINEAGE_COLUMNS)
    except duckdb.Error:
        return None


def _delivered_as_declared(spec: ColumnSpec, physical: str) -> bool:
    """A nested column (MAP, STRUCT, list) the reader already yields with exactly its declared type:
    the cast would be the identity and its check never true, so it is kept as read. (Per row, the
    check renders the value as text twice: for a Prometheus export's label MAP that was most of
    landing's time.) Scalar types always go through their parse and checks (money's range, null
    spellings)."""
    if spec.type in SCALAR_TYPES:
        return False
    return _normalized_type(physical) == _normalized_type(spec.duckdb_type)


def _normalized_type(kind: str) -> str:
    return "".join(kind.split()).upper()


@dataclass(frozen=True)
class _Plan:
    """How one file's columns become the landed columns."""

    inner: str  # every delivered column, plus `__t<i>` typed values (`__t<i>_text` cleaned) [and x_source_row]
    outputs: list[str]  # the landed projection over `inner`
    checks: list[Check]
    renamed: dict[str, str]  # delivered name -> contract name (where they differ)
    numbered: bool  # `inner` carries x_source_row

    def copy_sql(self, lineage_path: str, period: str, version: str, parquet_path: Path) -> str:
        """The landing copy: every row through the guard (the first offender stops it), written as
        parquet with the lineage columns — x_source_row only when numbered (else it is the row's
        position in the file, and DuckDB writes the rows in the order it reads them). Numbered rows
        are written in any order: an order-preserving copy buffers whole input batches, which for
        a parquet export is a whole row group (3 GiB for a 1M-row CUR 2.0 file, measured)."""
        lineage = (f"{sql_literal(lineage_path)} as x_source_file, {'x_source_row, ' if self.numbered else ''}"
                   f"{sql_literal(period)} as x_period, {sql_literal(version)} as x_export_version")
        guard = "true"
        if self.checks:
            # _diagnose then names every offending row.
            whens = " ".join(f"when {c.offends} then error({sql_literal(_GUARD + c.label)})" for c in self.checks)
            guard = f"case {whens} else true end"
        return (
            f"copy (select {', '.join(self.outputs)}, {lineage} from {self.inner} where {guard}) "
            f"to {sql_literal(str(parquet_path))} (format parquet, compression zstd"
            f"{', preserve_order false' if self.numbered else ''})"
        )


# DuckDB keeps the rows' order through these operators (docs: "Order Preservation"), the scans at
# the leaves; a join (an IN list of constants can become one), an aggregate or UNNEST may not, and
# then DuckDB writes with COPY_TO_FILE, in whatever order its threads finish, instead of
# BATCH_COPY_TO_FILE, which writes the scan's batches in their order.
_ORDER_KEEPING = frozenset({"BATCH_COPY_TO_FILE", "PROJECTION", "FILTER"})
_keeps_order: dict[tuple, bool] = {}


def _keeps_delivered_order(con: duckdb.DuckDBPyConnection, copy: str, shape: tuple) -> bool:
    """Whether DuckDB's plan for the landing copy writes rows in the order it reads them, so that a
    row's position in the parquet is its row in the delivered file. From EXPLAIN (≈ 20 ms for a
    200-column CUR), once per plan shape (`shape`) and settings that change it in this process."""
    shape += tuple(con.execute("select current_setting('preserve_insertion_order'), current_setting('threads')")
                   .fetchone())
    if shape not in _keeps_order:
        [(_, plan)] = con.execute(f"explain (format json) {copy}").fetchall()

        def keeps(node: dict) -> bool:
            children = node.get("children") or []
            return (not children or node["name"] in _ORDER_KEEPING) and all(keeps(c) for c in children)

        _keeps_order[shape] = all(keeps(node) for node in json.loads(plan))
    return _keeps_order[shape]


def _plan(contract: FileContract | None, described: list[tuple[str, str]], relation: str,
          bounds: tuple[date, date] | None, numbered: bool = False, positions: bool = False) -> _Plan:
    """`numbered`: `inner` also numbers the rows (x_source_row, from 1) — for the diagnosis, which
    names offending rows, and for files whose rows DuckDB may write in another order; the landing
    copy does not otherwise (a window over the whole file runs on one thread). `positions`: the
    relation reads each row's position in the delivered file (`file_row_number`, parquet), which
    numbers the rows without a window."""
    by_lower = {name.lower(): name for name, _ in described}
    physical = dict(described)
    # contract name (lowercased) -> the delivered column holding it (its own name, else the first alias)
    resolved: dict[str, str] = {}
    for spec in contract.columns if contract else ():
        found = next((by_lower[n.lower()] for n in spec.names() if n.lower() in by_lower), None)
        if found is not None:
            resolved[spec.name.lower()] = found
    spec_of = {resolved[s.name.lower()]: s for s in (contract.columns if contract else ()) if s.name.lower() in resolved}
    # Each typed column's text is cleaned once (`__t<i>_text`), parsed once (`__t<i>`), and the
    # checks read both: nothing is computed twice per row.
    typed_sql, readings, texts, cleaned_sql, extra, checks = {}, {}, {}, [], [], []
    for i, (column, spec) in enumerate(spec_of.items()):
        if not spec.typed or _delivered_as_declared(spec, physical[column]):
            continue
        alias, text = f"__t{i}", f"__t{i}_text"
        cleaned_sql.append(f"{cleaned(quote_identifier(column))} as {text}")
        extra.append(f"{parsed(spec, column, physical[column], text)} as {alias}")
        key = spec.name.lower()
        typed_sql[key], texts[key], readings[key] = alias, text, parsed(spec, column, physical[column])
        checks += type_checks(spec, column, alias, text)
    # Rules name contract columns; the file may spell them as an alias, or hold columns the
    # contract does not type (telemetry), which rules read by their delivered name.
    rule_columns = {name.lower(): name for name, _ in described} | resolved
    for rule in contract.validation_rules() if contract else ():
        check = rule_check(rule, contract, rule_columns, bounds, typed_sql, texts, readings)
        if check:
            checks.append(check)
    delivered = ", ".join(quote_identifier(name) for name, _ in described)
    position = "file_row_number + 1 as x_source_row, " if positions else ""
    inner = (
        f"(select *{''.join(', ' + e for e in extra)} from "
        f"(select {position}{delivered}{''.join(', ' + c for c in cleaned_sql)} from {relation}))"
    )
    if numbered and not positions:
        inner = f"(select row_number() over () as x_source_row, * from {inner})"
    outputs, renamed = [], {}
    for name, _ in described:
        spec = spec_of.get(name)
        target = spec.name if spec else name
        if target != name:
            renamed[name] = target
        value = typed_sql.get(spec.name.lower(), quote_identifier(name)) if spec else quote_identifier(name)
        outputs.append(f"{value} as {quote_identifier(target)}")
    return _Plan(inner, outputs, checks, renamed, numbered or positions)


def land_file(
    con: duckdb.DuckDBPyConnection,
    source: ExportSource,
    period: str,
    version: str,
    key: str,
    path: Path,
    parquet_path: Path,
    lineage_path: str,
) -> FileVerdict:
    """Check and type one staged file, writing `parquet_path` when it is accepted with rows (see the
    module doc). `lineage_path` is what its rows carry as `x_source_file`. Records the verdict."""
    verdict = _land(con, source, period, key, Path(path), Path(parquet_path), lineage_path, version)
    if verdict.rejected or not verdict.rows:
        Path(parquet_path).unlink(missing_ok=True)
    record_verdict(con, source.name, key, period, version, verdict)
    return verdict


def _land(con, source: ExportSource, period: str, key: str, path: Path, parquet_path: Path, lineage_path: str,
          version: str) -> FileVerdict:
    verdict = FileVerdict()
    if _starts_with_bom(path):
        verdict.notes.append({"kind": "utf8_bom", "file": key, "note": "UTF-8 byte-order mark at start; stripped on read"})
    contract = contract_for(source.name)
    header = None
    if source.format in CSV_DELIMITERS:
        header = csv_header(path, source.format)
        if not header:
            if path.stat().st_size and not _readable_text(path):
                return _unreadable(verdict, source.format, key, "not UTF-8 text (or a damaged gzip stream)")
            verdict.rows = 0  # zero-byte (or empty gzip) file: recorded as empty
            return verdict
    try:
        relation = delivered_file_sql(source.format, path, header, contract)
        described = _describe(con, relation)
    except (duckdb.Error, ValueError) as exc:
        return _unreadable(verdict, source.format, key, _first_line(exc))
    reserved = sorted(n for n, _ in described if n.lower() in LINEAGE_COLUMNS or n.startswith("__t"))
    if reserved:
        return verdict.reject(
            "reserved_column", key, f"column name(s) {', '.join(reserved)} are reserved for Atlas's lineage columns",
            [{"row": None, "column": c, "expectation": "not a reserved column name", "observed": "present"}
             for c in reserved],
        )
    present = {n.lower() for n, _ in described}
    missing = [" or ".join(alts) for alts in (contract.mandatory_columns if contract else ())
               if not any(a.lower() in present for a in alts)]
    if missing:
        return verdict.reject(
            "missing_column", key,
            f"missing mandatory column(s) {', '.join(missing)} (declared in {contract.declared_in.name})",
            [{"row": None, "column": c, "expectation": "mandatory column present", "observed": "absent"} for c in missing],
        )
    bounds = key_period(period)
    if source.format in PARQUET_FORMATS:  # each row numbered by its position in the delivered file
        relation = delivered_file_sql(source.format, path, header, contract, positions=True)
    plan = _plan(contract, described, relation, bounds, positions=source.format in PARQUET_FORMATS)
    if plan.renamed:
        verdict.notes.append({"kind": "renamed_columns", "file": key, "renamed": plan.renamed,
                              "note": "provider's column spellings read as the contract's names"})
    previous = _previous_columns(con, source)
    landed_names = [plan.renamed.get(n, n) for n, _ in described]
    if previous is not None and (new := [c for c in landed_names if c.lower() not in previous]):
        verdict.notes.append({"kind": "schema_drift", "file": key, "new_columns": new,
                              "note": f"new column(s) {', '.join(new)}: recorded and tolerated"})
    copy = plan.copy_sql(lineage_path, period, version, parquet_path)
    shape = (source.name, source.format, tuple(described), tuple(c.label for c in plan.checks))
    try:
        if not plan.numbered and not _keeps_delivered_order(con, copy, shape):
            # Rows written out of order: each carries its number (a window: one thread, slower).
            copy = _plan(contract, described, relation, bounds, numbered=True).copy_sql(
                lineage_path, period, version, parquet_path)
        [(verdict.rows,)] = con.execute(copy).fetchall()
        return verdict
    except duckdb.Error as exc:
        failure = _first_line(exc)
    # Rejected: a second scan says every rule's offenders, or which rows are malformed.
    return _diagnose(con, verdict, source, key, path, header, contract, described, bounds, failure)


def _readable_text(path: Path) -> bool:
    try:
        with _open_text(path) as handle:
            handle.read(1 << 16)
        return True
    except (OSError, EOFError, UnicodeDecodeError):
        return False


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
        out.append({"row": int(line) - 1, "line": int(line), "column": col, "expectation": "well-formed CSV row",
                    "observed": text, "error": f"{kind}: {msg.splitlines()[0]}"})
    return out


def _diagnose(con, verdict: FileVerdict, source: ExportSource, key: str, path: Path, header: list[str] | None,
              contract: FileContract | None, described, bounds, failure: str) -> FileVerdict:
    relation = delivered_file_sql(source.format, path, header, contract, rejects=header is not None)
    plan = _plan(contract, described, relation, bounds, numbered=True)
    tallies = ", ".join(["count(*)", *(f"count(*) filter (where {c.offends})" for c in plan.checks)])
    malformed: list[dict[str, Any]] = []
    try:
        if header:
            con.execute(_DROP_REJECTS)
        # fetchall, not fetchone: the rejects tables are written only once the scan has been drained
        [(verdict.rows, *counts)] = con.execute(f"select {tallies} from {plan.inner}").fetchall()
        if header:
            malformed = _rejected_rows(con)
    except duckdb.Error as exc:
        return _unreadable(verdict, source.format, key, _first_line(exc))
    finally:
        if header:
            con.execute(_DROP_REJECTS)
    if malformed:
        try:
            with (gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")) as handle:
                verdict.rows = max(sum(1 for line in handle if line.strip()) - 1, 0)  # data lines held back
        except (OSError, EOFError) as exc:  # a gzip stream cut short: the file itself is damaged
            return _unreadable(verdict, source.format, key, f"damaged gzip stream ({exc})")
        return verdict.reject(
            "malformed", key,
            f"malformed {source.format}: {len(malformed)} row(s) do not match the header "
            f"(first at line {malformed[0]['line']}: {malformed[0]['error']})",
            malformed[:SAMPLE],
        )
    violations, offenders = [], {}
    for check, n in zip(plan.checks, counts, strict=True):
        if not n:
            continue
        offenders[check.label] = n
        found = con.execute(
            f"select x_source_row, {check.observed} from {plan.inner} where {check.offends} order by 1 limit {SAMPLE}"
        ).fetchall()
        violations += [{"row": int(r), "column": check.column, "expectation": check.expectation, "observed": v}
                       for r, v in found]
    if violations:
        problem = "failed file contract: " + ", ".join(f"{k} on {n} row(s)" for k, n in offenders.items())
        return verdict.reject("expectation", key, problem, violations, violating_rows=offenders)
    return _unreadable(verdict, source.format, key, failure.removeprefix("Invalid Input Error: "))


def record_verdict(
    con: duckdb.DuckDBPyConnection, source: str, key: str, period: str, version: str, verdict: FileVerdict
) -> None:
    """Append the verdict and its notes to `quality.file_findings`."""
    con.execute(FINDINGS_DDL)
    now = datetime.now(UTC)
    state = "rejected" if verdict.rejected else "accepted"
    entries = [(verdict.details.get("kind", "rejected") if verdict.rejected else "ok", verdict.details)]
    entries += [(note["kind"], note) for note in verdict.notes]
    insert_rows(
        con,
        "insert into quality.file_findings values",
        [
            (source, key, period, version, state, kind, verdict.rows, json.dumps(details, default=str), now)
            for kind, details in entries
        ],
    )
