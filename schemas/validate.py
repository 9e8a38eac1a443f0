"""Text frame -> accepted (normalised, typed) + quarantine frames.

The whole file is handled with vectorised polars expressions built from the
department schema; no row is validated in a Python loop. Hard rules send a
row to quarantine (with the field, a stable reason and the row as read);
soft problems only add ``"<field>:<reason>"`` entries to ``flags``. Blank
rows are counted, neither accepted nor quarantined, so per file

    rows_read = len(accepted) + len(quarantine) + blank_rows
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import polars as pl

from schemas.columns import ColumnSpec, Kind
from schemas.departments import columns
from schemas.normalise import (
    ATYPICAL, Fast, Stages, clean, collect, dates, distinct_outputs, enums, flag_list, flags_text, id_number, merge, names, numbers,
    patch, phones, reference_outputs, replaced, run, squeeze, temp, text, villages,
)

ROW_NUMBER = "row_number"
RAW_ROW = "raw_row"

MISSING_REQUIRED = "missing required value"
DUPLICATE_ROW = "exact duplicate row"
CONFLICTING_RECORD_ID = "record_id repeated with different content"

META_SCHEMA: dict[str, pl.DataType] = {
    "department": pl.String(),
    "file_id": pl.String(),
    "file_name": pl.String(),
    ROW_NUMBER: pl.Int32(),
    "snapshot_date": pl.Date(),
    "county": pl.String(),
    "flags": pl.List(pl.String()),
}

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "department": pl.String(),
    "file_id": pl.String(),
    "file_name": pl.String(),
    ROW_NUMBER: pl.Int32(),
    "field": pl.String(),
    "reason": pl.String(),
    RAW_ROW: pl.String(),
}

_VALUE_DTYPE: dict[Kind, pl.DataType] = {
    Kind.TEXT: pl.String(), Kind.ADDRESS: pl.String(), Kind.NAME: pl.String(), Kind.ID_NUMBER: pl.String(),
    Kind.GENDER: pl.String(), Kind.DATE: pl.Date(), Kind.PHONE: pl.String(), Kind.VILLAGE_CODE: pl.String(),
    Kind.ENUM: pl.String(), Kind.HOUSE_GRADE: pl.String(), Kind.BOOL: pl.Boolean(), Kind.INT: pl.Int32(),
    Kind.YEAR: pl.Int32(), Kind.SCHOOL_GRADE: pl.Int32(), Kind.MONEY: pl.Float64(),
}


@dataclass(frozen=True)
class FileMeta:
    file_id: str
    file_name: str
    snapshot_date: date
    county_from_name: str | None = None


@dataclass(frozen=True)
class Validated:
    accepted: pl.DataFrame
    quarantine: pl.DataFrame
    blank_rows: int
    #: stable reason (without row numbers) -> quarantined rows
    reject_reasons: dict[str, int]


def field_schema(spec: ColumnSpec) -> dict[str, pl.DataType]:
    """The accepted-frame columns of one schema field, in order: value, derived columns, raw."""
    f = spec.name
    schema = {f: _VALUE_DTYPE[spec.kind]}
    if spec.kind == Kind.NAME:
        schema[f"{f}_pinyin"] = pl.String()
    elif spec.kind == Kind.ID_NUMBER:
        schema |= {f"{f}_status": pl.String(), f"{f}_birth_date": pl.Date(),
                   f"{f}_gender": pl.String(), f"{f}_county": pl.String()}
    elif spec.kind == Kind.VILLAGE_CODE:
        schema[f"{f}_source"] = pl.String()
    schema[f"{f}_raw"] = pl.String()
    return schema


def accepted_schema(department: str) -> dict[str, pl.DataType]:
    """Column -> dtype of a department's accepted frame (also the warehouse DDL)."""
    schema = dict(META_SCHEMA)
    for spec in columns(department):
        schema |= field_schema(spec)
    return schema


