"""Resident ID numbers (GB 11643-1999), vectorised.

Normalise (NFKC, strip, upper-case ``X``), convert legacy 15-digit IDs to 18
digits, verify the ISO 7064 MOD 11-2 check character and derive birth date,
gender and county of first registration. All arithmetic runs on Int64
columns: the first 17 digits fit in an Int64, so each digit is an integer
division, not a string slice per row.
"""

from __future__ import annotations

import polars as pl

from schemas.normalise import EXCEL_DECIMAL, EXCEL_E_NOTATION, squeeze

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # index = weighted sum mod 11

VALID = "valid"
LEGACY_CONVERTED = "legacy_converted"
BAD_CHECK_DIGIT = "bad_check_digit"
EXCEL_DAMAGED = "excel_damaged"
MALFORMED = "malformed"
BLANK = "blank"
STATUSES = (VALID, LEGACY_CONVERTED, BAD_CHECK_DIGIT, EXCEL_DAMAGED, MALFORMED, BLANK)
#: statuses whose ID has the shape of a real ID (the derived fields are trusted as far as the ID is).
SHAPE_VALID = (VALID, LEGACY_CONVERTED, BAD_CHECK_DIGIT)
#: statuses worth a soft flag on the row.
FLAGGED = (BAD_CHECK_DIGIT, EXCEL_DAMAGED, MALFORMED)


def check_char(first17: str) -> str:
    """The check character of an ID from its first 17 digits (pure Python, for tests and callers)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def _cleaned(col: str) -> pl.Expr:
    # A leading apostrophe is how people force Excel to keep an ID as text.
    return squeeze(col).str.strip_chars_start("'").str.to_uppercase()


def _first17(col: str) -> pl.Expr:
    text = _cleaned(col)
    return (
        pl.when(text.str.contains(r"^[0-9]{17}[0-9X]$"))
        .then(text.str.slice(0, 17))
        .when(text.str.contains(r"^[0-9]{15}$"))
        .then(pl.concat_str(text.str.slice(0, 6), pl.lit("19"), text.str.slice(6, 9)))
    )


def check_char_expr(first17: pl.Expr) -> pl.Expr:
    """Vectorised :func:`check_char` over a column of 17-digit strings (null stays null)."""
    number = first17.str.to_integer(base=10, strict=False)
    total = pl.sum_horizontal(
        [(number // 10 ** (16 - position) % 10) * weight for position, weight in enumerate(WEIGHTS)]
    )
    return (total % 11).replace_strict(
        list(range(11)), list(CHECK_CHARS), default=None, return_dtype=pl.String
    )


def _birth_from_first17(first17: pl.Expr) -> pl.Expr:
    birth = first17.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
    return pl.when(birth.dt.year().is_between(1900, 2099)).then(birth)


def status(col: str) -> pl.Expr:
    """One of :data:`STATUSES` for every row."""
    text = _cleaned(col)
    first17 = _first17(col)
    has_birth = _birth_from_first17(first17).is_not_null()
    is18 = text.str.len_bytes() == 18
    return (
        pl.when(text.is_null())
        .then(pl.lit(BLANK))
        .when(text.str.contains(EXCEL_E_NOTATION) | text.str.contains(EXCEL_DECIMAL))
        .then(pl.lit(EXCEL_DAMAGED))
        .when(has_birth & is18 & (text.str.slice(17, 1) == check_char_expr(first17)))
        .then(pl.lit(VALID))
        # Excel keeps 15 significant digits: the last three come back as zeros.
        .when(has_birth & is18 & text.str.ends_with("000"))
        .then(pl.lit(EXCEL_DAMAGED))
        .when(has_birth & is18)
        .then(pl.lit(BAD_CHECK_DIGIT))
        .when(has_birth)
        .then(pl.lit(LEGACY_CONVERTED))
        .otherwise(pl.lit(MALFORMED))
    )


def expr(col: str) -> pl.Expr:
    """The 18-character ID when it has the shape of one (valid, converted or bad check), else null."""
    text = _cleaned(col)
    first17 = _first17(col)
    state = status(col)
    return (
        pl.when(state.is_in([VALID, BAD_CHECK_DIGIT]))
        .then(text)
        .when(state == LEGACY_CONVERTED)
        .then(pl.concat_str(first17, check_char_expr(first17)))
    )


def birth_date(col: str) -> pl.Expr:
    return pl.when(expr(col).is_not_null()).then(_birth_from_first17(_first17(col)))


def gender(col: str) -> pl.Expr:
    """男 when the 17th digit (sequence number) is odd, 女 when even."""
    sequence_digit = expr(col).str.slice(16, 1).str.to_integer(strict=False)
    return pl.when(sequence_digit % 2 == 1).then(pl.lit("男")).when(sequence_digit % 2 == 0).then(pl.lit("女"))


def county(col: str) -> pl.Expr:
    return expr(col).str.slice(0, 6)


def reason(col: str) -> pl.Expr:
    """The status when it deserves a soft flag, else null."""
    state = status(col)
    return pl.when(state.is_in(FLAGGED)).then(state)


def normalise(col: str, out: str | None = None) -> dict[str, pl.Expr]:
    """Every output column of an ID field, named after ``out`` (default ``col``)."""
    out = out or col
    return {
        out: expr(col),
        f"{out}_status": status(col),
        f"{out}_birth_date": birth_date(col),
        f"{out}_gender": gender(col),
        f"{out}_county": county(col),
    }
