"""What each department records about the true population at one snapshot (clean values).

Every frame has the department's canonical columns as strings (the clean,
correct values) plus private columns starting with ``_`` that the writer uses
for the ground truth and drops before writing: ``_county`` (file partition),
``_rid`` (true record id), and the person keys of the roles the row mentions.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from synth import vocab
from synth.population import (
    CHILD, DAU, DIL, EDU_STATUS, FATHER, GCHILD, HEAD, MOTHER, SIL, SON, SPOUSE, State, load_villages)

# A bijective scramble of internal numbers, so department record numbers look
# arbitrary and differ between departments (no accidental cross-department key).
_SCRAMBLE = {"education": (7_919_213, 10**10), "health": (1_234_577, 10**10), "housing": (92_821, 10**8),
             "water": (71_317, 10**8), "civil_affairs": (3_141_593, 10**10), "case": (27_183, 10**8),
             "family": (65_537, 10**9)}


def code(prefix: str, kind: str, number: pl.Expr) -> pl.Expr:
    mult, modulus = _SCRAMBLE[kind]
    width = len(str(modulus)) - 1
    scrambled = (number.cast(pl.Int64) * mult + 12345) % modulus
    return pl.lit(prefix) + scrambled.cast(pl.String).str.zfill(width)


def person_key(col: str = "pid") -> pl.Expr:
    return pl.lit("P") + pl.col(col).cast(pl.String).str.zfill(8)


def household_key(col: str = "hid") -> pl.Expr:
    return pl.lit("H") + pl.col(col).cast(pl.String).str.zfill(8)


def _iso(col: str) -> pl.Expr:
    return pl.col(col).dt.strftime("%Y-%m-%d")


def _money(col: str) -> pl.Expr:
    return pl.col(col).round(2).cast(pl.String)


def _places(state: State) -> pl.DataFrame:
    """Household -> village names, county, address parts and phone."""
    v = load_villages().select("village_code", "county", "township", "village", "county_code")
    return state.households.join(v, on="village_code", how="left").with_columns(
        _county=pl.col("county_code"), _group_zh=pl.col("group_no").cast(pl.Int32).replace_strict(
            list(range(len(vocab.CHINESE_DIGITS))), vocab.CHINESE_DIGITS, return_dtype=pl.String))


def address_expr(form: pl.Expr) -> pl.Expr:
    """Full or abbreviated address; every form names the village, so a blank code stays resolvable."""
    g = pl.col("group_no").cast(pl.String)
    return (pl.when(form == 0).then(pl.concat_str(pl.lit("贵州省云岭州"), "county", "township", "village", g, pl.lit("组")))
            .when(form == 1).then(pl.concat_str("county", "township", "village", g, pl.lit("组")))
            .when(form == 2).then(pl.concat_str("township", "village", "_group_zh", pl.lit("组")))
            .when(form == 3).then(pl.concat_str("village", g, pl.lit("组")))
            .otherwise(pl.concat_str("village", "_group_zh", pl.lit("组"))))


def _form(rng: np.random.Generator, n: int, p: list[float]) -> pl.Series:
    return pl.Series(rng.choice(len(p), size=n, p=np.array(p) / sum(p)).astype(np.int8))


def _person_fields(prefix: str = "") -> list[pl.Expr]:
    return [pl.col("name").alias(f"{prefix}name"), pl.col("id_number").alias(f"{prefix}id_number"),
            pl.when(pl.col("male")).then(pl.lit("男")).otherwise(pl.lit("女")).alias("gender"),
            _iso("birth_date").alias("birth_date")]


def build(state: State, seed: int, step: int, coverage: dict[str, float]) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng([seed, 500 + step])
    places = _places(state)
    persons = state.persons.join(places.select(
        "hid", "village_code", "group_no", "_group_zh", "county", "township", "village", "_county",
        pl.col("phone").alias("_hphone"), "ca_case", "income_pc", "htype"), on="hid", how="left")
    persons = persons.with_columns(_size=pl.len().over("hid")).sort("pid")
    places = places.sort("hid")
    return {
        "education": _education(state, persons, rng),
        "health": _health(state, persons, rng),
        "housing": _housing(state, persons, places, rng),
        "water": _water(state, persons, places, rng),
        "civil_affairs": _civil_affairs(state, persons, rng),
    }


def _education(state: State, persons: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    from synth.population import grade_expr

    students = persons.filter(pl.col("edu_state").is_in(list(EDU_STATUS))).with_columns(
        _grade=grade_expr(state.snapshot).clip(1, 12))
    # guardian: a parent at home, else a grandparent at home, else whoever exists
    roles = persons.filter(pl.col("kind").is_in([HEAD, SPOUSE, SON, DIL, DAU, SIL, FATHER, MOTHER])).group_by(
        "hid", "kind").agg(pl.col("pid").first())
    mother_first = pl.Series(rng.random(students.height) < 0.45)
    s = students.select("pid", "hid", "kind").with_columns(_mf=mother_first)
    cand = []
    for rank, (for_child, for_gchild, for_gchild_alt, level) in enumerate(
            [(HEAD, SON, DAU, "parent"), (SPOUSE, DIL, SIL, "parent"), (FATHER, HEAD, HEAD, "grand"), (MOTHER, SPOUSE, SPOUSE, "grand")]):
        c = s.with_columns(
            _want=pl.when(pl.col("kind") == CHILD).then(pl.lit(for_child, pl.Int8)).otherwise(pl.lit(for_gchild, pl.Int8)),
            _alt=pl.when(pl.col("kind") == CHILD).then(pl.lit(for_child, pl.Int8)).otherwise(pl.lit(for_gchild_alt, pl.Int8)),
            _rank=pl.lit(rank), _level=pl.lit(level))
        a = c.join(roles.rename({"kind": "_want", "pid": "_g"}), on=["hid", "_want"], how="left")
        a = a.join(roles.rename({"kind": "_alt", "pid": "_g2"}), on=["hid", "_alt"], how="left").with_columns(
            _g=pl.coalesce("_g", "_g2")).drop("_g2")
        cand.append(a.select("pid", "_g", "_rank", "_level", "_mf"))
    g = pl.concat(cand).filter(pl.col("_g").is_not_null() & (pl.col("_g") != pl.col("pid")))
    info = persons.select(pl.col("pid").alias("_g"), pl.col("migrant").alias("_gm"), pl.col("male").alias("_gmale"),
                          pl.col("name").alias("guardian_name"), pl.col("id_number").alias("_gid"),
                          pl.col("phone").alias("_gphone"))
    g = g.join(info, on="_g").with_columns(
        _order=pl.col("_rank") // 2 * 2 + pl.when(pl.col("_mf") == pl.col("_gmale")).then(1).otherwise(0))
    g = g.sort("pid", "_gm", "_order", "_rank").unique("pid", keep="first", maintain_order=True)
    students = students.join(g.drop("_mf"), on="pid", how="left").sort("pid")
    n = students.height
    level = pl.col("_grade")
    school = (pl.when(level <= 6).then(pl.when(pl.col("pid") % 3 == 0).then(pl.concat_str("village", pl.lit("小学")))
                                       .otherwise(pl.concat_str("township", pl.lit("中心小学"))))
              .when(level <= 9).then(pl.concat_str("township", pl.lit("中学")))
              .otherwise(pl.concat_str("county", pl.when(pl.col("pid") % 4 == 0).then(pl.lit("民族中学")).otherwise(pl.lit("第一中学")))))
    return students.with_columns(_form=_form(rng, n, [2, 3, 3, 2, 2]), _gid_given=pl.Series(rng.random(n) < 0.4),
                                 _subsidy=pl.Series(rng.random(n) < 0.15)).select(
        code("XJ", "education", pl.col("pid")).alias("record_id"),
        *_person_fields(),
        school.alias("school"), pl.col("_grade").cast(pl.String).alias("grade"),
        pl.col("edu_state").replace_strict(EDU_STATUS, return_dtype=pl.String).alias("status"),
        "guardian_name",
        pl.when(pl.col("_gid_given")).then("_gid").alias("guardian_id_number"),
        pl.when(pl.col("_g").is_null()).then(None).when(pl.col("_level") == "parent")
        .then(pl.when(pl.col("_gmale")).then(pl.lit("父亲")).otherwise(pl.lit("母亲")))
        .otherwise(pl.when(pl.col("_gmale")).then(pl.lit("祖父")).otherwise(pl.lit("祖母"))).alias("guardian_relation"),
        pl.coalesce("_gphone", "_hphone").alias("guardian_phone"),
        address_expr(pl.col("_form")).alias("address"), "village_code",
        pl.when(pl.col("ca_case").is_not_null() | pl.col("_subsidy")).then(pl.lit("是")).otherwise(pl.lit("否")).alias("subsidy"),
        "_county", pl.col("pid").alias("_subject"), pl.col("_g").alias("_guardian"),
    )


def _health(state: State, persons: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    h = persons.filter(pl.col("in_health"))
    n = h.height
    return h.with_columns(_form=_form(rng, n, [3, 3, 2, 1, 1])).select(
        code("YB", "health", pl.col("pid")).alias("record_id"),
        pl.lit(str(state.snapshot.year)).alias("year"),
        *_person_fields(), pl.coalesce("phone", "_hphone").alias("phone"),
        address_expr(pl.col("_form")).alias("address"), "village_code",
        code("JT", "family", pl.col("family_no")).alias("family_no"),
        pl.col("insured"), pl.col("scheme"),
        _money("total_cost").alias("total_cost"), _money("out_of_pocket").alias("out_of_pocket"),
        pl.col("chronic").alias("chronic_condition"),
        pl.when(pl.col("serious")).then(pl.lit("是")).otherwise(pl.lit("否")).alias("serious_illness"),
        "_county", pl.col("pid").alias("_subject"),
    )


def _household_person(persons: pl.DataFrame, places: pl.DataFrame, rid_col: str) -> pl.DataFrame:
    """The person a household-level record names: the head, or the married son when the family says so."""
    sons = persons.filter(pl.col("kind") == SON).group_by("hid").agg(pl.col("pid").first().alias("_son"))
    heads = persons.filter(pl.col("kind") == HEAD).select("hid", pl.col("pid").alias("_head"))
    size = persons.group_by("hid").agg(pl.len().alias("_size"))
    hh = places.filter(pl.col(rid_col).is_not_null()).join(heads, on="hid", how="left").join(
        sons, on="hid", how="left").join(size, on="hid", how="left")
    hh = hh.with_columns(_who=pl.when(pl.col("son_owner") & pl.col("_son").is_not_null()).then("_son").otherwise("_head"))
    who = persons.select(pl.col("pid").alias("_who"), pl.col("name").alias("_name"), pl.col("id_number").alias("_id"),
                         pl.col("phone").alias("_pphone"))
    return hh.join(who, on="_who", how="left").filter(pl.col("_who").is_not_null()).sort("hid")


def _housing(state: State, persons: pl.DataFrame, places: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    hh = _household_person(persons, places, "house_rid")
    n = hh.height
    return hh.with_columns(_form=_form(rng, n, [2, 3, 2, 2, 1]), _stale=pl.Series(rng.choice([-1, 0, 0, 0, 0, 0, 0, 0, 1], n))).select(
        code("FW", "housing", pl.col("house_rid")).alias("record_id"),
        pl.col("_name").alias("owner_name"), pl.col("_id").alias("owner_id_number"),
        pl.coalesce("phone", "_pphone").alias("phone"), address_expr(pl.col("_form")).alias("address"), "village_code",
        pl.col("house_grade").alias("grade"), _iso("assessed_on").alias("assessed_on"), "renovation",
        (pl.col("_size") + pl.col("_stale")).clip(1, None).cast(pl.String).alias("household_size"),
        "_county", pl.col("_who").alias("_owner"),
    )


def _water(state: State, persons: pl.DataFrame, places: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    hh = _household_person(persons, places, "water_rid")
    n = hh.height
    yes = {k: pl.when(pl.col(f"water_{k}")).then(pl.lit("是")).otherwise(pl.lit("否"))
           for k in ("quality", "quantity", "convenience", "reliability")}
    return hh.with_columns(_form=_form(rng, n, [1, 2, 2, 3, 3])).select(
        code("YS", "water", pl.col("water_rid")).alias("record_id"),
        pl.col("_name").alias("head_name"), pl.coalesce("phone", "_pphone").alias("phone"),
        address_expr(pl.col("_form")).alias("address"), "village_code",
        pl.col("_size").cast(pl.String).alias("household_size"), "supply",
        yes["quality"].alias("quality_ok"), yes["quantity"].alias("quantity_ok"),
        yes["convenience"].alias("convenience_ok"), yes["reliability"].alias("reliability_ok"),
        _iso("surveyed_on").alias("surveyed_on"),
        "_county", pl.col("_who").alias("_head"),
    )


def _civil_affairs(state: State, persons: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    cases = state.households.filter(pl.col("ca_case").is_not_null()).select(
        "hid", "ca_case", "ca_type", "ca_status", "ca_start", "ca_benefit")
    m = persons.join(cases, on="hid").sort("pid", "ca_case")
    n = m.height
    return m.with_columns(_form=_form(rng, n, [3, 3, 2, 1, 1])).select(
        code("JZ", "case", pl.col("ca_case")).alias("case_no"),
        *_person_fields(), pl.col("_hphone").alias("phone"),
        address_expr(pl.col("_form")).alias("address"), "village_code", "relation",
        pl.col("ca_type").alias("assistance_type"), (pl.col("ca_benefit") * pl.col("_size")).round(0).cast(pl.Int64).cast(pl.String).alias("monthly_benefit"),
        pl.col("income_pc").round(0).cast(pl.Int64).cast(pl.String).alias("per_capita_income"),
        pl.col("ca_status").alias("status"), _iso("ca_start").alias("start_date"),
        "_county", pl.col("pid").alias("_subject"), pl.col("ca_case").alias("_case"),
    ).with_columns(record_id=code("MZ", "civil_affairs", pl.col("_subject") * 1000 + pl.col("_case") % 997)).select(
        "record_id", pl.exclude("record_id"))
