"""A user's own declarations (`ATLAS_ASSETS`) replace the repository's `assets/`, resolved when
definitions load or an asset runs; `atlas check` reports every problem of every declaration, one
line each naming file and field, without a traceback and without loading Dagster. (The GPU prices
asset run on a user's folder: tests/dagster/test_declarations.py.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from atlas_pipeline.cli import main
from atlas_pipeline.lib.ingest import contracts
from atlas_pipeline.lib.ingest.contracts import input_names
from atlas_pipeline.lib.ingest.declaration_check import check_declarations
from atlas_pipeline.lib.ingest.sources import DeclarationError, load_sources, location_problem, parse_source
from atlas_pipeline.lib.settings import DECLARATIONS_DIR, AtlasPaths, declarations_dir

SLURM = """\
name: slurm_jobs
description: our sacct dumps
provider: telemetry
format: slurm_sacct
location: "{location}"
include: "*/*.sacct.txt"
period_pattern: "^[^/]+/(?P<period>\\\\d{{4}}-\\\\d{{2}}-\\\\d{{2}})\\\\.sacct\\\\.txt$"
partitioning: day
"""


@pytest.fixture
def own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ATLAS_ASSETS folder with one source (Slurm) whose folder exists."""
    folder = tmp_path / "declarations"
    (folder / "sources").mkdir(parents=True)
    (tmp_path / "sacct").mkdir()
    (folder / "sources" / "slurm_jobs.yaml").write_text(SLURM.format(location=tmp_path / "sacct"))
    monkeypatch.setenv("ATLAS_ASSETS", str(folder))
    return folder


def _ingest_keys() -> set[str]:
    """The ingest assets that land a declared source (an undeclared input's asset only stands its
    empty raw view up, and says so in its metadata)."""
    from atlas_pipeline.definitions import defs

    graph = defs().resolve_asset_graph()
    return {
        k.to_user_string() for k in graph.get_all_asset_keys()
        if graph.get(k).group_name == "ingest" and graph.get(k).metadata.get("declared_in") != "(not declared)"
    }


def _absent_input_keys() -> set[str]:
    from atlas_pipeline.definitions import defs

    graph = defs().resolve_asset_graph()
    return {
        k.to_user_string() for k in graph.get_all_asset_keys()
        if graph.get(k).metadata.get("declared_in") == "(not declared)"
    }


def test_without_atlas_assets_the_repository_declarations_are_used(monkeypatch):
    monkeypatch.delenv("ATLAS_ASSETS", raising=False)
    assert declarations_dir() == DECLARATIONS_DIR
    exports = AtlasPaths.from_env().exports
    assert [p.text for p in check_declarations().errors] == [
        f"ATLAS_EXPORTS folder {exports} does not exist (the bundled declarations read exports there)"
    ]
    exports.mkdir(parents=True)  # an empty export folder: every bundled source is absent, none is wrong
    report = check_declarations()
    assert report.errors == [], report.lines()


def test_atlas_assets_replaces_every_declaration_when_definitions_load(own: Path, monkeypatch):
    assert declarations_dir() == own
    assert [s.name for s in load_sources()] == ["slurm_jobs"]
    assert _ingest_keys() >= {"raw/slurm_jobs", "raw/gpu_pricing"}
    # Every input it does not declare is absent: its raw view stands up empty, so the graph is whole.
    assert _absent_input_keys() == {f"raw/{n}" for n in input_names()} - {"raw/slurm_jobs"}
    shutil.rmtree(own / "sources")  # no sources at all: a legal (empty) estate, not an error
    assert load_sources() == []
    assert "raw/slurm_jobs" not in _ingest_keys()
    assert _absent_input_keys() == {f"raw/{n}" for n in input_names()}
    monkeypatch.setenv("ATLAS_ASSETS", str(own / "typo"))
    with pytest.raises(DeclarationError, match="ATLAS_ASSETS=.*typo: no such folder"):
        declarations_dir()


BROKEN_AWS = """\
name: aws_cur2
description: ours
provider: aws
format: csv
location: "https://example.com/cur"
include: "*.parquet"
period_pattern: "BILLING_PERIOD=(\\\\d{4}-\\\\d{2}"
partitioning: billing_period
required: false
"""
BROKEN_GCP = """\
name: gcp_billing
description: ours
provider: gcp
format: gcp_billing_jsonl
location: "${ATLAS_TEST_UNSET_ROOT}/gcp"
include: "*/*.jsonl.gz"
period_pattern: "(?P<month>\\\\d{4}-\\\\d{2})/"
partitioning: billing_period
colour: blue
"""


