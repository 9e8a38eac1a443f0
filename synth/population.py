"""The true synthetic population: households, people and their department facts.

Generation is vectorised per household *type* (a handful of templates), never
per household or per person: each template is a fixed list of member slots, and
numpy decides for all households of a type at once which slots exist and how
old, male or migrant their occupants are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from synth import vocab
from synth.config import SynthConfig
from synth.ids import build_ids

GAZETTEER = Path(__file__).resolve().parent.parent / "schemas" / "reference" / "villages.csv"

# Education state codes (kept small: one int8 column per person).
EDU_NONE, EDU_IN, EDU_SUSPENDED, EDU_DROPPED, EDU_TRANSFERRED, EDU_GRADUATED, EDU_LEFT = 0, 1, 2, 3, 4, 5, 9
EDU_STATUS = {EDU_IN: "在读", EDU_SUSPENDED: "休学", EDU_DROPPED: "辍学", EDU_TRANSFERRED: "转出", EDU_GRADUATED: "毕业"}


def load_villages() -> pl.DataFrame:
    return pl.read_csv(GAZETTEER, schema_overrides={"village_code": pl.String}).with_columns(
        county_code=pl.col("village_code").str.slice(0, 6))


@dataclass
class State:
    """The world at one snapshot date."""

    snapshot: date
    persons: pl.DataFrame
    households: pl.DataFrame
    next_pid: int
    next_hid: int
    events: list[pl.DataFrame] = field(default_factory=list)


# --------------------------------------------------------------------------- templates
# slot: (kind, group, index, male_rule, surname_rule)
#   kind: relation kind; group/index: a slot exists when index < count[group]
#   male_rule: probability of being male (head) or fixed; surname_rule: "family" | "own"
HEAD, SPOUSE, CHILD, GCHILD, SON, DIL, DAU, SIL, FATHER, MOTHER = range(10)


@dataclass(frozen=True)
class Template:
    weight: float
    head_male: float
    head_age: tuple[int, int]
    counts: dict[str, dict[int, float]]  # group -> {count: probability}
    slots: tuple[tuple[int, str, int], ...]  # (kind, group, index)
    migrant: dict[int, float] = field(default_factory=dict)  # kind -> probability of working away
    own_head_surname: bool = False


def _c(p: float) -> dict[int, float]:
    return {0: 1 - p, 1: p}


TEMPLATES = (
    # nuclear family
    Template(0.27, 0.95, (26, 52), {"sp": _c(0.93), "ch": {0: 0.08, 1: 0.35, 2: 0.4, 3: 0.17}},
             ((HEAD, "", 0), (SPOUSE, "sp", 0), (CHILD, "ch", 0), (CHILD, "ch", 1), (CHILD, "ch", 2)),
             {HEAD: 0.3, SPOUSE: 0.1}),
    # three generations; the son's couple often works away: left-behind grandchildren
    Template(0.19, 0.9, (48, 70), {"sp": _c(0.85), "son": _c(1.0), "dil": _c(0.9), "gc": {0: 0.1, 1: 0.4, 2: 0.38, 3: 0.12},
                                   "dau": _c(0.15)},
             ((HEAD, "", 0), (SPOUSE, "sp", 0), (SON, "son", 0), (DIL, "dil", 0), (GCHILD, "gc", 0), (GCHILD, "gc", 1),
              (GCHILD, "gc", 2), (DAU, "dau", 0)),
             {SON: 0.65, DIL: 0.55, DAU: 0.4}),
    # elderly couple
    Template(0.14, 0.97, (60, 86), {"sp": _c(1.0)}, ((HEAD, "", 0), (SPOUSE, "sp", 0))),
    # living alone (widows mostly)
    Template(0.09, 0.35, (62, 92), {}, ((HEAD, "", 0),), own_head_surname=True),
    # widow heading the household of her married son (civil affairs head = widow, housing owner = son)
    Template(0.08, 0.0, (58, 86), {"son": _c(1.0), "dil": _c(0.9), "gc": {0: 0.15, 1: 0.4, 2: 0.35, 3: 0.1}},
             ((HEAD, "", 0), (SON, "son", 0), (DIL, "dil", 0), (GCHILD, "gc", 0), (GCHILD, "gc", 1), (GCHILD, "gc", 2)),
             {SON: 0.4, DIL: 0.3}, own_head_surname=True),
    # nuclear family with the head's parents
    Template(0.09, 0.95, (28, 50), {"sp": _c(0.95), "ch": {0: 0.1, 1: 0.4, 2: 0.4, 3: 0.1}, "fa": _c(0.55), "mo": _c(0.9)},
             ((HEAD, "", 0), (SPOUSE, "sp", 0), (CHILD, "ch", 0), (CHILD, "ch", 1), (CHILD, "ch", 2), (FATHER, "fa", 0),
              (MOTHER, "mo", 0)),
             {HEAD: 0.35, SPOUSE: 0.15}),
    # single adult, sometimes with his mother
    Template(0.06, 0.85, (28, 60), {"mo": _c(0.5)}, ((HEAD, "", 0), (MOTHER, "mo", 0)), {HEAD: 0.3}),
    # uxorilocal marriage: daughter and son-in-law live with her parents
    Template(0.03, 0.95, (50, 68), {"sp": _c(0.9), "dau": _c(1.0), "sil": _c(1.0), "gc": {0: 0.2, 1: 0.45, 2: 0.35}},
             ((HEAD, "", 0), (SPOUSE, "sp", 0), (DAU, "dau", 0), (SIL, "sil", 0), (GCHILD, "gc", 0), (GCHILD, "gc", 1)),
             {SIL: 0.5}),
    # young couple
    Template(0.05, 0.95, (21, 34), {"sp": _c(1.0), "ch": _c(0.3)}, ((HEAD, "", 0), (SPOUSE, "sp", 0), (CHILD, "ch", 0)),
             {HEAD: 0.4, SPOUSE: 0.3}),
)
TYPE_WIDOW_SON = 4
TYPE_THREE_GEN = 1
TYPE_ALONE = 3


def _rng(seed: int, *stage: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stage])


def _draw(rng: np.random.Generator, dist: dict[int, float], n: int) -> np.ndarray:
    keys = np.array(list(dist))
    p = np.array(list(dist.values()), dtype=float)
    return rng.choice(keys, size=n, p=p / p.sum())


RELATIONS = ["户主", "配偶", "子", "孙子", "子", "儿媳", "女", "女婿", "父亲", "母亲", "其他"]


def relation_expr() -> pl.Expr:
    """Relation to the head from the slot kind and sex (kept in step when heads change)."""
    rel = pl.col("kind").replace_strict(list(range(len(RELATIONS))), RELATIONS, return_dtype=pl.String)
    return (pl.when((pl.col("kind") == CHILD) & ~pl.col("male")).then(pl.lit("女"))
            .when((pl.col("kind") == GCHILD) & ~pl.col("male")).then(pl.lit("孙女"))
            .otherwise(rel))


def _relation(kind: np.ndarray, male: np.ndarray) -> np.ndarray:
    table = np.array(["户主", "配偶", "子", "孙子", "子", "儿媳", "女", "女婿", "父亲", "母亲"], dtype=object)
    rel = table[kind]
    rel = np.where((kind == CHILD) & ~male, "女", rel)
    rel = np.where((kind == GCHILD) & ~male, "孙女", rel)
    return rel


def _slots(seed: int, n_households: int) -> pl.DataFrame:
    """One row per person: hid, kind, male, age (float), surname rule, migrant."""
    rng = _rng(seed, 1)
    weights = np.array([t.weight for t in TEMPLATES])
    htype = rng.choice(len(TEMPLATES), size=n_households, p=weights / weights.sum())
    parts = []
    for t_index, tpl in enumerate(TEMPLATES):
        hids = np.flatnonzero(htype == t_index)
        m = len(hids)
        if m == 0:
            continue
        counts = {g: _draw(rng, dist, m) for g, dist in tpl.counts.items()}
        head_age = rng.uniform(*tpl.head_age, size=m)
        head_male = rng.random(m) < tpl.head_male
        # the generation below the head (their children), and below that
        gen1_age = head_age - rng.uniform(22, 33, size=m)
        gen2_age = gen1_age - rng.uniform(21, 32, size=m)
        child_gap = rng.uniform(1.5, 4.5, size=(m, 4)).cumsum(axis=1)
        for kind, group, index in tpl.slots:
            exists = np.ones(m, bool) if not group else counts[group] > index
            if kind == HEAD:
                age, male = head_age, head_male
            elif kind == SPOUSE:
                age = head_age + np.where(head_male, -2, 2) + rng.normal(0, 3, m)
                male = ~head_male
            elif kind in (CHILD, SON, DAU):
                age = gen1_age - (child_gap[:, index - 1] if index else 0) - (0 if kind == CHILD else 0)
                male = rng.random(m) < 0.52 if kind == CHILD else np.full(m, kind == SON)
                if kind == DAU and tpl.counts.get("son"):
                    age = gen1_age - rng.uniform(3, 12, m)  # a younger unmarried sister
            elif kind == GCHILD:
                age = gen2_age - (child_gap[:, index - 1] if index else 0)
                male = rng.random(m) < 0.53
            elif kind in (DIL, SIL):
                age = gen1_age + rng.normal(-1 if kind == DIL else 1, 2.5, m)
                male = np.full(m, kind == SIL)
            else:  # FATHER / MOTHER of the head
                age = head_age + rng.uniform(22, 32, m) + (2 if kind == FATHER else 0)
                male = np.full(m, kind == FATHER)
            exists &= (age >= 0) & (age < 99)
            migrant = rng.random(m) < tpl.migrant.get(kind, 0.0)
            own = kind in (SPOUSE, DIL, SIL, MOTHER) or (kind == HEAD and tpl.own_head_surname)
            parts.append(pl.DataFrame({
                "hid": hids[exists].astype(np.int64), "htype": np.full(exists.sum(), t_index, np.int8),
                "kind": np.full(exists.sum(), kind, np.int8), "slot": np.full(exists.sum(), len(parts), np.int16),
                "male": male[exists], "age": np.clip(age[exists], 0, 98.9), "own_surname": np.full(exists.sum(), own),
                "migrant": migrant[exists] & (age[exists] >= 18) & (age[exists] < 60),
            }))
    return pl.concat(parts).sort("hid", "slot")


def _given_names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    n = len(male)
    out = np.empty(n, dtype=object)
    for is_male, first, chars in ((True, vocab.MALE_FIRST, vocab.MALE_CHARS), (False, vocab.FEMALE_FIRST, vocab.FEMALE_CHARS)):
        idx = np.flatnonzero(male == is_male)
        k = len(idx)
        second = np.array(chars, dtype=object)[rng.choice(len(chars), size=k, p=vocab.zipf(len(chars), 1.1))]
        one = np.array(first, dtype=object)[rng.choice(len(first), size=k, p=vocab.zipf(len(first), 0.9))]
        mid = np.array(chars, dtype=object)[rng.choice(len(chars), size=k, p=vocab.zipf(len(chars), 0.7))]
        single = rng.random(k) < 0.35
        two = np.where(rng.random(k) < 0.5, one + second, mid + second)
        out[idx] = np.where(single, second, two)
    return out


def keep_where(mask: np.ndarray, values, dtype=None) -> pl.Series:
    """``values`` where ``mask``, null elsewhere (numpy's where cannot hold None in typed arrays)."""
    return pl.select(pl.when(pl.lit(pl.Series(mask))).then(pl.lit(pl.Series(values, dtype=dtype)))).to_series()


def random_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    second = rng.integers(3, 10, size=n)
    rest = rng.integers(0, 10**9, size=n)
    return (pl.Series((10 + second) * 10**9 + rest).cast(pl.String)).to_numpy()


def initial_state(seed: int, n_households: int, config: SynthConfig) -> State:
    snap = config.snapshot_dates[0]
    rng = _rng(seed, 2)
    people = _slots(seed, n_households)
    n = people.height
    villages = load_villages()
    # village sizes vary (a few big villages, many small ones)
    vsize = rng.lognormal(0, 0.5, villages.height)
    hvillage = rng.choice(villages.height, size=n_households, p=vsize / vsize.sum())
    village_codes = villages["village_code"].to_numpy()
    county_codes = villages["county_code"].to_numpy()

    hids = people["hid"].to_numpy()
    male = people["male"].to_numpy()
    age = people["age"].to_numpy()
    birth = (np.datetime64(snap) - np.round((age + rng.random(n)) * 365.25).astype("timedelta64[D]"))
    birth = np.minimum(birth, np.datetime64(snap) - np.timedelta64(1, "D"))
    family_surname = rng.choice(len(vocab.SURNAMES), size=n_households, p=vocab.SURNAME_P)
    own_surname = rng.choice(len(vocab.SURNAMES), size=n, p=vocab.SURNAME_P)
    surname_idx = np.where(people["own_surname"].to_numpy(), own_surname, family_surname[hids])
    surname = np.array(vocab.SURNAMES, dtype=object)[surname_idx]
    given = _given_names(rng, male)
    name = surname + given
    # transliterated minority names for a few married-in adults
    kind = people["kind"].to_numpy()
    minority_h = rng.random(n_households) < config.minority_rate * 3
    minority = minority_h[hids] & np.isin(kind, [SPOUSE, DIL, SIL, MOTHER])
    if minority.any():
        k = int(minority.sum())
        g = np.array(vocab.MINORITY_GIVEN, dtype=object)[rng.integers(0, len(vocab.MINORITY_GIVEN), k)]
        f = np.array(vocab.MINORITY_FATHER, dtype=object)[rng.integers(0, len(vocab.MINORITY_FATHER), k)]
        name[minority] = g + "·" + f
        surname[minority] = ""

    home_county = county_codes[hvillage][hids]
    registered_elsewhere = rng.random(n) < np.where(people["own_surname"].to_numpy() & (kind != HEAD), 0.15, 0.02)
    all_counties = np.array(sorted(set(county_codes)) + vocab.OUTSIDE_COUNTIES, dtype=object)
    other = all_counties[rng.integers(0, len(all_counties), n)]
    reg_county = np.where(registered_elsewhere, other, home_county)

    persons = pl.DataFrame({
        "pid": np.arange(n, dtype=np.int64), "hid": hids, "kind": kind,
        "relation": _relation(kind, male).astype(str), "surname": surname.astype(str), "name": name.astype(str),
        "male": male, "birth_date": birth.astype("datetime64[D]"), "reg_county": reg_county.astype(str),
        "migrant": people["migrant"].to_numpy(), "minority": minority,
    })
    persons = force_name_collisions(persons, rng, config.name_collision_rate, village_codes[hvillage])
    persons = persons.with_columns(id_number=pl.Series(build_ids(
        persons["reg_county"].cast(pl.Int64).to_numpy(), persons["birth_date"].to_numpy(), persons["male"].to_numpy(), rng)))
    own_phone = random_phones(rng, n)
    has_own = rng.random(n) < np.where(persons["migrant"].to_numpy(), 0.9, 0.45) * (age >= 16) * (age < 70)
    persons = persons.with_columns(phone=keep_where(has_own, own_phone))
    persons = _initial_person_facts(persons, snap, rng, config)

    htype = people.group_by("hid").agg(pl.col("htype").first()).sort("hid")["htype"].to_numpy()
    households = pl.DataFrame({
        "hid": np.arange(n_households, dtype=np.int64), "htype": htype,
        "village_code": village_codes[hvillage].astype(str), "group_no": rng.integers(1, 13, n_households).astype(np.int8),
        "phone": keep_where(rng.random(n_households) < 0.88, random_phones(rng, n_households)),
    })
    households = _initial_household_facts(households, persons, rng, config)
    return State(snapshot=snap, persons=persons, households=households, next_pid=n, next_hid=n_households)


def force_name_collisions(persons: pl.DataFrame, rng: np.random.Generator, rate: float, hvillage: np.ndarray | None = None) -> pl.DataFrame:
    """Give some people the given name of a same-village, same-surname, same-sex neighbour
    (two 张伟 in one village, often born the same year)."""
    if rate <= 0:
        return persons
    village = hvillage[persons["hid"].to_numpy()] if hvillage is not None else np.zeros(persons.height, dtype=object)
    ordered = persons.with_columns(
        _village=pl.Series(village.astype(str)), _r=pl.Series(rng.random(persons.height)),
        _year=pl.col("birth_date").dt.year(),
    ).sort("_village", "male", "surname", "_year", "_r")
    take = (rng.random(ordered.height) < rate)
    prev_name = ordered["name"].shift(1)
    same_group = ((ordered["_village"] == ordered["_village"].shift(1)) & (ordered["male"] == ordered["male"].shift(1))
                  & (ordered["surname"] == ordered["surname"].shift(1)) & (ordered["surname"] != "")).fill_null(False)
    copy = pl.Series(take) & same_group
    ordered = ordered.with_columns(name=pl.when(copy).then(prev_name).otherwise(pl.col("name")))
    return ordered.drop("_village", "_r", "_year").sort("pid")


def age_expr(snap: date, col: str = "birth_date") -> pl.Expr:
    """Completed years at ``snap``."""
    b = pl.col(col)
    before_birthday = (b.dt.month() > snap.month) | ((b.dt.month() == snap.month) & (b.dt.day() > snap.day))
    return (pl.lit(snap.year) - b.dt.year() - before_birthday.cast(pl.Int32)).cast(pl.Int32)


def grade_expr(snap: date) -> pl.Expr:
    """School grade (1..12 when at school age) from the birth date and the delay."""
    school_year = snap.year if snap.month >= 9 else snap.year - 1
    b = pl.col("birth_date")
    return (pl.lit(school_year) - b.dt.year() - 5 - (b.dt.month() >= 9).cast(pl.Int32) - pl.col("edu_delay")).cast(pl.Int32)


def _initial_person_facts(persons: pl.DataFrame, snap: date, rng: np.random.Generator, config: SynthConfig) -> pl.DataFrame:
    n = persons.height
    ages = persons.select(age_expr(snap)).to_series().to_numpy()
    migrant = persons["migrant"].to_numpy()
    delay = rng.choice([0, 1, 2], size=n, p=[0.85, 0.12, 0.03]).astype(np.int8)
    persons = persons.with_columns(edu_delay=pl.Series(delay))
    grade = persons.select(grade_expr(snap)).to_series().to_numpy()
    school_age = (grade >= 1) & (grade <= 12)
    enrol_p = np.where(grade >= 10, 0.72, config.coverage.get("education", 0.95))
    enrolled = school_age & (rng.random(n) < enrol_p)
    status = rng.choice([EDU_IN, EDU_SUSPENDED, EDU_DROPPED, EDU_TRANSFERRED], size=n, p=[0.972, 0.006, 0.014, 0.008])
    edu = np.where(enrolled, status, np.where(grade > 12, EDU_LEFT, EDU_NONE)).astype(np.int8)

    in_health = rng.random(n) < np.where(migrant, 0.93, min(1.0, config.coverage.get("health", 0.97) + 0.015))
    insured = rng.choice(["已参保", "未参保", "中止"], size=n, p=[0.984, 0.009, 0.007])
    scheme = np.where(migrant & (rng.random(n) < 0.3), "职工", "城乡居民")
    costs = _draw_costs(rng, ages)
    chronic = keep_where((ages > 45) & (rng.random(n) < 0.22),
                         np.array(vocab.CHRONIC)[rng.integers(0, len(vocab.CHRONIC), n)])
    return persons.with_columns(
        edu_state=pl.Series(edu),
        in_health=pl.Series(in_health), insured=pl.Series(insured), scheme=pl.Series(scheme),
        family_no=pl.col("hid"), chronic=chronic, **costs,
    )


def _draw_costs(rng: np.random.Generator, ages: np.ndarray) -> dict[str, pl.Series]:
    """Annual medical cost with a heavy tail (most people little, a few serious illnesses)."""
    n = len(ages)
    any_cost = rng.random(n) < 0.45 + np.clip(ages, 0, 90) / 200
    total = np.exp(rng.normal(np.log(1200), 1.25, n))
    serious = rng.random(n) < 0.004 + np.clip(ages - 40, 0, 50) / 2500
    total = np.where(serious, np.exp(rng.normal(np.log(60000), 0.7, n)), total)
    total = np.round(np.where(any_cost | serious, total, 0.0), 2)
    oop = np.round(total * rng.uniform(0.2, 0.55, n), 2)
    return {"total_cost": pl.Series(total), "out_of_pocket": pl.Series(oop), "serious": pl.Series(serious | (total > 50000))}


def _initial_household_facts(h: pl.DataFrame, persons: pl.DataFrame, rng: np.random.Generator, config: SynthConfig) -> pl.DataFrame:
    n = h.height
    htype = h["htype"].to_numpy()
    factor = np.select([htype == TYPE_ALONE, htype == 2, htype == 6], [0.65, 0.8, 0.8], 1.0)
    income = np.round(np.exp(rng.normal(np.log(11500), 0.45, n)) * factor, -1)
    need = np.log(income) + rng.normal(0, 0.25, n)
    cutoff = np.quantile(need, config.coverage.get("civil_affairs", 0.09)) if n else 0
    assisted = need <= cutoff
    ca_type = np.where(
        htype == TYPE_ALONE, rng.choice(["特困", "低保"], size=n, p=[0.6, 0.4]),
        rng.choice(["低保", "低保边缘", "临时救助"], size=n, p=[0.68, 0.2, 0.12]))
    start = np.datetime64(config.snapshot_dates[0]) - rng.integers(60, 8 * 365, n).astype("timedelta64[D]")
    benefit = np.round(rng.uniform(180, 420, n) * np.where(ca_type == "特困", 2.2, 1.0), 0)
    poorer = income < np.quantile(income, 0.3) if n else np.zeros(0, bool)
    has_house = rng.random(n) < np.where(poorer, 0.85, config.coverage.get("housing", 0.6) * 0.9)
    grade = np.where(poorer, rng.choice(list("ABCD"), size=n, p=[0.2, 0.4, 0.28, 0.12]),
                     rng.choice(list("ABCD"), size=n, p=[0.38, 0.42, 0.15, 0.05]))
    renovation = np.where(np.isin(grade, ["C", "D"]), rng.choice(["未改造", "改造中", "已改造"], size=n, p=[0.35, 0.25, 0.4]),
                          "无需改造")
    assessed = np.datetime64("2019-03-01") + rng.integers(0, 6 * 365, n).astype("timedelta64[D]")
    son_owner = rng.random(n) < np.select([htype == TYPE_WIDOW_SON, htype == TYPE_THREE_GEN], [0.8, 0.1], 0.0)
    has_water = rng.random(n) < config.coverage.get("water", 0.7)
    central = rng.random(n) < 0.75
    ok_p = np.where(central, 0.97, 0.86)
    oks = {f"water_{k}": rng.random(n) < ok_p for k in ("quality", "quantity", "convenience", "reliability")}
    surveyed = np.datetime64("2024-01-01") + rng.integers(0, 700, n).astype("timedelta64[D]")
    return h.with_columns(
        income_pc=pl.Series(income),
        ca_case=keep_where(assisted, h["hid"].to_numpy()),
        ca_type=pl.Series(ca_type), ca_status=pl.Series(np.where(rng.random(n) < 0.95, "在保", "停保")),
        ca_start=pl.Series(start), ca_benefit=pl.Series(benefit),
        house_rid=keep_where(has_house, h["hid"].to_numpy()),
        house_grade=pl.Series(grade), renovation=pl.Series(renovation), assessed_on=pl.Series(assessed),
        son_owner=pl.Series(son_owner),
        water_rid=keep_where(has_water, h["hid"].to_numpy()),
        supply=pl.Series(np.where(central, "集中供水", "分散供水")), **{k: pl.Series(v) for k, v in oks.items()},
        surveyed_on=pl.Series(surveyed),
    )


# --------------------------------------------------------------------------- evolution
OTHER = 10  # relation kind for in-laws left behind when a head dies


def evolve(state: State, new_date: date, seed: int, step: int, config: SynthConfig) -> State:
    """The world at ``new_date``: deaths, births, splits, merges, moves, and department facts moving on."""
    rng = _rng(seed, 100 + step)
    p, h = state.persons, state.households
    next_pid, next_hid = state.next_pid, state.next_hid
    events: list[pl.DataFrame] = []
    days = (new_date - state.snapshot).days
    span = np.datetime64(state.snapshot), days

    # deaths: the old; a head only when a spouse takes over or the head lived alone
    p = p.with_columns(_age=age_expr(new_date), _size=pl.len().over("hid"),
                       _has_spouse=(pl.col("kind") == SPOUSE).any().over("hid"))
    age = p["_age"].to_numpy()
    kind = p["kind"].to_numpy()
    eligible = (kind != HEAD) | (p["_size"].to_numpy() == 1) | p["_has_spouse"].to_numpy()
    dies = eligible & (rng.random(p.height) < config.death_rate * np.exp((age - 75) / 8.0) * (age > 50))
    dead = p.filter(pl.Series(dies))
    events.append(dead.select(pl.lit("death").alias("event"), "hid", pl.lit(None, pl.Int64).alias("other_hid"), "pid"))
    head_died = set(dead.filter(pl.col("kind") == HEAD)["hid"].to_list())
    p = p.filter(~pl.Series(dies))
    if head_died:
        widowed = pl.col("hid").is_in(list(head_died))
        p = p.with_columns(
            kind=pl.when(widowed & (pl.col("kind") == SPOUSE)).then(pl.lit(HEAD, pl.Int8))
            .when(widowed & pl.col("kind").is_in([FATHER, MOTHER])).then(pl.lit(OTHER, pl.Int8))
            .otherwise(pl.col("kind")))

    # births: to wives and daughters-in-law aged 20-40
    p = p.with_columns(_age=age_expr(new_date))
    p = p.sort("pid")
    mothers = p.filter(~pl.col("male") & pl.col("kind").is_in([SPOUSE, DIL, HEAD]) & pl.col("_age").is_between(20, 40))
    mothers = mothers.filter(pl.Series(rng.random(mothers.height) < config.birth_rate))
    if mothers.height:
        fathers = p.filter(pl.col("kind").is_in([HEAD, SON]) & pl.col("male")).group_by("hid", "kind").agg(
            pl.col("surname").first().alias("_fs"))
        mothers = mothers.with_columns(_fkind=pl.when(pl.col("kind") == DIL).then(pl.lit(SON, pl.Int8)).otherwise(pl.lit(HEAD, pl.Int8)))
        mothers = mothers.join(fathers.rename({"kind": "_fkind"}), on=["hid", "_fkind"], how="left").sort("pid")
        k = mothers.height
        male = rng.random(k) < 0.53
        bkind = np.where(mothers["kind"].to_numpy() == DIL, GCHILD, CHILD).astype(np.int8)
        surname = mothers.select(pl.coalesce("_fs", "surname")).to_series().to_numpy().astype(object)
        surname = np.where(surname == "", vocab.SURNAMES[0], surname)
        birth = span[0] + rng.integers(1, max(2, span[1]), k).astype("timedelta64[D]")
        county = mothers.join(h.select("hid", "village_code"), on="hid", how="left")["village_code"].str.slice(0, 6)
        babies = pl.DataFrame({
            "pid": np.arange(next_pid, next_pid + k, dtype=np.int64), "hid": mothers["hid"], "kind": bkind,
            "relation": _relation(bkind, male).astype(str), "surname": surname.astype(str),
            "name": (surname + _given_names(rng, male)).astype(str), "male": male, "birth_date": birth,
            "reg_county": county, "migrant": np.zeros(k, bool), "minority": np.zeros(k, bool),
        })
        babies = babies.with_columns(id_number=pl.Series(build_ids(
            babies["reg_county"].cast(pl.Int64).to_numpy(), babies["birth_date"].to_numpy(), male, rng)))
        babies = babies.with_columns(
            phone=pl.lit(None, pl.String), edu_delay=pl.lit(0, pl.Int8), edu_state=pl.lit(EDU_NONE, pl.Int8),
            in_health=pl.Series(rng.random(k) < 0.7), insured=pl.lit("已参保"), scheme=pl.lit("城乡居民"),
            family_no=mothers["family_no"], chronic=pl.lit(None, pl.String), total_cost=pl.lit(0.0),
            out_of_pocket=pl.lit(0.0), serious=pl.lit(False))
        events.append(babies.select(pl.lit("birth").alias("event"), "hid", pl.lit(None, pl.Int64).alias("other_hid"), "pid"))
        next_pid += k
        p = pl.concat([p.drop("_age", "_size", "_has_spouse"), babies], how="diagonal_relaxed")
    p = p.select(state.persons.columns)

    # households that lost everyone have ended
    h = h.filter(pl.col("hid").is_in(p["hid"].unique().implode()))
    # record numbers of new houses, wells and cases: disjoint ranges per step and cause
    rid_base = 10**7 * (step + 1)

    # splits: a married son takes his wife and children into a household of his own
    couples = p.filter(pl.col("kind") == SON).group_by("hid").agg(pl.len().alias("_sons")).join(
        p.filter(pl.col("kind") == DIL).select("hid").unique(), on="hid").filter(pl.col("_sons") == 1).sort("hid")
    splitting = couples.filter(pl.Series(rng.random(couples.height) < config.split_rate))["hid"]
    villages = load_villages()
    if splitting.len():
        k = splitting.len()
        new_hids = pl.DataFrame({"hid": splitting, "_new": np.arange(next_hid, next_hid + k, dtype=np.int64)})
        next_hid += k
        movers = pl.col("kind").is_in([SON, DIL, GCHILD]) & pl.col("hid").is_in(splitting.implode())
        p = p.join(new_hids, on="hid", how="left").with_columns(
            _moving=movers).with_columns(
            hid=pl.when("_moving").then("_new").otherwise("hid"),
            kind=pl.when(~pl.col("_moving")).then("kind").when(pl.col("kind") == SON).then(pl.lit(HEAD, pl.Int8))
            .when(pl.col("kind") == DIL).then(pl.lit(SPOUSE, pl.Int8)).otherwise(pl.lit(CHILD, pl.Int8)),
        )
        p = p.sort("pid")
        keep_family_no = rng.random(p.height) < 0.8
        p = p.with_columns(family_no=pl.when(pl.col("_moving") & ~pl.Series(keep_family_no)).then("hid").otherwise("family_no"))
        p = p.drop("_new", "_moving")
        old = h.join(new_hids, on="hid").sort("_new")
        same_village = rng.random(k) < 0.85
        new_village = _other_village(old["village_code"].to_numpy(), villages, rng, same_county=True)
        son_phone = p.filter(pl.col("hid").is_in(new_hids["_new"].implode()) & (pl.col("kind") == HEAD)).sort("hid")["phone"]
        rid = rid_base + np.arange(k, dtype=np.int64)
        new_h = old.with_columns(
            hid=pl.col("_new"), htype=pl.lit(0, pl.Int8),
            village_code=pl.Series(np.where(same_village, old["village_code"].to_numpy(), new_village)),
            group_no=pl.Series(rng.integers(1, 13, k).astype(np.int8)),
            phone=pl.coalesce(son_phone, pl.Series(random_phones(rng, k))),
            income_pc=pl.Series(np.round(np.exp(rng.normal(np.log(11500), 0.45, k)), -1)),
            ca_case=keep_where((rng.random(k) < 0.5) & old["ca_case"].is_not_null().to_numpy(), rid),
            ca_start=pl.lit(new_date) - pl.duration(days=pl.Series(rng.integers(1, max(2, days), k))),
            house_rid=keep_where(rng.random(k) < 0.5, rid), son_owner=pl.lit(False),
            assessed_on=pl.lit(new_date) - pl.duration(days=pl.Series(rng.integers(1, max(2, days), k))),
            house_grade=pl.Series(rng.choice(list("ABCD"), size=k, p=[0.4, 0.4, 0.15, 0.05])),
            water_rid=keep_where(rng.random(k) < 0.5, rid),
        ).with_columns(renovation=pl.when(pl.col("house_grade").is_in(["C", "D"])).then(pl.lit("未改造")).otherwise(pl.lit("无需改造")))
        h = pl.concat([h, new_h.drop("_new")])
        events.append(new_hids.select(pl.lit("split").alias("event"), pl.col("_new").alias("hid"),
                                      pl.col("hid").alias("other_hid"), pl.lit(None, pl.Int64).alias("pid")))

    # merges: an old widow living alone moves in with a household of her village
    sizes = p.group_by("hid").agg(pl.len().alias("_n"), (pl.col("kind") == MOTHER).any().alias("_has_mother"))
    heads = p.filter(pl.col("kind") == HEAD).select("hid", "male", _age=age_expr(new_date)).join(sizes, on="hid").join(
        h.select("hid", "village_code"), on="hid")
    heads = heads.sort("hid")
    sources = heads.filter((pl.col("_n") == 1) & ~pl.col("male") & (pl.col("_age") >= 65))
    sources = sources.filter(pl.Series(rng.random(sources.height) < config.merge_rate))
    if sources.height:
        targets = heads.filter(pl.col("_age").is_between(30, 60) & ~pl.col("_has_mother") & (pl.col("_n") > 1))
        pairs = sources.select("hid", "village_code").join(
            targets.select(pl.col("hid").alias("_target"), "village_code"), on="village_code")
        pairs = pairs.sort("hid", "_target")
        pairs = pairs.with_columns(_r=pl.Series(rng.random(pairs.height))).sort("_r").unique("hid", keep="first", maintain_order=True)
        pairs = pairs.unique("_target", keep="first", maintain_order=True).select("hid", "_target")
        p = p.join(pairs, on="hid", how="left").with_columns(
            kind=pl.when(pl.col("_target").is_not_null()).then(pl.lit(MOTHER, pl.Int8)).otherwise("kind"),
            hid=pl.coalesce("_target", "hid")).drop("_target")
        h = h.filter(~pl.col("hid").is_in(pairs["hid"].implode()))
        events.append(pairs.select(pl.lit("merge").alias("event"), pl.col("_target").alias("hid"),
                                   pl.col("hid").alias("other_hid"), pl.lit(None, pl.Int64).alias("pid")))

    p, h = p.sort("pid"), h.sort("hid")
    # moves: to another village, sometimes in another county; the old house and well records end
    moving = rng.random(h.height) < config.move_rate
    if moving.any():
        k = int(moving.sum())
        cross = rng.random(k) < config.move_county_share
        old_v = h["village_code"].to_numpy()[moving]
        new_v = np.where(cross, _other_village(old_v, villages, rng, same_county=False),
                         _other_village(old_v, villages, rng, same_county=True))
        rid = rid_base + 2 * 10**6 + np.arange(k, dtype=np.int64)
        m = pl.Series(moving)
        upd = pl.DataFrame({"hid": h["hid"].filter(m), "_v": new_v, "_cross": cross, "_rid": rid,
                            "_new_house": rng.random(k) < 0.4, "_new_water": rng.random(k) < 0.4,
                            "_new_case": rng.random(k) < 0.5, "_g": rng.integers(1, 13, k).astype(np.int8)})
        events.append(upd.select(pl.lit("move").alias("event"), "hid", pl.lit(None, pl.Int64).alias("other_hid"),
                                 pl.lit(None, pl.Int64).alias("pid")))
        h = h.join(upd, on="hid", how="left").with_columns(
            village_code=pl.coalesce("_v", "village_code"), group_no=pl.coalesce("_g", "group_no"),
            house_rid=pl.when(pl.col("_v").is_null()).then("house_rid").when("_new_house").then("_rid"),
            water_rid=pl.when(pl.col("_v").is_null()).then("water_rid").when("_new_water").then("_rid"),
            ca_case=pl.when(pl.col("_cross").is_null() | ~pl.col("_cross")).then("ca_case")
            .when(pl.col("ca_case").is_not_null() & pl.col("_new_case")).then("_rid"),
        ).drop("_v", "_cross", "_rid", "_new_house", "_new_water", "_new_case", "_g")

    p, h = p.sort("pid"), h.sort("hid")
    p = _evolve_person_facts(p, new_date, rng, config)
    h = _evolve_household_facts(h, new_date, rng, config, step)
    ev = pl.concat([e.with_columns(pl.col("hid").cast(pl.Int64), pl.col("other_hid").cast(pl.Int64), pl.col("pid").cast(pl.Int64))
                    for e in events]) if events else None
    p = p.with_columns(relation=relation_expr())
    new_state = State(snapshot=new_date, persons=p.sort("pid"), households=h.sort("hid"), next_pid=next_pid, next_hid=next_hid)
    if ev is not None:
        new_state.events = [ev.with_columns(snapshot_date=pl.lit(new_date))]
    return new_state


def _other_village(current: np.ndarray, villages: pl.DataFrame, rng: np.random.Generator, same_county: bool) -> np.ndarray:
    """A random different village, in the same county or in another one of the four."""
    codes = villages["village_code"].to_numpy().astype(str)
    counties = villages["county_code"].to_numpy().astype(str)
    out = np.empty(len(current), dtype=object)
    cur_county = np.array([c[:6] for c in current]) if len(current) else np.array([], dtype=str)
    for county in np.unique(counties):
        rows = np.flatnonzero(cur_county == county)
        if not len(rows):
            continue
        pool = codes[counties == county] if same_county else codes[counties != county]
        out[rows] = pool[rng.integers(0, len(pool), len(rows))]
    same = out == current
    out[same] = codes[rng.integers(0, len(codes), int(same.sum()))] if same.any() else out[same]
    return out.astype(str)


def _evolve_person_facts(p: pl.DataFrame, new_date: date, rng: np.random.Generator, config: SynthConfig) -> pl.DataFrame:
    n = p.height
    grade = p.select(grade_expr(new_date)).to_series().to_numpy()
    edu = p["edu_state"].to_numpy().copy()
    r = rng.random(n)
    summer = new_date.month in (6, 7, 8)
    new = edu.copy()
    new[np.isin(edu, [EDU_GRADUATED, EDU_TRANSFERRED])] = EDU_LEFT
    at_school = edu == EDU_IN
    new[at_school & (r < 0.006)] = EDU_DROPPED
    new[at_school & (r >= 0.006) & (r < 0.009)] = EDU_SUSPENDED
    new[at_school & (r >= 0.009) & (r < 0.013)] = EDU_TRANSFERRED
    if summer:
        new[at_school & (grade == 12)] = EDU_GRADUATED
        new[at_school & (grade == 9) & (r > 0.7)] = EDU_GRADUATED
    new[at_school & (grade > 12)] = EDU_LEFT
    new[(edu == EDU_SUSPENDED) & (r < 0.4)] = EDU_IN
    new[(edu == EDU_DROPPED) & (r < 0.15)] = EDU_IN
    starting = (edu == EDU_NONE) & (grade >= 1) & (grade <= 12)
    new[starting] = np.where(r[starting] < config.coverage.get("education", 0.95), EDU_IN, EDU_NONE)

    in_health = p["in_health"].to_numpy().copy()
    r2 = rng.random(n)
    in_health = np.where(in_health, r2 >= 0.005, r2 < 0.25)
    insured = p["insured"].to_numpy().astype(str).copy()
    r3 = rng.random(n)
    lapse = (insured == "已参保") & (r3 < config.insurance_lapse_rate)
    insured[lapse] = np.where(rng.random(int(lapse.sum())) < 0.5, "未参保", "中止")
    insured[(insured != "已参保") & ~lapse & (r3 < 0.3)] = "已参保"
    redraw = rng.random(n) < 0.4
    costs = _draw_costs(rng, p.select(age_expr(new_date)).to_series().to_numpy())
    return p.with_columns(
        edu_state=pl.Series(new.astype(np.int8)), in_health=pl.Series(in_health), insured=pl.Series(insured),
        **{k: pl.when(pl.Series(redraw)).then(v).otherwise(pl.col(k)) for k, v in costs.items()},
    )


def _evolve_household_facts(h: pl.DataFrame, new_date: date, rng: np.random.Generator, config: SynthConfig, step: int) -> pl.DataFrame:
    n = h.height
    r = rng.random(n)
    assisted = h["ca_case"].is_not_null().to_numpy()
    stopped = h["ca_status"].to_numpy() == "停保"
    leave = assisted & (r < config.assistance_leave_rate)
    ends = (assisted & stopped) | (leave & (r < config.assistance_leave_rate / 2))
    stop = leave & ~ends
    income = np.round(h["income_pc"].to_numpy() * rng.uniform(0.9, 1.12, n), -1)
    poor = income < np.quantile(income, 0.2) if n else np.zeros(0, bool)
    enter = ~assisted & poor & (rng.random(n) < config.assistance_enter_rate * 5)
    new_case = 10**7 * (step + 1) + 4 * 10**6 + np.arange(n, dtype=np.int64)
    grade = h["house_grade"].to_numpy()
    renovation = h["renovation"].to_numpy().astype(str).copy()
    r2 = rng.random(n)
    doing = renovation == "改造中"
    renovation[(renovation == "未改造") & (r2 < config.renovation_rate)] = "改造中"
    renovation[doing & (r2 < config.renovation_rate * 1.5)] = "已改造"
    no_house = h["house_rid"].is_null().to_numpy()
    assess = no_house & (rng.random(n) < 0.02)
    water_cols = {}
    for k in ("quality", "quantity", "convenience", "reliability"):
        ok = h[f"water_{k}"].to_numpy()
        r3 = rng.random(n)
        water_cols[f"water_{k}"] = pl.Series(np.where(ok, r3 >= 0.005, r3 < config.water_fix_rate))
    return h.with_columns(
        income_pc=pl.Series(income),
        ca_case=pl.when(pl.Series(ends)).then(None).when(pl.Series(enter)).then(pl.Series(new_case))
        .otherwise("ca_case"),
        ca_status=pl.when(pl.Series(stop)).then(pl.lit("停保")).when(pl.Series(enter)).then(pl.lit("在保")).otherwise("ca_status"),
        ca_start=pl.when(pl.Series(enter)).then(pl.lit(new_date) - pl.duration(days=30)).otherwise("ca_start"),
        renovation=pl.Series(renovation),
        house_rid=pl.when(pl.Series(assess)).then(pl.Series(new_case + 2 * 10**6)).otherwise("house_rid"),
        assessed_on=pl.when(pl.Series(assess)).then(pl.lit(new_date) - pl.duration(days=20)).otherwise("assessed_on"),
        **water_cols,
    ).with_columns(renovation=pl.when(pl.Series(assess) & pl.col("house_grade").is_in(["A", "B"])).then(pl.lit("无需改造"))
                   .when(pl.Series(assess)).then(pl.lit("未改造")).otherwise("renovation"))
