"""A second extract generator, written from ``../shared/extracts/SPEC.md``, ``../shared/domain.md`` and
``../shared/reference/villages.csv`` only (nothing from ``synth/``), so that its blind spots are not synth's.

It builds a rural population of the four gazetteer counties, lets six months pass (births, deaths,
households that split, people who move village or county, assistance cases that start and end), and
writes what the five departments would send at both dates: every format, encoding, header spelling and
defect the SPEC names, plus a handful of files that cannot be read at all. Truth goes to
``<landing>/_truth/``:

- ``records.parquet``: one row per person a record mentions (the format
  ``entity_resolution.household.quality.load_truth`` reads) with ``tags`` naming the defects and events
  behind the mention, for the mislink analysis;
- ``files.parquet``: per file written, the rows written and how many of them Hearth must accept,
  quarantine and count as blank, and whether the file was broken on purpose;
- ``household_rules.parquet``: per snapshot and true household, whether each of domain.md's six rules fails.

Deterministic for a seed (file contents and names; mtimes are set from the snapshot dates).
"""

from __future__ import annotations

import copy
import csv
import io
import os
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import xlsxwriter

# the gazetteer as Hearth ships it (a copy of ../shared/reference/villages.csv, read here as a plain CSV)
VILLAGES_CSV = Path(__file__).resolve().parents[1] / "schemas" / "reference" / "villages.csv"
SNAPSHOTS = (date(2026, 1, 9), date(2026, 7, 7))
DEPARTMENTS = ("education", "health", "housing", "water", "civil_affairs")
SHANGHAI = timezone(timedelta(hours=8))

# --------------------------------------------------------------------------------------------- names

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林龙石潘韦蒙罗田穆杨吴"
            "曾单仇覃翟解查区朴")
MALE_GIVEN = "伟强军勇杰涛明超平刚华建国文斌龙成亮鹏飞兵波辉磊洋林"
FEMALE_GIVEN = "芳娟敏静丽艳霞燕玲红梅兰英华秀琴萍慧婷雪莉娜"
HOMOPHONES = {
    "伟": "玮炜", "芳": "方", "静": "晶", "丽": "莉", "明": "鸣", "军": "君", "华": "桦", "杰": "洁", "涛": "滔",
    "红": "宏", "玲": "铃", "燕": "艳", "英": "瑛", "琴": "勤", "平": "萍", "建": "健", "国": "帼", "文": "雯",
    "斌": "彬", "龙": "隆", "成": "诚", "鹏": "朋", "飞": "菲", "勇": "永", "超": "潮", "刚": "钢", "敏": "民",
    "兰": "蓝", "霞": "侠", "秀": "绣", "娟": "鹃", "艳": "燕", "辉": "晖", "磊": "垒", "林": "琳", "慧": "惠",
    "婷": "亭", "雪": "学", "娜": "那", "兵": "斌", "波": "博", "洋": "阳", "萍": "平", "梅": "媚", "强": "墙",
}
TRADITIONAL = {
    "伟": "偉", "张": "張", "刘": "劉", "陈": "陳", "杨": "楊", "黄": "黃", "赵": "趙", "吴": "吳", "孙": "孫",
    "马": "馬", "郭": "郭", "罗": "羅", "龙": "龍", "韦": "韋", "华": "華", "国": "國", "军": "軍", "涛": "濤",
    "鹏": "鵬", "飞": "飛", "兰": "蘭", "红": "紅", "丽": "麗", "艳": "艷", "霞": "霞", "娟": "娟", "玲": "玲",
    "辉": "輝", "强": "強", "刚": "剛", "亮": "亮", "秀": "秀", "琴": "琴", "婷": "婷", "梅": "梅", "单": "單",
    "区": "區", "解": "解", "覃": "覃", "仇": "仇", "翟": "翟", "查": "查", "朴": "樸", "曾": "曾", "萍": "萍",
}
MINORITY_FIRST = ("阿依古丽", "热合曼", "古丽娜", "麦麦提", "阿卜杜", "努尔", "帕提古丽", "艾合买提")
MINORITY_SECOND = ("买买提", "艾力", "吐尔逊", "依明", "热依木", "阿不都", "托合提", "司马义")
MINORITY_SEPARATORS = ("·", "·", ".", "•")
ZH_NUMERALS = "〇一二三四五六七八九十"
SCHOOL_SUFFIX = ("小学", "中心小学", "中学", "民族中学")