@pytest.fixture
def broken(own: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("ATLAS_TEST_UNSET_ROOT", raising=False)
    sources = own / "sources"
    (sources / "aws_cur2.yaml").write_text(BROKEN_AWS)
    (sources / "gcp_billing.yaml").write_text(BROKEN_GCP)
    (sources / "slurm_jobs.yaml").write_text(SLURM.format(location=own / "no_such_folder"))
    (sources / "not_yaml.yml").write_text("name: x\n")
    (own / "forecast.yaml").write_text(
        "horizon_days: 0\ncoverages: [0.8]\nmin_history_days: 28\npartitions_start: 2026-08-01\nseries: [colour]\n"
    )
    (own / "budgets.yaml").write_text("budgets:\n  - {name: a, scope: team, value: X, amount: 12.5, currency: USD}\n")
    (own / "gpu_pricing.yaml").write_text("clusters:\n  - cluster: lab\n    price_per_gpu_hour: 1.5\n")
    (own / "budget.yaml").write_text("")
    return own


def test_check_reports_every_problem_of_every_file_one_line_each(broken: Path, capsys):
    assert main(["check"]) == 1
    captured = capsys.readouterr()
    lines = (captured.out + captured.err).splitlines()
    assert "Traceback" not in captured.out + captured.err
    src = broken / "sources"
    expected_errors = [
        f"{src}/aws_cur2.yaml: field 'period_pattern' is not a valid regex",
        f"{src}/aws_cur2.yaml: field 'location' has unsupported scheme https://",
        f"{src}/aws_cur2.yaml: field 'format' is 'csv', but the warehouse reads source 'aws_cur2' as 'aws_cur2_parquet'",
        f"{src}/gcp_billing.yaml: field 'period_pattern' must have a named group (?P<period>...)",
        f"{src}/gcp_billing.yaml: field 'colour' is not known (expected one of name, description, provider, format",
        f"{src}/gcp_billing.yaml: field 'location' refers to unset variable ${{ATLAS_TEST_UNSET_ROOT}}",
        f"{src}/slurm_jobs.yaml: field 'location': folder {broken / 'no_such_folder'} does not exist (source slurm_jobs)",
        f"{broken}/forecast.yaml: field 'horizon_days' must be at least 1",
        f"{broken}/forecast.yaml: field 'series' has unknown series 'colour'",
        f"{broken}/budgets.yaml: budget #1: field 'amount' must be a quoted decimal",
        f"{broken}/gpu_pricing.yaml: clusters[0]: field 'price_per_gpu_hour' must be quoted text",
    ]
    errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    assert len(errors) == len(expected_errors), errors
    for line, start in zip(errors, expected_errors, strict=True):
        assert line.startswith(start), (line, start)
    warnings = [line.removeprefix("warning: ") for line in lines if line.startswith("warning: ")]
    assert [w.split(": ", 1)[0] for w in warnings] == [
        f"{src}/not_yaml.yml", f"{src}/aws_cur2.yaml", f"{broken}/forecast.yaml", f"{broken}/budget.yaml",
    ]
    assert lines[-1].startswith(f"Checked {broken}: 3 source(s)") and lines[-1].endswith("11 error(s), 4 warning(s)")


def test_check_of_a_valid_folder_exits_0_and_names_what_absent_files_mean(own: Path, capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"Checked {own}: 1 source(s); forecast.yaml (absent: the repository's defaults); "
        "budgets.yaml (absent: no budgets); gpu_pricing.yaml (absent: no on-prem GPU prices); "
        "kubernetes_teams.yaml (absent: pods are charged to their namespace) — 0 error(s), 0 warning(s)"
    ]


def test_check_of_a_missing_folder_or_no_sources(own: Path, monkeypatch, capsys):
    shutil.rmtree(own / "sources")
    assert main(["check"]) == 0  # an estate with no sources is legal: said, not refused
    assert capsys.readouterr().out.startswith(f"warning: {own}/sources: no source declarations")
    monkeypatch.setenv("ATLAS_ASSETS", str(own / "typo"))
    assert main(["check"]) == 1
    assert capsys.readouterr().err.splitlines()[0] == f"error: ATLAS_ASSETS={own / 'typo'}: no such folder ({own / 'typo'})"


def test_a_users_source_name_the_warehouse_does_not_model_is_a_warning(own: Path):
    (own / "sources" / "lab_cluster.yaml").write_text(SLURM.replace("name: slurm_jobs", "name: lab_sacct").format(
        location=own.parent / "sacct"))
    [warning] = check_declarations().warnings
    assert warning.text.startswith(f"{own}/sources/lab_cluster.yaml: field 'name': 'lab_sacct' is not a source")


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("s3://acme-billing/cur", None),
        ("gs://acme-billing/gcp", None),
        ("az://costexports/atlas", None),
        ("abfss://costexports@acme.dfs.core.windows.net/atlas", None),
        ("file://{tmp}", None),
        ("{tmp}", None),
        ("{tmp}/missing", "field 'location': folder {tmp}/missing does not exist (source slurm_jobs)"),
        ("{tmp}/a_file.txt", "field 'location' is a file, not a folder: {tmp}/a_file.txt"),
    ],
)
def test_a_users_location_must_exist_unless_it_is_a_bucket(tmp_path: Path, location: str, problem: str | None):
    """Buckets are not reached by the check (no network, no credentials); local folders are."""
    (tmp_path / "a_file.txt").write_text("x")
    path = tmp_path / "slurm_jobs.yaml"
    path.write_text(SLURM.format(location=location.format(tmp=tmp_path)))
    expected = None if problem is None else f"{path}: {problem.format(tmp=tmp_path)}"
    assert location_problem(parse_source(path)) == expected


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("s3://", "field 'location' names no bucket or container"),
        ("ftp://host/x", "field 'location' has unsupported scheme ftp://"),
        ("https://acme.blob.core.windows.net/x", "field 'location' has unsupported scheme https://"),
    ],
)
def test_location_schemes_are_checked_when_parsed(tmp_path: Path, location: str, problem: str, declaration_error):
    path = tmp_path / "slurm_jobs.yaml"
    error = declaration_error(parse_source, path, SLURM.format(location=location))
    assert error.problems[0].startswith(f"{path}: {problem}")


