"""Great Expectations suites declared as JSON in `checks/`, validated on data pulled from DuckDB.

A suite file is what `ExpectationSuite.to_json_dict()` writes, plus Atlas's keys under
`meta.atlas`: `asset` (Dagster asset key path), `relation` (what to validate), `blocking`,
`description`, and optionally `columns` (only these are fetched) and `sample_rows` (validate a
repeatable sample of at most N rows instead of the whole relation). GX is imported lazily: it
costs seconds, and definitions must load fast.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from atlas_pipeline.lib.sources import DeclarationError


@dataclass(frozen=True)
class DeclaredSuite:
    name: str
    asset: tuple[str, ...]
    relation: str
    blocking: bool
    description: str
    expectations: tuple[dict, ...]
    columns: tuple[str, ...] = ()
    sample_rows: int | None = None
    declared_in: str = ""

    def fetch_sql(self) -> str:
        cols = ", ".join(f'"{c}"' for c in self.columns) if self.columns else "*"
        sample = f" using sample reservoir({self.sample_rows} rows) repeatable (42)" if self.sample_rows else ""
        return f"select {cols} from {self.relation}{sample}"


@dataclass
class SuiteOutcome:
    success: bool
    evaluated: int
    failed: list[dict] = field(default_factory=list)


def parse_suite(path: Path) -> DeclaredSuite:
    """Parse one suite file; errors name the file and the field."""
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DeclarationError(f"{path}: not valid JSON: {exc}") from exc
    atlas = (data.get("meta") or {}).get("atlas")
    if not isinstance(atlas, dict):
        raise DeclarationError(f"{path}: field 'meta.atlas' is required")
    for key in ("asset", "relation", "blocking"):
        if key not in atlas:
            raise DeclarationError(f"{path}: field 'meta.atlas.{key}' is required")
    if not data.get("name"):
        raise DeclarationError(f"{path}: field 'name' is required")
    expectations = data.get("expectations") or []
    for i, expectation in enumerate(expectations):
        if not expectation.get("type"):
            raise DeclarationError(f"{path}: field 'expectations[{i}].type' is required")
    return DeclaredSuite(
        name=data["name"],
        asset=tuple(atlas["asset"]),
        relation=atlas["relation"],
        blocking=bool(atlas["blocking"]),
        description=atlas.get("description", ""),
        expectations=tuple(expectations),
        columns=tuple(atlas.get("columns") or ()),
        sample_rows=atlas.get("sample_rows"),
        declared_in=str(path),
    )


def load_suites(checks_dir: Path) -> list[DeclaredSuite]:
    return [parse_suite(p) for p in sorted(checks_dir.rglob("*.json"))]


def validate(suite: DeclaredSuite, df: pd.DataFrame) -> SuiteOutcome:
    """Run the suite on a DataFrame with an ephemeral GX context."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("atlas")
        .add_dataframe_asset(suite.name)
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": df})
    )
    gx_suite = ExpectationSuite(name=suite.name)
    for expectation in suite.expectations:
        gx_suite.add_expectation(
            ExpectationConfiguration(type=expectation["type"], kwargs=expectation.get("kwargs", {})).to_domain_obj()
        )
    result = batch.validate(gx_suite)
    failed = []
    for item in result.results:
        if item.success:
            continue
        details = item.result or {}
        failed.append(
            {
                "expectation": item.expectation_config.type,
                "column": item.expectation_config.kwargs.get("column"),
                "unexpected_count": details.get("unexpected_count"),
                "observed_value": details.get("observed_value"),
                "sample_unexpected": [str(v) for v in (details.get("partial_unexpected_list") or [])[:5]],
            }
        )
    return SuiteOutcome(success=bool(result.success), evaluated=len(result.results), failed=failed)
