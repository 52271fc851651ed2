"""Building blocks shared by the three billing writers (AWS, GCP, Azure).

Everything here is deterministic and vectorized: seeded sub-generators, money rounded so that the
shortest text of each float is the decimal that was meant, exact Decimal totals computed from the
rounded values, random identifiers generated as whole Arrow arrays, and the organisation's tagging
(which team owns a resource; about one resource in ten carries no tags at all).
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from atlas_pipeline.sample_estate.spec import PROJECTS, TEAMS, GpuHost

# (provider, billing_account_id, billing period 'YYYY-MM')
BillingKey = tuple[str, str, str]

# Rows per data file before a month is split into another file (all three providers).
ROWS_PER_FILE = 1_000_000

ENVS: tuple[str, ...] = ("prod", "staging", "dev")
_ENV_WEIGHTS = np.array([0.6, 0.25, 0.15])
# How the organisation's non-GPU spend is spread over teams (same order as TEAMS).
_TEAM_WEIGHTS = np.array([0.25, 0.2, 0.25, 0.2, 0.1])
UNTAGGED_SHARE = 0.1


@dataclass
class BillingOutput:
    """What one provider's writer produced: files, invoice totals and row counts."""

    files: list[Path] = field(default_factory=list)
    billed_cost: dict[BillingKey, Decimal] = field(default_factory=dict)
    amortized_cost: dict[BillingKey, Decimal] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, rows: int) -> None:
        self.row_counts[kind] = self.row_counts.get(kind, 0) + rows


# --- randomness ---------------------------------------------------------------------------------