def test_bundled_declarations_treat_a_missing_export_folder_as_absent(monkeypatch, tmp_path: Path):
    """The repository's catalogue points at the default layout under $ATLAS_EXPORTS: an estate
    without, say, Azure simply has no such folder (absent). Only a missing ATLAS_EXPORTS is wrong."""
    monkeypatch.setenv("ATLAS_EXPORTS", str(tmp_path / "exports"))
    source = parse_source(DECLARATIONS_DIR / "sources" / "azure_focus.yaml")
    assert source.bundled
    assert "ATLAS_EXPORTS folder" in location_problem(source)
    (tmp_path / "exports").mkdir()
    assert location_problem(source) is None


def test_check_loads_neither_dagster_nor_dbt():
    """What keeps `atlas check` at a fraction of a second: it never imports the pipeline."""
    code = (
        "import sys\nfrom atlas_pipeline.cli import main\nrc = main(['check'])\n"
        "heavy = sorted(m for m in ('dagster', 'dagster_dbt', 'dbt', 'great_expectations', 'sktime') if m in sys.modules)\n"
        "print('HEAVY', heavy)\nsys.exit(rc)\n"
    )
    AtlasPaths.from_env().exports.mkdir(parents=True)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


def test_run_stops_before_any_job_when_declarations_are_wrong(broken: Path, capsys):
    assert main(["run"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert f"error: {broken}/sources/aws_cur2.yaml: field 'location' has unsupported scheme https://" in captured.err
    assert "Not run: fix the declarations above" in captured.err
    assert "Materializing" not in captured.out
    assert not AtlasPaths.from_env().warehouse.exists()
    assert not any(AtlasPaths.from_env().exports.iterdir())  # a user's declarations get no sample estate


def test_a_file_contract_lists_every_problem_naming_file_and_field(tmp_path: Path, declaration_error):
    """checks/files/*.yaml go through the same models: one line per problem, the field path named."""
    from atlas_pipeline.lib.ingest.contracts import parse_contract

    (tmp_path / "_shared_columns.yaml").write_text("columns:\n  Cost: {type: money, formats: [roman]}\n")
    path = tmp_path / "demo.yaml"
    error = declaration_error(
        parse_contract, path,
        "source: demo\n"
        "columns_from: shared\n"
        "columns:\n"
        "  Amount: {type: money, formats: [plain]}\n"
        "  Day: {type: datetime}\n"
        "  Tags: {type: json, colour: red}\n"
        "rules:\n"
        "  - {expect: in_set, column: Kind}\n"
        "  - {expect: non_negative, column: Amount, slack_days_before: -1}\n"
        "  - {expect: purple, column: Amount}\n",
    )
    assert error.problems == [
        f"{path}: field 'columns.Day.type' must be one of {contracts.SCALAR_TYPES} or a DuckDB nested type, got 'datetime'",
        f"{path}: field 'columns.Tags.colour' is not known (expected one of type, formats, aliases, required, not_null, "
        "wrap_object, description)",
        f"{path}: rules[0]: field 'values' is required for in_set",
        f"{path}: rules[1]: field 'slack_days_before' must be >= 0, got -1",
        f"{path}: rules[2]: field 'expect' must be one of {', '.join(contracts.RULES)}, got 'purple'",
    ]
    # the shared column set is checked like the contract, and named as its own file
    error = declaration_error(
        parse_contract, path,
        "source: demo\ncolumns_from: shared\nrules:\n  - {expect: in_set, column: Kind, values: [1, b]}\n",
    )
    assert error.problems == [
        f"{tmp_path / '_shared_columns.yaml'}: field 'columns.Cost.formats' of a number must be among "
        f"{contracts.DECIMAL_FORMATS}"
    ]
    (tmp_path / "_shared_columns.yaml").write_text("columns:\n  Cost: money\n")
    contract = parse_contract(path)
    assert [c.name for c in contract.columns] == ["Cost"] and contract.rules[0].values == ("1", "b")


def test_definitions_parse_each_source_declaration_once(own: Path, monkeypatch):
    """Several builders (ingest assets, delivery sensors, freshness and delivery checks) need the
    sources when the definitions load: the declarations are parsed once for all of them, and again
    only when a file changes."""
    from atlas_pipeline.definitions import defs
    from atlas_pipeline.lib.ingest import sources

    parsed: list[str] = []

    def counting(path: Path) -> sources.ExportSource:
        parsed.append(Path(path).name)
        return parse_source(path)

    monkeypatch.setattr(sources, "parse_source", counting)
    sources._parsed_sources.cache_clear()
    graph = defs().resolve_asset_graph()
    assert "raw/slurm_jobs" in {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert parsed == ["slurm_jobs.yaml"]
    defs()
    assert parsed == ["slurm_jobs.yaml"]
    declared = own / "sources" / "slurm_jobs.yaml"
    declared.write_text(declared.read_text() + "max_lateness_hours: 12\n")
    assert [s.max_lateness_hours for s in load_sources()] == [12.0] and parsed == ["slurm_jobs.yaml"] * 2


@pytest.mark.slow  # a fresh interpreter imports every defs module (~5 s)
def test_importing_the_code_location_reads_no_declaration(tmp_path: Path):
    """Declarations are read when the definitions are built, never at import: with `$ATLAS_ASSETS`
    naming no folder, every module under atlas_pipeline.defs imports, and only building the
    definitions fails, naming the variable."""
    script = (
        "import importlib, pkgutil, atlas_pipeline.defs as d, atlas_pipeline.definitions as root\n"
        "for m in pkgutil.walk_packages(d.__path__, 'atlas_pipeline.defs.'):\n"
        "    importlib.import_module(m.name)\n"
        "from atlas_pipeline.lib.declarations import DeclarationError\n"
        "try:\n"
        "    root.defs()\n"
        "except Exception as exc:\n"  # Dagster wraps what a defs module raised
        "    while exc is not None and not isinstance(exc, DeclarationError):\n"
        "        exc = exc.__cause__ or exc.__context__\n"
        "    print('refused:', exc)\n"
    )
    missing = tmp_path / "no_such_declarations"
    env = {**os.environ, "ATLAS_ASSETS": str(missing), "ATLAS_HOME": str(tmp_path / "home")}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == f"refused: ATLAS_ASSETS={missing}: no such folder ({missing})"
