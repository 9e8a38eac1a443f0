"""Resident ID numbers (GB 11643-1999), vectorised.

Normalise (NFKC, strip, upper-case ``X``), convert legacy 15-digit IDs to 18
digits, verify the ISO 7064 MOD 11-2 check character and derive birth date,
gender and county of first registration. The check digit is integer
arithmetic on an Int64 column (the first 17 digits fit), not a string slice
per digit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from schemas.normalise import (
    ATYPICAL, EXCEL_DECIMAL, EXCEL_E_NOTATION, Fast, Stages, days_from_civil, fixed_width_rows, flag, is_calendar_date,
    replaced, series_stages, squeeze, temp,
)

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # index = weighted sum mod 11

VALID = "valid"
LEGACY_CONVERTED = "legacy_converted"
BAD_CHECK_DIGIT = "bad_check_digit"
EXCEL_DAMAGED = "excel_damaged"
MALFORMED = "malformed"
BLANK = "blank"
STATUSES = (VALID, LEGACY_CONVERTED, BAD_CHECK_DIGIT, EXCEL_DAMAGED, MALFORMED, BLANK)
#: statuses whose ID has the shape of a real ID (the derived fields are as good as the ID).
SHAPE_VALID = (VALID, LEGACY_CONVERTED, BAD_CHECK_DIGIT)
#: statuses worth a soft flag on the row.
FLAGGED = (BAD_CHECK_DIGIT, EXCEL_DAMAGED, MALFORMED)


def check_char(first17: str) -> str:
    """The check character of an ID from its first 17 digits (pure Python, for tests and callers)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def check_char_of_number(first17: pl.Expr) -> pl.Expr:
    """Vectorised :func:`check_char` of an Int64 column holding the first 17 digits."""
    total = pl.sum_horizontal(
        [(first17 // 10 ** (16 - position) % 10) * weight for position, weight in enumerate(WEIGHTS)]
    )
    check = (total % 11).replace_strict(list(range(11)), list(CHECK_CHARS), default=None, return_dtype=pl.String)
    return pl.when(first17.is_not_null()).then(check)


def normalise(col: str, out: str | None = None) -> Stages:
    """Stages producing ``out``, ``out_status``, ``out_birth_date``, ``out_gender``, ``out_county``, ``out__flag``."""
    out = out or col
    text, first17, number, birth, check, status = (
        pl.col(temp(out, n)) for n in ("text", "first17", "number", "birth", "check", "status")
    )
    is18 = text.str.len_bytes() == 18
    has_birth = birth.is_not_null()
    shaped = status.is_in(SHAPE_VALID)
    sequence_digit = first17.str.slice(16, 1).str.to_integer(strict=False)
    return [
        {temp(out, "text"): _cleaned(col)},
        {temp(out, "first17"): pl.when(text.str.contains(r"^[0-9]{17}[0-9X]$")).then(text.str.slice(0, 17))
            .when(text.str.contains(r"^[0-9]{15}$"))
            .then(pl.concat_str(text.str.slice(0, 6), pl.lit("19"), text.str.slice(6, 9)))},
        {temp(out, "number"): first17.str.to_integer(strict=False),
         temp(out, "birth"): _plausible(first17.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False))},
        {temp(out, "check"): check_char_of_number(number)},
        {temp(out, "status"): pl.when(text.is_null()).then(pl.lit(BLANK))
            .when(text.str.contains(EXCEL_E_NOTATION) | text.str.contains(EXCEL_DECIMAL)).then(pl.lit(EXCEL_DAMAGED))
            .when(has_birth & is18 & (text.str.slice(17, 1) == check)).then(pl.lit(VALID))
            # Excel keeps 15 significant digits: the last three come back as zeros.
            .when(has_birth & is18 & text.str.ends_with("000")).then(pl.lit(EXCEL_DAMAGED))
            .when(has_birth & is18).then(pl.lit(BAD_CHECK_DIGIT))
            .when(has_birth).then(pl.lit(LEGACY_CONVERTED))
            .otherwise(pl.lit(MALFORMED))},
        {out: pl.when(status.is_in([VALID, BAD_CHECK_DIGIT])).then(text)
            .when(status == LEGACY_CONVERTED).then(pl.concat_str(first17, check)),
         f"{out}_status": status,
         f"{out}_birth_date": pl.when(shaped).then(birth),
         # The 17th digit is the sequence number: odd for men.
         f"{out}_gender": pl.when(shaped).then(pl.when(sequence_digit % 2 == 1).then(pl.lit("男")).otherwise(pl.lit("女"))),
         f"{out}_county": pl.when(shaped).then(first17.str.slice(0, 6)),
         temp(out, "flag"): flag(out, pl.when(status.is_in(FLAGGED)).then(status))},
    ]


def _cleaned(col: str) -> pl.Expr:
    # A leading apostrophe is how people force Excel to keep an ID as text.
    return squeeze(col).str.strip_chars_start("'").str.to_uppercase()


def _plausible(birth: pl.Expr) -> pl.Expr:
    return pl.when(birth.dt.year().is_between(1900, 2099)).then(birth)


_CODE = {status: code for code, status in enumerate(STATUSES)}
_STATUS_LABELS = pl.Series(STATUSES, dtype=pl.String)
_GENDERS = pl.Series(["女", "男"], dtype=pl.String)  # by the parity of the sequence digit
_CHECK_BY_VALUE = pl.Series(list("0123456789X"), dtype=pl.String)  # the check character of each value
_DIGIT = np.uint8(ord("0"))
_UPPER_X, _LOWER_X = ord("X"), ord("x")


@dataclass
class _Read:
    """What the digits of some IDs say: their row positions, status codes, birth days, sequence parity."""

    positions: np.ndarray
    codes: np.ndarray
    days: np.ndarray
    odd: np.ndarray
    check: np.ndarray


def _digits(written: np.ndarray, columns: range) -> tuple[np.ndarray, list[np.ndarray]]:
    """Which rows hold ASCII digits in ``columns``, and those digits (uint8: a byte below "0" wraps above 9)."""
    digits = [written[:, k] - _DIGIT for k in columns]
    ok = np.ones(len(written), dtype=bool)
    for digit in digits:
        ok &= digit <= 9
    return ok, digits


def _read(positions: np.ndarray, first17: list[np.ndarray], written_check: np.ndarray | None) -> _Read:
    """Status, birth date and parity from the 17 digits (as int32 arrays); ``written_check`` is the 18th
    character's value (X being 10), None for a 15-digit ID."""
    year = first17[6] * 1000 + first17[7] * 100 + first17[8] * 10 + first17[9]
    month, day = first17[10] * 10 + first17[11], first17[12] * 10 + first17[13]
    has_birth = (year >= 1900) & (year <= 2099) & is_calendar_date(year, month, day)
    check = (12 - sum(w * d for w, d in zip(WEIGHTS, first17)) % 11) % 11  # X being 10
    if written_check is None:
        codes = np.where(has_birth, _CODE[LEGACY_CONVERTED], _CODE[MALFORMED])
    else:
        # Excel keeps 15 significant digits: the last three come back as zeros.
        excel_zeros = (first17[15] == 0) & (first17[16] == 0) & (written_check == 0)
        codes = np.select([~has_birth, written_check == check, excel_zeros],
                          [_CODE[MALFORMED], _CODE[VALID], _CODE[EXCEL_DAMAGED]], _CODE[BAD_CHECK_DIGIT])
    days = np.where(has_birth, days_from_civil(year, month, day), 0)
    return _Read(positions, codes, days, first17[16] % 2, check)


def _read_18(positions: np.ndarray, written: np.ndarray) -> tuple[_Read, np.ndarray]:
    """IDs of 17 ASCII digits and a digit, X or x; also which of them end in a lower-case x."""
    typical, digits = _digits(written, range(17))
    last = written[:, 17]
    lower_x = last == _LOWER_X
    typical &= (last == _UPPER_X) | lower_x | (last - _DIGIT <= 9)
    last = last[typical]
    written_check = np.where((last == _UPPER_X) | (last == _LOWER_X), 10, last.astype(np.int32) - int(_DIGIT))
    read = _read(positions[typical], [d[typical].astype(np.int32) for d in digits], written_check)
    return read, positions[typical & lower_x]


def _read_15(positions: np.ndarray, written: np.ndarray) -> _Read:
    """Legacy IDs of 15 ASCII digits: the first 17 of 18 are the first 6, then "19", then the other 9."""
    typical, digits = _digits(written, range(15))
    digits = [d[typical].astype(np.int32) for d in digits]
    nineteen = [np.full(len(positions[typical]), digit, dtype=np.int32) for digit in (1, 9)]
    return _read(positions[typical], digits[:6] + nineteen + digits[6:], None)


def _shift(read: _Read, positions: np.ndarray) -> _Read:
    """``read`` of a subset, its positions made positions of the whole column."""
    return _Read(positions[read.positions], read.codes, read.days, read.odd, read.check)


def _fast(series: pl.Series, out: str) -> pl.DataFrame:
    """The outputs of :func:`normalise` and ``atypical`` (none, see :func:`fast`)."""
    blank, rows = fixed_width_rows(series, 18, 15)
    long, lower_x = _read_18(*rows[18])
    reads = [long, _read_15(*rows[15])]
    codes = np.where(blank, _CODE[BLANK], _CODE[MALFORMED]).astype(np.uint32)
    text = series
    if len(lower_x):
        text = replaced(text, pl.Series(lower_x, dtype=pl.UInt32), series.gather(lower_x).str.to_uppercase())
    typical = blank.copy()
    for read in reads:
        typical[read.positions] = True
    others = np.flatnonzero(~typical)
    if len(others):
        # The reference's own first stage, then the same reading of the cleaned text.
        shown = pl.col("text")
        cleaned = series.gather(others).to_frame("id").lazy().select(text=_cleaned("id")).with_columns(
            excel=shown.str.contains(EXCEL_E_NOTATION) | shown.str.contains(EXCEL_DECIMAL)).collect()
        text = replaced(text, pl.Series(others, dtype=pl.UInt32), cleaned["text"])
        cleaned_blank, cleaned_rows = fixed_width_rows(cleaned["text"], 18, 15)
        codes[others[cleaned_blank]] = _CODE[BLANK]
        codes[others[cleaned["excel"].fill_null(False).to_numpy() & ~cleaned_blank]] = _CODE[EXCEL_DAMAGED]
        reads += [_shift(_read_18(*cleaned_rows[18])[0], others), _shift(_read_15(*cleaned_rows[15]), others)]
    days, odd = np.zeros(series.len(), dtype=np.int32), np.zeros(series.len(), dtype=np.uint32)
    for read in reads:
        codes[read.positions], days[read.positions], odd[read.positions] = read.codes, read.days, read.odd
    legacy = np.concatenate([read.positions[read.codes == _CODE[LEGACY_CONVERTED]] for read in reads])
    if len(legacy):
        checks = np.concatenate([read.check[read.codes == _CODE[LEGACY_CONVERTED]] for read in reads])
        old = pl.col("old")
        converted = text.gather(legacy).to_frame("old").select(pl.concat_str(
            old.str.slice(0, 6), pl.lit("19"), old.str.slice(6, 9), pl.lit(_CHECK_BY_VALUE.gather(checks)))).to_series()
        text = replaced(text, pl.Series(legacy, dtype=pl.UInt32), converted)
    code = pl.Series(codes)
    shaped = pl.lit(code.is_in([_CODE[s] for s in SHAPE_VALID]))
    flags = pl.Series([f"{out}:{s}" if s in FLAGGED else None for s in STATUSES], dtype=pl.String)
    return pl.select(**{
        out: pl.when(shaped).then(pl.lit(text)),
        f"{out}_status": pl.lit(_STATUS_LABELS.gather(code)),
        f"{out}_birth_date": pl.when(shaped).then(pl.lit(pl.Series(days).cast(pl.Date))),
        f"{out}_gender": pl.when(shaped).then(pl.lit(_GENDERS.gather(pl.Series(odd)))),
        f"{out}_county": pl.when(shaped).then(pl.lit(text).str.slice(0, 6)),
        temp(out, "flag"): pl.lit(flags.gather(code)),
        ATYPICAL: pl.repeat(False, series.len()),
    })


def fast(col: str, out: str | None = None) -> Fast:
    """:func:`normalise` computed in numpy: IDs written as 18 or 15 ASCII digits (the 18th may be X or x;
    nearly all IDs) are their own cleaned text but for the case of x; the others are cleaned by the
    reference's first stage. The check character, birth date and sex are then arithmetic on the
    digits of the cleaned text; a text of another shape is blank, Excel-damaged or malformed, as the
    reference's status says. Nothing is atypical."""
    out = out or col
    schema = {out: pl.String(), f"{out}_status": pl.String(), f"{out}_birth_date": pl.Date(),
              f"{out}_gender": pl.String(), f"{out}_county": pl.String(), temp(out, "flag"): pl.String()}
    return Fast(series_stages(col, out, lambda series: _fast(series, out), schema))
