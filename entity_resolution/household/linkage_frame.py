"""The frame the linkage engine links: one row per distinct person profile.

A record usually names the same person with the same values snapshot after
snapshot; comparing each copy would multiply candidate pairs by the number of
snapshots for nothing. Mentions of one record (``record_key``) with identical
identifying values collapse into one *profile*, identified by its smallest
``mention_id``; the link back is ``profile_of_mention``.

Columns added for the settings (``settings.yaml``): ``valid_id`` (the ID when
it identifies a person), ``id_body`` (first 17 characters: a valid ID against
the same ID with a wrong check digit), ``pinyin_first`` (surname syllable),
``group_key`` (the one-per-group constraint: department, role, year and the
profile's last snapshot; guardians are exempt, a father is the guardian of
each of his children), ``life_stage`` (``adult`` for the person a household
record or a guardian field names, ``minor`` under 14: never one person).
"""

from __future__ import annotations

import polars as pl

from entity_resolution.household.households import placeholder_phone
from entity_resolution.household.mentions import valid_id_expr

#: Below this age nobody heads a household, owns a house or acts as a guardian.
MINOR_AGE = 14

IDENTITY_COLUMNS = [
    "record_key", "department", "role", "year", "name", "name_pinyin", "id_number", "id_status",
    "id_county", "birth_date", "gender", "phone", "village_code", "county",
]


def person_profiles(mentions: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(profiles, profile_of_mention)``: profiles keyed by ``mention_id``; map ``mention_id -> profile_id``."""
    cleaned = mentions.with_columns(
        phone=pl.when(placeholder_phone()).then(None).otherwise(pl.col("phone")),
    )
    profile = pl.struct(IDENTITY_COLUMNS)
    keyed = cleaned.with_columns(
        profile_id=pl.col("mention_id").min().over(profile),
        last_snapshot=pl.col("snapshot_date").max().over(profile),
    )
    profile_of_mention = keyed.select("mention_id", "profile_id")
    group_key = (
        pl.when(pl.col("role") == "guardian")
        .then(pl.col("mention_id"))
        .otherwise(
            pl.concat_str(
                [pl.col("department"), pl.col("role"), pl.col("year").cast(pl.String).fill_null(""),
                 pl.col("last_snapshot").cast(pl.String)],
                separator="|",
            )
        )
    )
    age = (pl.col("last_snapshot") - pl.col("birth_date")).dt.total_days() / 365.25
    life_stage = (
        pl.when(pl.col("role").is_in(["head", "owner", "guardian"])).then(pl.lit("adult"))
        .when(age < MINOR_AGE).then(pl.lit("minor"))
    )
    profiles = (
        keyed.filter(pl.col("mention_id") == pl.col("profile_id"))
        .with_columns(
            valid_id=valid_id_expr(),
            id_body=pl.col("id_number").str.slice(0, 17),
            pinyin_first=pl.col("name_pinyin").str.split(" ").list.first(),
            group_key=group_key,
            life_stage=life_stage,
        )
        .sort("mention_id")
    )
    return profiles, profile_of_mention
