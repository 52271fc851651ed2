"""SQL for typing a delivered file's columns as its contract declares, and for each row rule.

Landing reads a delivered file once (lib/ingest/file_validation.py). This module writes the SQL that
projection uses: for every declared column, its value parsed to the declared type (`parsed`), and
for every rule of the contract — including "parses as its type" — a predicate that is true for an
offending row (`Check`). The same predicates guard the landing pass (the first offending row aborts
it) and, only when a file is rejected, count and sample the offenders for the quarantine reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from atlas_pipeline.lib.ingest.contracts import (
    ISO8601_PREFIX_REGEX,
    MAX_ABS_MONEY,
    NULL_SPELLINGS,
    US_CURRENCY_REGEX,
    ColumnSpec,
    FileContract,
    Rule,
    iso_4217_codes,
)
from atlas_pipeline.lib.ingest.raw_relations import quote_identifier as q
from atlas_pipeline.lib.ingest.raw_relations import sql_literal as lit

_TEXT_TYPES = ("VARCHAR",)
_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "FLOAT", "DOUBLE")


def one_of(expr: str, values) -> str:
    """SQL: `expr` is one of the constant `values` (NULL when `expr` is NULL), as `list_contains`, not
    `expr in (...)`: DuckDB plans an IN list of 5 or more constants as a join over every row, which
    costs a hash probe per row and gives up the rows' order (landing writes rows in the delivered
    order: file_validation)."""
    return f"list_contains([{', '.join(lit(v) for v in values)}], {expr})"


def cleaned(expr: str) -> str:
    """The value as trimmed text; NULL when it is spelled as a null (NULL_SPELLINGS)."""
    text = f"trim(cast({expr} as varchar))"
    # Only short texts can be a null spelling: their byte length (strlen, no UTF-8 decoding) is
    # tested first, and lower() runs only on those. (The spellings are ASCII, so a text longer in
    # bytes than the longest cannot be one: ~6 % of a CUR file's landing CPU was this test, spelled
    # as one `lower(...) = '...'` per spelling.)
    longest = max(len(s.encode()) for s in NULL_SPELLINGS)
    return (f"(case when strlen({text}) > {longest} then {text} "
            f"when {one_of(f'lower({text})', NULL_SPELLINGS)} then null else {text} end)")


_DECIMAL = re.compile(r"^\s*DECIMAL\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*$", re.IGNORECASE)
# The widest DECIMAL DuckDB stores in 64 bits. Text -> DECIMAL(38, s) parses into a 128-bit
# integer, 20-50x slower than text -> DECIMAL(18, s) (README "Performance").
_NARROW_WIDTH = 18


def exact_decimal(text: str, target: str) -> str:
    """SQL: `try_cast(text as target)`, computed fast. For a wide DECIMAL(w, s) (w > 18), the text
    is first read as DECIMAL(18, s) — the same value at the same scale, rounded the same way, for
    every amount under 10^(18-s) — and only text that does not fit (or does not parse) goes
    through the wide cast; COALESCE evaluates its second argument only for those rows. One
    exception (DuckDB 1.5): with an exponent, the 64-bit reading drops the mantissa's digits past
    the 18th instead of rounding them (`-8.506032474180714057e5`), so such text takes the wide
    cast; at most 19 bytes, an exponent leaves at most 17 digits to the mantissa.
    tests/unit/test_exact_decimal_parse.py holds both readings equal."""
    match = _DECIMAL.match(target)
    if not match or int(match[1]) <= _NARROW_WIDTH or int(match[2]) >= _NARROW_WIDTH:
        return f"try_cast({text} as {target})"
    narrow = f"decimal({_NARROW_WIDTH}, {match[2]})"
    safe = f"strlen({text}) <= 19 or not (contains({text}, 'e') or contains({text}, 'E'))"
    return f"coalesce(case when {safe} then try_cast({text} as {narrow}) end, try_cast({text} as {target}))"


def _number(text: str, target: str, formats: tuple[str, ...]) -> str:
    readings = []
    if not formats or "plain" in formats:
        readings.append(exact_decimal(text, target))
    if "us_currency" in formats:
        plain = f"replace(replace({text}, '$', ''), ',', '')"
        readings.append(
            f"case when regexp_full_match({text}, {lit(US_CURRENCY_REGEX)}) then {exact_decimal(plain, target)} end"
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


def parsed(spec: ColumnSpec, column: str, physical: str, text: str | None = None) -> str:
    """SQL: the file's `column` (of DuckDB type `physical`) as the declared type; NULL when absent,
    spelled as a null, or not of that type (the type check tells those apart). `text`: SQL naming
    the column's `cleaned` text where the caller computed it once (default: computed here)."""
    ref = q(column)
    physical = physical.upper()
    target = spec.duckdb_type
    text = text or cleaned(ref)
    if spec.type in ("money", "decimal", "integer", "double"):
        # Through text: a float's shortest round-trip text is the value the provider wrote, and
        # NaN (how pandas writes a missing float) reads as the null it means.
        return _number(text, target, spec.formats)
    if spec.type in ("date", "timestamp"):
        if physical.startswith(("TIMESTAMP", "DATE")):
            moment = f"cast({ref} as timestamp with time zone)"
        else:
            moment = _moment(text, spec.formats)
        return f"cast({moment} as date)" if spec.type == "date" else moment
    if spec.type == "json":
        if physical == "JSON":
            return ref
        if physical.startswith(("MAP", "STRUCT")) or physical.endswith("]"):
            return f"to_json({ref})"
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
    """One rule on one column: `offends` is a SQL predicate true for an offending row (false or NULL
    otherwise: every use — CASE WHEN, WHERE, FILTER — reads NULL as false); `observed` the value to
    show for it. Conjunctions put the cheap, rarely true test first: the landing pass evaluates each
    of them once per row, and DuckDB evaluates a later term only for the rows still in question."""

    label: str  # e.g. "decimal(Cost)"
    column: str  # the contract's (canonical) column name
    expectation: str
    offends: str
    observed: str


