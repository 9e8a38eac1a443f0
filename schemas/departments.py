"""The five department schemas: one pydantic model per department.

These models are the single source of truth for what a department sends
(``../shared/extracts/SPEC.md``): canonical English names, Chinese headers and
their variants, kinds, required-ness and accepted spellings. Rows are never
validated one by one through these models (that would be a Python loop per
row); ``schemas.validate`` turns the metadata into vectorised polars
expressions. The models still validate a single record when a person wants to
(``EducationRecord.model_validate({...})``) and document the warehouse types.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict

from schemas.columns import Column, ColumnSpec, Kind

YES_NO = {"是": ("是", "Y", "y", "yes", "Yes", "YES", "1", "true", "True", "TRUE", "√"),
          "否": ("否", "N", "n", "no", "No", "NO", "0", "false", "False", "FALSE", "×")}
GENDERS = {"男": ("男", "1", "M", "m", "male", "Male", "男性"), "女": ("女", "2", "F", "f", "female", "Female", "女性")}


def _person() -> dict:
    """Annotated types of the common person fields (SPEC 'Common person fields')."""
    return {
        "name": Annotated[str, Column(zh="姓名", kind=Kind.NAME, required=True)],
        "id_number": Annotated[str | None, Column(zh="身份证号", aliases=("身份证号码", "公民身份号码", "证件号码"), kind=Kind.ID_NUMBER)],
        "gender": Annotated[Literal["男", "女"] | None, Column(zh="性别", kind=Kind.GENDER, values=GENDERS)],
        "birth_date": Annotated[date | None, Column(zh="出生日期", aliases=("出生年月",), kind=Kind.DATE)],
    }


class DepartmentRecord(BaseModel):
    """Base of every department model."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    #: folder name under landing/ and value of the ``department`` column.
    department: str = ""


_P = _person()
_PHONE = Annotated[str | None, Column(zh="联系电话", aliases=("电话", "手机号", "联系方式", "手机号码"), kind=Kind.PHONE)]
_ADDRESS = Annotated[str | None, Column(zh="家庭住址", aliases=("住址", "地址", "现住址"), kind=Kind.ADDRESS)]
_VILLAGE = Annotated[str | None, Column(zh="村代码", aliases=("行政村代码", "村级代码", "区划代码"), kind=Kind.VILLAGE_CODE)]
_HOUSEHOLD_SIZE = Annotated[int | None, Column(zh="家庭人口", aliases=("家庭人口数", "户人口"), kind=Kind.INT)]


class EducationRecord(DepartmentRecord):
    """教育局 学籍: one row per student."""

    record_id: Annotated[str, Column(zh="学籍号", aliases=("学籍编号",), kind=Kind.TEXT, required=True)]
    name: Annotated[str, Column(zh="学生姓名", aliases=("姓名",), kind=Kind.NAME, required=True)]
    id_number: _P["id_number"]
    gender: _P["gender"]
    birth_date: _P["birth_date"]
    school: Annotated[str | None, Column(zh="学校名称", aliases=("学校",), kind=Kind.TEXT)]
    grade: Annotated[int | None, Column(zh="年级", kind=Kind.SCHOOL_GRADE)]
    status: Annotated[str | None, Column(
        zh="学籍状态", aliases=("在学状态",), kind=Kind.ENUM,
        values={"在读": ("在读", "在校", "enrolled"), "休学": ("休学", "suspended"),
                "辍学": ("辍学", "dropped_out", "dropout"), "转出": ("转出", "transferred"),
                "毕业": ("毕业", "graduated")})]
    guardian_name: Annotated[str | None, Column(zh="监护人姓名", aliases=("监护人",), kind=Kind.NAME)]
    guardian_id_number: Annotated[str | None, Column(zh="监护人身份证号", aliases=("监护人身份证号码",), kind=Kind.ID_NUMBER)]
    guardian_relation: Annotated[str | None, Column(
        zh="监护人关系", aliases=("与学生关系",), kind=Kind.ENUM,
        values={"父亲": ("父亲", "父", "爸爸", "father"), "母亲": ("母亲", "母", "妈妈", "mother"),
                "祖父": ("祖父", "爷爷", "grandfather"), "祖母": ("祖母", "奶奶", "grandmother"),
                "其他": ("其他", "其它", "other")})]
    guardian_phone: Annotated[str | None, Column(zh="监护人电话", aliases=("监护人联系电话", "家长电话"), kind=Kind.PHONE)]
    address: _ADDRESS
    village_code: Annotated[str | None, Column(zh="户籍村代码", aliases=("村代码", "行政村代码"), kind=Kind.VILLAGE_CODE)]
    subsidy: Annotated[bool | None, Column(zh="是否享受资助", aliases=("享受资助",), kind=Kind.BOOL, values=YES_NO)]


