"""Column contracts: what each input's files must hold and how their columns are typed at landing.

Each input declares one contract in `checks/files/<input>.yaml`:

    source: azure_cost_details_actual
    columns:                       # typed once at landing; every other column is kept as delivered
      BillingAccountId: {type: varchar, required: true, not_null: true}
      Date: {type: date, formats: ["%m/%d/%Y", "%Y-%m-%d"], required: true, not_null: true}
      CostInBillingCurrency: {type: money, required: true, not_null: true, aliases: [Cost, PreTaxCost]}
      Tags: {type: json, wrap_object: true}
    rules:                         # row rules beyond the types
      - {expect: currency_code, column: BillingCurrencyCode}
      - {expect: non_negative, column: Quantity, when: {ChargeType: [Usage]}}

Column `type`: `varchar` (kept as text), `money` and `decimal` (exact DECIMAL from the text the
provider wrote — floats through their shortest round-trip text), `integer`, `double`, `date`,
`timestamp` (UTC), `json`, or any DuckDB type for nested values (`STRUCT(...)[]`, `MAP(...)`).
Names match case-insensitively; `aliases` are other names providers use for the same column (export
schema variants), renamed to the contract's name at landing so every later layer sees one name.
`required`: the file must have the column (or an alias); `not_null`: no row may lack a value.
`formats` (dates, timestamps): strptime patterns or `iso8601`; (money, decimal): `plain`, `us_currency`;
(json): `python_literal` for a Python-style list or dict (`[{'k': None}]`, as CSV flattenings of
BigQuery's repeated fields write them). In a nested type, `MONEY` stands for the money type.
`columns_from: <name>` starts from the shared column set `checks/files/_<name>_columns.yaml`.

A typed column's value spelled as a null (NULL_SPELLINGS: empty, `None`, `null`, `NaN`, `N/A`, `""`)
is NULL; a value that is still not of its type rejects the file (lib/ingest/file_validation.py names the
file, row and column). An input without typed columns (telemetry, parsed in staging) keeps every
column as delivered; its contract's `rules` still validate each file.

This module only parses declarations (no DuckDB); the SQL lives in lib/typed_landing.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from atlas_pipeline.lib.declarations import Declaration, DeclarationError, read_declaration, validate_declaration
from atlas_pipeline.lib.settings import CHECKS_DIR
from atlas_pipeline.lib.warehouse.dbt_project import dbt_project_vars

CONTRACTS_DIR = CHECKS_DIR / "files"
# How exports spell "no value" in a typed (number, date, JSON) column, compared trimmed and lowercased.
NULL_SPELLINGS = ("", "none", "null", "nan", "n/a", '""')
# A spreadsheet's US currency: a leading $ and , thousands separators in groups of three, accepted
# only when the $ or a decimal point makes the grouping unambiguous (a bare "1,000" could be 1.000).
US_CURRENCY_REGEX = r"-?\$(\d{1,3}(,\d{3})*|\d+)(\.\d+)?|-?\d{1,3}(,\d{3})+\.\d+"
ISO8601_PREFIX_REGEX = r"^\d{4}-\d{2}-\d{2}"
# No single line item is a quadrillion in any currency: larger amounts are corrupt values (1e30).
MAX_ABS_MONEY = 10**15

SCALAR_TYPES = ("varchar", "money", "decimal", "integer", "double", "date", "timestamp", "json")
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
DECIMAL_FORMATS = ("plain", "us_currency")


@cache
def money_type() -> str:
    """The DuckDB type of every money and quantity column: dbt's `money_type` var (one definition)."""
    return str(dbt_project_vars()["money_type"])


