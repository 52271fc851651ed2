"""Great Expectations suites declared as JSON in `checks/`, validated on data pulled from DuckDB.

A suite file is what GX's `ExpectationSuite.to_json_dict()` writes — `name`, `expectations`
(each `{"type", "kwargs", "meta"}`) and `meta` — plus Atlas's own keys under `meta.atlas`:

- `asset`: the Dagster asset key path the check is attached to, e.g. `["raw", "aws_cur2"]`;
- `relation`: the DuckDB relation to validate, e.g. `"raw.aws_cur2"`;
- `blocking`: a failing blocking suite stops every downstream asset in the run;
- `description`: one line for people;
- `columns` (optional): only these columns are fetched into pandas (default: all);
- `sample_rows` (optional): validate a repeatable reservoir sample of at most N rows;
- `query` (optional): a SELECT validated instead of the whole relation (derived signals such as
  a day's cost against its trailing median); `relation` still names what it reads;
- `partition_column` (optional): the column holding the partition (billing period, day); failed
  checks name the partitions of their offending rows.

Files are validated once by pydantic models into `DeclaredSuite`; errors name the file and the field. No Dagster here.
GX is imported lazily, inside `validate`: it costs seconds, and definitions must load fast.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from atlas_pipeline.lib.declarations import Declaration, DeclarationError, validate_declaration

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

# `gx_<name>` is the Dagster check name, so a suite name must be a Python identifier.
_SUITE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# `schema.table` or `catalog.schema.table`, unquoted: it is spliced into SQL.
_RELATION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")
_EXPECTATION_TYPE = re.compile(r"^expect_[a-z0-9_]+$")
# kwargs that name a column of the batch; they must be among `meta.atlas.columns` when it is set.
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list",)
SAMPLE_SEED = 42
UNEXPECTED_SAMPLE_SIZE = 5
OFFENDING_ROWS_SHOWN = 5


@dataclass(frozen=True)
class DeclaredExpectation:
    """One GX expectation as declared: its snake_case type and kwargs."""

    type: str
    kwargs: Mapping[str, Any]
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeclaredSuite:
    """A suite file from `checks/`, parsed and checked once."""

    name: str
    asset: tuple[str, ...]
    relation: str
    blocking: bool
    description: str
    expectations: tuple[DeclaredExpectation, ...]
    columns: tuple[str, ...] = ()
    sample_rows: int | None = None
    query: str | None = None
    partition_column: str | None = None
    declared_in: Path = Path()

    @property
    def check_name(self) -> str:
        return f"gx_{self.name}"

    @property
    def source_sql(self) -> str:
        """What the suite reads: the relation, or its declared query as a subquery."""
        return f"({self.query}) as suite_query" if self.query else self.relation

    @property
    def fetched_columns(self) -> tuple[str, ...]:
        """Declared columns plus the partition column (so failures can name partitions)."""
        extra = self.partition_column
        if extra and extra.lower() not in {c.lower() for c in self.columns}:
            return (*self.columns, extra)
        return self.columns

    def select_sql(self) -> str:
        """The DuckDB query that fetches what the suite validates: declared columns, maybe a sample."""
        cols = ", ".join(f"{_quote(c)} as {_quote(c)}" for c in self.fetched_columns) if self.columns else "*"
        sql = f"select {cols} from {self.source_sql}"
        if self.sample_rows:
            sql += f" using sample reservoir({self.sample_rows} rows) repeatable ({SAMPLE_SEED})"
        return sql


@dataclass(frozen=True)
class FailedExpectation:
    """What one failing expectation saw. Every field is JSON-serialisable."""

    expectation: str
    column: str | None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    unexpected_values: list[Any] = field(default_factory=list)
    error: str | None = None  # set when the expectation raised instead of evaluating
    partitions: list[str] = field(default_factory=list)  # partitions of the offending rows (sampled)
    offending_rows: list[dict[str, Any]] = field(default_factory=list)  # a few whole offending rows


@dataclass(frozen=True)
class SuiteOutcome:
    """The result of one validation run."""

    suite: str
    success: bool
    rows: int
    evaluated: int
    failed: tuple[FailedExpectation, ...] = ()

    def to_json_dict(self) -> dict[str, Any]:
        return asdict(self) | {"failed": [asdict(f) for f in self.failed]}

    def failures_markdown(self) -> str:
        """The failed expectations as a markdown table (for the Dagster UI)."""
        if not self.failed:
            return f"All {self.evaluated} expectations passed on {self.rows} rows."
        lines = ["| expectation | column | unexpected | observed | sample of unexpected values |", "|---|---|---|---|---|"]
        for f in self.failed:
            unexpected = "" if f.unexpected_count is None else f"{f.unexpected_count} ({f.unexpected_percent or 0:.2f}%)"
            observed = f.error or ("" if f.observed_value is None else json.dumps(f.observed_value))
            sample = ", ".join(json.dumps(v) for v in f.unexpected_values)
            cells = [f.expectation, f.column or "", unexpected, observed, sample]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        for f in self.failed:
            if not f.offending_rows:
                continue
            where = f" in partition(s) {', '.join(f.partitions)}" if f.partitions else ""
            lines += ["", f"**{f.expectation}** on `{f.column}`{where}: sample of offending rows", ""]
            header = list(f.offending_rows[0])
            lines.append("| " + " | ".join(_cell(h) for h in header) + " |")
            lines.append("|" + "---|" * len(header))
            for row in f.offending_rows:
                lines.append("| " + " | ".join(_cell(json.dumps(row.get(h))) for h in header) + " |")
        return "\n".join(lines)

    @property
    def failed_partitions(self) -> list[str]:
        """Every partition named by a failed expectation."""
        return sorted({p for f in self.failed for p in f.partitions})


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


class RelationUnavailable(Exception):
    """The suite's relation cannot be read: it does not exist, lacks declared columns, or fails to scan."""