def validate(frame: pl.DataFrame, department: str, meta: FileMeta, *, raw: pl.DataFrame | None = None) -> Validated:
    """Normalise one file's text frame (canonical headers, ``row_number``) into accepted + quarantine.

    ``frame`` may carry a ``raw_row`` String column (the row as read, with the
    headers as found, unknown columns included). Or ``raw`` gives the table as
    read, row for row: rows are then compared on it and its JSON is built
    for the quarantined rows only (encoding every row costs twice the read).
    Otherwise ``raw_row`` is rebuilt from the canonical columns present.
    """
    if raw is not None and raw.height != frame.height:
        raise ValueError(f"raw has {raw.height} rows, frame {frame.height}")
    if raw is not None and raw.width == 0:
        raw = None
    specs = columns(department)
    present = [s.name for s in specs if s.name in frame.columns]
    prepared = _prepare(frame, specs, present, raw)

    blank = _blank_rows(prepared, present)
    checked = _checked(prepared.filter(~blank) if blank.any() else prepared, specs)
    blank_rows = frame.height - checked.height
    failed = pl.col("__reason_key").is_not_null()

    file_columns = {"department": pl.lit(department), "file_id": pl.lit(meta.file_id),
                    "file_name": pl.lit(meta.file_name)}
    rejected = checked.select(ROW_NUMBER, "__index", "__reason_key", "__field", "__missing", "__first_content",
                              "__first_id", *present, *([RAW_ROW] if RAW_ROW in checked.columns else [])).filter(failed)
    quarantine = rejected.select(
        **file_columns, row_number=pl.col(ROW_NUMBER), field=pl.col("__field"),
        reason=_reason(), raw_row=_raw_row(frame, present, raw, rejected),
    ).cast(QUARANTINE_SCHEMA)
    reject_reasons = dict(rejected.group_by("__reason_key").len().iter_rows())

    rows = checked.select(ROW_NUMBER, *(s.name for s in specs))
    accepted = _normalise(rows.filter(checked["__reason_key"].is_null()) if rejected.height else rows,
                          department, meta, file_columns)
    return Validated(accepted, quarantine, blank_rows, reject_reasons)


def _raw_row(frame: pl.DataFrame, present: list[str], raw: pl.DataFrame | None, rejected: pl.DataFrame) -> pl.Expr:
    """The row as read: the caller's ``raw_row``, else JSON of ``raw`` or of the canonical columns present."""
    if RAW_ROW in frame.columns:
        return pl.col(RAW_ROW).cast(pl.String)
    if raw is not None:
        # By position: pl.all() never reads a found header such as "^.*$" as a regex.
        encoded = raw[rejected["__index"]].select(pl.struct(pl.all()).struct.json_encode()).to_series()
        return pl.lit(encoded, dtype=pl.String)
    return pl.struct(present).struct.json_encode() if present else pl.lit("{}")


def _prepare(frame: pl.DataFrame, specs: list[ColumnSpec], present: list[str], raw: pl.DataFrame | None) -> pl.DataFrame:
    """All canonical columns as String (absent ones null), an Int32 row_number and the row's content key.

    The JSON ``raw_row`` is only built for quarantined rows; duplicates are
    found on a 64-bit hash of the row (a collision would at worst quarantine
    a row, with its raw content, never drop it).
    """
    if RAW_ROW in frame.columns:
        content = pl.col(RAW_ROW).hash()
    elif raw is not None:
        content = pl.lit(raw.hash_rows())
    else:
        content = (pl.struct(present) if present else pl.lit("")).hash()
    row_number = (pl.col(ROW_NUMBER) if ROW_NUMBER in frame.columns else pl.int_range(1, pl.len() + 1)).cast(pl.Int32)
    return frame.select(
        *(pl.col(s.name).cast(pl.String) if s.name in present else pl.lit(None, dtype=pl.String).alias(s.name)
          for s in specs),
        row_number.alias(ROW_NUMBER),
        content.alias("__content"),
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("__index"),
        *([pl.col(RAW_ROW).cast(pl.String)] if RAW_ROW in frame.columns else []),
    )


def _blank_rows(prepared: pl.DataFrame, present: list[str]) -> pl.Series:
    """True for the rows with nothing but Unicode whitespace (ideographic space included) in every column.

    The first column over every row, the others over the handful of rows it left.
    """
    # \S is any character but Unicode White_Space, the characters strip_chars() removes.
    def blank(column: str) -> pl.Expr:
        return ~pl.col(column).str.contains(r"\S").fill_null(False)

    if not present:
        return pl.Series(np.ones(prepared.height, dtype=bool))
    # The first column settles nearly every row; the few left are checked on all the others at once.
    maybe = prepared.select("__index", *present).filter(blank(present[0]))
    if maybe.height and len(present) > 1:
        maybe = maybe.filter(pl.all_horizontal(blank(column) for column in present[1:]))
    if maybe.height == 0:
        return pl.Series(np.zeros(prepared.height, dtype=bool))
    return prepared["__index"].is_in(maybe["__index"].implode())


