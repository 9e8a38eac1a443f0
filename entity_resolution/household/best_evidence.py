"""Best identifiers per person, from every record and every snapshot.

The latest extract is not automatically the best: an ID number Excel mangled
last month must not erase the valid one an earlier extract or another
department holds, and a blank phone in one record must not hide the phone in
another. Per field the rule is:

- ``id_number``: a valid ID (valid or converted legacy) beats any other; among
  valid IDs the one most records carry, then the latest, then the most
  reliable department (health enrols from ID cards). Only when no record has a
  valid ID does a shape-valid one with a bad check digit stand in.
- ``birth_date`` / ``gender``: derived from the chosen valid ID, else the value
  most records give.
- ``name``: the spelling most records give, ties to the most reliable
  department (water surveys write heads by ear).
- ``phone`` / ``village_code`` / ``address``: the most recent non-blank value.
"""

from __future__ import annotations

import polars as pl

from entity_resolution.household.households import placeholder_phone
from entity_resolution.household.mentions import VALID_ID_STATUSES

#: Lower is more reliable for identity fields.
DEPARTMENT_RELIABILITY = {"health": 0, "civil_affairs": 1, "education": 2, "housing": 3, "water": 4}

PERSON_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.String,
    "name": pl.String,
    "name_pinyin": pl.String,
    "id_number": pl.String,
    "id_status": pl.String,
    "birth_date": pl.Date,
    "gender": pl.String,
    "phone": pl.String,
    "village_code": pl.String,
    "address": pl.String,
    "n_records": pl.UInt32,
    "first_seen": pl.Date,
    "last_seen": pl.Date,
}


def _reliability() -> pl.Expr:
    return pl.col("department").replace_strict(DEPARTMENT_RELIABILITY, default=9, return_dtype=pl.Int8)


def _most_common(m: pl.DataFrame, column: str, *, extra: list[str] = ()) -> pl.DataFrame:
    """Per person the value of ``column`` most mentions give; ties: latest, most reliable, smallest."""
    counted = (
        m.filter(pl.col(column).is_not_null())
        .group_by("person_id", column, *extra)
        .agg(n=pl.len(), latest=pl.col("snapshot_date").max(), rel=pl.col("rel").min())
    )
    return (
        counted.sort(["person_id", "n", "latest", "rel", column], descending=[False, True, True, False, False])
        .unique("person_id", keep="first")
        .drop("n", "latest", "rel")
    )


def _latest(m: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Per person and column the value of the latest, most reliable mention that has one; ties: the smallest.

    Latest-then-most-reliable is one integer key (``-days * 16 + rel``, ``rel`` < 16): per column, the
    non-blank mentions holding their person's smallest key, then the smallest value among them. Hash
    group-bys only, no per-person sort (that cost grew with the drop).
    """
    if m.select(pl.any_horizontal(pl.col("person_id", "snapshot_date", "rel").is_null().any())).item():
        return _latest_sorted(m, columns)
    keyed = m.select(
        "person_id", *columns,
        __key=pl.col("snapshot_date").cast(pl.Int64).neg() * 16 + pl.col("rel").cast(pl.Int64),
    )
    out = keyed.select("person_id").unique()
    for c in columns:
        best = (
            keyed.filter(pl.col(c).is_not_null())
            .filter(pl.col("__key") == pl.col("__key").min().over("person_id"))
            .group_by("person_id")
            .agg(pl.col(c).min())
        )
        out = out.join(best, on="person_id", how="left")
    return out


def _latest_sorted(m: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """``_latest`` by a sort per person (a blank person, snapshot date or department ranks as the sort puts it)."""
    ranked = m.with_columns(
        __order=pl.struct(pl.col("snapshot_date").cast(pl.Int32).neg(), "rel")
    )
    return ranked.group_by("person_id").agg(
        [
            pl.col(c).filter(pl.col(c).is_not_null()).sort_by([pl.col("__order").filter(pl.col(c).is_not_null()),
                                                                 pl.col(c).filter(pl.col(c).is_not_null())]).first()
            for c in columns
        ]
    )


def best_evidence(mentions: pl.DataFrame) -> pl.DataFrame:
    """One row per ``person_id`` of ``mentions`` with the best value of each identifier."""
    m = mentions.with_columns(
        rel=_reliability(),
        phone=pl.when(placeholder_phone()).then(None).otherwise(pl.col("phone")),
        id_rank=pl.when(pl.col("id_status").is_in(VALID_ID_STATUSES)).then(0)
        .when(pl.col("id_number").is_not_null()).then(1)
        .otherwise(None),
    )
    with_id = m.filter(pl.col("id_rank").is_not_null())
    best_rank = with_id.group_by("person_id").agg(best=pl.col("id_rank").min())
    ids = _most_common(
        with_id.join(best_rank, on="person_id").filter(pl.col("id_rank") == pl.col("best")),
        "id_number",
        extra=["id_status"],
    )
    ids = ids.with_columns(
        id_birth=pl.when(pl.col("id_status").is_in(VALID_ID_STATUSES))
        .then(pl.col("id_number").str.slice(6, 8).str.to_date("%Y%m%d", strict=False)),
        id_gender=pl.when(pl.col("id_status").is_in(VALID_ID_STATUSES))
        .then(pl.when(pl.col("id_number").str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1)
              .then(pl.lit("男")).otherwise(pl.lit("女"))),
    )
    summary = m.group_by("person_id").agg(
        n_records=pl.concat_str(["department", "record_id"], separator="|").n_unique().cast(pl.UInt32),
        first_seen=pl.col("snapshot_date").min(),
        last_seen=pl.col("snapshot_date").max(),
    )
    out = (
        summary.join(_most_common(m, "name", extra=["name_pinyin"]), on="person_id", how="left")
        .join(ids, on="person_id", how="left")
        .join(_most_common(m, "birth_date"), on="person_id", how="left")
        .join(_most_common(m, "gender"), on="person_id", how="left")
        .join(_latest(m, ["phone", "village_code", "address"]), on="person_id", how="left")
        .with_columns(
            birth_date=pl.coalesce("id_birth", "birth_date"),
            gender=pl.coalesce("id_gender", "gender"),
            id_status=pl.col("id_status").fill_null("blank"),
        )
    )
    return out.select(list(PERSON_SCHEMA)).cast(PERSON_SCHEMA).sort("person_id")
