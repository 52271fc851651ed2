"""SQL for typing a delivered file's columns as its contract declares, and for each row rule.

Landing reads a delivered file once (lib/file_validation.py). This module writes the SQL that
projection uses: for every declared column, its value parsed to the declared type (`parsed`), and
for every rule of the contract — including "parses as its type" — a predicate that is true for an
offending row (`Check`). The same predicates guard the landing pass (the first offending row aborts
it) and, only when a file is rejected, count and sample the offenders for the quarantine reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from atlas_pipeline.lib.contracts import (
    ISO8601_PREFIX_REGEX,
    MAX_ABS_MONEY,
    NULL_SPELLINGS,
    US_CURRENCY_REGEX,
    ColumnSpec,
    FileContract,
    Rule,
    iso_4217_codes,
)
from atlas_pipeline.lib.raw_relations import quote_identifier as q
from atlas_pipeline.lib.raw_relations import sql_literal as lit

_TEXT_TYPES = ("VARCHAR",)
_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "FLOAT", "DOUBLE")


def cleaned(expr: str) -> str:
    """The value as trimmed text; NULL when it is spelled as a null (NULL_SPELLINGS)."""
    text = f"trim(cast({expr} as varchar))"
    spellings = ", ".join(lit(s) for s in NULL_SPELLINGS)
    return f"(case when lower({text}) in ({spellings}) then null else {text} end)"


def _number(text: str, target: str, formats: tuple[str, ...]) -> str:
    readings = []
    if not formats or "plain" in formats:
        readings.append(f"try_cast({text} as {target})")
    if "us_currency" in formats:
        readings.append(
            f"case when regexp_full_match({text}, {lit(US_CURRENCY_REGEX)}) "
            f"then try_cast(replace(replace({text}, '$', ''), ',', '') as {target}) end"
        )
    return readings[0] if len(readings) == 1 else f"coalesce({', '.join(readings)})"


def _moment(text: str, formats: tuple[str, ...]) -> str:
    """Text -> TIMESTAMP WITH TIME ZONE by the declared formats (iso8601 by default)."""
    formats = formats or ("iso8601",)
    readings = []
    if "iso8601" in formats:
        # Offset honoured ('Z', '+00:00', ' UTC'); none = UTC. Only text of that shape: DuckDB's own
        # cast would read a US date like 5/1/25 as the year 5.
        readings.append(
            f"case when regexp_matches({text}, {lit(ISO8601_PREFIX_REGEX)}) "
            f"then try_cast({text} as timestamp with time zone) end"
        )
    patterns = [f for f in formats if f != "iso8601"]
    if patterns:
        readings.append(f"timezone('UTC', try_strptime({text}, [{', '.join(lit(p) for p in patterns)}]))")
    return readings[0] if len(readings) == 1 else f"coalesce({', '.join(readings)})"


def _nulls(expr: str) -> str:
    """How many NULL leaves the text form of a nested value shows (a failed field cast adds one)."""
    text = f"coalesce(cast({expr} as varchar), '')"
    return f"((length({text}) - length(replace({text}, 'NULL', ''))) // 4)"


def parsed(spec: ColumnSpec, column: str, physical: str) -> str:
    """SQL: the file's `column` (of DuckDB type `physical`) as the declared type; NULL when absent,
    spelled as a null, or not of that type (the type check tells those apart)."""
    ref = q(column)
    physical = physical.upper()
    target = spec.duckdb_type
    if spec.type in ("money", "decimal", "integer", "double"):
        # Through text: a float's shortest round-trip text is the value the provider wrote, and
        # NaN (how pandas writes a missing float) reads as the null it means.
        return _number(cleaned(ref), target, spec.formats)
    if spec.type in ("date", "timestamp"):
        if physical.startswith(("TIMESTAMP", "DATE")):
            moment = f"cast({ref} as timestamp with time zone)"
        else:
            moment = _moment(cleaned(ref), spec.formats)
        return f"cast({moment} as date)" if spec.type == "date" else moment
    if spec.type == "json":
        if physical == "JSON":
            return ref
        if physical.startswith(("MAP", "STRUCT")) or physical.endswith("]"):
            return f"to_json({ref})"
        text = cleaned(ref)
        if "python_literal" in spec.formats:  # single quotes -> double; None/True/False -> JSON null
            text = f"regexp_replace(replace({text}, chr(39), '\"'), '\\b(None|True|False)\\b', 'null', 'g')"
        if spec.wrap_object:  # older Azure exports write tags without the enclosing braces
            text = f"(case when starts_with({text}, '{{') then {text} else '{{' || {text} || '}}' end)"
        return f"try_cast({text} as json)"
    if spec.type == "varchar":
        return f"cast({ref} as varchar)"
    # A nested DuckDB type: a float inside goes through text like a scalar one.
    if "DOUBLE" in physical or "FLOAT" in physical:
        as_text = re.sub(r"DECIMAL\(\d+,\s*\d+\)", "VARCHAR", target, flags=re.IGNORECASE)
        return f"try_cast(try_cast({ref} as {as_text}) as {target})"
    return f"try_cast({ref} as {target})"


@dataclass(frozen=True)
class Check:
    """One rule on one column: `offends` is a SQL predicate true for an offending row; `observed`
    the value to show for it."""

    label: str  # e.g. "decimal(Cost)"
    column: str  # the contract's (canonical) column name
    expectation: str
    offends: str
    observed: str


def type_checks(spec: ColumnSpec, column: str, typed: str) -> list[Check]:
    """The offending rows of a typed column: a value that is there (not spelled as a null) but does
    not parse as its type; for money, also an amount no line item has (>= MAX_ABS_MONEY)."""
    if not spec.typed:
        return []
    ref, observed = q(column), f"cast({q(column)} as varchar)"
    if spec.type not in ("money", "decimal", "integer", "double", "date", "timestamp", "json"):
        offends = f"({ref} is not null and {typed} is null) or {_nulls(typed)} > {_nulls(ref)}"
        return [Check(f"type({spec.name})", spec.name, spec.duckdb_type, offends, observed)]
    kind = {"money": "decimal", "double": "number", "json": "JSON"}.get(spec.type, spec.type)
    expectation = kind + (f" ({', '.join(spec.formats)})" if spec.formats else "")
    present_but_unparsed = f"{cleaned(ref)} is not null and {typed} is null"
    checks = [Check(f"{kind}({spec.name})", spec.name, expectation, present_but_unparsed, observed)]
    if spec.type == "money":
        checks.append(Check(f"money_range({spec.name})", spec.name, f"|amount| < {MAX_ABS_MONEY:.0e}",
                            f"coalesce(abs({typed}) >= {MAX_ABS_MONEY}, false)", observed))
    return checks


def rule_check(rule: Rule, contract: FileContract | None, columns: dict[str, str], bounds: tuple[date, date] | None,
               typed: dict[str, str]) -> Check | None:
    """The offending rows of one declared rule, over the file's columns (`columns`: lowercased
    contract name -> the file's column) and the typed values (`typed`: lowercased name -> SQL).
    None when the file lacks the rule's column (or a `when` column)."""
    name = rule.column.lower()
    struct, _, member = name.partition(".")
    if name in columns:
        ref = q(columns[name])
    elif member and struct in columns:  # a field of a nested column (JSON exports): `invoice.month`
        ref = f"{q(columns[struct])}.{q(rule.column.partition('.')[2])}"
    else:
        return None
    if not all(c.lower() in columns for c in rule.when):
        return None
    text = f"nullif(trim(cast({ref} as varchar)), '')"
    value = typed.get(name)
    allowed = f" and {text} not in ({', '.join(lit(a) for a in rule.allow)})" if rule.allow else ""
    expectation = rule.expect
    if rule.expect in ("decimal", "integer", "date", "timestamp"):
        if value is not None and not rule.formats:
            return None  # a typed column: its type check covers it
        spec = ColumnSpec(rule.column, "money" if rule.expect == "decimal" else rule.expect, formats=rule.formats)
        pred = f"{text} is not null{allowed} and {parsed(spec, columns[name], 'VARCHAR')} is null"
    elif rule.expect == "not_null":  # spelled as a null counts as missing; unparseable is the type check's
        pred = f"{cleaned(ref)} is null" if value is not None else f"{text} is null"
    elif rule.expect == "in_set":
        pred = f"{text} is not null and {text} not in ({', '.join(lit(v) for v in rule.values)})"
    elif rule.expect == "currency_code":
        pred = f"{text} is not null and {text} not in ({', '.join(lit(c) for c in iso_4217_codes())})"
    elif rule.expect == "non_negative":
        pred = f"{value if value is not None else f'try_cast({text} as double)'} < 0"
    else:  # in_billing_period
        if bounds is None:
            return None
        start, end = bounds
        start = date.fromordinal(start.toordinal() - rule.slack_days_before)
        if value is not None and not rule.formats:
            moment = value
        else:
            moment = _moment(text, rule.formats)
        day = f"cast({moment} as date)"
        outside = f"{day} < date {lit(start.isoformat())} or {day} >= date {lit(end.isoformat())}"
        pred = f"{text} is not null{allowed} and ({outside})"
        expectation += f" [{start}, {end})"
    for column, values in rule.when.items():
        when = q(columns[column.lower()])
        pred = f"({pred}) and cast({when} as varchar) in ({', '.join(lit(v) for v in values)})"
        expectation += f" when {column} in {list(values)}"
    return Check(f"{rule.expect}({rule.column})", rule.column, expectation, f"coalesce({pred}, false)",
                 f"cast({ref} as varchar)")
