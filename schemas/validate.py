"""Text frame -> accepted (normalised, typed) + quarantine frames.

The whole file is handled with vectorised polars expressions built from the
department schema; no row is validated in a Python loop. Hard rules send a
row to quarantine (with the field, a stable reason and the row as read);
soft problems only add ``"<field>:<reason>"`` entries to ``flags``. Blank
rows are counted, neither accepted nor quarantined, so per file

    rows_read = len(accepted) + len(quarantine) + blank_rows
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from schemas.columns import ColumnSpec, Kind
from schemas.departments import columns
from schemas.normalise import (
    Stages, clean, dates, enums, flag_list, flags_text, id_number, names, numbers, phones, squeeze, temp, text, villages,
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

    checked = prepared.lazy().filter(~pl.lit(_blank_rows(prepared, present)))
    for stage in _hard_rules(specs):
        checked = checked.with_columns(**stage)
    checked = checked.collect()
    blank_rows = frame.height - checked.height
    failed = pl.col("__reason_key").is_not_null()

    file_columns = {"department": pl.lit(department), "file_id": pl.lit(meta.file_id),
                    "file_name": pl.lit(meta.file_name)}
    rejected = checked.filter(failed)
    quarantine = rejected.select(
        **file_columns, row_number=pl.col(ROW_NUMBER), field=pl.col("__field"),
        reason=pl.col("__reason"), raw_row=_raw_row(frame, present, raw, rejected),
    ).cast(QUARANTINE_SCHEMA)
    reject_reasons = dict(rejected.group_by("__reason_key").len().iter_rows())

    accepted = _normalise(checked.filter(~failed), department, meta, file_columns)
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

    Column by column over the rows still possibly blank: the first filled
    column settles almost every row, so the others are looked at for a
    handful of rows instead of the whole file.
    """
    maybe = prepared.select("__index", *present)
    for column in present:
        maybe = maybe.filter(pl.col(column).str.strip_chars().str.len_bytes().fill_null(0) == 0)
        if maybe.height == 0:
            break
    return prepared["__index"].is_in(maybe["__index"].implode())


def _is_blank(spec: ColumnSpec) -> pl.Expr:
    if spec.name == "record_id" and spec.kind != Kind.NAME:
        # clean() is null exactly when squeeze() is (clean strips, so what is left starts with a non-space).
        return pl.col("__record_id").is_null()
    return names.is_blank(spec.name) if spec.kind == Kind.NAME else squeeze(spec.name).is_null()


def _hard_rules(specs: list[ColumnSpec]) -> Stages:
    """Stages giving ``__field``, ``__reason`` (names the earlier row) and ``__reason_key`` (stable)."""
    required = [s for s in specs if s.required]
    has_record_id = any(s.name == "record_id" for s in specs)
    missing, first_content, first_id = pl.col("__missing"), pl.col("__first_content"), pl.col("__first_id")
    # Only rows that passed the required checks can be the "earlier row" of a duplicate.
    candidate_row = pl.when(missing.is_null()).then(pl.col(ROW_NUMBER))
    is_duplicate = pl.col(ROW_NUMBER) != first_content
    is_conflict = pl.col(ROW_NUMBER) != first_id
    return [
        {"__record_id": clean("record_id") if has_record_id else pl.lit(None, dtype=pl.String)},
        {"__missing": pl.coalesce([pl.when(_is_blank(s)).then(pl.lit(s.name)) for s in required])
            if required else pl.lit(None, dtype=pl.String)},
        {"__first_content": candidate_row.min().over("__content"),
         "__first_id": candidate_row.min().over("__record_id") if has_record_id else pl.col(ROW_NUMBER)},
        {"__reason_key": pl.when(missing.is_not_null()).then(pl.lit(MISSING_REQUIRED))
            .when(is_duplicate).then(pl.lit(DUPLICATE_ROW))
            .when(is_conflict).then(pl.lit(CONFLICTING_RECORD_ID)),
         "__field": pl.when(missing.is_not_null()).then(missing)
            .when(is_duplicate).then(None)
            .when(is_conflict).then(pl.lit("record_id")),
         "__reason": pl.when(missing.is_not_null()).then(pl.lit(MISSING_REQUIRED))
            .when(is_duplicate).then(pl.format("exact duplicate of row {}", first_content))
            .when(is_conflict).then(pl.format("record_id repeated with different content (first at row {})", first_id))},
    ]


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