@dataclass(frozen=True)
class ColumnSpec:
    """One declared column of an input's files."""

    name: str
    type: str
    formats: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    required: bool = False
    not_null: bool = False
    wrap_object: bool = False  # json: a value without its enclosing braces (`"a": "b"`) is one object

    @property
    def duckdb_type(self) -> str:
        """The type the column has after landing."""
        return {
            "varchar": "VARCHAR",
            "money": money_type(),
            "decimal": money_type(),
            "integer": "BIGINT",
            "double": "DOUBLE",
            "date": "DATE",
            "timestamp": "TIMESTAMP WITH TIME ZONE",
            "json": "JSON",
        }.get(self.type) or re.sub(r"\bMONEY\b", money_type(), self.type)

    @property
    def typed(self) -> bool:
        """Whether landing converts the column (varchar columns are kept as delivered)."""
        return self.type != "varchar"

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Rule:
    """One row-level expectation of a file contract."""

    expect: str
    column: str
    formats: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()  # sentinel texts that are not values (e.g. sacct's `Unknown`)
    when: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # in_billing_period: days before the period a value may fall (an invoice carries late usage);
    # the end stays exclusive: usage billed before it happened is never right.
    slack_days_before: int = 0


@dataclass(frozen=True)
class FileContract:
    """What every file of one input must satisfy, and how its columns are typed at landing."""

    source: str
    columns: tuple[ColumnSpec, ...]
    rules: tuple[Rule, ...]
    declared_in: Path
    extra_mandatory: tuple[tuple[str, ...], ...] = ()  # `mandatory_columns` of contracts without typed columns

    @property
    def mandatory_columns(self) -> tuple[tuple[str, ...], ...]:
        """Each required column with its alternative names: one of each must be in every file."""
        return tuple(c.names() for c in self.columns if c.required) + self.extra_mandatory

    @property
    def typed_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if c.typed)

    def column(self, name: str) -> ColumnSpec | None:
        """The declared column of that name (case-insensitive), if any."""
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)

    def validation_rules(self) -> tuple[Rule, ...]:
        """Every row rule a file is judged by: the declared rules, `not_null` of declared columns,
        and for each typed column the rule that its values parse as that type."""
        implied = [Rule("not_null", c.name) for c in self.columns if c.not_null]
        for c in self.typed_columns:
            if c.type in ("money", "decimal", "integer", "date", "timestamp"):
                implied.append(Rule("integer" if c.type == "integer" else c.type.replace("money", "decimal"),
                                    c.name, formats=c.formats))
        return tuple(implied) + self.rules


_NESTED_TYPE = re.compile(r"^(STRUCT|MAP|[A-Z]+\[\]|VARCHAR\[\])")


def _texts(value: object) -> object:
    """A list of names or values as text (YAML reads `2026` or `true` as numbers and booleans)."""
    return [str(v) for v in value] if isinstance(value, list) else value


Texts = Annotated[list[str], BeforeValidator(_texts)]


class ColumnDeclaration(Declaration):
    """One entry of `columns:`: a type, or a mapping with `type` and the column's options."""

    type: str
    formats: Texts = []
    aliases: list[str] = []
    required: bool = False
    not_null: bool = False
    wrap_object: bool = False
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, item: object) -> object:
        return {"type": item} if isinstance(item, str) else item

    @field_validator("type")
    @classmethod
    def _known_type(cls, kind: str) -> str:
        if kind not in SCALAR_TYPES and not _NESTED_TYPE.match(kind):
            raise ValueError(f"must be one of {SCALAR_TYPES} or a DuckDB nested type, got {kind!r}")
        return kind

    @field_validator("formats")
    @classmethod
    def _formats_of_type(cls, formats: list[str], info: ValidationInfo) -> list[str]:
        kind = info.data.get("type")
        if kind in ("money", "decimal", "integer") and not set(formats) <= set(DECIMAL_FORMATS):
            raise ValueError(f"of a number must be among {DECIMAL_FORMATS}")
        if kind == "json" and not set(formats) <= {"python_literal"}:
            raise ValueError("of a json column may only be [python_literal]")
        return formats

    def spec(self, name: str) -> ColumnSpec:
        return ColumnSpec(
            name=name, type=self.type, formats=tuple(self.formats), aliases=tuple(self.aliases),
            required=self.required, not_null=self.not_null, wrap_object=self.wrap_object,
        )


