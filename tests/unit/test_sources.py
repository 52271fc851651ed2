"""Source declarations parse into typed objects; mistakes name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_pipeline.lib.ingest.sources import DeclarationError, load_sources, parse_source
from atlas_pipeline.lib.settings import DECLARATIONS_DIR

VALID = """
name: demo
description: d
provider: aws
format: aws_cur2_parquet
location: "${ATLAS_EXPORTS}/aws/demo"
include: "data/BILLING_PERIOD=*/*.parquet"
period_pattern: "BILLING_PERIOD=(?P<period>\\\\d{4}-\\\\d{2})"
partitioning: billing_period
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(text)
    return path


def test_bundled_declarations_load():
    names = [s.name for s in load_sources(DECLARATIONS_DIR / "sources")]
    assert {"aws_cur2", "gcp_billing", "azure_cost_details_actual", "azure_cost_details_amortized",
            "dcgm_samples", "slurm_jobs", "gpu_nodes"} <= set(names)


def test_billing_inputs_other_than_the_estates_are_optional():
    sources = {s.name: s for s in load_sources(DECLARATIONS_DIR / "sources")}
    assert {n for n, s in sources.items() if not s.required} == {
        "aws_cur_legacy", "aws_focus", "gcp_billing_detailed", "azure_focus", "saas_focus"}
    assert parse_source_text_required(VALID) is True


def parse_source_text_required(text: str) -> bool:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return parse_source(_write(Path(folder), text + "required: true\n")).required


def test_location_expands_atlas_exports(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_EXPORTS", "/data/exports")
    source = parse_source(_write(tmp_path, VALID))
    assert source.resolved_location() == "/data/exports/aws/demo"
    assert source.period_of("data/BILLING_PERIOD=2026-08/x.parquet") == "2026-08"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("format: aws_cur2_parquet", "format: xlsx"), "field 'format'"),
        (("partitioning: billing_period", "partitioning: weekly"), "field 'partitioning'"),
        (("name: demo", "name: Demo-Source"), "field 'name'"),
        (("provider: aws\n", "provider: aws\ncolour: blue\n"), "field 'colour' is not known"),
        (("include: \"data/BILLING_PERIOD=*/*.parquet\"\n", ""), "field 'include' is required"),
        (("provider: aws\n", "provider: aws\nrequired: maybe\n"), "field 'required'"),
    ],
)
def test_errors_name_file_and_field(tmp_path, change, message):
    path = _write(tmp_path, VALID.replace(*change))
    with pytest.raises(DeclarationError) as err:
        parse_source(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_unset_variable_in_location_is_named(tmp_path):
    source = parse_source(_write(tmp_path, VALID.replace("${ATLAS_EXPORTS}", "${NOPE_NOT_SET}")))
    with pytest.raises(DeclarationError, match="NOPE_NOT_SET"):
        source.resolved_location()


def test_azure_period_comes_from_the_date_range_folder():
    source = next(s for s in load_sources(DECLARATIONS_DIR / "sources") if s.name == "azure_cost_details_actual")
    key = "20260801-20260831/0f1e2d3c/part_1_0001.csv"
    assert source.period_of(key) == "2026-08"
    assert source.delivery_of(key) == "0f1e2d3c"


def test_every_problem_of_a_declaration_is_listed(tmp_path):
    text = (
        VALID.replace("format: aws_cur2_parquet", "format: xlsx")
        .replace("(?P<period>", "(?P<month>")
        .replace("provider: aws\n", "provider: aws\nrequired: maybe\nmax_lateness_hours: -2\n")
        + "delivery_pattern: \"(x\"\n"
    )
    path = _write(tmp_path, text)
    with pytest.raises(DeclarationError) as err:
        parse_source(path)
    assert [p.split(": ", 1)[1].split(" ")[1] for p in err.value.problems] == [
        "'format'", "'period_pattern'", "'delivery_pattern'", "'required'", "'max_lateness_hours'",
    ]
    assert all(p.startswith(f"{path}: field ") for p in err.value.problems)


def test_load_sources_reads_atlas_assets_at_call_time_and_names_duplicates(tmp_path, monkeypatch):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "a.yaml").write_text(VALID)
    (tmp_path / "sources" / "b.yaml").write_text(VALID)
    monkeypatch.setenv("ATLAS_ASSETS", str(tmp_path))
    with pytest.raises(DeclarationError, match="name 'demo' already declared in"):
        load_sources()
    (tmp_path / "sources" / "b.yaml").unlink()
    assert [s.name for s in load_sources()] == ["demo"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("provider: aws\n", "provider: aws\nmax_lateness_hours: soon\n"),
         "field 'max_lateness_hours' must be a number, got 'soon'"),
        (("provider: aws\n", "provider: aws\nmax_lateness_hours: 0\n"), "field 'max_lateness_hours' must be > 0, got 0"),
        (("provider: aws\n", "provider: aws\nmin_redelivery_fraction: 2\n"),
         "field 'min_redelivery_fraction' must be <= 1, got 2"),
        (("description: d\n", "description:\n"), "field 'description' is required"),
        (("description: d\n", "description: 12\n"), "field 'description' must be text, got 12"),
        (("provider: aws\n", "provider: aws\ncolour: blue\n"),
         "field 'colour' is not known (expected one of name, description,"),
    ],
)
def test_type_and_range_problems_are_said_in_the_declarations_terms(tmp_path, change, problem):
    """The pydantic model's verdicts become one line naming the file, the field and the reason."""
    path = _write(tmp_path, VALID.replace(*change))
    with pytest.raises(DeclarationError) as err:
        parse_source(path)
    [line] = err.value.problems
    assert line.startswith(f"{path}: {problem}"), line


def test_a_parsed_source_is_typed_and_frozen(tmp_path):
    import dataclasses

    source = parse_source(_write(tmp_path, VALID + "max_lateness_hours: 12\n"))
    assert source.max_lateness_hours == 12.0 and isinstance(source.max_lateness_hours, float)
    assert source.declared_in == str(tmp_path / "demo.yaml") and source.required is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        source.name = "other"  # type: ignore[misc]
