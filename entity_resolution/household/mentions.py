"""Person mentions: one row per person a department record names.

A record can name more than one person (an education record names the student
and the guardian), and a household-level record (housing, water) names the
person who stands for the household. Linkage works on these mentions, not on
records: ``mention_id`` (``department|record_id|role|snapshot_date``) is the
stable key every later stage joins on.

Input is the normalised department frame of the contract (``schemas.validate``
"accepted"); columns a frame lacks are read as null so that a partial frame (a
test, a department that sent fewer columns) still builds.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

#: Columns of the mention frame, in order.
MENTION_COLUMNS: dict[str, pl.DataType] = {
    "mention_id": pl.String,
    "record_key": pl.String,
    "department": pl.String,
    "record_id": pl.String,
    "role": pl.String,
    "snapshot_date": pl.Date,
    "year": pl.Int32,
    "file_id": pl.String,
    "name": pl.String,
    "name_pinyin": pl.String,
    "id_number": pl.String,
    "id_status": pl.String,
    "id_county": pl.String,
    "birth_date": pl.Date,
    "gender": pl.String,
    "phone": pl.String,
    "village_code": pl.String,
    "county": pl.String,
    "address": pl.String,
    # household evidence
    "case_no": pl.String,
    "family_no": pl.String,
    "relation": pl.String,
    "guardian_relation": pl.String,
    "student_mention_id": pl.String,
}

#: ID statuses whose 18-character ID identifies a person (a converted legacy
#: ID is as good as a native one).
VALID_ID_STATUSES = ("valid", "legacy_converted")

_GUARDIAN_GENDER = {"父亲": "男", "祖父": "男", "母亲": "女", "祖母": "女"}


@dataclass(frozen=True)
class _Role:
    """Where one role's person fields live in a department frame."""

    department: str
    role: str
    name: str  # NAME column; its pinyin is ``<name>_pinyin``
    id_number: str | None  # ID_NUMBER column; derived columns ``<id>_status`` ...
    gender: str | None
    birth_date: str | None
    phone: str | None


ROLES: tuple[_Role, ...] = (
    _Role("education", "subject", "name", "id_number", "gender", "birth_date", None),
    _Role("education", "guardian", "guardian_name", "guardian_id_number", None, None, "guardian_phone"),
    _Role("health", "subject", "name", "id_number", "gender", "birth_date", "phone"),
    _Role("civil_affairs", "subject", "name", "id_number", "gender", "birth_date", "phone"),
    _Role("housing", "owner", "owner_name", "owner_id_number", None, None, "phone"),
    _Role("water", "head", "head_name", None, None, None, "phone"),
)


def _col(frame: pl.DataFrame, name: str | None, dtype: pl.DataType = pl.String) -> pl.Expr:
    if name is not None and name in frame.columns:
        return pl.col(name).cast(dtype)
    return pl.lit(None, dtype=dtype)


def mention_id_expr(department: pl.Expr, record_id: pl.Expr, role: pl.Expr, snapshot_date: pl.Expr) -> pl.Expr:
    return pl.concat_str([department, record_id, role, snapshot_date.cast(pl.String)], separator="|")


def _role_mentions(frame: pl.DataFrame, role: _Role) -> pl.DataFrame:
    if role.name not in frame.columns:
        return pl.DataFrame(schema=MENTION_COLUMNS)
    id_col = role.id_number
    id_status = _col(frame, f"{id_col}_status" if id_col else None)
    # Excel keeps 15 significant digits: an 18-digit ID stored as a number ends
    # in 000, and one time in eleven that still passes the check digit.
    id_status = pl.when(_col(frame, id_col).str.ends_with("000")).then(pl.lit("excel_damaged")).otherwise(id_status)
    id_is_valid = id_status.is_in(VALID_ID_STATUSES)
    # A derived birth date / gender from an ID with a bad check digit is still
    # usually right (one digit is wrong, rarely in the date), so it fills blanks;
    # the given field wins when present.
    id_birth = _col(frame, f"{id_col}_birth_date" if id_col else None, pl.Date)
    id_gender = _col(frame, f"{id_col}_gender" if id_col else None)
    gender = pl.coalesce(_col(frame, role.gender), id_gender)
    if role.role == "guardian":
        gender = pl.coalesce(gender, _col(frame, "guardian_relation").replace_strict(
            _GUARDIAN_GENDER, default=None, return_dtype=pl.String))
    department = pl.lit(role.department)
    record_id = _col(frame, "record_id")
    snapshot_date = _col(frame, "snapshot_date", pl.Date)
    village = _col(frame, "village_code")
    student_mention = (
        mention_id_expr(department, record_id, pl.lit("subject"), snapshot_date)
        if role.role == "guardian" else pl.lit(None, dtype=pl.String)
    )
    out = frame.select(
        mention_id=mention_id_expr(department, record_id, pl.lit(role.role), snapshot_date),
        record_key=pl.concat_str([department, record_id, pl.lit(role.role)], separator="|"),
        department=department,
        record_id=record_id,
        role=pl.lit(role.role),
        snapshot_date=snapshot_date,
        year=_col(frame, "year", pl.Int32),
        file_id=_col(frame, "file_id"),
        name=_col(frame, role.name),
        name_pinyin=_col(frame, f"{role.name}_pinyin"),
        id_number=pl.when(id_status != "excel_damaged").then(_col(frame, id_col)),
        id_status=pl.coalesce(id_status, pl.lit("blank")),
        id_county=pl.when(id_is_valid | (id_status == "bad_check_digit"))
        .then(_col(frame, f"{id_col}_county" if id_col else None)),
        birth_date=pl.coalesce(_col(frame, role.birth_date, pl.Date), id_birth),
        gender=gender,
        phone=_col(frame, role.phone),
        village_code=village,
        county=pl.coalesce(_col(frame, "county"), village.str.slice(0, 6)),
        address=_col(frame, "address"),
        case_no=_col(frame, "case_no") if role.department == "civil_affairs" else pl.lit(None, dtype=pl.String),
        family_no=_col(frame, "family_no") if role.department == "health" else pl.lit(None, dtype=pl.String),
        relation=_col(frame, "relation") if role.department == "civil_affairs" else pl.lit(None, dtype=pl.String),
        guardian_relation=_col(frame, "guardian_relation") if role.role == "guardian" else pl.lit(None, dtype=pl.String),
        student_mention_id=student_mention,
    )
    # A guardian column left blank names nobody.
    return out.filter(pl.col("name").is_not_null() & (pl.col("name") != ""))


def build_mentions(frames_by_department: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The person-mention frame of every record in ``frames_by_department``.

    Each frame may hold several snapshots (current and history). A record read
    twice for the same snapshot (the same file dropped twice under two ids)
    yields one mention: the one from the smallest ``file_id``, so the choice
    does not depend on the order files were read.
    """
    parts = [
        _role_mentions(frame, role)
        for role in ROLES
        if (frame := frames_by_department.get(role.department)) is not None and frame.height
    ]
    if not parts:
        return pl.DataFrame(schema=MENTION_COLUMNS)
    mentions = pl.concat([p.cast(MENTION_COLUMNS) for p in parts], how="vertical")
    return (
        mentions.sort("mention_id", "file_id", nulls_last=True)
        .unique("mention_id", keep="first", maintain_order=True)
    )


def valid_id_expr() -> pl.Expr:
    """The ID number when it identifies a person, else null."""
    return pl.when(pl.col("id_status").is_in(VALID_ID_STATUSES)).then(pl.col("id_number"))