def field_frame(spec: ColumnSpec, rows: pl.DataFrame, address: str | None, county_hint: str | None) -> pl.DataFrame:
    """The outputs of :func:`field_stages` for one field of ``rows`` (value, derived columns and
    ``__flag``/``__flags``), computed by the kind's fast path: the same values, for less work."""
    f, kind, series = spec.name, spec.kind, rows[spec.name]
    if kind in (Kind.TEXT, Kind.ADDRESS):
        return text.normalise_series(series, f)
    if kind == Kind.NAME:
        return names.normalise_series(series, f)
    if kind == Kind.ID_NUMBER:
        return id_number.normalise_series(series, f)
    if kind == Kind.VILLAGE_CODE:
        return villages.normalise_series(series, rows[address] if address else None, county_hint, f)
    if kind in (Kind.GENDER, Kind.ENUM, Kind.BOOL, Kind.HOUSE_GRADE, Kind.SCHOOL_GRADE):
        return enums.normalise_series(series, spec.column, f)
    if kind == Kind.DATE:
        return dates.normalise_series(series, f)
    if kind == Kind.PHONE:
        return phones.normalise_series(series, f)
    if kind in (Kind.INT, Kind.MONEY, Kind.YEAR):
        return numbers.normalise_series(series, kind, f)
    raise NotImplementedError(f"no normaliser for kind {kind}")  # a new Kind must be wired here


def _flags(specs: list[ColumnSpec], produced: set[str]) -> pl.Expr:
    """Each row's flags: the fields' own, then the ID number's disagreements with birth date and gender."""
    flags = [pl.col(temp(s.name, "flag")) for s in specs if temp(s.name, "flag") in produced]
    flags += [flags_text(pl.col(temp(s.name, "flags"))) for s in specs if temp(s.name, "flags") in produced]
    # The person's own ID vouches for birth date and gender (a guardian's ID does not).
    by_kind = {s.name: s.kind for s in specs}
    if by_kind.get("id_number") == Kind.ID_NUMBER:
        for field in ("birth_date", "gender"):
            if field in by_kind:
                from_id = pl.col(f"id_number_{field}")
                disagrees = pl.col(field).is_not_null() & from_id.is_not_null() & (pl.col(field) != from_id)
                flags.append(pl.when(disagrees).then(pl.lit(f"{field}:disagrees_with_id")))
    return flag_list(flags)


def _normalise(rows: pl.DataFrame, department: str, meta: FileMeta, file_columns: dict[str, pl.Expr]) -> pl.DataFrame:
    specs = columns(department)
    address = next((s.name for s in specs if s.kind == Kind.ADDRESS), None)
    village = next((s.name for s in specs if s.kind == Kind.VILLAGE_CODE), None)
    # Normalisers replace f with its normalised value: the text as read is kept under f_raw.
    fields = [field_frame(spec, rows, address, meta.county_from_name) for spec in specs]
    normalised = pl.concat([rows.select(ROW_NUMBER, *(pl.col(s.name).alias(f"{s.name}_raw") for s in specs)), *fields],
                           how="horizontal")
    county = pl.col(village).str.slice(0, 6) if village else pl.lit(None, dtype=pl.String)
    return normalised.with_columns(
        **file_columns,
        snapshot_date=pl.lit(meta.snapshot_date, dtype=pl.Date),
        county=pl.coalesce(county, pl.lit(meta.county_from_name, dtype=pl.String)),
        flags=_flags(specs, set(normalised.columns)),
    ).select([pl.col(name).cast(dtype) for name, dtype in accepted_schema(department).items()])