# -- parsing -----------------------------------------------------------------------------------


class AtlasSuiteMeta(Declaration):
    """`meta.atlas` of a suite file: what Atlas attaches the suite to and how it reads the rows."""

    asset: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    relation: str
    blocking: bool
    description: str = ""
    columns: list[Annotated[str, Field(min_length=1)]] = []
    sample_rows: int | None = Field(default=None, ge=1)
    query: str | None = None
    partition_column: str | None = Field(default=None, min_length=1)

    @field_validator("relation")
    @classmethod
    def _relation(cls, relation: str) -> str:
        if not _RELATION.match(relation):
            raise ValueError("must name a relation as schema.name (unquoted identifiers)")
        return relation

    @field_validator("columns")
    @classmethod
    def _columns_once(cls, columns: list[str]) -> list[str]:
        if len({c.lower() for c in columns}) != len(columns):
            raise ValueError("lists a column twice")
        return columns

    @field_validator("query")
    @classmethod
    def _select(cls, query: str | None) -> str | None:
        if query is not None and not query.lstrip().lower().startswith(("select", "with")):
            raise ValueError("must be a SELECT (or WITH ... SELECT) statement")
        return query


class _GxObject(Declaration):
    # What GX writes beside Atlas's keys (ids, notes, rendered content) is GX's business.
    model_config = ConfigDict(extra="allow")


class SuiteMeta(_GxObject):
    atlas: AtlasSuiteMeta


class ExpectationDeclaration(_GxObject):
    """One expectation as GX writes it; its kwargs are GX's to check, when the suite runs."""

    type: str
    kwargs: dict[str, Any] = {}
    meta: dict[str, Any] = {}

    @field_validator("type")
    @classmethod
    def _snake_case(cls, kind: str) -> str:
        if not _EXPECTATION_TYPE.match(kind):
            raise ValueError("must be a GX expectation type in snake_case, e.g. expect_column_values_to_not_be_null")
        return kind