class HealthRecord(DepartmentRecord):
    """医保局 参保与费用: one row per insured person per year."""

    record_id: Annotated[str, Column(zh="人员编号", aliases=("个人编号",), kind=Kind.TEXT, required=True)]
    year: Annotated[int | None, Column(zh="年度", aliases=("参保年度",), kind=Kind.YEAR)]
    name: _P["name"]
    id_number: _P["id_number"]
    gender: _P["gender"]
    birth_date: _P["birth_date"]
    phone: _PHONE
    address: _ADDRESS
    village_code: _VILLAGE
    family_no: Annotated[str | None, Column(zh="家庭编号", aliases=("家庭号",), kind=Kind.TEXT)]
    insured: Annotated[str | None, Column(
        zh="参保状态", kind=Kind.ENUM,
        values={"已参保": ("已参保", "参保", "正常参保", "insured"), "未参保": ("未参保", "not_insured"),
                "中止": ("中止", "终止", "暂停", "suspended")})]
    scheme: Annotated[str | None, Column(
        zh="参保险种", aliases=("险种",), kind=Kind.ENUM,
        values={"城乡居民": ("城乡居民", "城乡居民医保", "居民医保", "resident"), "职工": ("职工", "职工医保", "employee")})]
    total_cost: Annotated[float | None, Column(zh="年度医疗总费用", aliases=("医疗总费用",), kind=Kind.MONEY)]
    out_of_pocket: Annotated[float | None, Column(zh="个人自付费用", aliases=("自付费用", "个人负担"), kind=Kind.MONEY)]
    chronic_condition: Annotated[str | None, Column(zh="慢特病种", aliases=("慢性病",), kind=Kind.TEXT)]
    serious_illness: Annotated[bool | None, Column(zh="是否大病", aliases=("大病",), kind=Kind.BOOL, values=YES_NO)]


class HousingRecord(DepartmentRecord):
    """住建局 农村房屋安全鉴定: one row per assessed house (per household)."""

    record_id: Annotated[str, Column(zh="鉴定编号", aliases=("编号",), kind=Kind.TEXT, required=True)]
    owner_name: Annotated[str, Column(zh="户主姓名", aliases=("户主", "房主姓名"), kind=Kind.NAME, required=True)]
    owner_id_number: Annotated[str | None, Column(zh="户主身份证号", aliases=("户主身份证号码",), kind=Kind.ID_NUMBER)]
    phone: _PHONE
    address: _ADDRESS
    village_code: _VILLAGE
    grade: Annotated[str | None, Column(
        zh="鉴定等级", aliases=("安全等级", "等级"), kind=Kind.HOUSE_GRADE,
        values={"A": ("A", "A级"), "B": ("B", "B级"), "C": ("C", "C级"), "D": ("D", "D级")})]
    assessed_on: Annotated[date | None, Column(zh="鉴定日期", aliases=("鉴定时间",), kind=Kind.DATE)]
    renovation: Annotated[str | None, Column(
        zh="改造状态", kind=Kind.ENUM,
        values={"未改造": ("未改造", "not_started"), "改造中": ("改造中", "in_progress"),
                "已改造": ("已改造", "改造完成", "done"), "无需改造": ("无需改造", "not_needed")})]
    household_size: _HOUSEHOLD_SIZE


