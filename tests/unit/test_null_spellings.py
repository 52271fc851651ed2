"""Landing's null-spelling test (lib/ingest/typed_columns.py `cleaned`) reads a text as NULL exactly when it
is, trimmed and in any case, one of the contract's null spellings — whatever its bytes: the fast form
tests the byte length first, so multi-byte texts of few characters are the cases to hold."""

from __future__ import annotations

import duckdb

from atlas_pipeline.lib.ingest.contracts import NULL_SPELLINGS
from atlas_pipeline.lib.ingest.typed_columns import cleaned

TEXTS = [
    None, "", " ", "   ", "none", "None", "NONE", " null ", "NULL", "Null", "nan", "NaN", "NAN", "n/a", "N/A", '""',
    "\tnull\t", "0", "-", "nul", "nulls", "n/aa", "nana", "none.", "'null'", "ｎｕｌｌ", "ÑULL", "NULĹ", "nułl", "ＮａＮ",
    "K", "null\u00a0", "\u00a0", "null value", "1.5", "abc", "12345",
]


def test_null_spellings_read_as_null_in_any_case_and_nothing_else_does():
    con = duckdb.connect()
    con.execute("create table t (i integer, x varchar)")
    con.executemany("insert into t values (?, ?)", list(enumerate(TEXTS)))
    spellings = ", ".join("'" + s.replace("'", "''") + "'" for s in NULL_SPELLINGS)
    # The definition, written plainly (and slowly): NULL when the trimmed text, lower-cased, is a spelling.
    plain = f"case when lower(trim(x)) in ({spellings}) then null else trim(x) end"
    rows = con.execute(f"select i, {cleaned('x')}, {plain} from t order by i").fetchall()
    assert [fast for _, fast, _ in rows] == [reference for _, _, reference in rows]
    by_text = {TEXTS[i]: fast for i, fast, _ in rows}
    assert all(by_text[t] is None for t in (None, "", "   ", "NONE", " null ", "NaN", "N/A", '""'))
    assert [by_text[t] for t in ("nul", "nulls", "ｎｕｌｌ", "ÑULL", "nułl", "0", "1.5")] == [
        "nul", "nulls", "ｎｕｌｌ", "ÑULL", "nułl", "0", "1.5"]
    # The spellings themselves, upper-cased and padded, all read as NULL.
    padded = [f"  {s.upper()} " for s in NULL_SPELLINGS]
    assert con.execute(f"select list({cleaned('x')}) from unnest(?) as u(x)", [padded]).fetchone()[0] == [None] * 6