class SuiteDeclaration(_GxObject):
    """The shape of a suite file under `checks/`."""

    name: str
    meta: SuiteMeta
    expectations: list[ExpectationDeclaration] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _identifier(cls, name: str) -> str:
        if not _SUITE_NAME.match(name):
            raise ValueError("must be letters, digits and underscores, not starting with a digit")
        return name

    @model_validator(mode="after")
    def _columns_fetched(self) -> SuiteDeclaration:
        # With `meta.atlas.columns`, only those are fetched: an expectation on another would fail late.
        declared = {c.lower() for c in self.meta.atlas.columns}
        for i, item in enumerate(self.expectations if declared else ()):
            named = [(k, item.kwargs[k]) for k in _COLUMN_KWARGS if k in item.kwargs]
            named += [(k, c) for k in _COLUMN_LIST_KWARGS for c in item.kwargs.get(k) or []]
            for key, column in named:
                if not isinstance(column, str) or column.lower() not in declared:
                    raise ValueError(
                        f"field 'expectations[{i}].kwargs.{key}' names column {column!r}, which is not in meta.atlas.columns"
                    )
        return self


def parse_suite(path: Path) -> DeclaredSuite:
    """Parse one suite file; a DeclarationError lists every problem, naming the file and the field."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DeclarationError(f"{path}: not valid JSON: {exc}") from exc
    declared = validate_declaration(SuiteDeclaration, data, path, entry=None)
    atlas = declared.meta.atlas
    return DeclaredSuite(
        name=declared.name,
        asset=tuple(atlas.asset),
        relation=atlas.relation,
        blocking=atlas.blocking,
        description=atlas.description,
        expectations=tuple(DeclaredExpectation(type=e.type, kwargs=e.kwargs, meta=e.meta) for e in declared.expectations),
        columns=tuple(atlas.columns),
        sample_rows=atlas.sample_rows,
        query=atlas.query,
        partition_column=atlas.partition_column,
        declared_in=path,
    )


def load_suites(checks_dir: Path) -> list[DeclaredSuite]:
    """Every `*.json` suite under `checks_dir` (recursively), sorted by path; suite names are unique."""
    suites = [parse_suite(p) for p in sorted(Path(checks_dir).rglob("*.json"))]
    seen: dict[str, Path] = {}
    for suite in suites:
        if suite.name in seen:
            raise DeclarationError(
                f"{suite.declared_in}: field 'name' {suite.name!r} is already used by {seen[suite.name]}"
            )
        seen[suite.name] = suite.declared_in
    return suites


# -- fetching ----------------------------------------------------------------------------------


def fetch_frame(con: duckdb.DuckDBPyConnection, suite: DeclaredSuite) -> pd.DataFrame:
    """The rows the suite validates, as pandas; `RelationUnavailable` with a plain message otherwise."""
    import duckdb

    try:
        con.execute(f"select * from {suite.source_sql} limit 0")
    except duckdb.CatalogException:
        raise RelationUnavailable(
            f"relation {suite.relation} does not exist (has asset {'/'.join(suite.asset)} been materialized?)"
        ) from None
    except duckdb.Error as exc:
        raise RelationUnavailable(f"relation {suite.relation} cannot be read: {_first_line(exc)}") from None
    present = {d[0].lower() for d in con.description}
    missing = [c for c in suite.fetched_columns if c.lower() not in present]
    if missing:
        raise RelationUnavailable(f"relation {suite.relation} lacks declared columns: {', '.join(missing)}")
    try:
        if not suite.sample_rows:
            return con.execute(suite.select_sql()).df()
        # A seeded sample is only repeatable single-threaded (DuckDB docs, "Samples").
        con.execute("set threads = 1")
        try:
            return con.execute(suite.select_sql()).df()
        finally:
            con.execute("reset threads")
    except duckdb.Error as exc:
        raise RelationUnavailable(f"relation {suite.relation} cannot be read: {_first_line(exc)}") from None


# -- validating --------------------------------------------------------------------------------


def validate(suite: DeclaredSuite, df: pd.DataFrame) -> SuiteOutcome:
    """Run the suite on a DataFrame with an ephemeral GX context (no files written)."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    gx_suite = ExpectationSuite(name=suite.name)
    for i, declared in enumerate(suite.expectations):
        try:
            expectation = ExpectationConfiguration(
                type=declared.type, kwargs=dict(declared.kwargs), meta=dict(declared.meta)
            ).to_domain_obj()
        except Exception as exc:  # unknown type (ExpectationNotFoundError) or bad kwargs (pydantic)
            raise DeclarationError(
                f"{suite.declared_in}: field 'expectations[{i}]' ({declared.type}) is not a valid GX expectation: "
                f"{' '.join(str(exc).split())}"
            ) from exc
        gx_suite.add_expectation(expectation)
    batch = (
        context.data_sources.add_pandas("atlas")
        .add_dataframe_asset(suite.name)
        .add_batch_definition_whole_dataframe("whole_dataframe")
        .get_batch(batch_parameters={"dataframe": df})
    )
    result = batch.validate(
        gx_suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20}
    )
    failed = tuple(_failure(item, df, suite.partition_column) for item in result.results if not item.success)
    return SuiteOutcome(
        suite=suite.name,
        success=bool(result.success),
        rows=len(df),
        evaluated=len(result.results),
        failed=failed,
    )