# ID check character (domain.md: ISO 7064 MOD 11-2).
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def check_char(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


@dataclass(frozen=True)
class Village:
    code: str
    province: str
    city: str
    county: str
    township: str
    name: str

    @property
    def county_code(self) -> str:
        return self.code[:6]


def load_villages(path: Path = VILLAGES_CSV) -> list[Village]:
    with open(path, encoding="utf-8") as handle:
        return [Village(r["village_code"], r["province"], r["city"], r["county"], r["township"], r["village"])
                for r in csv.DictReader(handle)]


# ------------------------------------------------------------------------------------------ population

@dataclass
class Person:
    key: str
    name: str  # canonical (simplified, minority separator ·)
    gender: str
    birth: date
    id18: str
    phone: str | None
    tags: set[str] = field(default_factory=set)
    # department enrolment (stable across snapshots)
    health_id: str | None = None
    insured: str = "已参保"
    scheme: str = "城乡居民"
    out_of_pocket: float = 0.0
    chronic: str | None = None
    student_id: str | None = None
    school_status: str = "在读"
    school: str = ""
    ca_record: str | None = None


@dataclass
class Household:
    key: str
    village: Village
    group: int
    house_no: int
    members: list[tuple[str, str]]  # (person key, relation to the registered head)
    owner: str  # housing's owner (a widow's son where the widow heads civil affairs)
    water_head: str
    phone: str | None
    family_no: str
    housing: dict | None = None
    water: dict | None = None
    assistance: dict | None = None
    tags: set[str] = field(default_factory=set)

    @property
    def head(self) -> str:
        return self.members[0][0]


@dataclass
class World:
    persons: dict[str, Person]
    households: dict[str, Household]


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


class Population:
    """Draws people and households; every random choice goes through ``self.rng``."""

    def __init__(self, villages: list[Village], rng: random.Random):
        self.villages, self.rng = villages, rng
        self.by_county: dict[str, list[Village]] = {}
        for v in villages:
            self.by_county.setdefault(v.county_code, []).append(v)
        self.sequence: dict[tuple[str, date], int] = {}
        self.n_person = self.n_household = self.n_record = 0
        self.used_names: dict[str, int] = {}

    def person_key(self) -> str:
        self.n_person += 1
        return f"P{self.n_person:07d}"

    def household_key(self) -> str:
        self.n_household += 1
        return f"H{self.n_household:07d}"

    def record_no(self) -> int:
        self.n_record += 1
        return self.n_record

    def name(self, gender: str, surname: str | None = None) -> str:
        rng = self.rng
        if rng.random() < 0.01:
            return f"{rng.choice(MINORITY_FIRST)}·{rng.choice(MINORITY_SECOND)}"
        surname = surname or ("欧阳" if rng.random() < 0.01 else rng.choice(SURNAMES))
        pool = MALE_GIVEN if gender == "男" else FEMALE_GIVEN
        given = rng.choice(pool) + (rng.choice(MALE_GIVEN + FEMALE_GIVEN) if rng.random() < 0.7 else "")
        return surname + given

    def id_number(self, county: str, birth: date, gender: str) -> str:
        key = (county, birth)
        self.sequence[key] = self.sequence.get(key, 0) + 1
        seq = self.sequence[key] * 2 + (1 if gender == "男" else 0)  # odd = male
        seq = seq % 1000 if seq < 1000 else self.rng.randrange(0, 1000, 2) + (1 if gender == "男" else 0)
        first17 = f"{county}{birth:%Y%m%d}{seq:03d}"
        return first17 + check_char(first17)

    def phone(self) -> str:
        return self.rng.choice("3456789").join(["1", ""]) + "".join(self.rng.choices("0123456789", k=9))

    def birth(self, age_low: int, age_high: int, on: date) -> date:
        age = self.rng.randint(age_low, age_high)
        return date(on.year - age, 1, 1) + timedelta(days=self.rng.randrange(0, 365))

    def new_person(self, gender: str, birth: date, county: str, surname: str | None = None,
                   phone: str | None = None) -> Person:
        rng = self.rng
        registered = county if rng.random() > 0.05 else rng.choice(sorted(self.by_county))
        p = Person(self.person_key(), self.name(gender, surname), gender, birth,
                   self.id_number(registered, birth, gender), phone)
        if "·" in p.name:
            p.tags.add("minority_name")
        p.health_id = f"{county}{self.record_no():08d}" if rng.random() < 0.96 else None
        p.insured = rng.choices(("已参保", "未参保", "中止"), (0.96, 0.025, 0.015))[0]
        p.scheme = "职工" if rng.random() < 0.05 else "城乡居民"
        p.out_of_pocket = round(rng.lognormvariate(6.5, 1.3), 2) if rng.random() < 0.6 else 0.0
        if rng.random() < 0.012:
            p.out_of_pocket = round(rng.uniform(20000, 60000), 2)
        p.chronic = rng.choice(("高血压", "糖尿病", "慢阻肺")) if rng.random() < 0.08 else None
        return p

    def household(self, world: World, on: date) -> Household:
        rng = self.rng
        village = rng.choice(self.villages)
        county = village.county_code
        kind = rng.choices(("family", "widow", "elderly", "single"), (0.6, 0.12, 0.13, 0.15))[0]
        surname = rng.choice(SURNAMES)
        members: list[tuple[Person, str]] = []
        phone = self.phone()

        def add(gender: str, low: int, high: int, relation: str, same_surname: bool = True,
                own_phone: float = 0.3) -> Person:
            p = self.new_person(gender, self.birth(low, high, on), county, surname if same_surname else None,
                                self.phone() if rng.random() < own_phone else phone)
            members.append((p, relation))
            return p

        if kind == "widow":
            add("女", 62, 86, "户主", same_surname=False, own_phone=0.0)
            son = add("男", 32, 55, "子")
            add("女", 28, 52, "儿媳", same_surname=False)
            for _ in range(rng.randint(0, 3)):
                add(rng.choice("男女"), 0, 17, "", own_phone=0.0)
            members[:] = [(p, r or ("孙子" if p.gender == "男" else "孙女")) for p, r in members]
            owner = son
            water_head = son if rng.random() < 0.6 else members[0][0]
        elif kind == "family":
            head = add("男" if rng.random() < 0.9 else "女", 26, 58, "户主", own_phone=1.0)
            add("女" if head.gender == "男" else "男", 24, 58, "配偶", same_surname=False)
            for _ in range(rng.choices((0, 1, 2, 3), (0.15, 0.35, 0.35, 0.15))[0]):
                child = add(rng.choice("男女"), 0, 24, "", own_phone=0.1)
                members[-1] = (child, "子" if child.gender == "男" else "女")
            if rng.random() < 0.25:
                add(rng.choice("男女"), 68, 90, "", own_phone=0.0)
                members[-1] = (members[-1][0], "父亲" if members[-1][0].gender == "男" else "母亲")
            owner = water_head = head
        elif kind == "elderly":
            head = add("男" if rng.random() < 0.7 else "女", 65, 92, "户主", own_phone=1.0)
            if rng.random() < 0.6:
                add("女" if head.gender == "男" else "男", 62, 90, "配偶", same_surname=False)
            owner = water_head = head
        else:
            head = add(rng.choice("男女"), 20, 64, "户主", own_phone=1.0)
            owner = water_head = head
        if rng.random() < 0.04:
            phone = None
        hh = Household(self.household_key(), village, rng.randint(1, 9), rng.randint(1, 60),
                       [(p.key, r) for p, r in members], owner.key, water_head.key, phone,
                       family_no=f"F{county}{self.record_no():07d}", tags={kind})
        for p, _ in members:
            world.persons[p.key] = p
            if 6 <= age_on(p.birth, on) <= 18 and rng.random() < 0.95:
                self.enrol(p, village)
        self.department_facts(hh, kind, on)
        world.households[hh.key] = hh
        return hh

    def enrol(self, p: Person, village: Village) -> None:
        rng = self.rng
        p.student_id = f"G{p.id18[:6]}{self.record_no():08d}"
        p.school_status = rng.choices(("在读", "休学", "辍学", "转出"), (0.955, 0.015, 0.015, 0.015))[0]
        p.school = village.township + rng.choice(SCHOOL_SUFFIX)

    def department_facts(self, hh: Household, kind: str, on: date) -> None:
        rng = self.rng
        if rng.random() < 0.6:
            grade = rng.choices("ABCD", (0.4, 0.35, 0.17, 0.08))[0]
            renovation = rng.choice(("未改造", "改造中", "已改造")) if grade in "CD" else "无需改造"
            hh.housing = {"record_id": f"FW{hh.village.county_code}{self.record_no():07d}", "grade": grade,
                          "renovation": renovation,
                          "assessed_on": on - timedelta(days=rng.randint(30, 900))}
        if rng.random() < 0.75:
            hh.water = {"record_id": f"YS-{hh.village.code[:9]}-{self.record_no():06d}",
                        "supply": rng.choice(("集中供水", "集中供水", "分散供水")),
                        **{k: rng.random() > 0.04 for k in ("quality_ok", "quantity_ok", "convenience_ok",
                                                             "reliability_ok")}}
        assisted = {"elderly": 0.35, "widow": 0.3}.get(kind, 0.08)
        if rng.random() < assisted:
            self.start_assistance(hh, kind, on)

    def start_assistance(self, hh: Household, kind: str, on: date) -> None:
        rng = self.rng
        kind_of = "特困" if kind == "elderly" and len(hh.members) == 1 else rng.choices(
            ("低保", "低保边缘", "临时救助"), (0.75, 0.15, 0.1))[0]
        hh.assistance = {"case_no": f"MZ{hh.village.code}{self.record_no():05d}", "type": kind_of,
                         "benefit": float(rng.randrange(150, 700, 10)),
                         "income": float(rng.randrange(3000, 11000, 10)), "status": "在保",
                         "start": on - timedelta(days=rng.randint(20, 2000))}


# --------------------------------------------------------------------------------- six months later

def six_months_later(world: World, pop: Population, on: date) -> World:
    """The same people at the second snapshot: births, deaths, splits, moves, cases started and ended."""
    rng = pop.rng
    world = copy.deepcopy(world)
    for hh in list(world.households.values()):
        persons = world.persons
        # deaths of elderly members who do not head the household
        for pk, rel in list(hh.members[1:]):
            if age_on(persons[pk].birth, on) > 75 and rng.random() < 0.04 and pk not in (hh.owner, hh.water_head):
                hh.members.remove((pk, rel))
                del persons[pk]
        # a birth
        spouse = next((persons[pk] for pk, rel in hh.members if rel in ("配偶", "儿媳")), None)
        if spouse and spouse.gender == "女" and 22 <= age_on(spouse.birth, on) <= 38 and rng.random() < 0.05:
            surname = persons[hh.members[0][0]].name[0]
            baby = pop.new_person(rng.choice("男女"), on - timedelta(days=rng.randint(5, 150)),
                                  hh.village.county_code, surname, hh.phone)
            baby.tags.add("newborn")
            rel = "孙子" if "widow" in hh.tags else "子"
            hh.members.append((baby.key, rel if baby.gender == "男" else {"孙子": "孙女", "子": "女"}[rel]))
            persons[baby.key] = baby
        # the widow's son takes his family out (the widow stays head; health's family_no is seldom updated)
        if "widow" in hh.tags and rng.random() < 0.25:
            leaving = [(pk, rel) for pk, rel in hh.members[1:]]
            _split(world, pop, hh, leaving, {"子": "户主", "儿媳": "配偶", "孙子": "子", "孙女": "女"}, on)
        elif "family" in hh.tags:
            adult = [(pk, rel) for pk, rel in hh.members if rel in ("子", "女") and age_on(persons[pk].birth, on) >= 20]
            if adult and rng.random() < 0.2:
                _split(world, pop, hh, adult[:1], {"子": "户主", "女": "户主"}, on)
        # moves, most within the county
        roll = rng.random()
        if roll < 0.025:
            same_county = roll >= 0.006
            choices = pop.by_county[hh.village.county_code] if same_county else [
                v for c, vs in pop.by_county.items() if c != hh.village.county_code for v in vs]
            hh.village = rng.choice([v for v in choices if v.code != hh.village.code])
            hh.group = rng.randint(1, 9)
            hh.tags.add("moved" if same_county else "moved_county")
        # the departments' own changes
        if hh.assistance and rng.random() < 0.12:
            if rng.random() < 0.5:
                hh.assistance = None
            else:
                hh.assistance["status"] = "停保"
        elif hh.assistance is None and rng.random() < 0.03:
            pop.start_assistance(hh, "family", on)
            hh.tags.add("case_started")
        if hh.housing and hh.housing["renovation"] in ("未改造", "改造中") and rng.random() < 0.4:
            hh.housing["renovation"] = {"未改造": "改造中", "改造中": "已改造"}[hh.housing["renovation"]]
        if hh.water and rng.random() < 0.1:
            hh.water["quality_ok"] = not hh.water["quality_ok"]
        for pk, _ in hh.members:
            p = world.persons[pk]
            if p.student_id and p.school_status == "在读" and rng.random() < 0.01:
                p.school_status = rng.choice(("辍学", "休学"))
            if p.student_id and age_on(p.birth, on) > 18:
                p.student_id = None  # graduated: missing from the newer snapshot
    return world


def _split(world: World, pop: Population, hh: Household, leaving: list[tuple[str, str]],
           relation: dict[str, str], on: date) -> None:
    rng = pop.rng
    if not leaving:
        return
    for member in leaving:
        hh.members.remove(member)
    village = hh.village if rng.random() < 0.6 else rng.choice(pop.by_county[hh.village.county_code])
    new_head = world.persons[leaving[0][0]]
    new = Household(pop.household_key(), village, rng.randint(1, 9), rng.randint(1, 60),
                    [(pk, relation.get(rel, "其他")) for pk, rel in leaving], new_head.key, new_head.key,
                    new_head.phone or pop.phone(),
                    # health's family number is not updated promptly when a household splits
                    family_no=hh.family_no if rng.random() < 0.8 else f"F{village.county_code}{pop.record_no():07d}",
                    tags={"split_off"})
    hh.tags.add("split_from")
    if hh.owner in {pk for pk, _ in leaving}:
        new.housing, hh.housing = hh.housing, None  # the assessment names the son: it follows him
        hh.owner = hh.head
    if hh.water_head in {pk for pk, _ in leaving}:
        hh.water_head = hh.head
    for pk, _ in leaving:
        world.persons[pk].tags.add("split")
    world.households[new.key] = new


# ----------------------------------------------------------------------------------- department rows

@dataclass
class Mention:
    role: str
    person_key: str
    household_key: str
    tags: str


@dataclass
class Row:
    county: str
    values: dict  # canonical column -> clean value (str, date, int, float, bool or None)
    mentions: list[Mention]


def department_rows(world: World, on: date) -> dict[str, list[Row]]:
    rows: dict[str, list[Row]] = {d: [] for d in DEPARTMENTS}
    for hh in world.households.values():
        v = hh.village
        people = [(world.persons[pk], rel) for pk, rel in hh.members]
        hh_tags = sorted(hh.tags)

        def mention(role: str, p: Person) -> Mention:
            return Mention(role, p.key, hh.key, ",".join(sorted(p.tags | set(hh_tags))))

        base = {"address": (v, hh.group, hh.house_no), "village_code": v.code}
        for p, rel in people:
            if p.health_id:
                rows["health"].append(Row(v.county_code, {
                    "record_id": p.health_id, "year": on.year, "name": p.name, "id_number": p.id18,
                    "gender": p.gender, "birth_date": p.birth, "phone": p.phone, **base,
                    "family_no": hh.family_no, "insured": p.insured, "scheme": p.scheme,
                    "total_cost": round(p.out_of_pocket * 2.4, 2), "out_of_pocket": p.out_of_pocket,
                    "chronic_condition": p.chronic, "serious_illness": p.out_of_pocket > 20000,
                }, [mention("subject", p)]))
            if p.student_id:
                guardian = _guardian(people, p)
                age = age_on(p.birth, on)
                values = {"record_id": p.student_id, "name": p.name, "id_number": p.id18, "gender": p.gender,
                          "birth_date": p.birth, "school": p.school, "grade": max(1, min(12, age - 5)),
                          "status": p.school_status, **base, "subsidy": hh.assistance is not None}
                mentions = [mention("subject", p)]
                if guardian is not None:
                    g, relation = guardian
                    values |= {"guardian_name": g.name, "guardian_id_number": g.id18, "guardian_relation": relation,
                               "guardian_phone": g.phone or hh.phone}
                    mentions.append(mention("guardian", g))
                rows["education"].append(Row(v.county_code, values, mentions))
            if hh.assistance:
                a = hh.assistance
                if p.ca_record is None:
                    p.ca_record = f"{v.county_code}-{len(rows['civil_affairs']) + 1:06d}-{p.key[-4:]}"
                rows["civil_affairs"].append(Row(v.county_code, {
                    "record_id": p.ca_record, "case_no": a["case_no"], "name": p.name, "id_number": p.id18,
                    "gender": p.gender, "birth_date": p.birth, "phone": p.phone, **base, "relation": rel,
                    "assistance_type": a["type"], "monthly_benefit": a["benefit"], "per_capita_income": a["income"],
                    "status": a["status"], "start_date": a["start"],
                }, [mention("subject", p)]))
        if hh.housing:
            owner = world.persons[hh.owner]
            rows["housing"].append(Row(v.county_code, {
                "record_id": hh.housing["record_id"], "owner_name": owner.name, "owner_id_number": owner.id18,
                "phone": owner.phone or hh.phone, **base, "grade": hh.housing["grade"],
                "assessed_on": hh.housing["assessed_on"], "renovation": hh.housing["renovation"],
                "household_size": len(people),
            }, [mention("owner", owner)]))
        if hh.water:
            head = world.persons[hh.water_head]
            rows["water"].append(Row(v.county_code, {
                "record_id": hh.water["record_id"], "head_name": head.name, "phone": hh.phone, **base,
                "household_size": len(people), "supply": hh.water["supply"],
                **{k: hh.water[k] for k in ("quality_ok", "quantity_ok", "convenience_ok", "reliability_ok")},
                "surveyed_on": on - timedelta(days=20),
            }, [mention("head", head)]))
    return rows


def _guardian(people: list[tuple[Person, str]], student: Person) -> tuple[Person, str] | None:
    by_relation = {rel: p for p, rel in people}
    student_rel = next(rel for p, rel in people if p.key == student.key)
    if student_rel in ("孙子", "孙女"):
        parent = by_relation.get("子")
        if parent is not None:
            return parent, "父亲"
        return people[0][0], "祖母" if people[0][0].gender == "女" else "祖父"
    head = people[0][0]
    if student_rel in ("子", "女") and head.key != student.key:
        return head, "父亲" if head.gender == "男" else "母亲"
    return None


def household_rules(world: World, rows: dict[str, list[Row]], on: date) -> pl.DataFrame:
    """domain.md's six rules per true household at this snapshot (default thresholds)."""
    fails: dict[tuple[str, str], bool] = {}

    def hit(hk: str, rule: str) -> None:
        fails[(hk, rule)] = True

    in_health = {r.mentions[0].person_key for r in rows["health"]}
    known_elsewhere = {m.person_key for d in ("education", "civil_affairs", "housing", "water") for r in rows[d]
                       for m in r.mentions}
    household_of = {pk: hh.key for hh in world.households.values() for pk, _ in hh.members}
    for r in rows["education"]:
        age = age_on(r.values["birth_date"], on)
        if r.values["status"] in ("辍学", "休学") and 6 <= age <= 15:
            hit(r.mentions[0].household_key, "education")
    for r in rows["health"]:
        if r.values["insured"] in ("未参保", "中止"):
            hit(r.mentions[0].household_key, "insurance")
    for pk in known_elsewhere - in_health:
        hit(household_of[pk], "insurance")
    for r in rows["housing"]:
        if r.values["grade"] in "CD" and r.values["renovation"] != "已改造":
            hit(r.mentions[0].household_key, "housing")
    for r in rows["water"]:
        if not all(r.values[k] for k in ("quality_ok", "quantity_ok", "convenience_ok", "reliability_ok")):
            hit(r.mentions[0].household_key, "water")
    income = {}
    for r in rows["civil_affairs"]:
        income[r.mentions[0].household_key] = r.values["per_capita_income"]
        if r.values["per_capita_income"] < 8000:
            hit(r.mentions[0].household_key, "income")
    out_of_pocket: dict[str, float] = {}
    for r in rows["health"]:
        hk = r.mentions[0].household_key
        out_of_pocket[hk] = out_of_pocket.get(hk, 0.0) + r.values["out_of_pocket"]
    for hk, cost in out_of_pocket.items():
        size = len(world.households[hk].members)
        if cost > 20000 or (hk in income and cost > 0.5 * income[hk] * size):
            hit(hk, "medical_burden")
    rules = ("education", "insurance", "medical_burden", "housing", "water", "income")
    return pl.DataFrame(
        [{"snapshot_date": on, "household_key": hk, "rule": rule, "fails": fails.get((hk, rule), False)}
         for hk in world.households for rule in rules],
        schema={"snapshot_date": pl.Date, "household_key": pl.String, "rule": pl.String, "fails": pl.Boolean})


# ------------------------------------------------------------------------------------------- spelling

HEADERS_ZH = {
    "education": {"record_id": "学籍号", "name": "学生姓名", "id_number": "身份证号", "gender": "性别",
                  "birth_date": "出生日期", "school": "学校名称", "grade": "年级", "status": "学籍状态",
                  "guardian_name": "监护人姓名", "guardian_id_number": "监护人身份证号",
                  "guardian_relation": "监护人关系", "guardian_phone": "监护人电话", "address": "家庭住址",
                  "village_code": "户籍村代码", "subsidy": "是否享受资助"},
    "health": {"record_id": "人员编号", "year": "年度", "name": "姓名", "id_number": "身份证号", "gender": "性别",
               "birth_date": "出生日期", "phone": "联系电话", "address": "家庭住址", "village_code": "村代码",
               "family_no": "家庭编号", "insured": "参保状态", "scheme": "参保险种",
               "total_cost": "年度医疗总费用（元）", "out_of_pocket": "个人自付费用（元）",
               "chronic_condition": "慢特病种", "serious_illness": "是否大病"},
    "housing": {"record_id": "鉴定编号", "owner_name": "户主姓名", "owner_id_number": "户主身份证号",
                "phone": "联系电话", "address": "家庭住址", "village_code": "村代码", "grade": "鉴定等级",
                "assessed_on": "鉴定日期", "renovation": "改造状态", "household_size": "家庭人口"},
    "water": {"record_id": "调查编号", "head_name": "户主姓名", "phone": "联系电话", "address": "家庭住址",
              "village_code": "村代码", "household_size": "家庭人口", "supply": "供水方式", "quality_ok": "水质达标",
              "quantity_ok": "水量达标", "convenience_ok": "取水便利", "reliability_ok": "供水保证率达标",
              "surveyed_on": "调查日期"},
    "civil_affairs": {"record_id": "记录编号", "case_no": "救助家庭编号", "name": "姓名", "id_number": "身份证号",
                      "gender": "性别", "birth_date": "出生日期", "phone": "联系电话", "address": "家庭住址",
                      "village_code": "村代码", "relation": "与户主关系", "assistance_type": "救助类别",
                      "monthly_benefit": "月救助金额（元）", "per_capita_income": "家庭年人均纯收入（元）",
                      "status": "救助状态", "start_date": "救助起始日期"},
}
DATE_COLUMNS = {"birth_date", "assessed_on", "surveyed_on", "start_date"}
ID_COLUMNS = {"id_number", "owner_id_number", "guardian_id_number"}
NAME_COLUMNS = {"name", "owner_name", "head_name", "guardian_name"}
PHONE_COLUMNS = {"phone", "guardian_phone"}
NUMBER_COLUMNS = {"year", "household_size", "total_cost", "out_of_pocket", "monthly_benefit", "per_capita_income"}
BOOL_COLUMNS = {"subsidy", "serious_illness", "quality_ok", "quantity_ok", "convenience_ok", "reliability_ok"}
EXTRA_COLUMNS = ("序号", "备注", "填表人", "数据来源", "核查情况")
DEPARTMENT_TITLE = {"education": "学籍信息表", "health": "城乡居民医保参保及费用明细", "housing": "农村房屋安全鉴定台账",
                    "water": "农村饮水安全调查表", "civil_affairs": "社会救助对象花名册"}
EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class Style:
    """How one file spells things (each department clerk has habits)."""

    format: str  # csv | xlsx | parquet
    encoding: str  # utf-8 | utf-8-sig | gb18030 (csv only)
    headers: str  # zh | zh_noisy | en
    date_style: str  # iso | slash | compact | zh | excel (xlsx only)
    gender_digits: bool
    grade_digits: bool
    title_rows: int
    extras: tuple[str, ...]
    typed_parquet: bool
    numeric_record_ids: bool


def noisy_header(text: str, rng: random.Random) -> str:
    roll = rng.random()
    if text.endswith("（元）"):
        text = rng.choice((text, text.replace("（元）", "(元)"), text.replace("（元）", " （元） "),
                           text.replace("（元）", "")))
    elif roll < 0.25 and len(text) >= 2:
        text = text[0] + " " + text[1:]  # 姓 名
    elif roll < 0.45:
        text = f" {text}  "
    elif roll < 0.55 and text in ("家庭人口",):
        text += "（人）"
    elif roll < 0.6 and text.endswith("日期"):
        text += "（年月日）"
    return text


def header_of(department: str, column: str, style: Style, rng: random.Random) -> str:
    if style.headers == "en":
        return column
    zh = HEADERS_ZH[department][column]
    return noisy_header(zh, rng) if style.headers == "zh_noisy" else zh


def format_date(d: date, style: str) -> str:
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "compact":
        return f"{d:%Y%m%d}"
    if style == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    return d.isoformat()


def impossible_date(d: date, style: str, rng: random.Random) -> str:
    y, m, day = rng.choice(((d.year, 2, 30), (d.year, 13, d.day), (d.year, 4, 31), (d.year, 0, 12)))
    if style == "slash":
        return f"{y}/{m}/{day}"
    if style == "compact":
        return f"{y:04d}{m:02d}{day:02d}"
    if style == "zh":
        return f"{y}年{m}月{day}日"
    return f"{y:04d}-{m:02d}-{day:02d}"


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" or c == "X" else c for c in text)


class Excel:
    """Cell values that an XLSX writes as numbers or dates; a CSV or Parquet writes them as text."""

    @dataclass(frozen=True)
    class Number:
        value: float
        text: str

    @dataclass(frozen=True)
    class Date:
        value: date
        serial_only: bool


def spell_id(id18: str, age: int, department: str, role: str, rng: random.Random, tags: list[str]) -> object:
    """An ID as a clerk of this department types it (health is the most careful)."""
    blank = {"health": 0.005, "education": 0.05, "civil_affairs": 0.4 if age < 16 else 0.03,
             "housing": 0.15}.get(department, 0.0)
    if role == "guardian":
        blank = 0.6
    roll = rng.random()
    careful = 0.25 if department == "health" else 1.0
    if roll < blank:
        tags.append("id_blank")
        return None
    roll = (roll - blank) / (1 - blank) / careful
    if roll < 0.03 and id18.isdigit():  # Excel turns an ID ending in X into text, not a number
        tags.append("id_excel")
        return Excel.Number(float(id18), f"{float(id18):.5E}")
    if roll < 0.05 and id18[6:8] == "19":
        tags.append("id_legacy15")
        return id18[:6] + id18[8:17]
    if roll < 0.065:
        tags.append("id_bad_check")
        wrong = CHECK[(CHECK.index(id18[-1]) + rng.randint(1, 10)) % 11]
        return id18[:17] + wrong
    if roll < 0.085:
        tags.append("id_full_width")
        return full_width(id18)
    if id18.endswith("X") and rng.random() < 0.5:
        tags.append("id_lower_x")
        return id18[:-1] + "x"
    if roll < 0.1:
        return f" {id18} "
    return id18


def spell_name(name: str, rng: random.Random, tags: list[str], typo_rate: float) -> str:
    if "·" in name:
        return name.replace("·", rng.choice(MINORITY_SEPARATORS))
    roll = rng.random()
    if roll < typo_rate:
        position = rng.randrange(1, len(name))
        if name[position] in HOMOPHONES:
            tags.append("name_homophone")
            return name[:position] + rng.choice(HOMOPHONES[name[position]]) + name[position + 1:]
    if roll < typo_rate + 0.03:
        tags.append("name_spaces")
        return " ".join(name) if len(name) == 2 else name[0] + " " + name[1:]
    if roll < typo_rate + 0.05:
        traditional = "".join(TRADITIONAL.get(c, c) for c in name)
        if traditional != name:
            tags.append("name_traditional")
        return traditional
    return name


def spell_phone(phone: str | None, rng: random.Random) -> str | None:
    if phone is None or rng.random() < 0.05:
        return None
    roll = rng.random()
    if roll < 0.08:
        return "+86" + phone
    if roll < 0.14:
        return f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
    if roll < 0.2:
        return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    if roll < 0.25:
        return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    return phone


def zh_number(n: int) -> str:
    return ZH_NUMERALS[n] if n <= 10 else "十" + ZH_NUMERALS[n - 10]


def spell_address(address: tuple[Village, int, int], rng: random.Random, tags: list[str]) -> str:
    v, group, house = address
    roll = rng.random()
    if roll < 0.3:
        tags.append("address_abbreviated")
        return f"{v.name}{zh_number(group)}组"
    if roll < 0.45:
        return f"{v.township}{v.name}{group}组{house}号"
    return f"{v.province}{v.city}{v.county}{v.township}{v.name}{group}组"


def spell_row(department: str, row: Row, style: Style, on: date, rng: random.Random) -> tuple[dict, list[str]]:
    """``{canonical: cell}`` as this file writes the row, and the defects applied (tags)."""
    out: dict = {}
    tags: list[str] = []
    values = row.values
    subject_age = age_on(values["birth_date"], on) if "birth_date" in values else 40
    for column, value in values.items():
        if value is None:
            out[column] = None
        elif column in ID_COLUMNS:
            role = {"owner_id_number": "owner", "guardian_id_number": "guardian"}.get(column, "subject")
            out[column] = spell_id(value, subject_age if role == "subject" else 40, department, role, rng, tags)
        elif column in NAME_COLUMNS:
            typo = 0.12 if department == "water" or column == "guardian_name" else 0.03
            out[column] = spell_name(value, rng, tags, typo)
        elif column in PHONE_COLUMNS:
            out[column] = spell_phone(value, rng)
        elif column == "address":
            out[column] = spell_address(value, rng, tags)
        elif column == "village_code":
            if rng.random() < 0.04:
                tags.append("village_blank")
                out[column] = None
            else:
                out[column] = value
        elif column in DATE_COLUMNS:
            if rng.random() < 0.004:
                tags.append("date_impossible")
                out[column] = impossible_date(value, style.date_style if style.date_style != "excel" else "iso", rng)
            elif style.date_style == "excel" and style.format == "xlsx":
                out[column] = Excel.Date(value, serial_only=rng.random() < 0.3)
            else:
                mixed = rng.random() < 0.1
                out[column] = format_date(value, rng.choice(("iso", "slash", "compact", "zh")) if mixed else
                                          (style.date_style if style.date_style != "excel" else "slash"))
        elif column == "gender":
            out[column] = {"男": "1", "女": "2"}[value] if style.gender_digits else value
        elif column == "grade" and department == "education":
            out[column] = str(value) if style.grade_digits else (
                f"{ZH_NUMERALS[value]}年级" if value <= 9 else f"高{ZH_NUMERALS[value - 9]}")
        elif column in BOOL_COLUMNS:
            out[column] = "是" if value else "否"
        elif column in NUMBER_COLUMNS:
            text = f"{value:g}" if isinstance(value, float) else str(value)
            out[column] = Excel.Number(float(value), text)
        elif column == "record_id" and style.numeric_record_ids and value.isdigit():
            out[column] = Excel.Number(float(value), value)
        else:
            out[column] = value
    if department == "housing" and values["grade"] in "CD" and rng.random() < 0.4:
        out["grade"] = values["grade"] + "级"
    if department == "health" and values["chronic_condition"] is None and rng.random() < 0.5:
        out["chronic_condition"] = "无"
    return out, tags


# ---------------------------------------------------------------------------------------------- files

@dataclass
class FileWritten:
    department: str
    file_name: str
    snapshot_date: date
    format: str
    encoding: str | None
    headers: str | None
    rows_written: int = 0
    expect_accepted: int = 0
    expect_quarantined: int = 0
    expect_blank: int = 0
    broken: str | None = None  # why this file cannot be read, when broken on purpose
    copy_of: str | None = None


COUNTY_NAME = {"529901": "青石县", "529902": "白河县", "529903": "石门县", "529904": "长岭县"}
SHORT_TITLE = {"education": "學籍名单", "health": "医保参保 明细", "housing": "危房鉴定台账", "water": "饮水安全调查",
               "civil_affairs": "低保特困花名册"}
FORMAT_CYCLE = ("xlsx", "csv", "parquet", "csv", "xlsx", "csv")
NAMING_CYCLE = ("dated", "dated", "county_free", "all_free", "dated")


def choose_style(fmt: str, rng: random.Random) -> Style:
    date_style = rng.choice(("iso", "slash", "compact", "zh") + (("excel", "excel") if fmt == "xlsx" else ()))
    return Style(
        format=fmt, encoding=rng.choice(("utf-8", "utf-8-sig", "gb18030")) if fmt == "csv" else "",
        headers=rng.choice(("zh", "zh_noisy", "zh_noisy", "en")), date_style=date_style,
        gender_digits=rng.random() < 0.3, grade_digits=rng.random() < 0.4,
        title_rows=rng.choice((0, 1, 2)) if fmt == "xlsx" else 0,
        extras=tuple(rng.sample(EXTRA_COLUMNS, rng.choice((0, 1, 2)))), typed_parquet=rng.random() < 0.5,
        numeric_record_ids=fmt == "xlsx" and rng.random() < 0.5)


def file_name_for(department: str, counties: tuple[str, ...], naming: str, snapshot: int, on: date, fmt: str) -> str:
    half = ("上半年", "下半年")[snapshot]
    if naming == "dated":
        return f"{counties[0]}_{on:%Y%m%d}.{fmt}"
    if naming == "county_free":
        return f"{COUNTY_NAME[counties[0]]}{on.year}年{half} {SHORT_TITLE[department]}.{fmt}"
    return f"四县{SHORT_TITLE[department]}（{half}）.{fmt}"


def _text(cell: object) -> str | None:
    if isinstance(cell, Excel.Number):
        return cell.text
    if isinstance(cell, Excel.Date):
        return format_date(cell.value, "slash")
    return cell


def write_table(path: Path, header: list[str], cells: list[list[object] | None], style: Style,
                title: list[str]) -> None:
    """``cells`` rows in ``header`` order; None is a blank row."""
    if style.format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        for row in cells:
            writer.writerow([""] * len(header) if row is None else ["" if c is None else _text(c) for c in row])
        path.write_bytes(buffer.getvalue().encode(style.encoding))
    elif style.format == "parquet":
        columns = {h: [None if row is None else _text(row[i]) for row in cells] for i, h in enumerate(header)}
        frame = pl.DataFrame(columns, schema={h: pl.String for h in header})
        if style.typed_parquet:
            # A typed export: amounts as numbers, dates as dates (a typed column cannot hold an impossible date).
            kinds = {h: {type(row[i]) for row in cells if row is not None and row[i] is not None}
                     for i, h in enumerate(header)}
            numbers = [h for h, k in kinds.items() if k == {Excel.Number}]
            dates = [h for h in header if h.strip().startswith(("出生", "鉴定日期", "调查日期", "救助起始"))
                     or h in DATE_COLUMNS]
            frame = frame.with_columns(
                *(pl.col(h).cast(pl.Float64, strict=False) for h in numbers),
                *(pl.coalesce(pl.col(h).str.to_date(f, strict=False) for f in
                              ("%Y-%m-%d", "%Y/%-m/%-d", "%Y%m%d", "%Y年%-m月%-d日")).alias(h) for h in dates))
        frame.write_parquet(path)
    else:
        workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
        sheet = workbook.add_worksheet("Sheet1")
        date_format = workbook.add_format({"num_format": "yyyy/m/d"})
        r = 0
        for line in title:
            for c, text in enumerate(line.split("\t")):
                if text:
                    sheet.write_string(r, c * 3, text)
            r += 1
        for c, h in enumerate(header):
            sheet.write_string(r, c, h)
        r += 1
        for row in cells:
            if row is not None:
                for c, cell in enumerate(row):
                    if cell is None:
                        continue
                    if isinstance(cell, Excel.Number):
                        sheet.write_number(r, c, cell.value)
                    elif isinstance(cell, Excel.Date):
                        if cell.serial_only:
                            sheet.write_number(r, c, (cell.value - EXCEL_EPOCH).days)
                        else:
                            sheet.write_datetime(r, c, datetime.combine(cell.value, datetime.min.time()), date_format)
                    else:
                        sheet.write_string(r, c, str(cell))
            r += 1
        workbook.close()


def set_arrival(path: Path, on: date) -> None:
    moment = datetime(on.year, on.month, on.day, 10, 0, tzinfo=SHANGHAI).timestamp()
    os.utime(path, (moment, moment))


def write_department(landing: Path, department: str, rows: list[Row], snapshot: int, on: date, seed: int,
                     rng: random.Random, truth: list[dict]) -> list[FileWritten]:
    dept_index = DEPARTMENTS.index(department)
    naming = NAMING_CYCLE[(dept_index * 2 + snapshot + seed) % len(NAMING_CYCLE)]
    counties = sorted(COUNTY_NAME)
    groups = [tuple(counties)] if naming == "all_free" else [(c,) for c in counties]
    written = []
    folder = landing / department
    folder.mkdir(parents=True, exist_ok=True)
    for index, group in enumerate(groups):
        fmt = FORMAT_CYCLE[(dept_index * 3 + snapshot * 2 + index + seed) % len(FORMAT_CYCLE)]
        style = choose_style(fmt, rng)
        name = file_name_for(department, group, naming, snapshot, on, fmt)
        chosen = [r for r in rows if r.county in group]
        written.append(write_file(folder / name, department, chosen, style, on, rng, truth))
        set_arrival(folder / name, on)
    return written


def write_file(path: Path, department: str, rows: list[Row], style: Style, on: date, rng: random.Random,
               truth: list[dict]) -> FileWritten:
    columns = list(HEADERS_ZH[department])
    if rng.random() < 0.7:
        rng.shuffle(columns)
    layout: list[str] = list(columns)
    for extra in style.extras:
        layout.insert(rng.randint(0, len(layout)), extra)
    header = [header_of(department, c, style, rng) if c in HEADERS_ZH[department] else c for c in layout]
    record = FileWritten(department, path.name, on, style.format, style.encoding or None, style.headers)
    cells: list[list[object] | None] = []
    first_row = style.title_rows + 2 if style.format != "parquet" else 1
    serial = 0

    def as_cells(spelled: dict) -> list[object]:
        nonlocal serial
        serial += 1
        extra = {"序号": str(serial), "备注": rng.choice(("", "", "核实中", "已入户")), "填表人": "李文",
                 "数据来源": "系统导出", "核查情况": rng.choice(("", "正常"))}
        return [spelled.get(c) if c in HEADERS_ZH[department] else (extra[c] or None) for c in layout]

    for row in rows:
        spelled, tags = spell_row(department, row, style, on, rng)
        cells.append(as_cells(spelled))
        record.expect_accepted += 1
        for m in row.mentions:
            truth.append({"department": department, "file_name": path.name, "record_id": row.values["record_id"],
                          "snapshot_date": on, "role": m.role, "person_key": m.person_key,
                          "household_key": m.household_key, "row_number": first_row + len(cells) - 1,
                          "tags": ",".join(sorted(set(tags) | set(filter(None, m.tags.split(",")))))})
        roll = rng.random()
        if roll < 0.004:
            cells.append(list(cells[-1]))  # an exact duplicate row
            record.expect_quarantined += 1
        elif roll < 0.006:
            cells.append(None)  # a blank row
            record.expect_blank += 1
        elif roll < 0.007:
            broken = dict(spelled, record_id=None)  # a row missing its record_id
            cells.append(as_cells(broken))
            record.expect_quarantined += 1
        elif roll < 0.008:
            name_column = next(c for c in HEADERS_ZH[department] if c in NAME_COLUMNS)
            broken = dict(spelled, record_id=f"TMP{rng.randrange(10**6):06d}", **{name_column: None})
            cells.append(as_cells(broken))  # a row missing the name
            record.expect_quarantined += 1
    while style.format == "xlsx" and cells and cells[-1] is None:
        cells.pop()  # an empty last row of a sheet is not stored at all: there is no row to count
        record.expect_blank -= 1
    title = []
    if style.title_rows >= 1:
        title.append(f"{COUNTY_NAME.get(path.name[:6], '云岭州')}{on.year}年{DEPARTMENT_TITLE[department]}")
    if style.title_rows == 2:
        title.append(f"填报单位：{DEPARTMENT_TITLE[department][:4]}\t\t制表日期：{on.year}年{on.month}月{on.day}日")
    write_table(path, header, cells, style, title)
    record.rows_written = len(cells)
    return record


def write_broken_files(landing: Path, on: date, rng: random.Random, sample: dict[str, list[Row]]) -> list[FileWritten]:
    """Files no department should send, each of which must be reported back to its folder."""
    out = []

    def put(department: str, name: str, data: bytes, why: str, fmt: str) -> None:
        path = landing / department / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        set_arrival(path, on)
        out.append(FileWritten(department, name, on, fmt, None, None, broken=why))

    put("education", "空白文件.csv", b"", "empty", "csv")
    good = io.BytesIO()
    tmp = landing / "_truth" / "tmp.xlsx"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    write_table(tmp, ["人员编号", "姓名", "身份证号"], [[str(i), "王芳", None] for i in range(200)],
                choose_style("xlsx", rng), [])
    good.write(tmp.read_bytes())
    tmp.unlink()
    put("health", f"529902_{on:%Y%m%d}_损坏.xlsx", good.getvalue()[: len(good.getvalue()) * 2 // 3], "truncated xlsx", "xlsx")
    put("water", "饮水调查说明.csv", "本表为各乡镇上报的饮水安全调查汇总，请以正式文件为准。\n联系人：张伟\n".encode("utf-8"),
        "not a table (prose)", "csv")
    put("civil_affairs", "救助数据备份.csv", bytes(rng.randrange(256) for _ in range(4096)), "random bytes", "csv")
    header = ["姓名", "身份证号", "性别", "出生日期", "联系电话"]
    put("health", "医保导出（缺编号列）.csv",
        ("\r\n".join([",".join(header), "王芳,,女,1990-01-02,13800000001"]) + "\r\n").encode("utf-8"),
        "missing required column record_id", "csv")
    wrong = io.StringIO()
    writer = csv.writer(wrong)
    ca = list(HEADERS_ZH["civil_affairs"].values())
    writer.writerow(ca)
    for row in sample["civil_affairs"][:5]:
        writer.writerow([_text(v) if not isinstance(v, (date, tuple)) else "" for v in row.values.values()])
    put("housing", "民政救助名单.csv", wrong.getvalue().encode("utf-8-sig"), "wrong department (civil affairs)", "csv")
    return out


def write_duplicate_drop(landing: Path, files: list[FileWritten], rng: random.Random) -> FileWritten | None:
    """The same file dropped twice under another name (a Windows copy)."""
    candidates = [f for f in files if f.broken is None and f.format == "csv"]
    if not candidates:
        return None
    original = rng.choice(candidates)
    source = landing / original.department / original.file_name
    stem, ext = original.file_name.rsplit(".", 1)
    copy_path = source.with_name(f"{stem} - 副本.{ext}")
    copy_path.write_bytes(source.read_bytes())
    set_arrival(copy_path, original.snapshot_date)
    return FileWritten(original.department, copy_path.name, original.snapshot_date, original.format, original.encoding,
                       original.headers, rows_written=original.rows_written, copy_of=original.file_name)


# --------------------------------------------------------------------------------------------- driver

@dataclass
class Drop:
    landing: Path
    files: list[FileWritten]
    truth: pl.DataFrame
    snapshots: tuple[date, ...]


def generate(landing: Path, households: int = 3000, seed: int = 1, snapshots: tuple[date, ...] = SNAPSHOTS,
             only_snapshots: tuple[int, ...] | None = None) -> Drop:
    """Write both snapshots' extracts (or ``only_snapshots`` of them) and the truth under ``landing``."""
    landing = Path(landing)
    rng = random.Random(seed)
    pop = Population(load_villages(), rng)
    worlds = [World({}, {})]
    for _ in range(households):
        pop.household(worlds[0], snapshots[0])
    for on in snapshots[1:]:
        worlds.append(six_months_later(worlds[-1], pop, on))
    files: list[FileWritten] = []
    truth: list[dict] = []
    rules = []
    for index, (world, on) in enumerate(zip(worlds, snapshots)):
        rows = department_rows(world, on)
        rules.append(household_rules(world, rows, on))
        file_rng = random.Random(f"{seed}-{index}")
        if only_snapshots is not None and index not in only_snapshots:
            continue
        for department in DEPARTMENTS:
            files += write_department(landing, department, rows[department], index, on, seed, file_rng, truth)
        if index == len(snapshots) - 1:
            files += write_broken_files(landing, on, file_rng, rows)
            duplicate = write_duplicate_drop(landing, files, file_rng)
            if duplicate:
                files.append(duplicate)
    truth_frame = pl.DataFrame(truth, schema={
        "department": pl.String, "file_name": pl.String, "record_id": pl.String, "snapshot_date": pl.Date,
        "role": pl.String, "person_key": pl.String, "household_key": pl.String, "row_number": pl.Int64,
        "tags": pl.String})
    out = landing / "_truth"
    out.mkdir(parents=True, exist_ok=True)
    previous = out / "records.parquet"
    if only_snapshots is not None and previous.exists():  # a later snapshot added to an earlier drop
        truth_frame = pl.concat([pl.read_parquet(previous), truth_frame])
        files_before = pl.read_parquet(out / "files.parquet")
    else:
        files_before = None
    truth_frame.write_parquet(previous)
    file_frame = pl.DataFrame([f.__dict__ for f in files], infer_schema_length=None)
    if files_before is not None:
        file_frame = pl.concat([files_before, file_frame], how="diagonal_relaxed")
    file_frame.write_parquet(out / "files.parquet")
    pl.concat(rules).write_parquet(out / "household_rules.parquet")
    return Drop(landing, files, truth_frame, snapshots)