class RuleDeclaration(Declaration):
    """One entry of `rules:`: a row-level expectation on one column."""

    expect: Literal[RULES]  # type: ignore[valid-type]
    column: str
    formats: Texts = []
    values: Texts = []
    allow: Texts = []
    when: dict[str, list[str]] = {}
    slack_days_before: int = Field(default=0, ge=0)

    @field_validator("when", mode="before")
    @classmethod
    def _when_lists(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value  # rejected as not a mapping
        return {str(k): _texts(v if isinstance(v, list) else [v]) for k, v in value.items()}

    @field_validator("formats")
    @classmethod
    def _number_formats(cls, formats: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("expect") in ("decimal", "integer") and not set(formats) <= set(DECIMAL_FORMATS):
            raise ValueError(f"of a number rule must be among {DECIMAL_FORMATS}")
        return formats

    @model_validator(mode="after")
    def _in_set_has_values(self) -> RuleDeclaration:
        if self.expect == "in_set" and not self.values:
            raise ValueError("field 'values' is required for in_set")
        return self

    def rule(self) -> Rule:
        return Rule(
            expect=self.expect, column=self.column, formats=tuple(self.formats), values=tuple(self.values),
            allow=tuple(self.allow), when={k: tuple(v) for k, v in self.when.items()},
            slack_days_before=self.slack_days_before,
        )


class ColumnSetDeclaration(Declaration):
    """A shared column set, `checks/files/_<name>_columns.yaml` (`columns_from: <name>`)."""

    columns: dict[str, ColumnDeclaration] = {}
    columns_from: str | None = None


class ContractDeclaration(ColumnSetDeclaration):
    """The shape of `checks/files/<input>.yaml`."""

    source: str
    rules: list[RuleDeclaration] = []
    # An entry is a column name, or a list of alternative names (export schema variants): one must exist.
    mandatory_columns: list[str | list[str]] = []

    @field_validator("mandatory_columns")
    @classmethod
    def _alternatives_named(cls, value: list[str | list[str]]) -> list[str | list[str]]:
        if any(isinstance(c, list) and not c for c in value):
            raise ValueError("must list column names (or non-empty lists of alternatives)")
        return value


def _columns(path: Path, declared: ColumnSetDeclaration) -> dict[str, ColumnSpec]:
    """The contract's columns: its shared set's (`columns_from`, recursively), then its own."""
    columns: dict[str, ColumnSpec] = {}
    if declared.columns_from is not None:
        base = Path(path).parent / f"_{declared.columns_from}_columns.yaml"
        if not base.exists():
            raise DeclarationError(f"{path}: field 'columns_from' names {base.name}, which does not exist")
        shared = validate_declaration(ColumnSetDeclaration, read_declaration(base) or {}, base)
        columns.update(_columns(base, shared))
    columns.update({name: column.spec(name) for name, column in declared.columns.items()})
    return columns


def parse_contract(path: Path) -> FileContract:
    """Parse one `checks/files/<input>.yaml`; a DeclarationError lists every problem, naming the file
    and the field."""
    declared = validate_declaration(ContractDeclaration, read_declaration(path), path)
    return FileContract(
        source=declared.source,
        columns=tuple(_columns(Path(path), declared).values()),
        rules=tuple(rule.rule() for rule in declared.rules),
        declared_in=Path(path),
        extra_mandatory=tuple((c,) if isinstance(c, str) else tuple(c) for c in declared.mandatory_columns),
    )


@cache
def _contracts(folder: Path) -> dict[str, FileContract]:
    contracts: dict[str, FileContract] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name.startswith("_"):  # shared column sets, not contracts
            continue
        contract = parse_contract(path)
        if contract.source in contracts:
            raise DeclarationError(f"{path}: source {contract.source!r} already has a contract")
        contracts[contract.source] = contract
    return contracts


def input_names(folder: Path = CONTRACTS_DIR) -> tuple[str, ...]:
    """Every input the warehouse models: one contract each. An estate declares where the ones it has
    are; the others are absent (their raw views empty, with the contract's columns)."""
    return tuple(sorted(_contracts(Path(folder))))


def contract_for(source_name: str, folder: Path = CONTRACTS_DIR) -> FileContract | None:
    """The declared contract of an input, if any."""
    return _contracts(Path(folder)).get(source_name)


@cache
def iso_4217_codes(folder: Path = CONTRACTS_DIR) -> tuple[str, ...]:
    """Active ISO 4217 currency codes (checks/files/iso_4217.txt, one per line)."""
    lines = (Path(folder) / "iso_4217.txt").read_text().splitlines()
    return tuple(sorted({ln.split("#", 1)[0].strip() for ln in lines} - {""}))
