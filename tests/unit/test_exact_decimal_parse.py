"""Landing's fast exact money parse (lib/ingest/typed_columns.py `exact_decimal`) reads every text exactly as
DuckDB's own text -> DECIMAL(38, 12) cast does: the same value, the same rounding at the 12th place,
the same NULL for what is not a number — it only avoids the 128-bit parse where the amount fits in 64 bits."""

from __future__ import annotations

import random

import duckdb
import pytest

from atlas_pipeline.lib.ingest.contracts import money_type
from atlas_pipeline.lib.ingest.typed_columns import exact_decimal


def _texts() -> list[str]:
    rng = random.Random(20261204)
    fixed = [
        "0", "-0", "+5", "5.", ".5", "-.5", "0.0", "1.46E-8", "1.3E-9", "7.0E-6", "2.040E-7", "1e6", "1E+6", "-1e-13",
        "999999.999999999999", "999999.9999999999995", "999999.9999999999994", "-999999.9999999999995", "1000000",
        "1000000.000000000001", "123456789012345678901234.5", "99999999999999999999999999.999999999999",
        "100000000000000000000000000", "0.0000000000005", "0.0000000000004999", "-0.0000000000005",
        "0.1234567890125", "0.1234567890135", "0.12345678901249999999", "1_000", "1,5", "1e", "--1", "abc", "inf",
        "nan", "", " 5 ", "0x10", "1.2.3", "1e400", "-1e-400", "00012.5000", "5e-0", "1.5e+05", "12345.678901234567",
    ]
    generated = []
    for _ in range(3000):
        whole = str(rng.randrange(10 ** rng.choice([0, 1, 3, 5, 6, 6, 7, 12, 20, 27])))
        fraction = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 22)))
        text = rng.choice(["", "-", "+"]) + whole + ("." + fraction if fraction or rng.random() < 0.1 else "")
        if rng.random() < 0.3:
            text += rng.choice(["e", "E"]) + rng.choice(["", "-", "+"]) + str(rng.randint(0, 25))
        if rng.random() < 0.05:  # a tie at the 13th decimal place
            text = f"{rng.randrange(10**6)}.{rng.randrange(10**12):012d}5"
        generated.append(text)
    for _ in range(2000):  # an exponent after a mantissa of 15 to 24 digits (a float's text has up to 17)
        width = rng.randint(15, 24)
        digits = str(rng.randrange(10 ** (width - 1), 10**width))
        point = rng.randint(0, len(digits))
        mantissa = (digits[:point] or "0") + "." + digits[point:]
        generated.append(rng.choice(["", "-"]) + mantissa + rng.choice(["e", "E"]) + rng.choice(["", "-", "+"])
                         + str(rng.randint(0, 14)))
    return fixed + generated


@pytest.mark.parametrize("target", [money_type(), "decimal(38, 12)", "decimal(28, 6)", "decimal(38, 0)", "decimal(18, 4)"])
def test_fast_exact_parse_equals_duckdbs_own_cast(target):
    con = duckdb.connect()
    con.execute("create table texts (t varchar)")
    con.executemany("insert into texts values (?)", [(t,) for t in _texts()] + [(None,)])
    differ = con.execute(
        f"select t, try_cast(t as {target}) as wide, {exact_decimal('t', target)} as fast from texts "
        f"where wide is distinct from fast"
    ).fetchall()
    assert differ == []
    # The fast parse is used for wide targets, and the result keeps the target's type.
    assert con.execute(f"select typeof({exact_decimal('t', target)}) from texts limit 1").fetchone()[0] == (
        con.execute(f"select typeof(try_cast(t as {target})) from texts limit 1").fetchone()[0]
    )
    # Both paths are exercised: amounts that fit 64 bits, and wider ones only the wide cast reads.
    scale = target.rstrip(") ").rsplit(",", 1)[-1].strip()
    narrow, wide = con.execute(
        f"select count(try_cast(t as decimal(18, {scale}))), "
        f"count(*) filter (where try_cast(t as decimal(18, {scale})) is null and try_cast(t as {target}) is not null) "
        "from texts"
    ).fetchone()
    assert narrow > 1000 and (wide > 100 or "18" in target)


def test_wide_targets_take_the_narrow_path_first_and_narrow_targets_cast_directly():
    assert "decimal(18, 12)" in exact_decimal("t", "decimal(38, 12)")
    assert exact_decimal("t", "decimal(18, 4)") == "try_cast(t as decimal(18, 4))"
    assert exact_decimal("t", "DOUBLE") == "try_cast(t as DOUBLE)"