def _is_blank(spec: ColumnSpec) -> pl.Expr:
    if spec.name == "record_id" and spec.kind != Kind.NAME:
        # clean() is null exactly when squeeze() is (clean strips, so what is left starts with a non-space).
        return pl.col("__record_id").is_null()
    return names.is_blank(spec.name) if spec.kind == Kind.NAME else squeeze(spec.name).is_null()


def _checked(prepared: pl.DataFrame, specs: list[ColumnSpec]) -> pl.DataFrame:
    """``prepared`` (blank rows left out) with ``__reason_key`` (stable) and ``__field`` of the rows breaking
    a hard rule, and what :func:`_reason` needs to say which: ``__missing``, ``__first_content``, ``__first_id``."""
    required = [s for s in specs if s.required]
    has_record_id = any(s.name == "record_id" for s in specs)
    checked = collect(prepared.lazy().with_columns(
        __record_id=clean("record_id") if has_record_id else pl.lit(None, dtype=pl.String),
    ).with_columns(
        __missing=pl.coalesce([pl.when(_is_blank(s)).then(pl.lit(s.name)) for s in required])
        if required else pl.lit(None, dtype=pl.String),
    ))
    # Only rows that passed the required checks can be the "earlier row" of a duplicate.
    candidate = checked.select(pl.when(pl.col("__missing").is_null()).then(pl.col(ROW_NUMBER))).to_series()
    first_content = _first_in_group(checked["__content"], candidate)
    first_id = _first_in_group(checked["__record_id"], candidate) if has_record_id else checked[ROW_NUMBER]
    missing, is_duplicate, is_conflict = (pl.col("__missing"), pl.col(ROW_NUMBER) != pl.col("__first_content"),
                                          pl.col(ROW_NUMBER) != pl.col("__first_id"))
    return checked.with_columns(__first_content=first_content, __first_id=first_id).with_columns(
        __reason_key=pl.when(missing.is_not_null()).then(pl.lit(MISSING_REQUIRED))
        .when(is_duplicate).then(pl.lit(DUPLICATE_ROW))
        .when(is_conflict).then(pl.lit(CONFLICTING_RECORD_ID)),
        __field=pl.when(missing.is_not_null()).then(missing)
        .when(is_duplicate).then(None)
        .when(is_conflict).then(pl.lit("record_id")),
    )


def _first_in_group(key: pl.Series, candidate: pl.Series) -> pl.Series:
    """The least ``candidate`` among the rows of the same ``key`` (nulls one group), as ``min().over(key)``;
    computed on the repeated keys only (a key seen once is its own group)."""
    repeated = key.is_duplicated().arg_true()
    if repeated.len() == 0:
        return candidate
    group = pl.DataFrame({"key": key.gather(repeated), "candidate": candidate.gather(repeated)})
    return replaced(candidate, repeated, group.select(pl.col("candidate").min().over("key")).to_series())


def _reason() -> pl.Expr:
    """The reason of a quarantined row, naming the earlier row it repeats (see :func:`_checked`)."""
    missing, first_content, first_id = pl.col("__missing"), pl.col("__first_content"), pl.col("__first_id")
    return (pl.when(missing.is_not_null()).then(pl.lit(MISSING_REQUIRED))
            .when(pl.col(ROW_NUMBER) != first_content).then(pl.format("exact duplicate of row {}", first_content))
            .when(pl.col(ROW_NUMBER) != first_id)
            .then(pl.format("record_id repeated with different content (first at row {})", first_id)))


def field_stages(spec: ColumnSpec, address: str | None, county_hint: str | None) -> Stages:
    """The normaliser stages of one field (reads the raw column, writes ``f`` and its extras)."""
    f, kind, column = spec.name, spec.kind, spec.column
    if kind in (Kind.TEXT, Kind.ADDRESS):
        return text.normalise(f)
    if kind == Kind.NAME:
        return names.normalise(f)
    if kind == Kind.ID_NUMBER:
        return id_number.normalise(f)
    if kind == Kind.VILLAGE_CODE:
        return villages.normalise(f, address, county_hint)
    if kind in (Kind.GENDER, Kind.ENUM, Kind.BOOL, Kind.HOUSE_GRADE, Kind.SCHOOL_GRADE):
        return enums.normalise(f, column)
    if kind == Kind.DATE:
        return dates.normalise(f)
    if kind == Kind.PHONE:
        return phones.normalise(f)
    if kind in (Kind.INT, Kind.MONEY, Kind.YEAR):
        return numbers.normalise(f, kind)
    raise NotImplementedError(f"no normaliser for kind {kind}")  # a new Kind must be wired here