def type_checks(spec: ColumnSpec, column: str, typed: str, text: str | None = None) -> list[Check]:
    """The offending rows of a typed column: a value that is there (not spelled as a null) but does
    not parse as its type; for money, also an amount no line item has (>= MAX_ABS_MONEY). `text`:
    SQL naming the column's `cleaned` text where the caller computed it once."""
    if not spec.typed:
        return []
    ref, observed = q(column), f"cast({q(column)} as varchar)"
    if spec.type not in ("money", "decimal", "integer", "double", "date", "timestamp", "json"):
        offends = f"({ref} is not null and {typed} is null) or {_nulls(typed)} > {_nulls(ref)}"
        return [Check(f"type({spec.name})", spec.name, spec.duckdb_type, offends, observed)]
    kind = {"money": "decimal", "double": "number", "json": "JSON"}.get(spec.type, spec.type)
    expectation = kind + (f" ({', '.join(spec.formats)})" if spec.formats else "")
    present_but_unparsed = f"{typed} is null and {text or cleaned(ref)} is not null"
    checks = [Check(f"{kind}({spec.name})", spec.name, expectation, present_but_unparsed, observed)]
    if spec.type == "money":
        checks.append(Check(f"money_range({spec.name})", spec.name, f"|amount| < {MAX_ABS_MONEY:.0e}",
                            f"({typed} >= {MAX_ABS_MONEY} or {typed} <= -{MAX_ABS_MONEY})", observed))
    return checks


def rule_check(rule: Rule, contract: FileContract | None, columns: dict[str, str], bounds: tuple[date, date] | None,
               typed: dict[str, str], texts: dict[str, str] | None = None,
               typed_sql: dict[str, str] | None = None) -> Check | None:
    """The offending rows of one declared rule, over the file's columns (`columns`: lowercased
    contract name -> the file's column) and the typed values (`typed`: lowercased name -> SQL).
    None when the file lacks the rule's column (or a `when` column). Optional, to compute nothing
    twice: `texts` (lowercased name -> SQL naming the column's `cleaned` text) and `typed_sql`
    (lowercased name -> the SQL that computed `typed[name]`)."""
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
    allowed = f" and not {one_of(text, rule.allow)}" if rule.allow else ""
    expectation = rule.expect
    if rule.expect in ("decimal", "integer", "date", "timestamp"):
        if value is not None and not rule.formats:
            return None  # a typed column: its type check covers it
        spec = ColumnSpec(rule.column, "money" if rule.expect == "decimal" else rule.expect, formats=rule.formats)
        reading = parsed(spec, columns[name], "VARCHAR")
        if value is not None and (typed_sql or {}).get(name) == reading:
            reading = value  # the column's typed value is this very reading: not parsed twice
        pred = f"{reading} is null and {text} is not null{allowed}"
    elif rule.expect == "not_null":  # spelled as a null counts as missing; unparseable is the type check's
        if value is not None:
            pred = f"{(texts or {}).get(name) or cleaned(ref)} is null"
        else:  # `{text} is null` without trimming every value: one starting with a visible ASCII character is there
            raw = f"cast({ref} as varchar)"
            pred = f"case when {raw} is null then true when ascii({raw}) between 33 and 127 then false " \
                   f"else trim({raw}) = '' end"
    elif rule.expect == "in_set":
        pred = f"{text} is not null and not {one_of(text, rule.values)}"
    elif rule.expect == "currency_code":
        pred = f"{text} is not null and not {one_of(text, iso_4217_codes())}"
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
        # The day (in the session's time zone) outside [start, end), compared as instants: the same
        # test as `cast(moment as date) < start`, without converting every value to a date.
        first, after = (f"cast(date {lit(d.isoformat())} as timestamp with time zone)" for d in (start, end))
        outside = f"{moment} < {first} or {moment} >= {after}"
        pred = f"({outside}) and {text} is not null{allowed}"
        expectation += f" [{start}, {end})"
    for column, values in rule.when.items():
        when = q(columns[column.lower()])
        pred = f"({pred}) and {one_of(f'cast({when} as varchar)', values)}"
        expectation += f" when {column} in {list(values)}"
    return Check(f"{rule.expect}({rule.column})", rule.column, expectation, f"({pred})",
                 f"cast({ref} as varchar)")
