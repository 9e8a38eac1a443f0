"""The six household rules, evaluated on the true (undamaged) department values and true households."""

from __future__ import annotations

import polars as pl

from synth.config import SynthConfig
from synth.extracts import household_key, person_key
from synth.population import State, age_expr

RULES = ("education", "insurance", "medical_burden", "housing", "water", "income")


def household_rules(state: State, frames: dict[str, pl.DataFrame], config: SynthConfig) -> pl.DataFrame:
    """One row per (household, rule) at this snapshot.

    - education: a member aged 6-15 whose student record says 辍学 or 休学
    - insurance: a member's health record says 未参保/中止, or a member appears in another
      department's records (any role) but has no health record
    - medical_burden: the members' out_of_pocket sum > 20000, or > 50% of household annual income,
      where income = civil-affairs per_capita_income (members' mean) x true household size
      (only households with a civil-affairs case have a known income)
    - housing: a house record of a member (owner) graded C/D and renovation not 已改造
    - water: a water record of a member (head) with any of the four checks 否
    - income: a member's civil-affairs row has per_capita_income < the monitoring line
    """
    snap = state.snapshot
    members = state.persons.select("pid", "hid", age_expr(snap).alias("_age"))
    size = members.group_by("hid").agg(pl.len().alias("_size"))

    def by_person(frame: pl.DataFrame, role: str, cond: pl.Expr) -> pl.DataFrame:
        return (frame.filter(cond).select(pl.col(role).alias("pid")).join(members, on="pid")
                .select("hid").unique().with_columns(fails=pl.lit(True)))

    edu = frames.get("education")
    out = {}
    if edu is not None:
        edu_fail = edu.filter(pl.col("status").is_in(["辍学", "休学"])).select(pl.col("_subject").alias("pid")).join(
            members.filter(pl.col("_age").is_between(6, 15)), on="pid")
        out["education"] = edu_fail.select("hid").unique().with_columns(fails=pl.lit(True))
    health = frames.get("health")
    if health is not None:
        known = pl.concat([frames[d].select(pl.col(c).alias("pid")) for d, cols in _ROLES.items() if d in frames and d != "health"
                           for c in cols] or [pl.DataFrame({"pid": []}, schema={"pid": pl.Int64})])
        known = known.drop_nulls().unique().join(health.select(pl.col("_subject").alias("pid")), on="pid", how="anti")
        lapsed = health.filter(pl.col("insured").is_in(["未参保", "中止"])).select(pl.col("_subject").alias("pid"))
        out["insurance"] = pl.concat([known, lapsed]).join(members, on="pid").select("hid").unique().with_columns(fails=pl.lit(True))
        oop = health.select(pl.col("_subject").alias("pid"), pl.col("out_of_pocket").cast(pl.Float64)).join(members, on="pid").group_by(
            "hid").agg(pl.col("out_of_pocket").sum().alias("_oop"))
        ca = frames.get("civil_affairs")
        income = (ca.select(pl.col("_subject").alias("pid"), pl.col("per_capita_income").cast(pl.Float64)).join(members, on="pid")
                  .group_by("hid").agg(pl.col("per_capita_income").mean().alias("_pci")) if ca is not None
                  else pl.DataFrame(schema={"hid": pl.Int64, "_pci": pl.Float64}))
        burden = oop.join(size, on="hid").join(income, on="hid", how="left").filter(
            (pl.col("_oop") > config.medical_burden_abs)
            | (pl.col("_oop") > config.medical_burden_share * pl.col("_pci") * pl.col("_size")).fill_null(False))
        out["medical_burden"] = burden.select("hid").with_columns(fails=pl.lit(True))
    if "housing" in frames:
        out["housing"] = by_person(frames["housing"], "_owner",
                                   pl.col("grade").is_in(["C", "D"]) & (pl.col("renovation") != "已改造"))
    if "water" in frames:
        bad = pl.any_horizontal(*(pl.col(c) == "否" for c in ("quality_ok", "quantity_ok", "convenience_ok", "reliability_ok")))
        out["water"] = by_person(frames["water"], "_head", bad)
    if "civil_affairs" in frames:
        out["income"] = by_person(frames["civil_affairs"], "_subject",
                                  pl.col("per_capita_income").cast(pl.Float64) < config.income_line)
    households = state.persons.select("hid").unique()
    parts = []
    for rule in RULES:
        hit = out.get(rule, pl.DataFrame(schema={"hid": pl.Int64, "fails": pl.Boolean}))
        parts.append(households.join(hit, on="hid", how="left").select(
            pl.lit(snap).alias("snapshot_date"), household_key().alias("household_key"), pl.lit(rule).alias("rule"),
            pl.col("fails").fill_null(False)))
    return pl.concat(parts).sort("snapshot_date", "household_key", "rule")


# department -> private columns holding the person keys of the roles a row mentions
_ROLES = {"education": {"_subject": "subject", "_guardian": "guardian"}, "health": {"_subject": "subject"},
          "housing": {"_owner": "owner"}, "water": {"_head": "head"}, "civil_affairs": {"_subject": "subject"}}


def role_columns(department: str) -> dict[str, str]:
    return _ROLES[department]


def persons_truth(state: State) -> pl.DataFrame:
    places = state.households.select("hid", "village_code")
    return state.persons.join(places, on="hid", how="left").select(
        pl.lit(state.snapshot).alias("snapshot_date"), person_key().alias("person_key"), household_key().alias("household_key"),
        "name", "id_number", "birth_date", pl.when(pl.col("male")).then(pl.lit("男")).otherwise(pl.lit("女")).alias("gender"),
        "village_code", "relation", "phone", pl.col("reg_county").alias("registered_county"), "migrant",
    ).sort("person_key")