def rng_for(seed: int, *labels: str | int) -> np.random.Generator:
    """A generator for one named stream (e.g. ("aws", "2026-08", "rows")), independent of the others.

    Streams are keyed by name, not drawn in sequence, so adding a stream never shifts another one.
    """
    words = [int(seed) & 0xFFFFFFFF]
    for label in labels:
        words.append(int.from_bytes(hashlib.sha256(str(label).encode()).digest()[:4], "little"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


def guid(rng: np.random.Generator) -> str:
    """A random-looking (version 4 layout) GUID drawn from `rng`, never from the OS."""
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def random_hex(rng: np.random.Generator, length: int) -> str:
    return rng.bytes((length + 1) // 2).hex()[:length]


def random_code(rng: np.random.Generator, length: int, alphabet: str = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789") -> str:
    idx = rng.integers(0, len(alphabet), size=length)
    return "".join(alphabet[i] for i in idx)


_BASE32 = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz234567", dtype=np.uint8)


def random_tokens(rng: np.random.Generator, n: int, length: int) -> pa.Array:
    """`n` random lowercase base32 strings of `length` characters, built as one Arrow array."""
    codes = rng.integers(0, len(_BASE32), size=(n, length), dtype=np.uint8)
    data = _BASE32[codes].tobytes()
    offsets = np.arange(0, (n + 1) * length, length, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data)).cast(pa.string())


# --- money --------------------------------------------------------------------------------------


def round_money(values: np.ndarray, places: int = 8) -> np.ndarray:
    """Round to `places` decimals so that repr(float) of each value is that decimal exactly.

    rint(x * 10^p) / 10^p is the double nearest to k / 10^p; for |x| < 10^6 no other decimal with
    at most p places maps to the same double, so Decimal(repr(value)) == k / 10^p.
    """
    scale = 10.0**places
    out = np.rint(np.asarray(values, dtype=np.float64) * scale) / scale
    out[out == 0] = 0.0  # no negative zeros in the files
    return out


def exact_sum(values: np.ndarray, places: int = 8) -> Decimal:
    """Σ Decimal(repr(v)) for values already rounded to `places` decimals (NaN counts as zero)."""
    values = np.asarray(values, dtype=np.float64)
    units = np.rint(np.nan_to_num(values, nan=0.0) * 10.0**places).astype(np.int64)
    total = sum(int(part.sum()) for part in np.array_split(units, max(1, len(units) // 1_000_000)))
    return Decimal(total).scaleb(-places)


def decimal_text(values: np.ndarray, places: int = 8) -> pa.Array:
    """Money as plain decimal text (no exponent, no trailing zeros), e.g. 0.00004, 12.5, -3; NaN -> null."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    units = np.rint(np.nan_to_num(values, nan=0.0) * 10.0**places).astype(np.int64)
    negative = units < 0
    units = np.abs(units)
    scale = 10**places
    whole = pc.cast(pa.array(units // scale), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(units % scale), pa.string()), width=places, padding="0")
    frac = pc.utf8_rtrim(frac, characters="0")
    text = pc.if_else(pc.equal(pc.utf8_length(frac), 0), whole, pc.binary_join_element_wise(whole, frac, "."))
    if negative.any():
        text = pc.if_else(pa.array(negative), pc.binary_join_element_wise("-", text, ""), text)
    if missing.any():
        text = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)
    return text


def nullable_doubles(values: np.ndarray) -> pa.Array:
    """float64 numpy -> Arrow double, NaN becoming null."""
    return pa.array(np.asarray(values, dtype=np.float64), type=pa.float64(), from_pandas=True)


def constant(value: object, n: int, type_: pa.DataType) -> pa.Array:
    """An array of `n` copies of `value` (None -> nulls)."""
    if value is None:
        return pa.nulls(n, type=type_)
    return pa.array([value], type=type_).take(pa.array(np.zeros(n, dtype=np.int64)))


# --- time ---------------------------------------------------------------------------------------


def next_month(period: date) -> date:
    return date(period.year + 1, 1, 1) if period.month == 12 else date(period.year, period.month + 1, 1)


def days_in(period: date) -> int:
    return (next_month(period) - period).days


def hours_in(period: date) -> int:
    return days_in(period) * 24


def utc(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour)


_EPOCH = date(1970, 1, 1)


def epoch_us(day: date) -> int:
    """Microseconds since the Unix epoch at 00:00 UTC of `day`."""
    return (day - _EPOCH).days * 86_400_000_000


def commitment_start(spec_start: date, day: int = 1) -> date:
    """When the estate's commitments were bought: `day` of the month seven months before the first
    billing period. Their 3-year terms then cover any estate of up to 29 months."""
    months = spec_start.year * 12 + spec_start.month - 1 - 7
    return date(months // 12, months % 12 + 1, day)


def add_years(day: date, years: int) -> date:
    return day.replace(year=day.year + years)


HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US


# --- the organisation's tagging -----------------------------------------------------------------


@dataclass(frozen=True)
class Ownership:
    """Who owns each resource of a pool: team index into TEAMS (always set, used to place the
    resource in that team's account) and whether the resource actually carries tags."""

    team: np.ndarray  # int, index into TEAMS
    env: np.ndarray  # int, index into ENVS
    tagged: np.ndarray  # bool

    def tags(self, i: int) -> list[tuple[str, str]]:
        """The (team, project, env) tags of resource `i`, or [] if untagged."""
        if not self.tagged[i]:
            return []
        team = TEAMS[int(self.team[i])]
        return [("team", team), ("project", PROJECTS[team]), ("env", ENVS[int(self.env[i])])]


def assign_ownership(rng: np.random.Generator, n: int) -> Ownership:
    team = rng.choice(len(TEAMS), size=n, p=_TEAM_WEIGHTS / _TEAM_WEIGHTS.sum())
    env = rng.choice(len(ENVS), size=n, p=_ENV_WEIGHTS)
    tagged = rng.random(n) >= UNTAGGED_SHARE
    return Ownership(team=team, env=env, tagged=tagged)


def gpu_host_team(host: GpuHost) -> str:
    """Inference clusters belong to ml-platform, everything else (training) to ml-research."""
    return "ml-platform" if "infer" in host.cluster else "ml-research"


def gpu_host_tags(host: GpuHost) -> list[tuple[str, str]]:
    team = gpu_host_team(host)
    return [("team", team), ("project", PROJECTS[team]), ("env", "prod")]


# --- sampling usage rows ------------------------------------------------------------------------


MIN_POOL = 150  # resources per provider at least, so small estates still show every service


def pool_size(n_rows: int, slots: int, fill: float = 0.6) -> int:
    """How many resources bill `n_rows` lines over `slots` hours/days: each bills in ~`fill` of the
    slots at scale; small estates get a wider, sparser pool so every service and team appears."""
    if n_rows <= 0:
        return 0
    return max(int(np.ceil(n_rows / (slots * fill))), min(n_rows, MIN_POOL))


def sample_cells(rng: np.random.Generator, n_rows: int, pool: int, slots: int) -> tuple[np.ndarray, np.ndarray]:
    """`n_rows` distinct (slot, resource) cells, ordered by slot then resource: (slot, resource) arrays.

    Each resource bills at most once per slot (hour or day), as a provider's aggregated export does.
    """
    cells = pool * slots
    chosen = rng.choice(cells, size=min(n_rows, cells), replace=False)
    chosen = np.sort(chosen.astype(np.int64))
    return chosen // pool, chosen % pool


def weighted_choice(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(w), size=n, p=w / w.sum())


def lognormal_factor(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """Multiplicative noise with mean 1."""
    return rng.lognormal(mean=-0.5 * sigma * sigma, sigma=sigma, size=n)


# --- files --------------------------------------------------------------------------------------


def gzip_file(source: Path, target: Path, level: int = 6) -> None:
    """Gzip `source` into `target` deterministically (no file name, mtime 0)."""
    with source.open("rb") as src, target.open("wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=level, mtime=0) as dst:
            shutil.copyfileobj(src, dst, length=4 * 1024 * 1024)


# --- gathering rows -----------------------------------------------------------------------------


class RowBuffer:
    """Per-row values of one billing period, added group by group (usage, GPU, credits, tax...).

    Integer fields default to 0 and float fields to NaN (null); scalars broadcast over the group.
    """

    def __init__(self, int_fields: Sequence[str], float_fields: Sequence[str]) -> None:
        self._dtypes = {**{f: np.int64 for f in int_fields}, **{f: np.float64 for f in float_fields}}
        self._parts: dict[str, list[np.ndarray]] = {f: [] for f in self._dtypes}

    def add(self, n: int, **values: object) -> None:
        unknown = set(values) - set(self._dtypes)
        if unknown:
            raise KeyError(f"unknown row fields {sorted(unknown)}")
        for f, dtype in self._dtypes.items():
            default = 0 if dtype is np.int64 else np.nan
            v = np.asarray(values.get(f, default), dtype=dtype)
            self._parts[f].append(np.broadcast_to(v, (n,)).copy())

    def arrays(self, sort_by: Sequence[str] = ()) -> dict[str, np.ndarray]:
        """All rows, ordered by `sort_by` (first field most significant; stable), or as added."""
        out = {f: np.concatenate(p) if p else np.zeros(0, dtype=self._dtypes[f]) for f, p in self._parts.items()}
        if not sort_by:
            return out
        order = np.lexsort(tuple(out[f] for f in reversed(sort_by)))
        return {f: a[order] for f, a in out.items()}


# --- expanding per-kind attributes to rows, and writing text fast -------------------------------


@dataclass(frozen=True)
class EncodedColumn:
    """A per-kind string column as (dictionary of distinct values, code of each kind; -1 = null)."""

    dictionary: pa.Array
    codes: np.ndarray

    @classmethod
    def of(cls, values: pa.Array | pa.ChunkedArray) -> EncodedColumn:
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        encoded = pc.dictionary_encode(values)
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
        return cls(dictionary=encoded.dictionary, codes=codes)

    def expand(self, kind: np.ndarray) -> pa.DictionaryArray:
        """The column for rows of the given kinds, dictionary-encoded (no strings are copied)."""
        idx = self.codes[kind]
        return pa.DictionaryArray.from_arrays(pa.array(idx, type=pa.int32(), mask=idx < 0), self.dictionary)


def join_text(*pieces: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literal strings (no separator)."""
    return pc.binary_join_element_wise(*pieces, "")


def text_bytes(lines: pa.Array) -> memoryview:
    """The concatenated bytes of a string array without nulls (lines carry their own newlines)."""
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    if lines.null_count:
        raise ValueError("text lines must not be null")
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    offsets = np.frombuffer(lines.buffers()[1], dtype=width)[lines.offset : lines.offset + len(lines) + 1]
    data = lines.buffers()[2]
    if data is None:
        return memoryview(b"")
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])]


@dataclass(frozen=True)
class EncodedMap:
    """A per-kind MAP<string, string> column, expanded to rows by index arithmetic (no map take)."""

    keys: pa.Array
    items: pa.Array
    starts: np.ndarray
    lengths: np.ndarray
    type: pa.DataType

    @classmethod
    def of(cls, values: pa.Array | pa.ChunkedArray) -> EncodedMap:
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        offsets = values.offsets.to_numpy().astype(np.int64)
        return cls(values.keys, values.items, offsets[:-1], np.diff(offsets), values.type)

    def expand(self, kind: np.ndarray) -> pa.MapArray:
        lengths = self.lengths[kind]
        offsets = np.zeros(len(kind) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        total = int(offsets[-1])
        # Position of each output entry in the per-kind entries.
        source = np.repeat(self.starts[kind] - offsets[:-1], lengths) + np.arange(total, dtype=np.int64)
        take = pa.array(source)
        return pa.MapArray.from_arrays(
            pa.array(offsets.astype(np.int32)), self.keys.take(take), self.items.take(take), type=self.type
        )


TEXT_BATCH_ROWS = 200_000  # rows turned into text at a time, to bound memory