def fast_path(spec: ColumnSpec) -> Fast:
    """The kind's fast path: the reference's outputs for the usual values, the other rows marked atypical."""
    f, kind = spec.name, spec.kind
    if kind in (Kind.TEXT, Kind.ADDRESS):
        return text.fast(f)
    if kind == Kind.NAME:
        return names.fast(f)
    if kind == Kind.ID_NUMBER:
        return id_number.fast(f)
    if kind == Kind.VILLAGE_CODE:
        return villages.fast(f)
    if kind in (Kind.GENDER, Kind.ENUM, Kind.BOOL, Kind.HOUSE_GRADE, Kind.SCHOOL_GRADE):
        return enums.fast(f, spec.column)
    if kind == Kind.DATE:
        return dates.fast(f)
    if kind == Kind.PHONE:
        return phones.fast(f)
    if kind in (Kind.INT, Kind.MONEY, Kind.YEAR):
        return numbers.fast(f, kind)
    raise NotImplementedError(f"no normaliser for kind {kind}")  # a new Kind must be wired here


@dataclass(frozen=True)
class _Field:
    spec: ColumnSpec
    #: what the reference stages write that the accepted frame or the flags use
    outputs: tuple[str, ...]
    distinct: bool


@dataclass(frozen=True)
class _Fields:
    """How to normalise some fields: raw copies, every field's fast stages, then the reference per field."""

    stages: Stages
    fields: tuple[_Field, ...]
    address: str | None


def _fields(specs: tuple[ColumnSpec, ...], address: str | None) -> _Fields:
    fields, fast_stages = [], []
    for spec in specs:
        written = {name for stage in field_stages(spec, address, None) for name in stage}
        outputs = [n for n in field_schema(spec) if n != f"{spec.name}_raw"]
        outputs += [n for n in (temp(spec.name, "flag"), temp(spec.name, "flags")) if n in written]
        fast = fast_path(spec)
        fields.append(_Field(spec, tuple(outputs), fast.distinct))
        fast_stages.append(fast.stages)
    # Normalisers replace f with its normalised value: the text as read is kept under f_raw first.
    raw = {f"{s.name}_raw": pl.col(s.name) for s in specs} | ({f"{address}_raw": pl.col(address)} if address else {})
    return _Fields([raw, *merge(*fast_stages)], tuple(fields), address)


@lru_cache(maxsize=1024)
def _reference(department: str, field: str, county_hint: str | None) -> Stages:
    specs = columns(department)
    address = next((s.name for s in specs if s.kind == Kind.ADDRESS), None)
    return field_stages(next(s for s in specs if s.name == field), address, county_hint)


def _normalise_fields(rows: pl.DataFrame, plan: _Fields, reference: Callable[[ColumnSpec], Stages]) -> pl.DataFrame:
    """``rows`` with every field's outputs: fast stages in one query, then the ``reference`` stages of each
    field for its atypical rows. A list of flags (``__flags``) is kept as its :func:`flags_text`."""
    frame = collect(run(rows.lazy(), plan.stages, keep_temporaries=True))
    flags = [temp(field.spec.name, ATYPICAL) for field in plan.fields]
    for field, atypical in zip(plan.fields, frame.select(pl.col(flags).any()).row(0)):
        if not atypical:
            continue
        f = field.spec.name
        positions = frame[temp(f, ATYPICAL)].arg_true()
        source = frame.select(
            pl.col(f"{f}_raw").alias(f),
            *([pl.col(f"{plan.address}_raw").alias(plan.address)]
              if field.spec.kind == Kind.VILLAGE_CODE and plan.address else []))[positions]
        if field.distinct:
            computed = distinct_outputs(source[f], f, reference(field.spec), list(field.outputs))
        else:
            computed = reference_outputs(source, reference(field.spec), list(field.outputs))
        computed = computed.with_columns(flags_text(pl.col(n)).alias(n) for n in computed.columns
                                         if n == temp(f, "flags"))
        frame = patch(frame, positions, computed)
    return frame


