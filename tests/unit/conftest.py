"""Fixtures of the pure tests (tests/unit): shared setup, no dbt and no Dagster run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from atlas_pipeline.lib.declarations import DeclarationError
from atlas_pipeline.lib.warehouse.connections import connect


@pytest.fixture()
def landing_env(tmp_path: Path) -> Iterator[tuple[Path, Path, Path, duckdb.DuckDBPyConnection]]:
    """`(exports, landing, quarantine, con)` for landing tests: an empty exports folder, where landed
    and quarantined files go, and an open warehouse in `tmp_path`."""
    exports, landing, quarantine = tmp_path / "exports", tmp_path / "landing", tmp_path / "quarantine"
    exports.mkdir()
    with connect(tmp_path / "wh.duckdb") as con:
        yield exports, landing, quarantine, con


@pytest.fixture()
def declaration_error() -> Callable[..., DeclarationError]:
    """`declaration_error(load, path, text, kind=DeclarationError)`: write `text` to `path`, load it with
    `load` and return the error it must raise (`.problems`: one line per problem, naming file and field)."""

    def refused(load: Callable[[Path], object], path: Path, text: str,
                kind: type[DeclarationError] = DeclarationError) -> DeclarationError:
        path.write_text(text)
        with pytest.raises(kind) as error:
            load(path)
        return error.value

    return refused