def _failure(item: Any, df: pd.DataFrame, partition_column: str | None) -> FailedExpectation:
    config = item.expectation_config
    details = item.result or {}
    # GX names the offending rows by index (pandas); show a few whole rows and their partitions.
    index = [i for i in details.get("partial_unexpected_index_list") or [] if i in df.index]
    offending = [
        {str(k): _jsonable(v) for k, v in row.items()} for row in df.loc[index[:OFFENDING_ROWS_SHOWN]].to_dict("records")
    ]
    partitions: list[str] = []
    if partition_column and partition_column in df.columns and index:
        partitions = sorted({str(_jsonable(v)) for v in df.loc[index, partition_column]})
    error = _exception_message(item.exception_info or {})
    distinct: list[Any] = []
    for value in details.get("partial_unexpected_list") or []:
        value = _jsonable(value)
        if value not in distinct:
            distinct.append(value)
        if len(distinct) == UNEXPECTED_SAMPLE_SIZE:
            break
    percent = details.get("unexpected_percent")
    return FailedExpectation(
        expectation=config.type,
        column=config.kwargs.get("column"),
        unexpected_count=None if details.get("unexpected_count") is None else int(details["unexpected_count"]),
        unexpected_percent=None if percent is None else round(float(percent), 4),
        observed_value=_jsonable(details.get("observed_value")),
        unexpected_values=distinct,
        error=None if error is None else _first_line(error),
        partitions=partitions,
        offending_rows=offending,
    )


def _exception_message(info: Mapping[str, Any]) -> str | None:
    """GX reports an expectation that raised either flat or keyed by metric; return the first message."""
    candidates = [info, *(v for v in info.values() if isinstance(v, Mapping))]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            return str(candidate.get("exception_message") or "raised an exception")
    return None


def _jsonable(value: Any) -> Any:
    """Make a GX/pandas/numpy value JSON-safe: scalars unwrapped, NaN/NaT to None, timestamps ISO."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat") and callable(value.isoformat):  # pandas Timestamp (NaT is handled below)
        text = value.isoformat()
        return None if text == "NaT" else text
    if hasattr(value, "item"):  # numpy scalar
        try:
            return _jsonable(value.item())
        except (ValueError, TypeError):
            pass
    if hasattr(value, "tolist"):  # numpy array
        return _jsonable(value.tolist())
    text = str(value)
    return None if text in ("NaT", "<NA>", "nan") else text


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _first_line(exc: BaseException | str) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
