"""Resident ID numbers (GB 11643-1999), vectorised.

Normalise (NFKC, strip, upper-case ``X``), convert legacy 15-digit IDs to 18
digits, verify the ISO 7064 MOD 11-2 check character and derive birth date,
gender and county of first registration. The check digit is integer
arithmetic on an Int64 column (the first 17 digits fit), not a string slice
per digit.
"""

from __future__ import annotations

import polars as pl

from schemas.normalise import EXCEL_DECIMAL, EXCEL_E_NOTATION, Stages, flag, squeeze, temp

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
    # A leading apostrophe is how people force Excel to keep an ID as text.
    cleaned = squeeze(col).str.strip_chars_start("'").str.to_uppercase()
    return [
        {temp(out, "text"): cleaned},
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


def _plausible(birth: pl.Expr) -> pl.Expr:
    return pl.when(birth.dt.year().is_between(1900, 2099)).then(birth)