def field_frame(spec: ColumnSpec, rows: pl.DataFrame, address: str | None, county_hint: str | None) -> pl.DataFrame:
    """The outputs of :func:`field_stages` for one field of ``rows`` (value, derived columns and
    ``__flag``/``__flags``), computed as ingestion computes them: fast path, then reference where atypical."""
    plan = _fields((spec,), address)
    frame = _normalise_fields(rows, plan, lambda _: field_stages(spec, address, county_hint))
    listed = temp(spec.name, "flags")
    return frame.select(flag_list([pl.col(n)]).alias(n) if n == listed else pl.col(n) for n in plan.fields[0].outputs)


def _flags(specs: list[ColumnSpec], produced: set[str]) -> list[pl.Expr]:
    """A row's flags (String, null when none): the fields' own, then the ID number's disagreements with
    birth date and gender."""
    flags = [pl.col(temp(s.name, "flag")) for s in specs if temp(s.name, "flag") in produced]
    flags += [pl.col(temp(s.name, "flags")) for s in specs if temp(s.name, "flags") in produced]  # as text already
    # The person's own ID vouches for birth date and gender (a guardian's ID does not).
    by_kind = {s.name: s.kind for s in specs}
    if by_kind.get("id_number") == Kind.ID_NUMBER:
        for field in ("birth_date", "gender"):
            if field in by_kind:
                from_id = pl.col(f"id_number_{field}")
                disagrees = pl.col(field).is_not_null() & from_id.is_not_null() & (pl.col(field) != from_id)
                flags.append(pl.when(disagrees).then(pl.lit(f"{field}:disagrees_with_id")))
    return flags


def _flag_lists(frame: pl.DataFrame, flags: list[pl.Expr]) -> pl.Series:
    """:func:`flag_list` of ``flags`` for every row, built for the rows with a flag only (most have none)."""
    texts = frame.select(f.alias(f"flag{i}") for i, f in enumerate(flags))
    flagged = texts.select(pl.arg_where(pl.any_horizontal(pl.all().is_not_null()))).to_series() \
        if flags else pl.Series([], dtype=pl.UInt32)
    empty = pl.Series([[]], dtype=pl.List(pl.String))
    if flagged.len() == 0:
        return pl.select(pl.repeat(pl.lit([], dtype=pl.List(pl.String)), frame.height)).to_series()
    lists = texts[flagged].select(flag_list([pl.col(c) for c in texts.columns])).to_series()
    index = np.full(frame.height, flagged.len(), dtype=np.uint32)  # the empty list after the others
    index[flagged.to_numpy()] = np.arange(flagged.len(), dtype=np.uint32)
    return pl.concat([lists, empty]).gather(index)


@dataclass(frozen=True)
class _Plan:
    fields: _Fields
    village: str | None
    flags: list[pl.Expr]
    schema: dict[str, pl.DataType]


@lru_cache(maxsize=16)
def _plan(department: str) -> _Plan:
    """The normalisation of a department's rows, built once: building the expressions (and the lookup
    tables of the enumerations) costs more than normalising a small file."""
    specs = tuple(columns(department))
    address = next((s.name for s in specs if s.kind == Kind.ADDRESS), None)
    village = next((s.name for s in specs if s.kind == Kind.VILLAGE_CODE), None)
    fields = _fields(specs, address)
    produced = {name for field in fields.fields for name in field.outputs}
    return _Plan(fields, village, _flags(list(specs), produced), accepted_schema(department))


def _normalise(rows: pl.DataFrame, department: str, meta: FileMeta, file_columns: dict[str, pl.Expr]) -> pl.DataFrame:
    plan = _plan(department)
    hint = meta.county_from_name
    county = pl.col(plan.village).str.slice(0, 6) if plan.village else pl.lit(None, dtype=pl.String)
    normalised = _normalise_fields(rows, plan.fields, lambda spec: _reference(department, spec.name, hint))
    return collect(normalised.lazy().with_columns(
        **file_columns,
        snapshot_date=pl.lit(meta.snapshot_date, dtype=pl.Date),
        county=pl.coalesce(county, pl.lit(hint, dtype=pl.String)),
        flags=pl.lit(_flag_lists(normalised, plan.flags)),
    ).select([pl.col(name).cast(dtype) for name, dtype in plan.schema.items()]))