class WaterRecord(DepartmentRecord):
    """水利局 农村饮水安全: one row per household, no ID numbers."""

    record_id: Annotated[str, Column(zh="调查编号", aliases=("编号",), kind=Kind.TEXT, required=True)]
    head_name: Annotated[str, Column(zh="户主姓名", aliases=("户主",), kind=Kind.NAME, required=True)]
    phone: _PHONE
    address: _ADDRESS
    village_code: _VILLAGE
    household_size: _HOUSEHOLD_SIZE
    supply: Annotated[str | None, Column(
        zh="供水方式", kind=Kind.ENUM,
        values={"集中供水": ("集中供水", "集中式供水", "centralised"), "分散供水": ("分散供水", "分散式供水", "dispersed")})]
    quality_ok: Annotated[bool | None, Column(zh="水质达标", aliases=("水质是否达标",), kind=Kind.BOOL, values=YES_NO)]
    quantity_ok: Annotated[bool | None, Column(zh="水量达标", aliases=("水量是否达标",), kind=Kind.BOOL, values=YES_NO)]
    convenience_ok: Annotated[bool | None, Column(zh="取水便利", aliases=("取水是否便利",), kind=Kind.BOOL, values=YES_NO)]
    reliability_ok: Annotated[bool | None, Column(zh="供水保证率达标", aliases=("供水保证率",), kind=Kind.BOOL, values=YES_NO)]
    surveyed_on: Annotated[date | None, Column(zh="调查日期", aliases=("调查时间",), kind=Kind.DATE)]


class CivilAffairsRecord(DepartmentRecord):
    """民政局 社会救助: one row per member of an assisted household."""

    record_id: Annotated[str, Column(zh="记录编号", aliases=("编号",), kind=Kind.TEXT, required=True)]
    case_no: Annotated[str | None, Column(zh="救助家庭编号", aliases=("家庭编号", "救助证号"), kind=Kind.TEXT)]
    name: _P["name"]
    id_number: _P["id_number"]
    gender: _P["gender"]
    birth_date: _P["birth_date"]
    phone: _PHONE
    address: _ADDRESS
    village_code: _VILLAGE
    relation: Annotated[str | None, Column(
        zh="与户主关系", aliases=("家庭关系",), kind=Kind.ENUM,
        values={r: (r,) for r in ("户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "儿媳", "女婿", "其他")}
        | {"户主": ("户主", "本人"), "子": ("子", "儿子", "长子", "次子"), "女": ("女", "女儿", "长女", "次女"),
           "其他": ("其他", "其它")})]
    assistance_type: Annotated[str | None, Column(
        zh="救助类别", aliases=("救助类型",), kind=Kind.ENUM,
        values={"低保": ("低保", "最低生活保障", "农村低保"), "特困": ("特困", "特困供养", "特困人员"),
                "低保边缘": ("低保边缘", "边缘户"), "临时救助": ("临时救助",)})]
    monthly_benefit: Annotated[float | None, Column(zh="月救助金额", aliases=("月保障金额",), kind=Kind.MONEY)]
    per_capita_income: Annotated[float | None, Column(zh="家庭年人均纯收入", aliases=("年人均纯收入", "人均纯收入"), kind=Kind.MONEY)]
    status: Annotated[str | None, Column(
        zh="救助状态", aliases=("保障状态",), kind=Kind.ENUM,
        values={"在保": ("在保", "正常", "active"), "停保": ("停保", "退保", "stopped")})]
    start_date: Annotated[date | None, Column(zh="救助起始日期", aliases=("起始日期",), kind=Kind.DATE)]


#: department folder name -> model, in the order the SPEC lists them.
DEPARTMENTS: dict[str, type[DepartmentRecord]] = {
    "education": EducationRecord,
    "health": HealthRecord,
    "housing": HousingRecord,
    "water": WaterRecord,
    "civil_affairs": CivilAffairsRecord,
}

DEPARTMENT_ZH = {
    "education": "教育局",
    "health": "医保局",
    "housing": "住建局",
    "water": "水利局",
    "civil_affairs": "民政局",
}


def columns(department: str) -> list[ColumnSpec]:
    """The canonical columns of a department, in SPEC order."""
    model = DEPARTMENTS[department]
    specs = []
    for name, info in model.model_fields.items():
        meta = next((m for m in info.metadata if isinstance(m, Column)), None)
        if meta is not None:
            specs.append(ColumnSpec(name=name, column=meta))
    return specs
