"""Landed files are read-only and verified (issue 15, finding 3): a landed file changed after
landing names the file and both digests, and landing the period again from the store (the remedy
the check states) brings it back. (The blocking check in a Dagster run:
tests/dagster/test_dagster_landed_integrity.py.)"""

from __future__ import annotations

import stat

import pytest

from atlas_pipeline.lib.ingest.landed_integrity import sha256_of, verify_current_files
from atlas_pipeline.lib.warehouse.connections import connect


def test_landed_files_are_read_only_and_their_digests_recorded(landed_inventory):
    paths, source = landed_inventory.paths, landed_inventory.source
    landed_inventory.land()
    original, typed = landed_inventory.landed_files()
    for path in (original, typed):
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert stat.S_IMODE(typed.parent.stat().st_mode) & 0o200  # the folder stays writable
    with connect(paths.warehouse) as con:
        assert con.execute("select sha256 from landing.landed_checksums where path = ?", [str(typed)]).fetchone() == (
            sha256_of(typed),
        )
        report = verify_current_files(con, source.name)
    assert (report.intact, report.verified, report.recorded) == (True, 2, 0)


@pytest.mark.parametrize("role", ["typed parquet", "delivered file"])
def test_a_changed_landed_file_is_named_with_both_digests_and_the_remedy_lands_it_again(landed_inventory, role):
    paths, source = landed_inventory.paths, landed_inventory.source
    landed_inventory.land()
    original, typed = landed_inventory.landed_files()
    target = typed if role == "typed parquet" else original
    before = sha256_of(target)
    if role == "typed parquet":
        landed_inventory.overwrite_as_a_writer_could(target)
    else:
        target.chmod(0o644)
        target.write_text(landed_inventory.nodes_csv.replace("node-1", "evil-host"))
    after = sha256_of(target)

    with connect(paths.warehouse) as con:
        report = verify_current_files(con, source.name)
        [mismatch] = report.mismatches
        assert (mismatch.path, mismatch.role, mismatch.expected, mismatch.actual) == (str(target), role, before, after)
        assert str(target) in report.description() and before in report.description() and after in report.description()
        # The remedy the check states, then the next run: the period is fetched from the store again.
        con.execute(report.remedy().split(";")[0])
    landed_inventory.land()
    with connect(paths.warehouse) as con:
        assert verify_current_files(con, source.name).intact
        assert con.execute("select hostname from raw.gpu_nodes").fetchall() == [("node-1",)]


def test_a_deleted_landed_file_is_missing(landed_inventory):
    paths, source = landed_inventory.paths, landed_inventory.source
    landed_inventory.land()
    _, typed = landed_inventory.landed_files()
    typed.unlink()
    with connect(paths.warehouse) as con:
        [mismatch] = verify_current_files(con, source.name).mismatches
    assert mismatch.actual == "missing"


def test_typed_files_landed_before_digests_were_kept_get_theirs_recorded(landed_inventory):
    paths, source = landed_inventory.paths, landed_inventory.source
    landed_inventory.land()
    _, typed = landed_inventory.landed_files()
    with connect(paths.warehouse) as con:
        con.execute("delete from landing.landed_checksums")
        typed.chmod(0o644)
        first = verify_current_files(con, source.name)
        second = verify_current_files(con, source.name)
    assert (first.recorded, first.verified, first.intact) == (1, 1, True)
    assert (second.recorded, second.verified) == (0, 2)
    assert stat.S_IMODE(typed.stat().st_mode) == 0o444
